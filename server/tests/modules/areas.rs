//! API areas beyond the first tests: streams through the typed helpers, `call`'s RESP2 form
//! for RESP3 clients, keyspace events raised by a data type's commands, and what module
//! commands propagate to the AOF (their effects, or themselves when verbatim).

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use redis::Value;

use super::{bloom_server, bulk, fill_bloom, module, ok, raw, start, temp_dir};

#[test]
fn streams_through_the_typed_helpers() {
    let server = start();
    let mut con = server.connect().expect("connect");
    ok(&mut con, &["MODULE", "LOAD", &module("oxidis_testmod")]);
    let Value::Array(reply) = ok(&mut con, &["TEST.STREAM", "st"]) else {
        panic!("TEST.STREAM answers an array")
    };
    assert_eq!(reply[0], bulk("1-1"));
    let Value::BulkString(second) = &reply[1] else {
        panic!("an ID")
    };
    let second = String::from_utf8_lossy(second).into_owned();
    assert_eq!(
        reply[2],
        Value::Array(vec![
            Value::Array(vec![
                bulk("1-1"),
                Value::Array(vec![bulk("f"), bulk("v"), bulk("g"), bulk("w")]),
            ]),
            Value::Array(vec![
                bulk(&second),
                Value::Array(vec![bulk("h"), bulk("x")]),
            ]),
        ])
    );
    assert_eq!(reply[3], Value::SimpleString("stream".into()));
    // The entries are the server's: XLEN sees them; a non-stream key is refused.
    assert_eq!(ok(&mut con, &["XLEN", "st"]), Value::Int(2));
    ok(&mut con, &["SET", "s", "v"]);
    let Err(e) = super::cmd(&mut con, &["TEST.STREAM", "s"]) else {
        panic!("TEST.STREAM on a string succeeded")
    };
    assert_eq!(e.code(), Some("WRONGTYPE"));
}

#[test]
fn call_answers_in_resp2_form_even_for_a_resp3_client() {
    // As RedisModule_Call without the `3` flag: the module inspects RESP2 replies (a ZSCORE
    // is a bulk string, HGETALL a flat array), which it returns as such.
    let server = start();
    let mut con = server.connect().expect("connect");
    ok(&mut con, &["MODULE", "LOAD", &module("oxidis_testmod")]);
    ok(&mut con, &["ZADD", "z", "2.5", "m"]);
    ok(&mut con, &["HSET", "h", "f", "v"]);
    let replies = raw(
        &server,
        &[
            &["HELLO", "3"],
            &["TEST.CALL", "ZSCORE", "z", "m"],
            &["ZSCORE", "z", "m"],
            &["TEST.CALL", "HGETALL", "h"],
            &["HGETALL", "h"],
            &["TEST.REPLY", "resp3"],
        ],
    );
    // After the HELLO map (which lists testmod):
    assert!(
        replies.ends_with(concat!(
            "$3\r\n2.5\r\n",
            ",2.5\r\n",
            "*2\r\n$1\r\nf\r\n$1\r\nv\r\n",
            "%1\r\n$1\r\nf\r\n$1\r\nv\r\n",
            // The caller's protocol is back to RESP3 after its calls.
            "#t\r\n",
        )),
        "{replies:?}"
    );
}

#[test]
fn a_module_type_raises_keyspace_events() {
    let dir = temp_dir("events");
    let server = bloom_server(&dir, &["--notify-keyspace-events", "Kd"]);
    let mut sub = server.raw();
    sub.write_all(b"SUBSCRIBE __keyspace@0__:bf\r\n")
        .expect("write");
    let mut buf = [0u8; 256];
    let n = sub.read(&mut buf).expect("subscribed");
    assert!(String::from_utf8_lossy(&buf[..n]).contains("subscribe"));
    let mut con = server.connect().expect("connect");
    fill_bloom(&mut con);
    let mut got = Vec::new();
    let expected = "*3\r\n$7\r\nmessage\r\n$17\r\n__keyspace@0__:bf\r\n$6\r\nbf.add\r\n";
    while got.len() < expected.len() * 3 {
        let n = sub.read(&mut buf).expect("an event");
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    // One event per BF.ADD, whether the item was new or not.
    assert_eq!(String::from_utf8_lossy(&got), expected.repeat(3));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Everything the AOF directory under `dir` holds, as text.
fn aof_text(dir: &Path) -> String {
    let mut text = String::new();
    if let Ok(entries) = std::fs::read_dir(dir.join("appendonlydir")) {
        for entry in entries.flatten() {
            if let Ok(bytes) = std::fs::read(entry.path()) {
                text.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    text
}

#[test]
fn module_commands_propagate_their_effects_or_themselves() {
    let dir = temp_dir("propagation");
    let server = bloom_server(&dir, &["--appendonly", "yes"]);
    let mut con = server.connect().expect("connect");
    ok(&mut con, &["MODULE", "LOAD", &module("ratelimit")]);
    // RL.ALLOW writes through `call`: INCR and PEXPIRE go to the AOF, not RL.ALLOW.
    assert_eq!(
        ok(&mut con, &["RL.ALLOW", "lim", "5", "60000"]),
        Value::Int(1)
    );
    // BF.ADD changes a module value and replicates verbatim.
    ok(&mut con, &["BF.ADD", "bf", "apple"]);
    // A read-only module command propagates nothing.
    ok(&mut con, &["SET", "s", "v"]);
    ok(&mut con, &["RL.GET", "s"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut text = aof_text(&dir);
    while !text.contains("apple") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        text = aof_text(&dir);
    }
    let lower = text.to_ascii_lowercase();
    assert!(lower.contains("\r\nincr\r\n"), "{text:?}");
    assert!(lower.contains("pexpire"), "{text:?}");
    assert!(!lower.contains("rl.allow"), "{text:?}");
    assert!(lower.contains("\r\nbf.add\r\n"), "{text:?}");
    assert!(!lower.contains("rl.get"), "{text:?}");
    drop(con);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn module_parameters_of_every_kind() {
    let server = start();
    let mut con = server.connect().expect("connect");
    ok(&mut con, &["MODULE", "LOAD", &module("oxidis_testmod")]);
    assert_eq!(
        ok(&mut con, &["CONFIG", "GET", "testmod.*"]),
        ok(
            &mut con,
            &[
                "CONFIG",
                "GET",
                "testmod.limit",
                "testmod.verbose",
                "testmod.label"
            ]
        )
    );
    assert_eq!(
        ok(&mut con, &["CONFIG", "GET", "testmod.verbose"]),
        Value::Array(vec![bulk("testmod.verbose"), bulk("no")])
    );
    ok(&mut con, &["CONFIG", "SET", "testmod.verbose", "yes"]);
    assert_eq!(ok(&mut con, &["TEST.CONFIG", "verbose"]), bulk("yes"));
    let refused = super::err(&mut con, &["CONFIG", "SET", "testmod.verbose", "maybe"]);
    assert!(refused.starts_with("ERR"), "{refused}");
    assert_eq!(ok(&mut con, &["TEST.CONFIG", "label"]), bulk("none"));
    ok(&mut con, &["CONFIG", "SET", "testmod.label", "hello world"]);
    assert_eq!(
        ok(&mut con, &["CONFIG", "GET", "testmod.label"]),
        Value::Array(vec![bulk("testmod.label"), bulk("hello world")])
    );
    assert_eq!(ok(&mut con, &["TEST.CONFIG", "label"]), bulk("hello world"));
    // Several at once, as CONFIG SET takes them.
    ok(
        &mut con,
        &[
            "CONFIG",
            "SET",
            "testmod.limit",
            "7",
            "testmod.verbose",
            "no",
        ],
    );
    assert_eq!(ok(&mut con, &["TEST.CONFIG"]), bulk("7"));
    assert_eq!(ok(&mut con, &["TEST.CONFIG", "verbose"]), bulk("no"));
}

#[test]
fn the_shutdown_event_reaches_module_hooks() {
    let dir = temp_dir("shutdown");
    std::fs::create_dir_all(&dir).expect("dir");
    let marker = dir.join("shutdown-seen");
    let server = start();
    let mut con = server.connect().expect("connect");
    let arg = format!("shutdown-file={}", marker.to_string_lossy());
    ok(
        &mut con,
        &["MODULE", "LOAD", &module("oxidis_testmod"), &arg],
    );
    let _ = super::cmd(&mut con, &["SHUTDOWN", "NOSAVE"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !marker.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        std::fs::read_to_string(&marker).expect("the hook wrote its file"),
        "shutdown"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn client_unblock_ends_a_module_block_with_its_timeout_reply() {
    // As in Redis, CLIENT UNBLOCK of a client a module blocked answers it as a timeout would
    // (the module's timeout reply), or with -UNBLOCKED given ERROR.
    let server = start();
    let mut con = server.connect().expect("connect");
    ok(&mut con, &["MODULE", "LOAD", &module("oxidis_testmod")]);
    let mut blocked = server.raw();
    let mut buf = [0u8; 128];
    for (how, answer) in [
        ("TIMEOUT", "+timed out\r\n"),
        (
            "ERROR",
            "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n",
        ),
    ] {
        blocked.write_all(b"CLIENT ID\r\n").expect("write");
        let n = blocked.read(&mut buf).expect("an id");
        let id = String::from_utf8_lossy(&buf[1..n - 2]).into_owned();
        blocked.write_all(b"TEST.BLOCK 0 60000\r\n").expect("write");
        let deadline = Instant::now() + Duration::from_secs(5);
        while ok(&mut con, &["CLIENT", "UNBLOCK", &id, how]) != Value::Int(1) {
            assert!(Instant::now() < deadline, "{id} never blocked");
            std::thread::sleep(Duration::from_millis(10));
        }
        let n = blocked.read(&mut buf).expect("the answer");
        assert_eq!(String::from_utf8_lossy(&buf[..n]), answer);
    }
}
