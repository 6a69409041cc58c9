use bytes::Bytes;
use oxidis_protocol::Frame;

use crate::command::{Args, Handler};
use crate::context::CommandContext;
use crate::errors::WRONG_TYPE;
use crate::errors::bitops::*;
use crate::events::class;
use crate::testing::{CommandRunner, bulk, err};

fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

fn ints(ns: &[i64]) -> Frame {
    Frame::Array(ns.iter().map(|&n| Frame::Integer(n)).collect())
}

fn raw(bytes: &[u8]) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(bytes))
}

fn set_raw(r: &mut CommandRunner, key: &str, value: &[u8]) {
    assert_eq!(
        r.run([b"SET".as_slice(), key.as_bytes(), value]),
        Frame::ok()
    );
}

fn dirty(r: &CommandRunner) -> u64 {
    r.server.dirty
}

/// Runs a command straight through its handler and returns its reply and the keyspace events
/// it raised, as (name, key) pairs.
fn run_with_events(r: &mut CommandRunner, argv: &[&str]) -> (Frame, Vec<(&'static str, String)>) {
    r.server.config.notify_keyspace_events = class::ALL | class::KEYEVENT;
    let argv = crate::testing::argv_of(argv);
    let command = r.server.table.get(&argv[0]).expect("a known command");
    let reply = {
        let mut ctx = CommandContext::new(&mut r.server, r.client, command);
        let mut args = Args::new(&argv, 1);
        let Handler::Builtin(handler) = command.spec.handler else {
            panic!("a built-in command");
        };
        handler(&mut ctx, &mut args).unwrap_or_else(|e| Frame::error(e.to_string()))
    };
    let events = r
        .server
        .events
        .take()
        .into_iter()
        .map(|e| (e.name, String::from_utf8_lossy(&e.key).into_owned()))
        .collect();
    (reply, events)
}

// ---------------------------------------------------------------------------------------------
// SETBIT and GETBIT.

#[test]
fn setbit_creates_a_zero_padded_raw_string_and_returns_the_old_bit() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(r.run(["SETBIT", "k", "1", "1"]), int(0));
    assert_eq!(r.run(["GET", "k"]), raw(b"\x40"));
    assert_eq!(r.run(["SETBIT", "k", "1", "1"]), int(1));
    assert_eq!(r.run(["SETBIT", "k", "23", "1"]), int(0));
    assert_eq!(r.run(["GET", "k"]), raw(b"\x40\x00\x01"));
    assert_eq!(r.run(["SETBIT", "k", "1", "0"]), int(1));
    assert_eq!(r.run(["GET", "k"]), raw(b"\x00\x00\x01"));
    assert_eq!(r.run(["OBJECT", "ENCODING", "k"]), bulk("raw"));
    // Clearing a bit of a new key still creates it.
    assert_eq!(r.run(["SETBIT", "z", "15", "0"]), int(0));
    assert_eq!(r.run(["GET", "z"]), raw(b"\x00\x00"));
}

#[test]
fn setbit_works_on_integer_encoded_strings() {
    let mut r = CommandRunner::with_builtin_commands();
    r.run(["SET", "k", "1"]);
    assert_eq!(r.run(["SETBIT", "k", "6", "1"]), int(0));
    assert_eq!(r.run(["GET", "k"]), bulk("3"));
    assert_eq!(r.run(["GETBIT", "k", "7"]), int(1));
    assert_eq!(r.run(["OBJECT", "ENCODING", "k"]), bulk("raw"));
    r.run(["SET", "n", "12"]);
    assert_eq!(r.run(["GETBIT", "n", "2"]), int(1));
    assert_eq!(r.run(["GETBIT", "n", "6"]), int(0));
    assert_eq!(r.run(["GETBIT", "n", "14"]), int(1));
    assert_eq!(r.run(["GETBIT", "n", "10000"]), int(0));
}

#[test]
fn setbit_and_getbit_refuse_bad_offsets_and_values() {
    let mut r = CommandRunner::with_builtin_commands();
    for offset in ["-1", "x", "4294967296", "01", "+1", "#1"] {
        assert_eq!(
            r.run(["SETBIT", "k", offset, "1"]),
            err(BIT_OFFSET_OUT_OF_RANGE),
            "{offset}"
        );
        assert_eq!(
            r.run(["GETBIT", "k", offset]),
            err(BIT_OFFSET_OUT_OF_RANGE),
            "{offset}"
        );
    }
    for value in ["-1", "2", "10", "x", ""] {
        assert_eq!(
            r.run(["SETBIT", "k", "0", value]),
            err(BIT_VALUE_OUT_OF_RANGE)
        );
    }
    assert_eq!(r.run(["EXISTS", "k"]), int(0));
    // The last bit of a proto-max-bulk-len string is allowed; the next is not.
    r.run(["CONFIG", "SET", "proto-max-bulk-len", "1048576"]);
    assert_eq!(r.run(["SETBIT", "k", "8388607", "1"]), int(0));
    assert_eq!(r.run(["STRLEN", "k"]), int(1_048_576));
    assert_eq!(
        r.run(["SETBIT", "k", "8388608", "1"]),
        err(BIT_OFFSET_OUT_OF_RANGE)
    );
}

#[test]
fn bit_commands_check_arguments_before_the_type_but_after_for_reads() {
    let mut r = CommandRunner::with_builtin_commands();
    r.run(["LPUSH", "l", "a"]);
    assert_eq!(
        r.run(["SETBIT", "l", "x", "1"]),
        err(BIT_OFFSET_OUT_OF_RANGE)
    );
    assert_eq!(
        r.run(["SETBIT", "l", "0", "2"]),
        err(BIT_VALUE_OUT_OF_RANGE)
    );
    assert_eq!(r.run(["SETBIT", "l", "0", "1"]), err(WRONG_TYPE));
    assert_eq!(r.run(["GETBIT", "l", "x"]), err(BIT_OFFSET_OUT_OF_RANGE));
    assert_eq!(r.run(["GETBIT", "l", "0"]), err(WRONG_TYPE));
    // BITCOUNT and BITPOS look the key up first.
    assert_eq!(r.run(["BITCOUNT", "l", "x"]), err(WRONG_TYPE));
    assert_eq!(r.run(["BITCOUNT", "nokey", "x"]), int(0));
    assert_eq!(r.run(["BITPOS", "l", "1"]), err(WRONG_TYPE));
    assert_eq!(r.run(["BITPOS", "l", "2"]), err(BIT_ARGUMENT));
    assert_eq!(r.run(["BITPOS", "nokey", "1", "x"]), int(-1));
    assert_eq!(r.run(["BITFIELD", "l", "GET", "u8", "0"]), err(WRONG_TYPE));
    assert_eq!(r.run(["BITFIELD", "l"]), err(WRONG_TYPE));
    assert_eq!(
        r.run(["BITFIELD_RO", "l", "GET", "u8", "0"]),
        err(WRONG_TYPE)
    );
    assert_eq!(
        r.run(["BITFIELD", "l", "SET", "u8", "0", "1"]),
        err(WRONG_TYPE)
    );
}

#[test]
fn setbit_counts_a_change_only_when_something_changed() {
    let mut r = CommandRunner::with_builtin_commands();
    let start = dirty(&r);
    r.run(["SETBIT", "k", "0", "0"]);
    assert_eq!(dirty(&r), start + 1, "a new key");
    r.run(["SETBIT", "k", "0", "0"]);
    assert_eq!(dirty(&r), start + 1, "no change");
    r.run(["SETBIT", "k", "0", "1"]);
    r.run(["SETBIT", "k", "0", "1"]);
    assert_eq!(dirty(&r), start + 2, "one change");
    r.run(["SETBIT", "k", "90", "0"]);
    assert_eq!(dirty(&r), start + 3, "growth alone");
}

#[test]
fn setbit_raises_setbit_only_on_change() {
    let mut r = CommandRunner::with_builtin_commands();
    let (reply, events) = run_with_events(&mut r, &["setbit", "k", "3", "1"]);
    assert_eq!(reply, int(0));
    assert_eq!(events, [("setbit", "k".to_string())]);
    let (_, events) = run_with_events(&mut r, &["setbit", "k", "3", "1"]);
    assert!(events.is_empty());
    let (_, events) = run_with_events(&mut r, &["setbit", "k", "100", "0"]);
    assert_eq!(events, [("setbit", "k".to_string())]);
}

// ---------------------------------------------------------------------------------------------
// BITCOUNT.

#[test]
fn bitcount_whole_string_and_byte_ranges() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(r.run(["BITCOUNT", "nokey"]), int(0));
    assert_eq!(r.run(["BITCOUNT", "nokey", "0", "1000", "bit"]), int(0));
    r.run(["SET", "s", "foobar"]);
    assert_eq!(r.run(["BITCOUNT", "s"]), int(26));
    assert_eq!(r.run(["BITCOUNT", "s", "0", "-1"]), int(26));
    assert_eq!(r.run(["BITCOUNT", "s", "1", "-2"]), int(18)); // "ooba"
    assert_eq!(r.run(["BITCOUNT", "s", "-2", "1"]), int(0));
    assert_eq!(r.run(["BITCOUNT", "s", "0", "1000"]), int(26));
    assert_eq!(r.run(["BITCOUNT", "s", "4", "10"]), int(7)); // "ar"
    assert_eq!(r.run(["BITCOUNT", "s", "6", "10"]), int(0));
    assert_eq!(r.run(["BITCOUNT", "s", "-100", "0"]), int(4));
    assert_eq!(r.run(["BITCOUNT", "s", "1", "1", "BYTE"]), int(6));
    r.run(["SET", "e", ""]);
    assert_eq!(r.run(["BITCOUNT", "e"]), int(0));
    assert_eq!(r.run(["BITCOUNT", "e", "0", "-1", "bit"]), int(0));
    r.run(["SET", "n", "123"]);
    assert_eq!(r.run(["BITCOUNT", "n"]), int(10));
}

#[test]
fn bitcount_bit_ranges() {
    let mut r = CommandRunner::with_builtin_commands();
    r.run(["SET", "s", "foobar"]);
    // "foobar" is 01100110 01101111 01101111 01100010 01100001 01110010.
    assert_eq!(r.run(["BITCOUNT", "s", "0", "-1", "BIT"]), int(26));
    assert_eq!(r.run(["BITCOUNT", "s", "10", "14", "bit"]), int(4));
    assert_eq!(r.run(["BITCOUNT", "s", "3", "14", "bit"]), int(7));
    assert_eq!(r.run(["BITCOUNT", "s", "10", "-34", "bit"]), int(4));
    assert_eq!(r.run(["BITCOUNT", "s", "1", "1", "bit"]), int(1));
    assert_eq!(r.run(["BITCOUNT", "s", "0", "0", "bit"]), int(0));
    assert_eq!(r.run(["BITCOUNT", "s", "-2", "1", "bit"]), int(0));
    assert_eq!(r.run(["BITCOUNT", "s", "47", "1000", "bit"]), int(0));
    assert_eq!(r.run(["BITCOUNT", "s", "46", "1000", "bit"]), int(1));
}

#[test]
fn bitcount_argument_errors_in_redis_order() {
    let mut r = CommandRunner::with_builtin_commands();
    r.run(["SET", "s", "xxxx"]);
    let not_int = "ERR value is not an integer or out of range";
    assert_eq!(r.run(["BITCOUNT", "s", "0"]), err("ERR syntax error"));
    assert_eq!(
        r.run(["BITCOUNT", "s", "0", "1", "hello"]),
        err("ERR syntax error")
    );
    assert_eq!(
        r.run(["BITCOUNT", "s", "0", "1", "bit", "x"]),
        err("ERR syntax error")
    );
    assert_eq!(r.run(["BITCOUNT", "s", "x", "1"]), err(not_int));
    assert_eq!(r.run(["BITCOUNT", "s", "0", "x"]), err(not_int));
    // A reversed negative range answers 0 before BYTE|BIT is even read.
    assert_eq!(r.run(["BITCOUNT", "s", "-6", "-7"]), int(0));
    assert_eq!(r.run(["BITCOUNT", "s", "-1", "-2", "hello"]), int(0));
    assert_eq!(r.run(["BITCOUNT", "s", "0", "4294967296"]), int(16));
}

// ---------------------------------------------------------------------------------------------
// BITPOS.

#[test]
fn bitpos_on_missing_and_empty_keys() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(r.run(["BITPOS", "nokey", "0"]), int(0));
    assert_eq!(r.run(["BITPOS", "nokey", "1"]), int(-1));
    assert_eq!(r.run(["BITPOS", "nokey", "0", "0", "-1", "bit"]), int(0));
    r.run(["SET", "e", ""]);
    assert_eq!(r.run(["BITPOS", "e", "0"]), int(-1));
    assert_eq!(r.run(["BITPOS", "e", "1"]), int(-1));
    assert_eq!(r.run(["BITPOS", "e", "0", "0", "-1", "bit"]), int(-1));
}

#[test]
fn bitpos_zero_without_an_end_assumes_zero_padding() {
    let mut r = CommandRunner::with_builtin_commands();
    set_raw(&mut r, "s", b"\xff\xff\xff");
    assert_eq!(r.run(["BITPOS", "s", "0"]), int(24));
    assert_eq!(r.run(["BITPOS", "s", "0", "0"]), int(24));
    assert_eq!(r.run(["BITPOS", "s", "0", "0", "-1"]), int(-1));
    assert_eq!(r.run(["BITPOS", "s", "0", "0", "-1", "bit"]), int(-1));
    set_raw(&mut r, "s", b"\xff\xf0\x00");
    assert_eq!(r.run(["BITPOS", "s", "0"]), int(12));
    assert_eq!(r.run(["BITPOS", "s", "0", "1"]), int(12));
    assert_eq!(r.run(["BITPOS", "s", "0", "1", "-1", "bit"]), int(12));
}

#[test]
fn bitpos_with_byte_and_bit_intervals() {
    let mut r = CommandRunner::with_builtin_commands();
    set_raw(&mut r, "s", b"\x00\xff\x00");
    assert_eq!(r.run(["BITPOS", "s", "0", "0", "-1"]), int(0));
    assert_eq!(r.run(["BITPOS", "s", "0", "1", "-1"]), int(16));
    assert_eq!(r.run(["BITPOS", "s", "0", "2", "200"]), int(16));
    assert_eq!(r.run(["BITPOS", "s", "0", "1", "1"]), int(-1));
    assert_eq!(r.run(["BITPOS", "s", "0", "8", "-1", "bit"]), int(16));
    assert_eq!(r.run(["BITPOS", "s", "0", "8", "8", "bit"]), int(-1));
    assert_eq!(r.run(["BITPOS", "s", "1", "0", "-1"]), int(8));
    assert_eq!(r.run(["BITPOS", "s", "1", "2", "-1"]), int(-1));
    assert_eq!(r.run(["BITPOS", "s", "1", "16", "200", "bit"]), int(-1));
    assert_eq!(r.run(["BITPOS", "s", "1", "8", "8", "bit"]), int(8));
    assert_eq!(r.run(["BITPOS", "s", "1", "9", "12", "bit"]), int(9));
    assert_eq!(r.run(["BITPOS", "s", "1", "3", "7", "BIT"]), int(-1));
    assert_eq!(r.run(["BITPOS", "s", "1", "-10", "-1", "bit"]), int(14));
    assert_eq!(r.run(["BITPOS", "s", "1", "2", "1"]), int(-1));
}

#[test]
fn bitpos_skips_long_runs() {
    let mut r = CommandRunner::with_builtin_commands();
    let mut ones = vec![0xffu8; 27];
    ones.push(0x0f);
    set_raw(&mut r, "s", &ones);
    for start in 0..9 {
        assert_eq!(r.run(["BITPOS", "s", "0", &start.to_string()]), int(216));
        let bit_start = (start * 8 + 1).to_string();
        assert_eq!(
            r.run(["BITPOS", "s", "0", &bit_start, "-1", "bit"]),
            int(216)
        );
    }
    let mut zeros = vec![0u8; 27];
    zeros.push(0xf0);
    set_raw(&mut r, "z", &zeros);
    assert_eq!(r.run(["BITPOS", "z", "1"]), int(216));
    assert_eq!(r.run(["BITPOS", "z", "1", "65", "-1", "bit"]), int(216));
}

#[test]
fn bitpos_argument_errors_in_redis_order() {
    let mut r = CommandRunner::with_builtin_commands();
    r.run(["SET", "s", "abc"]);
    let not_int = "ERR value is not an integer or out of range";
    assert_eq!(r.run(["BITPOS", "s", "x"]), err(not_int));
    assert_eq!(r.run(["BITPOS", "s", "-1"]), err(BIT_ARGUMENT));
    assert_eq!(r.run(["BITPOS", "s", "1", "x"]), err(not_int));
    // BYTE|BIT is checked before the end is parsed.
    assert_eq!(
        r.run(["BITPOS", "s", "1", "0", "x", "foo"]),
        err("ERR syntax error")
    );
    assert_eq!(r.run(["BITPOS", "s", "1", "0", "x", "bit"]), err(not_int));
    assert_eq!(
        r.run(["BITPOS", "s", "1", "0", "1", "bit", "x"]),
        err("ERR syntax error")
    );
}

// ---------------------------------------------------------------------------------------------
// BITOP.

#[test]
fn bitop_and_or_xor_zero_pad_shorter_inputs() {
    let mut r = CommandRunner::with_builtin_commands();
    set_raw(&mut r, "a", b"\x01\x02\xff\xff");
    set_raw(&mut r, "b", b"\x01\x02\xff");
    assert_eq!(r.run(["BITOP", "AND", "r1", "a", "b"]), int(4));
    assert_eq!(r.run(["GET", "r1"]), raw(b"\x01\x02\xff\x00"));
    assert_eq!(r.run(["BITOP", "or", "r2", "a", "b"]), int(4));
    assert_eq!(r.run(["GET", "r2"]), raw(b"\x01\x02\xff\xff"));
    assert_eq!(r.run(["BITOP", "Xor", "r3", "a", "b"]), int(4));
    assert_eq!(r.run(["GET", "r3"]), raw(b"\x00\x00\x00\xff"));
    assert_eq!(r.run(["BITOP", "and", "r4", "nokey", "a"]), int(4));
    assert_eq!(r.run(["GET", "r4"]), raw(b"\x00\x00\x00\x00"));
    assert_eq!(r.run(["BITOP", "and", "r5", "b"]), int(3));
    assert_eq!(r.run(["GET", "r5"]), raw(b"\x01\x02\xff"));
    assert_eq!(r.run(["OBJECT", "ENCODING", "r5"]), bulk("raw"));
}

#[test]
fn bitop_long_inputs_match_a_bytewise_reference() {
    let mut r = CommandRunner::with_builtin_commands();
    let a: Vec<u8> = (0..100u32).map(|i| (i * 37 % 251) as u8).collect();
    let b: Vec<u8> = (0..67u32).map(|i| (i * 91 % 241) as u8).collect();
    set_raw(&mut r, "a", &a);
    set_raw(&mut r, "b", &b);
    let pad = |v: &[u8], i: usize| v.get(i).copied().unwrap_or(0);
    let and: Vec<u8> = (0..100).map(|i| pad(&a, i) & pad(&b, i)).collect();
    let xor: Vec<u8> = (0..100).map(|i| pad(&a, i) ^ pad(&b, i)).collect();
    let not: Vec<u8> = a.iter().map(|x| !x).collect();
    r.run(["BITOP", "and", "d", "a", "b"]);
    assert_eq!(r.run(["GET", "d"]), raw(&and));
    r.run(["BITOP", "xor", "d", "b", "a"]);
    assert_eq!(r.run(["GET", "d"]), raw(&xor));
    r.run(["BITOP", "not", "d", "a"]);
    assert_eq!(r.run(["GET", "d"]), raw(&not));
}

#[test]
fn bitop_not_and_same_key() {
    let mut r = CommandRunner::with_builtin_commands();
    set_raw(&mut r, "s", b"\xaa\x00\xff\x55");
    assert_eq!(r.run(["BITOP", "NOT", "s", "s"]), int(4));
    assert_eq!(r.run(["GET", "s"]), raw(b"\x55\xff\x00\xaa"));
    assert_eq!(
        r.run(["BITOP", "NOT", "d", "s", "s"]),
        err(BITOP_NOT_SINGLE_SOURCE)
    );
    assert_eq!(r.run(["BITOP", "NAND", "d", "s"]), err("ERR syntax error"));
    r.run(["SET", "a", "1"]);
    r.run(["SET", "b", "2"]);
    assert_eq!(r.run(["BITOP", "xor", "d", "a", "b", "a"]), int(1));
    assert_eq!(r.run(["GET", "d"]), bulk("2"));
}

#[test]
fn bitop_with_only_empty_inputs_deletes_the_destination() {
    let mut r = CommandRunner::with_builtin_commands();
    r.run(["LPUSH", "d", "x"]);
    r.run(["SET", "e", ""]);
    let (reply, events) = run_with_events(&mut r, &["bitop", "or", "d", "e", "nokey"]);
    assert_eq!(reply, int(0));
    assert_eq!(events, [("del", "d".to_string())]);
    assert_eq!(r.run(["EXISTS", "d"]), int(0));
    let (_, events) = run_with_events(&mut r, &["bitop", "not", "d", "e"]);
    assert!(events.is_empty());
}

#[test]
fn bitop_sets_the_destination_clearing_its_ttl() {
    let mut r = CommandRunner::with_builtin_commands();
    r.run(["SET", "d", "old", "EX", "100"]);
    r.run(["SET", "a", "abc"]);
    let (reply, events) = run_with_events(&mut r, &["bitop", "and", "d", "a"]);
    assert_eq!(reply, int(3));
    assert_eq!(events, [("set", "d".to_string())]);
    assert_eq!(r.run(["TTL", "d"]), int(-1));
}

#[test]
fn bitop_refuses_non_string_sources() {
    let mut r = CommandRunner::with_builtin_commands();
    r.run(["SET", "a", "1"]);
    r.run(["LPUSH", "c", "foo"]);
    assert_eq!(r.run(["BITOP", "xor", "d", "a", "c", "z"]), err(WRONG_TYPE));
    assert_eq!(r.run(["EXISTS", "d"]), int(0));
}

// ---------------------------------------------------------------------------------------------
// BITFIELD.

#[test]
fn bitfield_set_get_and_incrby_basics() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(
        r.run(["BITFIELD", "b", "SET", "i8", "0", "-100"]),
        ints(&[0])
    );
    assert_eq!(
        r.run(["BITFIELD", "b", "SET", "i8", "0", "101"]),
        ints(&[-100])
    );
    assert_eq!(r.run(["BITFIELD", "b", "GET", "i8", "0"]), ints(&[101]));
    r.run(["DEL", "b"]);
    assert_eq!(
        r.run([
            "BITFIELD", "b", "set", "u8", "0", "255", "incrby", "u8", "0", "100", "get", "u8", "0"
        ]),
        ints(&[0, 99, 99])
    );
    assert_eq!(r.run(["BITFIELD", "b"]), Frame::Array(vec![]));
    assert_eq!(
        r.run(["BITFIELD", "nokey", "GET", "u8", "0", "GET", "i64", "900"]),
        ints(&[0, 0])
    );
}

#[test]
fn bitfield_hash_offsets_count_fields() {
    let mut r = CommandRunner::with_builtin_commands();
    r.run(["BITFIELD", "b", "SET", "u8", "#0", "65"]);
    r.run(["BITFIELD", "b", "SET", "u8", "#1", "66"]);
    r.run(["BITFIELD", "b", "SET", "u8", "#2", "67"]);
    assert_eq!(r.run(["GET", "b"]), bulk("ABC"));
    assert_eq!(r.run(["BITFIELD", "b", "GET", "u4", "#3"]), ints(&[2]));
    // Redis multiplies without an overflow check: 2^61 fields of 8 bits wrap to offset 0.
    assert_eq!(
        r.run(["BITFIELD", "b", "GET", "u8", "#2305843009213693952"]),
        ints(&[65])
    );
    assert_eq!(
        r.run(["BITFIELD", "b", "GET", "u8", "#1152921504606846976"]),
        err(BIT_OFFSET_OUT_OF_RANGE)
    );
    assert_eq!(
        r.run(["BITFIELD", "b", "GET", "u8", "#"]),
        err(BIT_OFFSET_OUT_OF_RANGE)
    );
    assert_eq!(
        r.run(["BITFIELD", "b", "GET", "u8", "#-1"]),
        err(BIT_OFFSET_OUT_OF_RANGE)
    );
}

#[test]
fn bitfield_overflow_policies() {
    let mut r = CommandRunner::with_builtin_commands();
    r.run(["BITFIELD", "b", "SET", "u8", "#0", "100"]);
    assert_eq!(
        r.run([
            "BITFIELD", "b", "OVERFLOW", "WRAP", "INCRBY", "u8", "#0", "257"
        ]),
        ints(&[101])
    );
    assert_eq!(
        r.run([
            "BITFIELD", "b", "overflow", "sat", "incrby", "u8", "#0", "257"
        ]),
        ints(&[255])
    );
    assert_eq!(
        r.run([
            "BITFIELD", "b", "overflow", "sat", "incrby", "u8", "#0", "-300"
        ]),
        ints(&[0])
    );
    assert_eq!(
        r.run([
            "BITFIELD", "b", "overflow", "fail", "incrby", "u8", "#0", "-1", "get", "u8", "#0"
        ]),
        Frame::Array(vec![Frame::Null, int(0)])
    );
    r.run(["BITFIELD", "b", "SET", "i8", "#0", "100"]);
    assert_eq!(
        r.run(["BITFIELD", "b", "INCRBY", "i8", "#0", "257"]),
        ints(&[101])
    );
    assert_eq!(
        r.run([
            "BITFIELD", "b", "OVERFLOW", "SAT", "INCRBY", "i8", "#0", "257"
        ]),
        ints(&[127])
    );
    assert_eq!(
        r.run([
            "BITFIELD", "b", "OVERFLOW", "SAT", "INCRBY", "i8", "#0", "-257"
        ]),
        ints(&[-128])
    );
    assert_eq!(
        r.run(["BITFIELD", "b", "INCRBY", "i8", "#0", "-1"]),
        ints(&[127])
    );
    // OVERFLOW applies to the operations after it only.
    assert_eq!(
        r.run([
            "BITFIELD", "b", "INCRBY", "u2", "100", "5", "OVERFLOW", "FAIL", "INCRBY", "u2", "100",
            "5"
        ]),
        Frame::Array(vec![int(1), Frame::Null])
    );
}

#[test]
fn bitfield_unsigned_set_of_a_negative_value_overflows_upwards() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(
        r.run(["BITFIELD", "b", "OVERFLOW", "SAT", "SET", "u8", "0", "-1"]),
        ints(&[0])
    );
    assert_eq!(r.run(["BITFIELD", "b", "GET", "u8", "0"]), ints(&[255]));
    assert_eq!(
        r.run(["BITFIELD", "b", "SET", "u8", "0", "-2"]),
        ints(&[255])
    );
    assert_eq!(r.run(["BITFIELD", "b", "GET", "u8", "0"]), ints(&[254]));
    assert_eq!(
        r.run(["BITFIELD", "b", "OVERFLOW", "FAIL", "SET", "u8", "0", "-1"]),
        Frame::Array(vec![Frame::Null])
    );
}

#[test]
fn bitfield_64_bit_extremes() {
    let mut r = CommandRunner::with_builtin_commands();
    let max = i64::MAX.to_string();
    let min = i64::MIN.to_string();
    assert_eq!(
        r.run(["BITFIELD", "b", "SET", "i64", "3", &max]),
        ints(&[0])
    );
    assert_eq!(
        r.run(["BITFIELD", "b", "INCRBY", "i64", "3", "1"]),
        ints(&[i64::MIN])
    );
    assert_eq!(
        r.run([
            "BITFIELD", "b", "OVERFLOW", "SAT", "INCRBY", "i64", "3", &min
        ]),
        ints(&[i64::MIN])
    );
    assert_eq!(
        r.run([
            "BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "i64", "3", "-1"
        ]),
        Frame::Array(vec![Frame::Null])
    );
    assert_eq!(
        r.run(["BITFIELD", "u", "SET", "u63", "0", &max]),
        ints(&[0])
    );
    // 63 ones then a zero: as i64 that is -2.
    assert_eq!(
        r.run(["BITFIELD", "u", "GET", "u63", "0", "GET", "i64", "0"]),
        ints(&[i64::MAX, -2])
    );
    assert_eq!(
        r.run([
            "BITFIELD", "u", "OVERFLOW", "SAT", "INCRBY", "u63", "0", "1"
        ]),
        ints(&[i64::MAX])
    );
    assert_eq!(
        r.run(["BITFIELD", "u", "INCRBY", "u63", "0", "1"]),
        ints(&[0])
    );
}

#[test]
fn bitfield_type_and_syntax_errors() {
    let mut r = CommandRunner::with_builtin_commands();
    for ty in [
        "u64", "i65", "i0", "u0", "I8", "i08", "x8", "i", "", "i-1", "u+8",
    ] {
        assert_eq!(
            r.run(["BITFIELD", "b", "GET", ty, "0"]),
            err(INVALID_BITFIELD_TYPE),
            "{ty}"
        );
    }
    let syntax = err("ERR syntax error");
    assert_eq!(r.run(["BITFIELD", "b", "foo"]), syntax);
    assert_eq!(r.run(["BITFIELD", "b", "#1"]), syntax);
    assert_eq!(r.run(["BITFIELD", "b", "overflow"]), syntax);
    assert_eq!(r.run(["BITFIELD", "b", "get", "u8"]), syntax);
    assert_eq!(
        r.run(["BITFIELD", "b", "get", "u8", "0", "set", "u8", "0"]),
        syntax
    );
    assert_eq!(
        r.run(["BITFIELD", "b", "overflow", "bla", "get", "u8", "0"]),
        err(INVALID_OVERFLOW_TYPE)
    );
    assert_eq!(
        r.run(["BITFIELD", "b", "set", "u8", "0", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        r.run(["BITFIELD", "b", "get", "u8", "-1"]),
        err(BIT_OFFSET_OUT_OF_RANGE)
    );
    assert_eq!(
        r.run(["BITFIELD", "b", "get", "u8", "4294967296"]),
        err(BIT_OFFSET_OUT_OF_RANGE)
    );
    // Nothing ran: an error anywhere fails the whole command.
    assert_eq!(
        r.run(["BITFIELD", "b", "set", "u8", "0", "1", "get", "u64", "0"]),
        err(INVALID_BITFIELD_TYPE)
    );
    assert_eq!(r.run(["EXISTS", "b"]), int(0));
}

#[test]
fn bitfield_ro_reads_and_refuses_writes() {
    let mut r = CommandRunner::with_builtin_commands();
    r.run(["BITFIELD", "b", "SET", "u8", "0", "100"]);
    assert_eq!(r.run(["BITFIELD_RO", "b", "GET", "u8", "0"]), ints(&[100]));
    assert_eq!(r.run(["BITFIELD_RO", "b"]), Frame::Array(vec![]));
    assert_eq!(
        r.run([
            "BITFIELD_RO",
            "b",
            "SET",
            "u8",
            "0",
            "100",
            "GET",
            "u8",
            "0"
        ]),
        err(BITFIELD_RO_GET_ONLY)
    );
    assert_eq!(r.run(["BITFIELD_RO", "b", "foo"]), err("ERR syntax error"));
}

#[test]
fn bitfield_grows_once_and_regression_3564() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(
        r.run([
            "BITFIELD", "m", "SET", "i8", "0", "10", "SET", "i8", "64", "10", "INCRBY", "i8", "10",
            "99900"
        ]),
        ints(&[0, 0, 60])
    );
    assert_eq!(r.run(["STRLEN", "m"]), int(9));
    // A failed write still grows the string, as in Redis.
    r.run(["BITFIELD", "f", "OVERFLOW", "FAIL", "SET", "u2", "20", "9"]);
    assert_eq!(r.run(["GET", "f"]), raw(b"\x00\x00\x00"));
    r.run(["SET", "i", "1"]);
    assert_eq!(r.run(["BITFIELD", "i", "GET", "u1", "0"]), ints(&[0]));
    assert_eq!(r.run(["BITFIELD", "i", "GET", "u8", "0"]), ints(&[49]));
}

#[test]
fn bitfield_counts_changes_like_redis() {
    let mut r = CommandRunner::with_builtin_commands();
    let start = dirty(&r);
    r.run(["BITFIELD", "b", "SET", "i5", "0", "0"]);
    assert_eq!(dirty(&r), start + 1, "a new key");
    r.run(["BITFIELD", "b", "SET", "i5", "0", "0"]);
    assert_eq!(dirty(&r), start + 1, "no change");
    r.run([
        "BITFIELD", "b", "SET", "i5", "0", "1", "SET", "i5", "0", "1",
    ]);
    assert_eq!(dirty(&r), start + 2, "one change");
    r.run([
        "BITFIELD", "c", "INCRBY", "i5", "0", "1", "INCRBY", "i5", "0", "1",
    ]);
    assert_eq!(dirty(&r), start + 4, "two changes on a new key");
    r.run(["BITFIELD", "b", "SET", "i5", "90", "0"]);
    assert_eq!(dirty(&r), start + 5, "growth alone");
    let (reply, events) = run_with_events(&mut r, &["bitfield", "b", "incrby", "u8", "0", "0"]);
    assert_eq!(reply, ints(&[8]));
    assert!(events.is_empty());
    let (_, events) = run_with_events(
        &mut r,
        &[
            "bitfield", "b", "incrby", "u8", "0", "1", "set", "u8", "8", "1",
        ],
    );
    assert_eq!(events, [("setbit", "b".to_string())]);
}

#[test]
fn bitfield_wrap_matches_modular_arithmetic() {
    let mut r = CommandRunner::with_builtin_commands();
    let mut seed: u64 = 99;
    let mut next = || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        seed >> 11
    };
    for _ in 0..300 {
        let bits = 1 + (next() % 64) as u32;
        let signed = bits == 64 || next() % 2 == 0;
        let value = next() as i64 - (1 << 52);
        let increment = (next() as i64) << (next() % 12) as u32;
        let ty = format!("{}{bits}", if signed { 'i' } else { 'u' });
        r.run(["DEL", "w"]);
        r.run(["BITFIELD", "w", "SET", &ty, "5", &value.to_string()]);
        r.run(["BITFIELD", "w", "INCRBY", &ty, "5", &increment.to_string()]);
        let modulus = 1i128 << bits;
        let mut expected = (i128::from(value) + i128::from(increment)).rem_euclid(modulus);
        if signed && expected >= modulus / 2 {
            expected -= modulus;
        }
        assert_eq!(
            r.run(["BITFIELD", "w", "GET", &ty, "5"]),
            ints(&[i64::try_from(expected).unwrap()]),
            "{ty} {value} {increment}"
        );
    }
}

#[test]
fn bitfield_sat_keeps_redis_quirk_near_i64_min() {
    let mut r = CommandRunner::with_builtin_commands();
    let min = i64::MIN.to_string();
    // Redis's overflow test wraps around here and calls this an upward overflow.
    r.run(["BITFIELD", "b", "OVERFLOW", "SAT", "SET", "i9", "0", &min]);
    assert_eq!(r.run(["BITFIELD", "b", "GET", "i9", "0"]), ints(&[255]));
    let near_min = (i64::MIN + 300).to_string();
    r.run([
        "BITFIELD", "b", "OVERFLOW", "SAT", "SET", "i9", "0", &near_min,
    ]);
    assert_eq!(r.run(["BITFIELD", "b", "GET", "i9", "0"]), ints(&[-256]));
    r.run(["BITFIELD", "b", "OVERFLOW", "WRAP", "SET", "i9", "0", &min]);
    assert_eq!(r.run(["BITFIELD", "b", "GET", "i9", "0"]), ints(&[0]));
}

#[test]
fn strings_grow_as_sds_does() {
    let mut r = CommandRunner::with_builtin_commands();
    let capacity = |r: &mut CommandRunner, key: &str| {
        let db = &r.server.dbs[0];
        match &db.entry(db.find(key.as_bytes()).unwrap()).value {
            crate::types::Value::Mutable(v) => (v.len(), v.capacity()),
            other => panic!("{other:?}"),
        }
    };
    // A new key is exactly as long as needed.
    r.run(["SETBIT", "k", "799", "1"]);
    assert_eq!(capacity(&mut r, "k"), (100, 100));
    // Growing doubles below 1 MB...
    r.run(["SETBIT", "k", "807", "1"]);
    assert_eq!(capacity(&mut r, "k"), (101, 202));
    r.run(["SETBIT", "k", "1607", "1"]);
    assert_eq!(capacity(&mut r, "k"), (201, 202));
    // ... and adds 1 MB of room above it.
    r.run(["SETBIT", "k", "16777215", "1"]);
    assert_eq!(capacity(&mut r, "k"), (2 << 20, 3 << 20));
    r.run(["BITFIELD", "k", "SET", "u8", "16777216", "1"]);
    assert_eq!(capacity(&mut r, "k"), ((2 << 20) + 1, 3 << 20));
}
