//! Feeds arbitrary bytes, cut into arbitrary chunks, to a `RequestParser` with arbitrary
//! limits. It must never panic, and every argument it yields must fit its limits.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use oxidis_protocol::{INLINE_MAX_SIZE, RequestLimits, RequestParser};

fuzz_target!(|data: &[u8]| {
    // The first bytes choose the limits and the chunk sizes; the rest is the stream.
    let [flags, max_bulk, chunk_seed, rest @ ..] = data else {
        return;
    };
    let limits = RequestLimits {
        proto_max_bulk_len: if flags & 1 == 0 { 512 * 1024 * 1024 } else { u64::from(*max_bulk) },
        authenticated: flags & 2 == 0,
    };
    let mut parser = RequestParser::new();
    let mut buf = BytesMut::new();
    let mut argv = Vec::new();
    let mut chunk = usize::from(*chunk_seed % 17) + 1;
    let mut input = rest;
    while !input.is_empty() {
        let (piece, tail) = input.split_at(chunk.min(input.len()));
        input = tail;
        chunk = (chunk * 7 + 3) % 23 + 1;
        buf.extend_from_slice(piece);
        loop {
            match parser.parse(&mut buf, &limits, &mut argv) {
                Ok(true) => {
                    // Bulk arguments obey the limit; inline lines are cut off at 64 KiB, and the
                    // chunks are small, so no argument can be longer than both.
                    let most = limits.proto_max_bulk_len.max(INLINE_MAX_SIZE as u64 + 64);
                    for arg in &argv {
                        assert!(arg.len() as u64 <= most);
                    }
                }
                Ok(false) => break,
                Err(_) => return,
            }
        }
    }
});
