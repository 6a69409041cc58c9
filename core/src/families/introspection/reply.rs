//! The reply builders of COMMAND INFO and COMMAND DOCS: a registered command as the nested
//! maps, sets and arrays Redis 7.0 sends (RESP2 flattens them).

use bytes::Bytes;
use oxidis_protocol::Frame;

use crate::command::{
    AclCategory, Arg, ArgKind, BeginSearch, Command, FindKeys, Flag, KeyFlag, KeySpec,
};

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
pub(super) fn info_reply(c: &Command) -> Frame {
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

pub(super) fn key_flags_reply(bits: u16) -> Frame {
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
pub(super) fn docs_reply(c: &Command, modules: &crate::modules::Modules) -> Frame {
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
    // A module command names its module, as Redis's `moduleNameFromCommand`.
    if let Some(owner) = modules.owner_of(&c.full_name) {
        map.push(field("module", Frame::bulk(owner)));
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
            .map(|s| (Frame::bulk(&s.full_name), docs_reply(s, modules)))
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
