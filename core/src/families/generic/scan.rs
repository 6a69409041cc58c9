//! SCAN's argument parsing: the cursor as Redis reads it, and MATCH, COUNT and TYPE.

use crate::command::Args;
use crate::errors::CommandError;
use crate::errors::generic::INVALID_CURSOR;

/// SCAN's MATCH, COUNT and TYPE options.
pub(super) struct ScanOptions<'a> {
    pub(super) pattern: Option<&'a [u8]>,
    pub(super) count: usize,
    pub(super) type_name: Option<&'a [u8]>,
}

/// SCAN's cursor, read as C's `strtoul` would (a sign is allowed and a negative number wraps;
/// no spaces), so any cursor Redis accepts is accepted.
pub(super) fn parse_scan_cursor(arg: &[u8]) -> Result<u64, CommandError> {
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

/// Reads SCAN's options in order, as Redis does: the first bad one decides the error.
pub(super) fn parse_scan_options<'a>(args: &mut Args<'a>) -> Result<ScanOptions<'a>, CommandError> {
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
        } else if option.eq_ignore_ascii_case(b"TYPE") {
            args.next_bytes()?;
            options.type_name = Some(args.next_bytes()?.as_ref());
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok(options)
}
