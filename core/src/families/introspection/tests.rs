//! Unit tests of COMMAND, with wire texts checked against Redis 7.0.15 in both protocols.

use bytes::BytesMut;
use oxidis_protocol::RespVersion;

use super::*;
use crate::client::{Client, Peer};
use crate::command::{BeginSearch, FindKeys, Flag::*, KeyFlag::*, KeySpec, keys};
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
            "COMMAND", "GETKEYS", "sort", "abc", "store", "invalid", "store", "stillbad", "store",
            "def"
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
