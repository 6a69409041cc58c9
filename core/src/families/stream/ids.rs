//! Reading ids from arguments and writing entries into replies, shared by the stream commands.

use bytes::Bytes;
use oxidis_protocol::{BulkArray, Frame};

use crate::command::parse_i64;
use crate::errors::CommandError;
use crate::errors::stream::{INVALID_END, INVALID_ID, INVALID_START};
use crate::types::{StreamEntry, StreamId};

/// What an id argument may leave out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ParsedId {
    pub(super) id: StreamId,
    /// False for XADD's `<ms>-*`: the sequence is to be generated.
    pub(super) seq_given: bool,
}

/// Parses `<ms>[-<seq>]` (the missing sequence is `missing_seq`), and `-`/`+` unless `strict`;
/// `<ms>-*` when `allow_auto_seq` (XADD). Redis's `streamGenericParseIDOrReply`.
pub(super) fn parse_id_full(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    allow_auto_seq: bool,
) -> Result<ParsedId, CommandError> {
    let invalid = || CommandError::msg(INVALID_ID);
    if arg.len() > 127 {
        return Err(invalid());
    }
    let given = |id| ParsedId {
        id,
        seq_given: true,
    };
    match arg {
        b"-" if !strict => return Ok(given(StreamId::MIN)),
        b"+" if !strict => return Ok(given(StreamId::MAX)),
        b"-" | b"+" => return Err(invalid()),
        _ => {}
    }
    let (ms, seq) = match arg.iter().position(|&b| b == b'-') {
        Some(dash) => (&arg[..dash], Some(&arg[dash + 1..])),
        None => (arg, None),
    };
    let ms = parse_u64(ms).ok_or_else(invalid)?;
    match seq {
        None => Ok(given(StreamId::new(ms, missing_seq))),
        Some(b"*") if allow_auto_seq => Ok(ParsedId {
            id: StreamId::new(ms, 0),
            seq_given: false,
        }),
        Some(seq) => Ok(given(StreamId::new(
            ms,
            parse_u64(seq).ok_or_else(invalid)?,
        ))),
    }
}

/// A strict id (no `-`/`+`), with a missing sequence read as 0.
pub(super) fn parse_strict_id(arg: &[u8]) -> Result<StreamId, CommandError> {
    parse_id_full(arg, 0, true, false).map(|p| p.id)
}

/// A range bound: `-`, `+`, `<ms>[-<seq>]` (the missing sequence read as `missing_seq`), or
/// `(` before an id for an exclusive bound (then `-`/`+` are refused). The start of a range is
/// moved past an exclusive bound by `next`, the end by `prev`.
pub(super) fn parse_range_bound(
    arg: &[u8],
    missing_seq: u64,
    is_start: bool,
) -> Result<StreamId, CommandError> {
    if arg.len() > 1 && arg[0] == b'(' {
        let id = parse_id_full(&arg[1..], missing_seq, true, false)?.id;
        if is_start {
            id.next().ok_or(CommandError::msg(INVALID_START))
        } else {
            id.prev().ok_or(CommandError::msg(INVALID_END))
        }
    } else {
        parse_id_full(arg, missing_seq, false, false).map(|p| p.id)
    }
}

/// Redis's `string2ull`: digits only (no sign, no spaces), at most u64::MAX.
fn parse_u64(arg: &[u8]) -> Option<u64> {
    if arg.is_empty() || arg.len() > 20 || !arg.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(arg).ok()?.parse().ok()
}

/// An integer argument as Redis's `getLongLongFromObjectOrReply` reads it, with its own error.
pub(super) fn parse_int(arg: &[u8], error: &'static str) -> Result<i64, CommandError> {
    parse_i64(arg).map_err(|_| CommandError::msg(error))
}

/// An id as a bulk string.
pub(super) fn id_frame(id: StreamId) -> Frame {
    Frame::Bulk(id_bytes(id))
}

/// An id as `<ms>-<seq>` bytes (without `format!`: replies carry one per entry).
pub(super) fn id_bytes(id: StreamId) -> Bytes {
    let mut out = Vec::with_capacity(41);
    out.extend_from_slice(itoa::Buffer::new().format(id.ms).as_bytes());
    out.push(b'-');
    out.extend_from_slice(itoa::Buffer::new().format(id.seq).as_bytes());
    Bytes::from(out)
}

/// One entry as `[id, [field, value, ...]]`.
pub(super) fn entry_frame(entry: &StreamEntry<'_>) -> Frame {
    let pairs = entry.field_count();
    let bytes = entry.fields().map(|(f, v)| f.len() + v.len()).sum();
    let mut fields = BulkArray::with_capacity(pairs * 2, bytes);
    for (field, value) in entry.fields() {
        fields.push(field);
        fields.push(value);
    }
    Frame::Array(vec![id_frame(entry.id()), Frame::BulkArray(fields)])
}

/// The XCLAIM that recreates pending entry `id` on a replica or from the AOF (Redis's
/// `streamPropagateXCLAIM`).
pub(super) fn xclaim_argv(
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    id: StreamId,
    delivery_time: u64,
    delivery_count: u64,
    last_id: StreamId,
) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XCLAIM"),
        Bytes::copy_from_slice(key),
        Bytes::copy_from_slice(group),
        Bytes::copy_from_slice(consumer),
        Bytes::from_static(b"0"),
        Bytes::from(id.to_string()),
        Bytes::from_static(b"TIME"),
        Bytes::from(delivery_time.to_string()),
        Bytes::from_static(b"RETRYCOUNT"),
        Bytes::from(delivery_count.to_string()),
        Bytes::from_static(b"FORCE"),
        Bytes::from_static(b"JUSTID"),
        Bytes::from_static(b"LASTID"),
        Bytes::from(last_id.to_string()),
    ]
}

/// The XGROUP SETID that moves a replica's group to `last_id` (Redis's
/// `streamPropagateGroupID`); an unknown read counter is sent as -1.
pub(super) fn setid_argv(
    key: &[u8],
    group: &[u8],
    last_id: StreamId,
    entries_read: Option<u64>,
) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XGROUP"),
        Bytes::from_static(b"SETID"),
        Bytes::copy_from_slice(key),
        Bytes::copy_from_slice(group),
        Bytes::from(last_id.to_string()),
        Bytes::from_static(b"ENTRIESREAD"),
        Bytes::from(entries_read.map_or_else(|| "-1".to_string(), |n| n.to_string())),
    ]
}

/// XGROUP CREATECONSUMER, for a consumer NOACK reads create (Redis's
/// `streamPropagateConsumerCreation`).
pub(super) fn createconsumer_argv(key: &[u8], group: &[u8], consumer: &[u8]) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XGROUP"),
        Bytes::from_static(b"CREATECONSUMER"),
        Bytes::copy_from_slice(key),
        Bytes::copy_from_slice(group),
        Bytes::copy_from_slice(consumer),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_like_redis() {
        let strict = |a: &str| parse_strict_id(a.as_bytes());
        assert_eq!(strict("5"), Ok(StreamId::new(5, 0)));
        assert_eq!(strict("5-3"), Ok(StreamId::new(5, 3)));
        assert_eq!(strict("-"), Err(CommandError::msg(INVALID_ID)));
        assert_eq!(strict("5-"), Err(CommandError::msg(INVALID_ID)));
        assert_eq!(strict("-5"), Err(CommandError::msg(INVALID_ID)));
        assert_eq!(
            strict("18446744073709551616"),
            Err(CommandError::msg(INVALID_ID))
        );
        assert_eq!(
            parse_id_full(b"7-*", 0, true, true),
            Ok(ParsedId {
                id: StreamId::new(7, 0),
                seq_given: false
            })
        );
        assert_eq!(parse_range_bound(b"+", 0, false), Ok(StreamId::MAX));
        assert_eq!(
            parse_range_bound(b"5", u64::MAX, false),
            Ok(StreamId::new(5, u64::MAX))
        );
        assert_eq!(parse_range_bound(b"(5-1", 0, true), Ok(StreamId::new(5, 2)));
        assert_eq!(
            parse_range_bound(b"(0-0", 0, false),
            Err(CommandError::msg(INVALID_END))
        );
        assert_eq!(
            parse_range_bound(b"(-", 0, true),
            Err(CommandError::msg(INVALID_ID))
        );
    }
}
