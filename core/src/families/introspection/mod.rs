//! COMMAND and its subcommands: what the server says about its own command table (INFO, DOCS,
//! COUNT, LIST, GETKEYS, GETKEYSANDFLAGS, HELP). Everything here reads `ctx.server.table`; the
//! reply shapes follow Redis 7.0 (maps and sets that RESP2 flattens to arrays).

use bytes::Bytes;
use oxidis_protocol::Frame;

mod reply;

use crate::command::{
    AclCategory, Arg, Args, Arity, Command, CommandResult, CommandSpec, CommandTable, Family, Flag,
    Group, KeyRef, find_keys, has_key_specs,
};
use crate::context::CommandContext;
use crate::errors::CommandError;
use crate::errors::introspection::{
    INVALID_ARGUMENT_COUNT, INVALID_ARGUMENTS, INVALID_COMMAND, NO_KEY_ARGUMENTS,
};
use crate::families::{count_reply, help_reply};
use crate::glob::{Case, glob_match};
use reply::{docs_reply, info_reply, key_flags_reply};

/// The introspection family: COMMAND.
pub static FAMILY: Family = Family {
    group: Group::Server,
    commands: &[command_spec()],
};

const COMMAND_FLAGS: &[Flag] = &[Flag::Loading, Flag::Stale];
const ALL_COMMANDS_COMPLEXITY: &str = "O(N) where N is the total number of Redis commands";
const LOOKUP_COMPLEXITY: &str = "O(N) where N is the number of commands to look up";
const GETKEYS_COMPLEXITY: &str = "O(N) where N is the number of arguments to the command";
const COMMAND_NAMES: &[Arg] = &[Arg::string("command-name").optional().multiple()];

/// COMMAND answers on its own (all commands' info) and also has subcommands.
const fn command_spec() -> CommandSpec {
    CommandSpec::new("command", Arity::AtLeast(1), command)
        .with_subcommands(SUBCOMMANDS)
        .flags(COMMAND_FLAGS)
        .acl(&[AclCategory::Connection])
        .doc(
            "Describes every command of the server.",
            "2.8.13",
            ALL_COMMANDS_COMPLEXITY,
        )
        .tips(&["nondeterministic_output_order"])
}

const SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("count", Arity::Exact(2), command_count)
        .flags(COMMAND_FLAGS)
        .acl(&[AclCategory::Connection])
        .doc("Counts the server's commands.", "2.8.13", "O(1)"),
    CommandSpec::new("docs", Arity::AtLeast(2), command_docs)
        .flags(COMMAND_FLAGS)
        .acl(&[AclCategory::Connection])
        .doc(
            "Documents the given commands, or all of them.",
            "7.0.0",
            LOOKUP_COMPLEXITY,
        )
        .tips(&["nondeterministic_output_order"])
        .args(COMMAND_NAMES),
    CommandSpec::new("getkeys", Arity::AtLeast(4), command_getkeys)
        .flags(COMMAND_FLAGS)
        .acl(&[AclCategory::Connection])
        .doc(
            "Lists the keys of a full command line.",
            "2.8.13",
            GETKEYS_COMPLEXITY,
        ),
    CommandSpec::new(
        "getkeysandflags",
        Arity::AtLeast(4),
        command_getkeysandflags,
    )
    .flags(COMMAND_FLAGS)
    .acl(&[AclCategory::Connection])
    .doc(
        "Lists the keys of a full command line with their access flags.",
        "7.0.0",
        GETKEYS_COMPLEXITY,
    ),
    CommandSpec::new("help", Arity::Exact(2), command_help)
        .flags(COMMAND_FLAGS)
        .acl(&[AclCategory::Connection])
        .doc("Shows the COMMAND subcommands.", "5.0.0", "O(1)"),
    CommandSpec::new("info", Arity::AtLeast(2), command_info)
        .flags(COMMAND_FLAGS)
        .acl(&[AclCategory::Connection])
        .doc(
            "Describes the given commands, or all of them.",
            "2.8.13",
            LOOKUP_COMPLEXITY,
        )
        .tips(&["nondeterministic_output_order"])
        .args(COMMAND_NAMES),
    CommandSpec::new("list", Arity::AtLeast(2), command_list)
        .flags(COMMAND_FLAGS)
        .acl(&[AclCategory::Connection])
        .doc(
            "Lists command names, optionally filtered.",
            "7.0.0",
            ALL_COMMANDS_COMPLEXITY,
        )
        .tips(&["nondeterministic_output_order"])
        .args(&[Arg::one_of(
            "filterby",
            &[
                Arg::string("module-name").with_token("MODULE"),
                Arg::string("category").with_token("ACLCAT"),
                Arg::pattern("pattern").with_token("PATTERN"),
            ],
        )
        .with_token("FILTERBY")
        .optional()]),
];

/// COMMAND alone: the info of every command (dispatch routes `COMMAND <sub>` to the
/// subcommand).
fn command(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    args.finish()?;
    Ok(Frame::Array(
        sorted(&ctx.server.table)
            .into_iter()
            .map(info_reply)
            .collect(),
    ))
}

/// COMMAND COUNT: top-level commands only, as Redis counts them.
fn command_count(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    Ok(count_reply(ctx.server.table.len()))
}

/// COMMAND DOCS [name ...]: a map of full name to docs; unknown names are left out.
fn command_docs(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let table = &ctx.server.table;
    let commands: Vec<&Command> = if args.is_empty() {
        sorted(table)
    } else {
        args.rest()
            .iter()
            .filter_map(|name| lookup_full_name(table, name))
            .collect()
    };
    Ok(Frame::Map(
        commands
            .into_iter()
            .map(|c| {
                (
                    Frame::bulk(&c.full_name),
                    docs_reply(c, &ctx.server.modules),
                )
            })
            .collect(),
    ))
}

/// COMMAND GETKEYS command arg...: the key names.
fn command_getkeys(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let (argv, keys) = keys_of_command_line(&ctx.server.table, args.rest())?;
    Ok(Frame::Array(
        keys.iter()
            .map(|k| Frame::Bulk(argv[k.index].clone()))
            .collect(),
    ))
}

/// COMMAND GETKEYSANDFLAGS command arg...: pairs of key name and key-spec flags.
fn command_getkeysandflags(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let (argv, keys) = keys_of_command_line(&ctx.server.table, args.rest())?;
    Ok(Frame::Array(
        keys.iter()
            .map(|k| {
                Frame::Array(vec![
                    Frame::Bulk(argv[k.index].clone()),
                    key_flags_reply(k.flags),
                ])
            })
            .collect(),
    ))
}

/// COMMAND HELP.
fn command_help(_ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    const LINES: &[&str] = &[
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
    ];
    Ok(help_reply("COMMAND", LINES))
}

/// COMMAND INFO [name ...]: every command with no names; a nil per unknown name.
fn command_info(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let table = &ctx.server.table;
    if args.is_empty() {
        return Ok(Frame::Array(
            sorted(table).into_iter().map(info_reply).collect(),
        ));
    }
    Ok(Frame::Array(
        args.rest()
            .iter()
            .map(|name| lookup_full_name(table, name).map_or(Frame::Null, info_reply))
            .collect(),
    ))
}

/// How COMMAND LIST narrows its answer.
enum ListFilter<'a> {
    /// Commands of the named module.
    Module(&'a [u8]),
    /// Commands in an ACL category (`None`: no such category, nothing matches).
    AclCategory(Option<u32>),
    /// Full names matching a glob, case-insensitively.
    Pattern(&'a [u8]),
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]: full names,
/// each container followed by its subcommands.
fn command_list(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let mut filter = None;
    // Redis accepts FILTERBY only with exactly its two arguments left.
    while let Some(option) = args.peek() {
        if !option.eq_ignore_ascii_case(b"FILTERBY") || args.remaining() != 3 {
            return Err(CommandError::Syntax);
        }
        args.next_bytes()?;
        let kind = args.next_bytes()?;
        let value = args.next_bytes()?;
        filter = Some(if kind.eq_ignore_ascii_case(b"MODULE") {
            ListFilter::Module(value)
        } else if kind.eq_ignore_ascii_case(b"ACLCAT") {
            ListFilter::AclCategory(acl_category_by_name(value))
        } else if kind.eq_ignore_ascii_case(b"PATTERN") {
            ListFilter::Pattern(value)
        } else {
            return Err(CommandError::Syntax);
        });
    }
    let modules = &ctx.server.modules;
    let keep = |c: &Command| match &filter {
        None => true,
        // A module's commands are top-level ones; no loaded module of that name, none.
        Some(ListFilter::Module(name)) => modules
            .commands_of(name)
            .is_some_and(|names| names.contains(&c.full_name)),
        Some(ListFilter::AclCategory(bits)) => bits.is_some_and(|b| c.acl_categories & b != 0),
        Some(ListFilter::Pattern(pattern)) => {
            glob_match(pattern, c.full_name.as_bytes(), Case::Insensitive)
        }
    };
    let mut names = Vec::new();
    for parent in sorted(&ctx.server.table) {
        for c in std::iter::once(parent).chain(parent.subcommands.iter().copied()) {
            if keep(c) {
                names.push(Frame::bulk(&c.full_name));
            }
        }
    }
    Ok(Frame::Array(names))
}

// ---------------------------------------------------------------------------------------------
// Looking commands up.

/// Top-level commands by name, so replies that list them all are stable.
fn sorted(table: &CommandTable) -> Vec<&'static Command> {
    let mut commands: Vec<_> = table.iter().collect();
    commands.sort_unstable_by(|a, b| a.full_name.cmp(&b.full_name));
    commands
}

/// A command by the name COMMAND INFO/DOCS take: `get`, or `config|get` for a subcommand.
/// Anything deeper, or a `|` after a command without subcommands, names nothing.
fn lookup_full_name(table: &CommandTable, name: &[u8]) -> Option<&'static Command> {
    let mut parts = name.split(|&b| b == b'|');
    let base = table.get(parts.next()?)?;
    match (parts.next(), parts.next()) {
        (None, _) => Some(base),
        (Some(sub), None) => base.subcommand(sub),
        (Some(_), Some(_)) => None,
    }
}

/// The command a full command line runs: the container's subcommand when there is one.
fn lookup_command_line(table: &CommandTable, argv: &[Bytes]) -> Option<&'static Command> {
    let base = table.get(argv.first()?)?;
    match argv.get(1) {
        Some(sub) if !base.subcommands.is_empty() => base.subcommand(sub),
        _ => Some(base),
    }
}

fn acl_category_by_name(name: &[u8]) -> Option<u32> {
    AclCategory::ALL
        .iter()
        .find(|c| c.name().as_bytes().eq_ignore_ascii_case(name))
        .map(|c| c.bit())
}

// ---------------------------------------------------------------------------------------------
// COMMAND GETKEYS: the keys `command::find_keys` finds, or Redis's errors.

/// The inner command line and its keys, or the error COMMAND GETKEYS answers with.
fn keys_of_command_line<'a>(
    table: &CommandTable,
    argv: &'a [Bytes],
) -> Result<(&'a [Bytes], Vec<KeyRef>), CommandError> {
    let command = lookup_command_line(table, argv).ok_or(CommandError::msg(INVALID_COMMAND))?;
    if !has_key_specs(&command.spec) && command.spec.getkeys.is_none() {
        return Err(CommandError::msg(NO_KEY_ARGUMENTS));
    }
    if !command.spec.arity.accepts(argv.len()) {
        return Err(CommandError::msg(INVALID_ARGUMENT_COUNT));
    }
    // "Cannot tell" and "no keys" answer alike here, as in Redis.
    let keys = find_keys(command, argv).unwrap_or_default();
    if keys.is_empty() && !command.has(Flag::NoMandatoryKeys) {
        return Err(CommandError::msg(INVALID_ARGUMENTS));
    }
    Ok((argv, keys))
}

#[cfg(test)]
mod tests;
