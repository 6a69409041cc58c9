//! Unit tests of the string family, with replies and error texts checked against Redis 7.0.

use super::*;
use crate::command::AclCategory;
use crate::config::Config;
use crate::testing::{CommandRunner, bulk, err};

const NOW: u64 = 1_000_000;

fn runner() -> CommandRunner {
    CommandRunner::with_builtin_commands()
}

/// Runs a command written as one line of space-separated words.
fn run(r: &mut CommandRunner, line: &str) -> Frame {
    r.run(line.split(' '))
}

fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

fn array(items: Vec<Frame>) -> Frame {
    Frame::Array(items)
}

fn expire_at(r: &CommandRunner, key: &str) -> Option<u64> {
    let db = &r.server.dbs[0];
    db.find(key.as_bytes())
        .and_then(|p| db.entry(p).expire_at())
}

fn encoding(r: &CommandRunner, key: &str) -> &'static str {
    let db = &r.server.dbs[0];
    let pos = db.find(key.as_bytes()).expect("key exists");
    db.entry(pos).value.encoding_name()
}

fn exists(r: &CommandRunner, key: &str) -> bool {
    r.server.dbs[0].find(key.as_bytes()).is_some()
}

// Config may grow private fields, so no struct literal here.
#[allow(clippy::field_reassign_with_default)]
fn small_bulk_len(max: u64) -> CommandRunner {
    let mut config = Config::default();
    config.proto_max_bulk_len = max;
    CommandRunner::with_config(config)
}

const INVALID_SET: &str = "ERR invalid expire time in 'set' command";
const INVALID_GETEX: &str = "ERR invalid expire time in 'getex' command";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const NOT_FLOAT: &str = "ERR value is not a valid float";
const SYNTAX: &str = "ERR syntax error";

// --- metadata -------------------------------------------------------------------------

#[test]
fn specs_match_redis_metadata() {
    let r = runner();
    let info = |name: &str| r.server.table.get(name.as_bytes()).expect(name);
    let acl = |name: &str| {
        AclCategory::in_set(info(name).acl_categories)
            .map(AclCategory::name)
            .collect::<Vec<_>>()
    };
    assert_eq!(acl("get"), ["read", "string", "fast"]);
    assert_eq!(acl("set"), ["write", "string", "slow"]);
    assert_eq!(acl("getdel"), ["write", "string", "fast"]);
    assert_eq!(acl("lcs"), ["read", "string", "slow"]);
    assert_eq!(acl("getrange"), ["read", "string", "slow"]);
    let arities: Vec<i64> = [
        "get",
        "set",
        "setnx",
        "setex",
        "psetex",
        "mget",
        "mset",
        "msetnx",
        "append",
        "strlen",
        "incr",
        "decr",
        "incrby",
        "decrby",
        "incrbyfloat",
        "getrange",
        "setrange",
        "substr",
        "getdel",
        "getex",
        "getset",
        "lcs",
    ]
    .iter()
    .map(|name| info(name).spec.arity.as_redis())
    .collect();
    assert_eq!(
        arities,
        [
            2, -3, 3, 4, 4, -2, -3, -3, 3, 2, 2, 2, 3, 3, 3, 4, 4, 4, 2, -2, 3, -3
        ]
    );
    assert_eq!(info("mset").legacy_keys, (1, -1, 2));
    assert_eq!(info("lcs").legacy_keys, (1, 2, 1));
    assert_eq!(info("substr").spec.docs.deprecated_since, Some("2.0.0"));
}

// --- GET / SET ------------------------------------------------------------------------

#[test]
fn set_and_get() {
    let mut r = runner();
    assert_eq!(run(&mut r, "GET x"), Frame::Null);
    assert_eq!(run(&mut r, "SET x foobar"), Frame::ok());
    assert_eq!(run(&mut r, "GET x"), bulk("foobar"));
    assert_eq!(r.run(["SET", "x", ""]), Frame::ok());
    assert_eq!(run(&mut r, "GET x"), bulk(""));
    let big = "abcd".repeat(1_000_000);
    assert_eq!(r.run(["SET", "foo", big.as_str()]), Frame::ok());
    assert_eq!(run(&mut r, "GET foo"), bulk(&big));
}

#[test]
fn set_keeps_redis_encodings() {
    let mut r = runner();
    run(&mut r, "SET a 12345");
    run(&mut r, "SET b -0");
    r.run(["SET", "c", &"x".repeat(44)]);
    r.run(["SET", "d", &"x".repeat(45)]);
    assert_eq!(encoding(&r, "a"), "int");
    assert_eq!(encoding(&r, "b"), "embstr");
    assert_eq!(encoding(&r, "c"), "embstr");
    assert_eq!(encoding(&r, "d"), "raw");
    assert_eq!(run(&mut r, "GET a"), bulk("12345"));
}

#[test]
fn set_nx_xx_and_get() {
    let mut r = runner();
    assert_eq!(run(&mut r, "SET foo 1 nx"), Frame::ok());
    assert_eq!(run(&mut r, "SET foo 2 nx"), Frame::Null);
    assert_eq!(run(&mut r, "GET foo"), bulk("1"));
    assert_eq!(run(&mut r, "SET bar 1 xx"), Frame::Null);
    assert!(!exists(&r, "bar"));
    assert_eq!(run(&mut r, "SET foo 2 XX"), Frame::ok());
    assert_eq!(run(&mut r, "GET foo"), bulk("2"));

    assert_eq!(run(&mut r, "SET foo bar2 GET"), bulk("2"));
    assert_eq!(run(&mut r, "SET new bar GET"), Frame::Null);
    assert_eq!(run(&mut r, "GET new"), bulk("bar"));
    assert_eq!(run(&mut r, "SET foo baz GET XX"), bulk("bar2"));
    assert_eq!(run(&mut r, "SET none bar GET XX"), Frame::Null);
    assert!(!exists(&r, "none"));
    assert_eq!(run(&mut r, "SET nx1 bar GET NX"), Frame::Null);
    assert_eq!(run(&mut r, "GET nx1"), bulk("bar"));
    assert_eq!(run(&mut r, "SET nx1 baz GET NX"), bulk("bar"));
    assert_eq!(run(&mut r, "GET nx1"), bulk("bar"));
    // Repeated options are accepted.
    assert_eq!(run(&mut r, "SET nx1 v get get nx nx"), bulk("bar"));
}

#[test]
fn set_syntax_errors() {
    let mut r = runner();
    for line in [
        "SET foo bar non-existing-option",
        "SET foo bar NX XX",
        "SET foo bar XX NX",
        "SET foo bar EX",
        "SET foo bar EX 10 PX 20",
        "SET foo bar PX 10 EXAT 20",
        "SET foo bar KEEPTTL EX 5",
        "SET foo bar EX 5 KEEPTTL",
        "SET foo bar PERSIST",
        "SET foo bar EX abc NX XX",
    ] {
        assert_eq!(run(&mut r, line), err(SYNTAX), "{line}");
    }
    assert!(!exists(&r, "foo"));
    assert_eq!(run(&mut r, "SET foo bar KEEPTTL KEEPTTL"), Frame::ok());
}

#[test]
fn set_expiry_options() {
    let mut r = runner();
    run(&mut r, "SET foo bar EX 10");
    assert_eq!(expire_at(&r, "foo"), Some(NOW + 10_000));
    run(&mut r, "SET foo bar PX 1500");
    assert_eq!(expire_at(&r, "foo"), Some(NOW + 1_500));
    run(&mut r, "SET foo bar EXAT 2000");
    assert_eq!(expire_at(&r, "foo"), Some(2_000_000));
    run(&mut r, "SET foo bar pxat 2000001");
    assert_eq!(expire_at(&r, "foo"), Some(2_000_001));
    // The last of a repeated option wins.
    run(&mut r, "SET foo bar ex 10 ex 20");
    assert_eq!(expire_at(&r, "foo"), Some(NOW + 20_000));
    run(&mut r, "SET foo bar2 KEEPTTL");
    assert_eq!(expire_at(&r, "foo"), Some(NOW + 20_000));
    assert_eq!(run(&mut r, "SET foo bar3 xx px 10000"), Frame::ok());
    assert_eq!(expire_at(&r, "foo"), Some(NOW + 10_000));
    run(&mut r, "SET foo bar");
    assert_eq!(expire_at(&r, "foo"), None);

    run(&mut r, "SET short v PX 100");
    r.advance_ms(100);
    assert_eq!(run(&mut r, "GET short"), Frame::Null);
    // An absolute time in the past stores a key that is already gone.
    assert_eq!(run(&mut r, "SET past v EXAT 1"), Frame::ok());
    assert_eq!(run(&mut r, "GET past"), Frame::Null);
}

#[test]
fn set_invalid_expire_times() {
    let mut r = runner();
    for line in [
        "SET foo bar EX 0",
        "SET foo bar PX -1",
        "SET foo bar EX 10000000000000000",
        "SET foo bar EX -9999999999999999",
        "SET foo bar EX 9223372036854775",
        "SET foo bar PX 9223372036854775807",
        "SET foo bar EXAT 9223372036854775807",
        "SET foo bar PXAT 0",
    ] {
        assert_eq!(run(&mut r, line), err(INVALID_SET), "{line}");
    }
    assert_eq!(run(&mut r, "SET foo bar EX abc"), err(NOT_INT));
    assert_eq!(run(&mut r, "SET foo bar EX 1.5"), err(NOT_INT));
    assert!(!exists(&r, "foo"));
    assert_eq!(
        run(&mut r, "SET foo bar PXAT 9223372036854775807"),
        Frame::ok()
    );
    // The expire time is checked before GET reads the old value.
    assert_eq!(run(&mut r, "SET foo baz GET EX 0"), err(INVALID_SET));
    assert_eq!(run(&mut r, "GET foo"), bulk("bar"));
}

#[test]
fn set_counts_changes_and_get_counts_hits() {
    let mut r = runner();
    let dirty = r.server.dirty;
    run(&mut r, "SET a 1");
    run(&mut r, "SET a 2 NX");
    assert_eq!(r.server.dirty, dirty + 1);
    run(&mut r, "GET a");
    run(&mut r, "GET b");
    assert_eq!(r.server.stats.keyspace_hits, 1);
    assert_eq!(r.server.stats.keyspace_misses, 1);
}

// --- SETNX / SETEX / PSETEX / GETSET ---------------------------------------------------

#[test]
fn setnx() {
    let mut r = runner();
    assert_eq!(run(&mut r, "SETNX novar foobared"), int(1));
    assert_eq!(run(&mut r, "SETNX novar blabla"), int(0));
    assert_eq!(run(&mut r, "GET novar"), bulk("foobared"));
    run(&mut r, "SET x 10 EX 1");
    assert_eq!(run(&mut r, "SETNX x 20"), int(0));
    r.advance_ms(2000);
    assert_eq!(run(&mut r, "SETNX x 20"), int(1));
    assert_eq!(run(&mut r, "GET x"), bulk("20"));
    assert_eq!(expire_at(&r, "x"), None);
}

#[test]
fn setex_and_psetex() {
    let mut r = runner();
    assert_eq!(run(&mut r, "SETEX x 12 test"), Frame::ok());
    assert_eq!(expire_at(&r, "x"), Some(NOW + 12_000));
    assert_eq!(run(&mut r, "GET x"), bulk("test"));
    assert_eq!(run(&mut r, "PSETEX y 100 v"), Frame::ok());
    assert_eq!(expire_at(&r, "y"), Some(NOW + 100));
    assert_eq!(
        run(&mut r, "SETEX z -10 foo"),
        err("ERR invalid expire time in 'setex' command")
    );
    assert_eq!(
        run(&mut r, "PSETEX z 0 foo"),
        err("ERR invalid expire time in 'psetex' command")
    );
    assert_eq!(run(&mut r, "SETEX z abc foo"), err(NOT_INT));
    assert!(!exists(&r, "z"));
    assert_eq!(run(&mut r, "SETEX w 1 123"), Frame::ok());
    assert_eq!(encoding(&r, "w"), "int");
}

#[test]
fn getset() {
    let mut r = runner();
    assert_eq!(run(&mut r, "GETSET foo xyz"), Frame::Null);
    assert_eq!(run(&mut r, "GET foo"), bulk("xyz"));
    run(&mut r, "SET foo bar EX 100");
    assert_eq!(run(&mut r, "GETSET foo xyz"), bulk("bar"));
    assert_eq!(run(&mut r, "GET foo"), bulk("xyz"));
    assert_eq!(expire_at(&r, "foo"), None);
}

// --- MGET / MSET / MSETNX ---------------------------------------------------------------

#[test]
fn mget() {
    let mut r = runner();
    run(&mut r, "SET foo BAR");
    run(&mut r, "SET bar 42");
    assert_eq!(
        run(&mut r, "MGET foo baazz bar"),
        array(vec![bulk("BAR"), Frame::Null, bulk("42")])
    );
}

#[test]
fn mset_and_msetnx() {
    let mut r = runner();
    assert_eq!(
        r.run(["MSET", "x", "10", "y", "foo bar", "z", "x x\n\r\n"]),
        Frame::ok()
    );
    assert_eq!(
        run(&mut r, "MGET x y z"),
        array(vec![bulk("10"), bulk("foo bar"), bulk("x x\n\r\n")])
    );
    assert_eq!(
        run(&mut r, "MSET x 10 y foo z"),
        err("ERR wrong number of arguments for 'mset' command")
    );
    assert_eq!(
        run(&mut r, "MSETNX x 20 y foo z"),
        err("ERR wrong number of arguments for 'msetnx' command")
    );
    assert_eq!(run(&mut r, "MSETNX x1 xxx y2 yyy x 20"), int(0));
    assert!(!exists(&r, "x1") && !exists(&r, "y2"));
    assert_eq!(run(&mut r, "MSETNX x1 xxx y2 yyy"), int(1));
    assert_eq!(
        run(&mut r, "MGET x1 y2"),
        array(vec![bulk("xxx"), bulk("yyy")])
    );
    assert_eq!(run(&mut r, "MSETNX n1 xxx n1 yyy"), int(1));
    assert_eq!(run(&mut r, "GET n1"), bulk("yyy"));
    assert_eq!(run(&mut r, "MSETNX n1 xxx n1 zzz"), int(0));
    assert_eq!(run(&mut r, "GET n1"), bulk("yyy"));
    // MSET clears any TTL, as SET does.
    run(&mut r, "SET t v EX 100");
    let dirty = r.server.dirty;
    run(&mut r, "MSET t w u 1");
    assert_eq!(expire_at(&r, "t"), None);
    assert_eq!(r.server.dirty, dirty + 2);
}

// --- APPEND / STRLEN --------------------------------------------------------------------

#[test]
fn append() {
    let mut r = runner();
    assert_eq!(run(&mut r, "APPEND a 123"), int(3));
    assert_eq!(encoding(&r, "a"), "int");
    assert_eq!(run(&mut r, "APPEND a 45"), int(5));
    assert_eq!(encoding(&r, "a"), "raw");
    assert_eq!(run(&mut r, "GET a"), bulk("12345"));
    assert_eq!(run(&mut r, "APPEND b hello"), int(5));
    assert_eq!(encoding(&r, "b"), "embstr");
    assert_eq!(r.run(["APPEND", "b", ""]), int(5));
    assert_eq!(encoding(&r, "b"), "raw");
    assert_eq!(r.run(["APPEND", "b", " world"]), int(11));
    assert_eq!(run(&mut r, "GET b"), bulk("hello world"));
    // The TTL survives.
    run(&mut r, "SET c x EX 100");
    run(&mut r, "APPEND c y");
    assert_eq!(expire_at(&r, "c"), Some(NOW + 100_000));
}

#[test]
fn append_respects_proto_max_bulk_len() {
    let mut r = small_bulk_len(8);
    assert_eq!(run(&mut r, "APPEND a 12345"), int(5));
    assert_eq!(run(&mut r, "APPEND a 678"), int(8));
    assert_eq!(
        run(&mut r, "APPEND a 9"),
        err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    );
    assert_eq!(run(&mut r, "GET a"), bulk("12345678"));
}

#[test]
fn strlen() {
    let mut r = runner();
    assert_eq!(run(&mut r, "STRLEN notakey"), int(0));
    run(&mut r, "SET myinteger -555");
    assert_eq!(run(&mut r, "STRLEN myinteger"), int(4));
    r.run(["SET", "mystring", "foozzz0123456789 baz"]);
    assert_eq!(run(&mut r, "STRLEN mystring"), int(20));
}

// --- INCR family ------------------------------------------------------------------------

#[test]
fn incr_and_decr() {
    let mut r = runner();
    assert_eq!(run(&mut r, "INCR novar"), int(1));
    assert_eq!(run(&mut r, "GET novar"), bulk("1"));
    assert_eq!(run(&mut r, "INCR novar"), int(2));
    run(&mut r, "SET novar 100");
    assert_eq!(run(&mut r, "INCR novar"), int(101));
    run(&mut r, "SET novar 17179869184");
    assert_eq!(run(&mut r, "INCR novar"), int(17_179_869_185));
    run(&mut r, "SET novar 17179869184");
    assert_eq!(run(&mut r, "INCRBY novar 17179869184"), int(34_359_738_368));
    run(&mut r, "SET novar 17179869184");
    assert_eq!(run(&mut r, "DECRBY novar 17179869185"), int(-1));
    assert_eq!(run(&mut r, "DECR novar"), int(-2));
    assert_eq!(encoding(&r, "novar"), "int");
    assert_eq!(r.server.dbs[0].entry(0).value, Value::Int(-2));
}

#[test]
fn incr_errors() {
    let mut r = runner();
    for value in [
        "    11",
        "11    ",
        "    11    ",
        "abc",
        "1.5",
        "+1",
        "01",
        "",
    ] {
        r.run(["SET", "novar", value]);
        assert_eq!(run(&mut r, "INCR novar"), err(NOT_INT), "{value:?}");
    }
    run(&mut r, "SET x 0");
    assert_eq!(
        run(&mut r, "DECRBY x -9223372036854775808"),
        err("ERR decrement would overflow")
    );
    assert_eq!(run(&mut r, "INCRBY x abc"), err(NOT_INT));
    assert_eq!(run(&mut r, "INCRBY x 9223372036854775808"), err(NOT_INT));
    run(&mut r, "SET x 9223372036854775807");
    assert_eq!(
        run(&mut r, "INCR x"),
        err("ERR increment or decrement would overflow")
    );
    run(&mut r, "SET x -9223372036854775808");
    assert_eq!(
        run(&mut r, "DECR x"),
        err("ERR increment or decrement would overflow")
    );
    assert_eq!(run(&mut r, "GET x"), bulk("-9223372036854775808"));
}

#[test]
fn incr_keeps_ttl_and_works_on_appended_strings() {
    let mut r = runner();
    run(&mut r, "SET n 1 EX 100");
    assert_eq!(run(&mut r, "INCR n"), int(2));
    assert_eq!(expire_at(&r, "n"), Some(NOW + 100_000));
    run(&mut r, "APPEND n 0");
    assert_eq!(encoding(&r, "n"), "raw");
    assert_eq!(run(&mut r, "INCRBY n 5"), int(25));
    assert_eq!(encoding(&r, "n"), "int");
}

#[test]
fn incrbyfloat() {
    let mut r = runner();
    assert_eq!(run(&mut r, "INCRBYFLOAT novar 1"), bulk("1"));
    assert_eq!(run(&mut r, "GET novar"), bulk("1"));
    assert_eq!(run(&mut r, "INCRBYFLOAT novar 0.25"), bulk("1.25"));
    assert_eq!(run(&mut r, "GET novar"), bulk("1.25"));
    run(&mut r, "SET novar 1.5");
    assert_eq!(run(&mut r, "INCRBYFLOAT novar 1.5"), bulk("3"));
    // Never int-encoded, even when it reads as an integer.
    assert_eq!(encoding(&r, "novar"), "embstr");
    run(&mut r, "SET novar 17179869184");
    assert_eq!(run(&mut r, "INCRBYFLOAT novar 1.5"), bulk("17179869185.5"));
    run(&mut r, "SET novar 17179869184");
    assert_eq!(
        run(&mut r, "INCRBYFLOAT novar 17179869184"),
        bulk("34359738368")
    );
    run(&mut r, "SET novar 10.5");
    assert_eq!(run(&mut r, "INCRBYFLOAT novar 0.1"), bulk("10.6"));
    // Known divergence: Redis answers "-0.1" (long double, then %.17Lf); f64 shows its error.
    run(&mut r, "SET foo 1");
    assert_eq!(
        run(&mut r, "INCRBYFLOAT foo -1.1"),
        bulk("-0.10000000000000009")
    );
    run(&mut r, "SET foo 5.0e3");
    assert_eq!(run(&mut r, "INCRBYFLOAT foo 1"), bulk("5001"));
}

#[test]
fn incrbyfloat_has_no_negative_zero_and_keeps_ttl() {
    let mut r = runner();
    let third = format!("{}", 1.0_f64 / 41.0);
    r.run(["INCRBYFLOAT", "foo", &third]);
    r.run(["INCRBYFLOAT", "foo", &format!("-{third}")]);
    assert_eq!(run(&mut r, "GET foo"), bulk("0"));
    run(&mut r, "SET z 0");
    assert_eq!(run(&mut r, "INCRBYFLOAT z -0.0"), bulk("0"));
    run(&mut r, "SET t 1 PX 5000");
    run(&mut r, "INCRBYFLOAT t 1");
    assert_eq!(expire_at(&r, "t"), Some(NOW + 5_000));
}

#[test]
fn incrbyfloat_errors() {
    let mut r = runner();
    for value in ["    11", "11    ", " 11 ", "abc", "nan", ""] {
        r.run(["SET", "novar", value]);
        assert_eq!(
            run(&mut r, "INCRBYFLOAT novar 1.0"),
            err(NOT_FLOAT),
            "{value:?}"
        );
    }
    run(&mut r, "SET foo 0");
    assert_eq!(
        run(&mut r, "INCRBYFLOAT foo +inf"),
        err("ERR increment would produce NaN or Infinity")
    );
    // Known divergence: Redis's long double holds 2e308; our f64 overflows to infinity.
    run(&mut r, "SET foo 1e308");
    assert_eq!(
        run(&mut r, "INCRBYFLOAT foo 1e308"),
        err("ERR increment would produce NaN or Infinity")
    );
    assert_eq!(run(&mut r, "INCRBYFLOAT foo abc"), err(NOT_FLOAT));
    assert_eq!(run(&mut r, "INCRBYFLOAT foo nan"), err(NOT_FLOAT));
    // "string to double with null terminator"
    run(&mut r, "SET foo 1");
    run(&mut r, "SETRANGE foo 2 2");
    assert_eq!(run(&mut r, "INCRBYFLOAT foo 1"), err(NOT_FLOAT));
}

// --- GETRANGE / SETRANGE ----------------------------------------------------------------

#[test]
fn getrange() {
    let mut r = runner();
    assert_eq!(run(&mut r, "GETRANGE mykey 0 -1"), bulk(""));
    r.run(["SET", "mykey", "Hello World"]);
    for (start, end, expected) in [
        ("0", "3", "Hell"),
        ("0", "-1", "Hello World"),
        ("-4", "-1", "orld"),
        ("5", "3", ""),
        ("5", "5000", " World"),
        ("-5000", "10000", "Hello World"),
        ("-1", "-5", ""),
        ("0", "4294967297", "Hello World"),
        ("-9223372036854775808", "9223372036854775807", "Hello World"),
    ] {
        assert_eq!(r.run(["GETRANGE", "mykey", start, end]), bulk(expected));
    }
    run(&mut r, "SET mykey 1234");
    for (start, end, expected) in [
        ("0", "2", "123"),
        ("0", "-1", "1234"),
        ("-3", "-1", "234"),
        ("5", "3", ""),
        ("3", "5000", "4"),
        ("-5000", "10000", "1234"),
    ] {
        assert_eq!(r.run(["GETRANGE", "mykey", start, end]), bulk(expected));
    }
    assert_eq!(run(&mut r, "SUBSTR mykey 1 2"), bulk("23"));
    r.run(["SET", "empty", ""]);
    assert_eq!(run(&mut r, "GETRANGE empty 0 -1"), bulk(""));
    assert_eq!(run(&mut r, "GETRANGE mykey a 1"), err(NOT_INT));
    assert_eq!(run(&mut r, "GETRANGE missing 0 b"), err(NOT_INT));
}

#[test]
fn getrange_fuzz_against_a_simple_model() {
    // Tcl's `string range` with non-negative indexes: clamp both ends to the string.
    let text: Vec<u8> = (0..200u8).map(|i| i.wrapping_mul(37)).collect();
    let mut r = runner();
    r.run([b"SET".as_slice(), b"bin", &text]);
    let mut seed = 12345u64;
    for _ in 0..500 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        let start = (seed >> 33) % 300;
        let end = (seed >> 13) % 300;
        let expected = if start > end || start >= 200 {
            &[][..]
        } else {
            &text[start as usize..=(end.min(199) as usize)]
        };
        let reply = r.run(["GETRANGE", "bin", &start.to_string(), &end.to_string()]);
        assert_eq!(reply, Frame::bulk(expected), "{start} {end}");
    }
}

#[test]
fn setrange_on_missing_and_string_keys() {
    let mut r = runner();
    assert_eq!(run(&mut r, "SETRANGE mykey 0 foo"), int(3));
    assert_eq!(run(&mut r, "GET mykey"), bulk("foo"));
    assert_eq!(encoding(&r, "mykey"), "raw");
    assert_eq!(r.run(["SETRANGE", "new", "0", ""]), int(0));
    assert_eq!(r.run(["SETRANGE", "new", "999999999999", ""]), int(0));
    assert!(!exists(&r, "new"));
    assert_eq!(run(&mut r, "SETRANGE new 1 foo"), int(4));
    assert_eq!(run(&mut r, "GET new"), bulk("\0foo"));

    for (offset, patch, len, expected) in [
        ("0", "b", 3, "boo"),
        ("0", "", 3, "foo"),
        ("1", "b", 3, "fbo"),
        ("4", "bar", 7, "foo\0bar"),
    ] {
        run(&mut r, "SET mykey foo");
        assert_eq!(r.run(["SETRANGE", "mykey", offset, patch]), int(len));
        assert_eq!(run(&mut r, "GET mykey"), bulk(expected));
    }
    run(&mut r, "SET t v EX 100");
    run(&mut r, "SETRANGE t 3 x");
    assert_eq!(expire_at(&r, "t"), Some(NOW + 100_000));
}

#[test]
fn setrange_on_integer_encoded_keys() {
    let mut r = runner();
    for (offset, patch, len, expected, enc) in [
        ("0", "2", 4, "2234", "raw"),
        ("0", "", 4, "1234", "int"),
        ("1", "3", 4, "1334", "raw"),
        ("5", "2", 6, "1234\x002", "raw"),
    ] {
        run(&mut r, "SET mykey 1234");
        assert_eq!(encoding(&r, "mykey"), "int");
        assert_eq!(r.run(["SETRANGE", "mykey", offset, patch]), int(len));
        assert_eq!(encoding(&r, "mykey"), enc);
        assert_eq!(run(&mut r, "GET mykey"), bulk(expected));
    }
}

#[test]
fn setrange_errors() {
    let too_big = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
    let mut r = runner();
    assert_eq!(run(&mut r, "SETRANGE mykey 536870908 world"), err(too_big));
    run(&mut r, "SET mykey hello");
    assert_eq!(
        run(&mut r, "SETRANGE mykey -1 world"),
        err("ERR offset is out of range")
    );
    assert_eq!(run(&mut r, "SETRANGE mykey 536870908 world"), err(too_big));
    assert_eq!(run(&mut r, "SETRANGE mykey x world"), err(NOT_INT));
    for offset in ["9223372036854775807", "2147483647"] {
        assert_eq!(r.run(["SETRANGE", "K", offset, "A"]), err(too_big));
    }
    assert_eq!(run(&mut r, "GET mykey"), bulk("hello"));
    let mut small = small_bulk_len(10);
    assert_eq!(run(&mut small, "SETRANGE k 5 12345"), int(10));
    assert_eq!(run(&mut small, "SETRANGE k 6 12345"), err(too_big));
}

// --- GETDEL / GETEX ---------------------------------------------------------------------

#[test]
fn getdel() {
    let mut r = runner();
    run(&mut r, "SET foo bar");
    let dirty = r.server.dirty;
    assert_eq!(run(&mut r, "GETDEL foo"), bulk("bar"));
    assert_eq!(r.server.dirty, dirty + 1);
    assert_eq!(run(&mut r, "GETDEL foo"), Frame::Null);
    assert!(!exists(&r, "foo"));
}

#[test]
fn getex_options() {
    let mut r = runner();
    run(&mut r, "SET foo bar");
    assert_eq!(run(&mut r, "GETEX foo ex 10"), bulk("bar"));
    assert_eq!(expire_at(&r, "foo"), Some(NOW + 10_000));
    assert_eq!(run(&mut r, "GETEX foo px 10000"), bulk("bar"));
    assert_eq!(expire_at(&r, "foo"), Some(NOW + 10_000));
    run(&mut r, "GETEX foo exat 2000");
    assert_eq!(expire_at(&r, "foo"), Some(2_000_000));
    run(&mut r, "GETEX foo PXAT 2000500");
    assert_eq!(expire_at(&r, "foo"), Some(2_000_500));
    assert_eq!(run(&mut r, "GETEX foo"), bulk("bar"));
    assert_eq!(expire_at(&r, "foo"), Some(2_000_500));
    let dirty = r.server.dirty;
    assert_eq!(run(&mut r, "GETEX foo persist"), bulk("bar"));
    assert_eq!(expire_at(&r, "foo"), None);
    assert_eq!(run(&mut r, "GETEX foo PERSIST PERSIST"), bulk("bar"));
    assert_eq!(r.server.dirty, dirty + 1);
    assert_eq!(run(&mut r, "GETEX missing EX 10"), Frame::Null);
}

#[test]
fn getex_with_a_past_absolute_time_deletes_the_key() {
    let mut r = runner();
    run(&mut r, "SET foo bar EX 100");
    assert_eq!(run(&mut r, "GETEX foo EXAT 500"), bulk("bar"));
    assert!(!exists(&r, "foo"));
    run(&mut r, "SET foo bar");
    assert_eq!(run(&mut r, "GETEX foo PXAT 1000000"), bulk("bar"));
    assert!(!exists(&r, "foo"));
}

#[test]
fn getex_errors() {
    let mut r = runner();
    run(&mut r, "SET foo bar");
    for line in [
        "GETEX foo non-existent-option",
        "GETEX foo EX",
        "GETEX foo PERSIST EX 10",
        "GETEX foo EX 10 PERSIST",
        "GETEX foo EX 10 PX 10",
        "GETEX foo KEEPTTL",
        "GETEX foo GET",
        "GETEX foo NX",
    ] {
        assert_eq!(run(&mut r, line), err(SYNTAX), "{line}");
    }
    assert_eq!(
        run(&mut r, "GETEX foo EX 10000000000000000"),
        err(INVALID_GETEX)
    );
    assert_eq!(
        run(&mut r, "GETEX foo EX -9999999999999999"),
        err(INVALID_GETEX)
    );
    assert_eq!(run(&mut r, "GETEX foo EX 0"), err(INVALID_GETEX));
    assert_eq!(run(&mut r, "GETEX foo EX abc"), err(NOT_INT));
    // A missing key answers nil before the expire time is looked at.
    assert_eq!(run(&mut r, "GETEX missing EX -5"), Frame::Null);
    assert_eq!(expire_at(&r, "foo"), None);
    assert_eq!(
        r.run(["GETEX"]),
        err("ERR wrong number of arguments for 'getex' command")
    );
}

// --- LCS --------------------------------------------------------------------------------

const RNA1: &str = "CACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTTCGTCCGGGTGTG";
const RNA2: &str = "ATTAAAGGTTTATACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT";
const RNA_LCS: &str = "ACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT";

fn range(a: (i64, i64), b: (i64, i64), len: Option<i64>) -> Frame {
    let mut item = vec![
        array(vec![int(a.0), int(a.1)]),
        array(vec![int(b.0), int(b.1)]),
    ];
    item.extend(len.map(int));
    array(item)
}

fn idx_reply(matches: Vec<Frame>, len: i64) -> Frame {
    Frame::Map(vec![
        (bulk("matches"), array(matches)),
        (bulk("len"), int(len)),
    ])
}

#[test]
fn lcs_on_the_redis_test_strings() {
    let mut r = runner();
    r.run(["SET", "virus1", RNA1]);
    r.run(["SET", "virus2", RNA2]);
    assert_eq!(run(&mut r, "LCS virus1 virus2"), bulk(RNA_LCS));
    let len = i64::try_from(RNA_LCS.len()).unwrap();
    assert_eq!(run(&mut r, "LCS virus1 virus2 LEN"), int(len));
    let spans = [
        ((238, 238), (239, 239), 1),
        ((236, 236), (238, 238), 1),
        ((229, 230), (236, 237), 2),
        ((224, 224), (235, 235), 1),
        ((1, 222), (13, 234), 222),
    ];
    assert_eq!(
        run(&mut r, "LCS virus1 virus2 IDX"),
        idx_reply(
            spans.iter().map(|&(a, b, _)| range(a, b, None)).collect(),
            len
        )
    );
    assert_eq!(
        run(&mut r, "LCS virus1 virus2 IDX WITHMATCHLEN"),
        idx_reply(
            spans
                .iter()
                .map(|&(a, b, l)| range(a, b, Some(l)))
                .collect(),
            len
        )
    );
    assert_eq!(
        run(&mut r, "LCS virus1 virus2 IDX WITHMATCHLEN MINMATCHLEN 5"),
        idx_reply(vec![range((1, 222), (13, 234), Some(222))], len)
    );
}

#[test]
fn lcs_small_cases() {
    let mut r = runner();
    run(&mut r, "SET a ohmytext");
    run(&mut r, "SET b mynewtext");
    assert_eq!(run(&mut r, "LCS a b"), bulk("mytext"));
    assert_eq!(run(&mut r, "LCS a b len"), int(6));
    assert_eq!(
        run(&mut r, "LCS a b idx"),
        idx_reply(
            vec![range((4, 7), (5, 8), None), range((2, 3), (0, 1), None)],
            6
        )
    );
    assert_eq!(
        run(&mut r, "LCS a b idx minmatchlen 4 withmatchlen"),
        idx_reply(vec![range((4, 7), (5, 8), Some(4))], 6)
    );
    assert_eq!(run(&mut r, "LCS a b len len minmatchlen -5"), int(6));
    assert_eq!(run(&mut r, "LCS a missing"), bulk(""));
    assert_eq!(run(&mut r, "LCS x y idx"), idx_reply(vec![], 0));
    run(&mut r, "SET n 12345");
    run(&mut r, "SET m 2x4");
    assert_eq!(run(&mut r, "LCS n m"), bulk("24"));
}

#[test]
fn lcs_errors() {
    let mut r = runner();
    run(&mut r, "SET a ohmytext");
    run(&mut r, "SET b mynewtext");
    assert_eq!(
        run(&mut r, "LCS a b len idx"),
        err("ERR If you want both the length and indexes, please just use IDX.")
    );
    assert_eq!(run(&mut r, "LCS a b len idx foo"), err(SYNTAX));
    assert_eq!(run(&mut r, "LCS a b minmatchlen"), err(SYNTAX));
    assert_eq!(run(&mut r, "LCS a b minmatchlen x"), err(NOT_INT));
    assert_eq!(run(&mut r, "LCS a b foo"), err(SYNTAX));
    let mut small = small_bulk_len(64);
    run(&mut small, "SET a ohmytext");
    run(&mut small, "SET b mynewtext");
    assert_eq!(
        run(&mut small, "LCS a b"),
        err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
    );
    assert_eq!(run(&mut small, "LCS a x"), bulk(""));
}

#[test]
fn resp3_nulls_are_plain_nulls() {
    let mut r = runner();
    r.set_resp(oxidis_protocol::RespVersion::Resp3);
    assert_eq!(run(&mut r, "GET nothing"), Frame::Null);
    assert_eq!(run(&mut r, "SET k v XX"), Frame::Null);
}
