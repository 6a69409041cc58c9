//! Unit tests of the hash family, with replies and error texts checked against Redis 7.0.

use super::*;
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

fn encoding(r: &mut CommandRunner, key: &str) -> Frame {
    r.run(["OBJECT", "ENCODING", key])
}

/// The elements of an array reply as strings, sorted.
fn sorted(frame: Frame) -> Vec<String> {
    let Frame::Array(items) = frame else {
        panic!("not an array: {frame:?}");
    };
    let mut out: Vec<String> = items
        .into_iter()
        .map(|f| match f {
            Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
            other => panic!("not a bulk: {other:?}"),
        })
        .collect();
    out.sort();
    out
}

const WRONG_TYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

#[test]
fn hset_counts_new_fields_and_hmset_answers_ok() {
    let mut r = runner();
    assert_eq!(run(&mut r, "HSET h a 1 b 2"), int(2));
    assert_eq!(run(&mut r, "HSET h a 10 c 3"), int(1));
    assert_eq!(run(&mut r, "HMSET h d 4"), Frame::ok());
    assert_eq!(run(&mut r, "HGET h a"), bulk("10"));
    assert_eq!(run(&mut r, "HLEN h"), int(4));
    assert_eq!(encoding(&mut r, "h"), bulk("listpack"));
    assert_eq!(r.server.dirty, 5);
}

#[test]
fn odd_pairs_are_an_arity_error_naming_the_command() {
    let mut r = runner();
    assert_eq!(
        run(&mut r, "HSET h a 1 b"),
        err("ERR wrong number of arguments for 'hset' command")
    );
    assert_eq!(
        run(&mut r, "hmset h a 1 b"),
        err("ERR wrong number of arguments for 'hmset' command")
    );
    assert_eq!(run(&mut r, "EXISTS h"), int(0));
}

#[test]
fn wrong_type_everywhere() {
    let mut r = runner();
    run(&mut r, "SET s x");
    for line in [
        "HSET s a 1",
        "HSETNX s a 1",
        "HGET s a",
        "HMGET s a b",
        "HDEL s a",
        "HLEN s",
        "HSTRLEN s a",
        "HEXISTS s a",
        "HKEYS s",
        "HVALS s",
        "HGETALL s",
        "HINCRBY s a 1",
        "HINCRBYFLOAT s a 1",
        "HRANDFIELD s",
        "HRANDFIELD s 2",
        "HSCAN s 0",
    ] {
        assert_eq!(run(&mut r, line), err(WRONG_TYPE), "{line}");
    }
}

#[test]
fn missing_keys_read_as_empty_hashes() {
    let mut r = runner();
    assert_eq!(run(&mut r, "HGET h a"), Frame::Null);
    assert_eq!(
        run(&mut r, "HMGET h a b"),
        Frame::Array(vec![Frame::Null, Frame::Null])
    );
    assert_eq!(run(&mut r, "HLEN h"), int(0));
    assert_eq!(run(&mut r, "HSTRLEN h a"), int(0));
    assert_eq!(run(&mut r, "HEXISTS h a"), int(0));
    assert_eq!(run(&mut r, "HDEL h a"), int(0));
    assert_eq!(run(&mut r, "HKEYS h"), Frame::Array(vec![]));
    assert_eq!(run(&mut r, "HGETALL h"), Frame::Map(vec![]));
    assert_eq!(run(&mut r, "HRANDFIELD h"), Frame::Null);
    assert_eq!(run(&mut r, "HRANDFIELD h 3"), Frame::Array(vec![]));
    assert_eq!(
        run(&mut r, "HSCAN h 0 BOGUS"),
        Frame::Array(vec![bulk("0"), Frame::Array(vec![])])
    );
}

#[test]
fn hsetnx_sets_only_new_fields() {
    let mut r = runner();
    assert_eq!(run(&mut r, "HSETNX h f v1"), int(1));
    assert_eq!(run(&mut r, "HSETNX h f v2"), int(0));
    assert_eq!(run(&mut r, "HGET h f"), bulk("v1"));
}

#[test]
fn hdel_counts_and_removes_the_emptied_key() {
    let mut r = runner();
    run(&mut r, "HSET h a 1 b 2 c 3");
    assert_eq!(run(&mut r, "HDEL h x y"), int(0));
    assert_eq!(run(&mut r, "HDEL h a c f"), int(2));
    assert_eq!(
        run(&mut r, "HGETALL h"),
        Frame::Map(vec![(bulk("b"), bulk("2"))])
    );
    assert_eq!(run(&mut r, "HDEL h b b x"), int(1));
    assert_eq!(run(&mut r, "EXISTS h"), int(0));
}

#[test]
fn hkeys_hvals_hgetall_and_lengths() {
    let mut r = runner();
    run(&mut r, "HSET h a 1 b 22 c 333");
    assert_eq!(sorted(run(&mut r, "HKEYS h")), ["a", "b", "c"]);
    assert_eq!(sorted(run(&mut r, "HVALS h")), ["1", "22", "333"]);
    assert_eq!(run(&mut r, "HSTRLEN h c"), int(3));
    assert_eq!(run(&mut r, "HSTRLEN h x"), int(0));
    assert_eq!(run(&mut r, "HEXISTS h b"), int(1));
    assert_eq!(
        run(&mut r, "HGETALL h"),
        Frame::Map(vec![
            (bulk("a"), bulk("1")),
            (bulk("b"), bulk("22")),
            (bulk("c"), bulk("333")),
        ])
    );
}

#[test]
fn encodings_convert_on_entries_and_value_length_and_never_back() {
    let mut r = runner();
    run(&mut r, "CONFIG SET hash-max-listpack-entries 4");
    run(&mut r, "HSET h a 1 b 2 c 3 d 4");
    assert_eq!(encoding(&mut r, "h"), bulk("listpack"));
    run(&mut r, "HSET h e 5");
    assert_eq!(encoding(&mut r, "h"), bulk("hashtable"));
    run(&mut r, "HDEL h a b c d");
    assert_eq!(encoding(&mut r, "h"), bulk("hashtable"));
    assert_eq!(
        run(&mut r, "HGETALL h"),
        Frame::Map(vec![(bulk("e"), bulk("5"))])
    );

    run(&mut r, "CONFIG SET hash-max-ziplist-value 8");
    run(&mut r, "HSET small f 12345678");
    assert_eq!(encoding(&mut r, "small"), bulk("listpack"));
    run(&mut r, "HSET big f 123456789");
    assert_eq!(encoding(&mut r, "big"), bulk("hashtable"));
    // A long field converts too, and HINCRBYFLOAT's result counts.
    run(&mut r, "HINCRBYFLOAT long abcdefghi 1");
    assert_eq!(encoding(&mut r, "long"), bulk("hashtable"));
    run(&mut r, "HSET f tmp 0");
    run(&mut r, "HINCRBYFLOAT f tmp 0.0000005");
    assert_eq!(encoding(&mut r, "f"), bulk("hashtable"));
}

#[test]
fn hincrby_parses_checks_and_overflows() {
    let mut r = runner();
    assert_eq!(run(&mut r, "HINCRBY h n 2"), int(2));
    assert_eq!(run(&mut r, "HINCRBY h n -5"), int(-3));
    assert_eq!(
        run(&mut r, "HINCRBY h n x"),
        err("ERR value is not an integer or out of range")
    );
    r.run(["HSET", "h", "s", " 11"]);
    assert_eq!(
        run(&mut r, "HINCRBY h s 1"),
        err("ERR hash value is not an integer")
    );
    run(&mut r, "HSET h big -9223372036854775484");
    assert_eq!(run(&mut r, "HINCRBY h big -1"), int(-9223372036854775485));
    assert_eq!(
        run(&mut r, "HINCRBY h big -10000"),
        err("ERR increment or decrement would overflow")
    );
    assert_eq!(run(&mut r, "HGET h big"), bulk("-9223372036854775485"));
}

#[test]
fn hincrbyfloat_formats_and_refuses_nan_and_infinity() {
    let mut r = runner();
    assert_eq!(run(&mut r, "HINCRBYFLOAT h f 1.23"), bulk("1.23"));
    assert_eq!(run(&mut r, "HINCRBYFLOAT h f 0.77"), bulk("2"));
    assert_eq!(run(&mut r, "HINCRBYFLOAT h f -0.1"), bulk("1.9"));
    assert_eq!(
        run(&mut r, "HINCRBYFLOAT h f abc"),
        err("ERR value is not a valid float")
    );
    assert_eq!(
        run(&mut r, "HINCRBYFLOAT hfoo f +inf"),
        err("ERR value is NaN or Infinity")
    );
    assert_eq!(run(&mut r, "EXISTS hfoo"), int(0));
    r.run(["HSET", "h", "nul", "1\x002"]);
    assert_eq!(
        run(&mut r, "HINCRBYFLOAT h nul 1"),
        err("ERR hash value is not a float")
    );
    run(&mut r, "HSET h i 17179869184");
    assert_eq!(
        run(&mut r, "HINCRBYFLOAT h i 17179869184"),
        bulk("34359738368")
    );
    // Long double arithmetic, as Redis: exact integers past 2^53, no overflow at f64's range.
    run(&mut r, "HSET h n 9223372036854775807");
    assert_eq!(
        run(&mut r, "HINCRBYFLOAT h n 1e3"),
        bulk("9223372036854776807")
    );
    assert_eq!(
        run(&mut r, "HINCRBYFLOAT h k 1000.1"),
        bulk("1000.09999999999999998")
    );
    assert_eq!(run(&mut r, "HINCRBYFLOAT h x 0x10"), bulk("16"));
    run(&mut r, "HSET h max 1e4932");
    assert_eq!(
        run(&mut r, "HINCRBYFLOAT h max 1e4932"),
        err("ERR increment would produce NaN or Infinity")
    );
    run(&mut r, "HSET h inf inf");
    assert_eq!(
        run(&mut r, "HINCRBYFLOAT h inf 1"),
        err("ERR increment would produce NaN or Infinity")
    );
}

#[test]
fn hrandfield_argument_errors() {
    let mut r = runner();
    run(&mut r, "HSET h a 1");
    assert_eq!(
        run(&mut r, "HRANDFIELD h -9223372036854770000 WITHVALUES"),
        err("ERR value is out of range")
    );
    assert_eq!(
        run(&mut r, "HRANDFIELD h -9223372036854775808"),
        err(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
        )
    );
    assert_eq!(
        run(&mut r, "HRANDFIELD h 1 WITHSCORES"),
        err("ERR syntax error")
    );
    assert_eq!(
        run(&mut r, "HRANDFIELD h 1 WITHVALUES x"),
        err("ERR syntax error")
    );
    assert_eq!(
        run(&mut r, "HRANDFIELD h x"),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(run(&mut r, "HRANDFIELD h 0"), Frame::Array(vec![]));
}

#[test]
fn hrandfield_counts_and_shapes() {
    for entries in ["512", "0"] {
        let mut r = runner();
        run(
            &mut r,
            &format!("CONFIG SET hash-max-listpack-entries {entries}"),
        );
        run(&mut r, "HSET h a 1 b 2 c 3 d 4 e 5 f 6 g 7 h 8 i 9 j 10");
        // Negative: with repetition, exactly that many.
        let Frame::Array(items) = run(&mut r, "HRANDFIELD h -25") else {
            panic!()
        };
        assert_eq!(items.len(), 25);
        let Frame::Array(items) = run(&mut r, "HRANDFIELD h -7 WITHVALUES") else {
            panic!()
        };
        assert_eq!(items.len(), 14);
        // Positive: distinct, capped at the size.
        for (count, len) in [(2, 2), (8, 8), (10, 10), (20, 10)] {
            let fields = sorted(run(&mut r, &format!("HRANDFIELD h {count}")));
            let mut unique = fields.clone();
            unique.dedup();
            assert_eq!((fields.len(), unique.len()), (len, len));
        }
        // Values stay with their fields.
        let Frame::Array(items) = run(&mut r, "HRANDFIELD h 3 WITHVALUES") else {
            panic!()
        };
        for pair in items.chunks(2) {
            assert_eq!(r.run([&b"HGET"[..], b"h", bytes_of(&pair[0])]), pair[1]);
        }
        // RESP3 nests each pair.
        r.set_resp(RespVersion::Resp3);
        let Frame::Array(items) = run(&mut r, "HRANDFIELD h 3 WITHVALUES") else {
            panic!()
        };
        assert_eq!(items.len(), 3);
        assert!(
            items
                .iter()
                .all(|i| matches!(i, Frame::Array(p) if p.len() == 2))
        );
    }
}

fn bytes_of(frame: &Frame) -> &[u8] {
    match frame {
        Frame::Bulk(b) => b,
        other => panic!("not a bulk: {other:?}"),
    }
}

#[test]
fn hrandfield_single_field_comes_from_the_hash() {
    let mut r = runner();
    run(&mut r, "HSET h a 1 b 2 c 3");
    for _ in 0..20 {
        let Frame::Bulk(field) = run(&mut r, "HRANDFIELD h") else {
            panic!()
        };
        assert!(matches!(&field[..], b"a" | b"b" | b"c"));
    }
}

#[test]
fn hscan_listpack_whole_and_table_by_cursor() {
    let mut r = runner();
    run(&mut r, "HSET small a 1 b 2 foo 3");
    assert_eq!(
        run(&mut r, "HSCAN small 0 MATCH f* COUNT 1"),
        Frame::Array(vec![bulk("0"), bulks(&["foo", "3"])])
    );
    let mut argv = vec!["HSET".to_string(), "big".to_string()];
    for i in 0..1000 {
        argv.push(format!("key:{i}"));
        argv.push(i.to_string());
    }
    r.run(&argv);
    assert_eq!(encoding(&mut r, "big"), bulk("hashtable"));
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    loop {
        let Frame::Array(reply) = r.run(["HSCAN", "big", &cursor, "COUNT", "100"]) else {
            panic!()
        };
        let [Frame::Bulk(next), Frame::Array(items)] = &reply[..] else {
            panic!()
        };
        for pair in items.chunks(2) {
            let field = String::from_utf8_lossy(bytes_of(&pair[0])).into_owned();
            let value = String::from_utf8_lossy(bytes_of(&pair[1])).into_owned();
            assert_eq!(field, format!("key:{value}"));
            seen.push(field);
        }
        cursor = String::from_utf8_lossy(next).into_owned();
        if cursor == "0" {
            break;
        }
        // Deleting behind the cursor must not hide anything still present.
        r.run(["HDEL", "big", "key:0"]);
    }
    seen.sort();
    seen.dedup();
    assert!(seen.len() >= 999);
}

#[test]
fn hscan_argument_errors() {
    let mut r = runner();
    run(&mut r, "HSET h a 1");
    assert_eq!(run(&mut r, "HSCAN h x"), err("ERR invalid cursor"));
    assert_eq!(run(&mut r, "HSCAN h 0 COUNT 0"), err("ERR syntax error"));
    assert_eq!(
        run(&mut r, "HSCAN h 0 COUNT x"),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        run(&mut r, "HSCAN h 0 TYPE string"),
        err("ERR syntax error")
    );
    assert_eq!(run(&mut r, "HSCAN h 0 MATCH"), err("ERR syntax error"));
}

#[test]
fn expired_hash_is_gone_for_readers_and_writers() {
    let mut r = runner();
    run(&mut r, "HSET h a 1");
    run(&mut r, "PEXPIRE h 100");
    r.advance_ms(200);
    assert_eq!(run(&mut r, "HGET h a"), Frame::Null);
    assert_eq!(run(&mut r, "HSET h b 2"), int(1));
    assert_eq!(run(&mut r, "HLEN h"), int(1));
    assert_eq!(run(&mut r, "TTL h"), int(-1));
}
