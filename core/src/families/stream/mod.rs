//! Streams and consumer groups: XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID (`basic`),
//! XREAD and XREADGROUP (`read`), XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM (`groups`) and
//! XINFO (`info`), with Redis 7.0's replies, errors and keyspace events.
//!
//! Values are `Value::Stream` (see `types::stream` for the packed layout). XREAD and
//! XREADGROUP with BLOCK wait through the blocking machinery (`crate::blocking`) and are run
//! again when a key they wait on is written; the re-run command carries the concrete ids the
//! client blocked with, so `$` keeps meaning "after what was last when I blocked".

mod args;
mod basic;
mod groups;
mod ids;
mod info;
mod read;

use crate::command::{
    Arity, BeginSearch, CommandSpec, Family, FindKeys, Flag::*, Group, KeyFlag::*, KeySpec,
};
use crate::context::CommandContext;
use crate::errors::CommandError;
use crate::types::{Stream, StreamNodeLimits};
use args::*;

/// The stream family.
pub static FAMILY: Family = Family {
    group: Group::Stream,
    commands: &[
        CommandSpec::new("xadd", Arity::AtLeast(5), basic::xadd)
            .flags(&[Write, DenyOom, Fast])
            .keys(&[KeySpec::single(1, &[Rw, Update])])
            .doc(
                "Appends a new entry to a stream",
                "5.0.0",
                "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.",
            )
            .tips(&["nondeterministic_output"])
            .args(XADD_ARGS),
        CommandSpec::new("xlen", Arity::Exact(2), basic::xlen)
            .flags(&[ReadOnly, Fast])
            .keys(&[KeySpec::single(1, &[Ro])])
            .doc("Return the number of entries in a stream", "5.0.0", "O(1)")
            .args(XLEN_ARGS),
        CommandSpec::new("xrange", Arity::AtLeast(4), basic::xrange)
            .flags(&[ReadOnly])
            .keys(KEY_RO_ACCESS)
            .doc(
                "Return a range of elements in a stream, with IDs matching the specified IDs interval",
                "5.0.0",
                "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
            )
            .args(XRANGE_ARGS),
        CommandSpec::new("xrevrange", Arity::AtLeast(4), basic::xrevrange)
            .flags(&[ReadOnly])
            .keys(KEY_RO_ACCESS)
            .doc(
                "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
                "5.0.0",
                "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
            )
            .args(XREVRANGE_ARGS),
        CommandSpec::new("xdel", Arity::AtLeast(3), basic::xdel)
            .flags(&[Write, Fast])
            .keys(KEY_RW_DELETE)
            .doc(
                "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.",
                "5.0.0",
                "O(1) for each single item to delete in the stream, regardless of the stream size.",
            )
            .args(XDEL_ARGS),
        CommandSpec::new("xtrim", Arity::AtLeast(4), basic::xtrim)
            .flags(&[Write])
            .keys(KEY_RW_DELETE)
            .doc(
                "Trims the stream to (approximately if '~' is passed) a certain size",
                "5.0.0",
                "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.",
            )
            .tips(&["nondeterministic_output"])
            .args(XTRIM_ARGS),
        CommandSpec::new("xread", Arity::AtLeast(4), read::xread)
            .flags(&[Blocking, ReadOnly])
            .keys(&[KeySpec::new(
                BeginSearch::Keyword {
                    keyword: "STREAMS",
                    start_from: 1,
                },
                FindKeys::Range {
                    last_key: -1,
                    step: 1,
                    limit: 2,
                },
                &[Ro, Access],
            )])
            .doc(
                "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.",
                "5.0.0",
                "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.",
            )
            .args(XREAD_ARGS),
        CommandSpec::new("xreadgroup", Arity::AtLeast(7), read::xreadgroup)
            .flags(&[Blocking, Write])
            .keys(&[KeySpec::new(
                BeginSearch::Keyword {
                    keyword: "STREAMS",
                    start_from: 4,
                },
                FindKeys::Range {
                    last_key: -1,
                    step: 1,
                    limit: 2,
                },
                &[Ro, Access],
            )])
            .doc(
                "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.",
                "5.0.0",
                "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.",
            )
            .args(XREADGROUP_ARGS),
        CommandSpec::container(
            "xgroup",
            &[
                CommandSpec::new("delconsumer", Arity::Exact(5), groups::xgroup_delconsumer)
                    .flags(&[Write])
                    .keys(&[KeySpec::single(2, &[Rw, Delete])])
                    .doc("Delete a consumer from a consumer group.", "5.0.0", "O(1)")
                    .args(XGROUP_DELCONSUMER_ARGS),
                CommandSpec::new("createconsumer", Arity::Exact(5), groups::xgroup_createconsumer)
                    .flags(&[Write, DenyOom])
                    .keys(&[KeySpec::single(2, &[Rw, Insert])])
                    .doc("Create a consumer in a consumer group.", "6.2.0", "O(1)")
                    .args(XGROUP_CREATECONSUMER_ARGS),
                CommandSpec::new("help", Arity::Exact(2), groups::xgroup_help)
                    .flags(&[Loading, Stale])
                    .doc(
                        "Show helpful text about the different subcommands",
                        "5.0.0",
                        "O(1)",
                    ),
                CommandSpec::new("destroy", Arity::Exact(4), groups::xgroup_destroy)
                    .flags(&[Write])
                    .keys(&[KeySpec::single(2, &[Rw, Delete])])
                    .doc(
                        "Destroy a consumer group.",
                        "5.0.0",
                        "O(N) where N is the number of entries in the group's pending entries list (PEL).",
                    )
                    .args(XGROUP_DESTROY_ARGS),
                CommandSpec::new("setid", Arity::AtLeast(5), groups::xgroup_setid)
                    .flags(&[Write])
                    .keys(&[KeySpec::single(2, &[Rw, Update])])
                    .doc(
                        "Set a consumer group to an arbitrary last delivered ID value.",
                        "5.0.0",
                        "O(1)",
                    )
                    .args(XGROUP_SETID_ARGS),
                CommandSpec::new("create", Arity::AtLeast(5), groups::xgroup_create)
                    .flags(&[Write, DenyOom])
                    .keys(&[KeySpec::single(2, &[Rw, Insert])])
                    .doc("Create a consumer group.", "5.0.0", "O(1)")
                    .args(XGROUP_CREATE_ARGS),
            ],
        )
        .acl_only(&[])
        .doc(
            "A container for consumer groups commands",
            "5.0.0",
            "Depends on subcommand.",
        ),
        CommandSpec::new("xack", Arity::AtLeast(4), groups::xack)
            .flags(&[Write, Fast])
            .keys(KEY_RW_UPDATE)
            .doc(
                "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.",
                "5.0.0",
                "O(1) for each message ID processed.",
            )
            .args(XACK_ARGS),
        CommandSpec::new("xpending", Arity::AtLeast(3), groups::xpending)
            .flags(&[ReadOnly])
            .keys(KEY_RO_ACCESS)
            .doc(
                "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.",
                "5.0.0",
                "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.",
            )
            .tips(&["nondeterministic_output"])
            .args(XPENDING_ARGS),
        CommandSpec::new("xclaim", Arity::AtLeast(6), groups::xclaim)
            .flags(&[Write, Fast])
            .keys(KEY_RW_UPDATE)
            .doc(
                "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.",
                "5.0.0",
                "O(log N) with N being the number of messages in the PEL of the consumer group.",
            )
            .tips(&["nondeterministic_output"])
            .args(XCLAIM_ARGS),
        CommandSpec::new("xautoclaim", Arity::AtLeast(6), groups::xautoclaim)
            .flags(&[Write, Fast])
            .keys(KEY_RW_DELETE)
            .doc(
                "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.",
                "6.2.0",
                "O(1) if COUNT is small.",
            )
            .tips(&["nondeterministic_output"])
            .args(XAUTOCLAIM_ARGS),
        CommandSpec::container(
            "xinfo",
            &[
                CommandSpec::new("help", Arity::Exact(2), info::xinfo_help)
                    .flags(&[Loading, Stale])
                    .doc(
                        "Show helpful text about the different subcommands",
                        "5.0.0",
                        "O(1)",
                    ),
                CommandSpec::new("groups", Arity::Exact(3), info::xinfo_groups)
                    .flags(&[ReadOnly])
                    .keys(KEY2_RO_ACCESS)
                    .doc("List the consumer groups of a stream", "5.0.0", "O(1)")
                    .args(XINFO_GROUPS_ARGS),
                CommandSpec::new("stream", Arity::AtLeast(3), info::xinfo_stream)
                    .flags(&[ReadOnly])
                    .keys(KEY2_RO_ACCESS)
                    .doc("Get information about a stream", "5.0.0", "O(1)")
                    .args(XINFO_STREAM_ARGS),
                CommandSpec::new("consumers", Arity::Exact(4), info::xinfo_consumers)
                    .flags(&[ReadOnly])
                    .keys(KEY2_RO_ACCESS)
                    .doc("List the consumers in a consumer group", "5.0.0", "O(1)")
                    .tips(&["nondeterministic_output"])
                    .args(XINFO_CONSUMERS_ARGS),
            ],
        )
        .acl_only(&[])
        .doc(
            "A container for stream introspection commands",
            "5.0.0",
            "Depends on subcommand.",
        ),
        CommandSpec::new("xsetid", Arity::AtLeast(3), basic::xsetid)
            .flags(&[Write, DenyOom, Fast])
            .keys(KEY_RW_UPDATE)
            .doc(
                "An internal command for replicating stream values",
                "5.0.0",
                "O(1)",
            )
            .args(XSETID_ARGS),
    ],
};

const KEY_RO_ACCESS: &[KeySpec] = &[KeySpec::single(1, &[Ro, Access])];
const KEY2_RO_ACCESS: &[KeySpec] = &[KeySpec::single(2, &[Ro, Access])];
const KEY_RW_DELETE: &[KeySpec] = &[KeySpec::single(1, &[Rw, Delete])];
const KEY_RW_UPDATE: &[KeySpec] = &[KeySpec::single(1, &[Rw, Update])];

/// How big new nodes may grow, from the configuration.
fn node_limits(ctx: &CommandContext<'_>) -> StreamNodeLimits {
    StreamNodeLimits {
        max_bytes: ctx.config().stream_node_max_bytes,
        max_entries: ctx.config().stream_node_max_entries,
    }
}

/// The stream under `key` for reading (a keyspace hit or miss is counted); WRONGTYPE for
/// another type.
fn read_stream<'c>(
    ctx: &'c mut CommandContext<'_>,
    key: &[u8],
) -> Result<Option<&'c Stream>, CommandError> {
    match ctx.read(key) {
        None => Ok(None),
        Some(value) => value.as_stream().map(Some),
    }
}

/// The stream under `key` for changing; WRONGTYPE for another type.
fn write_stream<'c>(
    ctx: &'c mut CommandContext<'_>,
    key: &[u8],
) -> Result<Option<&'c mut Stream>, CommandError> {
    let Some(pos) = ctx.lookup_write(key) else {
        return Ok(None);
    };
    ctx.db().entry_mut(pos).value.as_stream_mut().map(Some)
}

/// The stream under `key` for changing, looked up as a read (counting a hit or miss), as
/// XACK, XCLAIM and XREADGROUP do in Redis.
fn read_stream_mut<'c>(
    ctx: &'c mut CommandContext<'_>,
    key: &[u8],
) -> Result<Option<&'c mut Stream>, CommandError> {
    let Some(pos) = ctx.lookup_read(key) else {
        return Ok(None);
    };
    ctx.db().entry_mut(pos).value.as_stream_mut().map(Some)
}

#[cfg(test)]
mod tests;
