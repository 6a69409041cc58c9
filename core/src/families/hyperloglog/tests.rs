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
