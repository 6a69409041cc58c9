//! Set commands: SADD, SREM, SMOVE, the membership and size reads, SMEMBERS, SPOP and
//! SRANDMEMBER, the set algebra (SINTER, SINTERCARD, SUNION, SDIFF and their STORE forms) and
//! SSCAN.
//!
//! Values are `Value::Set` (see `types::set`): `intset` while every member is an integer and
//! there are at most `set-max-intset-entries`, `hashtable` from then on. As in Redis, a set
//! built by a command (SADD on a new key, SMOVE into a new key) starts in the encoding its first
//! member calls for, and a STORE result starts as an intset, so it stays one when every member
//! is an integer. An emptied set is deleted.
//!
//! Not done here (no shared API yet): keyspace notifications, WATCH invalidation, and the
//! rewriting of SPOP as SREM/DEL for propagation. No set command blocks, so nothing here wakes
//! blocked clients.

use crate::events::class;
use crate::families::generic::scan::{
    ScanOptions, Scanning, parse_scan_cursor, parse_scan_options,
};
use bytes::Bytes;
use oxidis_protocol::Frame;

mod algebra;
mod random;
#[cfg(test)]
mod tests;

use crate::command::{
    Arg, Args, Arity, BeginSearch, CommandResult, CommandSpec, Family, FindKeys, Flag::*, Group,
    KeyFlag::*, KeySpec,
};
use crate::context::CommandContext;
use crate::errors::CommandError;
use crate::families::count_reply;
use crate::glob::{Case, glob_match};
use crate::types::{CompactBytes, Set, Value};
use algebra::{sdiff, sdiffstore, sinter, sintercard, sinterstore, smembers, sunion, sunionstore};
use random::{spop, srandmember};

const KEY: &[Arg] = &[Arg::key("key", 0)];
const KEY_MEMBER: &[Arg] = &[Arg::key("key", 0), Arg::string("member")];
const KEY_MEMBERS: &[Arg] = &[Arg::key("key", 0), Arg::string("member").multiple()];
const KEYS: &[Arg] = &[Arg::key("key", 0).multiple()];
const DESTINATION_KEYS: &[Arg] = &[Arg::key("destination", 0), Arg::key("key", 1).multiple()];

/// Reads one key and exposes its members.
const RO_ACCESS: &[KeySpec] = &[KeySpec::single(1, &[Ro, Access])];
/// Reads one key without exposing members (sizes, membership).
const RO: &[KeySpec] = &[KeySpec::single(1, &[Ro])];
/// Reads every key from the first on.
const RO_ACCESS_ALL: &[KeySpec] = &[KeySpec::range(1, -1, 1, &[Ro, Access])];
/// A destination that is overwritten, then the source keys.
const OW_DESTINATION: &[KeySpec] = &[
    KeySpec::single(1, &[Ow, Update]),
    KeySpec::range(2, -1, 1, &[Ro, Access]),
];
const NONDETERMINISTIC_ORDER: &[&str] = &["nondeterministic_output_order"];
const NONDETERMINISTIC: &[&str] = &["nondeterministic_output"];
const INTER_COMPLEXITY: &str = "O(N*M) worst case where N is the cardinality of the smallest set \
and M is the number of sets.";
const TOTAL_COMPLEXITY: &str = "O(N) where N is the total number of elements in all given sets.";

/// The set family; `families::BUILTIN` lists it, and nothing else does.
pub static FAMILY: Family = Family {
    group: Group::Set,
    commands: &[
        CommandSpec::new("sadd", Arity::AtLeast(3), sadd)
            .flags(&[Write, DenyOom, Fast])
            .keys(&[KeySpec::single(1, &[Rw, Insert])])
            .doc(
                "Adds members to a set, creating it if needed.",
                "1.0.0",
                "O(1) for each element added, so O(N) to add N elements when the command is \
                 called with multiple arguments.",
            )
            .args(KEY_MEMBERS),
        CommandSpec::new("srem", Arity::AtLeast(3), srem)
            .flags(&[Write, Fast])
            .keys(&[KeySpec::single(1, &[Rw, Delete])])
            .doc(
                "Removes members from a set, deleting it once empty.",
                "1.0.0",
                "O(N) where N is the number of members to be removed.",
            )
            .args(KEY_MEMBERS),
        CommandSpec::new("scard", Arity::Exact(2), scard)
            .flags(&[ReadOnly, Fast])
            .keys(RO)
            .doc("Returns the number of members of a set.", "1.0.0", "O(1)")
            .args(KEY),
        CommandSpec::new("sismember", Arity::Exact(3), sismember)
            .flags(&[ReadOnly, Fast])
            .keys(RO)
            .doc(
                "Tells whether a value is a member of a set.",
                "1.0.0",
                "O(1)",
            )
            .args(KEY_MEMBER),
        CommandSpec::new("smismember", Arity::AtLeast(3), smismember)
            .flags(&[ReadOnly, Fast])
            .keys(RO_ACCESS)
            .doc(
                "Tells, for each of several values, whether it is a member of a set.",
                "6.2.0",
                "O(N) where N is the number of elements being checked for membership",
            )
            .args(KEY_MEMBERS),
        CommandSpec::new("smembers", Arity::Exact(2), smembers)
            .flags(&[ReadOnly])
            .keys(RO_ACCESS)
            .tips(NONDETERMINISTIC_ORDER)
            .doc(
                "Returns every member of a set.",
                "1.0.0",
                "O(N) where N is the set cardinality.",
            )
            .args(KEY),
        CommandSpec::new("spop", Arity::AtLeast(2), spop)
            .flags(&[Write, Fast])
            .keys(&[KeySpec::single(1, &[Rw, Access, Delete])])
            .tips(NONDETERMINISTIC)
            .doc(
                "Removes and returns one or more random members of a set.",
                "1.0.0",
                "Without the count argument O(1), otherwise O(N) where N is the value of the \
                 passed count.",
            )
            .args(&[
                Arg::key("key", 0),
                Arg::integer("count").optional().since("3.2.0"),
            ]),
        CommandSpec::new("srandmember", Arity::AtLeast(2), srandmember)
            .flags(&[ReadOnly])
            .keys(RO_ACCESS)
            .tips(NONDETERMINISTIC)
            .doc(
                "Returns random members of a set, distinct or, with a negative count, repeated.",
                "1.0.0",
                "Without the count argument O(1), otherwise O(N) where N is the absolute value \
                 of the passed count.",
            )
            .args(&[
                Arg::key("key", 0),
                Arg::integer("count").optional().since("2.6.0"),
            ]),
        CommandSpec::new("smove", Arity::Exact(4), smove)
            .flags(&[Write, Fast])
            .keys(&[
                KeySpec::single(1, &[Rw, Access, Delete]),
                KeySpec::single(2, &[Rw, Insert]),
            ])
            .doc("Moves a member from one set to another.", "1.0.0", "O(1)")
            .args(&[
                Arg::key("source", 0),
                Arg::key("destination", 1),
                Arg::string("member"),
            ]),
        CommandSpec::new("sinter", Arity::AtLeast(2), sinter)
            .flags(&[ReadOnly])
            .keys(RO_ACCESS_ALL)
            .tips(NONDETERMINISTIC_ORDER)
            .doc(
                "Returns the intersection of sets.",
                "1.0.0",
                INTER_COMPLEXITY,
            )
            .args(KEYS),
        CommandSpec::new("sintercard", Arity::AtLeast(3), sintercard)
            .flags(&[ReadOnly])
            .keys(&[KeySpec::new(
                BeginSearch::Index(1),
                FindKeys::KeyNum {
                    key_num_index: 0,
                    first_key: 1,
                    step: 1,
                },
                &[Ro, Access],
            )])
            .doc(
                "Returns the size of the intersection of sets, counting up to an optional limit.",
                "7.0.0",
                INTER_COMPLEXITY,
            )
            .args(&[
                Arg::integer("numkeys"),
                Arg::key("key", 0).multiple(),
                Arg::integer("limit").with_token("LIMIT").optional(),
            ]),
        CommandSpec::new("sinterstore", Arity::AtLeast(3), sinterstore)
            .flags(&[Write, DenyOom])
            .keys(&[
                KeySpec::single(1, &[Rw, Update]),
                KeySpec::range(2, -1, 1, &[Ro, Access]),
            ])
            .doc(
                "Stores the intersection of sets in a key.",
                "1.0.0",
                INTER_COMPLEXITY,
            )
            .args(DESTINATION_KEYS),
        CommandSpec::new("sunion", Arity::AtLeast(2), sunion)
            .flags(&[ReadOnly])
            .keys(RO_ACCESS_ALL)
            .tips(NONDETERMINISTIC_ORDER)
            .doc("Returns the union of sets.", "1.0.0", TOTAL_COMPLEXITY)
            .args(KEYS),
        CommandSpec::new("sunionstore", Arity::AtLeast(3), sunionstore)
            .flags(&[Write, DenyOom])
            .keys(OW_DESTINATION)
            .doc(
                "Stores the union of sets in a key.",
                "1.0.0",
                TOTAL_COMPLEXITY,
            )
            .args(DESTINATION_KEYS),
        CommandSpec::new("sdiff", Arity::AtLeast(2), sdiff)
            .flags(&[ReadOnly])
            .keys(RO_ACCESS_ALL)
            .tips(NONDETERMINISTIC_ORDER)
            .doc(
                "Returns the members of the first set that are in none of the others.",
                "1.0.0",
                TOTAL_COMPLEXITY,
            )
            .args(KEYS),
        CommandSpec::new("sdiffstore", Arity::AtLeast(3), sdiffstore)
            .flags(&[Write, DenyOom])
            .keys(OW_DESTINATION)
            .doc(
                "Stores the difference of a set and several others in a key.",
                "1.0.0",
                TOTAL_COMPLEXITY,
            )
            .args(DESTINATION_KEYS),
        CommandSpec::new("sscan", Arity::AtLeast(3), sscan)
            .flags(&[ReadOnly])
            .keys(RO_ACCESS)
            .tips(NONDETERMINISTIC)
            .doc(
                "Iterates over the members of a set, a cursor at a time.",
                "2.8.0",
                "O(1) for every call. O(N) for a complete iteration, including enough command \
                 calls for the cursor to return back to 0. N is the number of elements inside \
                 the collection..",
            )
            .args(&[
                Arg::key("key", 0),
                Arg::integer("cursor"),
                Arg::pattern("pattern").with_token("MATCH").optional(),
                Arg::integer("count").with_token("COUNT").optional(),
            ]),
    ],
};

fn sadd(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let members = args.rest();
    let max_intset_entries = ctx.config().set_max_intset_entries;
    let added = match write_set(ctx, key)? {
        Some((_, set)) => add_all(set, members, max_intset_entries),
        None => {
            let first = members.first().map_or(&b""[..], |m| m.as_ref());
            let mut set = Set::for_first_member(first);
            let added = add_all(&mut set, members, max_intset_entries);
            insert_new_set(ctx, key, set);
            added
        }
    };
    ctx.changed(added);
    if added > 0 {
        ctx.notify(class::SET, "sadd", key);
    }
    Ok(count_reply(added))
}

fn srem(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let Some((pos, set)) = write_set(ctx, key)? else {
        return Ok(Frame::Integer(0));
    };
    let mut removed = 0u64;
    let mut emptied = false;
    for member in args.rest() {
        if set.remove(member) {
            removed += 1;
            if set.is_empty() {
                // Redis stops here: the key is gone, the other members cannot be in it.
                ctx.db().remove_at(pos);
                emptied = true;
                break;
            }
        }
    }
    ctx.changed(removed);
    if removed > 0 {
        ctx.notify(class::SET, "srem", key);
    }
    if emptied {
        ctx.notify(class::GENERIC, "del", key);
    }
    Ok(count_reply(removed))
}

fn scard(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let len = read_set(ctx, args.next_bytes()?)?.map_or(0, Set::len);
    Ok(count_reply(len))
}

fn sismember(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let member = args.next_bytes()?;
    let found = read_set(ctx, key)?.is_some_and(|set| set.contains(member));
    Ok(Frame::Integer(i64::from(found)))
}

fn smismember(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let set = read_set(ctx, key)?;
    let replies = args
        .rest()
        .iter()
        .map(|m| Frame::Integer(i64::from(set.is_some_and(|s| s.contains(m)))))
        .collect();
    Ok(Frame::Array(replies))
}

fn smove(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let source = args.next_bytes()?;
    let destination = args.next_bytes()?;
    let member = args.next_bytes()?;
    let max_intset_entries = ctx.config().set_max_intset_entries;
    // Both lookups first (each may reclaim an expired key and move others), then positions.
    ctx.lookup_write(source);
    ctx.lookup_write(destination);
    let Some(source_pos) = ctx.db().find(source) else {
        return Ok(Frame::Integer(0));
    };
    as_set(&ctx.db().entry(source_pos).value)?;
    if let Some(pos) = ctx.db().find(destination) {
        as_set(&ctx.db().entry(pos).value)?;
    }
    let source_set = as_set_mut(&mut ctx.db().entry_mut(source_pos).value)?;
    if source == destination {
        return Ok(Frame::Integer(i64::from(source_set.contains(member))));
    }
    if !source_set.remove(member) {
        return Ok(Frame::Integer(0));
    }
    let emptied = source_set.is_empty();
    ctx.notify(class::SET, "srem", source);
    if emptied {
        ctx.db().remove_at(source_pos);
        ctx.notify(class::GENERIC, "del", source);
    }
    ctx.changed(1);
    let added = match ctx.db().find(destination) {
        Some(pos) => {
            as_set_mut(&mut ctx.db().entry_mut(pos).value)?.add(member, max_intset_entries)
        }
        None => {
            let mut set = Set::for_first_member(member);
            set.add(member, max_intset_entries);
            insert_new_set(ctx, destination, set);
            true
        }
    };
    if added {
        ctx.changed(1);
        ctx.notify(class::SET, "sadd", destination);
    } else {
        ctx.unmodified(destination);
    }
    Ok(Frame::Integer(1))
}

fn sscan(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let cursor = parse_scan_cursor(args.next_bytes()?)?;
    let Some(set) = read_set(ctx, key)? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    // Redis reads the options only once it has a set to scan.
    let ScanOptions { pattern, count, .. } = parse_scan_options(args, Scanning::Elements)?;
    let mut members = Vec::new();
    let next = set.scan(cursor, count, |member| {
        if pattern.is_none_or(|p| glob_match(p, member, Case::Sensitive)) {
            members.push(Frame::bulk(member));
        }
    });
    Ok(scan_reply(next, members))
}

/// `[cursor, [members...]]`, the shape of every SCAN-family reply.
fn scan_reply(cursor: u64, members: Vec<Frame>) -> Frame {
    Frame::Array(vec![
        Frame::bulk(itoa::Buffer::new().format(cursor)),
        Frame::Array(members),
    ])
}

/// Adds every member; how many were new.
fn add_all(set: &mut Set, members: &[Bytes], max_intset_entries: u64) -> u64 {
    let added = set.add_all(members.iter().map(|m| m.as_ref()), max_intset_entries);
    u64::try_from(added).unwrap_or(u64::MAX)
}

/// The set at `key` for reading (keyspace hit/miss counted): `None` when there is no key.
fn read_set<'c>(
    ctx: &'c mut CommandContext<'_>,
    key: &[u8],
) -> Result<Option<&'c Set>, CommandError> {
    match ctx.lookup_read(key) {
        Some(pos) => as_set(&ctx.db().entry(pos).value).map(Some),
        None => Ok(None),
    }
}

/// The set at `key` for changing, with its position: `None` when there is no key.
fn write_set<'c>(
    ctx: &'c mut CommandContext<'_>,
    key: &[u8],
) -> Result<Option<(usize, &'c mut Set)>, CommandError> {
    match ctx.lookup_write(key) {
        Some(pos) => as_set_mut(&mut ctx.db().entry_mut(pos).value).map(|set| Some((pos, set))),
        None => Ok(None),
    }
}

/// The set a value holds; WRONGTYPE for anything else.
fn as_set(value: &Value) -> Result<&Set, CommandError> {
    value.as_set()
}

/// [`as_set`] for changing the set.
fn as_set_mut(value: &mut Value) -> Result<&mut Set, CommandError> {
    value.as_set_mut()
}

/// Adds a set under `key`, known to be absent, without counting a change (the caller counts
/// the members it added, as Redis does).
fn insert_new_set(ctx: &mut CommandContext<'_>, key: &[u8], set: Set) {
    let clock = crate::server::lru_clock_at(ctx.now_ms());
    ctx.db()
        .insert_new(CompactBytes::new(key), set_value(set), None, clock);
    ctx.notify(class::NEW, "new", key);
}

/// A set as a key's value: the one place that knows how `Value` holds a set.
fn set_value(set: Set) -> Value {
    Value::Set(set)
}

/// The member at `pos` of `set` as a bulk reply.
fn member_frame(set: &Set, pos: usize) -> Frame {
    set.with_member_at(pos, |m| Frame::bulk(m))
}
