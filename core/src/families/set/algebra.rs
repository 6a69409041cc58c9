//! The set algebra: SINTER (and SMEMBERS, which Redis runs as a one-key SINTER), SINTERCARD,
//! SUNION, SDIFF and the STORE forms.
//!
//! Results are built the way Redis builds them, which shows in encodings and order: a union or
//! difference, and any stored intersection, collects into a fresh intset that turns into a table
//! only if a non-integer or too many members arrive, so integer results come back sorted and are
//! stored as `intset`.

use crate::events::class;
use bytes::Bytes;
use oxidis_protocol::Frame;

use super::{as_set, member_frame, set_value};
use crate::command::{Args, CommandResult, parse_i64};
use crate::context::CommandContext;
use crate::db::Ttl;
use crate::errors::CommandError;
use crate::errors::set::{LIMIT_NEGATIVE, NUMKEYS_NOT_POSITIVE, NUMKEYS_TOO_MANY};
use crate::families::count_reply;
use crate::types::Set;

pub(super) fn smembers(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    sinter(ctx, args)
}

pub(super) fn sinter(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let sets = lookup_sets(ctx, args.rest())?;
    let mut members = Vec::new();
    if let Some(sets) = all_present(&sets) {
        intersect(&sets, |set, pos| {
            members.push(member_frame(set, pos));
            true
        });
    }
    Ok(Frame::Set(members))
}

pub(super) fn sintercard(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let numkeys = parse_i64(args.next_bytes()?)
        .ok()
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n >= 1)
        .ok_or(CommandError::msg(NUMKEYS_NOT_POSITIVE))?;
    let rest = args.rest();
    let (keys, options) = rest
        .split_at_checked(numkeys)
        .ok_or(CommandError::msg(NUMKEYS_TOO_MANY))?;
    let mut limit = 0usize;
    let mut options = options.iter();
    while let Some(option) = options.next() {
        match options.as_slice().first() {
            Some(value) if option.eq_ignore_ascii_case(b"LIMIT") => {
                options.next();
                limit = parse_i64(value)
                    .ok()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or(CommandError::msg(LIMIT_NEGATIVE))?;
            }
            _ => return Err(CommandError::Syntax),
        }
    }
    let sets = lookup_sets(ctx, keys)?;
    let mut cardinality = 0usize;
    if let Some(sets) = all_present(&sets) {
        intersect(&sets, |_, _| {
            cardinality += 1;
            limit == 0 || cardinality < limit
        });
    }
    Ok(count_reply(cardinality))
}

pub(super) fn sinterstore(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let destination = args.next_bytes()?;
    let max_intset_entries = ctx.config().set_max_intset_entries;
    let sets = lookup_sets(ctx, args.rest())?;
    let mut result = Set::default();
    if let Some(sets) = all_present(&sets) {
        intersect(&sets, |set, pos| {
            result.add_member_of(set, pos, max_intset_entries);
            true
        });
    }
    Ok(store(ctx, destination, result))
}

pub(super) fn sunion(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let max_intset_entries = ctx.config().set_max_intset_entries;
    let sets = lookup_sets(ctx, args.rest())?;
    Ok(members_reply(&union(&sets, max_intset_entries)))
}

pub(super) fn sunionstore(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let destination = args.next_bytes()?;
    let max_intset_entries = ctx.config().set_max_intset_entries;
    let sets = lookup_sets(ctx, args.rest())?;
    let result = union(&sets, max_intset_entries);
    Ok(store(ctx, destination, result))
}

pub(super) fn sdiff(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let max_intset_entries = ctx.config().set_max_intset_entries;
    let sets = lookup_sets(ctx, args.rest())?;
    Ok(members_reply(&difference(sets, max_intset_entries)))
}

pub(super) fn sdiffstore(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let destination = args.next_bytes()?;
    let max_intset_entries = ctx.config().set_max_intset_entries;
    let sets = lookup_sets(ctx, args.rest())?;
    let result = difference(sets, max_intset_entries);
    Ok(store(ctx, destination, result))
}

/// Every member of `set` as a RESP3 set reply (an array in RESP2).
pub(super) fn members_reply(set: &Set) -> Frame {
    Frame::Set((0..set.len()).map(|pos| member_frame(set, pos)).collect())
}

/// The sets under `keys`, in order; `None` for a missing key. WRONGTYPE at the first key that
/// holds something else, as Redis stops there.
fn lookup_sets<'c>(
    ctx: &'c mut CommandContext<'_>,
    keys: &[Bytes],
) -> Result<Vec<Option<&'c Set>>, CommandError> {
    // Look every key up first (counting hits and reclaiming expired keys, which moves others),
    // then take the positions.
    for key in keys {
        if let Some(pos) = ctx.lookup_read(key) {
            as_set(&ctx.db().entry(pos).value)?;
        }
    }
    let db = &*ctx.db();
    keys.iter()
        .map(|key| {
            db.find(key)
                .map(|pos| as_set(&db.entry(pos).value))
                .transpose()
        })
        .collect()
}

/// All the sets, or `None` when one is missing (an intersection with it is empty).
fn all_present<'s>(sets: &[Option<&'s Set>]) -> Option<Vec<&'s Set>> {
    sets.iter().copied().collect()
}

/// Calls `emit` with each member of the intersection (as a set and a position in it) until it
/// returns false. Walks the smallest set and probes the others, as Redis does (so its order is
/// the smallest set's).
fn intersect(sets: &[&Set], mut emit: impl FnMut(&Set, usize) -> bool) {
    let mut sets = sets.to_vec();
    sets.sort_by_key(|s| s.len());
    let Some((&smallest, others)) = sets.split_first() else {
        return;
    };
    for pos in 0..smallest.len() {
        let everywhere = others
            .iter()
            .all(|other| std::ptr::eq(*other, smallest) || other.contains_member_of(smallest, pos));
        if everywhere && !emit(smallest, pos) {
            return;
        }
    }
}

/// The union, collected into a fresh intset-first set.
pub(super) fn union(sets: &[Option<&Set>], max_intset_entries: u64) -> Set {
    let mut result = Set::default();
    for set in sets.iter().flatten() {
        for pos in 0..set.len() {
            result.add_member_of(set, pos, max_intset_entries);
        }
    }
    result
}

/// The members of the first set in none of the others, collected into a fresh intset-first set.
/// Redis's two strategies are kept, since they leave members in different orders: probing the
/// others for each member of the first set, or copying the first set and removing the others'
/// members, whichever its estimate says is less work.
fn difference(mut sets: Vec<Option<&Set>>, max_intset_entries: u64) -> Set {
    let mut result = Set::default();
    let Some((Some(first), others)) = sets.split_first_mut() else {
        return result;
    };
    let first: &Set = first;
    if others.iter().flatten().any(|s| std::ptr::eq(*s, first)) {
        return result;
    }
    let probe_work = first.len() * (others.iter().flatten().count() + 1) / 2;
    let copy_work = first.len() + others.iter().flatten().map(|s| s.len()).sum::<usize>();
    if probe_work <= copy_work {
        // Largest first: a member is likelier to be found early.
        others.sort_by_key(|s| std::cmp::Reverse(s.map_or(0, Set::len)));
        for pos in 0..first.len() {
            if !others
                .iter()
                .flatten()
                .any(|s| s.contains_member_of(first, pos))
            {
                result.add_member_of(first, pos, max_intset_entries);
            }
        }
    } else {
        for pos in 0..first.len() {
            result.add_member_of(first, pos, max_intset_entries);
        }
        for set in others.iter().flatten() {
            for pos in 0..set.len() {
                result.remove_member_of(set, pos);
            }
            if result.is_empty() {
                break;
            }
        }
    }
    result
}

/// Stores a STORE command's result under `destination` (deleting it when the result is empty)
/// and returns the reply: the result's size.
fn store(ctx: &mut CommandContext<'_>, destination: &[u8], result: Set) -> Frame {
    let len = result.len();
    if result.is_empty() {
        if ctx.delete(destination) {
            ctx.notify(class::GENERIC, "del", destination);
        }
    } else {
        ctx.set(destination, set_value(result), Ttl::Clear);
        // The event is the command's name: sinterstore, sunionstore or sdiffstore.
        let event = ctx.command().full_name.as_str();
        ctx.notify(class::SET, event, destination);
    }
    count_reply(len)
}
