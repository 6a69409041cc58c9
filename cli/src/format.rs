//! Reply rendering, byte for byte as redis-cli 7.0 does it.
//!
//! Two styles exist. The *TTY* style (the default when stdout is a terminal, or with `--no-raw`)
//! quotes strings, tags types (`(integer) 1`, `(nil)`) and numbers aggregate elements with
//! aligned indexes (`1)` arrays, `1~` sets, `1#` maps). The *raw* style (the default when stdout
//! is not a terminal, or with `--raw`) writes strings as they are and separates aggregate
//! elements with a delimiter (a newline unless `-d` says otherwise).

use oxidis_protocol::Frame;

/// How replies are rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    /// Human-friendly, typed and quoted output.
    Tty,
    /// Plain values, one per line.
    Raw,
}

/// A reply renderer: the output style and the raw-mode delimiters.
#[derive(Debug, Clone)]
pub struct Formatter {
    /// The output style.
    pub mode: OutputMode,
    /// Separator between aggregate elements in raw mode (`-d`).
    pub multibulk_delim: Vec<u8>,
    /// Written after each reply in raw mode (`-D`).
    pub command_delim: Vec<u8>,
}

impl Formatter {
    /// A formatter with redis-cli's default delimiters (newlines).
    pub fn new(mode: OutputMode) -> Formatter {
        Formatter {
            mode,
            multibulk_delim: b"\n".to_vec(),
            command_delim: b"\n".to_vec(),
        }
    }

    /// Renders one reply as it appears on stdout. `raw_strings` forces raw rendering without the
    /// command delimiter, as redis-cli does for INFO, CLIENT LIST and similar text replies.
    pub fn reply(&self, frame: &Frame, raw_strings: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if raw_strings {
            raw(frame, &self.multibulk_delim, &mut out);
        } else {
            match self.mode {
                OutputMode::Tty => tty(frame, "", &mut out),
                OutputMode::Raw => {
                    raw(frame, &self.multibulk_delim, &mut out);
                    out.extend_from_slice(&self.command_delim);
                }
            }
        }
        out
    }
}

/// The TTY line for a RESP3 client-tracking invalidation push, `-> invalidate: 'a', 'b'`, or
/// `None` when `frame` is not one.
pub fn format_invalidate(frame: &Frame) -> Option<Vec<u8>> {
    let Frame::Push(items) = frame else {
        return None;
    };
    let [Frame::Bulk(kind) | Frame::Simple(kind), Frame::Array(keys)] = items.as_slice() else {
        return None;
    };
    if !kind.starts_with(b"invalidate") {
        return None;
    }
    let mut out = b"-> invalidate: ".to_vec();
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        out.push(b'\'');
        out.extend_from_slice(scalar_bytes(key).unwrap_or_default());
        out.push(b'\'');
    }
    out.push(b'\n');
    Some(out)
}

/// Appends `bytes` quoted and escaped as redis' `sdscatrepr` does: `"a\n\x01\"\\"`.
pub fn repr(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in bytes {
        match b {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', b]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            // C's isprint in the "C" locale: space through tilde.
            0x20..=0x7e => out.push(b),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[
                    b'\\',
                    b'x',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ]);
            }
        }
    }
    out.push(b'"');
}

/// Formats a double as C's `printf("%.17g")`, which is how Redis 7.0 writes RESP3 doubles.
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        return if d.is_sign_negative() {
            "-nan".into()
        } else {
            "nan".into()
        };
    }
    if d.is_infinite() {
        return if d < 0.0 { "-inf".into() } else { "inf".into() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    const PRECISION: i32 = 17;
    // `{:.16e}` gives exactly 17 significant digits, correctly rounded, as printf does.
    let sci = format!("{:.16e}", d.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if d < 0.0 { "-" } else { "" };
    if (-4..PRECISION).contains(&exp) {
        let (int_part, frac_part) = if exp >= 0 {
            let split = usize::try_from(exp + 1).unwrap_or(1);
            (digits[..split].to_string(), digits[split..].to_string())
        } else {
            let zeros = usize::try_from(-exp - 1).unwrap_or(0);
            ("0".to_string(), format!("{}{}", "0".repeat(zeros), digits))
        };
        let frac_part = frac_part.trim_end_matches('0');
        if frac_part.is_empty() {
            format!("{sign}{int_part}")
        } else {
            format!("{sign}{int_part}.{frac_part}")
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = rest.trim_end_matches('0');
        let exp_sign = if exp < 0 { '-' } else { '+' };
        let dot = if rest.is_empty() { "" } else { "." };
        format!("{sign}{first}{dot}{rest}e{exp_sign}{:02}", exp.abs())
    }
}

/// The bytes of a string-like scalar, for the places that show one unquoted.
fn scalar_bytes(frame: &Frame) -> Option<&[u8]> {
    match frame {
        Frame::Simple(b)
        | Frame::Bulk(b)
        | Frame::Error(b)
        | Frame::BlobError(b)
        | Frame::BigNumber(b) => Some(b),
        Frame::Verbatim { text, .. } => Some(text),
        _ => None,
    }
}

/// The kinds of aggregate, which differ only in their index marker and empty text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Array,
    Set,
    Map,
    Push,
}

/// Whether the TTY rendering of `frame` spans several lines (used to align map values).
fn is_multiline(frame: &Frame) -> bool {
    match frame {
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => match items.as_slice() {
            [] => false,
            [only] => is_multiline(only),
            _ => true,
        },
        Frame::Map(pairs) => match pairs.as_slice() {
            [] => false,
            [(_, value)] => is_multiline(value),
            _ => true,
        },
        _ => false,
    }
}

fn tty(frame: &Frame, prefix: &str, out: &mut Vec<u8>) {
    match frame {
        Frame::Error(text) | Frame::BlobError(text) => {
            out.extend_from_slice(b"(error) ");
            out.extend_from_slice(text);
            out.push(b'\n');
        }
        Frame::Simple(text) => {
            out.extend_from_slice(text);
            out.push(b'\n');
        }
        Frame::Integer(n) => out.extend_from_slice(format!("(integer) {n}\n").as_bytes()),
        Frame::Double(d) => {
            out.extend_from_slice(format!("(double) {}\n", format_double(*d)).as_bytes())
        }
        Frame::BigNumber(digits) => {
            out.extend_from_slice(b"(big number) ");
            out.extend_from_slice(digits);
            out.push(b'\n');
        }
        Frame::Bulk(data) => {
            repr(data, out);
            out.push(b'\n');
        }
        Frame::Verbatim { text, .. } => {
            out.extend_from_slice(text);
            out.push(b'\n');
        }
        Frame::Null | Frame::NullArray => out.extend_from_slice(b"(nil)\n"),
        Frame::Boolean(b) => out.extend_from_slice(if *b { b"(true)\n" } else { b"(false)\n" }),
        Frame::Array(items) => tty_sequence(Aggregate::Array, items, prefix, out),
        Frame::Set(items) => tty_sequence(Aggregate::Set, items, prefix, out),
        Frame::Push(items) => tty_sequence(Aggregate::Push, items, prefix, out),
        Frame::Map(pairs) => tty_map(pairs, prefix, out),
        // Attributes are metadata about the next reply; the connection already skips them.
        Frame::Attribute(_) => {}
        // Never parsed from a server; formatted frame by frame should one be built locally.
        Frame::Sequence(frames) => frames.iter().for_each(|f| tty(f, prefix, out)),
        Frame::BulkArray(array) => tty(&Frame::Array(array.to_frames()), prefix, out),
        // Never parsed from a server: shown as the bytes it holds.
        Frame::Raw(bytes) => out.extend_from_slice(bytes),
    }
}

/// Writes the empty-aggregate text, or returns the nested prefix and the index format width.
fn tty_open(
    kind: Aggregate,
    count: usize,
    prefix: &str,
    out: &mut Vec<u8>,
) -> Option<(String, usize)> {
    if count == 0 {
        out.extend_from_slice(match kind {
            Aggregate::Array => b"(empty array)\n".as_slice(),
            Aggregate::Set => b"(empty set)\n",
            Aggregate::Map => b"(empty hash)\n",
            Aggregate::Push => b"(empty push)\n",
        });
        return None;
    }
    let width = count.to_string().len();
    // Nested elements line up under the first character after "N) ".
    let nested = format!("{prefix}{}", " ".repeat(width + 2));
    Some((nested, width))
}

/// Writes the index marker of element `index` (0-based); the first one follows its parent's marker
/// on the same line, so it gets no prefix.
fn tty_index(kind: Aggregate, index: usize, width: usize, prefix: &str, out: &mut Vec<u8>) {
    let marker = match kind {
        Aggregate::Set => '~',
        Aggregate::Map => '#',
        Aggregate::Array | Aggregate::Push => ')',
    };
    let lead = if index == 0 { "" } else { prefix };
    out.extend_from_slice(format!("{lead}{:>width$}{marker} ", index + 1).as_bytes());
}

fn tty_sequence(kind: Aggregate, items: &[Frame], prefix: &str, out: &mut Vec<u8>) {
    let Some((nested, width)) = tty_open(kind, items.len(), prefix, out) else {
        return;
    };
    for (i, item) in items.iter().enumerate() {
        tty_index(kind, i, width, prefix, out);
        tty(item, &nested, out);
    }
}

fn tty_map(pairs: &[(Frame, Frame)], prefix: &str, out: &mut Vec<u8>) {
    let Some((nested, width)) = tty_open(Aggregate::Map, pairs.len(), prefix, out) else {
        return;
    };
    for (i, (key, value)) in pairs.iter().enumerate() {
        tty_index(Aggregate::Map, i, width, prefix, out);
        tty(key, &nested, out);
        // The key's rendering ends with a newline; the value goes on the same line.
        out.pop();
        out.extend_from_slice(b" => ");
        if is_multiline(value) {
            out.push(b'\n');
            out.extend_from_slice(nested.as_bytes());
        }
        tty(value, &nested, out);
    }
}

fn raw(frame: &Frame, delim: &[u8], out: &mut Vec<u8>) {
    match frame {
        Frame::Null | Frame::NullArray | Frame::Attribute(_) => {}
        Frame::Sequence(frames) => frames.iter().for_each(|f| raw(f, delim, out)),
        Frame::BulkArray(array) => raw(&Frame::Array(array.to_frames()), delim, out),
        Frame::Raw(bytes) => out.extend_from_slice(bytes),
        Frame::Error(text) | Frame::BlobError(text) => {
            out.extend_from_slice(text);
            out.push(b'\n');
        }
        Frame::Simple(text) | Frame::Bulk(text) | Frame::BigNumber(text) => {
            out.extend_from_slice(text)
        }
        Frame::Verbatim { text, .. } => out.extend_from_slice(text),
        Frame::Boolean(b) => out.extend_from_slice(if *b { b"(true)" } else { b"(false)" }),
        Frame::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Frame::Double(d) => out.extend_from_slice(format_double(*d).as_bytes()),
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(delim);
                }
                raw(item, delim, out);
            }
        }
        Frame::Map(pairs) => {
            for (i, (key, value)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(delim);
                }
                raw(key, delim, out);
                out.push(b' ');
                raw(value, delim, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn bulk(s: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn tty_str(frame: &Frame) -> String {
        String::from_utf8(Formatter::new(OutputMode::Tty).reply(frame, false)).unwrap()
    }

    fn raw_str(frame: &Frame) -> String {
        String::from_utf8(Formatter::new(OutputMode::Raw).reply(frame, false)).unwrap()
    }

    #[test]
    fn tty_scalars() {
        assert_eq!(tty_str(&Frame::ok()), "OK\n");
        assert_eq!(tty_str(&Frame::Integer(-3)), "(integer) -3\n");
        assert_eq!(tty_str(&bulk("hello")), "\"hello\"\n");
        assert_eq!(tty_str(&Frame::Null), "(nil)\n");
        assert_eq!(tty_str(&Frame::NullArray), "(nil)\n");
        assert_eq!(
            tty_str(&Frame::error("ERR unknown command")),
            "(error) ERR unknown command\n"
        );
        assert_eq!(tty_str(&Frame::Boolean(true)), "(true)\n");
        assert_eq!(tty_str(&Frame::Boolean(false)), "(false)\n");
        assert_eq!(tty_str(&Frame::Double(1.5)), "(double) 1.5\n");
        assert_eq!(
            tty_str(&Frame::Double(0.1)),
            "(double) 0.10000000000000001\n"
        );
        assert_eq!(
            tty_str(&Frame::BigNumber(Bytes::from_static(
                b"1234567999999999999999"
            ))),
            "(big number) 1234567999999999999999\n"
        );
        let verbatim = Frame::Verbatim {
            format: *b"txt",
            text: Bytes::from_static(b"line1\nline2"),
        };
        assert_eq!(tty_str(&verbatim), "line1\nline2\n");
    }

    #[test]
    fn repr_escapes_like_sdscatrepr() {
        let mut out = Vec::new();
        repr(b"a\x01\n\r\t\x07\x08\xff\"\\ ~", &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#""a\x01\n\r\t\a\b\xff\"\\ ~""#
        );
    }

    #[test]
    fn tty_nested_arrays() {
        let frame = Frame::Array(vec![
            Frame::Integer(1),
            Frame::Array(vec![
                Frame::Integer(2),
                Frame::Array(vec![Frame::Integer(3), bulk("x")]),
            ]),
            Frame::Array(vec![]),
            bulk("a"),
        ]);
        assert_eq!(
            tty_str(&frame),
            "1) (integer) 1\n2) 1) (integer) 2\n   2) 1) (integer) 3\n      2) \"x\"\n3) (empty array)\n4) \"a\"\n"
        );
    }

    #[test]
    fn tty_index_width_grows_with_count() {
        let frame = Frame::Array((1..=11).map(Frame::Integer).collect());
        let text = tty_str(&frame);
        assert!(text.starts_with(" 1) (integer) 1\n 2) (integer) 2\n"));
        assert!(text.ends_with("10) (integer) 10\n11) (integer) 11\n"));
        let nested = Frame::Array(vec![
            Frame::Array((1..=10).map(Frame::Integer).collect()),
            Frame::Integer(0),
        ]);
        let text = tty_str(&nested);
        assert!(
            text.starts_with("1)  1) (integer) 1\n    2) (integer) 2\n"),
            "{text}"
        );
        assert!(
            text.contains("\n   10) (integer) 10\n2) (integer) 0\n"),
            "{text}"
        );
    }

    #[test]
    fn tty_empty_aggregates() {
        assert_eq!(tty_str(&Frame::Array(vec![])), "(empty array)\n");
        assert_eq!(tty_str(&Frame::Map(vec![])), "(empty hash)\n");
        assert_eq!(tty_str(&Frame::Set(vec![])), "(empty set)\n");
        assert_eq!(tty_str(&Frame::Push(vec![])), "(empty push)\n");
    }

    #[test]
    fn tty_maps_and_sets() {
        let map = Frame::Map(vec![
            (bulk("f1"), bulk("v1")),
            (bulk("f2"), Frame::Integer(2)),
        ]);
        assert_eq!(
            tty_str(&map),
            "1# \"f1\" => \"v1\"\n2# \"f2\" => (integer) 2\n"
        );
        let set = Frame::Set(vec![Frame::Integer(0), Frame::Integer(1)]);
        assert_eq!(tty_str(&set), "1~ (integer) 0\n2~ (integer) 1\n");
        // A multi-line value starts on its own line, aligned with the nested prefix.
        let map = Frame::Map(vec![
            (bulk("modules"), Frame::Array(vec![])),
            (bulk("list"), Frame::Array(vec![bulk("a"), bulk("b")])),
        ]);
        assert_eq!(
            tty_str(&map),
            "1# \"modules\" => (empty array)\n2# \"list\" => \n   1) \"a\"\n   2) \"b\"\n"
        );
        // A one-element aggregate is not multi-line.
        let map = Frame::Map(vec![(bulk("k"), Frame::Array(vec![bulk("only")]))]);
        assert_eq!(tty_str(&map), "1# \"k\" => 1) \"only\"\n");
    }

    #[test]
    fn raw_output() {
        assert_eq!(raw_str(&bulk("hello")), "hello\n");
        assert_eq!(raw_str(&Frame::Integer(7)), "7\n");
        assert_eq!(raw_str(&Frame::Null), "\n");
        assert_eq!(raw_str(&Frame::ok()), "OK\n");
        assert_eq!(raw_str(&Frame::error("ERR boom")), "ERR boom\n\n");
        assert_eq!(
            raw_str(&Frame::Array(vec![bulk("c d"), bulk("b"), bulk("a")])),
            "c d\nb\na\n"
        );
        assert_eq!(raw_str(&Frame::Array(vec![])), "\n");
        assert_eq!(raw_str(&Frame::Boolean(false)), "(false)\n");
        assert_eq!(raw_str(&Frame::Double(3.25)), "3.25\n");
        let map = Frame::Map(vec![
            (Frame::Integer(0), Frame::Boolean(false)),
            (Frame::Integer(1), Frame::Boolean(true)),
        ]);
        assert_eq!(raw_str(&map), "0 (false)\n1 (true)\n");
    }

    #[test]
    fn raw_delimiters_and_raw_strings() {
        let mut f = Formatter::new(OutputMode::Raw);
        f.multibulk_delim = b",".to_vec();
        f.command_delim = b";".to_vec();
        assert_eq!(
            f.reply(&Frame::Array(vec![bulk("a"), bulk("b")]), false),
            b"a,b;"
        );
        let tty = Formatter::new(OutputMode::Tty);
        assert_eq!(
            tty.reply(&bulk("# Server\r\nx:1\r\n"), true),
            b"# Server\r\nx:1\r\n"
        );
    }

    #[test]
    fn invalidate_push() {
        let push = Frame::Push(vec![
            bulk("invalidate"),
            Frame::Array(vec![bulk("a"), bulk("b")]),
        ]);
        assert_eq!(
            format_invalidate(&push).unwrap(),
            b"-> invalidate: 'a', 'b'\n"
        );
        assert_eq!(format_invalidate(&Frame::Push(vec![bulk("message")])), None);
    }

    #[test]
    fn doubles_like_printf_17g() {
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(0.1), "0.10000000000000001");
        assert_eq!(format_double(2.675), "2.6749999999999998");
        assert_eq!(format_double(-2.0), "-2");
        assert_eq!(format_double(0.0), "0");
        assert_eq!(format_double(1e17), "1e+17");
        assert_eq!(format_double(1.25e-5), "1.2500000000000001e-05");
        assert_eq!(format_double(0.0001), "0.0001");
        assert_eq!(format_double(123456789.0), "123456789");
        assert_eq!(format_double(f64::INFINITY), "inf");
        assert_eq!(format_double(f64::NEG_INFINITY), "-inf");
        assert_eq!(format_double(f64::NAN), "nan");
    }
}
