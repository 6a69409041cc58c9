//! Module plugins against the real binary: the example and test modules are built as cdylibs
//! (once per test run, with the same cargo profile), loaded with MODULE LOAD, and driven with the
//! `redis` crate and raw RESP. `api11.rs`: what API 1.1 added (borrowed reads, `unlink` and
//! `free_effort`), its compatibility with 1.0 modules, and the listings (HELLO, COMMAND LIST);
//! `areas.rs`: streams, `call` for RESP3 clients, a type's keyspace events, propagation.

#[path = "../support/mod.rs"]
mod support;

mod api11;
mod areas;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use redis::Value;
use support::{ServerProcess, info_field, temp_dir};

/// The directory of the server binary under test (`target/debug` or `target/release`).
fn profile_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_oxidis-server"))
        .parent()
        .expect("the binary has a directory")
        .to_path_buf()
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string()))
}

/// Builds the workspace's module cdylibs next to the server binary, once.
fn built_modules() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = profile_dir();
        let target = dir.parent().expect("a target directory");
        let mut build = cargo();
        build
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
            .env("CARGO_TARGET_DIR", target)
            .args(["build", "--quiet"])
            .args(["-p", "oxidis-module-ratelimit"])
            .args(["-p", "oxidis-test-module"])
            .args(["-p", "oxidis-test-module-abi2"])
            .args(["-p", "oxidis-module-bloom"])
            .args(["-p", "oxidis-module-evcount"]);
        if dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("cargo runs");
        assert!(status.success(), "building the module cdylibs failed");
        dir
    })
}

fn module(lib: &str) -> String {
    built_modules()
        .join(format!("lib{lib}.so"))
        .to_string_lossy()
        .into_owned()
}

fn start() -> ServerProcess {
    ServerProcess::start_with(&["--enable-module-command", "yes"])
}

fn cmd(con: &mut redis::Connection, args: &[&str]) -> redis::RedisResult<Value> {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
}

fn ok(con: &mut redis::Connection, args: &[&str]) -> Value {
    cmd(con, args).unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
}

fn err(con: &mut redis::Connection, args: &[&str]) -> String {
    match cmd(con, args) {
        Ok(v) => panic!("{args:?} succeeded with {v:?}"),
        Err(e) => format!("{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or("")),
    }
}

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

#[test]
fn load_list_info_unload() {
    let server = start();
    let mut con = server.connect().expect("connect");
    let path = module("ratelimit");
    assert_eq!(ok(&mut con, &["MODULE", "LIST"]), Value::Array(vec![]));
    assert_eq!(
        ok(&mut con, &["MODULE", "LOAD", &path, "a1", "a2"]),
        Value::Okay
    );
    assert_eq!(
        ok(&mut con, &["MODULE", "LIST"]),
        Value::Array(vec![Value::Array(vec![
            bulk("name"),
            bulk("ratelimit"),
            bulk("ver"),
            Value::Int(1),
            bulk("path"),
            bulk(&path),
            bulk("args"),
            Value::Array(vec![bulk("a1"), bulk("a2")]),
        ])])
    );
    let info: String = redis::cmd("INFO")
        .arg("modules")
        .query(&mut con)
        .expect("info");
    assert!(
        info.contains(
            "module:name=ratelimit,ver=1,api=1,filters=0,usedby=[],using=[],options=[]\r\n"
        ),
        "{info}"
    );
    // Loading the same module twice fails; so does a missing file.
    assert_eq!(
        err(&mut con, &["MODULE", "LOAD", &path]),
        "ERR Error loading the extension. Please check the server logs."
    );
    assert_eq!(
        err(&mut con, &["MODULE", "LOAD", "/nonexistent/module.so"]),
        "ERR Error loading the extension. Please check the server logs."
    );
    assert_eq!(
        ok(&mut con, &["MODULE", "UNLOAD", "ratelimit"]),
        Value::Okay
    );
    assert_eq!(ok(&mut con, &["MODULE", "LIST"]), Value::Array(vec![]));
    let text = err(&mut con, &["RL.GET", "k"]);
    assert!(text.starts_with("ERR unknown command 'RL.GET'"), "{text}");
    assert_eq!(
        err(&mut con, &["MODULE", "UNLOAD", "ratelimit"]),
        "ERR Error unloading module: no such module with that name"
    );
    // LOADEX with ARGS.
    assert_eq!(
        ok(&mut con, &["MODULE", "LOADEX", &path, "ARGS", "x"]),
        Value::Okay
    );
    assert_eq!(
        ok(&mut con, &["RL.ALLOW", "lim", "1", "10000"]),
        Value::Int(1)
    );
}

#[test]
fn module_commands_carry_full_metadata() {
    let server = start();
    let mut con = server.connect().expect("connect");
    let before = ok(&mut con, &["COMMAND", "COUNT"]);
    ok(&mut con, &["MODULE", "LOAD", &module("ratelimit")]);
    let Value::Int(before) = before else {
        panic!("COMMAND COUNT")
    };
    assert_eq!(ok(&mut con, &["COMMAND", "COUNT"]), Value::Int(before + 3));
    let Value::Array(info) = ok(&mut con, &["COMMAND", "INFO", "rl.get"]) else {
        panic!("COMMAND INFO")
    };
    let Value::Array(entry) = &info[0] else {
        panic!("an entry")
    };
    assert_eq!(entry[0], bulk("rl.get"));
    assert_eq!(entry[1], Value::Int(2));
    assert_eq!(
        entry[2],
        Value::Array(vec![
            Value::SimpleString("readonly".into()),
            Value::SimpleString("module".into()),
            Value::SimpleString("fast".into()),
        ])
    );
    assert_eq!(&entry[3..6], &[Value::Int(1), Value::Int(1), Value::Int(1)]);
    assert_eq!(
        entry[6],
        Value::Array(vec![
            Value::SimpleString("@read".into()),
            Value::SimpleString("@string".into()),
            Value::SimpleString("@fast".into()),
        ])
    );
    let docs = format!("{:?}", ok(&mut con, &["COMMAND", "DOCS", "rl.allow"]));
    assert!(
        docs.contains("Counts a call against a rate limit"),
        "{docs}"
    );
    assert!(docs.contains("module"), "{docs}");
    assert_eq!(
        ok(
            &mut con,
            &["COMMAND", "GETKEYS", "rl.allow", "lim", "1", "2"]
        ),
        Value::Array(vec![bulk("lim")])
    );
    let list = format!("{:?}", ok(&mut con, &["COMMAND", "LIST"]));
    assert!(list.contains("rl.allow"), "{list}");
    ok(&mut con, &["MODULE", "UNLOAD", "ratelimit"]);
    assert_eq!(ok(&mut con, &["COMMAND", "COUNT"]), Value::Int(before));
    assert_eq!(
        ok(&mut con, &["COMMAND", "INFO", "rl.get"]),
        Value::Array(vec![Value::Nil])
    );
}

/// Sends `commands` then PING on one connection and returns every reply byte before the PONG.
fn raw(server: &ServerProcess, commands: &[&[&str]]) -> String {
    let mut stream = server.raw();
    let mut out = Vec::new();
    for command in commands.iter().chain(std::iter::once(&["PING"].as_slice())) {
        out.extend_from_slice(format!("*{}\r\n", command.len()).as_bytes());
        for arg in *command {
            out.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
        }
    }
    stream.write_all(&out).expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(b"+PONG\r\n") {
        let n = stream.read(&mut buf).expect("read");
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    got.truncate(got.len() - 7);
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn keys_of_every_type() {
    let server = start();
    let mut con = server.connect().expect("connect");
    ok(&mut con, &["MODULE", "LOAD", &module("oxidis_testmod")]);
    let reply = raw(&server, &[&["TEST.KEYS", "p"]]);
    let expected = concat!(
        "*18\r\n",
        "$2\r\nv1\r\n:1\r\n:1\r\n",
        ":3\r\n$1\r\na\r\n*2\r\n$1\r\nb\r\n$1\r\nc\r\n",
        ":1\r\n$1\r\nx\r\n",
        ":1\r\n*1\r\n$2\r\nm1\r\n",
        ":1\r\n$3\r\n2.5\r\n*1\r\n$2\r\nzm\r\n",
        "+list\r\n:1\r\n:1\r\n:0\r\n",
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    );
    assert_eq!(reply, expected);
    // What the module wrote is there for everyone.
    assert_eq!(
        ok(&mut con, &["LRANGE", "p:l", "0", "-1"]),
        Value::Array(vec![bulk("b"), bulk("c")])
    );
    assert_eq!(
        ok(&mut con, &["TYPE", "p:z"]),
        Value::SimpleString("zset".into())
    );
}

#[test]
fn call_runs_any_command_and_returns_its_reply() {
    let server = start();
    let mut con = server.connect().expect("connect");
    ok(&mut con, &["MODULE", "LOAD", &module("oxidis_testmod")]);
    assert_eq!(ok(&mut con, &["TEST.CALL", "SET", "a", "1"]), Value::Okay);
    assert_eq!(
        ok(&mut con, &["TEST.CALL", "INCRBY", "a", "41"]),
        Value::Int(42)
    );
    assert_eq!(ok(&mut con, &["TEST.CALL", "GET", "a"]), bulk("42"));
    ok(&mut con, &["RPUSH", "l", "x", "y"]);
    assert_eq!(
        ok(&mut con, &["TEST.CALL", "LRANGE", "l", "0", "-1"]),
        Value::Array(vec![bulk("x"), bulk("y")])
    );
    assert_eq!(
        err(&mut con, &["TEST.CALL", "INCR", "l"]),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    assert!(err(&mut con, &["TEST.CALL", "NOSUCHCMD"]).starts_with("ERR unknown command"));
    // From a script, a module's call may not start another script, as the script's own
    // calls may not; the server goes on serving scripts after.
    let nested = "return redis.call('TEST.CALL', 'EVAL', 'return 1', '0')";
    let text = err(&mut con, &["EVAL", nested, "0"]);
    assert!(
        text.starts_with("ERR This Redis command is not allowed from script"),
        "{text}"
    );
    assert_eq!(ok(&mut con, &["EVAL", "return 7", "0"]), Value::Int(7));
}

#[test]
fn replies_in_resp2_and_resp3() {
    let server = start();
    let mut con = server.connect().expect("connect");
    ok(&mut con, &["MODULE", "LOAD", &module("oxidis_testmod")]);
    let kinds = [
        "simple",
        "error",
        "int",
        "bulk",
        "null",
        "nullarray",
        "array",
        "map",
        "set",
        "double",
        "bool",
        "verbatim",
        "resp3",
    ];
    let commands: Vec<[&str; 2]> = kinds.iter().map(|k| ["TEST.REPLY", *k]).collect();
    let as_slices: Vec<&[&str]> = commands.iter().map(|c| c.as_slice()).collect();
    let resp2 = raw(&server, &as_slices);
    assert_eq!(
        resp2,
        concat!(
            "+fine\r\n-ERR custom failure\r\n:-42\r\n$10\r\nbytes\0here\r\n$-1\r\n*-1\r\n",
            "*2\r\n:1\r\n$3\r\ntwo\r\n*2\r\n$1\r\nk\r\n:1\r\n*1\r\n$1\r\nm\r\n$3\r\n3.5\r\n",
            ":1\r\n$9\r\nsome text\r\n:0\r\n",
        )
    );
    let mut with_hello: Vec<&[&str]> = vec![&["HELLO", "3"]];
    with_hello.extend(as_slices.iter().copied());
    let resp3 = raw(&server, &with_hello);
    let replies = resp3
        .split_once("+fine\r\n")
        .map(|(_, rest)| rest)
        .expect("the HELLO map, then the replies");
    assert_eq!(
        replies,
        concat!(
            "-ERR custom failure\r\n:-42\r\n$10\r\nbytes\0here\r\n_\r\n_\r\n",
            "*2\r\n:1\r\n$3\r\ntwo\r\n%1\r\n$1\r\nk\r\n:1\r\n~1\r\n$1\r\nm\r\n,3.5\r\n",
            "#t\r\n=13\r\ntxt:some text\r\n#t\r\n",
        )
    );
}

#[test]
fn keyspace_events_from_modules() {
    let server = start();
    let mut con = server.connect().expect("connect");
    ok(&mut con, &["MODULE", "LOAD", &module("oxidis_testmod")]);
    ok(
        &mut con,
        &["CONFIG", "SET", "notify-keyspace-events", "KEd"],
    );
    let mut sub = server.raw();
    sub.write_all(b"SUBSCRIBE __keyevent@0__:test.event\r\n")
        .expect("write");
    let mut buf = [0u8; 256];
    let n = sub.read(&mut buf).expect("subscribed");
    assert!(String::from_utf8_lossy(&buf[..n]).contains("subscribe"));
    ok(&mut con, &["TEST.EVENT", "ev-key"]);
    let mut got = Vec::new();
    while !got.ends_with(b"ev-key\r\n") {
        let n = sub.read(&mut buf).expect("an event");
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(
        String::from_utf8_lossy(&got),
        "*3\r\n$7\r\nmessage\r\n$25\r\n__keyevent@0__:test.event\r\n$6\r\nev-key\r\n"
    );
}

#[test]
fn a_module_panic_is_an_error_reply_and_the_server_stays_up() {
    let server = start();
    let mut con = server.connect().expect("connect");
    ok(&mut con, &["MODULE", "LOAD", &module("oxidis_testmod")]);
    for _ in 0..3 {
        let text = err(&mut con, &["TEST.PANIC"]);
        assert!(text.contains("panicked: deliberate test panic"), "{text}");
    }
    assert_eq!(ok(&mut con, &["PING"]), Value::SimpleString("PONG".into()));
    // A panic in init refuses the load and leaves nothing registered.
    ok(&mut con, &["MODULE", "UNLOAD", "testmod"]);
    assert_eq!(
        err(
            &mut con,
            &["MODULE", "LOAD", &module("oxidis_testmod"), "panic"]
        ),
        "ERR Error loading the extension. Please check the server logs."
    );
    assert_eq!(
        err(
            &mut con,
            &["MODULE", "LOAD", &module("oxidis_testmod"), "refuse"]
        ),
        "ERR Error loading the extension. Please check the server logs."
    );
    assert!(err(&mut con, &["TEST.REPLY", "int"]).starts_with("ERR unknown command"));
    assert_eq!(ok(&mut con, &["MODULE", "LIST"]), Value::Array(vec![]));
    assert_eq!(ok(&mut con, &["PING"]), Value::SimpleString("PONG".into()));
}

#[test]
fn a_module_built_for_another_abi_major_is_refused_before_it_runs() {
    let server = start();
    let mut con = server.connect().expect("connect");
    // Its init function aborts the process: the server must not get that far.
    let text = err(
        &mut con,
        &["MODULE", "LOAD", &module("oxidis_testmod_abi2")],
    );
    assert_eq!(
        text,
        "ERR Error loading the extension: module ABI version 2.0 is not supported by this server (module ABI 1.1: same major, minor up to 1)"
    );
    assert_eq!(ok(&mut con, &["MODULE", "LIST"]), Value::Array(vec![]));
    assert_eq!(ok(&mut con, &["PING"]), Value::SimpleString("PONG".into()));
}

#[test]
fn loadmodule_on_the_command_line() {
    let path = module("ratelimit");
    let server = ServerProcess::start_with(&["--loadmodule", &path, "x", "y"]);
    let mut con = server.connect().expect("connect");
    assert_eq!(ok(&mut con, &["RL.ALLOW", "k", "5", "1000"]), Value::Int(1));
    let list = format!("{:?}", ok(&mut con, &["MODULE", "LIST"]));
    assert!(
        list.contains("ratelimit") && list.contains('x') && list.contains('y'),
        "{list}"
    );
    // MODULE LOAD is refused without enable-module-command (Redis's default).
    assert!(err(&mut con, &["MODULE", "UNLOAD", "ratelimit"]).contains("not allowed"));
}

fn rss_kib(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

#[test]
fn load_unload_reload_100_times_does_not_leak() {
    let server = start();
    let mut con = server.connect().expect("connect");
    let path = module("oxidis_testmod");
    let pid = info_field(&mut con, "server", "process_id").expect("pid");
    let cycle = |con: &mut redis::Connection| {
        ok(con, &["MODULE", "LOAD", &path]);
        assert_eq!(ok(con, &["TEST.REPLY", "int"]), Value::Int(-42));
        ok(con, &["MODULE", "UNLOAD", "testmod"]);
    };
    for _ in 0..10 {
        cycle(&mut con);
    }
    let before = rss_kib(&pid);
    for _ in 0..100 {
        cycle(&mut con);
    }
    let after = rss_kib(&pid);
    eprintln!("RSS over 100 load/unload cycles: {before} KiB -> {after} KiB");
    assert!(
        after <= before + 512,
        "RSS grew from {before} KiB to {after} KiB"
    );
    let count = ok(&mut con, &["COMMAND", "COUNT"]);
    cycle(&mut con);
    assert_eq!(ok(&mut con, &["COMMAND", "COUNT"]), count);
}

#[test]
fn a_module_from_a_separate_cargo_project_loads() {
    // Built the way an outside author builds: its own project and target directory, with only
    // the API crate as a dependency.
    let path = build_outside_project("modules/examples/outside", "outside_hello");
    let server = start();
    let mut con = server.connect().expect("connect");
    ok(&mut con, &["MODULE", "LOAD", &path.to_string_lossy()]);
    assert_eq!(
        ok(&mut con, &["HELLO.OUTSIDE", "author"]),
        bulk("hello, author")
    );
}

/// Builds the separate cargo project at `dir` (relative to the workspace) the way an outside
/// author does (its own project, with only the API crate as a dependency), into
/// `target/outside`; the path of its library `lib<lib>.so`.
fn build_outside_project(dir: &str, lib: &str) -> PathBuf {
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    let target = profile_dir()
        .parent()
        .expect("a target directory")
        .join("outside");
    let status = cargo()
        .args(["build", "--quiet", "--manifest-path"])
        .arg(project.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .env_remove("CARGO_TARGET_DIR")
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building {dir} failed");
    target.join(format!("debug/lib{lib}.so"))
}

fn bloom_server(dir: &Path, extra: &[&str]) -> ServerProcess {
    let bloom = module("bloom");
    let dir = dir.to_string_lossy();
    let mut args = vec![
        "--enable-module-command",
        "yes",
        "--enable-debug-command",
        "yes",
        "--dir",
        &dir,
        "--loadmodule",
        &bloom,
    ];
    args.extend_from_slice(extra);
    ServerProcess::start_with(&args)
}

fn fill_bloom(con: &mut redis::Connection) {
    assert_eq!(ok(con, &["BF.ADD", "bf", "apple"]), Value::Int(1));
    assert_eq!(ok(con, &["BF.ADD", "bf", "apple"]), Value::Int(0));
    assert_eq!(ok(con, &["BF.ADD", "bf", "pear"]), Value::Int(1));
}

fn check_bloom(con: &mut redis::Connection, key: &str) {
    assert_eq!(ok(con, &["BF.EXISTS", key, "apple"]), Value::Int(1));
    assert_eq!(ok(con, &["BF.EXISTS", key, "pear"]), Value::Int(1));
    assert_eq!(ok(con, &["BF.EXISTS", key, "plum"]), Value::Int(0));
    let info = format!("{:?}", ok(con, &["BF.INFO", key]));
    assert!(
        info.ends_with("simple-string(\"Number of items inserted\"), int(2)])"),
        "{info}"
    );
}

#[test]
fn a_module_type_lives_in_the_keyspace() {
    let dir = temp_dir("type");
    let server = bloom_server(&dir, &[]);
    let mut con = server.connect().expect("connect");
    fill_bloom(&mut con);
    check_bloom(&mut con, "bf");
    assert_eq!(
        ok(&mut con, &["TYPE", "bf"]),
        Value::SimpleString("oxbloomfl".into())
    );
    // COPY through the type's copy callback; the copy is independent.
    assert_eq!(ok(&mut con, &["COPY", "bf", "bf2"]), Value::Int(1));
    ok(&mut con, &["BF.ADD", "bf2", "plum"]);
    assert_eq!(ok(&mut con, &["BF.EXISTS", "bf", "plum"]), Value::Int(0));
    // MEMORY USAGE from mem_usage.
    let Value::Int(bytes) = ok(&mut con, &["MEMORY", "USAGE", "bf"]) else {
        panic!("MEMORY USAGE")
    };
    assert!(bytes > 1000, "{bytes}");
    // DEBUG DIGEST-VALUE from digest: equal filters, equal digests.
    ok(&mut con, &["COPY", "bf", "bf3"]);
    assert_eq!(
        ok(&mut con, &["DEBUG", "DIGEST-VALUE", "bf"]),
        ok(&mut con, &["DEBUG", "DIGEST-VALUE", "bf3"])
    );
    // DUMP / RESTORE through rdb_save / rdb_load.
    let Value::BulkString(payload) = ok(&mut con, &["DUMP", "bf"]) else {
        panic!("DUMP")
    };
    let restored: Value = redis::cmd("RESTORE")
        .arg("restored")
        .arg(0)
        .arg(payload)
        .query(&mut con)
        .expect("RESTORE");
    assert_eq!(restored, Value::Okay);
    check_bloom(&mut con, "restored");
    // Other types are refused; the module cannot go while its values exist.
    ok(&mut con, &["SET", "s", "1"]);
    assert_eq!(
        err(&mut con, &["BF.ADD", "s", "x"]),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    // The name matches without regard to case, and the refusal holds under any spelling.
    for name in ["bloom", "BLOOM"] {
        assert_eq!(
            err(&mut con, &["MODULE", "UNLOAD", name]),
            "ERR Error unloading module: the module exports one or more module-side data types, can't unload"
        );
    }
    ok(&mut con, &["FLUSHALL"]);
    assert_eq!(ok(&mut con, &["MODULE", "UNLOAD", "bloom"]), Value::Okay);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_module_type_survives_save_and_restart() {
    let dir = temp_dir("rdb");
    {
        let server = bloom_server(&dir, &[]);
        let mut con = server.connect().expect("connect");
        fill_bloom(&mut con);
        assert_eq!(ok(&mut con, &["SAVE"]), Value::Okay);
        // DEBUG RELOAD: save and load in place.
        assert_eq!(ok(&mut con, &["DEBUG", "RELOAD"]), Value::Okay);
        check_bloom(&mut con, "bf");
    }
    let server = bloom_server(&dir, &[]);
    let mut con = server.connect().expect("connect");
    check_bloom(&mut con, "bf");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_module_type_survives_aof_rewrite_and_restart() {
    let dir = temp_dir("aof");
    {
        let server = bloom_server(&dir, &["--appendonly", "yes"]);
        let mut con = server.connect().expect("connect");
        fill_bloom(&mut con);
        ok(&mut con, &["BGREWRITEAOF"]);
        // Wait for the rewrite, then write more (replayed from the incremental file).
        for _ in 0..200 {
            if info_field(&mut con, "persistence", "aof_rewrite_in_progress").as_deref()
                == Some("0")
                && info_field(&mut con, "persistence", "aof_rewrite_scheduled").as_deref()
                    != Some("1")
            {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        ok(&mut con, &["BF.ADD", "bf", "fig"]);
    }
    let server = bloom_server(&dir, &["--appendonly", "yes"]);
    let mut con = server.connect().expect("connect");
    assert_eq!(ok(&mut con, &["BF.EXISTS", "bf", "apple"]), Value::Int(1));
    assert_eq!(ok(&mut con, &["BF.EXISTS", "bf", "fig"]), Value::Int(1));
    assert_eq!(ok(&mut con, &["BF.EXISTS", "bf", "plum"]), Value::Int(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_event_hook_module_counts_keyspace_events() {
    let server = start();
    let mut con = server.connect().expect("connect");
    ok(&mut con, &["MODULE", "LOAD", &module("evcount")]);
    // Hooks see events whatever notify-keyspace-events says (it is off here).
    ok(&mut con, &["SET", "a", "1"]);
    ok(&mut con, &["SET", "a", "2"]);
    ok(&mut con, &["LPUSH", "l", "x"]);
    ok(&mut con, &["DEL", "a"]);
    ok(&mut con, &["SET", "e", "1", "PX", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(ok(&mut con, &["EXISTS", "e"]), Value::Int(0));
    assert_eq!(ok(&mut con, &["EVCOUNT.GET", "set"]), Value::Int(3));
    assert_eq!(ok(&mut con, &["EVCOUNT.GET", "lpush"]), Value::Int(1));
    assert_eq!(ok(&mut con, &["EVCOUNT.GET", "del"]), Value::Int(1));
    assert_eq!(ok(&mut con, &["EVCOUNT.GET", "expired"]), Value::Int(1));
    // Unloading ends the subscription; a reload starts from zero.
    ok(&mut con, &["MODULE", "UNLOAD", "evcount"]);
    ok(&mut con, &["SET", "a", "3"]);
    ok(&mut con, &["MODULE", "LOAD", &module("evcount")]);
    assert_eq!(ok(&mut con, &["EVCOUNT.GET", "set"]), Value::Int(0));
}

#[test]
fn a_client_blocked_by_a_module_is_answered_from_another_thread() {
    let server = start();
    let mut con = server.connect().expect("connect");
    ok(&mut con, &["MODULE", "LOAD", &module("oxidis_testmod")]);
    assert_eq!(
        ok(&mut con, &["TEST.BLOCK", "50"]),
        bulk("answered after 50 ms")
    );
    assert_eq!(
        ok(&mut con, &["TEST.BLOCK", "0"]),
        Value::SimpleString("timed out".into())
    );
    // Other clients are served while one waits.
    let mut other = server.raw();
    other.write_all(b"TEST.BLOCK 150\r\n").expect("write");
    assert_eq!(ok(&mut con, &["PING"]), Value::SimpleString("PONG".into()));
    let mut buf = [0u8; 64];
    let n = other.read(&mut buf).expect("the answer");
    assert_eq!(&buf[..n], b"$21\r\nanswered after 150 ms\r\n");
    // While the module still holds a blocked client's handle (the client timed out, its thread
    // answers later), MODULE UNLOAD is refused, as in Redis.
    assert_eq!(
        ok(&mut con, &["TEST.BLOCK", "1500"]),
        Value::SimpleString("timed out".into())
    );
    assert_eq!(
        err(&mut con, &["MODULE", "UNLOAD", "testmod"]),
        "ERR Error unloading module: the module has blocked clients. Please wait them unblocked and try again"
    );
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(ok(&mut con, &["MODULE", "UNLOAD", "testmod"]), Value::Okay);
}

#[test]
fn server_events_and_module_config_parameters() {
    let server = start();
    let mut con = server.connect().expect("connect");
    ok(&mut con, &["MODULE", "LOAD", &module("oxidis_testmod")]);
    let before = ok(&mut con, &["TEST.FLUSHES"]);
    ok(&mut con, &["FLUSHALL"]);
    ok(&mut con, &["FLUSHDB"]);
    let Value::Int(before) = before else {
        panic!("TEST.FLUSHES")
    };
    assert_eq!(ok(&mut con, &["TEST.FLUSHES"]), Value::Int(before + 2));
    // CONFIG GET/SET see the module's parameter; its hook vetoes values.
    assert_eq!(
        ok(&mut con, &["CONFIG", "GET", "testmod.limit"]),
        Value::Array(vec![bulk("testmod.limit"), bulk("10")])
    );
    assert_eq!(
        ok(&mut con, &["CONFIG", "SET", "testmod.limit", "20"]),
        Value::Okay
    );
    assert_eq!(ok(&mut con, &["TEST.CONFIG"]), bulk("20"));
    let refused = err(&mut con, &["CONFIG", "SET", "testmod.limit", "13"]);
    assert!(refused.contains("13 is unlucky"), "{refused}");
    assert!(err(&mut con, &["CONFIG", "SET", "testmod.limit", "101"]).starts_with("ERR"));
    // MODULE LOADEX sets parameters at load; a refused one fails the load.
    ok(&mut con, &["MODULE", "UNLOAD", "testmod"]);
    assert_eq!(
        ok(&mut con, &["CONFIG", "GET", "testmod.limit"]),
        Value::Array(vec![])
    );
    let path = module("oxidis_testmod");
    assert_eq!(
        err(
            &mut con,
            &["MODULE", "LOADEX", &path, "CONFIG", "testmod.limit", "13"]
        ),
        "ERR Error loading the extension. Please check the server logs."
    );
    assert_eq!(ok(&mut con, &["MODULE", "LIST"]), Value::Array(vec![]));
    assert_eq!(
        ok(
            &mut con,
            &[
                "MODULE",
                "LOADEX",
                &path,
                "CONFIG",
                "testmod.limit",
                "42",
                "ARGS",
                "a"
            ]
        ),
        Value::Okay
    );
    assert_eq!(ok(&mut con, &["TEST.CONFIG"]), bulk("42"));
}
