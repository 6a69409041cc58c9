//! SPOP and SRANDMEMBER: random members, picked uniformly by position (see `types::set`).
//!
//! The cases follow Redis's, since they show in replies: a count covering the whole set answers
//! the whole set in its order; a negative SRANDMEMBER count samples with repetition; smaller
//! counts sample distinct members. SPOP of most of a set rebuilds the set from the members that
//! stay, which (as in Redis) can turn a table of integers back into an intset.

use crate::events::class;
use oxidis_protocol::Frame;
use rand::Rng;
use rand::seq::index::sample;

use super::algebra::{members_reply, union};
use super::{as_set, as_set_mut, member_frame, set_value};
use crate::command::{Args, CommandResult};
use crate::context::CommandContext;
use crate::errors::set::COUNT_OUT_OF_RANGE;
use crate::errors::{CommandError, NOT_POSITIVE};
use crate::types::Set;

/// SPOP removes the popped members one by one while fewer than this many times the count
/// would stay; past that it rebuilds the set from the survivors (Redis's
/// `SPOP_MOVE_STRATEGY_MUL`).
const SPOP_REBUILD_RATIO: usize = 5;

/// The most members a negative SRANDMEMBER count may ask for. Redis streams such a reply into
/// an output buffer without bound; we build replies whole, so we refuse past this rather than
/// allocate gigabytes (a divergence only for counts beyond -16777216).
pub(super) const MAX_REPEATED_SAMPLES: usize = 1 << 24;

/// The arguments of SPOP and SRANDMEMBER after the key: nothing, or a count.
fn optional_count<'a>(args: &mut Args<'a>) -> Result<Option<&'a [u8]>, CommandError> {
    let count = args.next_bytes().ok().map(|c| c.as_ref());
    args.finish()?;
    Ok(count)
}

pub(super) fn spop(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    match optional_count(args)? {
        None => pop_one(ctx, key),
        Some(count) => {
            let count = crate::command::parse_i64(count)
                .ok()
                .and_then(|c| usize::try_from(c).ok())
                .ok_or(CommandError::msg(NOT_POSITIVE))?;
            pop_many(ctx, key, count)
        }
    }
}

fn pop_one(ctx: &mut CommandContext<'_>, key: &[u8]) -> CommandResult {
    let Some(pos) = ctx.lookup_write(key) else {
        return Ok(Frame::Null);
    };
    let db_index = ctx.db_index();
    let server = &mut *ctx.server;
    let set = as_set_mut(&mut server.dbs[db_index].entry_mut(pos).value)?;
    let at = server.rng.random_range(0..set.len());
    let reply = member_frame(set, at);
    set.remove_positions(&mut [at]);
    let emptied = set.is_empty();
    ctx.notify(class::SET, "spop", key);
    if emptied {
        ctx.db().remove_at(pos);
        ctx.notify(class::GENERIC, "del", key);
    }
    ctx.changed(1);
    // Propagated as the SREM of the member it picked.
    if let Some(member) = frame_bytes(&reply) {
        ctx.rewrite_propagation(vec![
            bytes::Bytes::from_static(b"SREM"),
            bytes::Bytes::copy_from_slice(key),
            member,
        ]);
    }
    Ok(reply)
}

/// A member reply's bytes, for propagation.
fn frame_bytes(frame: &Frame) -> Option<bytes::Bytes> {
    match frame {
        Frame::Bulk(b) => Some(b.clone()),
        Frame::Integer(n) => Some(bytes::Bytes::from(n.to_string())),
        _ => None,
    }
}

/// SPOP with a count: up to `count` distinct members, removed.
fn pop_many(ctx: &mut CommandContext<'_>, key: &[u8], count: usize) -> CommandResult {
    let Some(pos) = ctx.lookup_write(key) else {
        return Ok(Frame::Set(Vec::new()));
    };
    let max_intset_entries = ctx.config().set_max_intset_entries;
    let db_index = ctx.db_index();
    let server = &mut *ctx.server;
    let value = &mut server.dbs[db_index].entry_mut(pos).value;
    let set = as_set_mut(&mut *value)?;
    if count == 0 {
        return Ok(Frame::Set(Vec::new()));
    }
    let size = set.len();
    if count >= size {
        // Redis answers with the union of the one set, which orders integers ascending.
        let reply = members_reply(&union(&[Some(&*set)], max_intset_entries));
        ctx.notify(class::SET, "spop", key);
        ctx.db().remove_at(pos);
        ctx.notify(class::GENERIC, "del", key);
        ctx.changed(count_u64(size));
        // The whole set went: propagated as its deletion.
        ctx.rewrite_propagation(vec![
            bytes::Bytes::from_static(b"DEL"),
            bytes::Bytes::copy_from_slice(key),
        ]);
        return Ok(reply);
    }
    let remaining = size - count;
    let reply = if remaining * SPOP_REBUILD_RATIO > count {
        let mut picked = sample(&mut server.rng, size, count).into_vec();
        let reply: Vec<Frame> = picked.iter().map(|&p| member_frame(set, p)).collect();
        set.remove_positions(&mut picked);
        reply
    } else {
        // Most members go: pick the survivors instead and rebuild the set from them, in the
        // encoding the first survivor calls for.
        let kept = sample(&mut server.rng, size, remaining).into_vec();
        let mut survivors = Set::default();
        for (i, &p) in kept.iter().enumerate() {
            if i == 0 {
                survivors = set.with_member_at(p, Set::for_first_member);
            }
            survivors.add_member_of(set, p, max_intset_entries);
        }
        let mut is_kept = vec![false; size];
        kept.iter().for_each(|&p| is_kept[p] = true);
        let reply = (0..size)
            .filter(|&p| !is_kept[p])
            .map(|p| member_frame(set, p))
            .collect();
        *value = set_value(survivors);
        reply
    };
    ctx.notify(class::SET, "spop", key);
    ctx.changed(count_u64(count));
    // Propagated as one SREM per member popped, as Redis does.
    for member in reply.iter().filter_map(frame_bytes) {
        ctx.also_propagate(vec![
            bytes::Bytes::from_static(b"SREM"),
            bytes::Bytes::copy_from_slice(key),
            member,
        ]);
    }
    ctx.prevent_propagation();
    Ok(Frame::Set(reply))
}

pub(super) fn srandmember(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let Some(count) = optional_count(args)? else {
        let Some(pos) = ctx.lookup_read(key) else {
            return Ok(Frame::Null);
        };
        let db_index = ctx.db_index();
        let server = &mut *ctx.server;
        let set = as_set(&server.dbs[db_index].entry(pos).value)?;
        let at = server.rng.random_range(0..set.len());
        return Ok(member_frame(set, at));
    };
    let count = crate::command::parse_i64(count)?;
    if count == i64::MIN {
        return Err(CommandError::msg(COUNT_OUT_OF_RANGE));
    }
    let Some(pos) = ctx.lookup_read(key) else {
        return Ok(Frame::Array(Vec::new()));
    };
    let db_index = ctx.db_index();
    let server = &mut *ctx.server;
    let set = as_set(&server.dbs[db_index].entry(pos).value)?;
    let rng = &mut server.rng;
    let size = set.len();
    let wanted = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let members = if count < 0 || wanted == 1 {
        if wanted > MAX_REPEATED_SAMPLES {
            return Err(CommandError::msg(COUNT_OUT_OF_RANGE));
        }
        (0..wanted)
            .map(|_| member_frame(set, rng.random_range(0..size)))
            .collect()
    } else if wanted >= size {
        (0..size).map(|p| member_frame(set, p)).collect()
    } else {
        sample(rng, size, wanted)
            .into_iter()
            .map(|p| member_frame(set, p))
            .collect()
    };
    Ok(Frame::Array(members))
}

fn count_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
