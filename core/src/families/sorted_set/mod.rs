//! Sorted set commands: ZADD and ZINCRBY, the single-member reads, the range group (ZRANGE and
//! its BYSCORE/BYLEX/REV variants, ZRANGESTORE, the ZREMRANGEBY* trio), pops (ZPOPMIN, ZPOPMAX,
//! ZMPOP), ZRANDMEMBER, ZSCAN and the set algebra (ZUNION, ZINTER, ZDIFF, their STORE forms,
//! ZINTERCARD).
//!
//! Values are `Value::SortedSet` (`types::sorted_set`: listpack or skiplist). Ranges are turned
//! into ranks first and then read or removed by rank. The blocking pops (BZPOPMIN, BZPOPMAX,
//! BZMPOP) are the lead's: they call [`pop::pop_from`] and [`pop::pairs_reply`].
//!
//! Not done here (no shared API yet): keyspace notifications, WATCH invalidation and the
//! rewriting of ZMPOP as ZPOPMIN/ZPOPMAX for propagation.

use crate::events::class;
use bytes::Bytes;
use oxidis_protocol::{Frame, RespVersion};

mod algebra;
pub(crate) mod pop;
pub(crate) mod range;
#[cfg(test)]
mod tests;

use crate::command::{
    Arg, Args, Arity, BeginSearch, CommandResult, CommandSpec, Family, FindKeys, Flag::*, Group,
    KeyFlag::*, KeySpec, parse_f64,
};
use crate::context::CommandContext;
use crate::errors::CommandError;
use crate::errors::sorted_set::{GT_LT_NX, INCR_SINGLE_PAIR, SCORE_NAN, XX_AND_NX};
use crate::families::count_reply;
use crate::types::{CompactBytes, SortedSet, Value};
use algebra::{zdiff, zdiffstore, zinter, zintercard, zinterstore, zunion, zunionstore};
use pop::{zmpop, zpopmax, zpopmin, zrandmember, zscan};
use range::{
    zcount, zlexcount, zrange, zrangebylex, zrangebyscore, zrangestore, zremrangebylex,
    zremrangebyrank, zremrangebyscore, zrevrange, zrevrangebylex, zrevrangebyscore,
};

/// The sorted set family; `families::BUILTIN` lists it, and nothing else does.
pub static FAMILY: Family = Family {
    group: Group::SortedSet,
    commands: &[
        CommandSpec::new("zadd", Arity::AtLeast(4), zadd).flags(&[Write, DenyOom, Fast]).keys(&[KeySpec::single(1, &[Rw, Update])]).doc("Adds members with scores to a sorted set, or updates their scores.", "1.2.0", "O(log(N)) for each item added, where N is the number of elements in the sorted set.").args(&[Arg::key("key", 0), Arg::one_of("condition", &[Arg::token("nx", "NX"), Arg::token("xx", "XX")]).optional().since("3.0.2"), Arg::one_of("comparison", &[Arg::token("gt", "GT"), Arg::token("lt", "LT")]).optional().since("6.2.0"), Arg::token("change", "CH").optional().since("3.0.2"), Arg::token("increment", "INCR").optional().since("3.0.2"), Arg::block("score_member", &[Arg::double("score"), Arg::string("member")]).multiple()]),
        CommandSpec::new("zincrby", Arity::Exact(4), zincrby).flags(&[Write, DenyOom, Fast]).keys(&[KeySpec::single(1, &[Rw, Access, Update])]).doc("Adds an amount to a member's score.", "1.2.0", "O(log(N)) where N is the number of elements in the sorted set.").args(&[Arg::key("key", 0), Arg::integer("increment"), Arg::string("member")]),
        CommandSpec::new("zrem", Arity::AtLeast(3), zrem).flags(&[Write, Fast]).keys(&[KeySpec::single(1, &[Rw, Delete])]).doc("Removes members from a sorted set.", "1.2.0", "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.").args(&[Arg::key("key", 0), Arg::string("member").multiple()]),
        CommandSpec::new("zcard", Arity::Exact(2), zcard).flags(&[ReadOnly, Fast]).keys(&[KeySpec::single(1, &[Ro])]).doc("Returns the number of members of a sorted set.", "1.2.0", "O(1)").args(&[Arg::key("key", 0)]),
        CommandSpec::new("zscore", Arity::Exact(3), zscore).flags(&[ReadOnly, Fast]).keys(&[KeySpec::single(1, &[Ro, Access])]).doc("Returns the score of a member.", "1.2.0", "O(1)").args(&[Arg::key("key", 0), Arg::string("member")]),
        CommandSpec::new("zmscore", Arity::AtLeast(3), zmscore).flags(&[ReadOnly, Fast]).keys(&[KeySpec::single(1, &[Ro, Access])]).doc("Returns the scores of several members.", "6.2.0", "O(N) where N is the number of members being requested.").args(&[Arg::key("key", 0), Arg::string("member").multiple()]),
        CommandSpec::new("zrank", Arity::Exact(3), zrank).flags(&[ReadOnly, Fast]).keys(&[KeySpec::single(1, &[Ro, Access])]).doc("Returns a member's position, lowest score first.", "2.0.0", "O(log(N))").args(&[Arg::key("key", 0), Arg::string("member")]),
        CommandSpec::new("zrevrank", Arity::Exact(3), zrevrank).flags(&[ReadOnly, Fast]).keys(&[KeySpec::single(1, &[Ro, Access])]).doc("Returns a member's position, highest score first.", "2.0.0", "O(log(N))").args(&[Arg::key("key", 0), Arg::string("member")]),
        CommandSpec::new("zcount", Arity::Exact(4), zcount).flags(&[ReadOnly, Fast]).keys(&[KeySpec::single(1, &[Ro, Access])]).doc("Counts the members with scores in a range.", "2.0.0", "O(log(N)) with N being the number of elements in the sorted set.").args(&[Arg::key("key", 0), Arg::double("min"), Arg::double("max")]),
        CommandSpec::new("zlexcount", Arity::Exact(4), zlexcount).flags(&[ReadOnly, Fast]).keys(&[KeySpec::single(1, &[Ro, Access])]).doc("Counts the members in a lexicographical range.", "2.8.9", "O(log(N)) with N being the number of elements in the sorted set.").args(&[Arg::key("key", 0), Arg::string("min"), Arg::string("max")]),
        CommandSpec::new("zrange", Arity::AtLeast(4), zrange).flags(&[ReadOnly]).keys(&[KeySpec::single(1, &[Ro, Access])]).doc("Returns members by rank, score or lexicographical range.", "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.").args(&[Arg::key("key", 0), Arg::string("start"), Arg::string("stop"), Arg::one_of("sortby", &[Arg::token("byscore", "BYSCORE"), Arg::token("bylex", "BYLEX")]).optional().since("6.2.0"), Arg::token("rev", "REV").optional().since("6.2.0"), Arg::block("offset_count", &[Arg::integer("offset"), Arg::integer("count")]).with_token("LIMIT").optional().since("6.2.0"), Arg::token("withscores", "WITHSCORES").optional()]),
        CommandSpec::new("zrangestore", Arity::AtLeast(5), zrangestore).flags(&[Write, DenyOom]).keys(&[KeySpec::single(1, &[Ow, Update]), KeySpec::single(2, &[Ro, Access])]).doc("Stores a range of a sorted set in another key.", "6.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.").args(&[Arg::key("dst", 0), Arg::key("src", 1), Arg::string("min"), Arg::string("max"), Arg::one_of("sortby", &[Arg::token("byscore", "BYSCORE"), Arg::token("bylex", "BYLEX")]).optional(), Arg::token("rev", "REV").optional(), Arg::block("offset_count", &[Arg::integer("offset"), Arg::integer("count")]).with_token("LIMIT").optional()]),
        CommandSpec::new("zrangebyscore", Arity::AtLeast(4), zrangebyscore).flags(&[ReadOnly]).keys(&[KeySpec::single(1, &[Ro, Access])]).doc("Returns members with scores in a range.", "1.0.5", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).").args(&[Arg::key("key", 0), Arg::double("min"), Arg::double("max"), Arg::token("withscores", "WITHSCORES").optional().since("2.0.0"), Arg::block("offset_count", &[Arg::integer("offset"), Arg::integer("count")]).with_token("LIMIT").optional()]).deprecated("6.2.0", "`ZRANGE` with the `BYSCORE` argument"),
        CommandSpec::new("zrevrangebyscore", Arity::AtLeast(4), zrevrangebyscore).flags(&[ReadOnly]).keys(&[KeySpec::single(1, &[Ro, Access])]).doc("Returns members with scores in a range, highest first.", "2.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).").args(&[Arg::key("key", 0), Arg::double("max"), Arg::double("min"), Arg::token("withscores", "WITHSCORES").optional(), Arg::block("offset_count", &[Arg::integer("offset"), Arg::integer("count")]).with_token("LIMIT").optional()]).deprecated("6.2.0", "`ZRANGE` with the `REV` and `BYSCORE` arguments"),
        CommandSpec::new("zrangebylex", Arity::AtLeast(4), zrangebylex).flags(&[ReadOnly]).keys(&[KeySpec::single(1, &[Ro, Access])]).doc("Returns members in a lexicographical range.", "2.8.9", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).").args(&[Arg::key("key", 0), Arg::string("min"), Arg::string("max"), Arg::block("offset_count", &[Arg::integer("offset"), Arg::integer("count")]).with_token("LIMIT").optional()]).deprecated("6.2.0", "`ZRANGE` with the `BYLEX` argument"),
        CommandSpec::new("zrevrangebylex", Arity::AtLeast(4), zrevrangebylex).flags(&[ReadOnly]).keys(&[KeySpec::single(1, &[Ro, Access])]).doc("Returns members in a lexicographical range, in reverse order.", "2.8.9", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).").args(&[Arg::key("key", 0), Arg::string("max"), Arg::string("min"), Arg::block("offset_count", &[Arg::integer("offset"), Arg::integer("count")]).with_token("LIMIT").optional()]).deprecated("6.2.0", "`ZRANGE` with the `REV` and `BYLEX` arguments"),
        CommandSpec::new("zrevrange", Arity::AtLeast(4), zrevrange).flags(&[ReadOnly]).keys(&[KeySpec::single(1, &[Ro, Access])]).doc("Returns members by rank, highest score first.", "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.").args(&[Arg::key("key", 0), Arg::integer("start"), Arg::integer("stop"), Arg::token("withscores", "WITHSCORES").optional()]).deprecated("6.2.0", "`ZRANGE` with the `REV` argument"),
        CommandSpec::new("zremrangebyrank", Arity::Exact(4), zremrangebyrank).flags(&[Write]).keys(&[KeySpec::single(1, &[Rw, Delete])]).doc("Removes the members in a range of ranks.", "2.0.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.").args(&[Arg::key("key", 0), Arg::integer("start"), Arg::integer("stop")]),
        CommandSpec::new("zremrangebyscore", Arity::Exact(4), zremrangebyscore).flags(&[Write]).keys(&[KeySpec::single(1, &[Rw, Delete])]).doc("Removes the members with scores in a range.", "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.").args(&[Arg::key("key", 0), Arg::double("min"), Arg::double("max")]),
        CommandSpec::new("zremrangebylex", Arity::Exact(4), zremrangebylex).flags(&[Write]).keys(&[KeySpec::single(1, &[Rw, Delete])]).doc("Removes the members in a lexicographical range.", "2.8.9", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.").args(&[Arg::key("key", 0), Arg::string("min"), Arg::string("max")]),
        CommandSpec::new("zpopmin", Arity::AtLeast(2), zpopmin).flags(&[Write, Fast]).keys(&[KeySpec::single(1, &[Rw, Access, Delete])]).doc("Removes and returns the members with the lowest scores.", "5.0.0", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.").args(&[Arg::key("key", 0), Arg::integer("count").optional()]),
        CommandSpec::new("zpopmax", Arity::AtLeast(2), zpopmax).flags(&[Write, Fast]).keys(&[KeySpec::single(1, &[Rw, Access, Delete])]).doc("Removes and returns the members with the highest scores.", "5.0.0", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.").args(&[Arg::key("key", 0), Arg::integer("count").optional()]),
        CommandSpec::new("zmpop", Arity::AtLeast(4), zmpop).flags(&[Write]).keys(&[KeySpec::new(BeginSearch::Index(1), FindKeys::KeyNum { key_num_index: 0, first_key: 1, step: 1 }, &[Rw, Access, Delete])]).doc("Pops the lowest or highest members from the first non-empty sorted set.", "7.0.0", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.").args(&[Arg::integer("numkeys"), Arg::key("key", 0).multiple(), Arg::one_of("where", &[Arg::token("min", "MIN"), Arg::token("max", "MAX")]), Arg::integer("count").with_token("COUNT").optional()]),
        CommandSpec::new("zrandmember", Arity::AtLeast(2), zrandmember).flags(&[ReadOnly]).keys(&[KeySpec::single(1, &[Ro, Access])]).doc("Returns random members of a sorted set.", "6.2.0", "O(N) where N is the number of elements returned").args(&[Arg::key("key", 0), Arg::block("options", &[Arg::integer("count"), Arg::token("withscores", "WITHSCORES").optional()]).optional()]).tips(&["nondeterministic_output"]),
        CommandSpec::new("zunion", Arity::AtLeast(3), zunion).flags(&[ReadOnly]).keys(&[KeySpec::new(BeginSearch::Index(1), FindKeys::KeyNum { key_num_index: 0, first_key: 1, step: 1 }, &[Ro, Access])]).doc("Returns the union of sorted sets.", "6.2.0", "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.").args(&[Arg::integer("numkeys"), Arg::key("key", 0).multiple(), Arg::integer("weight").with_token("WEIGHTS").optional().multiple(), Arg::one_of("aggregate", &[Arg::token("sum", "SUM"), Arg::token("min", "MIN"), Arg::token("max", "MAX")]).with_token("AGGREGATE").optional(), Arg::token("withscores", "WITHSCORES").optional()]),
        CommandSpec::new("zunionstore", Arity::AtLeast(4), zunionstore).flags(&[Write, DenyOom]).keys(&[KeySpec::single(1, &[Ow, Update]), KeySpec::new(BeginSearch::Index(2), FindKeys::KeyNum { key_num_index: 0, first_key: 1, step: 1 }, &[Ro, Access])]).doc("Stores the union of sorted sets in a key.", "2.0.0", "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.").args(&[Arg::key("destination", 0), Arg::integer("numkeys"), Arg::key("key", 1).multiple(), Arg::integer("weight").with_token("WEIGHTS").optional().multiple(), Arg::one_of("aggregate", &[Arg::token("sum", "SUM"), Arg::token("min", "MIN"), Arg::token("max", "MAX")]).with_token("AGGREGATE").optional()]),
        CommandSpec::new("zinter", Arity::AtLeast(3), zinter).flags(&[ReadOnly]).keys(&[KeySpec::new(BeginSearch::Index(1), FindKeys::KeyNum { key_num_index: 0, first_key: 1, step: 1 }, &[Ro, Access])]).doc("Returns the intersection of sorted sets.", "6.2.0", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.").args(&[Arg::integer("numkeys"), Arg::key("key", 0).multiple(), Arg::integer("weight").with_token("WEIGHTS").optional().multiple(), Arg::one_of("aggregate", &[Arg::token("sum", "SUM"), Arg::token("min", "MIN"), Arg::token("max", "MAX")]).with_token("AGGREGATE").optional(), Arg::token("withscores", "WITHSCORES").optional()]),
        CommandSpec::new("zinterstore", Arity::AtLeast(4), zinterstore).flags(&[Write, DenyOom]).keys(&[KeySpec::single(1, &[Ow, Update]), KeySpec::new(BeginSearch::Index(2), FindKeys::KeyNum { key_num_index: 0, first_key: 1, step: 1 }, &[Ro, Access])]).doc("Stores the intersection of sorted sets in a key.", "2.0.0", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.").args(&[Arg::key("destination", 0), Arg::integer("numkeys"), Arg::key("key", 1).multiple(), Arg::integer("weight").with_token("WEIGHTS").optional().multiple(), Arg::one_of("aggregate", &[Arg::token("sum", "SUM"), Arg::token("min", "MIN"), Arg::token("max", "MAX")]).with_token("AGGREGATE").optional()]),
        CommandSpec::new("zintercard", Arity::AtLeast(3), zintercard).flags(&[ReadOnly]).keys(&[KeySpec::new(BeginSearch::Index(1), FindKeys::KeyNum { key_num_index: 0, first_key: 1, step: 1 }, &[Ro, Access])]).doc("Counts the members of the intersection of sorted sets.", "7.0.0", "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.").args(&[Arg::integer("numkeys"), Arg::key("key", 0).multiple(), Arg::integer("limit").with_token("LIMIT").optional()]),
        CommandSpec::new("zdiff", Arity::AtLeast(3), zdiff).flags(&[ReadOnly]).keys(&[KeySpec::new(BeginSearch::Index(1), FindKeys::KeyNum { key_num_index: 0, first_key: 1, step: 1 }, &[Ro, Access])]).doc("Returns the difference between the first sorted set and the others.", "6.2.0", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.").args(&[Arg::integer("numkeys"), Arg::key("key", 0).multiple(), Arg::token("withscores", "WITHSCORES").optional()]),
        CommandSpec::new("zdiffstore", Arity::AtLeast(4), zdiffstore).flags(&[Write, DenyOom]).keys(&[KeySpec::single(1, &[Ow, Update]), KeySpec::new(BeginSearch::Index(2), FindKeys::KeyNum { key_num_index: 0, first_key: 1, step: 1 }, &[Ro, Access])]).doc("Stores the difference between sorted sets in a key.", "6.2.0", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.").args(&[Arg::key("destination", 0), Arg::integer("numkeys"), Arg::key("key", 1).multiple()]),
        CommandSpec::new("zscan", Arity::AtLeast(3), zscan).flags(&[ReadOnly]).keys(&[KeySpec::single(1, &[Ro, Access])]).doc("Iterates over the members and scores of a sorted set.", "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..").args(&[Arg::key("key", 0), Arg::integer("cursor"), Arg::pattern("pattern").with_token("MATCH").optional(), Arg::integer("count").with_token("COUNT").optional()]).tips(&["nondeterministic_output"]),
    ],
};

/// ZADD's condition and reply options.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AddOptions {
    pub(crate) nx: bool,
    pub(crate) xx: bool,
    pub(crate) gt: bool,
    pub(crate) lt: bool,
    pub(crate) ch: bool,
    pub(crate) incr: bool,
}

fn zadd(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let mut opts = AddOptions::default();
    loop {
        if args.eat_keyword("NX") {
            opts.nx = true;
        } else if args.eat_keyword("XX") {
            opts.xx = true;
        } else if args.eat_keyword("CH") {
            opts.ch = true;
        } else if args.eat_keyword("INCR") {
            opts.incr = true;
        } else if args.eat_keyword("GT") {
            opts.gt = true;
        } else if args.eat_keyword("LT") {
            opts.lt = true;
        } else {
            break;
        }
    }
    let rest = args.rest();
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(CommandError::Syntax);
    }
    if opts.nx && opts.xx {
        return Err(CommandError::msg(XX_AND_NX));
    }
    if (opts.nx && (opts.gt || opts.lt)) || (opts.gt && opts.lt) {
        return Err(CommandError::msg(GT_LT_NX));
    }
    if opts.incr && rest.len() > 2 {
        return Err(CommandError::msg(INCR_SINGLE_PAIR));
    }
    // Every score is checked before anything changes: the command applies fully or not at all.
    let pairs = rest
        .chunks_exact(2)
        .map(|pair| {
            Ok((
                parse_f64(&pair[0]).ok_or(CommandError::NotAFloat)?,
                &pair[1],
            ))
        })
        .collect::<Result<Vec<_>, CommandError>>()?;
    add_members(ctx, key, opts, &pairs)
}

fn zincrby(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let increment = args.next_f64()?;
    let member = args.next_bytes()?;
    let opts = AddOptions {
        incr: true,
        ..AddOptions::default()
    };
    add_members(ctx, key, opts, &[(increment, member)])
}

/// The one place where ZADD and ZINCRBY (and GEOADD) change a sorted set.
pub(crate) fn add_members(
    ctx: &mut CommandContext<'_>,
    key: &[u8],
    opts: AddOptions,
    pairs: &[(f64, &Bytes)],
) -> CommandResult {
    let (max_entries, max_value) = limits(ctx);
    let pos = match lookup_write(ctx, key)? {
        Some(pos) => pos,
        None if opts.xx => {
            return Ok(if opts.incr {
                Frame::Null
            } else {
                Frame::Integer(0)
            });
        }
        None => {
            let first_len = pairs.first().map_or(0, |(_, m)| m.len());
            let zset = SortedSet::for_size(1, first_len, max_entries, max_value);
            let clock = crate::server::lru_clock_at(ctx.now_ms());
            // blocking: key ready
            let pos = ctx.db().insert_new(
                CompactBytes::new(key),
                Value::SortedSet(Box::new(zset)),
                None,
                clock,
            );
            ctx.notify(class::NEW, "new", key);
            pos
        }
    };
    let zset = zset_at(ctx, pos)?;
    let (mut added, mut updated, mut processed) = (0u64, 0u64, 0u64);
    let mut last_score = 0.0;
    let mut failure = None;
    for &(score, member) in pairs {
        match zset.score(member) {
            Some(current) => {
                if opts.nx {
                    continue;
                }
                let mut new = score;
                if opts.incr {
                    new += current;
                    if new.is_nan() {
                        failure = Some(CommandError::msg(SCORE_NAN));
                        break;
                    }
                }
                if (opts.lt && new >= current) || (opts.gt && new <= current) {
                    continue;
                }
                last_score = new;
                processed += 1;
                if new != current {
                    zset.update(member, new);
                    updated += 1;
                }
            }
            None if opts.xx => {}
            None => {
                zset.insert(member, score, max_entries, max_value);
                last_score = score;
                added += 1;
                processed += 1;
            }
        }
    }
    let empty = zset.is_empty();
    if empty {
        // Only an INCR that failed on a new key leaves it empty; Redis stores no empty set.
        ctx.db().remove_at(pos);
    }
    ctx.changed(added + updated);
    if added + updated > 0 {
        ctx.notify(class::ZSET, if opts.incr { "zincr" } else { "zadd" }, key);
    }
    if let Some(error) = failure {
        return Err(error);
    }
    Ok(if opts.incr {
        if processed > 0 {
            Frame::Double(last_score)
        } else {
            Frame::Null
        }
    } else if opts.ch {
        count_reply(added + updated)
    } else {
        count_reply(added)
    })
}

fn zrem(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let Some(pos) = lookup_write(ctx, key)? else {
        return Ok(Frame::Integer(0));
    };
    let zset = zset_at(ctx, pos)?;
    let mut removed = 0u64;
    for member in args.rest() {
        if zset.remove(member).is_some() {
            removed += 1;
        }
        if zset.is_empty() {
            break;
        }
    }
    if removed > 0 {
        ctx.notify(class::ZSET, "zrem", key);
    }
    if remove_if_empty(ctx, pos) {
        ctx.notify(class::GENERIC, "del", key);
    }
    ctx.changed(removed);
    Ok(count_reply(removed))
}

fn zcard(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    Ok(count_reply(read_zset(ctx, key)?.map_or(0, SortedSet::len)))
}

fn zscore(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let member = args.next_bytes()?;
    let score = read_zset(ctx, key)?.and_then(|z| z.score(member));
    Ok(score.map_or(Frame::Null, Frame::Double))
}

fn zmscore(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let members = args.rest();
    let zset = read_zset(ctx, key)?;
    Ok(Frame::Array(
        members
            .iter()
            .map(|m| {
                zset.and_then(|z| z.score(m))
                    .map_or(Frame::Null, Frame::Double)
            })
            .collect(),
    ))
}

fn zrank(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    rank_of(ctx, args, false)
}

fn zrevrank(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    rank_of(ctx, args, true)
}

fn rank_of(ctx: &mut CommandContext<'_>, args: &mut Args<'_>, rev: bool) -> CommandResult {
    let key = args.next_bytes()?;
    let member = args.next_bytes()?;
    let Some(zset) = read_zset(ctx, key)? else {
        return Ok(Frame::Null);
    };
    let len = zset.len();
    Ok(match zset.rank(member) {
        Some((rank, _)) if rev => count_reply(len - 1 - rank),
        Some((rank, _)) => count_reply(rank),
        None => Frame::Null,
    })
}

/// The listpack limits in force: (`zset-max-listpack-entries`, `zset-max-listpack-value`).
pub(crate) fn limits(ctx: &CommandContext<'_>) -> (usize, usize) {
    let config = ctx.config();
    (
        usize::try_from(config.zset_max_listpack_entries).unwrap_or(usize::MAX),
        usize::try_from(config.zset_max_listpack_value).unwrap_or(usize::MAX),
    )
}

/// The sorted set under `key` for reading (counts a hit or miss); WRONGTYPE for another type.
fn read_zset<'c>(
    ctx: &'c mut CommandContext<'_>,
    key: &[u8],
) -> Result<Option<&'c SortedSet>, CommandError> {
    ctx.read(key).map(Value::as_sorted_set).transpose()
}

/// The position of the sorted set under `key`, for writing; WRONGTYPE for another type.
fn lookup_write(ctx: &mut CommandContext<'_>, key: &[u8]) -> Result<Option<usize>, CommandError> {
    let Some(pos) = ctx.lookup_write(key) else {
        return Ok(None);
    };
    zset_at(ctx, pos)?;
    Ok(Some(pos))
}

/// The sorted set at `pos` of the selected database.
fn zset_at<'c>(
    ctx: &'c mut CommandContext<'_>,
    pos: usize,
) -> Result<&'c mut SortedSet, CommandError> {
    ctx.db().entry_mut(pos).value.as_sorted_set_mut()
}

/// Deletes the key at `pos` if its set became empty (Redis stores no empty collection).
fn remove_if_empty(ctx: &mut CommandContext<'_>, pos: usize) -> bool {
    let empty = matches!(&ctx.db().entry(pos).value, Value::SortedSet(z) if z.is_empty());
    if empty {
        ctx.db().remove_at(pos);
    }
    empty
}

/// Stores `zset` under `dst` (dropping its TTL) and answers its size, or deletes `dst` and
/// answers 0 when the result is empty, as the STORE commands do.
fn store_result(ctx: &mut CommandContext<'_>, dst: &[u8], zset: SortedSet) -> Frame {
    if zset.is_empty() {
        if ctx.delete(dst) {
            ctx.notify(class::GENERIC, "del", dst);
        }
        return Frame::Integer(0);
    }
    let len = zset.len();
    // blocking: key ready
    ctx.set(dst, Value::SortedSet(Box::new(zset)), crate::db::Ttl::Clear);
    // The event is the command's name: zunionstore, zinterstore, zdiffstore or zrangestore.
    let event = ctx.command().full_name.as_str();
    ctx.notify(class::ZSET, event, dst);
    count_reply(len)
}

/// Members with optional scores as Redis replies them: a flat array in RESP2 (and without
/// scores), `[member, score]` pairs in RESP3 with scores.
fn members_reply(resp: RespVersion, items: Vec<(Vec<u8>, f64)>, with_scores: bool) -> Frame {
    let mut members = Members::with_capacity(items.len(), 0);
    for (member, score) in &items {
        members.push(member, *score);
    }
    members.reply(resp, with_scores)
}

/// Selected members copied into one buffer, so a reply of N members costs one allocation
/// (each bulk is a slice of it) rather than N.
#[derive(Debug, Default)]
struct Members {
    buf: Vec<u8>,
    /// (end offset in `buf`, score); each member starts where the previous ended.
    items: Vec<(usize, f64)>,
}

impl Members {
    fn with_capacity(members: usize, bytes: usize) -> Members {
        Members {
            buf: Vec::with_capacity(bytes),
            items: Vec::with_capacity(members),
        }
    }

    fn push(&mut self, member: &[u8], score: f64) {
        self.buf.extend_from_slice(member);
        self.items.push((self.buf.len(), score));
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    /// (member, score) in order.
    fn iter(&self) -> impl Iterator<Item = (&[u8], f64)> {
        let mut start = 0;
        self.items.iter().map(move |&(end, score)| {
            let member = &self.buf[start..end];
            start = end;
            (member, score)
        })
    }

    fn reply(self, resp: RespVersion, with_scores: bool) -> Frame {
        if !with_scores {
            // Members only: one packed array, with no allocation or refcount per member.
            return Frame::BulkArray(self.iter().map(|(member, _)| member).collect());
        }
        let buf = Bytes::from(self.buf);
        let flat = !with_scores || resp == RespVersion::Resp2;
        let mut out = Vec::with_capacity(if with_scores && flat {
            self.items.len() * 2
        } else {
            self.items.len()
        });
        let mut start = 0;
        for (end, score) in self.items {
            let member = Frame::Bulk(buf.slice(start..end));
            start = end;
            if !with_scores {
                out.push(member);
            } else if flat {
                out.push(member);
                out.push(Frame::Double(score));
            } else {
                out.push(Frame::Array(vec![member, Frame::Double(score)]));
            }
        }
        Frame::Array(out)
    }
}
