//! Replication against the real binary: an Oxidis replica of an Oxidis master receives the
//! snapshot and the stream, continues partially after its link drops, and interoperates with a
//! real `redis-server` (when one is installed) in both directions.

#![cfg(feature = "persistence")]

mod support;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{ServerProcess, info_field, temp_dir};

/// Waits up to 10 s for `check`.
fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

/// A replica with its own directory (it writes the master's snapshot there).
fn start_replica(label: &str) -> (ServerProcess, PathBuf) {
    let dir = temp_dir(label);
    let dir_text = dir.display().to_string();
    (ServerProcess::start_with(&["--dir", &dir_text]), dir)
}

fn replicate(replica: &mut redis::Connection, port: u16) {
    let ok: String = redis::cmd("REPLICAOF")
        .arg("127.0.0.1")
        .arg(port)
        .query(replica)
        .expect("REPLICAOF");
    assert_eq!(ok, "OK");
    wait_for("the link to come up", || {
        info_field(replica, "replication", "master_link_status").unwrap_or_default() == "up"
    });
}

fn offsets_match(master: &mut redis::Connection, replica: &mut redis::Connection) -> bool {
    let m = info_field(master, "replication", "master_repl_offset").unwrap_or_default();
    let r = info_field(replica, "replication", "master_repl_offset").unwrap_or_default();
    !m.is_empty() && m == r
}

#[test]
fn writes_reach_the_replica_and_it_refuses_its_own() {
    let master = ServerProcess::start();
    let (replica, dir) = start_replica("repl-basic");
    let mut m = master.connect().expect("master");
    let mut r = replica.connect().expect("replica");
    let _: () = redis::cmd("SET")
        .arg("before")
        .arg("1")
        .query(&mut m)
        .expect("SET");
    let _: () = redis::cmd("RPUSH")
        .arg("list")
        .arg(&["a", "b", "c"])
        .query(&mut m)
        .expect("RPUSH");
    replicate(&mut r, master.port);
    let _: () = redis::cmd("SELECT").arg(2).query(&mut m).expect("SELECT");
    let _: () = redis::cmd("SET")
        .arg("after")
        .arg("2")
        .query(&mut m)
        .expect("SET");
    let _: i64 = redis::cmd("INCR").arg("n").query(&mut m).expect("INCR");
    wait_for("the stream to be applied", || offsets_match(&mut m, &mut r));
    let before: String = redis::cmd("GET").arg("before").query(&mut r).expect("GET");
    assert_eq!(before, "1");
    let list: Vec<String> = redis::cmd("LRANGE")
        .arg("list")
        .arg(0)
        .arg(-1)
        .query(&mut r)
        .expect("LRANGE");
    assert_eq!(list, ["a", "b", "c"]);
    let _: () = redis::cmd("SELECT").arg(2).query(&mut r).expect("SELECT");
    let after: String = redis::cmd("GET").arg("after").query(&mut r).expect("GET");
    assert_eq!(after, "2");
    let refused = redis::cmd("SET").arg("x").arg("1").query::<String>(&mut r);
    let error = refused.expect_err("read-only");
    assert!(error.to_string().contains("read only replica"), "{error}");
    assert_eq!(
        info_field(&mut r, "replication", "role").unwrap_or_default(),
        "slave"
    );
    assert_eq!(
        info_field(&mut m, "replication", "connected_slaves").unwrap_or_default(),
        "1"
    );
    // Promoted, it accepts writes again.
    let ok: String = redis::cmd("REPLICAOF")
        .arg("NO")
        .arg("ONE")
        .query(&mut r)
        .expect("REPLICAOF NO ONE");
    assert_eq!(ok, "OK");
    let _: () = redis::cmd("SET")
        .arg("x")
        .arg("1")
        .query(&mut r)
        .expect("SET");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_dropped_link_continues_partially() {
    let master = ServerProcess::start();
    let (replica, dir) = start_replica("repl-psync");
    let mut m = master.connect().expect("master");
    let mut r = replica.connect().expect("replica");
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("1")
        .query(&mut m)
        .expect("SET");
    replicate(&mut r, master.port);
    wait_for("the stream to be applied", || offsets_match(&mut m, &mut r));
    // Kill the replica's connection on the master's side; write while it is down.
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query(&mut m)
        .expect("LIST");
    let id = list
        .lines()
        .find(|l| l.contains("cmd=psync") || l.contains("cmd=replconf"))
        .and_then(|l| l.strip_prefix("id="))
        .and_then(|l| l.split(' ').next())
        .expect("the replica's connection")
        .to_string();
    let _: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(&id)
        .query(&mut m)
        .expect("CLIENT KILL");
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("2")
        .query(&mut m)
        .expect("SET");
    wait_for("the replica to catch up", || {
        redis::cmd("GET")
            .arg("k")
            .query::<Option<String>>(&mut r)
            .ok()
            .flatten()
            .as_deref()
            == Some("2")
    });
    assert_eq!(
        info_field(&mut m, "stats", "sync_full").unwrap_or_default(),
        "1"
    );
    assert_eq!(
        info_field(&mut m, "stats", "sync_partial_ok").unwrap_or_default(),
        "1"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// A `redis-server` child process, killed on drop.
struct Redis {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts `redis-server` on a free port, or `None` when it is not installed.
fn start_redis() -> Option<Redis> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .ok()?;
    let dir = temp_dir("redis-ref");
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--repl-diskless-sync-delay", "0"])
        .args(["--dir", &dir.display().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let redis = Redis { child, port, dir };
    let url = format!("redis://127.0.0.1:{port}/");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if redis::Client::open(url.as_str())
            .and_then(|c| c.get_connection())
            .is_ok()
        {
            return Some(redis);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn interoperates_with_redis_server_both_ways() {
    let Some(reference) = start_redis() else {
        eprintln!("redis-server is not installed: skipped");
        return;
    };
    let mut real = redis::Client::open(format!("redis://127.0.0.1:{}/", reference.port))
        .and_then(|c| c.get_connection())
        .expect("redis-server");
    let (oxidis, dir) = start_replica("repl-interop");
    let mut ox = oxidis.connect().expect("oxidis");
    // Oxidis replicates redis-server.
    let _: () = redis::cmd("HSET")
        .arg("h")
        .arg("f")
        .arg("v")
        .query(&mut real)
        .expect("HSET");
    let _: () = redis::cmd("ZADD")
        .arg("z")
        .arg(1)
        .arg("m")
        .query(&mut real)
        .expect("ZADD");
    replicate(&mut ox, reference.port);
    let _: i64 = redis::cmd("INCR").arg("n").query(&mut real).expect("INCR");
    wait_for("the stream to be applied", || {
        offsets_match(&mut real, &mut ox)
    });
    let digest = |con: &mut redis::Connection| -> String {
        let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query(con).expect("KEYS");
        keys.sort();
        let values: Vec<String> = keys
            .iter()
            .map(|k| {
                let dump: Vec<u8> = redis::cmd("DUMP").arg(k).query(con).expect("DUMP");
                format!("{k}={}", dump.len())
            })
            .collect();
        values.join(",")
    };
    assert_eq!(digest(&mut ox), digest(&mut real));
    let n: String = redis::cmd("GET").arg("n").query(&mut ox).expect("GET");
    assert_eq!(n, "1");
    // And the other way round: redis-server replicates Oxidis.
    let _: String = redis::cmd("REPLICAOF")
        .arg("NO")
        .arg("ONE")
        .query(&mut ox)
        .expect("NO ONE");
    let _: () = redis::cmd("SET")
        .arg("from-oxidis")
        .arg("yes")
        .query(&mut ox)
        .expect("SET");
    replicate(&mut real, oxidis.port);
    let _: () = redis::cmd("SADD")
        .arg("s")
        .arg("x")
        .query(&mut ox)
        .expect("SADD");
    wait_for("redis-server to apply the stream", || {
        offsets_match(&mut ox, &mut real)
    });
    let value: String = redis::cmd("GET")
        .arg("from-oxidis")
        .query(&mut real)
        .expect("GET");
    assert_eq!(value, "yes");
    let members: Vec<String> = redis::cmd("SMEMBERS")
        .arg("s")
        .query(&mut real)
        .expect("SMEMBERS");
    assert_eq!(members, ["x"]);
    assert_eq!(digest(&mut ox), digest(&mut real));
    let _ = std::fs::remove_dir_all(dir);
}
