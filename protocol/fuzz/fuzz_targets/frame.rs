//! Parses arbitrary bytes as RESP frames. It must never panic; a frame it accepts, encoded as
//! RESP3, must parse back to a frame that encodes to the same bytes.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use oxidis_protocol::{Frame, RespVersion, encode, parse_frame};

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    while let Ok(Some((frame, used))) = parse_frame(input) {
        assert!(used > 0 && used <= input.len());
        input = &input[used..];
        let mut wire = BytesMut::new();
        encode(&frame, RespVersion::Resp3, &mut wire);
        if has_nan(&frame) {
            continue;
        }
        let Ok(Some((again, again_used))) = parse_frame(&wire) else {
            panic!("re-encoded frame does not parse: {frame:?}");
        };
        assert_eq!(again_used, wire.len());
        let mut wire_again = BytesMut::new();
        encode(&again, RespVersion::Resp3, &mut wire_again);
        assert_eq!(wire, wire_again);
    }
});

fn has_nan(frame: &Frame) -> bool {
    match frame {
        Frame::Double(d) => d.is_nan(),
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => items.iter().any(has_nan),
        Frame::Map(pairs) | Frame::Attribute(pairs) => {
            pairs.iter().any(|(k, v)| has_nan(k) || has_nan(v))
        }
        _ => false,
    }
}
