//! COMMAND and its subcommands: what the server says about its own command table (INFO, DOCS,
//! COUNT, LIST, GETKEYS, GETKEYSANDFLAGS, HELP). Everything here reads `ctx.server.table`; the
//! reply shapes follow Redis 7.0 (maps and sets that RESP2 flattens to arrays).

use bytes::Bytes;
use oxidis_protocol::Frame;

use crate::command::{
    AclCategory, Arg, ArgKind, Args, Arity, BeginSearch, Command, CommandResult, CommandSpec,
    CommandTable, Family, FindKeys, Flag, Group, KeyFlag, KeyRef, KeySpec, find_keys,
    has_key_specs,
};
use crate::context::CommandContext;
use crate::errors::CommandError;
use crate::errors::introspection::{
    INVALID_ARGUMENT_COUNT, INVALID_ARGUMENTS, INVALID_COMMAND, NO_KEY_ARGUMENTS,
};
use crate::families::help_reply;
use crate::glob::{Case, glob_match};

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
    let count = i64::try_from(ctx.server.table.len()).unwrap_or(i64::MAX);
    Ok(Frame::Integer(count))
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
            .map(|c| (Frame::bulk(&c.full_name), docs_reply(c)))
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
    Module,
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
            ListFilter::Module
        } else if kind.eq_ignore_ascii_case(b"ACLCAT") {
            ListFilter::AclCategory(acl_category_by_name(value))
        } else if kind.eq_ignore_ascii_case(b"PATTERN") {
            ListFilter::Pattern(value)
        } else {
            return Err(CommandError::Syntax);
        });
    }
    let keep = |c: &Command| match &filter {
        None => true,
        // TODO(#modules): the table does not record which module registered a command, and
        // no module can be loaded yet, so no command belongs to any named module.
        Some(ListFilter::Module) => false,
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
// COMMAND INFO replies.

/// Command flags in the order Redis prints them. `may_replicate` and `protected` are never
/// shown, as in Redis.
const SHOWN_FLAGS: &[Flag] = &[
    Flag::Write,
    Flag::ReadOnly,
    Flag::DenyOom,
    Flag::Module,
    Flag::Admin,
    Flag::PubSub,
    Flag::NoScript,
    Flag::Blocking,
    Flag::Loading,
    Flag::Stale,
    Flag::SkipMonitor,
    Flag::SkipSlowlog,
    Flag::Fast,
    Flag::NoAuth,
    Flag::NoMandatoryKeys,
    Flag::NoAsyncLoading,
    Flag::NoMulti,
    Flag::MovableKeys,
    Flag::AllowBusy,
];

/// The ten-element description of one command (and, nested, of its subcommands).
fn info_reply(c: &Command) -> Frame {
    let (first_key, last_key, step) = c.legacy_keys;
    let flags = SHOWN_FLAGS
        .iter()
        .filter(|f| c.has(**f))
        .map(|f| Frame::simple_static(f.name()))
        .collect();
    let categories = AclCategory::in_set(c.acl_categories)
        .map(|cat| Frame::Simple(Bytes::from(format!("@{}", cat.name()))))
        .collect();
    let tips = c.spec.tips.iter().map(Frame::bulk).collect();
    let key_specs = c.spec.key_specs.iter().map(key_spec_reply).collect();
    // Redis answers an empty set, not an empty array, when there are no subcommands.
    let subcommands = if c.subcommands.is_empty() {
        Frame::Set(Vec::new())
    } else {
        Frame::Array(c.subcommands.iter().map(|s| info_reply(s)).collect())
    };
    Frame::Array(vec![
        Frame::bulk(&c.full_name),
        Frame::Integer(c.spec.arity.as_redis()),
        Frame::Set(flags),
        Frame::Integer(first_key),
        Frame::Integer(last_key),
        Frame::Integer(step),
        Frame::Set(categories),
        Frame::Set(tips),
        Frame::Set(key_specs),
        subcommands,
    ])
}

fn key_flags_reply(bits: u16) -> Frame {
    Frame::Set(
        KeyFlag::in_set(bits)
            .map(|f| Frame::simple_static(f.name()))
            .collect(),
    )
}

fn key_spec_reply(spec: &KeySpec) -> Frame {
    let int = |n: i32| Frame::Integer(i64::from(n));
    let (begin_type, begin_spec) = match spec.begin {
        BeginSearch::Index(pos) => ("index", vec![field("index", int(pos))]),
        BeginSearch::Keyword {
            keyword,
            start_from,
        } => (
            "keyword",
            vec![
                field("keyword", Frame::bulk(keyword)),
                field("startfrom", int(start_from)),
            ],
        ),
        BeginSearch::Unknown => ("unknown", Vec::new()),
    };
    let (find_type, find_spec) = match spec.find {
        FindKeys::Range {
            last_key,
            step,
            limit,
        } => (
            "range",
            vec![
                field("lastkey", int(last_key)),
                field("keystep", int(step)),
                field("limit", int(limit)),
            ],
        ),
        FindKeys::KeyNum {
            key_num_index,
            first_key,
            step,
        } => (
            "keynum",
            vec![
                field("keynumidx", int(key_num_index)),
                field("firstkey", int(first_key)),
                field("keystep", int(step)),
            ],
        ),
        FindKeys::Unknown => ("unknown", Vec::new()),
    };
    let typed = |kind: &str, spec: Vec<(Frame, Frame)>| {
        Frame::Map(vec![
            field("type", Frame::bulk(kind)),
            field("spec", Frame::Map(spec)),
        ])
    };
    Frame::Map(vec![
        field("flags", key_flags_reply(spec.flags)),
        field("begin_search", typed(begin_type, begin_spec)),
        field("find_keys", typed(find_type, find_spec)),
    ])
}

fn field(name: &str, value: Frame) -> (Frame, Frame) {
    (Frame::bulk(name), value)
}

// ---------------------------------------------------------------------------------------------
// COMMAND DOCS replies.

/// Commands Redis documents as internal (`syscmd`); the spec has no doc-flags field.
const SYSTEM_COMMANDS: &[&str] = &[
    "debug",
    "pfdebug",
    "pfselftest",
    "replconf",
    "restore-asking",
];

/// One command's docs map, fields in Redis's order; empty texts are left out as Redis leaves
/// out the missing docs of module commands.
fn docs_reply(c: &Command) -> Frame {
    let docs = &c.spec.docs;
    let mut map = Vec::with_capacity(8);
    if !docs.summary.is_empty() {
        map.push(field("summary", Frame::bulk(docs.summary)));
    }
    if !docs.since.is_empty() {
        map.push(field("since", Frame::bulk(docs.since)));
    }
    map.push(field("group", Frame::bulk(c.spec.group.name())));
    if !docs.complexity.is_empty() {
        map.push(field("complexity", Frame::bulk(docs.complexity)));
    }
    let mut doc_flags = Vec::new();
    if docs.deprecated_since.is_some() {
        doc_flags.push(Frame::simple_static("deprecated"));
    }
    if c.parent.is_none() && SYSTEM_COMMANDS.contains(&c.full_name.as_str()) {
        doc_flags.push(Frame::simple_static("syscmd"));
    }
    if !doc_flags.is_empty() {
        map.push(field("doc_flags", Frame::Set(doc_flags)));
    }
    if let Some(since) = docs.deprecated_since {
        map.push(field("deprecated_since", Frame::bulk(since)));
    }
    if let Some(replaced_by) = docs.replaced_by {
        map.push(field("replaced_by", Frame::bulk(replaced_by)));
    }
    if !docs.arguments.is_empty() {
        map.push(field("arguments", args_reply(docs.arguments)));
    }
    if !c.subcommands.is_empty() {
        let subs = c
            .subcommands
            .iter()
            .map(|s| (Frame::bulk(&s.full_name), docs_reply(s)))
            .collect();
        map.push(field("subcommands", Frame::Map(subs)));
    }
    Frame::Map(map)
}

fn args_reply(args: &[Arg]) -> Frame {
    Frame::Array(args.iter().map(arg_reply).collect())
}

fn arg_reply(arg: &Arg) -> Frame {
    let mut map = vec![
        field("name", Frame::bulk(arg.name)),
        field("type", Frame::bulk(arg.kind.name())),
    ];
    if let ArgKind::Key(index) = arg.kind {
        map.push(field("key_spec_index", Frame::Integer(i64::from(index))));
    }
    if let Some(token) = arg.token {
        map.push(field("token", Frame::bulk(token)));
    }
    if let Some(since) = arg.since {
        map.push(field("since", Frame::bulk(since)));
    }
    let flags: Vec<Frame> = [
        (arg.optional, "optional"),
        (arg.multiple, "multiple"),
        (arg.multiple_token, "multiple_token"),
    ]
    .into_iter()
    .filter(|(set, _)| *set)
    .map(|(_, name)| Frame::simple_static(name))
    .collect();
    if !flags.is_empty() {
        map.push(field("flags", Frame::Set(flags)));
    }
    if matches!(arg.kind, ArgKind::OneOf | ArgKind::Block) {
        map.push(field("arguments", args_reply(arg.children)));
    }
    Frame::Map(map)
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
mod tests {
    use bytes::BytesMut;
    use oxidis_protocol::RespVersion;

    use super::*;
    use crate::client::{Client, Peer};
    use crate::command::{Flag::*, KeyFlag::*, keys};
    use crate::config::Config;
    use crate::server::Server;
    use crate::testing::{CommandRunner, bulk, err, simple};

    fn noop(_ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
        Ok(Frame::ok())
    }

    // Specs transcribed from Redis 7.0's JSON, with our own summaries.
    const GET: CommandSpec = CommandSpec::new("get", Arity::Exact(2), noop)
        .flags(&[ReadOnly, Fast])
        .group(Group::String)
        .keys(&[KeySpec::single(1, &[Ro, Access])])
        .doc("Reads a string value.", "1.0.0", "O(1)")
        .args(&[Arg::key("key", 0)]);
    const SET: CommandSpec = CommandSpec::new("set", Arity::AtLeast(3), noop)
        .flags(&[Write, DenyOom])
        .group(Group::String)
        .keys(&[KeySpec::single(1, &[Rw, Access, Update, VariableFlags])])
        .key_finder(keys::set_keys);
    const MSET: CommandSpec = CommandSpec::new("mset", Arity::AtLeast(3), noop)
        .flags(&[Write, DenyOom])
        .group(Group::String)
        .keys(&[KeySpec::range(1, -1, 2, &[Ow, Update])]);
    const LEFT_RIGHT: &[Arg] = &[Arg::token("left", "LEFT"), Arg::token("right", "RIGHT")];
    const LMOVE: CommandSpec = CommandSpec::new("lmove", Arity::Exact(5), noop)
        .flags(&[Write, DenyOom])
        .group(Group::List)
        .keys(&[
            KeySpec::single(1, &[Rw, Access, Delete]),
            KeySpec::single(2, &[Rw, Insert]),
        ])
        .doc("Moves an element between lists.", "6.2.0", "O(1)")
        .args(&[
            Arg::key("source", 0),
            Arg::key("destination", 1),
            Arg::one_of("wherefrom", LEFT_RIGHT),
            Arg::one_of("whereto", LEFT_RIGHT),
        ]);
    const SORT: CommandSpec = CommandSpec::new("sort", Arity::AtLeast(2), noop)
        .flags(&[Write, DenyOom])
        .group(Group::Generic)
        .acl_only(&[
            AclCategory::Set,
            AclCategory::SortedSet,
            AclCategory::List,
            AclCategory::Dangerous,
        ])
        .keys(&[
            KeySpec::single(1, &[Ro, Access]),
            KeySpec::new(BeginSearch::Unknown, FindKeys::Unknown, &[Ro, Access]),
            KeySpec::new(BeginSearch::Unknown, FindKeys::Unknown, &[Ow, Update]),
        ])
        .key_finder(keys::sort_keys);
    const ZUNIONSTORE: CommandSpec = CommandSpec::new("zunionstore", Arity::AtLeast(4), noop)
        .flags(&[Write, DenyOom])
        .group(Group::SortedSet)
        .keys(&[
            KeySpec::single(1, &[Ow, Update]),
            KeySpec::new(
                BeginSearch::Index(2),
                FindKeys::KeyNum {
                    key_num_index: 0,
                    first_key: 1,
                    step: 1,
                },
                &[Ro, Access],
            ),
        ])
        .key_finder(keys::store_and_counted_keys);
    const EVAL: CommandSpec = CommandSpec::new("eval", Arity::AtLeast(3), noop)
        .flags(&[NoScript, SkipMonitor, MayReplicate, NoMandatoryKeys, Stale])
        .group(Group::Scripting)
        .keys(&[KeySpec::new(
            BeginSearch::Index(2),
            FindKeys::KeyNum {
                key_num_index: 0,
                first_key: 1,
                step: 1,
            },
            &[Rw, Access, Update],
        )])
        .key_finder(keys::counted_keys_at_2);
    const XREAD: CommandSpec = CommandSpec::new("xread", Arity::AtLeast(4), noop)
        .flags(&[ReadOnly, Blocking])
        .group(Group::Stream)
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
        .key_finder(keys::xread_keys);
    const MIGRATE: CommandSpec = CommandSpec::new("migrate", Arity::AtLeast(6), noop)
        .flags(&[Write])
        .group(Group::Generic)
        .acl(&[AclCategory::Dangerous])
        .keys(&[
            KeySpec::single(3, &[Rw, Access, Delete]),
            KeySpec::new(
                BeginSearch::Keyword {
                    keyword: "KEYS",
                    start_from: -2,
                },
                FindKeys::Range {
                    last_key: -1,
                    step: 1,
                    limit: 0,
                },
                &[Rw, Access, Delete, Incomplete],
            ),
        ])
        .key_finder(keys::migrate_keys);
    const SPUBLISH: CommandSpec = CommandSpec::new("spublish", Arity::Exact(3), noop)
        .flags(&[PubSub, Loading, Stale, Fast, MayReplicate])
        .group(Group::PubSub)
        .keys(&[KeySpec::single(1, &[NotKey])]);
    const MEMORY: CommandSpec = CommandSpec::container(
        "memory",
        &[CommandSpec::new("usage", Arity::AtLeast(3), noop)
            .flags(&[ReadOnly])
            .keys(&[KeySpec::single(2, &[Ro])])],
    )
    .group(Group::Server);
    const CONFIG: CommandSpec = CommandSpec::container(
        "config",
        &[CommandSpec::new("get", Arity::AtLeast(3), noop)
            .flags(&[Admin, NoScript, Loading, Stale])
            .doc("Reads configuration.", "2.0.0", "O(N)")
            .args(&[Arg::string("parameter").multiple()])],
    )
    .group(Group::Server);
    const SCRIPT: CommandSpec = CommandSpec::container(
        "script",
        &[CommandSpec::new("kill", Arity::Exact(2), noop).flags(&[NoScript, AllowBusy])],
    )
    .group(Group::Scripting);
    const GETSET: CommandSpec = CommandSpec::new("getset", Arity::Exact(3), noop)
        .flags(&[Write, DenyOom, Fast])
        .group(Group::String)
        .keys(&[KeySpec::single(1, &[Rw, Access, Update])])
        .doc("Swaps a string value.", "1.0.0", "O(1)")
        .deprecated("6.2.0", "`SET` with the `!GET` argument")
        .args(&[Arg::key("key", 0), Arg::string("value")]);

    const ALL: &[CommandSpec] = &[
        GET,
        SET,
        MSET,
        LMOVE,
        SORT,
        ZUNIONSTORE,
        EVAL,
        XREAD,
        MIGRATE,
        SPUBLISH,
        MEMORY,
        CONFIG,
        SCRIPT,
        GETSET,
    ];

    /// A runner over this family plus the specs above, and nothing else: the other families'
    /// real specs must not change what these tests see.
    fn runner() -> CommandRunner {
        let mut table = CommandTable::new();
        table.register_family(&FAMILY).unwrap();
        for spec in ALL {
            table.register(*spec).unwrap();
        }
        let mut server = Server::with_table(Config::default(), table);
        server.use_manual_clock(1_000_000);
        let client = server.connect_client(|id| Client::new(id, Peer::Internal, true, 1_000_000));
        CommandRunner { server, client }
    }

    /// The bytes a client would read, as text.
    fn wire(frame: &Frame, version: RespVersion) -> String {
        let mut out = BytesMut::new();
        oxidis_protocol::encode(frame, version, &mut out);
        String::from_utf8(out.to_vec()).unwrap()
    }

    /// Runs a command and returns its reply as RESP2 and RESP3 text.
    fn both(r: &mut CommandRunner, argv: &[&str]) -> (String, String) {
        let reply = r.run(argv);
        (
            wire(&reply, RespVersion::Resp2),
            wire(&reply, RespVersion::Resp3),
        )
    }

    fn bulks(items: &[&str]) -> Frame {
        Frame::Array(items.iter().map(|s| bulk(s)).collect())
    }

    fn key_with_flags(key: &str, flags: &[&str]) -> Frame {
        Frame::Array(vec![
            bulk(key),
            Frame::Set(flags.iter().map(|f| simple(f)).collect()),
        ])
    }

    // Wire texts captured from redis-server 7.0.15 (`\r\n` kept literal).
    const GET_SPEC_RESP2: &str = "*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n";

    #[test]
    fn info_of_a_single_key_command_matches_redis_in_both_protocols() {
        let mut r = runner();
        let (resp2, resp3) = both(&mut r, &["COMMAND", "INFO", "get"]);
        assert_eq!(
            resp2,
            format!(
                "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n{GET_SPEC_RESP2}*0\r\n"
            )
        );
        assert_eq!(
            resp3,
            "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n"
        );
    }

    #[test]
    fn info_of_keynum_and_keyword_specs_matches_redis() {
        let mut r = runner();
        let (_, resp3) = both(&mut r, &["COMMAND", "INFO", "ZUNIONSTORE"]);
        assert_eq!(
            resp3,
            "*1\r\n*10\r\n$11\r\nzunionstore\r\n:-4\r\n~3\r\n+write\r\n+denyoom\r\n+movablekeys\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@write\r\n+@sortedset\r\n+@slow\r\n~0\r\n~2\r\n%3\r\n$5\r\nflags\r\n~2\r\n+OW\r\n+update\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$6\r\nkeynum\r\n$4\r\nspec\r\n%3\r\n$9\r\nkeynumidx\r\n:0\r\n$8\r\nfirstkey\r\n:1\r\n$7\r\nkeystep\r\n:1\r\n~0\r\n"
        );
        let (resp2, _) = both(&mut r, &["COMMAND", "INFO", "xread"]);
        assert_eq!(
            resp2,
            "*1\r\n*10\r\n$5\r\nxread\r\n:-4\r\n*3\r\n+readonly\r\n+blocking\r\n+movablekeys\r\n:0\r\n:0\r\n:0\r\n*4\r\n+@read\r\n+@stream\r\n+@slow\r\n+@blocking\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$7\r\nkeyword\r\n$4\r\nspec\r\n*4\r\n$7\r\nkeyword\r\n$7\r\nSTREAMS\r\n$9\r\nstartfrom\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:-1\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:2\r\n*0\r\n"
        );
    }

    #[test]
    fn info_of_unknown_names_is_nil_in_place() {
        let mut r = runner();
        let (resp2, resp3) = both(&mut r, &["COMMAND", "INFO", "nosuch"]);
        assert_eq!(resp2, "*1\r\n$-1\r\n");
        assert_eq!(resp3, "*1\r\n_\r\n");
        // Only `container|sub` names a subcommand; deeper or misplaced bars name nothing.
        for name in [
            "get|key",
            "config|get|key",
            "get|",
            "|get",
            "",
            "config|nosuch",
        ] {
            assert_eq!(
                r.run(["COMMAND", "INFO", name]),
                Frame::Array(vec![Frame::Null]),
                "{name:?}"
            );
        }
        let reply = r.run(["command", "info", "CONFIG|GET", "nosuch", "get"]);
        let Frame::Array(items) = reply else {
            panic!("not an array")
        };
        assert_eq!(items.len(), 3);
        assert!(matches!(&items[0], Frame::Array(info) if info[0] == bulk("config|get")));
        assert_eq!(items[1], Frame::Null);
        assert!(matches!(&items[2], Frame::Array(info) if info[0] == bulk("get")));
    }

    #[test]
    fn info_of_a_container_nests_its_subcommands_as_an_array() {
        let mut r = runner();
        let reply = r.run(["COMMAND", "INFO", "config"]);
        let sub = Frame::Array(vec![
            bulk("config|get"),
            Frame::Integer(-3),
            Frame::Set(vec![
                simple("admin"),
                simple("noscript"),
                simple("loading"),
                simple("stale"),
            ]),
            Frame::Integer(0),
            Frame::Integer(0),
            Frame::Integer(0),
            Frame::Set(vec![
                simple("@admin"),
                simple("@slow"),
                simple("@dangerous"),
            ]),
            Frame::Set(vec![]),
            Frame::Set(vec![]),
            Frame::Set(vec![]),
        ]);
        let container = Frame::Array(vec![
            bulk("config"),
            Frame::Integer(-2),
            Frame::Set(vec![]),
            Frame::Integer(0),
            Frame::Integer(0),
            Frame::Integer(0),
            Frame::Set(vec![simple("@slow")]),
            Frame::Set(vec![]),
            Frame::Set(vec![]),
            Frame::Array(vec![sub]),
        ]);
        assert_eq!(reply, Frame::Array(vec![container]));
    }

    #[test]
    fn info_of_command_itself() {
        let mut r = runner();
        let Frame::Array(items) = r.run(["COMMAND", "INFO", "command"]) else {
            panic!("not an array")
        };
        let Frame::Array(info) = &items[0] else {
            panic!("no info")
        };
        assert_eq!(info[0], bulk("command"));
        assert_eq!(info[1], Frame::Integer(-1));
        assert_eq!(
            info[2],
            Frame::Set(vec![simple("loading"), simple("stale")])
        );
        assert_eq!(
            info[6],
            Frame::Set(vec![simple("@slow"), simple("@connection")])
        );
        assert_eq!(
            info[7],
            Frame::Set(vec![bulk("nondeterministic_output_order")])
        );
        let Frame::Array(subs) = &info[9] else {
            panic!("no subcommands")
        };
        let names: Vec<_> = subs
            .iter()
            .map(|s| match s {
                Frame::Array(i) => i[0].clone(),
                _ => Frame::Null,
            })
            .collect();
        assert_eq!(
            names,
            [
                "command|count",
                "command|docs",
                "command|getkeys",
                "command|getkeysandflags",
                "command|help",
                "command|info",
                "command|list",
            ]
            .map(bulk)
        );
    }

    #[test]
    fn movablekeys_follows_the_key_specs() {
        let mut r = runner();
        let flags_of = |r: &mut CommandRunner, name: &str| {
            let Frame::Array(items) = r.run(["COMMAND", "INFO", name]) else {
                panic!()
            };
            let Frame::Array(info) = &items[0] else {
                panic!()
            };
            info[2].clone()
        };
        for name in ["set", "get", "mset", "lmove", "memory|usage"] {
            let Frame::Set(flags) = flags_of(&mut r, name) else {
                panic!()
            };
            assert!(!flags.contains(&simple("movablekeys")), "{name}");
        }
        for name in ["zunionstore", "xread", "eval", "sort", "migrate"] {
            let Frame::Set(flags) = flags_of(&mut r, name) else {
                panic!()
            };
            assert!(flags.contains(&simple("movablekeys")), "{name}");
        }
    }

    #[test]
    fn command_alone_and_info_alone_describe_every_command() {
        let mut r = runner();
        let count = r.server.table.len();
        assert_eq!(
            r.run(["COMMAND", "COUNT"]),
            Frame::Integer(i64::try_from(count).unwrap())
        );
        let all = r.run(["COMMAND"]);
        assert_eq!(r.run(["COMMAND", "INFO"]), all);
        let Frame::Array(items) = all else { panic!() };
        assert_eq!(items.len(), count);
    }

    #[test]
    fn docs_match_redis_in_both_protocols() {
        let mut r = runner();
        let summary = "Reads a string value.";
        let (resp2, resp3) = both(&mut r, &["COMMAND", "DOCS", "get", "nosuch"]);
        assert_eq!(
            resp2,
            format!(
                "*2\r\n$3\r\nget\r\n*10\r\n$7\r\nsummary\r\n${}\r\n{summary}\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n*6\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n",
                summary.len()
            )
        );
        assert_eq!(
            resp3,
            format!(
                "%1\r\n$3\r\nget\r\n%5\r\n$7\r\nsummary\r\n${}\r\n{summary}\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n%3\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n",
                summary.len()
            )
        );
    }

    #[test]
    fn docs_of_nested_arguments_match_redis() {
        let mut r = runner();
        let summary = "Moves an element between lists.";
        let (_, resp3) = both(&mut r, &["COMMAND", "DOCS", "LMOVE"]);
        let side = "%3\r\n$4\r\nname\r\n$4\r\nleft\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$5\r\ntoken\r\n$4\r\nLEFT\r\n%3\r\n$4\r\nname\r\n$5\r\nright\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$5\r\ntoken\r\n$5\r\nRIGHT\r\n";
        assert_eq!(
            resp3,
            format!(
                "%1\r\n$5\r\nlmove\r\n%5\r\n$7\r\nsummary\r\n${}\r\n{summary}\r\n$5\r\nsince\r\n$5\r\n6.2.0\r\n$5\r\ngroup\r\n$4\r\nlist\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*4\r\n%3\r\n$4\r\nname\r\n$6\r\nsource\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n%3\r\n$4\r\nname\r\n$11\r\ndestination\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:1\r\n%3\r\n$4\r\nname\r\n$9\r\nwherefrom\r\n$4\r\ntype\r\n$5\r\noneof\r\n$9\r\narguments\r\n*2\r\n{side}%3\r\n$4\r\nname\r\n$7\r\nwhereto\r\n$4\r\ntype\r\n$5\r\noneof\r\n$9\r\narguments\r\n*2\r\n{side}",
                summary.len()
            )
        );
    }

    #[test]
    fn docs_of_subcommands_flags_and_deprecation() {
        let mut r = runner();
        let get_docs = Frame::Map(vec![
            (bulk("summary"), bulk("Reads configuration.")),
            (bulk("since"), bulk("2.0.0")),
            (bulk("group"), bulk("server")),
            (bulk("complexity"), bulk("O(N)")),
            (
                bulk("arguments"),
                Frame::Array(vec![Frame::Map(vec![
                    (bulk("name"), bulk("parameter")),
                    (bulk("type"), bulk("string")),
                    (bulk("flags"), Frame::Set(vec![simple("multiple")])),
                ])]),
            ),
        ]);
        assert_eq!(
            r.run(["COMMAND", "DOCS", "config|get"]),
            Frame::Map(vec![(bulk("config|get"), get_docs.clone())])
        );
        let Frame::Map(docs) = r.run(["COMMAND", "DOCS", "config"]) else {
            panic!()
        };
        let Frame::Map(fields) = &docs[0].1 else {
            panic!()
        };
        assert_eq!(
            fields.last().unwrap(),
            &(
                bulk("subcommands"),
                Frame::Map(vec![(bulk("config|get"), get_docs)])
            )
        );
        let Frame::Map(docs) = r.run(["COMMAND", "DOCS", "getset"]) else {
            panic!()
        };
        let Frame::Map(fields) = &docs[0].1 else {
            panic!()
        };
        let names: Vec<_> = fields.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(
            names,
            [
                "summary",
                "since",
                "group",
                "complexity",
                "doc_flags",
                "deprecated_since",
                "replaced_by",
                "arguments"
            ]
            .map(bulk)
        );
        assert_eq!(fields[4].1, Frame::Set(vec![simple("deprecated")]));
        assert_eq!(fields[5].1, bulk("6.2.0"));
        // The sorted-set group is spelled with a dash.
        let Frame::Map(docs) = r.run(["COMMAND", "DOCS", "zunionstore"]) else {
            panic!()
        };
        let Frame::Map(fields) = &docs[0].1 else {
            panic!()
        };
        assert!(fields.contains(&(bulk("group"), bulk("sorted-set"))));
    }

    #[test]
    fn docs_of_command_list_show_a_tokened_oneof() {
        let mut r = runner();
        let Frame::Map(docs) = r.run(["COMMAND", "DOCS", "command|list"]) else {
            panic!()
        };
        let Frame::Map(fields) = &docs[0].1 else {
            panic!()
        };
        let resp3 = wire(&fields.last().unwrap().1, RespVersion::Resp3);
        assert_eq!(
            resp3,
            "*1\r\n%5\r\n$4\r\nname\r\n$8\r\nfilterby\r\n$4\r\ntype\r\n$5\r\noneof\r\n$5\r\ntoken\r\n$8\r\nFILTERBY\r\n$5\r\nflags\r\n~1\r\n+optional\r\n$9\r\narguments\r\n*3\r\n%3\r\n$4\r\nname\r\n$11\r\nmodule-name\r\n$4\r\ntype\r\n$6\r\nstring\r\n$5\r\ntoken\r\n$6\r\nMODULE\r\n%3\r\n$4\r\nname\r\n$8\r\ncategory\r\n$4\r\ntype\r\n$6\r\nstring\r\n$5\r\ntoken\r\n$6\r\nACLCAT\r\n%3\r\n$4\r\nname\r\n$7\r\npattern\r\n$4\r\ntype\r\n$7\r\npattern\r\n$5\r\ntoken\r\n$7\r\nPATTERN\r\n"
        );
    }

    #[test]
    fn docs_without_names_cover_every_command() {
        let mut r = runner();
        let Frame::Map(docs) = r.run(["COMMAND", "DOCS"]) else {
            panic!()
        };
        assert_eq!(docs.len(), r.server.table.len());
    }

    #[test]
    fn getkeys_follows_the_key_specs() {
        let mut r = runner();
        assert_eq!(r.run(["COMMAND", "GETKEYS", "get", "key"]), bulks(&["key"]));
        assert_eq!(
            r.run(["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"]),
            bulks(&["a", "b"])
        );
        assert_eq!(
            r.run(["COMMAND", "GETKEYS", "memory", "usage", "key"]),
            bulks(&["key"])
        );
        assert_eq!(
            r.run(["COMMAND", "GETKEYS", "eval", "return 1", "1", "key"]),
            bulks(&["key"])
        );
        assert_eq!(
            r.run([
                "COMMAND", "GETKEYS", "xread", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"
            ]),
            bulks(&["s1", "s2"])
        );
        let mut argv = vec!["COMMAND", "GETKEYS", "ZUNIONSTORE", "target", "260"];
        let names: Vec<String> = (1..=260).map(|i| format!("key{i}")).collect();
        argv.extend(names.iter().map(String::as_str));
        let mut expected = vec!["target"];
        expected.extend(names.iter().map(String::as_str));
        assert_eq!(r.run(argv), bulks(&expected));
    }

    #[test]
    fn getkeys_falls_back_to_the_command_own_finder() {
        let mut r = runner();
        // EVAL with no keys: the specs fail, the finder finds none, and keys are optional.
        assert_eq!(
            r.run(["COMMAND", "GETKEYS", "eval", "return 1", "0"]),
            Frame::Array(vec![])
        );
        assert_eq!(
            r.run(["COMMAND", "GETKEYS", "sort", "abc", "store", "def"]),
            bulks(&["abc", "def"])
        );
        assert_eq!(
            r.run([
                "COMMAND", "GETKEYS", "sort", "abc", "store", "invalid", "store", "stillbad",
                "store", "def"
            ]),
            bulks(&["abc", "def"])
        );
        assert_eq!(
            r.run([
                "COMMAND", "GETKEYS", "sort", "abc", "LIMIT", "0", "1", "GET", "store"
            ]),
            bulks(&["abc"])
        );
        assert_eq!(
            r.run(["COMMAND", "GETKEYS", "migrate", "h", "6379", "k", "0", "5"]),
            bulks(&["k"])
        );
        assert_eq!(
            r.run([
                "COMMAND", "GETKEYS", "migrate", "h", "6379", "", "0", "5", "AUTH", "keys", "KEYS",
                "a", "b"
            ]),
            bulks(&["a", "b"])
        );
        // A key in the key position together with KEYS is the command's syntax error.
        assert_eq!(
            r.run([
                "COMMAND", "GETKEYS", "migrate", "h", "6379", "k", "0", "5", "KEYS", "a"
            ]),
            err(INVALID_ARGUMENTS)
        );
    }

    #[test]
    fn getkeysandflags_reports_each_key_flags() {
        let mut r = runner();
        assert_eq!(
            r.run(["COMMAND", "GETKEYSANDFLAGS", "set", "k1", "v1"]),
            Frame::Array(vec![key_with_flags("k1", &["OW", "update"])])
        );
        assert_eq!(
            r.run(["COMMAND", "GETKEYSANDFLAGS", "set", "k1", "v1", "nx", "GET"]),
            Frame::Array(vec![key_with_flags("k1", &["RW", "access", "update"])])
        );
        assert_eq!(
            r.run(["COMMAND", "GETKEYSANDFLAGS", "mset", "k1", "v1", "k2", "v2"]),
            Frame::Array(vec![
                key_with_flags("k1", &["OW", "update"]),
                key_with_flags("k2", &["OW", "update"])
            ])
        );
        let (_, resp3) = both(
            &mut r,
            &[
                "COMMAND",
                "GETKEYSANDFLAGS",
                "LMOVE",
                "k1",
                "k2",
                "left",
                "right",
            ],
        );
        assert_eq!(
            resp3,
            "*2\r\n*2\r\n$2\r\nk1\r\n~3\r\n+RW\r\n+access\r\n+delete\r\n*2\r\n$2\r\nk2\r\n~2\r\n+RW\r\n+insert\r\n"
        );
        assert_eq!(
            r.run(["COMMAND", "GETKEYSANDFLAGS", "sort", "k1", "store", "k2"]),
            Frame::Array(vec![
                key_with_flags("k1", &["RO", "access"]),
                key_with_flags("k2", &["OW", "update"])
            ])
        );
    }

    #[test]
    fn getkeys_errors_are_redis_texts() {
        let mut r = runner();
        assert_eq!(
            r.run(["COMMAND", "GETKEYS", "nosuch", "x"]),
            err("ERR Invalid command specified")
        );
        assert_eq!(
            r.run(["COMMAND", "GETKEYS", "config", "nosuch"]),
            err("ERR Invalid command specified")
        );
        assert_eq!(
            r.run(["COMMAND", "GETKEYS", "config", "get"]),
            err("ERR The command has no key arguments")
        );
        assert_eq!(
            r.run(["COMMAND", "GETKEYS", "spublish", "c", "m"]),
            err("ERR The command has no key arguments")
        );
        assert_eq!(
            r.run(["COMMAND", "GETKEYS", "get", "a", "b"]),
            err("ERR Invalid number of arguments specified for command")
        );
        assert_eq!(
            r.run(["COMMAND", "GETKEYS", "zunionstore", "t", "0"]),
            err("ERR Invalid number of arguments specified for command")
        );
        assert_eq!(
            r.run(["COMMAND", "GETKEYS", "zunionstore", "t", "0", "a"]),
            err("ERR Invalid arguments specified for command")
        );
        assert_eq!(
            r.run(["COMMAND", "GETKEYS", "zunionstore", "t", "x", "a"]),
            err("ERR Invalid arguments specified for command")
        );
        assert_eq!(
            r.run(["COMMAND", "GETKEYS", "get"]),
            err("ERR wrong number of arguments for 'command|getkeys' command")
        );
    }

    #[test]
    fn list_without_filter_names_commands_then_their_subcommands() {
        let mut r = runner();
        let Frame::Array(names) = r.run(["COMMAND", "LIST"]) else {
            panic!()
        };
        let at = |n: &str| names.iter().position(|x| *x == bulk(n)).unwrap();
        assert_eq!(at("config") + 1, at("config|get"));
        assert!(names.contains(&bulk("set")));
        assert!(names.contains(&bulk("command|list")));
    }

    #[test]
    fn list_filters_by_acl_category_pattern_and_module() {
        let mut r = runner();
        assert_eq!(
            r.run(["COMMAND", "LIST", "FILTERBY", "aclcat", "scripting"]),
            bulks(&["eval", "script", "script|kill"])
        );
        assert_eq!(
            r.run([
                "COMMAND",
                "LIST",
                "filterby",
                "ACLCAT",
                "non_existing_category"
            ]),
            bulks(&[])
        );
        assert_eq!(
            r.run(["COMMAND", "LIST", "FILTERBY", "PATTERN", "set"]),
            bulks(&["set"])
        );
        assert_eq!(
            r.run(["COMMAND", "LIST", "FILTERBY", "PATTERN", "CONFIG*"]),
            bulks(&["config", "config|get"])
        );
        assert_eq!(
            r.run(["COMMAND", "LIST", "FILTERBY", "PATTERN", "co*|*s"]),
            bulks(&["command|docs", "command|getkeys", "command|getkeysandflags"])
        );
        assert_eq!(
            r.run(["COMMAND", "LIST", "FILTERBY", "PATTERN", "non_exists*"]),
            bulks(&[])
        );
        assert_eq!(
            r.run([
                "COMMAND",
                "LIST",
                "FILTERBY",
                "MODULE",
                "non_existing_module"
            ]),
            bulks(&[])
        );
    }

    #[test]
    fn list_refuses_anything_but_one_complete_filter() {
        let mut r = runner();
        for argv in [
            &["COMMAND", "LIST", "bad_arg"][..],
            &["COMMAND", "LIST", "FILTERBY"],
            &["COMMAND", "LIST", "FILTERBY", "bad_arg"],
            &["COMMAND", "LIST", "FILTERBY", "bad_arg", "bad_arg2"],
            &["COMMAND", "LIST", "FILTERBY", "PATTERN", "a", "b"],
        ] {
            assert_eq!(r.run(argv), err("ERR syntax error"), "{argv:?}");
        }
    }

    #[test]
    fn subcommand_routing_errors() {
        let mut r = runner();
        assert_eq!(
            r.run(["COMMAND", "foo"]),
            err("ERR unknown subcommand 'foo'. Try COMMAND HELP.")
        );
        assert_eq!(
            r.run(["COMMAND", "COUNT", "x"]),
            err("ERR wrong number of arguments for 'command|count' command")
        );
        assert_eq!(
            r.run(["COMMAND", "HELP", "x"]),
            err("ERR wrong number of arguments for 'command|help' command")
        );
    }

    #[test]
    fn help_lists_the_subcommands() {
        let mut r = runner();
        let Frame::Array(lines) = r.run(["command", "help"]) else {
            panic!()
        };
        assert_eq!(lines.len(), 21);
        assert_eq!(
            lines[0],
            simple("COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        );
        assert_eq!(lines[19], simple("HELP"));
        assert_eq!(lines[20], simple("    Prints this help."));
    }

    #[test]
    fn own_family_registers_and_routes_through_dispatch() {
        let mut r = CommandRunner::with_builtin_commands();
        let count = i64::try_from(r.server.table.len()).unwrap();
        assert_eq!(r.run(["command", "count"]), Frame::Integer(count));
        assert_eq!(
            r.run(["COMMAND", "GETKEYS", "command", "count"]),
            err("ERR The command has no key arguments")
        );
    }
}
