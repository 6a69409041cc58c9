//! Property tests: what the encoder writes, the parsers read back.

use bytes::{Bytes, BytesMut};
use oxidis_protocol::{
    Frame, RequestLimits, RequestParser, RespVersion, encode, encode_array_len, encode_bulk,
    format_double, parse_frame, split_args,
};
use proptest::prelude::*;

fn line_text() -> impl Strategy<Value = Bytes> {
    "[a-zA-Z0-9 :_.-]{0,20}".prop_map(Bytes::from)
}

fn binary() -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..40).prop_map(Bytes::from)
}

fn leaf() -> impl Strategy<Value = Frame> {
    prop_oneof![
        line_text().prop_map(Frame::Simple),
        line_text().prop_map(Frame::Error),
        any::<i64>().prop_map(Frame::Integer),
        binary().prop_map(Frame::Bulk),
        Just(Frame::Null),
        Just(Frame::NullArray),
        any::<f64>().prop_map(Frame::Double),
        prop_oneof![Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(-0.0)]
            .prop_map(Frame::Double),
        any::<bool>().prop_map(Frame::Boolean),
        "-?[1-9][0-9]{0,40}".prop_map(|s| Frame::BigNumber(Bytes::from(s))),
        ("[a-z]{3}", binary()).prop_map(|(f, text)| {
            let mut format = [0u8; 3];
            format.copy_from_slice(f.as_bytes());
            Frame::Verbatim { format, text }
        }),
        binary().prop_map(Frame::BlobError),
    ]
}

/// Any frame; attributes appear only as elements of sequences, before the element they
/// describe, which is where RESP3 lets them round-trip.
fn any_frame() -> impl Strategy<Value = Frame> {
    leaf().prop_recursive(4, 64, 6, |inner| {
        let pairs = prop::collection::vec((inner.clone(), inner.clone()), 0..4);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Frame::Array),
            prop::collection::vec(inner.clone(), 0..6).prop_map(Frame::Set),
            prop::collection::vec(inner.clone(), 0..6).prop_map(Frame::Push),
            pairs.clone().prop_map(Frame::Map),
            (pairs, inner).prop_map(|(attrs, described)| {
                Frame::Array(vec![Frame::Attribute(attrs), described])
            }),
        ]
    })
}

/// What a RESP3 round trip gives back: `NullArray` becomes `Null` (both are `_`), and NaN is
/// replaced by a marker since NaN != NaN.
fn resp3_view(frame: &Frame) -> Frame {
    match frame {
        Frame::NullArray => Frame::Null,
        Frame::Double(d) if d.is_nan() => Frame::simple_static("<nan>"),
        Frame::Array(items) => Frame::Array(items.iter().map(resp3_view).collect()),
        Frame::Set(items) => Frame::Set(items.iter().map(resp3_view).collect()),
        Frame::Push(items) => Frame::Push(items.iter().map(resp3_view).collect()),
        Frame::Map(pairs) => Frame::Map(
            pairs
                .iter()
                .map(|(k, v)| (resp3_view(k), resp3_view(v)))
                .collect(),
        ),
        Frame::Attribute(pairs) => Frame::Attribute(
            pairs
                .iter()
                .map(|(k, v)| (resp3_view(k), resp3_view(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// What a RESP2 client reads for `frame`, as documented on `encode`.
fn resp2_view(frame: &Frame) -> Vec<Frame> {
    let seq = |items: &[Frame]| Frame::Array(items.iter().flat_map(resp2_view).collect());
    let one = match frame {
        Frame::Attribute(_) => return vec![],
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => seq(items),
        Frame::Map(pairs) => Frame::Array(
            pairs
                .iter()
                .flat_map(|(k, v)| resp2_view(k).into_iter().chain(resp2_view(v)))
                .collect(),
        ),
        Frame::Double(d) => {
            let mut text = Vec::new();
            format_double(*d, &mut text);
            Frame::Bulk(Bytes::from(text))
        }
        Frame::Boolean(b) => Frame::Integer(i64::from(*b)),
        Frame::BigNumber(digits) => Frame::Bulk(digits.clone()),
        Frame::Verbatim { text, .. } => Frame::Bulk(text.clone()),
        Frame::BlobError(text) => Frame::Error(Bytes::from(
            text.iter()
                .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
                .collect::<Vec<u8>>(),
        )),
        other => other.clone(),
    };
    vec![one]
}

fn encoded(frame: &Frame, version: RespVersion) -> BytesMut {
    let mut out = BytesMut::new();
    encode(frame, version, &mut out);
    out
}

/// Encodes `argv` as a multibulk request.
fn multibulk(argv: &[Vec<u8>], out: &mut BytesMut) {
    encode_array_len(argv.len(), out);
    for arg in argv {
        encode_bulk(arg, out);
    }
}

fn argv_strategy() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 1..12)
}

proptest! {
    #[test]
    fn resp3_encode_then_parse(frame in any_frame()) {
        let wire = encoded(&frame, RespVersion::Resp3);
        let (parsed, used) = parse_frame(&wire).expect("valid").expect("complete");
        prop_assert_eq!(used, wire.len());
        prop_assert_eq!(resp3_view(&parsed), resp3_view(&frame));
        // Every strict prefix is incomplete, never an error.
        for cut in [0, wire.len() / 3, wire.len() / 2, wire.len() - 1] {
            prop_assert_eq!(parse_frame(&wire[..cut]), Ok(None));
        }
    }

    #[test]
    fn resp2_encode_then_parse(frame in any_frame()) {
        let wire = encoded(&frame, RespVersion::Resp2);
        let (parsed, used) = parse_frame(&wire).expect("valid").expect("complete");
        prop_assert_eq!(used, wire.len());
        prop_assert_eq!(vec![parsed], resp2_view(&frame));
    }

    #[test]
    fn request_pipeline_in_any_chunks(
        commands in prop::collection::vec(argv_strategy(), 1..8),
        chunk in 1usize..200,
    ) {
        let mut wire = BytesMut::new();
        for argv in &commands {
            multibulk(argv, &mut wire);
        }
        let mut parser = RequestParser::new();
        let mut buf = BytesMut::new();
        let mut argv = Vec::new();
        let mut got: Vec<Vec<Vec<u8>>> = Vec::new();
        for piece in wire.chunks(chunk) {
            buf.extend_from_slice(piece);
            while parser.parse(&mut buf, &RequestLimits::default(), &mut argv).expect("valid") {
                got.push(argv.iter().map(|a| a.to_vec()).collect());
            }
        }
        prop_assert_eq!(got, commands);
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn quoted_inline_arguments_split_back(argv in argv_strategy()) {
        // Quote every argument, escaping each byte as \xHH.
        let mut line = Vec::new();
        for arg in &argv {
            line.extend_from_slice(b" \"");
            for b in arg {
                line.extend_from_slice(format!("\\x{b:02x}").as_bytes());
            }
            line.push(b'"');
        }
        prop_assert_eq!(split_args(&line), Some(argv.clone()));

        line.extend_from_slice(b"\r\n");
        let mut parser = RequestParser::new();
        let mut buf = BytesMut::from(&line[..]);
        let mut parsed = Vec::new();
        prop_assert_eq!(parser.parse(&mut buf, &RequestLimits::default(), &mut parsed), Ok(true));
        prop_assert_eq!(parsed.iter().map(|a| a.to_vec()).collect::<Vec<_>>(), argv);
    }

    #[test]
    fn double_text_parses_back_exactly(d in any::<f64>()) {
        let mut text = Vec::new();
        format_double(d, &mut text);
        let back: f64 = std::str::from_utf8(&text).expect("ascii").parse().expect("number");
        if d.is_nan() {
            prop_assert!(back.is_nan());
        } else {
            prop_assert_eq!(back.to_bits(), d.to_bits());
        }
    }
}
