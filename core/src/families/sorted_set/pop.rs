//! Pops (ZPOPMIN, ZPOPMAX, ZMPOP), ZRANDMEMBER and ZSCAN. [`pop_from`] and [`pairs_reply`] are
//! the cores the blocking pops (BZPOPMIN, BZPOPMAX, BZMPOP) share with these.

use crate::events::class;
use crate::families::generic::scan::{
    ScanOptions, Scanning, parse_scan_cursor, parse_scan_options,
};
use bytes::Bytes;
use oxidis_protocol::{Frame, RespVersion, format_double};
use rand::Rng;
use rand::rngs::SmallRng;

use super::{lookup_write, members_reply, read_zset, remove_if_empty, zset_at};
use crate::command::{Args, CommandResult, parse_i64};
use crate::context::CommandContext;
use crate::errors::sorted_set::{COUNT_POSITIVE, NUMKEYS_POSITIVE, VALUE_OUT_OF_RANGE};
use crate::errors::{CommandError, NOT_POSITIVE};
use crate::glob::{Case, glob_match};
use crate::types::SortedSet;

/// Popped members with their scores, in pop order.
pub(crate) type Popped = Vec<(Vec<u8>, f64)>;

/// Which end a pop takes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PopEnd {
    /// Lowest scores first (ZPOPMIN).
    Min,
    /// Highest scores first (ZPOPMAX).
    Max,
}

/// Pops up to `count` members from `key`'s end, deleting the key when it empties.
/// `Ok(None)` when the key does not exist.
///
/// # Errors
/// WRONGTYPE when the key holds another type.
pub(crate) fn pop_from(
    ctx: &mut CommandContext<'_>,
    key: &[u8],
    end: PopEnd,
    count: usize,
) -> Result<Option<Popped>, CommandError> {
    let Some(pos) = lookup_write(ctx, key)? else {
        return Ok(None);
    };
    let zset = zset_at(ctx, pos)?;
    let len = zset.len();
    let take = count.min(len);
    let mut items = Vec::with_capacity(take);
    if take > 0 {
        let (lo, hi) = match end {
            PopEnd::Min => (0, take - 1),
            PopEnd::Max => (len - take, len - 1),
        };
        zset.range(lo, hi, end == PopEnd::Max, |m, s| {
            items.push((m.to_vec(), s))
        });
        zset.remove_range(lo, hi);
        let event = match end {
            PopEnd::Min => "zpopmin",
            PopEnd::Max => "zpopmax",
        };
        ctx.notify(class::ZSET, event, key);
    }
    if remove_if_empty(ctx, pos) {
        ctx.notify(class::GENERIC, "del", key);
    }
    ctx.changed(u64::try_from(items.len()).unwrap_or(u64::MAX));
    Ok(Some(items))
}

/// Popped pairs as Redis replies them: a flat `member, score, ...` array, or `[member, score]`
/// pairs when `nested` (ZMPOP always, ZPOPMIN/ZPOPMAX with a count in RESP3).
pub(crate) fn pairs_reply(items: Vec<(Vec<u8>, f64)>, nested: bool) -> Frame {
    members_reply(
        if nested {
            RespVersion::Resp3
        } else {
            RespVersion::Resp2
        },
        items,
        true,
    )
}

pub(super) fn zpopmin(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    pop_command(ctx, args, PopEnd::Min)
}

pub(super) fn zpopmax(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    pop_command(ctx, args, PopEnd::Max)
}

fn pop_command(ctx: &mut CommandContext<'_>, args: &mut Args<'_>, end: PopEnd) -> CommandResult {
    let key = args.next_bytes()?;
    if args.remaining() > 1 {
        return Err(CommandError::Syntax);
    }
    let count = match args.peek() {
        Some(_) => {
            // Redis answers "must be positive" for a non-integer too.
            let n = parse_i64(args.next_bytes()?).ok();
            Some(
                n.and_then(|n| usize::try_from(n).ok())
                    .ok_or(CommandError::msg(NOT_POSITIVE))?,
            )
        }
        None => None,
    };
    if count == Some(0) {
        // Redis checks the key's type first, then answers an empty array for a zero count.
        lookup_write(ctx, key)?;
        return Ok(Frame::Array(Vec::new()));
    }
    let nested = count.is_some() && ctx.resp() != RespVersion::Resp2;
    Ok(match pop_from(ctx, key, end, count.unwrap_or(1))? {
        Some(items) => pairs_reply(items, nested),
        None => Frame::Array(Vec::new()),
    })
}

pub(super) fn zmpop(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let request = parse_zmpop(args)?;
    Ok(mpop(ctx, &request)?.unwrap_or(Frame::NullArray))
}

/// ZMPOP's arguments after the command name (BZMPOP's after its timeout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ZmpopRequest {
    /// The keys, in the order to try them.
    pub keys: Vec<Bytes>,
    /// Which end to pop from.
    pub end: PopEnd,
    /// How many members at most.
    pub count: usize,
}

/// Reads `numkeys key [key ...] MIN|MAX [COUNT count]`.
///
/// # Errors
/// Redis's numkeys and count errors, or a syntax error.
pub(crate) fn parse_zmpop(args: &mut Args<'_>) -> Result<ZmpopRequest, CommandError> {
    let numkeys = parse_i64(args.next_bytes()?)
        .ok()
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| *n >= 1)
        .ok_or(CommandError::msg(NUMKEYS_POSITIVE))?;
    if numkeys >= args.remaining() {
        return Err(CommandError::Syntax);
    }
    let keys: Vec<Bytes> = (0..numkeys)
        .map(|_| args.next_bytes().cloned())
        .collect::<Result<_, _>>()?;
    let end = if args.eat_keyword("MIN") {
        PopEnd::Min
    } else if args.eat_keyword("MAX") {
        PopEnd::Max
    } else {
        return Err(CommandError::Syntax);
    };
    let mut count = None;
    while !args.is_empty() {
        if count.is_none() && args.remaining() >= 2 && args.eat_keyword("COUNT") {
            let n = parse_i64(args.next_bytes()?)
                .ok()
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| *n >= 1)
                .ok_or(CommandError::msg(COUNT_POSITIVE))?;
            count = Some(n);
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok(ZmpopRequest {
        keys,
        end,
        count: count.unwrap_or(1),
    })
}

/// ZMPOP's core: `[key, [[member, score], ...]]` from the first non-empty key; `None` when
/// every key is missing.
///
/// # Errors
/// WRONGTYPE when a key met first holds another type.
pub(crate) fn mpop(
    ctx: &mut CommandContext<'_>,
    request: &ZmpopRequest,
) -> Result<Option<Frame>, CommandError> {
    for key in &request.keys {
        if let Some(items) = pop_from(ctx, key, request.end, request.count)? {
            // Propagated as ZPOPMIN/ZPOPMAX key count.
            let pop: &'static [u8] = match request.end {
                PopEnd::Min => b"ZPOPMIN",
                PopEnd::Max => b"ZPOPMAX",
            };
            ctx.rewrite_propagation(vec![
                Bytes::from_static(pop),
                key.clone(),
                Bytes::from(items.len().to_string()),
            ]);
            return Ok(Some(Frame::Array(vec![
                Frame::Bulk(key.clone()),
                pairs_reply(items, true),
            ])));
        }
    }
    Ok(None)
}

pub(super) fn zrandmember(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    if args.is_empty() {
        let picked = with_zset_and_rng(ctx, key, |zset, rng| {
            let len = zset.len();
            (len > 0)
                .then(|| zset.at(rng.random_range(0..len)))
                .flatten()
        })?;
        return Ok(picked
            .flatten()
            .map_or(Frame::Null, |(m, _)| Frame::Bulk(Bytes::from(m))));
    }
    let count = args.next_i64()?;
    if count == i64::MIN {
        return Err(CommandError::custom(format!(
            "ERR value is out of range, value must between {} and {}",
            -i64::MAX,
            i64::MAX
        )));
    }
    let with_scores = match args.peek() {
        None => false,
        Some(opt) if args.remaining() == 1 && opt.eq_ignore_ascii_case(b"WITHSCORES") => {
            if !(-i64::MAX / 2..=i64::MAX / 2).contains(&count) {
                return Err(CommandError::msg(VALUE_OUT_OF_RANGE));
            }
            true
        }
        Some(_) => return Err(CommandError::Syntax),
    };
    let resp = ctx.resp();
    let items = with_zset_and_rng(ctx, key, |zset, rng| random_members(zset, count, rng))?;
    Ok(members_reply(resp, items.unwrap_or_default(), with_scores))
}

/// ZRANDMEMBER with a count: distinct members for a positive count (all of them when it
/// exceeds the size), that many independent picks for a negative one.
fn random_members(zset: &SortedSet, count: i64, rng: &mut SmallRng) -> Vec<(Vec<u8>, f64)> {
    let len = zset.len();
    if count == 0 || len == 0 {
        return Vec::new();
    }
    if count < 0 {
        let picks = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
        let mut items = Vec::with_capacity(picks.min(1 << 16));
        for _ in 0..picks {
            items.extend(zset.at(rng.random_range(0..len)));
        }
        return items;
    }
    let wanted = usize::try_from(count).unwrap_or(usize::MAX);
    let mut all = Vec::with_capacity(len);
    zset.for_each_pair(|m, s| all.push((m.to_vec(), s)));
    if wanted < len {
        // A uniform sample without repeats, in random order, as Redis's is.
        for i in 0..wanted {
            let j = rng.random_range(i..len);
            all.swap(i, j);
        }
        all.truncate(wanted);
    }
    all
}

/// Runs `f` on the sorted set under `key` (counting a hit or miss) with the server's random
/// generator; `None` when the key does not exist.
fn with_zset_and_rng<R>(
    ctx: &mut CommandContext<'_>,
    key: &[u8],
    f: impl FnOnce(&SortedSet, &mut SmallRng) -> R,
) -> Result<Option<R>, CommandError> {
    if read_zset(ctx, key)?.is_none() {
        return Ok(None);
    }
    let db_index = ctx.db_index();
    let server = &mut *ctx.server;
    let Some(pos) = server.dbs[db_index].find(key) else {
        return Ok(None);
    };
    let zset = server.dbs[db_index].entry(pos).value.as_sorted_set()?;
    Ok(Some(f(zset, &mut server.rng)))
}

pub(super) fn zscan(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let cursor = parse_scan_cursor(args.next_bytes()?)?;
    let Some(zset) = read_zset(ctx, key)? else {
        return Ok(Frame::Array(vec![
            Frame::bulk(b"0"),
            Frame::Array(Vec::new()),
        ]));
    };
    // Redis reads the options only once the key is known to be a sorted set.
    let ScanOptions { pattern, count, .. } = parse_scan_options(args, Scanning::Elements)?;
    let mut found = Vec::new();
    let next = zset.scan(cursor, count, |member, score| {
        if pattern.is_none_or(|p| glob_match(p, member, Case::Sensitive)) {
            let mut text = Vec::with_capacity(24);
            format_double(score, &mut text);
            found.push(Frame::Bulk(Bytes::copy_from_slice(member)));
            found.push(Frame::Bulk(Bytes::from(text)));
        }
    });
    Ok(Frame::Array(vec![
        Frame::Bulk(Bytes::from(next.to_string())),
        Frame::Array(found),
    ]))
}
