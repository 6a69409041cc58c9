//! The encoder: a [`Frame`] to bytes for the client's protocol version, plus helpers that write
//! one element straight into the output buffer without building a frame.
//!
//! RESP2 down-conversion follows Redis 7.0: `Map` becomes a flat array of 2N, `Set` and `Push`
//! arrays, `Double` a bulk string, `Boolean` `:1`/`:0`, `Null` `$-1`, `NullArray` `*-1`,
//! `BigNumber` and `Verbatim` bulk strings, `BlobError` an error line; `Attribute` is omitted.
//!
//! An `Attribute` describes the element after it. Inside `Array`, `Set` and `Push` it is written
//! before that element and not counted in the length, as RESP3 says; as a key or value of a
//! `Map` or `Attribute`, where it has no element to describe, it is written as a null.

use std::fmt::Write as _;

use bytes::{BufMut, BytesMut};

use crate::frame::{Frame, RespVersion};

const CRLF: &[u8] = b"\r\n";

/// Encodes one frame for the given protocol version into `out`.
pub fn encode(frame: &Frame, version: RespVersion, out: &mut BytesMut) {
    let resp3 = version == RespVersion::Resp3;
    match frame {
        Frame::Simple(text) => encode_simple(text, out),
        Frame::Error(text) => encode_error(text, out),
        Frame::Integer(n) => encode_integer(*n, out),
        Frame::Bulk(data) => encode_bulk(data, out),
        Frame::Null => encode_null(version, out),
        Frame::NullArray => encode_null_array(version, out),
        Frame::Array(items) => encode_sequence(b'*', items, version, out),
        Frame::Set(items) => encode_sequence(if resp3 { b'~' } else { b'*' }, items, version, out),
        Frame::Push(items) => encode_sequence(if resp3 { b'>' } else { b'*' }, items, version, out),
        Frame::Map(pairs) => {
            encode_map_len(pairs.len(), version, out);
            encode_pairs(pairs, version, out);
        }
        Frame::BulkArray(array) => {
            encode_array_len(array.len(), out);
            for element in array.iter() {
                encode_bulk(element, out);
            }
        }
        Frame::Sequence(frames) => {
            for frame in frames {
                encode(frame, version, out);
            }
        }
        Frame::Raw(bytes) => out.extend_from_slice(bytes),
        Frame::Attribute(pairs) => {
            if resp3 {
                write_header(b'|', pairs.len() as u64, out);
                encode_pairs(pairs, version, out);
            }
        }
        Frame::Double(d) => encode_double(*d, version, out),
        Frame::Boolean(b) => encode_bool(*b, version, out),
        Frame::BigNumber(digits) => {
            if resp3 {
                out.put_u8(b'(');
                out.put_slice(digits);
                out.put_slice(CRLF);
            } else {
                encode_bulk(digits, out);
            }
        }
        Frame::Verbatim { format, text } => encode_verbatim(format, text, version, out),
        Frame::BlobError(text) => {
            if resp3 {
                write_header(b'!', text.len() as u64, out);
                out.put_slice(text);
                out.put_slice(CRLF);
            } else {
                // An error line cannot hold CR or LF; Redis maps them to spaces too.
                out.reserve(text.len() + 3);
                out.put_u8(b'-');
                out.extend(
                    text.iter()
                        .map(|&b| if matches!(b, b'\r' | b'\n') { b' ' } else { b }),
                );
                out.put_slice(CRLF);
            }
        }
    }
}

fn encode_sequence(kind: u8, items: &[Frame], version: RespVersion, out: &mut BytesMut) {
    let counted = items
        .iter()
        .filter(|f| !matches!(f, Frame::Attribute(_)))
        .count();
    write_header(kind, counted as u64, out);
    for item in items {
        encode(item, version, out);
    }
}

fn encode_pairs(pairs: &[(Frame, Frame)], version: RespVersion, out: &mut BytesMut) {
    for (key, value) in pairs {
        for element in [key, value] {
            match element {
                Frame::Attribute(_) => encode_null(version, out),
                other => encode(other, version, out),
            }
        }
    }
}

/// Writes `<kind><n>\r\n`.
fn write_header(kind: u8, n: u64, out: &mut BytesMut) {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(n);
    out.reserve(digits.len() + 3);
    out.put_u8(kind);
    out.put_slice(digits.as_bytes());
    out.put_slice(CRLF);
}

/// Writes a bulk string: `$<len>\r\n<data>\r\n`.
pub fn encode_bulk(data: &[u8], out: &mut BytesMut) {
    out.reserve(data.len() + 16);
    write_header(b'$', data.len() as u64, out);
    out.put_slice(data);
    out.put_slice(CRLF);
}

/// Writes an integer: `:<n>\r\n`.
pub fn encode_integer(n: i64, out: &mut BytesMut) {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(n);
    out.reserve(digits.len() + 3);
    out.put_u8(b':');
    out.put_slice(digits.as_bytes());
    out.put_slice(CRLF);
}

/// Writes a status line: `+<text>\r\n` (CR and LF in the text become spaces).
pub fn encode_simple(text: &[u8], out: &mut BytesMut) {
    encode_line(b'+', text, out);
}

/// Writes an error line: `-<text>\r\n`, where the text starts with its code (`ERR ...`).
pub fn encode_error(text: &[u8], out: &mut BytesMut) {
    encode_line(b'-', text, out);
}

/// Writes a one-line reply. A line cannot hold CR or LF — an error quoting a client's argument
/// (`NOGROUP ... '<name>'`) could otherwise end the line early and desynchronize the client —
/// so, as Redis's `addReplyErrorLength` does, each becomes a space.
fn encode_line(kind: u8, text: &[u8], out: &mut BytesMut) {
    out.reserve(text.len() + 3);
    out.put_u8(kind);
    if text.iter().any(|&b| b == b'\r' || b == b'\n') {
        out.extend(
            text.iter()
                .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
    } else {
        out.put_slice(text);
    }
    out.put_slice(CRLF);
}

/// Writes the null reply: `$-1\r\n` in RESP2, `_\r\n` in RESP3.
pub fn encode_null(version: RespVersion, out: &mut BytesMut) {
    out.put_slice(match version {
        RespVersion::Resp2 => b"$-1\r\n",
        RespVersion::Resp3 => b"_\r\n",
    });
}

/// Writes the null array: `*-1\r\n` in RESP2, `_\r\n` in RESP3.
pub fn encode_null_array(version: RespVersion, out: &mut BytesMut) {
    out.put_slice(match version {
        RespVersion::Resp2 => b"*-1\r\n",
        RespVersion::Resp3 => b"_\r\n",
    });
}

/// Writes an array header, `*<len>\r\n`; the caller then encodes `len` elements.
pub fn encode_array_len(len: usize, out: &mut BytesMut) {
    write_header(b'*', len as u64, out);
}

/// Writes a map header for `pairs` key/value pairs: `%<pairs>` in RESP3, `*<2 * pairs>` in
/// RESP2; the caller then encodes the keys and values alternately.
pub fn encode_map_len(pairs: usize, version: RespVersion, out: &mut BytesMut) {
    match version {
        RespVersion::Resp2 => write_header(b'*', 2 * pairs as u64, out),
        RespVersion::Resp3 => write_header(b'%', pairs as u64, out),
    }
}

/// Writes a set header: `~<len>` in RESP3, `*<len>` in RESP2.
pub fn encode_set_len(len: usize, version: RespVersion, out: &mut BytesMut) {
    let kind = if version == RespVersion::Resp3 {
        b'~'
    } else {
        b'*'
    };
    write_header(kind, len as u64, out);
}

/// Writes a push header: `><len>` in RESP3, `*<len>` in RESP2 (pub/sub messages).
pub fn encode_push_len(len: usize, version: RespVersion, out: &mut BytesMut) {
    let kind = if version == RespVersion::Resp3 {
        b'>'
    } else {
        b'*'
    };
    write_header(kind, len as u64, out);
}

/// Writes a push message of bulk strings (a pub/sub `message`): the room for all of it is
/// reserved once, then each part is written with its header.
pub fn encode_push_of_bulks(parts: &[&[u8]], version: RespVersion, out: &mut BytesMut) {
    // `$<len>\r\n` plus the closing `\r\n`: at most 25 bytes besides the data.
    const OVERHEAD: usize = 25;
    out.reserve(OVERHEAD + parts.iter().map(|p| p.len() + OVERHEAD).sum::<usize>());
    let kind = if version == RespVersion::Resp3 {
        b'>'
    } else {
        b'*'
    };
    let mut digits = itoa::Buffer::new();
    out.put_u8(kind);
    out.put_slice(digits.format(parts.len()).as_bytes());
    out.put_slice(CRLF);
    for part in parts {
        out.put_u8(b'$');
        out.put_slice(digits.format(part.len()).as_bytes());
        out.put_slice(CRLF);
        out.put_slice(part);
        out.put_slice(CRLF);
    }
}

/// Writes a double as Redis 7.0's `addReplyDouble`: `,<d>\r\n` in RESP3, a bulk string in
/// RESP2, formatted by [`format_double`].
pub fn encode_double(d: f64, version: RespVersion, out: &mut BytesMut) {
    let text = DoubleText::new(d);
    match version {
        RespVersion::Resp2 => encode_bulk(text.as_bytes(), out),
        RespVersion::Resp3 => {
            out.reserve(text.as_bytes().len() + 3);
            out.put_u8(b',');
            out.put_slice(text.as_bytes());
            out.put_slice(CRLF);
        }
    }
}

/// Writes a boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
pub fn encode_bool(b: bool, version: RespVersion, out: &mut BytesMut) {
    out.put_slice(match (version, b) {
        (RespVersion::Resp3, true) => b"#t\r\n",
        (RespVersion::Resp3, false) => b"#f\r\n",
        (RespVersion::Resp2, true) => b":1\r\n",
        (RespVersion::Resp2, false) => b":0\r\n",
    });
}

/// Writes a verbatim string: `=<len>\r\n<fmt>:<text>\r\n` in RESP3, a bulk string of the text
/// in RESP2.
pub fn encode_verbatim(format: &[u8; 3], text: &[u8], version: RespVersion, out: &mut BytesMut) {
    match version {
        RespVersion::Resp2 => encode_bulk(text, out),
        RespVersion::Resp3 => {
            out.reserve(text.len() + 20);
            write_header(b'=', text.len() as u64 + 4, out);
            out.put_slice(format);
            out.put_u8(b':');
            out.put_slice(text);
            out.put_slice(CRLF);
        }
    }
}

/// Appends `d` formatted exactly as Redis 7.0 replies doubles: C's `%.17g` (`0.1` gives
/// `0.10000000000000001`, `1.5` gives `1.5`, `3.0` gives `3`, `1e300` gives
/// `1.0000000000000001e+300`), with `inf`, `-inf`, and glibc's `nan`/`-nan`.
///
/// ```
/// let mut out = Vec::new();
/// oxidis_protocol::format_double(0.1, &mut out);
/// assert_eq!(out, b"0.10000000000000001");
/// ```
pub fn format_double(d: f64, out: &mut Vec<u8>) {
    out.extend_from_slice(DoubleText::new(d).as_bytes());
}

/// A double formatted as `%.17g` (C's `printf`, which Redis uses for doubles), on the stack.
#[derive(Debug, Clone, Copy)]
pub struct DoubleText {
    buf: [u8; 32],
    len: usize,
}

impl DoubleText {
    /// `d` as `%.17g`: every digit kept, `inf`, `-inf`, `nan`, `-nan` as glibc prints them.
    pub fn new(d: f64) -> Self {
        let mut text = DoubleText {
            buf: [0; 32],
            len: 0,
        };
        if d.is_nan() {
            text.push(if d.is_sign_negative() {
                b"-nan"
            } else {
                b"nan"
            });
            return text;
        }
        if d.is_infinite() {
            text.push(if d > 0.0 { b"inf" } else { b"-inf" });
            return text;
        }
        // Rust's `{:.16e}` rounds the exact binary value to 17 significant digits, ties to
        // even, exactly as glibc's printf does; `%g` then picks the notation from the exponent.
        let mut sci = Scratch {
            buf: [0; 32],
            len: 0,
        };
        // Formatting into a 32-byte buffer cannot fail: the longest output is 24 bytes.
        let _ = write!(sci, "{d:.16e}");
        let sci = &sci.buf[..sci.len];
        let (negative, sci) = match sci.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, sci),
        };
        let e_at = sci.iter().position(|&b| b == b'e').unwrap_or(sci.len());
        // 17 digits: the one before the point and the 16 after it.
        let mut digits = [0u8; 17];
        digits[0] = sci[0];
        digits[1..].copy_from_slice(&sci[2..e_at.min(18)]);
        let exp: i32 = std::str::from_utf8(&sci[e_at + 1..])
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if negative {
            text.push(b"-");
        }
        // Significant digits left once trailing zeros are dropped, at least one.
        let kept = digits.iter().rposition(|&b| b != b'0').map_or(1, |i| i + 1);
        if (-4..17).contains(&exp) {
            if exp >= 0 {
                let int_len = exp as usize + 1;
                text.push(&digits[..int_len]);
                if kept > int_len {
                    text.push(b".");
                    text.push(&digits[int_len..kept]);
                }
            } else {
                text.push(b"0.");
                for _ in 0..(-exp - 1) {
                    text.push(b"0");
                }
                text.push(&digits[..kept]);
            }
        } else {
            text.push(&digits[..1]);
            if kept > 1 {
                text.push(b".");
                text.push(&digits[1..kept]);
            }
            text.push(if exp < 0 { b"e-" } else { b"e+" });
            let abs = exp.unsigned_abs();
            if abs < 10 {
                text.push(b"0");
            }
            let mut exp_digits = itoa::Buffer::new();
            text.push(exp_digits.format(abs).as_bytes());
        }
        text
    }

    fn push(&mut self, bytes: &[u8]) {
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    /// The text.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// A fixed buffer that `write!` can fill.
struct Scratch {
    buf: [u8; 32],
    len: usize,
}

impl std::fmt::Write for Scratch {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use RespVersion::{Resp2, Resp3};

    fn enc(frame: &Frame, version: RespVersion) -> Vec<u8> {
        let mut out = BytesMut::new();
        encode(frame, version, &mut out);
        out.to_vec()
    }

    fn fmt(d: f64) -> String {
        let mut out = Vec::new();
        format_double(d, &mut out);
        String::from_utf8(out).expect("ascii")
    }

    #[test]
    fn a_push_of_bulks_encodes_like_the_push_frame() {
        let parts: [&[u8]; 3] = [b"message", b"chan", b""];
        let frame = Frame::Push(
            parts
                .iter()
                .map(|p| Frame::Bulk(Bytes::copy_from_slice(p)))
                .collect(),
        );
        for version in [Resp2, Resp3] {
            let mut out = BytesMut::new();
            encode_push_of_bulks(&parts, version, &mut out);
            assert_eq!(out.to_vec(), enc(&frame, version));
        }
        let mut out = BytesMut::new();
        encode_push_of_bulks(&parts, Resp3, &mut out);
        assert_eq!(&out[..], b">3\r\n$7\r\nmessage\r\n$4\r\nchan\r\n$0\r\n\r\n");
    }

    #[test]
    fn line_replies_never_carry_a_line_break() {
        let error = Frame::Error(Bytes::from_static(b"NOGROUP group 'a\r\nb'"));
        assert_eq!(enc(&error, Resp2), b"-NOGROUP group 'a  b'\r\n");
        let status = Frame::Simple(Bytes::from_static(b"a\nb"));
        assert_eq!(enc(&status, Resp3), b"+a b\r\n");
    }

    #[test]
    fn doubles_like_printf_17g() {
        let cases: &[(f64, &str)] = &[
            (0.1, "0.10000000000000001"),
            (1.5, "1.5"),
            (3.0, "3"),
            (0.0, "0"),
            (-0.0, "-0"),
            (-2.5, "-2.5"),
            (100.0, "100"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (1.5e17, "1.5e+17"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (0.00012345, "0.00012344999999999999"),
            (0.00001, "1.0000000000000001e-05"),
            (1e300, "1.0000000000000001e+300"),
            (5e-324, "4.9406564584124654e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (1.0 + 2f64.powi(-17), "1.0000076293945312"),
            (1.0 / 3.0, "0.33333333333333331"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (-f64::NAN, "-nan"),
        ];
        for &(d, expected) in cases {
            assert_eq!(fmt(d), expected, "{d:e}");
        }
    }

    #[test]
    fn resp2_down_conversion() {
        let map = Frame::Map(vec![(Frame::bulk("a"), Frame::Integer(1))]);
        assert_eq!(enc(&map, Resp2), b"*2\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&map, Resp3), b"%1\r\n$1\r\na\r\n:1\r\n");
        let set = Frame::Set(vec![Frame::Integer(1)]);
        assert_eq!(enc(&set, Resp2), b"*1\r\n:1\r\n");
        assert_eq!(enc(&set, Resp3), b"~1\r\n:1\r\n");
        let push = Frame::Push(vec![Frame::bulk("message")]);
        assert_eq!(enc(&push, Resp2), b"*1\r\n$7\r\nmessage\r\n");
        assert_eq!(enc(&push, Resp3), b">1\r\n$7\r\nmessage\r\n");
        assert_eq!(enc(&Frame::Double(1.5), Resp2), b"$3\r\n1.5\r\n");
        assert_eq!(enc(&Frame::Double(1.5), Resp3), b",1.5\r\n");
        assert_eq!(enc(&Frame::Double(f64::INFINITY), Resp2), b"$3\r\ninf\r\n");
        assert_eq!(enc(&Frame::Boolean(true), Resp2), b":1\r\n");
        assert_eq!(enc(&Frame::Boolean(false), Resp3), b"#f\r\n");
        assert_eq!(enc(&Frame::Null, Resp2), b"$-1\r\n");
        assert_eq!(enc(&Frame::NullArray, Resp2), b"*-1\r\n");
        assert_eq!(enc(&Frame::Null, Resp3), b"_\r\n");
        assert_eq!(enc(&Frame::NullArray, Resp3), b"_\r\n");
        let big = Frame::BigNumber(Bytes::from_static(b"123456789012345678901234567890"));
        assert_eq!(
            enc(&big, Resp2),
            b"$30\r\n123456789012345678901234567890\r\n"
        );
        assert_eq!(enc(&big, Resp3), b"(123456789012345678901234567890\r\n");
        let verbatim = Frame::Verbatim {
            format: *b"txt",
            text: Bytes::from_static(b"hi"),
        };
        assert_eq!(enc(&verbatim, Resp2), b"$2\r\nhi\r\n");
        assert_eq!(enc(&verbatim, Resp3), b"=6\r\ntxt:hi\r\n");
        let blob = Frame::BlobError(Bytes::from_static(b"ERR a\r\nb"));
        assert_eq!(enc(&blob, Resp2), b"-ERR a  b\r\n");
        assert_eq!(enc(&blob, Resp3), b"!8\r\nERR a\r\nb\r\n");
        let attr = Frame::Attribute(vec![(Frame::simple_static("ttl"), Frame::Integer(3))]);
        assert_eq!(enc(&attr, Resp2), b"");
        assert_eq!(enc(&attr, Resp3), b"|1\r\n+ttl\r\n:3\r\n");
        let described = Frame::Array(vec![attr.clone(), Frame::Integer(7)]);
        assert_eq!(enc(&described, Resp2), b"*1\r\n:7\r\n");
        assert_eq!(enc(&described, Resp3), b"*1\r\n|1\r\n+ttl\r\n:3\r\n:7\r\n");
        let misplaced = Frame::Map(vec![(attr, Frame::Integer(1))]);
        assert_eq!(enc(&misplaced, Resp3), b"%1\r\n_\r\n:1\r\n");
    }

    #[test]
    fn helpers() {
        let mut out = BytesMut::new();
        encode_array_len(2, &mut out);
        encode_bulk(b"", &mut out);
        encode_integer(i64::MIN, &mut out);
        encode_simple(b"OK", &mut out);
        encode_error(b"ERR syntax error", &mut out);
        encode_null(Resp2, &mut out);
        encode_map_len(2, Resp2, &mut out);
        encode_map_len(2, Resp3, &mut out);
        assert_eq!(
            &out[..],
            &b"*2\r\n$0\r\n\r\n:-9223372036854775808\r\n+OK\r\n-ERR syntax error\r\n$-1\r\n*4\r\n%2\r\n"[..]
        );
    }
}
