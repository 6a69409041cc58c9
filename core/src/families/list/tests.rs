//! Unit tests of the list family, with replies and error texts checked against Redis 7.0.

use oxidis_protocol::RespVersion;

use super::*;
use crate::config::Config;
use crate::errors::{NO_SUCH_KEY, NOT_AN_INTEGER, SYNTAX, WRONG_TYPE};
use crate::testing::{CommandRunner, bulk, err};

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

fn bulks(items: &[&str]) -> Frame {
    Frame::Array(items.iter().map(|s| bulk(s)).collect())
}

fn ints(items: &[i64]) -> Frame {
    Frame::Array(items.iter().map(|&n| int(n)).collect())
}

fn exists(r: &mut CommandRunner, key: &str) -> bool {
    r.server.dbs[0].find(key.as_bytes()).is_some()
}

#[test]
fn lpush_and_rpush_create_and_grow_the_list() {
    let mut r = runner();
    assert_eq!(run(&mut r, "RPUSH l b c"), int(2));
    assert_eq!(run(&mut r, "LPUSH l a z"), int(4));
    assert_eq!(run(&mut r, "LRANGE l 0 -1"), bulks(&["z", "a", "b", "c"]));
    assert_eq!(run(&mut r, "OBJECT ENCODING l"), bulk("quicklist"));
    assert_eq!(
        run(&mut r, "TYPE l"),
        Frame::Simple(Bytes::from_static(b"list"))
    );
    run(&mut r, "SET s v");
    assert_eq!(run(&mut r, "LPUSH s a"), err(WRONG_TYPE));
    assert_eq!(run(&mut r, "RPUSH s a"), err(WRONG_TYPE));
    assert_eq!(
        run(&mut r, "LPUSH l"),
        err("ERR wrong number of arguments for 'lpush' command")
    );
}

#[test]
fn pushx_only_touches_existing_lists() {
    let mut r = runner();
    assert_eq!(run(&mut r, "LPUSHX l a"), int(0));
    assert_eq!(run(&mut r, "RPUSHX l a"), int(0));
    assert!(!exists(&mut r, "l"));
    run(&mut r, "RPUSH l b");
    assert_eq!(run(&mut r, "LPUSHX l a"), int(2));
    assert_eq!(run(&mut r, "RPUSHX l c d"), int(4));
    assert_eq!(run(&mut r, "LRANGE l 0 -1"), bulks(&["a", "b", "c", "d"]));
    run(&mut r, "SET s v");
    assert_eq!(run(&mut r, "LPUSHX s a"), err(WRONG_TYPE));
}

#[test]
fn linsert_before_after_and_missing_pivot() {
    let mut r = runner();
    assert_eq!(run(&mut r, "LINSERT l BEFORE a b"), int(0));
    run(&mut r, "RPUSH l a b c");
    assert_eq!(run(&mut r, "LINSERT l before b x"), int(4));
    assert_eq!(run(&mut r, "LINSERT l AFTER c y"), int(5));
    assert_eq!(run(&mut r, "LINSERT l AFTER zz y"), int(-1));
    assert_eq!(
        run(&mut r, "LRANGE l 0 -1"),
        bulks(&["a", "x", "b", "c", "y"])
    );
    // The syntax check comes before the key lookup.
    assert_eq!(run(&mut r, "LINSERT nokey middle a b"), err(SYNTAX));
    run(&mut r, "SET s v");
    assert_eq!(run(&mut r, "LINSERT s AFTER a b"), err(WRONG_TYPE));
}

#[test]
fn llen_and_lindex() {
    let mut r = runner();
    assert_eq!(run(&mut r, "LLEN l"), int(0));
    assert_eq!(run(&mut r, "LINDEX l 0"), Frame::Null);
    assert_eq!(run(&mut r, "LINDEX l notanumber"), Frame::Null);
    run(&mut r, "RPUSH l a b c");
    assert_eq!(run(&mut r, "LLEN l"), int(3));
    assert_eq!(run(&mut r, "LINDEX l 0"), bulk("a"));
    assert_eq!(run(&mut r, "LINDEX l -1"), bulk("c"));
    assert_eq!(run(&mut r, "LINDEX l -3"), bulk("a"));
    assert_eq!(run(&mut r, "LINDEX l -4"), Frame::Null);
    assert_eq!(run(&mut r, "LINDEX l 3"), Frame::Null);
    assert_eq!(run(&mut r, "LINDEX l x"), err(NOT_AN_INTEGER));
    run(&mut r, "SET s v");
    assert_eq!(run(&mut r, "LLEN s"), err(WRONG_TYPE));
    assert_eq!(run(&mut r, "LINDEX s 0"), err(WRONG_TYPE));
}

#[test]
fn lset_errors_and_replacement() {
    let mut r = runner();
    assert_eq!(run(&mut r, "LSET l 0 x"), err(NO_SUCH_KEY));
    run(&mut r, "RPUSH l a b c");
    assert_eq!(run(&mut r, "LSET l 1 x"), Frame::ok());
    assert_eq!(run(&mut r, "LSET l -1 y"), Frame::ok());
    assert_eq!(run(&mut r, "LSET l 3 z"), err("ERR index out of range"));
    assert_eq!(run(&mut r, "LSET l -4 z"), err("ERR index out of range"));
    assert_eq!(run(&mut r, "LSET l x z"), err(NOT_AN_INTEGER));
    assert_eq!(run(&mut r, "LRANGE l 0 -1"), bulks(&["a", "x", "y"]));
    run(&mut r, "SET s v");
    assert_eq!(run(&mut r, "LSET s 0 x"), err(WRONG_TYPE));
}

#[test]
fn lrange_clamps_like_redis() {
    let mut r = runner();
    assert_eq!(run(&mut r, "LRANGE l 0 -1"), bulks(&[]));
    run(&mut r, "RPUSH l 0 1 2 3 4 5 6 7 8 9");
    assert_eq!(
        run(&mut r, "LRANGE l 1 -2").clone(),
        bulks(&["1", "2", "3", "4", "5", "6", "7", "8"])
    );
    assert_eq!(run(&mut r, "LRANGE l -3 -1"), bulks(&["7", "8", "9"]));
    assert_eq!(run(&mut r, "LRANGE l -100 1"), bulks(&["0", "1"]));
    assert_eq!(run(&mut r, "LRANGE l 8 100"), bulks(&["8", "9"]));
    assert_eq!(run(&mut r, "LRANGE l 6 2"), bulks(&[]));
    assert_eq!(run(&mut r, "LRANGE l 10 20"), bulks(&[]));
    assert_eq!(run(&mut r, "LRANGE l 0 -11"), bulks(&[]));
    assert_eq!(
        run(&mut r, "LRANGE l -9223372036854775808 9223372036854775807").clone(),
        run(&mut r, "LRANGE l 0 -1")
    );
    // Integers are parsed before the key is looked up.
    assert_eq!(run(&mut r, "LRANGE nokey a 1"), err(NOT_AN_INTEGER));
    run(&mut r, "SET s v");
    assert_eq!(run(&mut r, "LRANGE s 0 -1"), err(WRONG_TYPE));
}

#[test]
fn ltrim_keeps_a_range_and_deletes_empty_lists() {
    let mut r = runner();
    assert_eq!(run(&mut r, "LTRIM l 0 1"), Frame::ok());
    run(&mut r, "RPUSH l 0 1 2 3 4 5");
    assert_eq!(run(&mut r, "LTRIM l 1 -2"), Frame::ok());
    assert_eq!(run(&mut r, "LRANGE l 0 -1"), bulks(&["1", "2", "3", "4"]));
    assert_eq!(run(&mut r, "LTRIM l -2 100"), Frame::ok());
    assert_eq!(run(&mut r, "LRANGE l 0 -1"), bulks(&["3", "4"]));
    assert_eq!(run(&mut r, "LTRIM l 5 10"), Frame::ok());
    assert!(!exists(&mut r, "l"));
    assert_eq!(run(&mut r, "LTRIM nokey x 1"), err(NOT_AN_INTEGER));
    run(&mut r, "SET s v");
    assert_eq!(run(&mut r, "LTRIM s 0 1"), err(WRONG_TYPE));
}

#[test]
fn lpos_rank_count_and_maxlen() {
    let mut r = runner();
    run(&mut r, "RPUSH mylist a b c 1 2 3 c c");
    assert_eq!(run(&mut r, "LPOS mylist a"), int(0));
    assert_eq!(run(&mut r, "LPOS mylist c"), int(2));
    assert_eq!(run(&mut r, "LPOS mylist c RANK 2"), int(6));
    assert_eq!(run(&mut r, "LPOS mylist c RANK 4"), Frame::Null);
    assert_eq!(run(&mut r, "LPOS mylist c RANK -1"), int(7));
    assert_eq!(run(&mut r, "LPOS mylist c RANK -2"), int(6));
    assert_eq!(
        run(&mut r, "LPOS mylist c RANK -9223372036854775808"),
        int(7)
    );
    assert_eq!(run(&mut r, "LPOS mylist c RANK 0"), err(RANK_ZERO));
    assert_eq!(run(&mut r, "LPOS mylist c COUNT 0"), ints(&[2, 6, 7]));
    assert_eq!(run(&mut r, "LPOS mylist c COUNT 2"), ints(&[2, 6]));
    assert_eq!(run(&mut r, "LPOS mylist c COUNT 0 RANK 2"), ints(&[6, 7]));
    assert_eq!(run(&mut r, "LPOS mylist c COUNT 2 RANK -1"), ints(&[7, 6]));
    assert_eq!(run(&mut r, "LPOS mylist x COUNT 2 RANK -1"), ints(&[]));
    assert_eq!(run(&mut r, "LPOS mylist c COUNT 0 MAXLEN 1"), ints(&[]));
    assert_eq!(
        run(&mut r, "LPOS mylist c COUNT 0 MAXLEN 3 RANK -1"),
        ints(&[7, 6])
    );
    assert_eq!(
        run(&mut r, "LPOS mylist c COUNT 0 MAXLEN 7 RANK 2"),
        ints(&[6])
    );
    assert_eq!(run(&mut r, "LPOS mylistxxx c COUNT 0 RANK 2"), ints(&[]));
    assert_eq!(run(&mut r, "LPOS mylistxxx c"), Frame::Null);
    assert_eq!(
        run(&mut r, "LPOS mylist c COUNT -1"),
        err("ERR COUNT can't be negative")
    );
    assert_eq!(
        run(&mut r, "LPOS mylist c COUNT x"),
        err("ERR COUNT can't be negative")
    );
    assert_eq!(
        run(&mut r, "LPOS mylist c MAXLEN -1"),
        err("ERR MAXLEN can't be negative")
    );
    assert_eq!(run(&mut r, "LPOS mylist c RANK x"), err(NOT_AN_INTEGER));
    assert_eq!(run(&mut r, "LPOS mylist c RANK"), err(SYNTAX));
    assert_eq!(run(&mut r, "LPOS mylist c FOO 1"), err(SYNTAX));
    run(&mut r, "SET s v");
    assert_eq!(run(&mut r, "LPOS s a"), err(WRONG_TYPE));
}

#[test]
fn lrem_from_either_end() {
    let mut r = runner();
    assert_eq!(run(&mut r, "LREM l 0 a"), int(0));
    run(&mut r, "RPUSH l a b a c a a");
    assert_eq!(run(&mut r, "LREM l -2 a"), int(2));
    assert_eq!(run(&mut r, "LRANGE l 0 -1"), bulks(&["a", "b", "a", "c"]));
    assert_eq!(run(&mut r, "LREM l 1 a"), int(1));
    assert_eq!(run(&mut r, "LRANGE l 0 -1"), bulks(&["b", "a", "c"]));
    assert_eq!(run(&mut r, "LREM l 0 zz"), int(0));
    assert_eq!(run(&mut r, "LREM l x a"), err(NOT_AN_INTEGER));
    run(&mut r, "RPUSH k x x");
    assert_eq!(run(&mut r, "LREM k 0 x"), int(2));
    assert!(!exists(&mut r, "k"));
    run(&mut r, "SET s v");
    assert_eq!(run(&mut r, "LREM s 0 a"), err(WRONG_TYPE));
}

#[test]
fn lpop_rpop_with_and_without_count() {
    let mut r = runner();
    assert_eq!(run(&mut r, "LPOP l"), Frame::Null);
    assert_eq!(run(&mut r, "LPOP l 2"), Frame::NullArray);
    assert_eq!(run(&mut r, "RPOP l 0"), Frame::NullArray);
    run(&mut r, "RPUSH l a b c d e f");
    assert_eq!(run(&mut r, "LPOP l"), bulk("a"));
    assert_eq!(run(&mut r, "RPOP l"), bulk("f"));
    assert_eq!(run(&mut r, "LPOP l 0"), bulks(&[]));
    assert_eq!(run(&mut r, "LPOP l 1"), bulks(&["b"]));
    assert_eq!(run(&mut r, "RPOP l 2"), bulks(&["e", "d"]));
    assert_eq!(run(&mut r, "RPOP l 10"), bulks(&["c"]));
    assert!(!exists(&mut r, "l"));
    assert_eq!(
        run(&mut r, "LPOP l -1"),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(
        run(&mut r, "LPOP l x"),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(
        run(&mut r, "LPOP l 1 2"),
        err("ERR wrong number of arguments for 'lpop' command")
    );
    run(&mut r, "SET s v");
    assert_eq!(run(&mut r, "LPOP s"), err(WRONG_TYPE));
    assert_eq!(run(&mut r, "RPOP s 0"), err(WRONG_TYPE));
}

#[test]
fn pop_nil_shapes_follow_the_protocol() {
    let mut r = runner();
    r.set_resp(RespVersion::Resp3);
    // Null and NullArray both encode as `_` in RESP3; `*-1` vs `$-1` in RESP2.
    assert_eq!(run(&mut r, "LPOP l 1"), Frame::NullArray);
    assert_eq!(run(&mut r, "RPOP l"), Frame::Null);
    assert_eq!(run(&mut r, "LMPOP 1 l LEFT"), Frame::NullArray);
}

#[test]
fn lmpop_pops_from_the_first_non_empty_list() {
    let mut r = runner();
    assert_eq!(run(&mut r, "LMPOP 2 a b LEFT COUNT 10"), Frame::NullArray);
    run(&mut r, "RPUSH b 1 2 3 4 5");
    let reply = |key: &str, items: &[&str]| Frame::Array(vec![bulk(key), bulks(items)]);
    assert_eq!(run(&mut r, "LMPOP 2 a b RIGHT"), reply("b", &["5"]));
    assert_eq!(
        run(&mut r, "LMPOP 2 a b left count 2"),
        reply("b", &["1", "2"])
    );
    run(&mut r, "RPUSH a x");
    assert_eq!(run(&mut r, "LMPOP 2 a b LEFT COUNT 5"), reply("a", &["x"]));
    assert!(!exists(&mut r, "a"));
    assert_eq!(
        run(&mut r, "LMPOP 2 b b RIGHT COUNT 10"),
        reply("b", &["4", "3"])
    );
    assert!(!exists(&mut r, "b"));
    run(&mut r, "SET s v");
    assert_eq!(run(&mut r, "LMPOP 2 nokey s LEFT"), err(WRONG_TYPE));
}

#[test]
fn lmpop_argument_errors() {
    let mut r = runner();
    let numkeys = err("ERR numkeys should be greater than 0");
    let count = err("ERR count should be greater than 0");
    assert_eq!(
        run(&mut r, "LMPOP 1 l"),
        err("ERR wrong number of arguments for 'lmpop' command")
    );
    assert_eq!(run(&mut r, "LMPOP 0 l LEFT"), numkeys);
    assert_eq!(run(&mut r, "LMPOP a l LEFT"), numkeys);
    assert_eq!(run(&mut r, "LMPOP -1 l LEFT"), numkeys);
    assert_eq!(run(&mut r, "LMPOP 5 l LEFT"), err(SYNTAX));
    assert_eq!(run(&mut r, "LMPOP 1 l bad_where"), err(SYNTAX));
    assert_eq!(run(&mut r, "LMPOP 1 l LEFT bar_arg"), err(SYNTAX));
    assert_eq!(run(&mut r, "LMPOP 1 l RIGHT LEFT"), err(SYNTAX));
    assert_eq!(run(&mut r, "LMPOP 1 l COUNT"), err(SYNTAX));
    assert_eq!(run(&mut r, "LMPOP 1 l LEFT COUNT 1 COUNT 2"), err(SYNTAX));
    assert_eq!(run(&mut r, "LMPOP 1 l LEFT COUNT 0"), count);
    assert_eq!(run(&mut r, "LMPOP 1 l LEFT COUNT a"), count);
    assert_eq!(run(&mut r, "LMPOP 1 l LEFT COUNT -1"), count);
}

#[test]
fn lmove_and_rpoplpush() {
    let mut r = runner();
    assert_eq!(run(&mut r, "LMOVE src dst LEFT RIGHT"), Frame::Null);
    assert_eq!(run(&mut r, "RPOPLPUSH src dst"), Frame::Null);
    assert!(!exists(&mut r, "dst"));
    run(&mut r, "RPUSH src a b c");
    assert_eq!(run(&mut r, "LMOVE src dst LEFT RIGHT"), bulk("a"));
    assert_eq!(run(&mut r, "RPOPLPUSH src dst"), bulk("c"));
    assert_eq!(run(&mut r, "LRANGE dst 0 -1"), bulks(&["c", "a"]));
    assert_eq!(run(&mut r, "lmove src dst right left"), bulk("b"));
    assert!(!exists(&mut r, "src"));
    assert_eq!(run(&mut r, "LRANGE dst 0 -1"), bulks(&["b", "c", "a"]));
    // Same key: a rotation.
    assert_eq!(run(&mut r, "LMOVE dst dst LEFT RIGHT"), bulk("b"));
    assert_eq!(run(&mut r, "LRANGE dst 0 -1"), bulks(&["c", "a", "b"]));
    run(&mut r, "RPUSH one x");
    assert_eq!(run(&mut r, "RPOPLPUSH one one"), bulk("x"));
    assert_eq!(run(&mut r, "LRANGE one 0 -1"), bulks(&["x"]));
    assert_eq!(run(&mut r, "LMOVE dst other UP LEFT"), err(SYNTAX));
    assert_eq!(run(&mut r, "LMOVE dst other LEFT DOWN"), err(SYNTAX));
    // A wrong-typed destination leaves the source untouched.
    run(&mut r, "SET s v");
    assert_eq!(run(&mut r, "RPOPLPUSH dst s"), err(WRONG_TYPE));
    assert_eq!(run(&mut r, "LLEN dst"), int(3));
    assert_eq!(run(&mut r, "RPOPLPUSH s dst"), err(WRONG_TYPE));
}

#[test]
fn small_nodes_keep_every_operation_correct() {
    let config = Config {
        list_max_listpack_size: 2,
        ..Config::default()
    };
    let mut r = CommandRunner::with_config(config);
    let mut model: Vec<String> = Vec::new();
    for i in 0..20 {
        run(&mut r, &format!("RPUSH l {i}"));
        model.push(i.to_string());
    }
    run(&mut r, "LINSERT l BEFORE 5 x");
    model.insert(5, "x".into());
    run(&mut r, "LINSERT l AFTER 10 y");
    let at = model.iter().position(|e| e == "10").unwrap();
    model.insert(at + 1, "y".into());
    run(&mut r, "LSET l 7 z");
    model[7] = "z".into();
    run(&mut r, "LTRIM l 2 -3");
    model = model[2..model.len() - 2].to_vec();
    let expected: Vec<&str> = model.iter().map(String::as_str).collect();
    assert_eq!(run(&mut r, "LRANGE l 0 -1"), bulks(&expected));
    assert_eq!(
        run(&mut r, "LINDEX l -1"),
        bulk(expected[expected.len() - 1])
    );
    assert_eq!(
        run(&mut r, "LLEN l"),
        int(i64::try_from(expected.len()).unwrap())
    );
}

#[test]
fn changes_are_counted_per_element() {
    let mut r = runner();
    let dirty = |r: &CommandRunner| r.server.dirty;
    let before = dirty(&r);
    run(&mut r, "RPUSH l a b c d");
    assert_eq!(dirty(&r) - before, 4);
    run(&mut r, "LPOP l 2");
    assert_eq!(dirty(&r) - before, 6);
    run(&mut r, "LTRIM l 1 1");
    assert_eq!(dirty(&r) - before, 7);
}

#[test]
fn command_info_matches_redis() {
    let mut r = runner();
    let info = run(&mut r, "COMMAND INFO lmpop lpush rpoplpush");
    let Frame::Array(entries) = info else {
        panic!("COMMAND INFO replies an array");
    };
    let Frame::Array(lmpop) = &entries[0] else {
        panic!("an entry per command");
    };
    assert_eq!(lmpop[1], int(-4));
    assert_eq!(
        lmpop[2],
        Frame::Set(vec![
            Frame::Simple(Bytes::from_static(b"write")),
            Frame::Simple(Bytes::from_static(b"movablekeys"))
        ])
    );
    let Frame::Array(lpush) = &entries[1] else {
        panic!("an entry per command");
    };
    assert_eq!(lpush[1], int(-3));
    assert_eq!(
        (lpush[3].clone(), lpush[4].clone(), lpush[5].clone()),
        (int(1), int(1), int(1))
    );
}

#[test]
fn plain_nodes_below_the_packed_threshold_keep_every_operation_right() {
    let mut r = CommandRunner::with_config(Config {
        enable_debug_command: crate::config::ProtectedAccess::Yes,
        ..Config::default()
    });
    assert_eq!(
        r.run(["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "5gb"]),
        err("ERR argument must be a memory value bigger than 1 and smaller than 4gb")
    );
    assert_eq!(
        r.run(["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1b"]),
        Frame::ok()
    );
    let big = |c: char| c.to_string().repeat(500);
    for c in ['a', 'b', 'c'] {
        r.run(["LPUSH", "l", &big(c)]);
    }
    r.run(["LINSERT", "l", "AFTER", &big('c'), &big('x')]);
    r.run(["LSET", "l", "0", "small"]);
    assert_eq!(
        r.run(["LRANGE", "l", "0", "-1"]),
        Frame::Array(vec![
            bulk("small"),
            bulk(&big('x')),
            bulk(&big('b')),
            bulk(&big('a'))
        ])
    );
    assert_eq!(r.run(["RPOP", "l"]), bulk(&big('a')));
    assert_eq!(
        r.run(["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0"]),
        Frame::ok()
    );
    assert_eq!(r.run(["LLEN", "l"]), Frame::Integer(3));
}
