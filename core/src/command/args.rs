//! `Args`: a checked cursor over a command's arguments. Dispatch has already checked arity, so
//! handlers read what they need with typed reads and call [`Args::finish`] to refuse leftovers.

use bytes::Bytes;

use crate::errors::CommandError;
use crate::types::parse_canonical_i64;

/// The arguments of one command, read front to back.
#[derive(Debug)]
pub struct Args<'a> {
    argv: &'a [Bytes],
    pos: usize,
}

impl<'a> Args<'a> {
    /// A cursor over `argv` (the command name included) starting at `start`.
    pub fn new(argv: &'a [Bytes], start: usize) -> Args<'a> {
        Args { argv, pos: start }
    }

    /// The whole argument vector, the command name included.
    pub fn argv(&self) -> &'a [Bytes] {
        self.argv
    }

    /// How many arguments are left.
    pub fn remaining(&self) -> usize {
        self.argv.len().saturating_sub(self.pos)
    }

    /// Whether every argument has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The next argument, without consuming it.
    pub fn peek(&self) -> Option<&'a Bytes> {
        self.argv.get(self.pos)
    }

    /// The next argument.
    ///
    /// # Errors
    /// `ERR syntax error` when there is none (an option missing its value).
    pub fn next_bytes(&mut self) -> Result<&'a Bytes, CommandError> {
        let arg = self.argv.get(self.pos).ok_or(CommandError::Syntax)?;
        self.pos += 1;
        Ok(arg)
    }

    /// The next argument as a 64-bit integer, as strictly as Redis's `string2ll`.
    ///
    /// # Errors
    /// `ERR value is not an integer or out of range`.
    pub fn next_i64(&mut self) -> Result<i64, CommandError> {
        parse_i64(self.next_bytes()?)
    }

    /// The next argument as a finite-or-infinite double (NaN refused).
    ///
    /// # Errors
    /// `ERR value is not a valid float`.
    pub fn next_f64(&mut self) -> Result<f64, CommandError> {
        parse_f64(self.next_bytes()?).ok_or(CommandError::NotAFloat)
    }

    /// Consumes the next argument if it equals `keyword` (ASCII case-insensitive).
    pub fn eat_keyword(&mut self, keyword: &str) -> bool {
        match self.peek() {
            Some(arg) if arg.eq_ignore_ascii_case(keyword.as_bytes()) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// Everything not read yet; the cursor moves to the end.
    pub fn rest(&mut self) -> &'a [Bytes] {
        let rest = self.argv.get(self.pos..).unwrap_or(&[]);
        self.pos = self.argv.len();
        rest
    }

    /// Succeeds only if every argument has been read.
    ///
    /// # Errors
    /// `ERR syntax error` on leftovers.
    pub fn finish(&self) -> Result<(), CommandError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(CommandError::Syntax)
        }
    }
}

/// Parses an integer argument as Redis does (`string2ll`: no spaces, no `+`, no leading zeros).
///
/// # Errors
/// `ERR value is not an integer or out of range`.
pub fn parse_i64(arg: &[u8]) -> Result<i64, CommandError> {
    parse_canonical_i64(arg).ok_or(CommandError::NotAnInteger)
}

/// Parses a double as Redis's `strtod`-based reads do: no surrounding spaces, no NaN, and no
/// overflow to infinity from a finite spelling; `inf` and `-inf` themselves are accepted.
pub fn parse_f64(arg: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(arg).ok()?;
    if text.is_empty() || text.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    if value.is_nan() {
        return None;
    }
    if value.is_infinite() {
        let spelled = text.trim_start_matches(['+', '-']).to_ascii_lowercase();
        if spelled != "inf" && spelled != "infinity" {
            return None;
        }
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(items: &[&str]) -> Vec<Bytes> {
        items
            .iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    #[test]
    fn typed_reads_and_finish() {
        let v = argv(&["set", "k", "10", "ex", "1.5"]);
        let mut args = Args::new(&v, 1);
        assert_eq!(args.next_bytes().unwrap().as_ref(), b"k");
        assert_eq!(args.next_i64().unwrap(), 10);
        assert!(args.eat_keyword("EX"));
        assert_eq!(args.finish(), Err(CommandError::Syntax));
        assert_eq!(args.next_f64().unwrap(), 1.5);
        assert_eq!(args.finish(), Ok(()));
        assert_eq!(args.next_bytes(), Err(CommandError::Syntax));
    }

    #[test]
    fn floats_follow_strtod_rules() {
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"1e400"), None);
        assert_eq!(parse_f64(b""), None);
    }
}
