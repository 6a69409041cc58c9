//! The SCAN family's argument parsing, shared by SCAN, HSCAN, SSCAN and ZSCAN: the cursor as
//! Redis reads it, and MATCH, COUNT and (SCAN only) TYPE.

use crate::command::Args;
use crate::errors::CommandError;
use crate::errors::generic::INVALID_CURSOR;

/// What a SCAN-family command walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scanning {
    /// SCAN: the keyspace.
    Keys,
    /// HSCAN, SSCAN, ZSCAN: one collection's elements.
    Elements,
}

/// The SCAN family's MATCH, COUNT and TYPE options.
pub(crate) struct ScanOptions<'a> {
    pub(crate) pattern: Option<&'a [u8]>,
    pub(crate) count: usize,
    pub(crate) type_name: Option<&'a [u8]>,
}

/// SCAN's cursor, read as C's `strtoul` would (a sign is allowed and a negative number wraps;
/// no spaces), so any cursor Redis accepts is accepted.
pub(crate) fn parse_scan_cursor(arg: &[u8]) -> Result<u64, CommandError> {
    let invalid = || CommandError::msg(INVALID_CURSOR);
    if arg.is_empty() {
        return Ok(0);
    }
    let (negative, digits) = match arg {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, arg),
    };
    if digits.is_empty() {
        return Err(invalid());
    }
    let mut cursor: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return Err(invalid());
        }
        cursor = cursor
            .checked_mul(10)
            .and_then(|c| c.checked_add(u64::from(b - b'0')))
            .ok_or_else(invalid)?;
    }
    Ok(if negative {
        cursor.wrapping_neg()
    } else {
        cursor
    })
}

/// Reads the options in order, as Redis does: the first bad one decides the error. TYPE is
/// SCAN's alone (`Keyspace::Keys`); for a collection's elements it is a syntax error.
pub(crate) fn parse_scan_options<'a>(
    args: &mut Args<'a>,
    scanning: Scanning,
) -> Result<ScanOptions<'a>, CommandError> {
    let mut options = ScanOptions {
        pattern: None,
        count: 10,
        type_name: None,
    };
    while let Some(option) = args.peek() {
        if args.remaining() < 2 {
            return Err(CommandError::Syntax);
        }
        if option.eq_ignore_ascii_case(b"COUNT") {
            args.next_bytes()?;
            let count = args.next_i64()?;
            options.count = usize::try_from(count)
                .ok()
                .filter(|c| *c >= 1)
                .ok_or(CommandError::Syntax)?;
        } else if option.eq_ignore_ascii_case(b"MATCH") {
            args.next_bytes()?;
            let pattern = args.next_bytes()?.as_ref();
            // "*" matches everything: no need to run the matcher.
            options.pattern = (pattern != b"*").then_some(pattern);
        } else if scanning == Scanning::Keys && option.eq_ignore_ascii_case(b"TYPE") {
            args.next_bytes()?;
            options.type_name = Some(args.next_bytes()?.as_ref());
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok(options)
}
