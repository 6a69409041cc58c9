//! The commands on entries: XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM and XSETID.

use bytes::Bytes;
use oxidis_protocol::Frame;

use super::ids::{
    ParsedId, entry_frame, id_frame, parse_id_full, parse_range_bound, parse_strict_id,
};
use super::{node_limits, read_stream, write_stream};
use crate::command::{Args, CommandResult, parse_i64};
use crate::context::CommandContext;
use crate::db::Ttl;
use crate::errors::stream::{
    ENTRIES_ADDED_NEGATIVE, ID_EXHAUSTED, ID_TOO_SMALL, ID_ZERO, LIMIT_NEGATIVE,
    LIMIT_WITHOUT_APPROX, LIMIT_WITHOUT_STRATEGY, MAXLEN_AND_MINID, MAXLEN_NEGATIVE, TOO_LARGE,
    XSETID_BELOW_MAX_DELETED, XSETID_ENTRIES_ADDED_TOO_SMALL, XSETID_TOO_SMALL,
    XTRIM_WITHOUT_STRATEGY,
};
use crate::errors::{CommandError, NO_SUCH_KEY};
use crate::events::class;
use crate::families::count_reply;
use crate::types::{Stream, StreamId, StreamNodeLimits, Trim, TrimStrategy, Value};

/// Redis refuses an entry whose fields and values add up to more than a listpack may hold.
const MAX_ENTRY_BYTES: usize = 1 << 30;

/// What XADD and XTRIM read before the key (Redis's `streamAddTrimArgs`).
struct AddTrimArgs {
    trim: Option<Trim>,
    /// XADD's explicit id (`None` for `*`).
    id: Option<ParsedId>,
    no_mkstream: bool,
    /// Where XADD's id argument is.
    id_pos: usize,
    /// Where the MAXLEN/MINID threshold is (`~` is just before it when approximate).
    trim_pos: usize,
}

/// Parses `[NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]]` and, for XADD, the id.
/// A `trusted` command (replayed from the AOF) trims without a work limit, as Redis's
/// `mustObeyClient` does: its threshold was already rewritten to the exact one.
fn parse_add_trim(
    argv: &[Bytes],
    xadd: bool,
    node_max_entries: u64,
    trusted: bool,
) -> Result<AddTrimArgs, CommandError> {
    let mut strategy = None;
    let mut approx = false;
    let mut limit: i64 = 0;
    let mut limit_given = false;
    let mut parsed = AddTrimArgs {
        trim: None,
        id: None,
        no_mkstream: false,
        id_pos: argv.len(),
        trim_pos: 0,
    };
    let mut i = 2;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        let opt = &argv[i][..];
        if xadd && opt == b"*" {
            parsed.id_pos = i;
            break;
        } else if (opt.eq_ignore_ascii_case(b"maxlen") || opt.eq_ignore_ascii_case(b"minid"))
            && more > 0
        {
            if strategy.is_some() {
                return Err(CommandError::msg(MAXLEN_AND_MINID));
            }
            approx = false;
            let next = &argv[i + 1][..];
            if more >= 2 && next == b"~" {
                approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            let threshold = &argv[i + 1];
            strategy = Some(if opt.eq_ignore_ascii_case(b"maxlen") {
                let max = parse_i64(threshold)?;
                TrimStrategy::MaxLen(
                    u64::try_from(max).map_err(|_| CommandError::msg(MAXLEN_NEGATIVE))?,
                )
            } else {
                TrimStrategy::MinId(parse_strict_id(threshold)?)
            });
            i += 1;
            parsed.trim_pos = i;
        } else if opt.eq_ignore_ascii_case(b"limit") && more > 0 {
            limit = parse_i64(&argv[i + 1])?;
            if limit < 0 {
                return Err(CommandError::msg(LIMIT_NEGATIVE));
            }
            limit_given = true;
            i += 1;
        } else if xadd && opt.eq_ignore_ascii_case(b"nomkstream") {
            parsed.no_mkstream = true;
        } else if xadd {
            parsed.id = Some(parse_id_full(opt, 0, true, true)?);
            parsed.id_pos = i;
            break;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    if limit != 0 && strategy.is_none() {
        return Err(CommandError::msg(LIMIT_WITHOUT_STRATEGY));
    }
    let Some(strategy) = strategy else {
        if xadd {
            return Ok(parsed);
        }
        return Err(CommandError::msg(XTRIM_WITHOUT_STRATEGY));
    };
    let limit = if trusted {
        0
    } else if limit_given {
        if !approx {
            return Err(CommandError::msg(LIMIT_WITHOUT_APPROX));
        }
        limit.unsigned_abs()
    } else if approx {
        // Redis caps the work of `~` trimming at 100 nodes' worth of entries.
        match node_max_entries.saturating_mul(100) {
            0 => 10_000,
            n => n.min(1_000_000),
        }
    } else {
        0
    };
    parsed.trim = Some(Trim {
        strategy,
        approx,
        limit,
    });
    Ok(parsed)
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value ...
pub(super) fn xadd(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let argv = args.argv();
    let key = &argv[1];
    let parsed = parse_add_trim(
        argv,
        true,
        ctx.config().stream_node_max_entries,
        ctx.server.loading,
    )?;
    let field_pos = parsed.id_pos + 1;
    let values = argv.len().saturating_sub(field_pos);
    if values < 2 || values % 2 == 1 {
        return Err(CommandError::WrongArity {
            command: "xadd".into(),
        });
    }
    // 0-0 is refused before the key is looked at, so no empty stream is left behind.
    if let Some(p) = parsed.id
        && p.seq_given
        && p.id.is_zero()
    {
        return Err(CommandError::msg(ID_ZERO));
    }
    let fields: Vec<(&[u8], &[u8])> = argv[field_pos..]
        .chunks_exact(2)
        .map(|pair| (&pair[0][..], &pair[1][..]))
        .collect();
    if fields.iter().map(|(f, v)| f.len() + v.len()).sum::<usize>() > MAX_ENTRY_BYTES {
        return Err(CommandError::msg(TOO_LARGE));
    }
    let limits = node_limits(ctx);
    let now = ctx.now_ms();
    let (id, trimmed, threshold) = match write_stream(ctx, key)? {
        Some(stream) => {
            let done = add_entry(stream, parsed.id, &fields, now, limits, parsed.trim)?;
            ctx.changed(1);
            done
        }
        None if parsed.no_mkstream => return Ok(Frame::Null),
        None => {
            let mut stream = Stream::new();
            let done = add_entry(&mut stream, parsed.id, &fields, now, limits, parsed.trim)?;
            ctx.set(key, Value::Stream(Box::new(stream)), Ttl::Clear);
            done
        }
    };
    ctx.notify(class::STREAM, "xadd", key);
    if trimmed > 0 {
        ctx.notify(class::STREAM, "xtrim", key);
    }
    // Replicas and the AOF get the id that was generated, and `~` trimming as the exact
    // threshold it came to, so they end up with the same entries.
    let id_generated = parsed.id.is_none_or(|p| !p.seq_given);
    if ctx.server.propagation.is_enabled() && (id_generated || threshold.is_some()) {
        let mut rewritten = argv.to_vec();
        if id_generated {
            rewritten[parsed.id_pos] = Bytes::from(id.to_string());
        }
        if let Some(threshold) = threshold {
            rewrite_threshold(&mut rewritten, parsed.trim_pos, threshold);
        }
        ctx.rewrite_propagation(rewritten);
    }
    Ok(id_frame(id))
}

/// Rewrites `~ <threshold>` at `pos` as `= <exact>` (Redis's `streamRewriteApproxSpecifier`
/// and `streamRewriteTrimArgument`).
fn rewrite_threshold(argv: &mut [Bytes], pos: usize, exact: String) {
    if let Some(op) = pos.checked_sub(1).and_then(|p| argv.get_mut(p)) {
        *op = Bytes::from_static(b"=");
    }
    if let Some(arg) = argv.get_mut(pos) {
        *arg = Bytes::from(exact);
    }
}

/// What an approximate trim came to, as the exact threshold to propagate: the length for
/// MAXLEN, the first id (tombstones included) for MINID.
fn exact_threshold(stream: &Stream, trim: Option<Trim>) -> Option<String> {
    let trim = trim.filter(|t| t.approx)?;
    Some(match trim.strategy {
        TrimStrategy::MaxLen(_) => stream.len().to_string(),
        TrimStrategy::MinId(_) => stream
            .edge_id(true, false)
            .unwrap_or(StreamId::MAX)
            .to_string(),
    })
}

/// Picks the new entry's id as Redis's `streamAppendItem` does, appends it, then trims.
fn add_entry(
    stream: &mut Stream,
    requested: Option<ParsedId>,
    fields: &[(&[u8], &[u8])],
    now: u64,
    limits: StreamNodeLimits,
    trim: Option<Trim>,
) -> Result<(StreamId, u64, Option<String>), CommandError> {
    let last = stream.last_id();
    if last == StreamId::MAX {
        return Err(CommandError::msg(ID_EXHAUSTED));
    }
    let too_small = || CommandError::msg(ID_TOO_SMALL);
    let id = match requested {
        None if now > last.ms => StreamId::new(now, 0),
        None => last.next().ok_or_else(too_small)?,
        Some(p) if p.seq_given => p.id,
        // `<ms>-*`: the next sequence of that millisecond.
        Some(p) if p.id.ms == last.ms => last
            .next()
            .filter(|n| n.ms == last.ms)
            .ok_or_else(too_small)?,
        Some(p) => p.id,
    };
    if id <= last {
        return Err(too_small());
    }
    stream.append(id, fields, limits);
    let trimmed = trim.map_or(0, |t| stream.trim(t));
    Ok((id, trimmed, exact_threshold(stream, trim)))
}

/// XLEN key
pub(super) fn xlen(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    Ok(count_reply(read_stream(ctx, key)?.map_or(0, Stream::len)))
}

/// XRANGE key start end [COUNT count]
pub(super) fn xrange(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    range(ctx, args, false)
}

/// XREVRANGE key end start [COUNT count]
pub(super) fn xrevrange(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    range(ctx, args, true)
}

fn range(ctx: &mut CommandContext<'_>, args: &mut Args<'_>, rev: bool) -> CommandResult {
    let key = args.next_bytes()?;
    let first = args.next_bytes()?;
    let second = args.next_bytes()?;
    let (start, end) = if rev {
        (second, first)
    } else {
        (first, second)
    };
    let start = parse_range_bound(start, 0, true)?;
    let end = parse_range_bound(end, u64::MAX, false)?;
    let mut count: Option<usize> = None;
    while let Some(opt) = args.peek() {
        if opt.eq_ignore_ascii_case(b"count") && args.remaining() >= 2 {
            args.next_bytes()?;
            let n = args.next_i64()?;
            count = Some(usize::try_from(n).unwrap_or(0));
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let Some(stream) = read_stream(ctx, key)? else {
        return Ok(Frame::Array(Vec::new()));
    };
    if count == Some(0) {
        return Ok(Frame::NullArray);
    }
    let limit = count.unwrap_or(usize::MAX);
    let mut entries = Vec::with_capacity(limit.min(64));
    if rev {
        entries.extend(
            stream
                .range_rev(start, end)
                .take(limit)
                .map(|e| entry_frame(&e)),
        );
    } else {
        entries.extend(
            stream
                .range(start, end)
                .take(limit)
                .map(|e| entry_frame(&e)),
        );
    }
    Ok(Frame::Array(entries))
}

/// XDEL key id [id ...]
pub(super) fn xdel(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let raw_ids = args.rest();
    let Some(stream) = write_stream(ctx, key)? else {
        return Ok(Frame::Integer(0));
    };
    // Every id is checked before any is deleted.
    let ids = raw_ids
        .iter()
        .map(|a| parse_strict_id(a))
        .collect::<Result<Vec<_>, _>>()?;
    let deleted = ids.into_iter().filter(|id| stream.delete(*id)).count();
    if deleted > 0 {
        ctx.notify(class::STREAM, "xdel", key);
        ctx.changed(deleted as u64);
    }
    Ok(count_reply(deleted))
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
pub(super) fn xtrim(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let argv = args.argv();
    let key = &argv[1];
    let parsed = parse_add_trim(
        argv,
        false,
        ctx.config().stream_node_max_entries,
        ctx.server.loading,
    )?;
    let Some(trim) = parsed.trim else {
        return Err(CommandError::msg(XTRIM_WITHOUT_STRATEGY));
    };
    let Some(stream) = write_stream(ctx, key)? else {
        return Ok(Frame::Integer(0));
    };
    let deleted = stream.trim(trim);
    if deleted > 0 {
        let threshold = exact_threshold(stream, Some(trim));
        ctx.notify(class::STREAM, "xtrim", key);
        ctx.changed(deleted);
        if let Some(threshold) = threshold {
            let mut rewritten = argv.to_vec();
            rewrite_threshold(&mut rewritten, parsed.trim_pos, threshold);
            ctx.rewrite_propagation(rewritten);
        }
    }
    Ok(count_reply(deleted))
}

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
pub(super) fn xsetid(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let id = parse_strict_id(args.next_bytes()?)?;
    let mut entries_added: Option<u64> = None;
    let mut max_deleted = StreamId::MIN;
    while let Some(opt) = args.peek() {
        let more = args.remaining() > 1;
        if opt.eq_ignore_ascii_case(b"entriesadded") && more {
            args.next_bytes()?;
            let n = args.next_i64()?;
            entries_added =
                Some(u64::try_from(n).map_err(|_| CommandError::msg(ENTRIES_ADDED_NEGATIVE))?);
        } else if opt.eq_ignore_ascii_case(b"maxdeletedid") && more {
            args.next_bytes()?;
            max_deleted = parse_strict_id(args.next_bytes()?)?;
            if id < max_deleted {
                return Err(CommandError::msg(XSETID_BELOW_MAX_DELETED));
            }
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let Some(stream) = write_stream(ctx, key)? else {
        return Err(CommandError::msg(NO_SUCH_KEY));
    };
    if !stream.is_empty() {
        if stream.last_valid_id().is_some_and(|top| id < top) {
            return Err(CommandError::msg(XSETID_TOO_SMALL));
        }
        if entries_added.is_some_and(|n| stream.len() > n) {
            return Err(CommandError::msg(XSETID_ENTRIES_ADDED_TOO_SMALL));
        }
    }
    let entries_added = entries_added.unwrap_or(stream.entries_added());
    let max_deleted = if max_deleted.is_zero() {
        stream.max_deleted_entry_id()
    } else {
        max_deleted
    };
    stream.set_metadata(id, max_deleted, entries_added);
    ctx.changed(1);
    ctx.notify(class::STREAM, "xsetid", key);
    Ok(Frame::ok())
}
