//! BGSAVE against the real binary: the file a forkless background save writes while clients
//! keep writing holds exactly the dataset of the moment BGSAVE was answered; real Redis loads
//! it (when a `redis-server` is available) with the same DEBUG DIGEST, and a backup taken
//! under four writers restores every acknowledged key, ungarbled.

#![cfg(feature = "persistence")]

mod support;

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use support::{ServerProcess, info_field, temp_dir};

fn wait_for_bgsave(con: &mut redis::Connection) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while info_field(con, "persistence", "rdb_bgsave_in_progress").as_deref() == Some("1") {
        assert!(Instant::now() < deadline, "BGSAVE did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        info_field(con, "persistence", "rdb_last_bgsave_status").as_deref(),
        Some("ok")
    );
}

fn digest(con: &mut redis::Connection) -> String {
    redis::cmd("DEBUG")
        .arg("DIGEST")
        .query(con)
        .expect("DEBUG DIGEST")
}

/// A real redis-server loading `dir/dump.rdb`, killed on drop.
struct Reference {
    child: Child,
    port: u16,
}

impl Reference {
    fn start(dir: &Path) -> Option<Reference> {
        let bin = std::env::var("REDIS_SERVER_BIN").unwrap_or_else(|_| "redis-server".into());
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .ok()?;
        let child = Command::new(&bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(["--enable-debug-command", "yes"])
            .args(["--dir", &dir.display().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut server = Reference { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = server.child.try_wait() {
                return None;
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok()
                && let Ok(mut con) = server.connect()
                && redis::cmd("PING").query::<String>(&mut con).is_ok()
            {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = server.child.kill();
        None
    }

    fn connect(&self) -> redis::RedisResult<redis::Connection> {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))?.get_connection()
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every type, several encodings, keys with TTLs, two databases.
fn fill(con: &mut redis::Connection) {
    redis::cmd("DEBUG")
        .arg("POPULATE")
        .arg(20_000)
        .arg("str")
        .arg(40)
        .query::<()>(con)
        .expect("DEBUG POPULATE");
    let mut pipe = redis::pipe();
    for i in 0..300 {
        pipe.cmd("RPUSH")
            .arg(format!("list:{i}"))
            .arg(&["a", "b", "c"]);
        pipe.cmd("HSET")
            .arg(format!("hash:{i}"))
            .arg("f")
            .arg(i)
            .arg("g")
            .arg("x".repeat(i % 100));
        pipe.cmd("SADD").arg(format!("set:{i}")).arg(&[1, 2, i]);
        pipe.cmd("ZADD")
            .arg(format!("zset:{i}"))
            .arg(1.5)
            .arg("m")
            .arg(i)
            .arg("n");
        pipe.cmd("SET")
            .arg(format!("ttl:{i}"))
            .arg(i)
            .arg("EX")
            .arg(100_000);
    }
    pipe.cmd("XADD").arg("stream").arg("*").arg("f").arg("v");
    pipe.query::<()>(con).expect("fill");
    redis::cmd("SELECT")
        .arg(5)
        .query::<()>(con)
        .expect("SELECT");
    redis::cmd("DEBUG")
        .arg("POPULATE")
        .arg(2_000)
        .arg("db5")
        .query::<()>(con)
        .expect("DEBUG POPULATE");
    redis::cmd("SELECT")
        .arg(0)
        .query::<()>(con)
        .expect("SELECT");
}

/// Overwrites, deletes, grows and expires keys of the snapshot until `stop`.
fn churn(server_port: u16, stop: &AtomicBool) -> u64 {
    let mut con = redis::Client::open(format!("redis://127.0.0.1:{server_port}/"))
        .and_then(|c| c.get_connection())
        .expect("connect");
    let mut writes = 0u64;
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let mut pipe = redis::pipe();
        for _ in 0..50 {
            i += 1;
            let n = i * 7919 % 20_000;
            pipe.cmd("SET").arg(format!("str:{n}")).arg("overwritten");
            pipe.cmd("DEL").arg(format!("str:{}", (n + 1) % 20_000));
            pipe.cmd("RPUSH")
                .arg(format!("list:{}", n % 300))
                .arg("new");
            pipe.cmd("HSET")
                .arg(format!("hash:{}", n % 300))
                .arg("f")
                .arg("changed");
            pipe.cmd("EXPIRE").arg(format!("ttl:{}", n % 300)).arg(5);
            pipe.cmd("SET").arg(format!("born:{i}")).arg(i);
            pipe.cmd("SWAPDB").arg(5).arg(6);
            pipe.cmd("SELECT").arg(5);
            pipe.cmd("INCR").arg(format!("key:{}", n % 2_000));
            pipe.cmd("SELECT").arg(0);
        }
        pipe.query::<()>(&mut con).expect("churn");
        writes += 500;
    }
    writes
}

#[test]
fn bgsave_under_write_load_saves_the_dataset_of_its_moment() {
    let dir = temp_dir("bgsave-load");
    let dir_arg = dir.display().to_string();
    let server = ServerProcess::start_with(&["--dir", &dir_arg, "--enable-debug-command", "yes"]);
    let mut con = server.connect().expect("connect");
    fill(&mut con);
    // Slow the writer down so the save spans many batches of writes.
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("rdb-key-save-delay")
        .arg(30)
        .query::<()>(&mut con)
        .expect("CONFIG SET");
    let before = digest(&mut con);
    let reply: String = redis::cmd("BGSAVE").query(&mut con).expect("BGSAVE");
    assert_eq!(reply, "Background saving started");
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let port = server.port;
        std::thread::spawn(move || churn(port, &stop))
    };
    let again = redis::cmd("BGSAVE").query::<String>(&mut con);
    assert!(
        again
            .unwrap_err()
            .to_string()
            .contains("Background save already in progress")
    );
    wait_for_bgsave(&mut con);
    stop.store(true, Ordering::Relaxed);
    let writes = writer.join().expect("writer");
    assert!(writes > 0, "the writer ran during the save");
    assert_ne!(digest(&mut con), before, "the dataset changed meanwhile");
    drop(con);
    drop(server);

    // Oxidis loads the file into the dataset of the BGSAVE moment...
    let restarted =
        ServerProcess::start_with(&["--dir", &dir_arg, "--enable-debug-command", "yes"]);
    let mut con = restarted.connect().expect("connect");
    assert_eq!(digest(&mut con), before);
    drop(restarted);

    // ... and so does Redis 7.0, when there is one to ask.
    match Reference::start(&dir) {
        Some(reference) => {
            let mut con = reference.connect().expect("connect");
            assert_eq!(digest(&mut con), before);
        }
        None => eprintln!("skipped the interop half: no redis-server"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_backup_under_four_writers_restores_every_acknowledged_key() {
    let dir = temp_dir("bgsave-backup");
    let dir_arg = dir.display().to_string();
    let server = ServerProcess::start_with(&["--dir", &dir_arg]);
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Vec<AtomicU64>> = Arc::new((0..4).map(|_| AtomicU64::new(0)).collect());
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (stop, acked, port) = (stop.clone(), acked.clone(), server.port);
            std::thread::spawn(move || {
                let mut con = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
                    .and_then(|c| c.get_connection())
                    .expect("connect");
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let value = format!("{w}:{i}:{}", "v".repeat((i % 64) as usize));
                    redis::cmd("SET")
                        .arg(format!("w{w}:{i}"))
                        .arg(value)
                        .query::<()>(&mut con)
                        .expect("SET");
                    i += 1;
                    acked[w].store(i, Ordering::Release);
                }
            })
        })
        .collect();
    let mut con = server.connect().expect("connect");
    while acked.iter().any(|a| a.load(Ordering::Acquire) < 2_000) {
        std::thread::sleep(Duration::from_millis(10));
    }
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("rdb-key-save-delay")
        .arg(20)
        .query::<()>(&mut con)
        .expect("CONFIG SET");
    // Everything acknowledged before BGSAVE was sent must be in the backup.
    let floor: Vec<u64> = acked.iter().map(|a| a.load(Ordering::Acquire)).collect();
    let _: String = redis::cmd("BGSAVE").query(&mut con).expect("BGSAVE");
    wait_for_bgsave(&mut con);
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().expect("writer");
    }
    drop(con);
    drop(server);

    let restored = ServerProcess::start_with(&["--dir", &dir_arg]);
    let mut con = restored.connect().expect("connect");
    let mut prefixes = 0;
    for (w, &floor) in floor.iter().enumerate() {
        // Each writer's keys in the backup are a prefix of what it wrote (a point in time),
        // at least as long as what was acknowledged before BGSAVE.
        let mut present = 0u64;
        loop {
            let value: Option<String> = redis::cmd("GET")
                .arg(format!("w{w}:{present}"))
                .query(&mut con)
                .expect("GET");
            let Some(value) = value else { break };
            let expected = format!("{w}:{present}:{}", "v".repeat((present % 64) as usize));
            assert_eq!(value, expected, "garbled w{w}:{present}");
            present += 1;
        }
        assert!(
            present >= floor,
            "writer {w}: {present} keys, {floor} acknowledged"
        );
        prefixes += present;
    }
    let total: u64 = redis::cmd("DBSIZE").query(&mut con).expect("DBSIZE");
    assert_eq!(total, prefixes, "keys beyond the snapshot's prefixes");
    let _ = std::fs::remove_dir_all(&dir);
}
