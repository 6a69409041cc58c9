//! What module API 1.1 added, and that 1.0 modules still load: borrowed reads and
//! server-built replies, data types' `unlink` and `free_effort` (lazy free), the loaded modules
//! in HELLO and COMMAND LIST, server events (client changes, cron, loading).

use std::time::{Duration, Instant};

use redis::Value;

use super::{build_outside_project, bulk, err, info_field, module, ok, start};

/// Polls `f` until it is true or five seconds pass.
fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

fn ints(values: &[i64]) -> Value {
    Value::Array(values.iter().map(|n| Value::Int(*n)).collect())
}

#[test]
fn borrowed_reads_and_server_built_replies() {
    let server = start();
    let mut con = server.connect().expect("connect");
    ok(&mut con, &["MODULE", "LOAD", &module("oxidis_testmod")]);
    ok(&mut con, &["SET", "s", "hello"]);
    ok(&mut con, &["SET", "n", "12345"]);
    ok(&mut con, &["SET", "big", &"x".repeat(100)]);
    ok(&mut con, &["RPUSH", "l", "a"]);
    for key in ["s", "n", "big"] {
        let value = ok(&mut con, &["GET", key]);
        for how in ["ref", "copy", "reply"] {
            assert_eq!(ok(&mut con, &["TEST.READ", how, key]), value, "{how} {key}");
        }
    }
    // Integer-encoded values are formatted, as GET does.
    assert_eq!(ok(&mut con, &["TEST.READ", "len", "n"]), Value::Int(5));
    assert_eq!(ok(&mut con, &["TEST.READ", "len", "big"]), Value::Int(100));
    assert_eq!(
        ok(&mut con, &["TEST.READ", "len", "missing"]),
        Value::Int(-1)
    );
    for how in ["ref", "copy", "reply"] {
        assert_eq!(ok(&mut con, &["TEST.READ", how, "missing"]), Value::Nil);
        assert_eq!(
            err(&mut con, &["TEST.READ", how, "l"]),
            "WRONGTYPE Operation against a key holding the wrong kind of value"
        );
    }
    // The example's GET-equivalent answers as GET does, in RESP2 and RESP3.
    ok(&mut con, &["MODULE", "LOAD", &module("ratelimit")]);
    for key in ["s", "n", "missing"] {
        assert_eq!(ok(&mut con, &["RL.GET", key]), ok(&mut con, &["GET", key]));
    }
    assert_eq!(
        err(&mut con, &["RL.GET", "l"]),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    let resp3 = super::raw(
        &server,
        &[&["HELLO", "3"], &["RL.GET", "s"], &["RL.GET", "missing"]],
    );
    assert!(resp3.ends_with("$5\r\nhello\r\n_\r\n"), "{resp3:?}");
    // Counted as a hit and a miss, as GET is.
    let hits = info_field(&mut con, "stats", "keyspace_hits").expect("hits");
    ok(&mut con, &["RL.GET", "s"]);
    let after = info_field(&mut con, "stats", "keyspace_hits").expect("hits");
    assert_eq!(
        after.parse::<i64>().expect("a number"),
        hits.parse::<i64>().expect("a number") + 1
    );
}

#[test]
fn unlink_and_free_effort_reach_lazy_free() {
    let server = start();
    let mut con = server.connect().expect("connect");
    ok(&mut con, &["MODULE", "LOAD", &module("oxidis_testmod")]);
    let lazyfreed = |con: &mut redis::Connection| {
        info_field(con, "memory", "lazyfreed_objects")
            .and_then(|v| v.parse::<i64>().ok())
            .expect("lazyfreed_objects")
    };
    let items: Vec<String> = (0..100).map(|i| format!("item{i}")).collect();
    let mut push: Vec<&str> = vec!["TEST.PUSH", "big"];
    push.extend(items.iter().map(String::as_str));
    assert_eq!(ok(&mut con, &push), Value::Int(100));
    assert_eq!(
        ok(&mut con, &["TEST.PUSH", "small", "a", "b"]),
        Value::Int(2)
    );
    assert_eq!(ok(&mut con, &["TEST.FREES"]), ints(&[0, 0, 0]));
    // A value whose free effort (100 items) is over the threshold (64) is freed in the
    // background by UNLINK; `unlink` is told first, on the command thread.
    let before = lazyfreed(&mut con);
    assert_eq!(ok(&mut con, &["UNLINK", "big"]), Value::Int(1));
    assert!(
        eventually(|| lazyfreed(&mut con) == before + 1),
        "lazyfreed_objects stayed at {before}"
    );
    assert!(eventually(
        || ok(&mut con, &["TEST.FREES"]) == ints(&[1, 1, 1])
    ));
    // A small one is freed at once, even by UNLINK.
    assert_eq!(ok(&mut con, &["UNLINK", "small"]), Value::Int(1));
    assert_eq!(ok(&mut con, &["TEST.FREES"]), ints(&[2, 2, 1]));
    assert_eq!(lazyfreed(&mut con), before + 1);
    // DEL of a big value frees it at once (lazyfree-lazy-user-del is off).
    assert_eq!(ok(&mut con, &push), Value::Int(100));
    assert_eq!(ok(&mut con, &["DEL", "big"]), Value::Int(1));
    assert_eq!(ok(&mut con, &["TEST.FREES"]), ints(&[3, 3, 1]));
    // Overwriting and renaming away unlink too; FLUSHALL does not (as in Redis).
    ok(&mut con, &["TEST.PUSH", "k", "a"]);
    ok(&mut con, &["SET", "k", "string now"]);
    assert_eq!(ok(&mut con, &["TEST.FREES"]), ints(&[4, 4, 1]));
    ok(&mut con, &["TEST.PUSH", "k2", "a"]);
    ok(&mut con, &["RENAME", "k2", "k3"]);
    assert_eq!(ok(&mut con, &["TEST.FREES"]), ints(&[5, 4, 1]));
    ok(&mut con, &["FLUSHALL"]);
    assert_eq!(ok(&mut con, &["TEST.FREES"]), ints(&[5, 5, 1]));
    // With lazyfree-lazy-user-del, DEL behaves as UNLINK.
    ok(
        &mut con,
        &["CONFIG", "SET", "lazyfree-lazy-user-del", "yes"],
    );
    assert_eq!(ok(&mut con, &push), Value::Int(100));
    assert_eq!(ok(&mut con, &["DEL", "big"]), Value::Int(1));
    assert!(eventually(
        || ok(&mut con, &["TEST.FREES"]) == ints(&[6, 6, 2])
    ));
    // An expired value is unlinked too.
    ok(&mut con, &["TEST.PUSH", "e", "a"]);
    ok(&mut con, &["PEXPIRE", "e", "1"]);
    assert!(eventually(
        || ok(&mut con, &["EXISTS", "e"]) == Value::Int(0)
    ));
    assert_eq!(ok(&mut con, &["TEST.FREES"]), ints(&[7, 7, 2]));
    // SCAN TYPE knows the type's name.
    ok(&mut con, &["TEST.PUSH", "t", "a"]);
    assert_eq!(
        ok(&mut con, &["SCAN", "0", "TYPE", "testlist0"]),
        Value::Array(vec![bulk("0"), Value::Array(vec![bulk("t")])])
    );
    ok(&mut con, &["DEL", "t"]);
    assert_eq!(ok(&mut con, &["MODULE", "UNLOAD", "testmod"]), Value::Okay);
}

#[test]
fn a_module_built_for_api_1_0_loads_and_runs() {
    // Built against a frozen copy of oxidis-module-api 1.0.0: its Host and TypeObj vtables end
    // where 1.0's did, and its ABI version symbol says 1.0.
    let path = build_outside_project("modules/tests/api10", "oxidis_api10");
    let server = start();
    let mut con = server.connect().expect("connect");
    ok(&mut con, &["MODULE", "LOAD", &path.to_string_lossy()]);
    ok(&mut con, &["SET", "s", "old api"]);
    assert_eq!(ok(&mut con, &["OLD.GET", "s"]), bulk("old api"));
    assert_eq!(ok(&mut con, &["OLD.GET", "missing"]), Value::Nil);
    // Its type has no free_effort: the server's default (1) frees even a big value at once.
    assert_eq!(ok(&mut con, &["OLD.NEW", "v", "1000"]), Value::Okay);
    assert_eq!(ok(&mut con, &["OLD.LEN", "v"]), Value::Int(1000));
    assert_eq!(
        ok(&mut con, &["TYPE", "v"]),
        Value::SimpleString("old-type1".into())
    );
    let before = info_field(&mut con, "memory", "lazyfreed_objects");
    assert_eq!(ok(&mut con, &["UNLINK", "v"]), Value::Int(1));
    assert_eq!(info_field(&mut con, "memory", "lazyfreed_objects"), before);
    assert_eq!(ok(&mut con, &["OLD.LEN", "v"]), Value::Int(0));
    // A 1.1 module loads beside it; the 1.0 one loads again after it (both layout checks in
    // one process, either order).
    ok(&mut con, &["MODULE", "LOAD", &module("ratelimit")]);
    assert_eq!(ok(&mut con, &["RL.GET", "s"]), bulk("old api"));
    assert_eq!(ok(&mut con, &["MODULE", "UNLOAD", "api10"]), Value::Okay);
    ok(&mut con, &["MODULE", "LOAD", &path.to_string_lossy()]);
    assert_eq!(ok(&mut con, &["OLD.GET", "s"]), bulk("old api"));
    assert_eq!(ok(&mut con, &["MODULE", "UNLOAD", "api10"]), Value::Okay);
}

#[test]
fn hello_and_command_list_show_loaded_modules() {
    let server = start();
    let mut con = server.connect().expect("connect");
    let path = module("ratelimit");
    ok(&mut con, &["MODULE", "LOAD", &path, "a1", "42"]);
    // HELLO's `modules` is MODULE LIST's reply.
    let Value::Array(hello) = ok(&mut con, &["HELLO", "2"]) else {
        panic!("HELLO answers a flat map in RESP2")
    };
    let modules = hello
        .chunks(2)
        .find(|pair| pair[0] == bulk("modules"))
        .map(|pair| pair[1].clone());
    let expected = Value::Array(vec![Value::Array(vec![
        bulk("name"),
        bulk("ratelimit"),
        bulk("ver"),
        Value::Int(1),
        bulk("path"),
        bulk(&path),
        bulk("args"),
        Value::Array(vec![bulk("a1"), bulk("42")]),
    ])]);
    assert_eq!(modules, Some(expected.clone()));
    assert_eq!(ok(&mut con, &["MODULE", "LIST"]), expected);
    let list = |con: &mut redis::Connection, name: &str| {
        let Value::Array(names) = ok(con, &["COMMAND", "LIST", "FILTERBY", "MODULE", name]) else {
            panic!("COMMAND LIST answers an array")
        };
        let mut names: Vec<String> = names
            .into_iter()
            .map(|v| match v {
                Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
                other => panic!("{other:?}"),
            })
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        list(&mut con, "ratelimit"),
        ["rl.allow", "rl.get", "rl.panic"]
    );
    assert_eq!(
        list(&mut con, "RateLimit"),
        ["rl.allow", "rl.get", "rl.panic"]
    );
    assert!(list(&mut con, "nosuchmodule").is_empty());
    // COMMAND DOCS names the module (RESP2: a flat map inside the entry).
    let Value::Array(docs) = ok(&mut con, &["COMMAND", "DOCS", "rl.get"]) else {
        panic!("COMMAND DOCS")
    };
    let Value::Array(fields) = &docs[1] else {
        panic!("the docs of rl.get")
    };
    assert!(
        fields
            .chunks(2)
            .any(|pair| pair[0] == bulk("module") && pair[1] == bulk("ratelimit")),
        "{fields:?}"
    );
    ok(&mut con, &["MODULE", "UNLOAD", "ratelimit"]);
    assert!(list(&mut con, "ratelimit").is_empty());
    let Value::Array(hello) = ok(&mut con, &["HELLO"]) else {
        panic!("HELLO")
    };
    assert!(
        hello
            .chunks(2)
            .any(|pair| pair[0] == bulk("modules") && pair[1] == Value::Array(vec![]))
    );
}

#[test]
fn server_events_reach_module_hooks() {
    let dir = super::temp_dir("events");
    let server = super::support::ServerProcess::start_with(&[
        "--enable-module-command",
        "yes",
        "--enable-debug-command",
        "yes",
        "--dir",
        &dir.to_string_lossy(),
    ]);
    let mut con = server.connect().expect("connect");
    ok(&mut con, &["MODULE", "LOAD", &module("oxidis_testmod")]);
    let counts = |con: &mut redis::Connection| match ok(con, &["TEST.EVENTS"]) {
        Value::Array(v) => v
            .into_iter()
            .map(|n| match n {
                Value::Int(n) => n,
                other => panic!("{other:?}"),
            })
            .collect::<Vec<i64>>(),
        other => panic!("{other:?}"),
    };
    let start = counts(&mut con);
    {
        let mut other = server.connect().expect("connect");
        ok(&mut other, &["PING"]);
    }
    // Connected and disconnected once more; cron ticks keep coming (hz 10).
    assert!(eventually(|| {
        let now = counts(&mut con);
        now[0] == start[0] + 1 && now[1] == start[1] + 1 && now[2] > start[2]
    }));
    // DEBUG RELOAD is a load (of an RDB file) that ends well.
    let loadings = counts(&mut con)[3];
    assert_eq!(ok(&mut con, &["DEBUG", "RELOAD"]), Value::Okay);
    assert_eq!(counts(&mut con)[3], loadings + 1);
    let _ = std::fs::remove_dir_all(&dir);
}
