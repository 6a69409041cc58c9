//! Unit tests of the sorted set family, replies and errors checked against redis-server 7.0.

use oxidis_protocol::{Frame, RespVersion};

use crate::errors::sorted_set::*;
use crate::errors::{NOT_A_FLOAT, NOT_AN_INTEGER, NOT_POSITIVE, SYNTAX, WRONG_TYPE};
use crate::testing::{CommandRunner, bulk, err};

fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

fn arr(items: &[&str]) -> Frame {
    Frame::Array(items.iter().map(|s| bulk(s)).collect())
}

fn with_scores(items: &[(&str, f64)]) -> Frame {
    Frame::Array(
        items
            .iter()
            .flat_map(|(m, s)| [bulk(m), Frame::Double(*s)])
            .collect(),
    )
}

fn runner_with(key: &str, pairs: &[(f64, &str)]) -> CommandRunner {
    let mut r = CommandRunner::with_builtin_commands();
    let mut argv = vec!["ZADD".to_string(), key.to_string()];
    for (s, m) in pairs {
        argv.push(s.to_string());
        argv.push(m.to_string());
    }
    r.run(argv);
    r
}

fn abc() -> CommandRunner {
    runner_with("z", &[(1.0, "a"), (2.0, "b"), (3.0, "c")])
}

#[test]
fn zadd_options_and_replies() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(r.run(["ZADD", "z", "1", "a", "2", "b"]), int(2));
    assert_eq!(r.run(["ZADD", "z", "NX", "5", "a", "3", "c"]), int(1));
    assert_eq!(r.run(["ZSCORE", "z", "a"]), Frame::Double(1.0));
    assert_eq!(
        r.run(["ZADD", "z", "XX", "CH", "5", "a", "9", "new"]),
        int(1)
    );
    assert_eq!(r.run(["EXISTS", "new"]), int(0));
    assert_eq!(r.run(["ZADD", "z", "GT", "CH", "4", "a"]), int(0));
    assert_eq!(r.run(["ZADD", "z", "LT", "CH", "4", "a"]), int(1));
    assert_eq!(r.run(["ZADD", "z", "INCR", "1.5", "a"]), Frame::Double(5.5));
    assert_eq!(r.run(["ZADD", "z", "NX", "INCR", "1", "a"]), Frame::Null);
    assert_eq!(r.run(["ZADD", "nokey", "XX", "1", "a"]), int(0));
    assert_eq!(
        r.run(["ZADD", "nokey", "XX", "INCR", "1", "a"]),
        Frame::Null
    );
    assert_eq!(r.run(["EXISTS", "nokey"]), int(0));
    assert_eq!(r.run(["ZCARD", "z"]), int(3));
}

#[test]
fn zadd_errors() {
    let mut r = abc();
    assert_eq!(r.run(["ZADD", "z", "NX", "XX", "1", "a"]), err(XX_AND_NX));
    assert_eq!(r.run(["ZADD", "z", "GT", "LT", "1", "a"]), err(GT_LT_NX));
    assert_eq!(r.run(["ZADD", "z", "GT", "NX", "1", "a"]), err(GT_LT_NX));
    assert_eq!(
        r.run(["ZADD", "z", "INCR", "1", "a", "2", "b"]),
        err(INCR_SINGLE_PAIR)
    );
    assert_eq!(r.run(["ZADD", "z", "1", "a", "2"]), err(SYNTAX));
    assert_eq!(r.run(["ZADD", "z", "NX", "XX"]), err(SYNTAX));
    assert_eq!(r.run(["ZADD", "z", "x", "a"]), err(NOT_A_FLOAT));
    assert_eq!(r.run(["ZADD", "z", "nan", "a"]), err(NOT_A_FLOAT));
    // All scores are checked first: nothing was added.
    assert_eq!(r.run(["ZADD", "z", "1", "new", "x", "b"]), err(NOT_A_FLOAT));
    assert_eq!(r.run(["ZSCORE", "z", "new"]), Frame::Null);
    assert_eq!(
        r.run(["ZINCRBY", "z", "inf", "a"]),
        Frame::Double(f64::INFINITY)
    );
    assert_eq!(r.run(["ZINCRBY", "z", "-inf", "a"]), err(SCORE_NAN));
    assert_eq!(r.run(["ZINCRBY", "z", "x", "a"]), err(NOT_A_FLOAT));
    r.run(["SET", "s", "x"]);
    assert_eq!(r.run(["ZADD", "s", "1", "a"]), err(WRONG_TYPE));
    assert_eq!(r.run(["ZCARD", "s"]), err(WRONG_TYPE));
}

#[test]
fn zincrby_creates_and_adds() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(r.run(["ZINCRBY", "z", "2", "a"]), Frame::Double(2.0));
    assert_eq!(r.run(["ZINCRBY", "z", "-0.5", "a"]), Frame::Double(1.5));
}

#[test]
fn zrem_deletes_the_emptied_key() {
    let mut r = abc();
    assert_eq!(r.run(["ZREM", "z", "a", "x"]), int(1));
    assert_eq!(r.run(["ZREM", "nokey", "a"]), int(0));
    assert_eq!(r.run(["ZREM", "z", "b", "c", "d"]), int(2));
    assert_eq!(r.run(["EXISTS", "z"]), int(0));
}

#[test]
fn single_member_reads() {
    let mut r = abc();
    assert_eq!(
        r.run(["ZMSCORE", "z", "a", "x", "c"]),
        Frame::Array(vec![Frame::Double(1.0), Frame::Null, Frame::Double(3.0)])
    );
    assert_eq!(
        r.run(["ZMSCORE", "nokey", "a"]),
        Frame::Array(vec![Frame::Null])
    );
    assert_eq!(r.run(["ZRANK", "z", "c"]), int(2));
    assert_eq!(r.run(["ZREVRANK", "z", "c"]), int(0));
    assert_eq!(r.run(["ZRANK", "z", "x"]), Frame::Null);
    assert_eq!(r.run(["ZRANK", "nokey", "x"]), Frame::Null);
    assert_eq!(r.run(["ZSCORE", "nokey", "x"]), Frame::Null);
    assert_eq!(r.run(["ZCARD", "nokey"]), int(0));
}

#[test]
fn zcount_and_zlexcount() {
    let mut r = abc();
    assert_eq!(r.run(["ZCOUNT", "z", "-inf", "+inf"]), int(3));
    assert_eq!(r.run(["ZCOUNT", "z", "(1", "3"]), int(2));
    assert_eq!(r.run(["ZCOUNT", "z", "(1", "(1"]), int(0));
    assert_eq!(r.run(["ZCOUNT", "z", "x", "3"]), err(MIN_MAX_NOT_FLOAT));
    assert_eq!(r.run(["ZCOUNT", "nokey", "0", "1"]), int(0));
    let mut r = runner_with("l", &[(0.0, "a"), (0.0, "b"), (0.0, "c"), (0.0, "d")]);
    assert_eq!(r.run(["ZLEXCOUNT", "l", "[b", "(d"]), int(2));
    assert_eq!(r.run(["ZLEXCOUNT", "l", "-", "+"]), int(4));
    assert_eq!(r.run(["ZLEXCOUNT", "l", "+", "-"]), int(0));
    assert_eq!(
        r.run(["ZLEXCOUNT", "l", "b", "+"]),
        err(MIN_MAX_NOT_STRING_RANGE)
    );
    assert_eq!(
        r.run(["ZLEXCOUNT", "l", "-a", "+"]),
        err(MIN_MAX_NOT_STRING_RANGE)
    );
}

#[test]
fn zrange_by_rank() {
    let mut r = abc();
    assert_eq!(r.run(["ZRANGE", "z", "0", "-1"]), arr(&["a", "b", "c"]));
    assert_eq!(
        r.run(["ZRANGE", "z", "-2", "100", "WITHSCORES"]),
        with_scores(&[("b", 2.0), ("c", 3.0)])
    );
    assert_eq!(r.run(["ZRANGE", "z", "0", "0", "REV"]), arr(&["c"]));
    assert_eq!(r.run(["ZREVRANGE", "z", "0", "1"]), arr(&["c", "b"]));
    assert_eq!(r.run(["ZRANGE", "z", "5", "10"]), arr(&[]));
    assert_eq!(r.run(["ZRANGE", "nokey", "0", "-1"]), arr(&[]));
    assert_eq!(r.run(["ZRANGE", "z", "a", "1"]), err(NOT_AN_INTEGER));
    assert_eq!(
        r.run(["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"]),
        err(LIMIT_NEEDS_BY)
    );
    assert_eq!(
        r.run(["ZREVRANGE", "z", "0", "1", "LIMIT", "0", "1"]),
        err(LIMIT_NEEDS_BY)
    );
    assert_eq!(r.run(["ZRANGE", "z", "0", "1", "REV", "REV"]), err(SYNTAX));
    assert_eq!(
        r.run(["ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"]),
        err(SYNTAX)
    );
    assert_eq!(r.run(["ZRANGE", "z", "0", "1", "LIMIT", "1"]), err(SYNTAX));
}

#[test]
fn zrange_withscores_is_nested_in_resp3() {
    let mut r = abc();
    r.set_resp(RespVersion::Resp3);
    assert_eq!(
        r.run(["ZRANGE", "z", "0", "0", "WITHSCORES"]),
        Frame::Array(vec![Frame::Array(vec![bulk("a"), Frame::Double(1.0)])])
    );
}

#[test]
fn zrange_by_score() {
    let mut r = abc();
    assert_eq!(
        r.run(["ZRANGE", "z", "(1", "+inf", "BYSCORE", "WITHSCORES"]),
        with_scores(&[("b", 2.0), ("c", 3.0)])
    );
    assert_eq!(
        r.run([
            "ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "1"
        ]),
        arr(&["b"])
    );
    assert_eq!(
        r.run(["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2"]),
        arr(&[])
    );
    assert_eq!(
        r.run(["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1", "-1"]),
        arr(&["b", "c"])
    );
    assert_eq!(
        r.run(["ZRANGEBYSCORE", "z", "", "5"]),
        arr(&["a", "b", "c"])
    );
    assert_eq!(
        r.run(["ZREVRANGEBYSCORE", "z", "2", "-inf"]),
        arr(&["b", "a"])
    );
    assert_eq!(
        r.run(["ZRANGEBYSCORE", "z", "x", "5"]),
        err(MIN_MAX_NOT_FLOAT)
    );
    assert_eq!(
        r.run(["ZRANGEBYSCORE", "z", "0", "5", "BYLEX"]),
        err(SYNTAX)
    );
}

#[test]
fn zrange_by_lex() {
    let mut r = runner_with("l", &[(0.0, "a"), (0.0, "b"), (0.0, "c"), (0.0, "d")]);
    assert_eq!(
        r.run(["ZRANGE", "l", "[b", "(d", "BYLEX"]),
        arr(&["b", "c"])
    );
    assert_eq!(
        r.run(["ZRANGE", "l", "(d", "[b", "BYLEX", "REV"]),
        arr(&["c", "b"])
    );
    assert_eq!(
        r.run(["ZRANGEBYLEX", "l", "-", "+", "LIMIT", "1", "2"]),
        arr(&["b", "c"])
    );
    assert_eq!(
        r.run(["ZREVRANGEBYLEX", "l", "+", "-", "LIMIT", "0", "1"]),
        arr(&["d"])
    );
    assert_eq!(
        r.run(["ZRANGEBYLEX", "l", "-", "+", "WITHSCORES"]),
        err(WITHSCORES_BYLEX)
    );
    assert_eq!(
        r.run(["ZRANGEBYLEX", "l", "a", "+"]),
        err(MIN_MAX_NOT_STRING_RANGE)
    );
}

#[test]
fn zrangestore_stores_or_deletes() {
    let mut r = abc();
    assert_eq!(r.run(["ZRANGESTORE", "d", "z", "0", "1"]), int(2));
    assert_eq!(r.run(["ZRANGE", "d", "0", "-1"]), arr(&["a", "b"]));
    assert_eq!(r.run(["ZRANGESTORE", "d", "z", "5", "6"]), int(0));
    assert_eq!(r.run(["EXISTS", "d"]), int(0));
    assert_eq!(
        r.run(["ZRANGESTORE", "d", "z", "0", "1", "WITHSCORES"]),
        err(SYNTAX)
    );
    assert_eq!(
        r.run(["ZRANGESTORE", "d", "z", "3", "2", "BYSCORE", "REV"]),
        int(2)
    );
    assert_eq!(r.run(["OBJECT", "ENCODING", "d"]), bulk("listpack"));
}

#[test]
fn zremrange_commands() {
    let mut r = runner_with(
        "z",
        &[(1.0, "a"), (2.0, "b"), (3.0, "c"), (4.0, "d"), (5.0, "e")],
    );
    assert_eq!(r.run(["ZREMRANGEBYRANK", "z", "0", "0"]), int(1));
    assert_eq!(r.run(["ZREMRANGEBYRANK", "z", "10", "20"]), int(0));
    assert_eq!(r.run(["ZREMRANGEBYSCORE", "z", "(4", "+inf"]), int(1));
    assert_eq!(
        r.run(["ZREMRANGEBYSCORE", "z", "x", "1"]),
        err(MIN_MAX_NOT_FLOAT)
    );
    assert_eq!(
        r.run(["ZREMRANGEBYLEX", "z", "x", "1"]),
        err(MIN_MAX_NOT_STRING_RANGE)
    );
    assert_eq!(
        r.run(["ZREMRANGEBYRANK", "z", "x", "1"]),
        err(NOT_AN_INTEGER)
    );
    assert_eq!(r.run(["ZRANGE", "z", "0", "-1"]), arr(&["b", "c", "d"]));
    assert_eq!(r.run(["ZREMRANGEBYRANK", "z", "0", "-1"]), int(3));
    assert_eq!(r.run(["EXISTS", "z"]), int(0));
    assert_eq!(r.run(["ZREMRANGEBYLEX", "nokey", "-", "+"]), int(0));
}

#[test]
fn pops() {
    let mut r = abc();
    assert_eq!(r.run(["ZPOPMIN", "z"]), with_scores(&[("a", 1.0)]));
    assert_eq!(
        r.run(["ZPOPMAX", "z", "5"]),
        with_scores(&[("c", 3.0), ("b", 2.0)])
    );
    assert_eq!(r.run(["EXISTS", "z"]), int(0));
    assert_eq!(r.run(["ZPOPMIN", "z"]), arr(&[]));
    assert_eq!(r.run(["ZPOPMIN", "z", "-1"]), err(NOT_POSITIVE));
    assert_eq!(r.run(["ZPOPMIN", "z", "x"]), err(NOT_POSITIVE));
    assert_eq!(r.run(["ZPOPMIN", "z", "1", "2"]), err(SYNTAX));
    let mut r = abc();
    r.set_resp(RespVersion::Resp3);
    assert_eq!(
        r.run(["ZPOPMIN", "z", "1"]),
        Frame::Array(vec![Frame::Array(vec![bulk("a"), Frame::Double(1.0)])])
    );
    assert_eq!(r.run(["ZPOPMIN", "z"]), with_scores(&[("b", 2.0)]));
}

#[test]
fn zmpop() {
    let mut r = abc();
    assert_eq!(
        r.run(["ZMPOP", "2", "nokey", "z", "MAX", "COUNT", "2"]),
        Frame::Array(vec![
            bulk("z"),
            Frame::Array(vec![
                Frame::Array(vec![bulk("c"), Frame::Double(3.0)]),
                Frame::Array(vec![bulk("b"), Frame::Double(2.0)]),
            ]),
        ])
    );
    assert_eq!(r.run(["ZMPOP", "1", "nokey", "MIN"]), Frame::NullArray);
    assert_eq!(r.run(["ZMPOP", "0", "z", "MIN"]), err(NUMKEYS_POSITIVE));
    assert_eq!(r.run(["ZMPOP", "2", "z", "MIN"]), err(SYNTAX));
    assert_eq!(r.run(["ZMPOP", "1", "z", "FOO"]), err(SYNTAX));
    assert_eq!(
        r.run(["ZMPOP", "1", "z", "MIN", "COUNT", "0"]),
        err(COUNT_POSITIVE)
    );
    assert_eq!(
        r.run(["ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "1"]),
        err(SYNTAX)
    );
}

#[test]
fn zrandmember() {
    let mut r = abc();
    assert_eq!(r.run(["ZRANDMEMBER", "nokey"]), Frame::Null);
    assert_eq!(r.run(["ZRANDMEMBER", "nokey", "3"]), arr(&[]));
    assert_eq!(r.run(["ZRANDMEMBER", "z", "0"]), arr(&[]));
    let Frame::Array(all) = r.run(["ZRANDMEMBER", "z", "10"]) else {
        panic!("array expected");
    };
    assert_eq!(all.len(), 3);
    let Frame::Array(picks) = r.run(["ZRANDMEMBER", "z", "-7", "WITHSCORES"]) else {
        panic!("array expected");
    };
    assert_eq!(picks.len(), 14);
    assert_eq!(r.run(["ZRANDMEMBER", "z", "1", "FOO"]), err(SYNTAX));
    assert_eq!(
        r.run(["ZRANDMEMBER", "z", "9223372036854775807", "WITHSCORES"]),
        err(VALUE_OUT_OF_RANGE)
    );
    assert_eq!(
        r.run(["ZRANDMEMBER", "z", "-9223372036854775808"]),
        err(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
        )
    );
}

#[test]
fn zscan() {
    let mut r = abc();
    assert_eq!(
        r.run(["ZSCAN", "z", "0", "MATCH", "a*"]),
        Frame::Array(vec![bulk("0"), arr(&["a", "1"])])
    );
    assert_eq!(
        r.run(["ZSCAN", "nokey", "0"]),
        Frame::Array(vec![bulk("0"), arr(&[])])
    );
    assert_eq!(r.run(["ZSCAN", "z", "x"]), err("ERR invalid cursor"));
    assert_eq!(r.run(["ZSCAN", "z", "0", "COUNT", "0"]), err(SYNTAX));
    assert_eq!(r.run(["ZSCAN", "z", "0", "TYPE", "zset"]), err(SYNTAX));
}

#[test]
fn zscan_walks_a_skiplist() {
    let mut r = CommandRunner::with_builtin_commands();
    for i in 0..300 {
        r.run(["ZADD", "z", &i.to_string(), &format!("m{i}")]);
    }
    let mut cursor = "0".to_string();
    let mut seen = 0;
    loop {
        let Frame::Array(reply) = r.run(["ZSCAN", "z", &cursor]) else {
            panic!("array expected");
        };
        let (Frame::Bulk(next), Frame::Array(items)) = (&reply[0], &reply[1]) else {
            panic!("cursor and items expected");
        };
        seen += items.len() / 2;
        cursor = String::from_utf8(next.to_vec()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen, 300);
}

#[test]
fn set_algebra() {
    let mut r = runner_with("s1", &[(1.0, "a"), (2.0, "b"), (3.0, "c")]);
    r.run(["ZADD", "s2", "10", "b", "20", "c", "30", "d"]);
    assert_eq!(
        r.run(["ZUNION", "2", "s1", "s2", "WITHSCORES"]),
        with_scores(&[("a", 1.0), ("b", 12.0), ("c", 23.0), ("d", 30.0)])
    );
    assert_eq!(
        r.run([
            "ZINTER",
            "2",
            "s1",
            "s2",
            "WEIGHTS",
            "2",
            "1",
            "AGGREGATE",
            "MIN",
            "WITHSCORES"
        ]),
        with_scores(&[("b", 4.0), ("c", 6.0)])
    );
    assert_eq!(r.run(["ZDIFF", "2", "s1", "s2"]), arr(&["a"]));
    assert_eq!(r.run(["ZINTERCARD", "2", "s1", "s2"]), int(2));
    assert_eq!(r.run(["ZINTERCARD", "2", "s1", "s2", "LIMIT", "1"]), int(1));
    assert_eq!(
        r.run(["ZINTERCARD", "2", "s1", "s2", "LIMIT", "-1"]),
        err(LIMIT_NEGATIVE)
    );
    assert_eq!(r.run(["ZUNIONSTORE", "out", "2", "s1", "s2"]), int(4));
    assert_eq!(r.run(["ZSCORE", "out", "c"]), Frame::Double(23.0));
    assert_eq!(r.run(["ZDIFFSTORE", "out", "2", "s1", "s1"]), int(0));
    assert_eq!(r.run(["EXISTS", "out"]), int(0));
    assert_eq!(
        r.run(["ZUNION", "0", "s1"]),
        err("ERR at least 1 input key is needed for 'zunion' command")
    );
    assert_eq!(r.run(["ZUNION", "3", "s1", "s2"]), err(SYNTAX));
    assert_eq!(
        r.run(["ZUNION", "2", "s1", "s2", "WEIGHTS", "1", "x"]),
        err(WEIGHT_NOT_FLOAT)
    );
    assert_eq!(
        r.run(["ZUNION", "2", "s1", "s2", "WEIGHTS", "1"]),
        err(SYNTAX)
    );
    assert_eq!(
        r.run(["ZDIFF", "2", "s1", "s2", "WEIGHTS", "1", "1"]),
        err(SYNTAX)
    );
    assert_eq!(
        r.run(["ZUNIONSTORE", "o", "2", "s1", "s2", "WITHSCORES"]),
        err(SYNTAX)
    );
    r.run(["SET", "str", "x"]);
    assert_eq!(r.run(["ZUNION", "2", "s1", "str"]), err(WRONG_TYPE));
}

#[test]
fn encodings_convert_and_never_go_back() {
    let mut r = CommandRunner::with_builtin_commands();
    for i in 0..128 {
        r.run(["ZADD", "z", &i.to_string(), &format!("m{i}")]);
    }
    assert_eq!(r.run(["OBJECT", "ENCODING", "z"]), bulk("listpack"));
    r.run(["ZADD", "z", "1000", "one-more"]);
    assert_eq!(r.run(["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
    assert_eq!(r.run(["ZREMRANGEBYRANK", "z", "0", "-10"]), int(120));
    assert_eq!(r.run(["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
    assert_eq!(r.run(["ZRANK", "z", "one-more"]), int(8));
    let long = "x".repeat(65);
    r.run(["ZADD", "big", "1", &long]);
    assert_eq!(r.run(["OBJECT", "ENCODING", "big"]), bulk("skiplist"));
    r.run(["ZADD", "small", "1", "a"]);
    r.run(["ZADD", "small", "1", &long]);
    assert_eq!(r.run(["OBJECT", "ENCODING", "small"]), bulk("skiplist"));
    // A STORE result is built small again when it fits.
    assert_eq!(r.run(["ZUNIONSTORE", "u", "1", "z"]), int(9));
    assert_eq!(r.run(["OBJECT", "ENCODING", "u"]), bulk("listpack"));
}

#[test]
fn listpack_keeps_minus_zero_as_zero() {
    let mut r = CommandRunner::with_builtin_commands();
    r.run(["ZADD", "z", "-0", "a"]);
    assert_eq!(r.run(["ZSCORE", "z", "a"]), Frame::Double(0.0));
}
