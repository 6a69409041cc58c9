//! Unit tests of the generic (keyspace) family, with replies and error texts checked against
//! Redis 7.0.

use super::*;
use crate::command::Flag;
use crate::db::Ttl;
use crate::testing::{CommandRunner, bulk, err, simple};

const START_MS: u64 = 1_000_000;

fn put(r: &mut CommandRunner, key: &str, value: &str) {
    put_in(r, 0, key, value, None);
}

fn put_expiring(r: &mut CommandRunner, key: &str, value: &str, in_ms: u64) {
    let at = r.server.now_ms() + in_ms;
    put_in(r, 0, key, value, Some(at));
}

fn put_in(r: &mut CommandRunner, db: usize, key: &str, value: &str, at: Option<u64>) {
    let ttl = at.map_or(Ttl::Clear, Ttl::At);
    let clock = r.server.lru_clock();
    r.server.dbs[db].set(key.as_bytes(), Value::string(value.as_bytes()), ttl, clock);
}

fn get_in(r: &CommandRunner, db: usize, key: &str) -> Option<Value> {
    let db = &r.server.dbs[db];
    db.find(key.as_bytes())
        .map(|pos| db.entry(pos).value.clone())
}

fn use_db(r: &mut CommandRunner, db: usize) {
    r.server.clients.get_mut(r.client).unwrap().db = db;
}

fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

fn bulks(items: &[&str]) -> Frame {
    Frame::Array(items.iter().map(|s| bulk(s)).collect())
}

fn sorted_keys(reply: Frame) -> Vec<String> {
    let Frame::Array(items) = reply else {
        panic!("not an array: {reply:?}")
    };
    let mut keys: Vec<String> = items
        .into_iter()
        .map(|f| match f {
            Frame::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
            other => panic!("not a bulk: {other:?}"),
        })
        .collect();
    keys.sort();
    keys
}

/// Runs a SCAN to completion with `extra` options; every key reported, sorted and unique.
fn scan_all(r: &mut CommandRunner, extra: &[&str]) -> Vec<String> {
    let mut cursor = "0".to_string();
    let mut all = Vec::new();
    loop {
        let mut argv = vec!["SCAN", cursor.as_str()];
        argv.extend_from_slice(extra);
        let Frame::Array(mut parts) = r.run(argv) else {
            panic!("SCAN reply is not an array")
        };
        let keys = parts.pop().unwrap();
        let Frame::Bulk(next) = parts.pop().unwrap() else {
            panic!("cursor is not a bulk string")
        };
        all.extend(sorted_keys(keys));
        cursor = String::from_utf8(next.to_vec()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    all.sort();
    all.dedup();
    all
}

#[test]
fn del_and_unlink_count_only_live_keys() {
    let mut r = CommandRunner::with_builtin_commands();
    put(&mut r, "a", "1");
    put(&mut r, "b", "2");
    put_expiring(&mut r, "gone", "x", 100);
    r.advance_ms(100);
    assert_eq!(r.run(["DEL", "a", "gone", "nokey", "a"]), int(1));
    assert_eq!(r.run(["UNLINK", "b", "b"]), int(1));
    assert_eq!(r.server.dbs[0].len(), 0);
    assert_eq!(
        r.run(["DEL"]),
        err("ERR wrong number of arguments for 'del' command")
    );
}

#[test]
fn exists_counts_repeats_and_type_names_values() {
    let mut r = CommandRunner::with_builtin_commands();
    put(&mut r, "a", "1");
    put_expiring(&mut r, "soon", "x", 10);
    assert_eq!(r.run(["EXISTS", "a", "a", "nokey", "soon"]), int(3));
    r.advance_ms(10);
    assert_eq!(r.run(["EXISTS", "soon"]), int(0));
    assert_eq!(r.run(["TYPE", "a"]), simple("string"));
    assert_eq!(r.run(["TYPE", "nokey"]), simple("none"));
    assert_eq!(r.server.stats.keyspace_hits, 4);
    assert_eq!(r.server.stats.keyspace_misses, 3);
}

#[test]
fn rename_moves_value_and_ttl() {
    let mut r = CommandRunner::with_builtin_commands();
    put_expiring(&mut r, "src", "v", 100_000);
    put(&mut r, "dst", "old");
    assert_eq!(r.run(["RENAME", "src", "dst"]), Frame::ok());
    assert_eq!(get_in(&r, 0, "dst"), Some(Value::string(b"v")));
    assert_eq!(r.run(["EXISTS", "src"]), int(0));
    assert_eq!(r.run(["TTL", "dst"]), int(100));
    // A persistent source does not inherit the target's TTL.
    put(&mut r, "p", "x");
    assert_eq!(r.run(["RENAME", "p", "dst"]), Frame::ok());
    assert_eq!(r.run(["TTL", "dst"]), int(-1));
}

#[test]
fn rename_edge_cases() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(r.run(["RENAME", "nokey", "x"]), err("ERR no such key"));
    assert_eq!(r.run(["RENAMENX", "nokey", "x"]), err("ERR no such key"));
    assert_eq!(r.run(["RENAME", "nokey", "nokey"]), err("ERR no such key"));
    put(&mut r, "k", "v");
    assert_eq!(r.run(["RENAME", "k", "k"]), Frame::ok());
    assert_eq!(r.run(["RENAMENX", "k", "k"]), int(0));
    put(&mut r, "taken", "t");
    assert_eq!(r.run(["RENAMENX", "k", "taken"]), int(0));
    assert_eq!(get_in(&r, 0, "taken"), Some(Value::string(b"t")));
    assert_eq!(r.run(["RENAMENX", "k", "free"]), int(1));
    assert_eq!(get_in(&r, 0, "free"), Some(Value::string(b"v")));
    // An expired source is gone; an expired target is free.
    put_expiring(&mut r, "old", "o", 5);
    put_expiring(&mut r, "stale", "s", 5);
    r.advance_ms(5);
    assert_eq!(r.run(["RENAME", "old", "x"]), err("ERR no such key"));
    assert_eq!(r.run(["RENAMENX", "free", "stale"]), int(1));
}

#[test]
fn move_checks_the_database_and_carries_the_ttl() {
    let mut r = CommandRunner::with_builtin_commands();
    put_expiring(&mut r, "k", "v", 100_000);
    assert_eq!(
        r.run(["MOVE", "k", "16"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        r.run(["MOVE", "k", "-1"]),
        err("ERR DB index is out of range")
    );
    let not_int = err("ERR value is not an integer or out of range");
    assert_eq!(r.run(["MOVE", "k", "notanumber"]), not_int);
    assert_eq!(r.run(["MOVE", "k", "4294967296"]), not_int);
    assert_eq!(
        r.run(["MOVE", "k", "0"]),
        err("ERR source and destination objects are the same")
    );
    assert_eq!(r.run(["MOVE", "nokey", "1"]), int(0));
    assert_eq!(r.run(["MOVE", "k", "1"]), int(1));
    assert_eq!(r.run(["TTL", "k"]), int(-2));
    use_db(&mut r, 1);
    assert_eq!(r.run(["TTL", "k"]), int(100));
    assert_eq!(get_in(&r, 1, "k"), Some(Value::string(b"v")));
    use_db(&mut r, 0);
    put(&mut r, "k", "other");
    assert_eq!(r.run(["MOVE", "k", "1"]), int(0));
    assert_eq!(get_in(&r, 0, "k"), Some(Value::string(b"other")));
}

#[test]
fn copy_options_and_errors() {
    let mut r = CommandRunner::with_builtin_commands();
    put_expiring(&mut r, "src", "foobar", 100_000);
    assert_eq!(r.run(["COPY", "src", "dst"]), int(1));
    assert_eq!(get_in(&r, 0, "dst"), Some(Value::string(b"foobar")));
    assert_eq!(r.run(["TTL", "dst"]), int(100));
    put(&mut r, "src", "changed");
    assert_eq!(r.run(["COPY", "src", "dst"]), int(0));
    assert_eq!(get_in(&r, 0, "dst"), Some(Value::string(b"foobar")));
    assert_eq!(r.run(["COPY", "src", "dst", "replace"]), int(1));
    assert_eq!(get_in(&r, 0, "dst"), Some(Value::string(b"changed")));
    assert_eq!(r.run(["TTL", "dst"]), int(-1));
    assert_eq!(r.run(["COPY", "src", "dst", "DB", "10", "REPLACE"]), int(1));
    assert_eq!(get_in(&r, 10, "dst"), Some(Value::string(b"changed")));
    assert_eq!(r.run(["COPY", "nokey", "dst"]), int(0));
    let same = err("ERR source and destination objects are the same");
    assert_eq!(r.run(["COPY", "src", "src"]), same);
    assert_eq!(r.run(["COPY", "src", "src", "DB", "0"]), same);
    assert_eq!(r.run(["COPY", "src", "src", "DB", "1"]), int(1));
    assert_eq!(r.run(["COPY", "src", "x", "DB"]), err("ERR syntax error"));
    assert_eq!(r.run(["COPY", "src", "x", "FOO"]), err("ERR syntax error"));
    assert_eq!(
        r.run(["COPY", "src", "x", "DB", "notanumber"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        r.run(["COPY", "src", "x", "DB", "99"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        r.run(["COPY", "src"]),
        err("ERR wrong number of arguments for 'copy' command")
    );
}

#[test]
fn keys_matches_globs_and_skips_expired_keys() {
    let mut r = CommandRunner::with_builtin_commands();
    for k in ["key_x", "key_y", "key_z", "foo_a", "foo_b", "foo_c"] {
        put(&mut r, k, "hello");
    }
    put_expiring(&mut r, "key_gone", "x", 1);
    r.advance_ms(1);
    assert_eq!(
        sorted_keys(r.run(["KEYS", "foo*"])),
        ["foo_a", "foo_b", "foo_c"]
    );
    assert_eq!(sorted_keys(r.run(["KEYS", "*"])).len(), 6);
    assert_eq!(sorted_keys(r.run(["KEYS", "key_[xz]"])), ["key_x", "key_z"]);
    assert_eq!(r.run(["KEYS", "nomatch*"]), bulks(&[]));
    // KEYS only reads: the expired key is still stored.
    assert_eq!(r.server.dbs[0].len(), 7);
}

#[test]
fn scan_visits_every_key() {
    let mut r = CommandRunner::with_builtin_commands();
    for i in 0..1000 {
        put(&mut r, &format!("key:{i}"), "v");
    }
    assert_eq!(scan_all(&mut r, &[]).len(), 1000);
    assert_eq!(scan_all(&mut r, &["COUNT", "5"]).len(), 1000);
    assert_eq!(scan_all(&mut r, &["match", "key:1??"]).len(), 100);
    assert_eq!(scan_all(&mut r, &["TYPE", "list"]).len(), 0);
    assert_eq!(scan_all(&mut r, &["TYPE", "STRING"]).len(), 1000);
    assert_eq!(
        scan_all(&mut r, &["type", "string", "match", "key:*", "count", "10"]).len(),
        1000
    );
}

#[test]
fn scan_reply_shape_and_errors() {
    let mut r = CommandRunner::with_builtin_commands();
    put(&mut r, "a", "1");
    let done = Frame::Array(vec![bulk("0"), bulks(&["a"])]);
    assert_eq!(r.run(["SCAN", "0"]), done);
    assert_eq!(r.run(["SCAN", ""]), done);
    assert_eq!(r.run(["SCAN", "+0"]), done);
    let invalid = err("ERR invalid cursor");
    for bad in [" 0", "1a", "-", "18446744073709551616", "0x1"] {
        assert_eq!(r.run(["SCAN", bad]), invalid, "cursor {bad:?}");
    }
    let syntax = err("ERR syntax error");
    assert_eq!(r.run(["SCAN", "0", "COUNT", "0"]), syntax);
    assert_eq!(r.run(["SCAN", "0", "MATCH"]), syntax);
    assert_eq!(r.run(["SCAN", "0", "FOO", "bar"]), syntax);
    assert_eq!(
        r.run(["SCAN", "0", "COUNT", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        r.run(["SCAN", "0", "TYPE", "foo"]),
        Frame::Array(vec![bulk("0"), bulks(&[])])
    );
}

#[test]
fn scan_reclaims_expired_keys() {
    let mut r = CommandRunner::with_builtin_commands();
    put(&mut r, "live", "v");
    put_expiring(&mut r, "foo1", "v", 1);
    put_expiring(&mut r, "foo2", "v", 1);
    r.advance_ms(2);
    assert_eq!(scan_all(&mut r, &[]), ["live"]);
    assert_eq!(r.server.dbs[0].len(), 1);
    assert_eq!(r.server.stats.expired_keys, 2);
}

#[test]
fn scan_keeps_its_guarantee_under_writes() {
    let mut r = CommandRunner::with_builtin_commands();
    for i in 0..100 {
        put(&mut r, &format!("k{i}"), "v");
    }
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    let mut round = 0;
    loop {
        let Frame::Array(mut parts) = r.run(["SCAN", cursor.as_str(), "COUNT", "7"]) else {
            panic!()
        };
        seen.extend(sorted_keys(parts.pop().unwrap()));
        let Frame::Bulk(next) = parts.pop().unwrap() else {
            panic!()
        };
        cursor = String::from_utf8(next.to_vec()).unwrap();
        if cursor == "0" {
            break;
        }
        round += 1;
        for j in 0..10 {
            put(&mut r, &format!("added:{round}:{j}"), "v");
        }
        r.run(["DEL", &format!("added:{round}:3")]);
    }
    seen.retain(|k| !k.starts_with("added:"));
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 100);
}

#[test]
fn randomkey_skips_and_reclaims_expired_keys() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(r.run(["RANDOMKEY"]), Frame::Null);
    put_expiring(&mut r, "foo1", "v", 1);
    put_expiring(&mut r, "foo2", "v", 1);
    r.advance_ms(1);
    assert_eq!(r.run(["RANDOMKEY"]), Frame::Null);
    assert_eq!(r.server.dbs[0].len(), 0);
    put(&mut r, "foo", "x");
    put(&mut r, "bar", "y");
    let (mut foo, mut bar) = (false, false);
    for _ in 0..100 {
        match r.run(["RANDOMKEY"]) {
            Frame::Bulk(k) if k.as_ref() == b"foo" => foo = true,
            Frame::Bulk(k) if k.as_ref() == b"bar" => bar = true,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(foo && bar);
}

#[test]
fn expire_sets_and_reports_ttls() {
    let mut r = CommandRunner::with_builtin_commands();
    put(&mut r, "k", "v");
    assert_eq!(r.run(["EXPIRE", "k", "100"]), int(1));
    assert_eq!(r.run(["TTL", "k"]), int(100));
    assert_eq!(r.run(["PTTL", "k"]), int(100_000));
    assert_eq!(r.run(["EXPIRETIME", "k"]), int(1100));
    assert_eq!(r.run(["PEXPIRETIME", "k"]), int(1_100_000));
    assert_eq!(r.run(["PEXPIRE", "k", "1499"]), int(1));
    assert_eq!(r.run(["TTL", "k"]), int(1));
    assert_eq!(r.run(["PEXPIRE", "k", "1500"]), int(1));
    assert_eq!(r.run(["TTL", "k"]), int(2));
    let at = (START_MS / 1000 + 50).to_string();
    assert_eq!(r.run(["EXPIREAT", "k", at.as_str()]), int(1));
    assert_eq!(r.run(["TTL", "k"]), int(50));
    let at_ms = (START_MS + 2500).to_string();
    assert_eq!(r.run(["PEXPIREAT", "k", at_ms.as_str()]), int(1));
    assert_eq!(r.run(["PTTL", "k"]), int(2500));
    r.advance_ms(2499);
    assert_eq!(r.run(["PTTL", "k"]), int(1));
    r.advance_ms(1);
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_eq!(r.run([cmd, "k"]), int(-2));
    }
    put(&mut r, "p", "v");
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_eq!(r.run([cmd, "p"]), int(-1));
    }
    assert_eq!(r.run(["EXPIRE", "nokey", "100"]), int(0));
}

#[test]
fn expire_in_the_past_deletes_the_key() {
    let mut r = CommandRunner::with_builtin_commands();
    put(&mut r, "k", "v");
    assert_eq!(r.run(["EXPIRE", "k", "-10", "LT"]), int(1));
    assert_eq!(r.run(["TTL", "k"]), int(-2));
    put(&mut r, "k", "v");
    assert_eq!(r.run(["PEXPIREAT", "k", "-9223372036854770000"]), int(1));
    assert_eq!(r.run(["EXISTS", "k"]), int(0));
    put(&mut r, "k", "v");
    assert_eq!(r.run(["EXPIRE", "k", "0"]), int(1));
    assert_eq!(r.run(["EXISTS", "k"]), int(0));
    put(&mut r, "k", "v");
    assert_eq!(r.run(["PEXPIREAT", "k", "9223372036854770000"]), int(1));
    assert_eq!(r.run(["PEXPIRETIME", "k"]), int(9_223_372_036_854_770_000));
}

#[test]
fn expire_conditions() {
    let mut r = CommandRunner::with_builtin_commands();
    put(&mut r, "k", "v");
    assert_eq!(r.run(["EXPIRE", "k", "100", "XX"]), int(0));
    assert_eq!(r.run(["EXPIRE", "k", "100", "GT"]), int(0));
    assert_eq!(r.run(["EXPIRE", "k", "100", "LT"]), int(1));
    assert_eq!(r.run(["EXPIRE", "k", "200", "NX"]), int(0));
    assert_eq!(r.run(["EXPIRE", "k", "200", "XX"]), int(1));
    assert_eq!(r.run(["EXPIRE", "k", "100", "gt"]), int(0));
    assert_eq!(r.run(["EXPIRE", "k", "300", "GT"]), int(1));
    assert_eq!(r.run(["EXPIRE", "k", "400", "LT"]), int(0));
    assert_eq!(r.run(["EXPIRE", "k", "50", "lt", "xx"]), int(1));
    assert_eq!(r.run(["TTL", "k"]), int(50));
    assert_eq!(r.run(["PERSIST", "k"]), int(1));
    assert_eq!(r.run(["EXPIRE", "k", "60", "NX"]), int(1));
    assert_eq!(r.run(["TTL", "k"]), int(60));
    for opt in ["NX", "XX", "GT", "LT"] {
        assert_eq!(r.run(["EXPIRE", "none", "100", opt]), int(0));
    }
}

#[test]
fn expire_option_and_range_errors() {
    let mut r = CommandRunner::with_builtin_commands();
    put(&mut r, "foo", "bar");
    let nx = err("ERR NX and XX, GT or LT options at the same time are not compatible");
    assert_eq!(r.run(["EXPIRE", "foo", "200", "NX", "XX"]), nx);
    assert_eq!(r.run(["EXPIRE", "foo", "200", "NX", "GT"]), nx);
    assert_eq!(r.run(["EXPIRE", "foo", "200", "LT", "NX"]), nx);
    // Options are checked before the number.
    assert_eq!(r.run(["PEXPIRE", "foo", "abc", "NX", "XX"]), nx);
    assert_eq!(
        r.run(["EXPIRE", "foo", "200", "LT", "GT"]),
        err("ERR GT and LT options at the same time are not compatible")
    );
    assert_eq!(
        r.run(["EXPIRE", "foo", "200", "AB"]),
        err("ERR Unsupported option AB")
    );
    assert_eq!(
        r.run(["EXPIRE", "foo", "200", "XX", "ab"]),
        err("ERR Unsupported option ab")
    );
    let not_int = err("ERR value is not an integer or out of range");
    assert_eq!(r.run(["EXPIRE", "foo", ""]), not_int);
    assert_eq!(r.run(["EXPIRE", "foo", "1.5"]), not_int);
    let expire = err("ERR invalid expire time in 'expire' command");
    for big in [
        "9223372036854776",
        "10000000000000000",
        "-9223372036854776",
        "-9999999999999999",
    ] {
        assert_eq!(r.run(["EXPIRE", "foo", big]), expire, "{big}");
    }
    assert_eq!(
        r.run(["PEXPIRE", "foo", "9223372036854770000"]),
        err("ERR invalid expire time in 'pexpire' command")
    );
    assert_eq!(
        r.run(["EXPIREAT", "foo", "9223372036854776"]),
        err("ERR invalid expire time in 'expireat' command")
    );
    assert_eq!(r.run(["TTL", "foo"]), int(-1));
}

#[test]
fn persist_removes_only_existing_expiries() {
    let mut r = CommandRunner::with_builtin_commands();
    put_expiring(&mut r, "v", "x", 10_000);
    put(&mut r, "p", "x");
    assert_eq!(r.run(["PERSIST", "v"]), int(1));
    assert_eq!(r.run(["TTL", "v"]), int(-1));
    assert_eq!(r.run(["PERSIST", "v"]), int(0));
    assert_eq!(r.run(["PERSIST", "p"]), int(0));
    assert_eq!(r.run(["PERSIST", "nokey"]), int(0));
    assert_eq!(r.server.dbs[0].volatile_len(), 0);
}

#[test]
fn touch_refreshes_idle_time_but_reads_without_touch_do_not() {
    let mut r = CommandRunner::with_builtin_commands();
    put(&mut r, "a", "1");
    r.advance_ms(10_000);
    for cmd in ["EXISTS", "TYPE", "TTL"] {
        r.run([cmd, "a"]);
    }
    r.run(["OBJECT", "ENCODING", "a"]);
    assert_eq!(r.run(["OBJECT", "IDLETIME", "a"]), int(10));
    assert_eq!(r.run(["TOUCH", "a", "nokey", "a"]), int(2));
    assert_eq!(r.run(["OBJECT", "idletime", "a"]), int(0));
    assert_eq!(r.run(["OBJECT", "IDLETIME", "nokey"]), Frame::Null);
}

#[test]
fn object_subcommands() {
    let mut r = CommandRunner::with_builtin_commands();
    put(&mut r, "int", "5");
    put(&mut r, "big", "10000");
    put(&mut r, "neg", "-1");
    put(&mut r, "short", "hello");
    put(&mut r, "long", &"x".repeat(45));
    assert_eq!(r.run(["OBJECT", "ENCODING", "int"]), bulk("int"));
    assert_eq!(r.run(["OBJECT", "ENCODING", "short"]), bulk("embstr"));
    assert_eq!(r.run(["OBJECT", "ENCODING", "long"]), bulk("raw"));
    assert_eq!(r.run(["OBJECT", "ENCODING", "nokey"]), Frame::Null);
    assert_eq!(r.run(["OBJECT", "REFCOUNT", "int"]), int(2_147_483_647));
    assert_eq!(r.run(["OBJECT", "REFCOUNT", "big"]), int(1));
    assert_eq!(r.run(["OBJECT", "REFCOUNT", "neg"]), int(1));
    assert_eq!(r.run(["OBJECT", "REFCOUNT", "short"]), int(1));
    assert_eq!(r.run(["OBJECT", "REFCOUNT", "nokey"]), Frame::Null);
    assert_eq!(r.run(["OBJECT", "FREQ", "nokey"]), Frame::Null);
    assert_eq!(r.run(["OBJECT", "FREQ", "int"]), err(FREQ_WITHOUT_LFU));
    let Frame::Array(help) = r.run(["object", "help"]) else {
        panic!("help is not an array")
    };
    assert_eq!(help.len(), 15);
    assert_eq!(
        help[0],
        simple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
    );
    assert_eq!(help[14], simple("    Prints this help."));
    assert_eq!(
        r.run(["OBJECT", "foo"]),
        err("ERR unknown subcommand 'foo'. Try OBJECT HELP.")
    );
    assert_eq!(
        r.run(["OBJECT", "ENCODING"]),
        err("ERR wrong number of arguments for 'object|encoding' command")
    );
    assert_eq!(
        r.run(["OBJECT", "HELP", "x"]),
        err("ERR wrong number of arguments for 'object|help' command")
    );
    assert_eq!(
        r.run(["OBJECT"]),
        err("ERR wrong number of arguments for 'object' command")
    );
}

#[test]
fn specs_match_redis() {
    let r = CommandRunner::with_builtin_commands();
    let cmd = |name: &str| r.server.table.get(name.as_bytes()).unwrap();
    assert_eq!(cmd("del").legacy_keys, (1, -1, 1));
    assert_eq!(cmd("del").spec.arity.as_redis(), -2);
    assert_eq!(cmd("rename").legacy_keys, (1, 2, 1));
    assert_eq!(cmd("copy").legacy_keys, (1, 2, 1));
    assert_eq!(cmd("move").legacy_keys, (1, 1, 1));
    assert_eq!(cmd("keys").legacy_keys, (0, 0, 0));
    assert!(cmd("expire").has(Flag::Fast));
    let categories = |name: &str| -> Vec<&str> {
        AclCategory::in_set(cmd(name).acl_categories)
            .map(AclCategory::name)
            .collect()
    };
    assert_eq!(
        categories("keys"),
        ["keyspace", "read", "slow", "dangerous"]
    );
    assert_eq!(categories("unlink"), ["keyspace", "write", "fast"]);
    assert_eq!(categories("copy"), ["keyspace", "write", "slow"]);
    assert_eq!(categories("object"), ["slow"]);
    let encoding = cmd("object").subcommand(b"encoding").unwrap();
    assert_eq!(encoding.legacy_keys, (2, 2, 1));
    assert_eq!(
        AclCategory::in_set(encoding.acl_categories)
            .map(AclCategory::name)
            .collect::<Vec<_>>(),
        ["keyspace", "read", "slow"]
    );
}
