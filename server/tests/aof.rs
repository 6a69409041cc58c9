//! The append-only file through the real binary: writes acknowledged with `appendonly yes`
//! survive a SIGKILL and a restart on the same directory, across rewrites and when the AOF is
//! turned on at runtime.

mod support;

use std::path::PathBuf;

use redis::Commands;
use support::ServerProcess;

/// A fresh directory for one test.
fn data_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("oxidis-aof-test-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn start_in(dir: &std::path::Path, fsync: &str) -> ServerProcess {
    let dir = dir.to_str().expect("utf-8 path");
    ServerProcess::start_with(&["--dir", dir, "--appendonly", "yes", "--appendfsync", fsync])
}

#[test]
fn everything_written_survives_kill_9_and_restart() {
    let dir = data_dir("kill");
    {
        let server = start_in(&dir, "always");
        let mut c = server.connect().expect("connect");
        let _: () = c.set("s", "v").expect("set");
        let _: () = redis::cmd("SET")
            .arg("ttl")
            .arg("x")
            .arg("EX")
            .arg(1000)
            .query(&mut c)
            .expect("set ex");
        let _: i64 = c.rpush("l", &["a", "b", "c"]).expect("rpush");
        let _: i64 = c.hset("h", "f", "1").expect("hset");
        let _: f64 = redis::cmd("INCRBYFLOAT")
            .arg("f")
            .arg("1.5")
            .query(&mut c)
            .expect("incrbyfloat");
        let _: i64 = c.incr("n", 41).expect("incr");
        let _: i64 = c.incr("n", 1).expect("incr");
        let _: () = redis::pipe()
            .atomic()
            .set("m1", "1")
            .set("m2", "2")
            .query(&mut c)
            .expect("multi");
        let _: () = redis::cmd("SELECT").arg(3).query(&mut c).expect("select");
        let _: () = c.set("db3", "yes").expect("set in db 3");
        // Dropping the process handle sends SIGKILL.
    }
    let server = start_in(&dir, "always");
    let mut c = server.connect().expect("connect");
    assert_eq!(c.get::<_, String>("s").expect("get"), "v");
    let ttl: i64 = c.ttl("ttl").expect("ttl");
    assert!((990..=1000).contains(&ttl), "ttl {ttl}");
    assert_eq!(
        c.lrange::<_, Vec<String>>("l", 0, -1).expect("lrange"),
        ["a", "b", "c"]
    );
    assert_eq!(c.hget::<_, _, String>("h", "f").expect("hget"), "1");
    assert_eq!(c.get::<_, String>("f").expect("get"), "1.5");
    assert_eq!(c.get::<_, i64>("n").expect("get"), 42);
    assert_eq!(c.get::<_, String>("m2").expect("get"), "2");
    let _: () = redis::cmd("SELECT").arg(3).query(&mut c).expect("select");
    assert_eq!(c.get::<_, String>("db3").expect("get"), "yes");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rewrite_and_runtime_enable_keep_the_dataset() {
    let dir = data_dir("rewrite");
    {
        let dir_text = dir.to_str().expect("utf-8 path");
        let server = ServerProcess::start_with(&["--dir", dir_text]);
        let mut c = server.connect().expect("connect");
        let _: () = c.set("before", "1").expect("set");
        let _: () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("appendonly")
            .arg("yes")
            .query(&mut c)
            .expect("config set");
        let _: () = c.set("after", "2").expect("set");
        let status: String = redis::cmd("BGREWRITEAOF")
            .query(&mut c)
            .expect("bgrewriteaof");
        assert!(status.contains("rewriting"), "{status}");
        let _: i64 = c.sadd("set", &["x", "y"]).expect("sadd");
        // The rewrite runs in the background: wait for it (the SADD went to the new incr file).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let info = loop {
            let info: String = redis::cmd("INFO")
                .arg("persistence")
                .query(&mut c)
                .expect("info");
            if info.contains("aof_rewrite_in_progress:0") {
                break info;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the rewrite did not end"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert!(info.contains("aof_enabled:1"), "{info}");
        assert!(info.contains("aof_rewrites:2"), "{info}");
    }
    let manifest = std::fs::read_to_string(dir.join("appendonlydir/appendonly.aof.manifest"))
        .expect("manifest");
    assert_eq!(
        manifest,
        "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
    );
    let server = start_in(&dir, "everysec");
    let mut c = server.connect().expect("connect");
    assert_eq!(c.get::<_, String>("before").expect("get"), "1");
    assert_eq!(c.get::<_, String>("after").expect("get"), "2");
    assert_eq!(c.scard::<_, i64>("set").expect("scard"), 2);
    let _ = std::fs::remove_dir_all(&dir);
}
