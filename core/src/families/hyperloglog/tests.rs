//! Unit tests of the hyperloglog family; expected bytes and replies come from Redis 7.0.15.

use super::*;
use crate::testing::{CommandRunner, bulk, err, simple};

fn runner() -> CommandRunner {
    CommandRunner::with_builtin_commands()
}

fn run(r: &mut CommandRunner, line: &str) -> Frame {
    r.run(line.split(' '))
}

fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

fn raw(r: &mut CommandRunner, key: &str) -> Vec<u8> {
    match r.run(["GET", key]) {
        Frame::Bulk(b) => b.to_vec(),
        other => panic!("GET {key}: {other:?}"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn pfadd_writes_redis_bytes() {
    let mut r = runner();
    assert_eq!(run(&mut r, "PFADD h a b c"), int(1));
    assert_eq!(
        hex(&raw(&mut r, "h")),
        "48594c4c010000000000000000000080\
         60f38050b1844bfb80425a"
    );
    assert_eq!(run(&mut r, "PFCOUNT h"), int(3));
    // The estimate is now cached, and the stale bit cleared.
    assert_eq!(
        hex(&raw(&mut r, "h")),
        "48594c4c010000000300000000000000\
         60f38050b1844bfb80425a"
    );
    assert_eq!(
        run(&mut r, "PFDEBUG DECODE h"),
        bulk("Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603")
    );
    assert_eq!(run(&mut r, "PFADD h a b c"), int(0));
    assert_eq!(run(&mut r, "PFDEBUG ENCODING h"), simple("sparse"));
}

#[test]
fn two_hundred_elements_match_redis() {
    let mut r = runner();
    for i in 1..=200 {
        r.run(["PFADD".to_string(), "big".to_string(), format!("e{i}")]);
    }
    assert_eq!(run(&mut r, "PFCOUNT big"), int(200));
    assert_eq!(raw(&mut r, "big").len(), 512);
    let Frame::Bulk(decoded) = run(&mut r, "PFDEBUG DECODE big") else {
        panic!("decode");
    };
    assert!(decoded.starts_with(b"z:55 v:2,1 z:34 v:1,1 z:26 v:1,1 Z:160 v:2,1 z:9 v:10,1"));
    run(&mut r, "PFADD h a b c");
    assert_eq!(run(&mut r, "PFCOUNT h big"), int(203));
    assert_eq!(run(&mut r, "PFMERGE m h big"), Frame::ok());
    assert_eq!(run(&mut r, "PFCOUNT m"), int(203));
}

#[test]
fn errors() {
    let mut r = runner();
    run(&mut r, "SET s hello");
    run(&mut r, "SET n 123");
    run(&mut r, "LPUSH l x");
    let not_hll = err("WRONGTYPE Key is not a valid HyperLogLog string value.");
    assert_eq!(run(&mut r, "PFADD s a"), not_hll);
    assert_eq!(run(&mut r, "PFCOUNT n"), not_hll);
    assert_eq!(
        run(&mut r, "PFCOUNT l"),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(
        run(&mut r, "PFDEBUG GETREG nokey"),
        err("ERR The specified key does not exist")
    );
    run(&mut r, "PFADD h a");
    assert_eq!(
        run(&mut r, "PFDEBUG foo h"),
        err("ERR Unknown PFDEBUG subcommand 'foo'")
    );
    run(&mut r, "APPEND h hello");
    assert_eq!(
        run(&mut r, "PFCOUNT h"),
        err("INVALIDOBJ Corrupted HLL object detected")
    );
}

fn registers(r: &mut CommandRunner, key: &str) -> Vec<i64> {
    match run(r, &format!("PFDEBUG GETREG {key}")) {
        Frame::Array(items) => items
            .into_iter()
            .map(|f| match f {
                Frame::Integer(n) => n,
                other => panic!("register {other:?}"),
            })
            .collect(),
        other => panic!("GETREG {key}: {other:?}"),
    }
}

#[test]
fn five_thousand_elements_turn_dense_as_in_redis() {
    let mut r = runner();
    for chunk in (1..=5000).collect::<Vec<_>>().chunks(500) {
        let mut argv = vec!["PFADD".to_string(), "d".to_string()];
        argv.extend(chunk.iter().map(|i| format!("e{i}")));
        r.run(argv);
    }
    assert_eq!(run(&mut r, "PFDEBUG ENCODING d"), simple("dense"));
    assert_eq!(run(&mut r, "PFCOUNT d"), int(4968));
    assert_eq!(run(&mut r, "STRLEN d"), int(12304));
    let regs = registers(&mut r, "d");
    assert_eq!(regs.len(), 16384);
    assert_eq!(regs.iter().sum::<i64>(), 8952);
    assert_eq!(regs.iter().max(), Some(&12));
    assert_eq!(&regs[..5], &[2, 0, 0, 0, 0]);
}

#[test]
fn todense_keeps_the_count_and_header() {
    let mut r = runner();
    run(&mut r, "PFADD h a b c");
    assert_eq!(run(&mut r, "PFDEBUG TODENSE h"), int(1));
    assert_eq!(run(&mut r, "PFDEBUG TODENSE h"), int(0));
    assert_eq!(run(&mut r, "PFCOUNT h"), int(3));
    assert_eq!(
        hex(&raw(&mut r, "h")[..16]),
        "48594c4c000000000300000000000000"
    );
    assert_eq!(
        run(&mut r, "PFDEBUG DECODE h"),
        err("ERR HLL encoding is not sparse")
    );
    // A dense and a sparse HLL of the same elements estimate the same.
    run(&mut r, "PFADD s a b c");
    assert_eq!(run(&mut r, "PFCOUNT s"), int(3));
}

#[test]
fn sparse_limit_zero_promotes_on_first_split() {
    let mut r = runner();
    run(&mut r, "CONFIG SET hll-sparse-max-bytes 0");
    assert_eq!(run(&mut r, "PFADD z a"), int(1));
    assert_eq!(run(&mut r, "PFDEBUG ENCODING z"), simple("dense"));
    assert_eq!(run(&mut r, "PFADD z2"), int(1));
    assert_eq!(run(&mut r, "PFDEBUG ENCODING z2"), simple("sparse"));
    assert_eq!(run(&mut r, "PFADD z2 x"), int(1));
    assert_eq!(run(&mut r, "PFDEBUG ENCODING z2"), simple("dense"));
}

#[test]
fn cache_is_invalidated_only_by_changes() {
    let mut r = runner();
    run(&mut r, "PFADD h a b c");
    run(&mut r, "PFCOUNT h");
    assert_eq!(raw(&mut r, "h")[15], 0x00);
    assert_eq!(run(&mut r, "PFADD h a b c"), int(0));
    assert_eq!(raw(&mut r, "h")[15], 0x00);
    assert_eq!(run(&mut r, "PFADD h 1 2 3"), int(1));
    assert_eq!(raw(&mut r, "h")[15], 0x80);
}

fn set_raw(r: &mut CommandRunner, key: &str, bytes: &[u8]) {
    let argv: Vec<Vec<u8>> = vec![b"SET".to_vec(), key.as_bytes().to_vec(), bytes.to_vec()];
    assert_eq!(r.run(argv), Frame::ok());
}

fn sparse_header() -> Vec<u8> {
    let mut bytes = b"HYLL\x01".to_vec();
    bytes.extend_from_slice(&[0; 11]);
    bytes
}

#[test]
fn corrupted_sparse_values_are_reported_not_trusted() {
    let mut r = runner();
    let corrupted = err("INVALIDOBJ Corrupted HLL object detected");
    // An XZERO cut short: its missing byte reads as 0 (16129 registers).
    let mut cut = sparse_header();
    cut.push(0x7f);
    set_raw(&mut r, "cut", &cut);
    assert_eq!(run(&mut r, "PFDEBUG DECODE cut"), bulk("Z:16129"));
    // The cached count (0, valid) is answered without decoding, as Redis does.
    assert_eq!(run(&mut r, "PFCOUNT cut"), int(0));
    assert_eq!(run(&mut r, "PFCOUNT cut cut"), corrupted);
    // Runs past 16384 registers.
    let mut long = sparse_header();
    long.extend_from_slice(&[0x7f, 0xff, 0x80]);
    set_raw(&mut r, "long", &long);
    assert_eq!(run(&mut r, "PFDEBUG DECODE long"), bulk("Z:16384 v:1,1"));
    assert_eq!(run(&mut r, "PFCOUNT long long"), corrupted);
    assert_eq!(run(&mut r, "PFDEBUG GETREG long"), corrupted);
    assert_eq!(run(&mut r, "PFMERGE dest long"), corrupted);
    assert_eq!(run(&mut r, "EXISTS dest"), int(0));
    // Many maximal XZEROs, whose total would overflow a 32-bit counter.
    let mut huge = sparse_header();
    for _ in 0..300_000 {
        huge.extend_from_slice(&[0x7f, 0xff]);
    }
    huge.push(0xff);
    set_raw(&mut r, "huge", &huge);
    assert_eq!(run(&mut r, "PFCOUNT huge huge"), corrupted);
    assert_eq!(run(&mut r, "PFDEBUG GETREG huge"), corrupted);
    // Stale cache: PFCOUNT decodes and fails.
    let mut stale = sparse_header();
    stale[15] = 0x80;
    stale.extend_from_slice(&[0x7f, 0xff, 0x00]);
    set_raw(&mut r, "stale", &stale);
    assert_eq!(run(&mut r, "PFCOUNT stale"), corrupted);
    // No registers at all: nothing covers the element's register.
    set_raw(&mut r, "empty", &sparse_header());
    assert_eq!(run(&mut r, "PFADD empty a"), corrupted);
}

#[test]
fn header_checks() {
    let mut r = runner();
    let not_hll = err("WRONGTYPE Key is not a valid HyperLogLog string value.");
    run(&mut r, "PFADD h a b c");
    run(&mut r, "SETRANGE h 0 0123");
    assert_eq!(run(&mut r, "PFCOUNT h"), not_hll);
    run(&mut r, "DEL h");
    run(&mut r, "PFADD h a b c");
    run(&mut r, "SETRANGE h 4 x");
    assert_eq!(run(&mut r, "PFCOUNT h"), not_hll);
    run(&mut r, "DEL h");
    // Dense must be exactly 12304 bytes.
    run(&mut r, "PFADD h a b c");
    let mut dense_short = raw(&mut r, "h");
    dense_short[4] = 0;
    set_raw(&mut r, "h", &dense_short);
    assert_eq!(run(&mut r, "PFCOUNT h"), not_hll);
    set_raw(&mut r, "short", b"HYLL");
    assert_eq!(run(&mut r, "PFADD short a"), not_hll);
    run(&mut r, "SET foo bar");
    assert_eq!(run(&mut r, "PFMERGE bar foo"), not_hll);
    assert_eq!(run(&mut r, "PFMERGE foo bar"), not_hll);
}

#[test]
fn merge_reads_the_destination_and_prefers_dense() {
    let mut r = runner();
    run(&mut r, "PFADD a x y z");
    run(&mut r, "PFADD b z w");
    assert_eq!(run(&mut r, "PFMERGE b a"), Frame::ok());
    assert_eq!(run(&mut r, "PFCOUNT b"), int(4));
    assert_eq!(run(&mut r, "PFDEBUG ENCODING b"), simple("sparse"));
    run(&mut r, "PFDEBUG TODENSE a");
    assert_eq!(run(&mut r, "PFMERGE c a nokey"), Frame::ok());
    assert_eq!(run(&mut r, "PFDEBUG ENCODING c"), simple("dense"));
    assert_eq!(run(&mut r, "PFCOUNT c"), int(3));
    assert_eq!(run(&mut r, "PFCOUNT a b c nokey"), int(4));
    assert_eq!(run(&mut r, "PFCOUNT nokey"), int(0));
}

#[test]
fn murmur_and_pattern_match_redis_registers() {
    // PFADD h a b c in Redis sets register 8436 to 1, 12711 to 2 and 15780 to 1.
    let mut found: Vec<(usize, u8)> = ["a", "b", "c"]
        .iter()
        .map(|e| sketch::pattern(e.as_bytes()))
        .collect();
    found.sort_unstable();
    assert_eq!(found, vec![(8436, 1), (12711, 2), (15780, 1)]);
}

#[test]
fn estimator_edges() {
    let empty = [0u32; 64];
    assert_eq!(sketch::estimate(&empty), 0);
    let mut all_zero = [0u32; 64];
    all_zero[0] = 16384;
    assert_eq!(sketch::estimate(&all_zero), 0);
    let mut one = all_zero;
    one[0] -= 1;
    one[1] = 1;
    assert_eq!(sketch::estimate(&one), 1);
}
