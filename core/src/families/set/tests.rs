//! Unit tests of the set family, with replies and error texts checked against Redis 7.0.

use super::*;
use crate::command::{AclCategory, Flag};
use crate::config::Config;
use crate::errors::set::{
    COUNT_OUT_OF_RANGE, LIMIT_NEGATIVE, NUMKEYS_NOT_POSITIVE, NUMKEYS_TOO_MANY,
};
use crate::errors::{NOT_POSITIVE, WRONG_TYPE};
use crate::testing::{CommandRunner, bulk, err};
use oxidis_protocol::RespVersion;

const SYNTAX: &str = "ERR syntax error";
const NOT_INT: &str = "ERR value is not an integer or out of range";

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

fn bulks(items: &[&str]) -> Vec<Frame> {
    items.iter().map(|s| bulk(s)).collect()
}

/// The strings of an array or set reply, sorted (as the Tcl tests `lsort` them).
fn sorted(reply: Frame) -> Vec<String> {
    let items = match reply {
        Frame::Array(items) | Frame::Set(items) => items,
        other => panic!("not a collection: {other:?}"),
    };
    let mut out: Vec<String> = items
        .into_iter()
        .map(|f| match f {
            Frame::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
            other => panic!("not a bulk: {other:?}"),
        })
        .collect();
    out.sort();
    out
}

fn members(r: &mut CommandRunner, key: &str) -> Vec<String> {
    sorted(run(r, &format!("SMEMBERS {key}")))
}

fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text.split(' ').map(String::from).collect();
    out.sort();
    out
}

fn encoding(r: &CommandRunner, key: &str) -> &'static str {
    let db = &r.server.dbs[0];
    let pos = db.find(key.as_bytes()).expect("key exists");
    db.entry(pos).value.encoding_name()
}

fn exists(r: &CommandRunner, key: &str) -> bool {
    r.server.dbs[0].find(key.as_bytes()).is_some()
}

fn sadd_range(r: &mut CommandRunner, key: &str, range: std::ops::Range<i64>) {
    let mut argv = vec!["SADD".to_string(), key.to_string()];
    argv.extend(range.map(|i| i.to_string()));
    r.run(argv);
}

// Config may grow private fields, so no struct literal here.
#[allow(clippy::field_reassign_with_default)]
fn with_max_intset_entries(max: u64) -> CommandRunner {
    let mut config = Config::default();
    config.set_max_intset_entries = max;
    CommandRunner::with_config(config)
}

// --- metadata -------------------------------------------------------------------------

/// Name, arity, flags, legacy (first, last, step) keys and ACL categories.
type Metadata = (
    &'static str,
    i64,
    &'static [&'static str],
    (i64, i64, i64),
    &'static [&'static str],
);

#[test]
fn specs_match_redis_metadata() {
    let r = runner();
    let info = |name: &str| r.server.table.get(name.as_bytes()).expect(name);
    // name, arity, flags, legacy keys, ACL categories, as Redis 7.0.15's COMMAND INFO lists them.
    let expected: &[Metadata] = &[
        (
            "sadd",
            -3,
            &["write", "denyoom", "fast"],
            (1, 1, 1),
            &["write", "set", "fast"],
        ),
        (
            "srem",
            -3,
            &["write", "fast"],
            (1, 1, 1),
            &["write", "set", "fast"],
        ),
        (
            "scard",
            2,
            &["readonly", "fast"],
            (1, 1, 1),
            &["read", "set", "fast"],
        ),
        (
            "sismember",
            3,
            &["readonly", "fast"],
            (1, 1, 1),
            &["read", "set", "fast"],
        ),
        (
            "smismember",
            -3,
            &["readonly", "fast"],
            (1, 1, 1),
            &["read", "set", "fast"],
        ),
        (
            "smembers",
            2,
            &["readonly"],
            (1, 1, 1),
            &["read", "set", "slow"],
        ),
        (
            "spop",
            -2,
            &["write", "fast"],
            (1, 1, 1),
            &["write", "set", "fast"],
        ),
        (
            "srandmember",
            -2,
            &["readonly"],
            (1, 1, 1),
            &["read", "set", "slow"],
        ),
        (
            "smove",
            4,
            &["write", "fast"],
            (1, 2, 1),
            &["write", "set", "fast"],
        ),
        (
            "sinter",
            -2,
            &["readonly"],
            (1, -1, 1),
            &["read", "set", "slow"],
        ),
        (
            "sintercard",
            -3,
            &["readonly", "movablekeys"],
            (0, 0, 0),
            &["read", "set", "slow"],
        ),
        (
            "sinterstore",
            -3,
            &["write", "denyoom"],
            (1, -1, 1),
            &["write", "set", "slow"],
        ),
        (
            "sunion",
            -2,
            &["readonly"],
            (1, -1, 1),
            &["read", "set", "slow"],
        ),
        (
            "sunionstore",
            -3,
            &["write", "denyoom"],
            (1, -1, 1),
            &["write", "set", "slow"],
        ),
        (
            "sdiff",
            -2,
            &["readonly"],
            (1, -1, 1),
            &["read", "set", "slow"],
        ),
        (
            "sdiffstore",
            -3,
            &["write", "denyoom"],
            (1, -1, 1),
            &["write", "set", "slow"],
        ),
        (
            "sscan",
            -3,
            &["readonly"],
            (1, 1, 1),
            &["read", "set", "slow"],
        ),
    ];
    for &(name, arity, flags, keys, acl) in expected {
        let command = info(name);
        assert_eq!(command.spec.arity.as_redis(), arity, "{name}");
        let got: Vec<_> = Flag::in_set(command.flags).map(Flag::name).collect();
        assert_eq!(got, flags, "{name}");
        assert_eq!(command.legacy_keys, keys, "{name}");
        let got: Vec<_> = AclCategory::in_set(command.acl_categories)
            .map(AclCategory::name)
            .collect();
        assert_eq!(got, acl, "{name}");
    }
    assert_eq!(
        info("smembers").spec.tips,
        ["nondeterministic_output_order"]
    );
    assert_eq!(info("spop").spec.tips, ["nondeterministic_output"]);
}

// --- SADD / SREM / SCARD / SISMEMBER / SMISMEMBER / SMEMBERS ------------------------------

#[test]
fn basics_on_a_table() {
    let mut r = runner();
    assert_eq!(run(&mut r, "SADD myset foo"), int(1));
    assert_eq!(encoding(&r, "myset"), "hashtable");
    assert_eq!(run(&mut r, "SADD myset bar"), int(1));
    assert_eq!(run(&mut r, "SADD myset bar"), int(0));
    assert_eq!(run(&mut r, "SCARD myset"), int(2));
    assert_eq!(run(&mut r, "SISMEMBER myset foo"), int(1));
    assert_eq!(run(&mut r, "SISMEMBER myset bla"), int(0));
    assert_eq!(
        run(&mut r, "SMISMEMBER myset foo bla"),
        Frame::Array(vec![int(1), int(0)])
    );
    assert_eq!(members(&mut r, "myset"), ["bar", "foo"]);
}

#[test]
fn basics_on_an_intset() {
    let mut r = runner();
    assert_eq!(run(&mut r, "SADD myset 17"), int(1));
    assert_eq!(encoding(&r, "myset"), "intset");
    assert_eq!(run(&mut r, "SADD myset 16"), int(1));
    assert_eq!(run(&mut r, "SADD myset 16"), int(0));
    assert_eq!(run(&mut r, "SCARD myset"), int(2));
    assert_eq!(run(&mut r, "SISMEMBER myset 16"), int(1));
    assert_eq!(run(&mut r, "SISMEMBER myset 18"), int(0));
    assert_eq!(
        run(&mut r, "SMISMEMBER myset 18 16"),
        Frame::Array(vec![int(0), int(1)])
    );
    // An intset answers in ascending order.
    assert_eq!(
        run(&mut r, "SMEMBERS myset"),
        Frame::Set(bulks(&["16", "17"]))
    );
}

#[test]
fn missing_keys_read_as_empty() {
    let mut r = runner();
    assert_eq!(run(&mut r, "SCARD nokey"), int(0));
    assert_eq!(run(&mut r, "SISMEMBER nokey a"), int(0));
    assert_eq!(
        run(&mut r, "SMISMEMBER nokey a b"),
        Frame::Array(vec![int(0), int(0)])
    );
    assert_eq!(run(&mut r, "SMEMBERS nokey"), Frame::Set(vec![]));
    assert_eq!(run(&mut r, "SREM nokey a"), int(0));
}

#[test]
fn every_command_refuses_a_string_key() {
    let mut r = runner();
    run(&mut r, "SET k v");
    run(&mut r, "SADD s a");
    for line in [
        "SADD k a",
        "SREM k a",
        "SCARD k",
        "SISMEMBER k a",
        "SMISMEMBER k a",
        "SMEMBERS k",
        "SPOP k",
        "SPOP k 0",
        "SRANDMEMBER k",
        "SRANDMEMBER k 0",
        "SMOVE k s a",
        "SMOVE s k a",
        "SINTER s k",
        "SINTER nokey k",
        "SINTERCARD 2 nokey k",
        "SINTERSTORE d s k",
        "SUNION k nokey",
        "SUNIONSTORE d nokey k",
        "SDIFF nokey k",
        "SDIFFSTORE d s k",
        "SSCAN k 0",
    ] {
        assert_eq!(run(&mut r, line), err(WRONG_TYPE), "{line}");
    }
    assert!(!exists(&r, "d"));
    assert_eq!(run(&mut r, "GET k"), bulk("v"));
}

#[test]
fn wrong_arity_is_refused() {
    let mut r = runner();
    assert_eq!(
        run(&mut r, "SMISMEMBER s"),
        err("ERR wrong number of arguments for 'smismember' command")
    );
    assert_eq!(
        run(&mut r, "SINTERCARD 1"),
        err("ERR wrong number of arguments for 'sintercard' command")
    );
}

#[test]
fn a_non_integer_converts_an_intset() {
    let mut r = runner();
    run(&mut r, "SADD myset 1 2 3");
    assert_eq!(encoding(&r, "myset"), "intset");
    assert_eq!(run(&mut r, "SADD myset a"), int(1));
    assert_eq!(encoding(&r, "myset"), "hashtable");
    // Never back, even once the string is gone.
    run(&mut r, "SREM myset a");
    assert_eq!(encoding(&r, "myset"), "hashtable");
    assert_eq!(members(&mut r, "myset"), ["1", "2", "3"]);
}

#[test]
fn integers_beyond_64_bits_and_non_canonical_ones_are_strings() {
    let mut r = runner();
    run(&mut r, "SADD big 213244124402402314402033402");
    assert_eq!(encoding(&r, "big"), "hashtable");
    assert_eq!(
        run(&mut r, "SISMEMBER big 213244124402402314402033402"),
        int(1)
    );
    run(&mut r, "SADD ints 1");
    assert_eq!(run(&mut r, "SISMEMBER ints 01"), int(0));
    assert_eq!(run(&mut r, "SADD ints 01"), int(1));
    assert_eq!(encoding(&r, "ints"), "hashtable");
    assert_eq!(members(&mut r, "ints"), ["01", "1"]);
}

#[test]
fn the_first_member_picks_the_encoding() {
    let mut r = runner();
    run(&mut r, "SADD a x 1 2");
    assert_eq!(encoding(&r, "a"), "hashtable");
    run(&mut r, "SADD b 1 2 -9223372036854775808");
    assert_eq!(encoding(&r, "b"), "intset");
    assert_eq!(
        run(&mut r, "SMEMBERS b"),
        Frame::Set(bulks(&["-9223372036854775808", "1", "2"]))
    );
}

#[test]
fn too_many_integers_convert_at_max_intset_entries() {
    let mut r = runner();
    sadd_range(&mut r, "myset", 0..512);
    assert_eq!(encoding(&r, "myset"), "intset");
    assert_eq!(run(&mut r, "SADD myset 512"), int(1));
    assert_eq!(encoding(&r, "myset"), "hashtable");
    assert_eq!(run(&mut r, "SCARD myset"), int(513));
    assert_eq!(run(&mut r, "SISMEMBER myset 0"), int(1));
}

#[test]
fn config_set_changes_the_intset_limit() {
    let mut r = runner();
    assert_eq!(
        run(&mut r, "CONFIG SET set-max-intset-entries 2"),
        Frame::ok()
    );
    run(&mut r, "SADD s 1 2");
    assert_eq!(encoding(&r, "s"), "intset");
    run(&mut r, "SADD s 3");
    assert_eq!(encoding(&r, "s"), "hashtable");
    let mut r = with_max_intset_entries(0);
    run(&mut r, "SADD s 1");
    assert_eq!(encoding(&r, "s"), "hashtable");
}

#[test]
fn variadic_sadd_and_srem() {
    let mut r = runner();
    assert_eq!(run(&mut r, "SADD myset a b c"), int(3));
    assert_eq!(run(&mut r, "SADD myset A a b c B"), int(2));
    assert_eq!(members(&mut r, "myset"), ["A", "B", "a", "b", "c"]);
    assert_eq!(run(&mut r, "SREM myset k k k"), int(0));
    assert_eq!(run(&mut r, "SREM myset b B x y"), int(2));
    assert_eq!(members(&mut r, "myset"), ["A", "a", "c"]);
}

#[test]
fn srem_deletes_the_emptied_key_and_stops() {
    let mut r = runner();
    run(&mut r, "SADD myset 1 2 3");
    assert_eq!(run(&mut r, "SREM myset 1 2 3 4 5 6 7 8"), int(3));
    assert!(!exists(&r, "myset"));
    run(&mut r, "SADD t a");
    assert_eq!(run(&mut r, "SREM t a a"), int(1));
    assert!(!exists(&r, "t"));
}

#[test]
fn writes_count_changes_like_redis() {
    let mut r = runner();
    let dirty = |r: &CommandRunner| r.server.dirty;
    let start = dirty(&r);
    run(&mut r, "SADD s a b c");
    assert_eq!(dirty(&r) - start, 3);
    run(&mut r, "SADD s a");
    assert_eq!(dirty(&r) - start, 3);
    run(&mut r, "SREM s a b");
    assert_eq!(dirty(&r) - start, 5);
    run(&mut r, "SMOVE s t c");
    // One for the source, one for the destination that gained a member.
    assert_eq!(dirty(&r) - start, 7);
}

// --- SMOVE ------------------------------------------------------------------------------

fn setup_move(r: &mut CommandRunner) {
    run(r, "DEL myset1 myset2 myset3");
    run(r, "SADD myset1 1 a b");
    run(r, "SADD myset2 2 3 4");
    assert_eq!(encoding(r, "myset1"), "hashtable");
    assert_eq!(encoding(r, "myset2"), "intset");
}

#[test]
fn smove_between_encodings() {
    let mut r = runner();
    setup_move(&mut r);
    assert_eq!(run(&mut r, "SMOVE myset1 myset2 a"), int(1));
    assert_eq!(members(&mut r, "myset1"), ["1", "b"]);
    assert_eq!(members(&mut r, "myset2"), ["2", "3", "4", "a"]);
    assert_eq!(encoding(&r, "myset2"), "hashtable");

    setup_move(&mut r);
    assert_eq!(run(&mut r, "SMOVE myset1 myset2 1"), int(1));
    assert_eq!(members(&mut r, "myset2"), ["1", "2", "3", "4"]);
    assert_eq!(encoding(&r, "myset2"), "intset");

    setup_move(&mut r);
    assert_eq!(run(&mut r, "SMOVE myset2 myset1 2"), int(1));
    assert_eq!(members(&mut r, "myset1"), ["1", "2", "a", "b"]);
    assert_eq!(members(&mut r, "myset2"), ["3", "4"]);
}

#[test]
fn smove_missing_member_source_or_destination() {
    let mut r = runner();
    setup_move(&mut r);
    assert_eq!(run(&mut r, "SMOVE myset1 myset2 foo"), int(0));
    assert_eq!(run(&mut r, "SMOVE myset1 myset1 foo"), int(0));
    assert_eq!(run(&mut r, "SMOVE noset myset2 foo"), int(0));
    assert_eq!(members(&mut r, "myset2"), ["2", "3", "4"]);
    // A missing source answers 0 before the destination's type is looked at.
    run(&mut r, "SET str x");
    assert_eq!(run(&mut r, "SMOVE noset str foo"), int(0));

    assert_eq!(run(&mut r, "SMOVE myset1 myset3 a"), int(1));
    assert_eq!(members(&mut r, "myset3"), ["a"]);
    assert_eq!(encoding(&r, "myset3"), "hashtable");
    run(&mut r, "DEL myset3");
    assert_eq!(run(&mut r, "SMOVE myset2 myset3 2"), int(1));
    assert_eq!(encoding(&r, "myset3"), "intset");
}

#[test]
fn smove_checks_both_types_before_moving() {
    let mut r = runner();
    run(&mut r, "SADD src a");
    run(&mut r, "SET str x");
    assert_eq!(run(&mut r, "SMOVE src str a"), err(WRONG_TYPE));
    assert_eq!(run(&mut r, "SMOVE str src a"), err(WRONG_TYPE));
    assert_eq!(run(&mut r, "SMOVE str str a"), err(WRONG_TYPE));
    assert_eq!(members(&mut r, "src"), ["a"]);
}

#[test]
fn smove_to_itself_and_of_the_last_member() {
    let mut r = runner();
    run(&mut r, "SADD set a b c");
    assert_eq!(run(&mut r, "SMOVE set set b"), int(1));
    assert_eq!(members(&mut r, "set"), ["a", "b", "c"]);
    run(&mut r, "SADD src x");
    run(&mut r, "SADD dst x");
    assert_eq!(run(&mut r, "SMOVE src dst x"), int(1));
    assert!(!exists(&r, "src"));
    assert_eq!(members(&mut r, "dst"), ["x"]);
}

// --- SPOP -------------------------------------------------------------------------------

#[test]
fn spop_one_member_at_a_time() {
    for contents in ["a b c", "1 2 3"] {
        let mut r = runner();
        run(&mut r, &format!("SADD myset {contents}"));
        let mut popped: Vec<String> = (0..3)
            .map(|_| match run(&mut r, "SPOP myset") {
                Frame::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
                other => panic!("{other:?}"),
            })
            .collect();
        popped.sort();
        assert_eq!(popped, words(contents));
        assert!(!exists(&r, "myset"));
        assert_eq!(run(&mut r, "SPOP myset"), Frame::Null);
    }
}

#[test]
fn spop_with_count_in_every_case() {
    for contents in [
        "a b c d e f g h i j k l m n o p q r s t u v w x y z",
        "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26",
    ] {
        let mut r = runner();
        run(&mut r, &format!("SADD myset {contents}"));
        let mut all = Vec::new();
        for count in [11, 9, 0, 4, 1, 0, 1, 0] {
            let reply = run(&mut r, &format!("SPOP myset {count}"));
            let got = sorted(reply);
            assert_eq!(got.len(), count);
            all.extend(got);
        }
        all.sort();
        assert_eq!(all, words(contents));
        assert!(!exists(&r, "myset"));
    }
}

#[test]
fn spop_most_of_a_set_keeps_the_rest() {
    let mut r = runner();
    sadd_range(&mut r, "myset", 1..21);
    let popped = sorted(run(&mut r, "SPOP myset 18"));
    assert_eq!(popped.len(), 18);
    let mut union = members(&mut r, "myset");
    assert_eq!(union.len(), 2);
    union.extend(popped);
    union.sort();
    let mut expected: Vec<String> = (1..21).map(|i| i.to_string()).collect();
    expected.sort();
    assert_eq!(union, expected);
}

#[test]
fn spop_rebuilding_a_table_of_integers_makes_an_intset() {
    // As in Redis: the survivors start a fresh set in the encoding the first one calls for.
    let mut r = runner();
    run(&mut r, "SADD s x 1 2 3 4 5 6 7 8 9 10 11");
    run(&mut r, "SREM s x");
    assert_eq!(encoding(&r, "s"), "hashtable");
    assert_eq!(sorted(run(&mut r, "SPOP s 10")).len(), 10);
    assert_eq!(encoding(&r, "s"), "intset");
    assert_eq!(run(&mut r, "SCARD s"), int(1));
}

#[test]
fn spop_keeps_the_ttl_and_an_intset_stays_one() {
    let mut r = runner();
    sadd_range(&mut r, "s", 0..20);
    run(&mut r, "EXPIRE s 100");
    assert_eq!(sorted(run(&mut r, "SPOP s 18")).len(), 18);
    assert_eq!(encoding(&r, "s"), "intset");
    assert_eq!(run(&mut r, "TTL s"), int(100));
    assert_eq!(sorted(run(&mut r, "SPOP s 1")).len(), 1);
    assert_eq!(run(&mut r, "TTL s"), int(100));
}

#[test]
fn spop_whole_set_answers_a_set_and_deletes() {
    let mut r = runner();
    run(&mut r, "SADD s 3 1 2");
    assert_eq!(
        run(&mut r, "SPOP s 30"),
        Frame::Set(bulks(&["1", "2", "3"]))
    );
    assert!(!exists(&r, "s"));
    assert_eq!(run(&mut r, "SPOP s 100"), Frame::Set(vec![]));
    assert_eq!(run(&mut r, "SPOP s 0"), Frame::Set(vec![]));
}

#[test]
fn spop_errors() {
    let mut r = runner();
    run(&mut r, "SET k v");
    assert_eq!(run(&mut r, "SPOP s -1"), err(NOT_POSITIVE));
    assert_eq!(run(&mut r, "SPOP s a"), err(NOT_POSITIVE));
    // The count is read before the key.
    assert_eq!(run(&mut r, "SPOP k -1"), err(NOT_POSITIVE));
    assert_eq!(run(&mut r, "SPOP s 1 2"), err(SYNTAX));
}

// --- SRANDMEMBER ------------------------------------------------------------------------

#[test]
fn srandmember_without_count() {
    let mut r = runner();
    assert_eq!(run(&mut r, "SRANDMEMBER nokey"), Frame::Null);
    run(&mut r, "SADD s a b c");
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..200 {
        match run(&mut r, "SRANDMEMBER s") {
            Frame::Bulk(b) => seen.insert(String::from_utf8(b.to_vec()).unwrap()),
            other => panic!("{other:?}"),
        };
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["a", "b", "c"]);
    assert_eq!(run(&mut r, "SCARD s"), int(3));
}

#[test]
fn srandmember_with_count_in_every_case() {
    for prefix in ["", "m"] {
        let mut r = runner();
        let contents: Vec<String> = (0..50).map(|i| format!("{prefix}{i}")).collect();
        let mut argv = vec!["SADD".to_string(), "s".to_string()];
        argv.extend(contents.iter().cloned());
        r.run(argv);
        let mut expected = contents.clone();
        expected.sort();
        assert_eq!(run(&mut r, "SRANDMEMBER s 0"), Frame::Array(vec![]));
        // Negative: repeats allowed, exactly that many.
        let repeated = sorted(run(&mut r, "SRANDMEMBER s -100"));
        assert_eq!(repeated.len(), 100);
        assert!(repeated.iter().all(|m| expected.contains(m)));
        // At least the set size: the whole set.
        for size in [50, 100] {
            assert_eq!(
                sorted(run(&mut r, &format!("SRANDMEMBER s {size}"))),
                expected
            );
        }
        // Fewer: distinct members, and eventually every one of them.
        for size in [45, 5] {
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..200 {
                let got = sorted(run(&mut r, &format!("SRANDMEMBER s {size}")));
                assert_eq!(got.len(), size);
                let distinct: std::collections::BTreeSet<_> = got.iter().collect();
                assert_eq!(distinct.len(), size);
                seen.extend(got);
            }
            assert_eq!(seen.into_iter().collect::<Vec<_>>(), expected);
        }
        assert_eq!(run(&mut r, "SCARD s"), int(50));
    }
}

#[test]
fn srandmember_count_errors_and_edges() {
    let mut r = runner();
    assert_eq!(run(&mut r, "SRANDMEMBER nokey 100"), Frame::Array(vec![]));
    run(&mut r, "SADD s a");
    assert_eq!(
        run(&mut r, "SRANDMEMBER s -9223372036854775808"),
        err(COUNT_OUT_OF_RANGE)
    );
    assert_eq!(run(&mut r, "SRANDMEMBER s x"), err(NOT_INT));
    assert_eq!(run(&mut r, "SRANDMEMBER s 1 2"), err(SYNTAX));
    assert_eq!(
        run(&mut r, "SRANDMEMBER s 9223372036854775807"),
        Frame::Array(bulks(&["a"]))
    );
    assert_eq!(
        run(&mut r, "SRANDMEMBER s -3"),
        Frame::Array(bulks(&["a", "a", "a"]))
    );
}

#[test]
fn srandmember_is_roughly_uniform() {
    let mut r = runner();
    run(&mut r, "SADD s 0 1 2 3 4 5 6 7 8 9");
    let mut counts = [0usize; 10];
    for reply in [run(&mut r, "SRANDMEMBER s -10000")] {
        for m in sorted(reply) {
            counts[m.parse::<usize>().unwrap()] += 1;
        }
    }
    // Each should be near 1000; a uniform draw leaves this range with negligible probability.
    assert!(
        counts.iter().all(|&c| (800..1200).contains(&c)),
        "{counts:?}"
    );
}

// --- SINTER / SINTERCARD / SINTERSTORE / SUNION / SDIFF ----------------------------------

/// Builds Redis's test sets in the encoding `large` calls for ("200" keeps intsets, "foo"
/// makes tables).
fn algebra_sets(r: &mut CommandRunner, large: &str) {
    run(r, "DEL set1 set2 set3 set4 set5");
    sadd_range(r, "set1", 0..200);
    sadd_range(r, "set2", 195..395);
    run(r, "SADD set3 199 195 1000 2000");
    sadd_range(r, "set4", 5..200);
    run(r, "SADD set5 0");
    for i in 1..=5 {
        run(r, &format!("SADD set{i} {large}"));
    }
}

#[test]
fn algebra_in_both_encodings() {
    for (encoding_name, large) in [("hashtable", "foo"), ("intset", "200")] {
        let mut r = runner();
        algebra_sets(&mut r, large);
        for i in 1..=5 {
            assert_eq!(encoding(&r, &format!("set{i}")), encoding_name);
        }
        let inter = words(&format!("195 196 197 198 199 {large}"));
        assert_eq!(sorted(run(&mut r, "SINTER set1 set2")), inter);
        assert_eq!(run(&mut r, "SINTERCARD 2 set1 set2"), int(6));
        assert_eq!(run(&mut r, "SINTERCARD 2 set1 set2 LIMIT 0"), int(6));
        assert_eq!(run(&mut r, "SINTERCARD 2 set1 set2 limit 3"), int(3));
        assert_eq!(run(&mut r, "SINTERCARD 2 set1 set2 LIMIT 10"), int(6));
        assert_eq!(run(&mut r, "SINTERSTORE setres set1 set2"), int(6));
        assert_eq!(encoding(&r, "setres"), encoding_name);
        assert_eq!(members(&mut r, "setres"), inter);

        let mut union: Vec<String> = (0..395).map(|i| i.to_string()).collect();
        union.push(large.to_string());
        union.sort();
        union.dedup();
        assert_eq!(sorted(run(&mut r, "SUNION set1 set2")), union);
        assert_eq!(
            run(&mut r, "SUNIONSTORE setres set1 set2"),
            int(union.len() as i64)
        );
        assert_eq!(encoding(&r, "setres"), encoding_name);
        assert_eq!(sorted(run(&mut r, "SUNION nokey1 set1 set2 nokey2")), union);

        let three = words(&format!("195 199 {large}"));
        assert_eq!(sorted(run(&mut r, "SINTER set1 set2 set3")), three);
        assert_eq!(run(&mut r, "SINTERCARD 3 set1 set2 set3 LIMIT 2"), int(2));
        assert_eq!(run(&mut r, "SINTERSTORE setres set1 set2 set3"), int(3));

        assert_eq!(sorted(run(&mut r, "SDIFF set1 set4")), words("0 1 2 3 4"));
        assert_eq!(
            sorted(run(&mut r, "SDIFF set1 set4 set5")),
            words("1 2 3 4")
        );
        assert_eq!(run(&mut r, "SDIFFSTORE setres set1 set4 set5"), int(4));
        // Integer results are stored as an intset whatever the sources were.
        assert_eq!(encoding(&r, "setres"), "intset");

        let all = members(&mut r, "set1");
        assert_eq!(sorted(run(&mut r, "SINTER set1 set1 set1")), all);
        assert_eq!(sorted(run(&mut r, "SUNION set1 set1 set1")), all);
        assert_eq!(run(&mut r, "SDIFF set1 set1 set1"), Frame::Set(vec![]));
    }
}

#[test]
fn integer_results_come_back_sorted() {
    let mut r = runner();
    run(&mut r, "SADD a x 30 10");
    run(&mut r, "SADD b 20");
    run(&mut r, "SREM a x");
    assert_eq!(
        run(&mut r, "SUNION a b"),
        Frame::Set(bulks(&["10", "20", "30"]))
    );
}

#[test]
fn sinter_with_mixed_encodings_and_missing_keys() {
    let mut r = runner();
    run(&mut r, "SADD set1 1 2 3");
    run(&mut r, "SADD set2 1 2 3 a");
    run(&mut r, "SREM set2 a");
    assert_eq!(sorted(run(&mut r, "SINTER set1 set2")), ["1", "2", "3"]);
    assert_eq!(run(&mut r, "SINTER set1 set2 nokey"), Frame::Set(vec![]));
    assert_eq!(run(&mut r, "SINTERCARD 1 nokey"), int(0));
    assert_eq!(run(&mut r, "SINTERCARD 1 nokey LIMIT 10"), int(0));
}

#[test]
fn sintercard_argument_errors() {
    let mut r = runner();
    run(&mut r, "SET str x");
    for (line, error) in [
        ("SINTERCARD 0 myset", NUMKEYS_NOT_POSITIVE),
        ("SINTERCARD a myset", NUMKEYS_NOT_POSITIVE),
        ("SINTERCARD -1 myset", NUMKEYS_NOT_POSITIVE),
        ("SINTERCARD 2 myset", NUMKEYS_TOO_MANY),
        ("SINTERCARD 3 myset myset2", NUMKEYS_TOO_MANY),
        ("SINTERCARD 1 myset myset2", SYNTAX),
        ("SINTERCARD 1 myset bar_arg", SYNTAX),
        ("SINTERCARD 1 myset LIMIT", SYNTAX),
        ("SINTERCARD 1 myset LIMIT -1", LIMIT_NEGATIVE),
        ("SINTERCARD 1 myset LIMIT a", LIMIT_NEGATIVE),
        // Options are read before any key is looked at.
        ("SINTERCARD 1 str LIMIT -1", LIMIT_NEGATIVE),
        ("SINTERCARD 1 myset LIMIT 1 LIMIT -2", LIMIT_NEGATIVE),
    ] {
        assert_eq!(run(&mut r, line), err(error), "{line}");
    }
}

#[test]
fn store_forms_delete_the_destination_on_an_empty_result() {
    let mut r = runner();
    for command in ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"] {
        run(&mut r, "SET setres xxx");
        assert_eq!(
            run(&mut r, &format!("{command} setres foo111 bar222")),
            int(0)
        );
        assert!(!exists(&r, "setres"), "{command}");
    }
    run(&mut r, "SADD set1 a b c");
    run(&mut r, "SADD set3 e");
    assert_eq!(run(&mut r, "SDIFFSTORE set3 set2 set1"), int(0));
    assert!(!exists(&r, "set3"));
    assert_eq!(run(&mut r, "SUNIONSTORE set3 set1 set2"), int(3));
    assert_eq!(members(&mut r, "set3"), ["a", "b", "c"]);
}

#[test]
fn store_forms_leave_the_destination_alone_on_wrongtype() {
    let mut r = runner();
    run(&mut r, "SET key1 x");
    run(&mut r, "SADD set1 a b c");
    run(&mut r, "SADD set3 e");
    for command in ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"] {
        assert_eq!(
            run(&mut r, &format!("{command} set3 set1 key1 noset")),
            err(WRONG_TYPE)
        );
        assert_eq!(members(&mut r, "set3"), ["e"]);
    }
}

#[test]
fn store_overwrites_and_clears_the_ttl() {
    let mut r = runner();
    run(&mut r, "SADD src a b");
    run(&mut r, "SET dst x EX 100");
    assert_eq!(run(&mut r, "SUNIONSTORE dst src"), int(2));
    assert_eq!(run(&mut r, "TTL dst"), int(-1));
    assert_eq!(members(&mut r, "dst"), ["a", "b"]);
}

#[test]
fn sdiff_edge_cases() {
    let mut r = runner();
    run(&mut r, "SADD set2 1 2 3 4");
    run(&mut r, "SADD set3 a b c d");
    assert_eq!(run(&mut r, "SDIFF set1 set2 set3"), Frame::Set(vec![]));
    run(&mut r, "SADD same a b c 1 2 3 4 5 6");
    assert_eq!(run(&mut r, "SDIFF same same"), Frame::Set(vec![]));
    run(&mut r, "SADD x a b c");
    run(&mut r, "SADD y b c d");
    assert_eq!(sorted(run(&mut r, "SDIFF x y nokey")), ["a"]);
    assert_eq!(run(&mut r, "SDIFF nokey y x"), Frame::Set(vec![]));
    // The copy-and-remove strategy (small first set, big others).
    sadd_range(&mut r, "big", 0..100);
    run(&mut r, "SADD small 1 2 500");
    assert_eq!(sorted(run(&mut r, "SDIFF small big big2")), ["500"]);
}

#[test]
fn expired_sources_read_as_missing() {
    let mut r = runner();
    run(&mut r, "SADD a 1 2");
    run(&mut r, "SADD b 2 3");
    run(&mut r, "PEXPIRE a 100");
    r.advance_ms(200);
    assert_eq!(sorted(run(&mut r, "SUNION a b")), ["2", "3"]);
    assert_eq!(run(&mut r, "SINTER a b"), Frame::Set(vec![]));
    assert!(!exists(&r, "a"));
}

#[test]
fn resp3_replies_are_sets_where_redis_sends_sets() {
    let mut r = runner();
    r.set_resp(RespVersion::Resp3);
    run(&mut r, "SADD s 1");
    assert_eq!(run(&mut r, "SMEMBERS s"), Frame::Set(bulks(&["1"])));
    assert_eq!(run(&mut r, "SRANDMEMBER s 1"), Frame::Array(bulks(&["1"])));
    assert_eq!(run(&mut r, "SPOP s 1"), Frame::Set(bulks(&["1"])));
}

// --- SSCAN ------------------------------------------------------------------------------

fn scan_all(r: &mut CommandRunner, key: &str, extra: &str) -> (usize, Vec<String>) {
    let mut cursor = "0".to_string();
    let mut found = Vec::new();
    let mut calls = 0;
    loop {
        calls += 1;
        let line = format!("SSCAN {key} {cursor}{extra}");
        let Frame::Array(parts) = run(r, &line) else {
            panic!("not an array");
        };
        let [Frame::Bulk(next), Frame::Array(items)] = &parts[..] else {
            panic!("bad shape {parts:?}");
        };
        found.extend(sorted(Frame::Array(items.clone())));
        cursor = String::from_utf8(next.to_vec()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    found.sort();
    (calls, found)
}

#[test]
fn sscan_intset_in_one_call_and_table_by_cursor() {
    let mut r = runner();
    sadd_range(&mut r, "ints", 0..100);
    let (calls, found) = scan_all(&mut r, "ints", "");
    assert_eq!((calls, found.len()), (1, 100));
    let mut argv = vec!["SADD".to_string(), "strs".to_string()];
    argv.extend((0..100).map(|i| format!("ele:{i}")));
    r.run(argv);
    let (calls, found) = scan_all(&mut r, "strs", "");
    assert!(calls > 1);
    assert_eq!(found.len(), 100);
    let (_, found) = scan_all(&mut r, "strs", " COUNT 1000");
    assert_eq!(found.len(), 100);
}

#[test]
fn sscan_match() {
    let mut r = runner();
    run(&mut r, "SADD mykey foo fab fiz foobar 1 2 3 4");
    let (_, found) = scan_all(&mut r, "mykey", " MATCH foo* COUNT 10000");
    assert_eq!(found, ["foo", "foobar"]);
    run(&mut r, "SADD ints 1 10 2");
    let (_, found) = scan_all(&mut r, "ints", " MATCH *1*");
    assert_eq!(found, ["1", "10"]);
}

#[test]
fn sscan_errors_and_missing_key() {
    let mut r = runner();
    assert_eq!(
        run(&mut r, "SSCAN nokey 0"),
        Frame::Array(vec![bulk("0"), Frame::Array(vec![])])
    );
    // Options are only read once there is a set.
    assert_eq!(
        run(&mut r, "SSCAN nokey 0 COUNT 0"),
        Frame::Array(vec![bulk("0"), Frame::Array(vec![])])
    );
    assert_eq!(run(&mut r, "SSCAN nokey abc"), err("ERR invalid cursor"));
    assert_eq!(
        run(&mut r, "SSCAN nokey 18446744073709551616"),
        err("ERR invalid cursor")
    );
    run(&mut r, "SADD s a");
    assert_eq!(run(&mut r, "SSCAN s 0 COUNT 0"), err(SYNTAX));
    assert_eq!(run(&mut r, "SSCAN s 0 COUNT x"), err(NOT_INT));
    assert_eq!(run(&mut r, "SSCAN s 0 TYPE set"), err(SYNTAX));
    assert_eq!(run(&mut r, "SSCAN s 0 MATCH"), err(SYNTAX));
    assert_eq!(
        run(&mut r, "SSCAN s -1"),
        Frame::Array(vec![bulk("0"), Frame::Array(bulks(&["a"]))])
    );
}

#[test]
fn sscan_sees_every_member_that_stays_while_others_go() {
    let mut r = runner();
    run(&mut r, "SADD set x");
    sadd_range(&mut r, "set", 0..600);
    let mut cursor = "0".to_string();
    let mut found = std::collections::HashSet::new();
    let mut iteration = 0;
    loop {
        let Frame::Array(parts) = run(&mut r, &format!("SSCAN set {cursor}")) else {
            panic!()
        };
        let [Frame::Bulk(next), Frame::Array(items)] = &parts[..] else {
            panic!()
        };
        found.extend(sorted(Frame::Array(items.clone())));
        cursor = String::from_utf8(next.to_vec()).unwrap();
        iteration += 1;
        if iteration == 3 {
            let mut argv = vec!["SREM".to_string(), "set".to_string()];
            argv.extend((100..600).map(|i| i.to_string()));
            r.run(argv);
        }
        if cursor == "0" {
            break;
        }
    }
    for i in 0..100 {
        assert!(found.contains(&i.to_string()), "missing {i}");
    }
}

// --- other families see sets ------------------------------------------------------------

#[test]
fn type_object_encoding_and_copy() {
    let mut r = runner();
    run(&mut r, "SADD s 1 2");
    assert_eq!(run(&mut r, "TYPE s"), Frame::simple_static("set"));
    assert_eq!(run(&mut r, "OBJECT ENCODING s"), bulk("intset"));
    assert_eq!(run(&mut r, "COPY s t"), int(1));
    assert_eq!(members(&mut r, "t"), ["1", "2"]);
    assert_eq!(encoding(&r, "t"), "intset");
}
