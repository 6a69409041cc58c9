//! Persistence against the real binary: a SAVEd dataset comes back after a restart, SHUTDOWN
//! saves when save points are set, and a damaged RDB file stops the server from starting.

#![cfg(feature = "persistence")]

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{ServerProcess, info_field, temp_dir};

#[test]
fn a_saved_dataset_survives_a_restart() {
    let dir = temp_dir("restart");
    let dir_arg = dir.display().to_string();
    {
        let server = ServerProcess::start_with(&["--dir", &dir_arg]);
        let mut con = server.connect().expect("connect");
        redis::cmd("SET")
            .arg("s")
            .arg("v")
            .query::<()>(&mut con)
            .expect("SET");
        redis::cmd("SET")
            .arg("t")
            .arg("ttl")
            .arg("EX")
            .arg(1000)
            .query::<()>(&mut con)
            .expect("SET EX");
        redis::cmd("RPUSH")
            .arg("l")
            .arg(&["a", "b", "c"])
            .query::<()>(&mut con)
            .expect("RPUSH");
        redis::cmd("HSET")
            .arg("h")
            .arg(&["f", "v"])
            .query::<()>(&mut con)
            .expect("HSET");
        redis::cmd("SADD")
            .arg("st")
            .arg(&["1", "2"])
            .query::<()>(&mut con)
            .expect("SADD");
        redis::cmd("ZADD")
            .arg("z")
            .arg(&["1.5", "m"])
            .query::<()>(&mut con)
            .expect("ZADD");
        let saved: String = redis::cmd("SAVE").query(&mut con).expect("SAVE");
        assert_eq!(saved, "OK");
        assert_eq!(
            info_field(&mut con, "persistence", "rdb_changes_since_last_save").as_deref(),
            Some("0")
        );
        assert_eq!(
            info_field(&mut con, "persistence", "rdb_saves").as_deref(),
            Some("1")
        );
    }
    assert!(dir.join("dump.rdb").is_file());
    let server = ServerProcess::start_with(&["--dir", &dir_arg]);
    let mut con = server.connect().expect("connect");
    let size: i64 = redis::cmd("DBSIZE").query(&mut con).expect("DBSIZE");
    assert_eq!(size, 6);
    let s: String = redis::cmd("GET").arg("s").query(&mut con).expect("GET");
    assert_eq!(s, "v");
    let ttl: i64 = redis::cmd("TTL").arg("t").query(&mut con).expect("TTL");
    assert!((990..=1000).contains(&ttl), "ttl {ttl}");
    let list: Vec<String> = redis::cmd("LRANGE")
        .arg("l")
        .arg(0)
        .arg(-1)
        .query(&mut con)
        .expect("LRANGE");
    assert_eq!(list, ["a", "b", "c"]);
    let score: f64 = redis::cmd("ZSCORE")
        .arg("z")
        .arg("m")
        .query(&mut con)
        .expect("ZSCORE");
    assert_eq!(score, 1.5);
    let encoding: String = redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg("st")
        .query(&mut con)
        .expect("OBJECT ENCODING");
    assert_eq!(encoding, "intset");
    assert_eq!(
        info_field(&mut con, "persistence", "rdb_last_load_keys_loaded").as_deref(),
        Some("6")
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shutdown_saves_when_save_points_are_set() {
    let dir = temp_dir("shutdown");
    let dir_arg = dir.display().to_string();
    let server = ServerProcess::start_with(&["--dir", &dir_arg, "--save", "3600 1"]);
    let mut con = server.connect().expect("connect");
    redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query::<()>(&mut con)
        .expect("SET");
    let _ = redis::cmd("SHUTDOWN").query::<()>(&mut con);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !dir.join("dump.rdb").is_file() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(dir.join("dump.rdb").is_file());
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_damaged_file_stops_the_start() {
    let dir = temp_dir("corrupt");
    // A valid header and an AUX field cut in the middle.
    std::fs::write(dir.join("dump.rdb"), b"REDIS0010\xfa\x09redis-ver\x06").expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_oxidis-server"))
        .args(["--port", "0", "--dir", &dir.display().to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server kept running on a damaged file"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success());
    let mut log = String::new();
    use std::io::Read;
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut log);
    }
    assert!(log.contains("Short read or OOM loading DB"), "log: {log}");
    assert!(!log.contains("Ready to accept connections"), "log: {log}");
    let _ = std::fs::remove_dir_all(&dir);
}
