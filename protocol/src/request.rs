//! The client request parser: RESP multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and the inline
//! form (`GET k\r\n`), with Redis 7.0's limits and error replies.
//!
//! # Redis quirks kept on purpose
//! - A line is searched the way `strchr` searches a C string: a NUL byte before the terminator
//!   hides it, so such a request waits for more data until the 64 KiB "too big" limit fires.
//! - Header lines end at the first CR; the byte after it is skipped without being checked.
//! - The two bytes after bulk data are skipped without being checked.
//! - A count of zero or less (`*0`, `*-1`) is an empty command.

use bytes::{Bytes, BytesMut};

use crate::error::ProtocolError;

/// The most bytes buffered without a line end before a request is refused (Redis's
/// `PROTO_INLINE_MAX_SIZE`); it also bounds `*N` and `$N` header lines.
pub const INLINE_MAX_SIZE: usize = 64 * 1024;

/// Bulk arguments at least this long make the parser reserve room for the whole argument at
/// once (Redis's `PROTO_MBULK_BIG_ARG`).
const MBULK_BIG_ARG: u64 = 32 * 1024;

/// The largest `*N` count Redis accepts (`INT_MAX`).
const MULTIBULK_MAX: i64 = i32::MAX as i64;

/// Limits before authentication (Redis's `authRequired` branch).
const UNAUTH_MULTIBULK_MAX: i64 = 10;
const UNAUTH_BULK_MAX: i64 = 16384;

/// Limits a server applies to client requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// The longest bulk argument accepted (`proto-max-bulk-len`, default 512 MiB).
    pub proto_max_bulk_len: u64,
    /// Whether the client may send large requests. `false` applies Redis's limits for clients
    /// that still have to `AUTH`: more than 10 arguments or a bulk over 16384 bytes is refused.
    pub authenticated: bool,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            proto_max_bulk_len: 512 * 1024 * 1024,
            authenticated: true,
        }
    }
}

/// Where the parser is within the command at the front of the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    /// Between commands.
    #[default]
    Idle,
    /// Reading an inline line.
    Inline,
    /// Reading the `*N` line.
    Count,
    /// Reading bulk arguments: how many are left, and the length of the current one once its
    /// `$N` header has been read.
    Bulks {
        remaining: u64,
        bulk_len: Option<u64>,
    },
}

/// A resumable, streaming parser for client requests, one per connection.
///
/// Between a call that returns `Ok(false)` and the next one, the caller may only append to
/// the buffer: the parser remembers positions in it, so a command that arrives in pieces is
/// read once, not from the start on every call.
///
/// # Examples
/// ```
/// use bytes::BytesMut;
/// use oxidis_protocol::{RequestLimits, RequestParser};
///
/// let mut parser = RequestParser::new();
/// let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n"[..]);
/// let mut argv = Vec::new();
/// let limits = RequestLimits::default();
/// assert!(parser.parse(&mut buf, &limits, &mut argv).unwrap());
/// assert_eq!(argv, [&b"GET"[..], &b"k"[..]]);
/// assert!(parser.parse(&mut buf, &limits, &mut argv).unwrap());
/// assert_eq!(argv, [&b"PING"[..]]);
/// assert!(!parser.parse(&mut buf, &limits, &mut argv).unwrap());
/// ```
#[derive(Debug, Default)]
pub struct RequestParser {
    state: State,
    /// Bytes at the front of the buffer that belong to the current command and are read.
    pos: usize,
    /// How far the current line search has looked without finding its terminator.
    scan: usize,
    /// The arguments read so far, as (offset, length) in the buffer.
    args: Vec<(usize, usize)>,
}

impl RequestParser {
    /// A parser between commands.
    pub fn new() -> Self {
        Self::default()
    }

    /// While a big bulk argument (at least 32 KiB) is being received: where its data starts
    /// in the buffer and its announced length. Redis keeps such an argument alone in its
    /// query buffer, which is what CLIENT LIST's `qbuf=` then shows.
    pub fn pending_big_bulk(&self) -> Option<(usize, u64)> {
        match self.state {
            State::Bulks {
                bulk_len: Some(len),
                ..
            } if len >= MBULK_BIG_ARG => Some((self.pos, len)),
            _ => None,
        }
    }

    /// Parses at most one command from the front of `buf`, splitting the consumed bytes off.
    ///
    /// `argv` is cleared first. On `Ok(true)` it holds the arguments, zero-copy slices of the
    /// consumed bytes for multibulk requests; it may be empty (an empty inline line, `*0`,
    /// `*-1`), which the caller just skips. `Ok(false)` means more bytes are needed; the
    /// parser keeps its place.
    ///
    /// # Errors
    /// A [`ProtocolError`] whose text Redis sends as `-ERR <text>` before closing the
    /// connection ([`ProtocolError::to_frame`] builds that reply). The parser is reset.
    pub fn parse(
        &mut self,
        buf: &mut BytesMut,
        limits: &RequestLimits,
        argv: &mut Vec<Bytes>,
    ) -> Result<bool, ProtocolError> {
        argv.clear();
        let result = self.parse_inner(buf, limits, argv);
        if result.is_err() {
            self.reset();
        }
        result
    }

    /// Between commands, gives back the argument table a command with many arguments grew
    /// (it is kept for reuse otherwise, so small commands allocate nothing).
    pub fn shrink(&mut self) {
        const KEEP: usize = 1024;
        if matches!(self.state, State::Idle) && self.args.capacity() > KEEP {
            self.args = Vec::new();
        }
    }

    fn reset(&mut self) {
        self.state = State::Idle;
        self.pos = 0;
        self.scan = 0;
        self.args.clear();
    }

    fn parse_inner(
        &mut self,
        buf: &mut BytesMut,
        limits: &RequestLimits,
        argv: &mut Vec<Bytes>,
    ) -> Result<bool, ProtocolError> {
        if self.state == State::Idle {
            match buf.first() {
                None => return Ok(false),
                Some(b'*') => self.state = State::Count,
                Some(_) => self.state = State::Inline,
            }
        }
        match self.state {
            State::Inline => self.parse_inline(buf, argv),
            _ => self.parse_multibulk(buf, limits, argv),
        }
    }

    fn parse_inline(
        &mut self,
        buf: &mut BytesMut,
        argv: &mut Vec<Bytes>,
    ) -> Result<bool, ProtocolError> {
        let newline = match find_in_c_string(buf, self.scan, b'\n') {
            Ok(at) => at,
            Err(scanned) => {
                self.scan = scanned;
                if buf.len() > INLINE_MAX_SIZE {
                    return Err(ProtocolError::TooBigInlineRequest);
                }
                return Ok(false);
            }
        };
        let end = if newline > 0 && buf[newline - 1] == b'\r' {
            newline - 1
        } else {
            newline
        };
        let args = split_args(&buf[..end]).ok_or(ProtocolError::UnbalancedQuotes)?;
        let _line = buf.split_to(newline + 1);
        argv.extend(args.into_iter().map(Bytes::from));
        self.reset();
        Ok(true)
    }

    fn parse_multibulk(
        &mut self,
        buf: &mut BytesMut,
        limits: &RequestLimits,
        argv: &mut Vec<Bytes>,
    ) -> Result<bool, ProtocolError> {
        if self.state == State::Count {
            let Some(cr) = self.header_line(buf, ProtocolError::TooBigMultibulkCount)? else {
                return Ok(false);
            };
            let count = match string2ll(&buf[1..cr]) {
                Some(n) if n <= MULTIBULK_MAX => n,
                _ => return Err(ProtocolError::InvalidMultibulkLength),
            };
            if count > UNAUTH_MULTIBULK_MAX && !limits.authenticated {
                return Err(ProtocolError::UnauthenticatedMultibulkLength);
            }
            self.advance_to(cr + 2);
            if count <= 0 {
                // `*0` and `*-1` are empty commands.
                let _line = buf.split_to(self.pos);
                self.reset();
                return Ok(true);
            }
            let remaining = count.unsigned_abs();
            self.args.clear();
            self.args.reserve(count.min(1024) as usize);
            self.state = State::Bulks {
                remaining,
                bulk_len: None,
            };
        }

        while let State::Bulks {
            remaining,
            bulk_len,
        } = self.state
        {
            if remaining == 0 {
                break;
            }
            let len = match bulk_len {
                Some(len) => len,
                None => {
                    let Some(cr) = self.header_line(buf, ProtocolError::TooBigBulkCount)? else {
                        return Ok(false);
                    };
                    let first = buf[self.pos];
                    if first != b'$' {
                        return Err(ProtocolError::ExpectedDollar(first));
                    }
                    let len = match string2ll(&buf[self.pos + 1..cr]) {
                        Some(n) if n >= 0 && n.unsigned_abs() <= limits.proto_max_bulk_len => n,
                        _ => return Err(ProtocolError::InvalidBulkLength),
                    };
                    if len > UNAUTH_BULK_MAX && !limits.authenticated {
                        return Err(ProtocolError::UnauthenticatedBulkLength);
                    }
                    let len = len.unsigned_abs();
                    self.advance_to(cr + 2);
                    self.state = State::Bulks {
                        remaining,
                        bulk_len: Some(len),
                    };
                    if len >= MBULK_BIG_ARG {
                        reserve_for(buf, self.pos, len + 2);
                    }
                    len
                }
            };
            let available = (buf.len() - self.pos) as u64;
            if available < len + 2 {
                return Ok(false);
            }
            // The argument is in the buffer, so its length fits in usize.
            let len = len as usize;
            self.args.push((self.pos, len));
            // Like Redis, the two bytes after the data are skipped unchecked.
            self.advance_to(self.pos + len + 2);
            self.state = State::Bulks {
                remaining: remaining - 1,
                bulk_len: None,
            };
        }

        let command = buf.split_to(self.pos).freeze();
        argv.extend(
            self.args
                .drain(..)
                .map(|(start, len)| command.slice(start..start + len)),
        );
        self.reset();
        Ok(true)
    }

    /// Finds the CR that ends the header line starting at `self.pos`, once the byte after it
    /// has arrived too. `Ok(None)` means wait; `too_big` is returned when 64 KiB are buffered
    /// with no CR.
    fn header_line(
        &mut self,
        buf: &BytesMut,
        too_big: ProtocolError,
    ) -> Result<Option<usize>, ProtocolError> {
        let from = self.scan.max(self.pos);
        match find_in_c_string(buf, from, b'\r') {
            Ok(cr) => {
                self.scan = cr;
                // Redis needs one byte after the CR, and does not look at it.
                Ok(if cr + 2 <= buf.len() { Some(cr) } else { None })
            }
            Err(scanned) => {
                self.scan = scanned;
                if buf.len() - self.pos > INLINE_MAX_SIZE {
                    return Err(too_big);
                }
                Ok(None)
            }
        }
    }

    fn advance_to(&mut self, pos: usize) {
        self.pos = pos;
        self.scan = pos;
    }
}

/// Makes room for a big argument of `need` bytes (data and CRLF) starting at `pos`, when the
/// buffer holds no more than that argument, so it is read without repeated regrowth.
fn reserve_for(buf: &mut BytesMut, pos: usize, need: u64) {
    let have = (buf.len() - pos) as u64;
    let extra = usize::try_from(need.saturating_sub(have)).unwrap_or(0);
    if extra > 0 {
        buf.reserve(extra);
    }
}

/// Searches `hay[from..]` for `target` as C's `strchr` would: a NUL byte ends the search.
/// `Err` carries where the next search may resume (the NUL, or the end of the buffer).
fn find_in_c_string(hay: &[u8], from: usize, target: u8) -> Result<usize, usize> {
    match hay
        .get(from..)
        .unwrap_or_default()
        .iter()
        .position(|&b| b == target || b == 0)
    {
        Some(i) if hay[from + i] == target => Ok(from + i),
        Some(i) => Err(from + i),
        None => Err(hay.len()),
    }
}

/// Parses a decimal `i64` as strictly as Redis's `string2ll`: an optional `-`, no `+`, no
/// leading zeros (except `0` itself), no spaces, at most 20 characters.
pub(crate) fn string2ll(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let (&first, rest) = digits.split_first()?;
    if !(b'1'..=b'9').contains(&first) {
        return None;
    }
    let mut value = u64::from(first - b'0');
    for &c in rest {
        if !c.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    let value = i128::from(value);
    i64::try_from(if negative { -value } else { value }).ok()
}

/// Whether C's `isspace` holds in the "C" locale.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Splits a command line into arguments the way Redis's `sdssplitargs` does, or `None` when
/// quotes do not balance.
///
/// Arguments are separated by whitespace. Inside `"double quotes"`, `\xHH` is a byte and `\n`,
/// `\r`, `\t`, `\b`, `\a` are control characters (any other escaped character stands for
/// itself); inside `'single quotes'` only `\'` is an escape. A closing quote must be followed
/// by whitespace or the end of the line. As in C, a NUL byte ends the line.
///
/// ```
/// use oxidis_protocol::split_args;
/// assert_eq!(
///     split_args(br#"set "a b" 'it\'s' "\x41\n""#),
///     Some(vec![b"set".to_vec(), b"a b".to_vec(), b"it's".to_vec(), b"A\n".to_vec()])
/// );
/// assert_eq!(split_args(b"get \"k"), None);
/// ```
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = match line.iter().position(|&b| b == 0) {
        Some(nul) => &line[..nul],
        None => line,
    };
    // The byte at `i`, or the NUL terminator past the end, as C reads it.
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut args = Vec::new();
    let mut p = 0;
    loop {
        while p < line.len() && is_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Some(args);
        }
        let mut current = Vec::new();
        let (mut in_double, mut in_single, mut done) = (false, false, false);
        while !done {
            let c = at(p);
            if in_double {
                match (c, at(p + 1)) {
                    (b'\\', b'x')
                        if hex_value(at(p + 2)).is_some() && hex_value(at(p + 3)).is_some() =>
                    {
                        let high = hex_value(at(p + 2)).unwrap_or(0);
                        let low = hex_value(at(p + 3)).unwrap_or(0);
                        current.push(high * 16 + low);
                        p += 3;
                    }
                    (b'\\', next) if next != 0 => {
                        p += 1;
                        current.push(match next {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 0x08,
                            b'a' => 0x07,
                            other => other,
                        });
                    }
                    (b'"', next) => {
                        if next != 0 && !is_space(next) {
                            return None;
                        }
                        done = true;
                    }
                    (0, _) => return None,
                    (c, _) => current.push(c),
                }
            } else if in_single {
                match (c, at(p + 1)) {
                    (b'\\', b'\'') => {
                        p += 1;
                        current.push(b'\'');
                    }
                    (b'\'', next) => {
                        if next != 0 && !is_space(next) {
                            return None;
                        }
                        done = true;
                    }
                    (0, _) => return None,
                    (c, _) => current.push(c),
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    c => current.push(c),
                }
            }
            if at(p) != 0 {
                p += 1;
            }
        }
        args.push(current);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH: RequestLimits = RequestLimits {
        proto_max_bulk_len: 512 * 1024 * 1024,
        authenticated: true,
    };
    const UNAUTH: RequestLimits = RequestLimits {
        proto_max_bulk_len: 512 * 1024 * 1024,
        authenticated: false,
    };

    /// Parses every command in `input` at once; the error, if any, ends the list.
    fn parse_all(
        input: &[u8],
        limits: &RequestLimits,
    ) -> (Vec<Vec<Vec<u8>>>, Option<ProtocolError>, usize) {
        let mut parser = RequestParser::new();
        let mut buf = BytesMut::from(input);
        let mut argv = Vec::new();
        let mut commands = Vec::new();
        loop {
            match parser.parse(&mut buf, limits, &mut argv) {
                Ok(true) => commands.push(argv.iter().map(|a| a.to_vec()).collect()),
                Ok(false) => return (commands, None, buf.len()),
                Err(e) => return (commands, Some(e), buf.len()),
            }
        }
    }

    /// Feeds `input` one byte at a time.
    fn parse_bytewise(
        input: &[u8],
        limits: &RequestLimits,
    ) -> (Vec<Vec<Vec<u8>>>, Option<ProtocolError>) {
        let mut parser = RequestParser::new();
        let mut buf = BytesMut::new();
        let mut argv = Vec::new();
        let mut commands = Vec::new();
        for &b in input {
            buf.extend_from_slice(&[b]);
            loop {
                match parser.parse(&mut buf, limits, &mut argv) {
                    Ok(true) => commands.push(argv.iter().map(|a| a.to_vec()).collect()),
                    Ok(false) => break,
                    Err(e) => return (commands, Some(e)),
                }
            }
        }
        (commands, None)
    }

    fn args(list: &[&str]) -> Vec<Vec<u8>> {
        list.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    fn error_of(input: &[u8], limits: &RequestLimits) -> String {
        match parse_all(input, limits).1 {
            Some(e) => e.to_string(),
            None => String::from("<no error>"),
        }
    }

    #[test]
    fn multibulk_and_inline_mixed() {
        let input = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nSET a \"b c\"\r\nPING\n*1\r\n$4\r\nPI";
        let (commands, err, left) = parse_all(input, &AUTH);
        assert_eq!(
            commands,
            vec![
                args(&["GET", "k"]),
                args(&["SET", "a", "b c"]),
                args(&["PING"])
            ]
        );
        assert_eq!(err, None);
        assert_eq!(left, 10);
        let (bytewise, err) = parse_bytewise(input, &AUTH);
        assert_eq!(bytewise, commands);
        assert_eq!(err, None);
    }

    #[test]
    fn empty_commands() {
        let (commands, err, left) = parse_all(b"\r\n\n*0\r\n*-1\r\n   \r\n", &AUTH);
        assert_eq!(commands, vec![Vec::<Vec<u8>>::new(); 5]);
        assert_eq!(err, None);
        assert_eq!(left, 0);
    }

    #[test]
    fn binary_bulk_and_unchecked_trailer() {
        let (commands, err, _) = parse_all(b"*2\r\n$3\r\na\0b\r\n$0\r\nXY*1\r\n$1\r\nz\r\n", &AUTH);
        assert_eq!(commands, vec![vec![b"a\0b".to_vec(), vec![]], args(&["z"])]);
        assert_eq!(err, None);
    }

    #[test]
    fn header_byte_after_cr_is_not_checked() {
        let (commands, err, _) = parse_all(b"*1\rx$2\ryokZZ", &AUTH);
        assert_eq!(commands, vec![args(&["ok"])]);
        assert_eq!(err, None);
    }

    #[test]
    fn nul_hides_the_line_end_like_strchr() {
        let (commands, err, left) = parse_all(b"PI\0NG\r\n", &AUTH);
        assert!(commands.is_empty());
        assert_eq!(err, None);
        assert_eq!(left, 7);
        let mut big = b"PI\0NG\r\n".to_vec();
        big.resize(INLINE_MAX_SIZE + 1, b'x');
        assert_eq!(
            error_of(&big, &AUTH),
            "Protocol error: too big inline request"
        );
    }

    #[test]
    fn every_error_text() {
        let mut long_inline = vec![b'a'; INLINE_MAX_SIZE + 1];
        assert_eq!(
            error_of(&long_inline, &AUTH),
            "Protocol error: too big inline request"
        );
        long_inline.truncate(INLINE_MAX_SIZE);
        assert_eq!(error_of(&long_inline, &AUTH), "<no error>");
        assert_eq!(
            error_of(b"set \"a\r\n", &AUTH),
            "Protocol error: unbalanced quotes in request"
        );
        assert_eq!(
            error_of(b"set 'a'b\r\n", &AUTH),
            "Protocol error: unbalanced quotes in request"
        );

        let mut long_count = b"*".to_vec();
        long_count.resize(INLINE_MAX_SIZE + 1, b'1');
        assert_eq!(
            error_of(&long_count, &AUTH),
            "Protocol error: too big mbulk count string"
        );
        long_count.truncate(INLINE_MAX_SIZE);
        assert_eq!(error_of(&long_count, &AUTH), "<no error>");

        for bad in [
            &b"*x\r\n"[..],
            b"*\r\n",
            b"*01\r\n",
            b"*+1\r\n",
            b"* 1\r\n",
            b"*2147483648\r\n",
            b"*99999999999999999999\r\n",
        ] {
            assert_eq!(
                error_of(bad, &AUTH),
                "Protocol error: invalid multibulk length",
                "{bad:?}"
            );
        }
        assert_eq!(error_of(b"*2147483647\r\n", &AUTH), "<no error>");
        assert_eq!(
            error_of(b"*11\r\n", &UNAUTH),
            "Protocol error: unauthenticated multibulk length"
        );
        assert_eq!(error_of(b"*10\r\n", &UNAUTH), "<no error>");
        assert_eq!(
            error_of(b"*x\r\n", &UNAUTH),
            "Protocol error: invalid multibulk length"
        );

        let mut long_bulk = b"*1\r\n$".to_vec();
        long_bulk.resize(INLINE_MAX_SIZE + 5, b'1');
        assert_eq!(
            error_of(&long_bulk, &AUTH),
            "Protocol error: too big bulk count string"
        );
        long_bulk.pop();
        assert_eq!(error_of(&long_bulk, &AUTH), "<no error>");

        assert_eq!(
            error_of(b"*1\r\n:3\r\n", &AUTH),
            "Protocol error: expected '$', got ':'"
        );
        assert_eq!(
            error_of(b"*1\r\n\r\n", &AUTH),
            "Protocol error: expected '$', got '\r'"
        );
        assert_eq!(
            parse_all(b"*1\r\n\n\r\n", &AUTH).1.map(|e| e.to_frame()),
            Some(crate::Frame::error_static(
                "ERR Protocol error: expected '$', got ' '"
            ))
        );
        for bad in [
            &b"*1\r\n$-1\r\n"[..],
            b"*1\r\n$x\r\n",
            b"*1\r\n$\r\n",
            b"*1\r\n$01\r\n",
            b"*1\r\n$-0\r\n",
        ] {
            assert_eq!(
                error_of(bad, &AUTH),
                "Protocol error: invalid bulk length",
                "{bad:?}"
            );
        }
        let small = RequestLimits {
            proto_max_bulk_len: 5,
            authenticated: true,
        };
        assert_eq!(
            error_of(b"*1\r\n$6\r\n", &small),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(error_of(b"*1\r\n$5\r\n", &small), "<no error>");
        assert_eq!(
            error_of(b"*1\r\n$16385\r\n", &UNAUTH),
            "Protocol error: unauthenticated bulk length"
        );
        assert_eq!(error_of(b"*1\r\n$16384\r\n", &UNAUTH), "<no error>");
    }

    #[test]
    fn error_resets_the_parser() {
        let mut parser = RequestParser::new();
        let mut buf = BytesMut::from(&b"*1\r\n$x\r\n"[..]);
        let mut argv = Vec::new();
        assert_eq!(
            parser.parse(&mut buf, &AUTH, &mut argv),
            Err(ProtocolError::InvalidBulkLength)
        );
        let mut fresh = BytesMut::from(&b"PING\r\n"[..]);
        assert_eq!(parser.parse(&mut fresh, &AUTH, &mut argv), Ok(true));
        assert_eq!(argv, [Bytes::from_static(b"PING")]);
    }

    #[test]
    fn every_prefix_waits_then_completes() {
        let input = b"*3\r\n$3\r\nSET\r\n$5\r\nmykey\r\n$7\r\nmyvalue\r\n";
        for cut in 0..input.len() {
            let mut parser = RequestParser::new();
            let mut buf = BytesMut::from(&input[..cut]);
            let mut argv = vec![Bytes::from_static(b"stale")];
            assert_eq!(
                parser.parse(&mut buf, &AUTH, &mut argv),
                Ok(false),
                "cut {cut}"
            );
            assert!(argv.is_empty());
            buf.extend_from_slice(&input[cut..]);
            assert_eq!(parser.parse(&mut buf, &AUTH, &mut argv), Ok(true));
            assert_eq!(argv, [&b"SET"[..], b"mykey", b"myvalue"]);
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn pipeline_of_ten_thousand() {
        let mut input = Vec::new();
        for i in 0..10_000 {
            let key = format!("key:{i}");
            input.extend_from_slice(
                format!("*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len()).as_bytes(),
            );
            if i % 100 == 0 {
                input.extend_from_slice(format!("INCR {key}\r\n").as_bytes());
            }
        }
        let (commands, err, left) = parse_all(&input, &AUTH);
        assert_eq!(err, None);
        assert_eq!(left, 0);
        assert_eq!(commands.len(), 10_100);
        assert_eq!(commands[0], args(&["GET", "key:0"]));
        assert_eq!(commands[1], args(&["INCR", "key:0"]));
        assert_eq!(commands[10_099], args(&["GET", "key:9999"]));
    }

    #[test]
    fn big_argument_in_pieces_keeps_its_place() {
        let value = vec![b'v'; 200_000];
        let mut input = format!("*2\r\n$3\r\nSET\r\n${}\r\n", value.len()).into_bytes();
        input.extend_from_slice(&value);
        input.extend_from_slice(b"\r\n");
        let mut parser = RequestParser::new();
        let mut buf = BytesMut::new();
        let mut argv = Vec::new();
        let mut done = false;
        for chunk in input.chunks(1000) {
            assert!(!done);
            buf.extend_from_slice(chunk);
            done = parser
                .parse(&mut buf, &AUTH, &mut argv)
                .expect("valid request");
        }
        assert!(done);
        assert_eq!(argv.len(), 2);
        assert_eq!(argv[1], value);
    }

    #[test]
    fn string2ll_is_strict() {
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"-1"), Some(-1));
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"00",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"1a",
        ] {
            assert_eq!(string2ll(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn split_args_like_sdssplitargs() {
        type Case = (&'static [u8], Option<Vec<Vec<u8>>>);
        let cases: &[Case] = &[
            (b"", Some(vec![])),
            (b"  \t ", Some(vec![])),
            (b"set key value", Some(args(&["set", "key", "value"]))),
            (b"  a   b  ", Some(args(&["a", "b"]))),
            (br#""a b" c"#, Some(args(&["a b", "c"]))),
            (br#""\x41\x4a\x4A\xZZ""#, Some(vec![b"AJJxZZ".to_vec()])),
            (
                br#""\n\r\t\b\a\q\"\\""#,
                Some(vec![b"\n\r\t\x08\x07q\"\\".to_vec()]),
            ),
            (
                br"'it\'s' 'a\nb'",
                Some(vec![b"it's".to_vec(), b"a\\nb".to_vec()]),
            ),
            (br#"foo"bar baz" x"#, Some(args(&["foobar baz", "x"]))),
            (b"\"\"", Some(vec![vec![]])),
            (b"''", Some(vec![vec![]])),
            (b"a\x0bb", Some(vec![b"a\x0bb".to_vec()])),
            (b"a\rb", Some(args(&["a", "b"]))),
            (b"a\0 b", Some(args(&["a"]))),
            (br#""abc"#, None),
            (br#""abc"d"#, None),
            (br"'abc", None),
            (br"'abc'd", None),
            (br#""abc\"#, None),
            (b"\"a\0\"", None),
        ];
        for (line, expected) in cases {
            assert_eq!(
                &split_args(line),
                expected,
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }
}
