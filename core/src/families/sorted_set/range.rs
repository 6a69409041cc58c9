//! The range group: ZRANGE (by rank, BYSCORE, BYLEX, REV, LIMIT, WITHSCORES), ZRANGESTORE, the
//! older ZRANGEBYSCORE/ZREVRANGEBYSCORE/ZRANGEBYLEX/ZREVRANGEBYLEX/ZREVRANGE, ZCOUNT, ZLEXCOUNT
//! and ZREMRANGEBYRANK/BYSCORE/BYLEX. Each range becomes a span of ranks `[lo, hi)` first.

use crate::events::class;
use oxidis_protocol::Frame;

use super::{Members, limits, lookup_write, read_zset, remove_if_empty, store_result, zset_at};
use crate::command::{Args, CommandResult, parse_i64};
use crate::context::CommandContext;
use crate::errors::CommandError;
use crate::errors::sorted_set::{
    LIMIT_NEEDS_BY, MIN_MAX_NOT_FLOAT, MIN_MAX_NOT_STRING_RANGE, WITHSCORES_BYLEX,
};
use crate::families::count_reply;
use crate::types::SortedSet;

/// A score interval, `(` marking an excluded end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScoreRange {
    pub(crate) min: f64,
    pub(crate) min_excluded: bool,
    pub(crate) max: f64,
    pub(crate) max_excluded: bool,
}

/// One end of a lex interval.
#[derive(Debug, Clone)]
enum LexBound {
    /// `-`: before everything.
    Min,
    /// `+`: after everything.
    Max,
    /// `[x` or `(x`.
    Value { bytes: Vec<u8>, excluded: bool },
}

/// What a range is made of.
#[derive(Debug, Clone)]
enum RangeKind {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexBound, LexBound),
}

/// A score bound as Redis's `zslParseRange` reads it: `strtod` on the whole text after an
/// optional `(` (so leading spaces pass, an empty text is 0 and overflow gives infinity), NaN
/// refused.
fn parse_score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    let (text, excluded) = match arg.strip_prefix(b"(") {
        Some(rest) => (rest, true),
        None => (arg, false),
    };
    let text = std::str::from_utf8(text).ok()?;
    let trimmed = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let value = if trimmed.is_empty() && text.len() == trimmed.len() {
        0.0
    } else {
        trimmed.parse::<f64>().ok()?
    };
    (!value.is_nan()).then_some((value, excluded))
}

fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CommandError> {
    let not_float = || CommandError::msg(MIN_MAX_NOT_FLOAT);
    let (min, min_excluded) = parse_score_bound(min).ok_or_else(not_float)?;
    let (max, max_excluded) = parse_score_bound(max).ok_or_else(not_float)?;
    Ok(ScoreRange {
        min,
        min_excluded,
        max,
        max_excluded,
    })
}

fn parse_lex_bound(arg: &[u8]) -> Result<LexBound, CommandError> {
    match arg {
        b"-" => Ok(LexBound::Min),
        b"+" => Ok(LexBound::Max),
        [b'[', rest @ ..] => Ok(LexBound::Value {
            bytes: rest.to_vec(),
            excluded: false,
        }),
        [b'(', rest @ ..] => Ok(LexBound::Value {
            bytes: rest.to_vec(),
            excluded: true,
        }),
        _ => Err(CommandError::msg(MIN_MAX_NOT_STRING_RANGE)),
    }
}

fn parse_lex_range(min: &[u8], max: &[u8]) -> Result<(LexBound, LexBound), CommandError> {
    Ok((parse_lex_bound(min)?, parse_lex_bound(max)?))
}

/// Whether `member` lies before the lower bound `min`.
fn below_min(member: &[u8], min: &LexBound) -> bool {
    match min {
        LexBound::Min => false,
        LexBound::Max => true,
        LexBound::Value { bytes, excluded } => {
            if *excluded {
                member <= bytes.as_slice()
            } else {
                member < bytes.as_slice()
            }
        }
    }
}

/// Whether `member` lies within the upper bound `max`.
fn within_max(member: &[u8], max: &LexBound) -> bool {
    match max {
        LexBound::Min => false,
        LexBound::Max => true,
        LexBound::Value { bytes, excluded } => {
            if *excluded {
                member < bytes.as_slice()
            } else {
                member <= bytes.as_slice()
            }
        }
    }
}

/// The ranks `[lo, hi)` of the members inside a score or lex range (rank ranges are not
/// resolved here).
fn ranks_of(zset: &SortedSet, kind: &RangeKind) -> (usize, usize) {
    let (lo, hi) = match kind {
        RangeKind::Rank(..) => (0, zset.len()),
        RangeKind::Score(r) => {
            let lo = zset.count_prefix(|s, _| s < r.min || (r.min_excluded && s <= r.min));
            let hi = zset.count_prefix(|s, _| s < r.max || (!r.max_excluded && s <= r.max));
            (lo, hi)
        }
        RangeKind::Lex(min, max) => {
            let lo = zset.count_prefix(|_, m| below_min(m, min));
            let hi = zset.count_prefix(|_, m| within_max(m, max));
            (lo, hi)
        }
    };
    (lo, hi.max(lo))
}

/// The ranks `[lo, hi)` of the members whose scores lie in `range` (GEO searches read cells
/// of the 52-bit hash as score ranges).
pub(crate) fn score_ranks(zset: &SortedSet, range: ScoreRange) -> (usize, usize) {
    ranks_of(zset, &RangeKind::Score(range))
}

/// ZRANGE's rank arithmetic: `(start, end)` from the front (or the back when `rev`), negative
/// counting from the end, clamped; the ascending ranks `[lo, hi)`.
fn rank_span(len: usize, start: i64, end: i64, rev: bool) -> Option<(usize, usize)> {
    let llen = i64::try_from(len).unwrap_or(i64::MAX);
    let mut start = if start < 0 {
        start.saturating_add(llen)
    } else {
        start
    };
    let mut end = if end < 0 {
        end.saturating_add(llen)
    } else {
        end
    };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    if end >= llen {
        end = llen - 1;
    }
    let (start, end) = (usize::try_from(start).ok()?, usize::try_from(end).ok()?);
    Some(if rev {
        (len - 1 - end, len - start)
    } else {
        (start, end + 1)
    })
}

/// A parsed ZRANGE-like request.
#[derive(Debug, Clone)]
struct RangeRequest {
    kind: RangeKind,
    rev: bool,
    with_scores: bool,
    offset: i64,
    limit: i64,
}

/// Which spelling is being parsed: ZRANGE itself (BYSCORE/BYLEX/REV allowed) or an old one
/// with its kind and direction fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spelling {
    Auto,
    Score,
    Lex,
    Rank,
}

/// Reads `min max [options]` as Redis's `zrangeGenericCommand` does, errors in its order.
fn parse_range_request(
    args: &mut Args<'_>,
    spelling: Spelling,
    mut rev: bool,
    store: bool,
) -> Result<RangeRequest, CommandError> {
    let mut min = args.next_bytes()?.as_ref();
    let mut max = args.next_bytes()?.as_ref();
    let mut kind = spelling;
    let mut with_scores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let auto_direction = spelling == Spelling::Auto;
    while let Some(opt) = args.peek() {
        args.next_bytes()?;
        if !store && opt.eq_ignore_ascii_case(b"WITHSCORES") {
            with_scores = true;
        } else if opt.eq_ignore_ascii_case(b"LIMIT") && args.remaining() >= 2 {
            offset = parse_i64(args.next_bytes()?)?;
            limit = parse_i64(args.next_bytes()?)?;
        } else if auto_direction && !rev && opt.eq_ignore_ascii_case(b"REV") {
            rev = true;
        } else if kind == Spelling::Auto && opt.eq_ignore_ascii_case(b"BYLEX") {
            kind = Spelling::Lex;
        } else if kind == Spelling::Auto && opt.eq_ignore_ascii_case(b"BYSCORE") {
            kind = Spelling::Score;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    if limit != -1 && matches!(kind, Spelling::Auto | Spelling::Rank) {
        return Err(CommandError::msg(LIMIT_NEEDS_BY));
    }
    if with_scores && kind == Spelling::Lex {
        return Err(CommandError::msg(WITHSCORES_BYLEX));
    }
    // The old reverse spellings and ZRANGE ... REV BYSCORE|BYLEX take max first.
    if rev && matches!(kind, Spelling::Score | Spelling::Lex) {
        std::mem::swap(&mut min, &mut max);
    }
    let kind = match kind {
        Spelling::Auto | Spelling::Rank => RangeKind::Rank(parse_i64(min)?, parse_i64(max)?),
        Spelling::Score => RangeKind::Score(parse_score_range(min, max)?),
        Spelling::Lex => {
            let (min, max) = parse_lex_range(min, max)?;
            RangeKind::Lex(min, max)
        }
    };
    Ok(RangeRequest {
        kind,
        rev,
        with_scores,
        offset,
        limit,
    })
}

/// The members a request selects, in reply order.
fn select(zset: &SortedSet, req: &RangeRequest) -> Members {
    let (lo, hi) = match req.kind {
        RangeKind::Rank(start, end) => match rank_span(zset.len(), start, end, req.rev) {
            Some(span) => span,
            None => return Members::default(),
        },
        _ => {
            let (lo, hi) = ranks_of(zset, &req.kind);
            // A negative offset skips everything in Redis; a negative limit means no limit.
            let Ok(offset) = usize::try_from(req.offset) else {
                return Members::default();
            };
            let count = hi - lo;
            let skip = offset.min(count);
            let take = usize::try_from(req.limit).map_or(count - skip, |l| l.min(count - skip));
            if req.rev {
                (hi - skip - take, hi - skip)
            } else {
                (lo + skip, lo + skip + take)
            }
        }
    };
    let count = hi.saturating_sub(lo);
    let mut out = Members::with_capacity(count, count * 16);
    if lo < hi {
        zset.range(lo, hi - 1, req.rev, |m, s| out.push(m, s));
    }
    out
}

fn range_reply(
    ctx: &mut CommandContext<'_>,
    args: &mut Args<'_>,
    spelling: Spelling,
    rev: bool,
) -> CommandResult {
    let key = args.next_bytes()?;
    let req = parse_range_request(args, spelling, rev, false)?;
    let items = match read_zset(ctx, key)? {
        Some(zset) => select(zset, &req),
        None => Members::default(),
    };
    Ok(items.reply(ctx.resp(), req.with_scores))
}

pub(super) fn zrange(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    range_reply(ctx, args, Spelling::Auto, false)
}

pub(super) fn zrangestore(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let dst = args.next_bytes()?;
    let src = args.next_bytes()?;
    let req = parse_range_request(args, Spelling::Auto, false, true)?;
    let items = match read_zset(ctx, src)? {
        Some(zset) => select(zset, &req),
        None => Members::default(),
    };
    let (max_entries, max_value) = limits(ctx);
    // Redis picks the encoding from the result's length, then adds member by member.
    let mut zset = SortedSet::for_size(items.len(), 0, max_entries, max_value);
    for (member, score) in items.iter() {
        zset.insert(member, score, max_entries, max_value);
    }
    Ok(store_result(ctx, dst, zset))
}

pub(super) fn zrangebyscore(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    range_reply(ctx, args, Spelling::Score, false)
}

pub(super) fn zrevrangebyscore(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    range_reply(ctx, args, Spelling::Score, true)
}

pub(super) fn zrangebylex(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    range_reply(ctx, args, Spelling::Lex, false)
}

pub(super) fn zrevrangebylex(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    range_reply(ctx, args, Spelling::Lex, true)
}

pub(super) fn zrevrange(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    range_reply(ctx, args, Spelling::Rank, true)
}

pub(super) fn zcount(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let range = parse_score_range(args.next_bytes()?, args.next_bytes()?)?;
    count_in(ctx, key, RangeKind::Score(range))
}

pub(super) fn zlexcount(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let (min, max) = parse_lex_range(args.next_bytes()?, args.next_bytes()?)?;
    count_in(ctx, key, RangeKind::Lex(min, max))
}

fn count_in(ctx: &mut CommandContext<'_>, key: &[u8], kind: RangeKind) -> CommandResult {
    Ok(match read_zset(ctx, key)? {
        Some(zset) => {
            let (lo, hi) = ranks_of(zset, &kind);
            count_reply(hi - lo)
        }
        None => Frame::Integer(0),
    })
}

pub(super) fn zremrangebyrank(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let start = args.next_i64()?;
    let end = args.next_i64()?;
    remove_range(ctx, key, RangeKind::Rank(start, end))
}

pub(super) fn zremrangebyscore(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let range = parse_score_range(args.next_bytes()?, args.next_bytes()?)?;
    remove_range(ctx, key, RangeKind::Score(range))
}

pub(super) fn zremrangebylex(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let (min, max) = parse_lex_range(args.next_bytes()?, args.next_bytes()?)?;
    remove_range(ctx, key, RangeKind::Lex(min, max))
}

/// The one place where the ZREMRANGEBY* commands remove members.
fn remove_range(ctx: &mut CommandContext<'_>, key: &[u8], kind: RangeKind) -> CommandResult {
    let Some(pos) = lookup_write(ctx, key)? else {
        return Ok(Frame::Integer(0));
    };
    let zset = zset_at(ctx, pos)?;
    let (lo, hi) = match kind {
        RangeKind::Rank(start, end) => match rank_span(zset.len(), start, end, false) {
            Some(span) => span,
            None => return Ok(Frame::Integer(0)),
        },
        _ => ranks_of(zset, &kind),
    };
    let removed = if lo < hi {
        zset.remove_range(lo, hi - 1)
    } else {
        0
    };
    if removed > 0 {
        // The event is the command's name: zremrangebyrank, zremrangebyscore or zremrangebylex.
        let event = ctx.command().full_name.as_str();
        ctx.notify(class::ZSET, event, key);
    }
    if remove_if_empty(ctx, pos) {
        ctx.notify(class::GENERIC, "del", key);
    }
    let removed = u64::try_from(removed).unwrap_or(u64::MAX);
    ctx.changed(removed);
    Ok(count_reply(removed))
}
