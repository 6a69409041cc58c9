//! MEMORY USAGE, MALLOC-STATS, PURGE and HELP. (DOCTOR and STATS come with the memory
//! accounting of #5.)

use oxidis_protocol::Frame;

use crate::command::{
    Arg, Args, Arity, CommandResult, CommandSpec, Flag::*, KeyFlag::*, KeySpec, parse_i64,
};
use crate::context::CommandContext;
use crate::db::Entry;
use crate::errors::CommandError;
use crate::families::{count_reply, help_reply};

/// The MEMORY container.
pub(super) const MEMORY: CommandSpec = CommandSpec::container(
    "memory",
    &[
        CommandSpec::new("usage", Arity::AtLeast(3), memory_usage)
            .flags(&[ReadOnly])
            .keys(&[KeySpec::single(2, &[Ro])])
            .doc(
                "Estimates the memory usage of a key.",
                "4.0.0",
                "O(N) where N is the number of samples.",
            )
            .args(&[
                Arg::key("key", 0),
                Arg::integer("count").with_token("SAMPLES").optional(),
            ]),
        CommandSpec::new("malloc-stats", Arity::Exact(2), memory_malloc_stats)
            .tips(&[
                "nondeterministic_output",
                "request_policy:all_shards",
                "response_policy:special",
            ])
            .doc(
                "Returns the allocator's statistics.",
                "4.0.0",
                "Depends on how much memory is allocated, could be slow",
            ),
        CommandSpec::new("purge", Arity::Exact(2), memory_purge)
            .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
            .doc(
                "Asks the allocator to release memory.",
                "4.0.0",
                "Depends on how much memory is allocated, could be slow",
            ),
        CommandSpec::new("help", Arity::Exact(2), memory_help)
            .flags(&[Loading, Stale])
            .doc("Lists MEMORY's subcommands.", "4.0.0", "O(1)"),
    ],
)
.doc(
    "A container for memory diagnostics commands.",
    "4.0.0",
    "Depends on subcommand.",
);

/// MEMORY USAGE key [SAMPLES count]: the bytes the key and its value take: the 64-byte entry,
/// the key's heap part and the value's heap size (collections are measured whole, so SAMPLES
/// is checked but not needed).
fn memory_usage(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    while !args.is_empty() {
        if args.eat_keyword("SAMPLES") && !args.is_empty() {
            parse_i64(args.next_bytes()?)?;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let Some(pos) = ctx.lookup_read_no_touch(key) else {
        return Ok(Frame::Null);
    };
    let entry = ctx.db().entry(pos);
    Ok(count_reply(
        std::mem::size_of::<Entry>() + entry.key.heap_size() + entry.value.heap_size(),
    ))
}

/// MEMORY MALLOC-STATS: what Redis answers when its allocator has no statistics to give.
fn memory_malloc_stats(_ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    Ok(Frame::Verbatim {
        format: *b"txt",
        text: bytes::Bytes::from_static(b"Stats not supported for the current allocator"),
    })
}

/// MEMORY PURGE: the system allocator returns free pages on its own; nothing to do.
fn memory_purge(_ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    Ok(Frame::ok())
}

fn memory_help(_ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    Ok(help_reply(
        "MEMORY",
        &[
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    ))
}

#[cfg(test)]
mod tests {
    use crate::testing::{CommandRunner, err};
    use oxidis_protocol::Frame;

    #[test]
    fn usage_counts_entry_key_and_value() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(r.run(["MEMORY", "USAGE", "missing"]), Frame::Null);
        r.run(["SET", "k", "v"]);
        assert_eq!(r.run(["MEMORY", "USAGE", "k"]), Frame::Integer(64));
        assert_eq!(
            r.run(["MEMORY", "USAGE", "k", "SAMPLES", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            r.run(["MEMORY", "USAGE", "k", "foo"]),
            err("ERR syntax error")
        );
        r.run(["SET", "big", &"x".repeat(100)]);
        assert_eq!(r.run(["MEMORY", "USAGE", "big"]), Frame::Integer(164));
    }
}
