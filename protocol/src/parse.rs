//! The full RESP2/RESP3 frame parser, for reading replies (the CLI, tests, a replica link).
//!
//! It is streaming: a frame cut short yields `Ok(None)`, and the caller retries with more
//! bytes. It re-reads the frame from its start on each try, which suits replies; client
//! requests go through the resumable [`crate::RequestParser`] instead.
//!
//! Attributes: a top-level `|N` frame is returned on its own, and the frame it describes is the
//! next one. Inside `*`, `~` and `>` an attribute is kept as an element before the element it
//! describes but not counted; inside `%` and `|` it is skipped.
//!
//! RESP3 streamed strings and aggregates (`$?`, `*?`) are not supported (Redis 7.0 never
//! sends them).

use bytes::Bytes;
use nom::bytes::streaming::{tag, take, take_until};
use nom::error::{ErrorKind, ParseError};
use nom::{IResult, Needed};

use crate::error::ProtocolError;
use crate::frame::Frame;
use crate::request::string2ll;

/// How deep aggregates may nest before the frame is refused, so hostile input cannot exhaust
/// the stack.
pub const MAX_DEPTH: usize = 128;

/// Parses one frame from the front of `buf`.
///
/// Returns the frame and the number of bytes it took, or `Ok(None)` when `buf` holds only a
/// prefix of a frame. Bulk payloads are copied out of `buf`.
///
/// # Errors
/// [`ProtocolError::InvalidFrameType`] for an unknown type byte, [`ProtocolError::InvalidFrame`]
/// for a malformed header or body, or nesting deeper than [`MAX_DEPTH`].
///
/// ```
/// use oxidis_protocol::{parse_frame, Frame};
/// assert_eq!(parse_frame(b":42\r\n+OK"), Ok(Some((Frame::Integer(42), 5))));
/// assert_eq!(parse_frame(b"$5\r\nhel"), Ok(None));
/// ```
pub fn parse_frame(buf: &[u8]) -> Result<Option<(Frame, usize)>, ProtocolError> {
    match frame(buf, 0) {
        Ok((rest, frame)) => Ok(Some((frame, buf.len() - rest.len()))),
        Err(nom::Err::Incomplete(_)) => Ok(None),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(e.0),
    }
}

/// The nom error type: the protocol error to report.
#[derive(Debug)]
struct Fail(ProtocolError);

impl<'a> ParseError<&'a [u8]> for Fail {
    fn from_error_kind(_input: &'a [u8], _kind: ErrorKind) -> Self {
        Fail(ProtocolError::InvalidFrame("frame"))
    }

    fn append(_input: &'a [u8], _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

type Res<'a, T> = IResult<&'a [u8], T, Fail>;

fn fail<T>(what: &'static str) -> Res<'static, T> {
    Err(nom::Err::Failure(Fail(ProtocolError::InvalidFrame(what))))
}

/// A line up to CRLF, without it.
fn line(input: &[u8]) -> Res<'_, &[u8]> {
    let (rest, text) = take_until("\r\n")(input)?;
    let (rest, _) = tag("\r\n")(rest)?;
    Ok((rest, text))
}

/// A length or count line, strict like Redis's `string2ll`.
fn number<'a>(input: &'a [u8], what: &'static str) -> Res<'a, i64> {
    let (rest, text) = line(input)?;
    match string2ll(text) {
        Some(n) => Ok((rest, n)),
        None => fail(what),
    }
}

/// A length line that must not be negative.
fn length<'a>(input: &'a [u8], what: &'static str) -> Res<'a, usize> {
    let (rest, n) = number(input, what)?;
    match usize::try_from(n) {
        Ok(n) => Ok((rest, n)),
        Err(_) => fail(what),
    }
}

/// `len` bytes followed by CRLF.
fn payload(input: &[u8], len: usize) -> Res<'_, &[u8]> {
    let (rest, data) = take(len)(input)?;
    match rest {
        [b'\r', b'\n', ..] => Ok((&rest[2..], data)),
        [b'\r'] | [] => Err(nom::Err::Incomplete(Needed::new(2 - rest.len()))),
        _ => fail("bulk terminator"),
    }
}

fn frame(input: &[u8], depth: usize) -> Res<'_, Frame> {
    if depth > MAX_DEPTH {
        return fail("nesting depth");
    }
    let Some((&kind, body)) = input.split_first() else {
        return Err(nom::Err::Incomplete(Needed::new(1)));
    };
    match kind {
        b'+' => line(body).map(|(rest, text)| (rest, Frame::Simple(Bytes::copy_from_slice(text)))),
        b'-' => line(body).map(|(rest, text)| (rest, Frame::Error(Bytes::copy_from_slice(text)))),
        b':' => number(body, "integer").map(|(rest, n)| (rest, Frame::Integer(n))),
        b'$' => {
            let (rest, n) = number(body, "bulk length")?;
            if n == -1 {
                return Ok((rest, Frame::Null));
            }
            let Ok(len) = usize::try_from(n) else {
                return fail("bulk length");
            };
            let (rest, data) = payload(rest, len)?;
            Ok((rest, Frame::Bulk(Bytes::copy_from_slice(data))))
        }
        b'!' => {
            let (rest, len) = length(body, "blob error length")?;
            let (rest, data) = payload(rest, len)?;
            Ok((rest, Frame::BlobError(Bytes::copy_from_slice(data))))
        }
        b'=' => {
            let (rest, len) = length(body, "verbatim length")?;
            let (rest, data) = payload(rest, len)?;
            match data {
                [a, b, c, b':', text @ ..] => Ok((
                    rest,
                    Frame::Verbatim {
                        format: [*a, *b, *c],
                        text: Bytes::copy_from_slice(text),
                    },
                )),
                _ => fail("verbatim string"),
            }
        }
        b'_' => match line(body)? {
            (rest, []) => Ok((rest, Frame::Null)),
            _ => fail("null"),
        },
        b'#' => match line(body)? {
            (rest, b"t") => Ok((rest, Frame::Boolean(true))),
            (rest, b"f") => Ok((rest, Frame::Boolean(false))),
            _ => fail("boolean"),
        },
        b',' => {
            let (rest, text) = line(body)?;
            match std::str::from_utf8(text)
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
            {
                Some(d) => Ok((rest, Frame::Double(d))),
                None => fail("double"),
            }
        }
        b'(' => {
            let (rest, text) = line(body)?;
            let digits = text.strip_prefix(b"-").unwrap_or(text);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return fail("big number");
            }
            Ok((rest, Frame::BigNumber(Bytes::copy_from_slice(text))))
        }
        b'*' => {
            let (rest, n) = number(body, "array length")?;
            if n == -1 {
                return Ok((rest, Frame::NullArray));
            }
            let Ok(n) = usize::try_from(n) else {
                return fail("array length");
            };
            sequence(rest, n, depth).map(|(rest, items)| (rest, Frame::Array(items)))
        }
        b'~' => {
            let (rest, n) = length(body, "set length")?;
            sequence(rest, n, depth).map(|(rest, items)| (rest, Frame::Set(items)))
        }
        b'>' => {
            let (rest, n) = length(body, "push length")?;
            sequence(rest, n, depth).map(|(rest, items)| (rest, Frame::Push(items)))
        }
        b'%' => {
            let (rest, n) = length(body, "map length")?;
            pairs(rest, n, depth).map(|(rest, pairs)| (rest, Frame::Map(pairs)))
        }
        b'|' => {
            let (rest, n) = length(body, "attribute length")?;
            pairs(rest, n, depth).map(|(rest, pairs)| (rest, Frame::Attribute(pairs)))
        }
        other => Err(nom::Err::Failure(Fail(ProtocolError::InvalidFrameType(
            other,
        )))),
    }
}

/// `n` elements; attributes among them are kept but not counted.
fn sequence(mut input: &[u8], n: usize, depth: usize) -> Res<'_, Vec<Frame>> {
    // Each element takes at least three bytes, which bounds what a hostile count can reserve.
    let mut items = Vec::with_capacity(n.min(input.len() / 3));
    let mut counted = 0;
    while counted < n {
        let (rest, item) = frame(input, depth + 1)?;
        input = rest;
        if !matches!(item, Frame::Attribute(_)) {
            counted += 1;
        }
        items.push(item);
    }
    Ok((input, items))
}

/// `n` key/value pairs; attributes before a key or a value are skipped.
fn pairs(mut input: &[u8], n: usize, depth: usize) -> Res<'_, Vec<(Frame, Frame)>> {
    let mut pairs = Vec::with_capacity(n.min(input.len() / 6));
    for _ in 0..n {
        let (rest, key) = element(input, depth + 1)?;
        let (rest, value) = element(rest, depth + 1)?;
        input = rest;
        pairs.push((key, value));
    }
    Ok((input, pairs))
}

/// One frame that is not an attribute, skipping any attributes before it.
fn element(mut input: &[u8], depth: usize) -> Res<'_, Frame> {
    loop {
        let (rest, item) = frame(input, depth)?;
        if !matches!(item, Frame::Attribute(_)) {
            return Ok((rest, item));
        }
        input = rest;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(input: &[u8]) -> Frame {
        match parse_frame(input) {
            Ok(Some((frame, used))) => {
                assert_eq!(used, input.len(), "whole input used");
                frame
            }
            other => panic!("{other:?}"),
        }
    }

    fn b(s: &str) -> Frame {
        Frame::bulk(s)
    }

    #[test]
    fn every_type() {
        assert_eq!(parsed(b"+OK\r\n"), Frame::ok());
        assert_eq!(parsed(b"-ERR bad\r\n"), Frame::error_static("ERR bad"));
        assert_eq!(parsed(b":-12\r\n"), Frame::Integer(-12));
        assert_eq!(parsed(b"$3\r\na\r\n\r\n"), b("a\r\n"));
        assert_eq!(parsed(b"$0\r\n\r\n"), b(""));
        assert_eq!(parsed(b"$-1\r\n"), Frame::Null);
        assert_eq!(parsed(b"*-1\r\n"), Frame::NullArray);
        assert_eq!(parsed(b"_\r\n"), Frame::Null);
        assert_eq!(parsed(b"#t\r\n"), Frame::Boolean(true));
        assert_eq!(parsed(b"#f\r\n"), Frame::Boolean(false));
        assert_eq!(parsed(b",1.5\r\n"), Frame::Double(1.5));
        assert_eq!(parsed(b",-inf\r\n"), Frame::Double(f64::NEG_INFINITY));
        assert_eq!(parsed(b",1e+300\r\n"), Frame::Double(1e300));
        assert_eq!(
            parsed(b"(-123456789012345678901234567890\r\n"),
            Frame::BigNumber(Bytes::from_static(b"-123456789012345678901234567890"))
        );
        assert_eq!(
            parsed(b"=8\r\ntxt:abcd\r\n"),
            Frame::Verbatim {
                format: *b"txt",
                text: Bytes::from_static(b"abcd")
            }
        );
        assert_eq!(
            parsed(b"!5\r\nERR x\r\n"),
            Frame::BlobError(Bytes::from_static(b"ERR x"))
        );
        assert_eq!(
            parsed(b"*2\r\n:1\r\n*0\r\n"),
            Frame::Array(vec![Frame::Integer(1), Frame::Array(vec![])])
        );
        assert_eq!(
            parsed(b"~1\r\n+a\r\n"),
            Frame::Set(vec![Frame::simple_static("a")])
        );
        assert_eq!(
            parsed(b">2\r\n+message\r\n$1\r\nx\r\n"),
            Frame::Push(vec![Frame::simple_static("message"), b("x")])
        );
        assert_eq!(
            parsed(b"%1\r\n+k\r\n:1\r\n"),
            Frame::Map(vec![(Frame::simple_static("k"), Frame::Integer(1))])
        );
    }

    #[test]
    fn attributes() {
        let attr = Frame::Attribute(vec![(Frame::simple_static("ttl"), Frame::Integer(3))]);
        assert_eq!(
            parse_frame(b"|1\r\n+ttl\r\n:3\r\n:7\r\n"),
            Ok(Some((attr.clone(), 14)))
        );
        assert_eq!(
            parsed(b"*1\r\n|1\r\n+ttl\r\n:3\r\n:7\r\n"),
            Frame::Array(vec![attr, Frame::Integer(7)])
        );
        assert_eq!(
            parsed(b"%1\r\n|1\r\n+a\r\n+b\r\n+k\r\n:1\r\n"),
            Frame::Map(vec![(Frame::simple_static("k"), Frame::Integer(1))])
        );
    }

    #[test]
    fn every_prefix_is_incomplete() {
        let input: &[u8] = b"*3\r\n$3\r\nfoo\r\n%1\r\n+k\r\n,2.5\r\n=8\r\ntxt:abcd\r\n";
        for cut in 0..input.len() {
            assert_eq!(parse_frame(&input[..cut]), Ok(None), "cut {cut}");
        }
        assert_eq!(
            parse_frame(input).map(|r| r.map(|(_, n)| n)),
            Ok(Some(input.len()))
        );
    }

    #[test]
    fn errors() {
        let cases: &[(&[u8], ProtocolError)] = &[
            (b"?x\r\n", ProtocolError::InvalidFrameType(b'?')),
            (b":x\r\n", ProtocolError::InvalidFrame("integer")),
            (b"$-2\r\n", ProtocolError::InvalidFrame("bulk length")),
            (b"$1\r\nabc", ProtocolError::InvalidFrame("bulk terminator")),
            (b"*-2\r\n", ProtocolError::InvalidFrame("array length")),
            (b"%-1\r\n", ProtocolError::InvalidFrame("map length")),
            (b"#x\r\n", ProtocolError::InvalidFrame("boolean")),
            (b",abc\r\n", ProtocolError::InvalidFrame("double")),
            (b"(12a\r\n", ProtocolError::InvalidFrame("big number")),
            (
                b"=3\r\ntxt\r\n",
                ProtocolError::InvalidFrame("verbatim string"),
            ),
            (b"_x\r\n", ProtocolError::InvalidFrame("null")),
            (b"*?\r\n", ProtocolError::InvalidFrame("array length")),
        ];
        for (input, expected) in cases {
            assert_eq!(
                parse_frame(input),
                Err(expected.clone()),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        let deep = b"*1\r\n".repeat(MAX_DEPTH + 2);
        assert_eq!(
            parse_frame(&deep),
            Err(ProtocolError::InvalidFrame("nesting depth"))
        );
    }
}
