//! Connection commands: PING, ECHO, QUIT, RESET, SELECT, HELLO, AUTH and the CLIENT container.
//!
//! These act on the calling [`Client`] (name, database, protocol, authentication, reply mode)
//! or, for CLIENT LIST and CLIENT KILL, on the whole client registry. The core never sees a
//! socket: QUIT and killing oneself set `close_after_reply`, killing another client goes through
//! its [`ConnectionHandle`](crate::client::ConnectionHandle), and CLIENT REPLY only records the
//! mode; the server crate carries these out after the command returns.
//!
//! Authentication knows one user, `default`, whose password is `requirepass` (no password:
//! any password is accepted, as for Redis's `nopass` default user).

use bytes::Bytes;
use oxidis_protocol::{Frame, RespVersion};

use crate::REDIS_VERSION;
use crate::client::{Client, ClientId, Peer, ReplyMode};
use crate::command::{
    Arg, Args, Arity, CommandResult, CommandSpec, Family, Flag::*, Group, parse_i64,
};
use crate::context::CommandContext;
use crate::errors::connection::{
    CLIENT_ID_NOT_POSITIVE, CLIENT_NAME_INVALID, HELLO_NOAUTH, INT_OUT_OF_RANGE, INVALID_CLIENT_ID,
    NO_SUCH_CLIENT, NOPROTO, PROTOVER_NOT_INTEGER, UNBLOCK_REASON, hello_syntax, no_such_user,
    unknown_client_type,
};
use crate::errors::{
    AUTH_NOT_CONFIGURED, CommandError, DB_INDEX_OUT_OF_RANGE, NOT_AN_INTEGER, WRONG_PASS,
    subcommand_syntax,
};
use crate::families::help_reply;

/// The only ACL user there is until ACLs arrive.
const DEFAULT_USER: &[u8] = b"default";

/// The connection family; `families::BUILTIN` lists it.
pub static FAMILY: Family = Family {
    group: Group::Connection,
    commands: &[
        CommandSpec::new("ping", Arity::AtLeast(1), ping)
            .flags(&[Fast])
            .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
            .doc("Answers PONG, or echoes its argument.", "1.0.0", "O(1)")
            .args(&[Arg::string("message").optional()]),
        CommandSpec::new("echo", Arity::Exact(2), echo)
            .flags(&[Loading, Stale, Fast])
            .doc("Answers with its argument.", "1.0.0", "O(1)")
            .args(&[Arg::string("message")]),
        CommandSpec::new("quit", Arity::AtLeast(1), quit)
            .flags(&[AllowBusy, NoScript, Loading, Stale, Fast, NoAuth])
            .doc("Closes the connection after replying.", "1.0.0", "O(1)"),
        CommandSpec::new("reset", Arity::Exact(1), reset)
            .flags(&[NoScript, Loading, Stale, Fast, NoAuth, AllowBusy])
            .doc(
                "Returns the connection to the state of a new one.",
                "6.2.0",
                "O(1)",
            ),
        CommandSpec::new("select", Arity::Exact(2), select)
            .flags(&[Loading, Stale, Fast])
            .doc("Switches the connection's database.", "1.0.0", "O(1)")
            .args(&[Arg::integer("index")]),
        CommandSpec::new("hello", Arity::AtLeast(1), hello)
            .flags(&[NoScript, Loading, Stale, Fast, NoAuth, AllowBusy])
            .doc(
                "Chooses the protocol, optionally authenticates and names the connection.",
                "6.0.0",
                "O(1)",
            )
            .args(HELLO_ARGS),
        CommandSpec::new("auth", Arity::AtLeast(2), auth)
            .flags(&[NoScript, Loading, Stale, Fast, NoAuth, AllowBusy])
            .doc(
                "Authenticates the connection.",
                "1.0.0",
                "O(N) where N is the number of passwords defined for the user",
            )
            .args(&[
                Arg::string("username").optional().since("6.0.0"),
                Arg::string("password"),
            ]),
        // The container itself has no ACL category but @slow, as in Redis.
        CommandSpec::container("client", CLIENT_SUBCOMMANDS)
            .acl_only(&[])
            .doc(
                "A container for client connection commands.",
                "2.4.0",
                "Depends on subcommand.",
            ),
    ],
};

static HELLO_ARGS: &[Arg] = &[Arg::block(
    "arguments",
    &[
        Arg::integer("protover"),
        Arg::block(
            "username_password",
            &[Arg::string("username"), Arg::string("password")],
        )
        .with_token("AUTH")
        .optional(),
        Arg::string("clientname").with_token("SETNAME").optional(),
    ],
)
.optional()];

static CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("id", Arity::Exact(2), client_id)
        .flags(&[NoScript, Loading, Stale])
        .doc("Returns the connection's id.", "5.0.0", "O(1)"),
    CommandSpec::new("setname", Arity::Exact(3), client_setname)
        .flags(&[NoScript, Loading, Stale])
        .doc("Names the connection.", "2.6.9", "O(1)")
        .args(&[Arg::string("connection-name")]),
    CommandSpec::new("getname", Arity::Exact(2), client_getname)
        .flags(&[NoScript, Loading, Stale])
        .doc("Returns the connection's name.", "2.6.9", "O(1)"),
    CommandSpec::new("info", Arity::Exact(2), client_info)
        .flags(&[NoScript, Loading, Stale])
        .tips(&["nondeterministic_output"])
        .doc("Describes the calling connection.", "6.2.0", "O(1)"),
    CommandSpec::new("list", Arity::AtLeast(2), client_list)
        .flags(&[Admin, NoScript, Loading, Stale])
        .tips(&["nondeterministic_output"])
        .doc(
            "Describes the connected clients.",
            "2.4.0",
            "O(N) where N is the number of client connections",
        )
        .args(CLIENT_LIST_ARGS),
    CommandSpec::new("kill", Arity::AtLeast(3), client_kill)
        .flags(&[Admin, NoScript, Loading, Stale])
        .doc(
            "Closes the connections that match a filter.",
            "2.4.0",
            "O(N) where N is the number of client connections",
        )
        .args(CLIENT_KILL_ARGS),
    CommandSpec::new("no-evict", Arity::Exact(3), client_no_evict)
        .flags(&[Admin, NoScript, Loading, Stale])
        .doc(
            "Protects the connection from client eviction.",
            "7.0.0",
            "O(1)",
        )
        .args(&[Arg::one_of(
            "enabled",
            &[Arg::token("on", "ON"), Arg::token("off", "OFF")],
        )]),
    CommandSpec::new("reply", Arity::Exact(3), client_reply)
        .flags(&[NoScript, Loading, Stale])
        .doc(
            "Turns the connection's replies on, off, or off for one command.",
            "3.2.0",
            "O(1)",
        )
        .args(&[Arg::one_of(
            "on_off_skip",
            &[
                Arg::token("on", "ON"),
                Arg::token("off", "OFF"),
                Arg::token("skip", "SKIP"),
            ],
        )]),
    CommandSpec::new("getredir", Arity::Exact(2), client_getredir)
        .flags(&[NoScript, Loading, Stale])
        .doc(
            "Returns the id tracking notifications are redirected to.",
            "6.0.0",
            "O(1)",
        ),
    CommandSpec::new("trackinginfo", Arity::Exact(2), client_trackinginfo)
        .flags(&[NoScript, Loading, Stale])
        .doc(
            "Describes the connection's client-side caching state.",
            "6.2.0",
            "O(1)",
        ),
    CommandSpec::new("unblock", Arity::AtLeast(3), client_unblock)
        .flags(&[Admin, NoScript, Loading, Stale])
        .doc(
            "Wakes a client blocked in a blocking command.",
            "5.0.0",
            "O(log N) where N is the number of client connections",
        )
        .args(&[
            Arg::integer("client-id"),
            Arg::one_of(
                "timeout_error",
                &[
                    Arg::token("timeout", "TIMEOUT"),
                    Arg::token("error", "ERROR"),
                ],
            )
            .optional(),
        ]),
    CommandSpec::new("help", Arity::Exact(2), client_help)
        .flags(&[Loading, Stale])
        .doc("Lists the CLIENT subcommands.", "5.0.0", "O(1)"),
];

static CLIENT_TYPES: &[Arg] = &[
    Arg::token("normal", "normal"),
    Arg::token("master", "master"),
    Arg::token("replica", "replica"),
    Arg::token("pubsub", "pubsub"),
];

static CLIENT_LIST_ARGS: &[Arg] = &[
    Arg::one_of("normal_master_replica_pubsub", CLIENT_TYPES)
        .with_token("TYPE")
        .optional()
        .since("5.0.0"),
    Arg::block("id", &[Arg::integer("client-id").multiple()])
        .with_token("ID")
        .optional()
        .since("6.2.0"),
];

static CLIENT_KILL_ARGS: &[Arg] = &[Arg::one_of(
    "filter",
    &[
        Arg::string("ip:port"),
        Arg::one_of(
            "new-format",
            &[
                Arg::integer("client-id")
                    .with_token("ID")
                    .optional()
                    .since("2.8.12"),
                Arg::one_of(
                    "normal_master_slave_pubsub",
                    &[
                        Arg::token("normal", "normal"),
                        Arg::token("master", "master").since("3.2.0"),
                        Arg::token("slave", "slave"),
                        Arg::token("replica", "replica").since("5.0.0"),
                        Arg::token("pubsub", "pubsub"),
                    ],
                )
                .with_token("TYPE")
                .optional()
                .since("2.8.12"),
                Arg::string("username").with_token("USER").optional(),
                Arg::string("ip:port").with_token("ADDR").optional(),
                Arg::string("ip:port")
                    .with_token("LADDR")
                    .optional()
                    .since("6.2.0"),
                Arg::string("yes/no").with_token("SKIPME").optional(),
            ],
        )
        .multiple(),
    ],
)];

fn ping(_ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    // TODO(#pubsub): a RESP2 client in subscribed mode gets ["pong", msg-or-""] instead.
    match args.rest() {
        [] => Ok(Frame::simple_static("PONG")),
        [message] => Ok(Frame::Bulk(message.clone())),
        _ => Err(CommandError::WrongArity {
            command: "ping".to_string(),
        }),
    }
}

fn echo(_ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    Ok(Frame::Bulk(args.next_bytes()?.clone()))
}

fn quit(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    ctx.client().close_after_reply = true;
    Ok(Frame::ok())
}

fn reset(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    // TODO(#transactions, #pubsub): also discard MULTI, unsubscribe everything, stop tracking.
    let authenticated = !requires_password(ctx);
    ctx.select(0);
    let client = ctx.client();
    client.resp = RespVersion::Resp2;
    client.name = None;
    client.authenticated = authenticated;
    // Redis clears OFF and SKIP-next but not the skip of the running command, so a RESET right
    // after CLIENT REPLY SKIP still has its reply dropped.
    if client.reply_mode != ReplyMode::Skip {
        client.reply_mode = ReplyMode::On;
    }
    Ok(Frame::simple_static("RESET"))
}

fn select(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let index = args.next_i64()?;
    // Redis reads the index as a C int first, with its own out-of-range text.
    if i32::try_from(index).is_err() {
        return Err(CommandError::msg(INT_OUT_OF_RANGE));
    }
    let index = usize::try_from(index)
        .ok()
        .filter(|&i| i < ctx.server.dbs.len())
        .ok_or(CommandError::msg(DB_INDEX_OUT_OF_RANGE))?;
    ctx.select(index);
    Ok(Frame::ok())
}

/// HELLO [protover [AUTH user pass] [SETNAME name]]: options apply in order, so a SETNAME
/// before a failing AUTH has already renamed the client, as in Redis.
fn hello(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let mut protocol = None;
    if let Some(arg) = args.peek() {
        args.next_bytes()?;
        let version = parse_i64(arg).map_err(|_| CommandError::msg(PROTOVER_NOT_INTEGER))?;
        protocol = Some(match version {
            2 => RespVersion::Resp2,
            3 => RespVersion::Resp3,
            _ => return Err(CommandError::msg(NOPROTO)),
        });
    }
    while let Some(option) = args.peek() {
        args.next_bytes()?;
        if option.eq_ignore_ascii_case(b"AUTH") && args.remaining() >= 2 {
            let user = args.next_bytes()?;
            let password = args.next_bytes()?;
            if !credentials_match(ctx, user, password) {
                return Err(CommandError::msg(WRONG_PASS));
            }
            ctx.client().authenticated = true;
        } else if option.eq_ignore_ascii_case(b"SETNAME") && args.remaining() >= 1 {
            let name = args.next_bytes()?;
            set_client_name(ctx.client(), name)?;
        } else {
            return Err(CommandError::custom(hello_syntax(option)));
        }
    }
    let client = ctx.client();
    if !client.authenticated {
        return Err(CommandError::msg(HELLO_NOAUTH));
    }
    if let Some(protocol) = protocol {
        client.resp = protocol;
    }
    let proto = match client.resp {
        RespVersion::Resp2 => 2,
        RespVersion::Resp3 => 3,
    };
    let id = i64::try_from(client.id).unwrap_or(i64::MAX);
    let pair =
        |key: &'static str, value: Frame| (Frame::Bulk(Bytes::from_static(key.as_bytes())), value);
    let text = |value: &'static str| Frame::Bulk(Bytes::from_static(value.as_bytes()));
    // TODO(#replication, #cluster, #modules): role, mode and the module list are fixed for now.
    Ok(Frame::Map(vec![
        pair("server", text("redis")),
        pair("version", text(REDIS_VERSION)),
        pair("proto", Frame::Integer(proto)),
        pair("id", Frame::Integer(id)),
        pair("mode", text("standalone")),
        pair("role", text("master")),
        pair("modules", Frame::Array(Vec::new())),
    ]))
}

fn auth(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let (user, password) = match args.rest() {
        [password] => {
            // The one-argument form keeps its pre-ACL error when no password is set.
            if !requires_password(ctx) {
                return Err(CommandError::msg(AUTH_NOT_CONFIGURED));
            }
            (DEFAULT_USER, password.as_ref())
        }
        [user, password] => (user.as_ref(), password.as_ref()),
        _ => return Err(CommandError::Syntax),
    };
    if !credentials_match(ctx, user, password) {
        // A failed AUTH leaves an already authenticated client authenticated.
        return Err(CommandError::msg(WRONG_PASS));
    }
    ctx.client().authenticated = true;
    Ok(Frame::ok())
}

fn client_id(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    Ok(Frame::Integer(id_reply(ctx.client_id())))
}

fn client_setname(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let name = args.next_bytes()?;
    set_client_name(ctx.client(), name)?;
    Ok(Frame::ok())
}

fn client_getname(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    Ok(match &ctx.client().name {
        Some(name) => Frame::bulk(name),
        None => Frame::Null,
    })
}

fn client_info(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    let me = ctx.client_id();
    let mut text = String::new();
    if let Some(client) = ctx.server.clients.get(me) {
        push_info_line(&mut text, client, ctx);
    }
    Ok(verbatim(text))
}

/// CLIENT LIST [TYPE type | ID id...]: TYPE must be the only option, ID takes one or more ids.
fn client_list(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let mut text = String::new();
    let rest = args.rest();
    match rest {
        [] => {
            for client in ctx.server.clients.iter() {
                push_info_line(&mut text, client, ctx);
            }
        }
        [option, kind] if option.eq_ignore_ascii_case(b"TYPE") => {
            let kind = parse_client_kind(kind)?;
            for client in ctx.server.clients.iter() {
                if client_kind(client) == kind {
                    push_info_line(&mut text, client, ctx);
                }
            }
        }
        [option, ids @ ..] if option.eq_ignore_ascii_case(b"ID") && !ids.is_empty() => {
            let ids = ids
                .iter()
                .map(|id| parse_i64(id).map_err(|_| CommandError::msg(INVALID_CLIENT_ID)))
                .collect::<Result<Vec<i64>, CommandError>>()?;
            // Each id is listed as often as it is given; unknown ids are skipped.
            for id in ids {
                let found = u64::try_from(id)
                    .ok()
                    .and_then(|id| ctx.server.clients.get(id));
                if let Some(client) = found {
                    push_info_line(&mut text, client, ctx);
                }
            }
        }
        _ => return Err(CommandError::Syntax),
    }
    Ok(verbatim(text))
}

/// CLIENT KILL addr (old form: OK or "No such client", may kill the caller) or
/// CLIENT KILL option value ... (new form: the count killed; SKIPME defaults to yes).
fn client_kill(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let old_form = args.remaining() == 1;
    let filter = if old_form {
        KillFilter {
            addr: Some(args.next_bytes()?.clone()),
            skip_me: false,
            ..KillFilter::default()
        }
    } else {
        parse_kill_filter(args)?
    };
    let me = ctx.client_id();
    let victims: Vec<ClientId> = ctx
        .server
        .clients
        .iter()
        .filter(|c| filter.matches(c) && !(filter.skip_me && c.id == me))
        .map(|c| c.id)
        .collect();
    for &id in &victims {
        if let Some(client) = ctx.server.clients.get_mut(id) {
            // The caller's own reply still goes out first; others close at once.
            client.close_after_reply = true;
            if id != me
                && let Some(handle) = &client.handle
            {
                handle.close();
            }
        }
    }
    if old_form {
        if victims.is_empty() {
            Err(CommandError::msg(NO_SUCH_CLIENT))
        } else {
            Ok(Frame::ok())
        }
    } else {
        Ok(Frame::Integer(
            i64::try_from(victims.len()).unwrap_or(i64::MAX),
        ))
    }
}

fn client_no_evict(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let on = parse_on_off(args.next_bytes()?)?;
    ctx.client().no_evict = on;
    Ok(Frame::ok())
}

/// CLIENT REPLY ON|OFF|SKIP. The contract with the server crate, which drops replies: a reply
/// is not sent when `reply_mode` is not `On` once the command returns; after each command the
/// server moves `SkipNext` to `Skip` and `Skip` to `On` (Redis's `CLIENT_REPLY_SKIP_NEXT` and
/// `CLIENT_REPLY_SKIP`). So OFF and SKIP are silent themselves, and SKIP drops one more reply.
fn client_reply(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let mode = args.next_bytes()?;
    let client = ctx.client();
    if mode.eq_ignore_ascii_case(b"ON") {
        client.reply_mode = ReplyMode::On;
    } else if mode.eq_ignore_ascii_case(b"OFF") {
        client.reply_mode = ReplyMode::Off;
    } else if mode.eq_ignore_ascii_case(b"SKIP") {
        // SKIP while replies are off changes nothing (and stays silent).
        if client.reply_mode != ReplyMode::Off {
            client.reply_mode = ReplyMode::SkipNext;
        }
    } else {
        return Err(CommandError::Syntax);
    }
    Ok(Frame::ok())
}

fn client_getredir(_ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    // TODO(#tracking): the redirect id once CLIENT TRACKING exists; -1 means "not tracking".
    Ok(Frame::Integer(-1))
}

fn client_trackinginfo(_ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    // TODO(#tracking): report the real tracking state.
    Ok(Frame::Map(vec![
        (Frame::bulk("flags"), Frame::Set(vec![Frame::bulk("off")])),
        (Frame::bulk("redirect"), Frame::Integer(-1)),
        (Frame::bulk("prefixes"), Frame::Array(Vec::new())),
    ]))
}

fn client_unblock(_ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let rest = args.rest();
    let (id, reason) = match rest {
        [id] => (id, None),
        [id, reason] => (id, Some(reason)),
        _ => return Err(CommandError::custom(subcommand_syntax("CLIENT", "unblock"))),
    };
    // Redis checks the reason before the id.
    if let Some(reason) = reason
        && !reason.eq_ignore_ascii_case(b"TIMEOUT")
        && !reason.eq_ignore_ascii_case(b"ERROR")
    {
        return Err(CommandError::msg(UNBLOCK_REASON));
    }
    parse_i64(id).map_err(|_| CommandError::msg(NOT_AN_INTEGER))?;
    // TODO(#blocking): wake the client when blocking commands exist; nobody is blocked yet.
    Ok(Frame::Integer(0))
}

fn client_help(_ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    Ok(help_reply("CLIENT", CLIENT_HELP))
}

/// The CLIENT HELP body, line for line as Redis 7.0 prints it.
static CLIENT_HELP: &[&str] = &[
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
];

/// Whether `requirepass` is set (an empty one counts as none, as Redis reads it).
fn requires_password(ctx: &CommandContext<'_>) -> bool {
    ctx.config()
        .requirepass
        .as_ref()
        .is_some_and(|p| !p.is_empty())
}

/// Whether `user`/`password` log in: only `default` exists, and without `requirepass` it
/// takes any password.
fn credentials_match(ctx: &CommandContext<'_>, user: &[u8], password: &[u8]) -> bool {
    if user != DEFAULT_USER {
        return false;
    }
    match ctx.config().requirepass.as_deref() {
        Some(expected) if !expected.is_empty() => constant_time_eq(expected, password),
        _ => true,
    }
}

/// Compares without stopping at the first difference, so timing says little about the password.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

/// Sets or (with an empty name) clears the client's name; names stay printable ASCII without
/// spaces so CLIENT LIST lines split on spaces.
fn set_client_name(client: &mut Client, name: &[u8]) -> Result<(), CommandError> {
    if name.is_empty() {
        client.name = None;
        return Ok(());
    }
    if !name.iter().all(|b| (b'!'..=b'~').contains(b)) {
        return Err(CommandError::msg(CLIENT_NAME_INVALID));
    }
    client.name = Some(name.to_vec());
    Ok(())
}

fn id_reply(id: ClientId) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

fn parse_on_off(arg: &[u8]) -> Result<bool, CommandError> {
    if arg.eq_ignore_ascii_case(b"ON") {
        Ok(true)
    } else if arg.eq_ignore_ascii_case(b"OFF") {
        Ok(false)
    } else {
        Err(CommandError::Syntax)
    }
}

fn verbatim(text: String) -> Frame {
    Frame::Verbatim {
        format: *b"txt",
        text: Bytes::from(text),
    }
}

/// The client classes of CLIENT LIST TYPE and CLIENT KILL TYPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientKind {
    Normal,
    Replica,
    PubSub,
    Master,
}

fn parse_client_kind(name: &[u8]) -> Result<ClientKind, CommandError> {
    let kind = match name.to_ascii_lowercase().as_slice() {
        b"normal" => ClientKind::Normal,
        b"slave" | b"replica" => ClientKind::Replica,
        b"pubsub" => ClientKind::PubSub,
        b"master" => ClientKind::Master,
        _ => return Err(CommandError::custom(unknown_client_type(name))),
    };
    Ok(kind)
}

fn client_kind(_client: &Client) -> ClientKind {
    // TODO(#pubsub, #replication): subscribed clients, replicas and the master link.
    ClientKind::Normal
}

/// The filters of CLIENT KILL's new form; every given filter must match.
#[derive(Debug, Default)]
struct KillFilter {
    addr: Option<Bytes>,
    laddr: Option<Bytes>,
    kind: Option<ClientKind>,
    id: Option<ClientId>,
    skip_me: bool,
}

impl KillFilter {
    fn matches(&self, client: &Client) -> bool {
        self.addr
            .as_ref()
            .is_none_or(|a| client.peer.addr().as_bytes() == a.as_ref())
            && self
                .laddr
                .as_ref()
                .is_none_or(|a| client.peer.laddr().as_bytes() == a.as_ref())
            && self.kind.is_none_or(|k| client_kind(client) == k)
            && self.id.is_none_or(|id| client.id == id)
    }
}

/// Reads `option value` pairs; a trailing option without a value is a syntax error, and the
/// first bad option decides the error, as Redis parses them left to right.
fn parse_kill_filter(args: &mut Args<'_>) -> Result<KillFilter, CommandError> {
    let mut filter = KillFilter {
        skip_me: true,
        ..KillFilter::default()
    };
    while let Some(option) = args.peek() {
        args.next_bytes()?;
        let Some(value) = args.peek() else {
            return Err(CommandError::Syntax);
        };
        args.next_bytes()?;
        let option = option.to_ascii_lowercase();
        match option.as_slice() {
            b"id" => {
                let id = parse_i64(value)
                    .ok()
                    .filter(|&id| id > 0)
                    .and_then(|id| u64::try_from(id).ok())
                    .ok_or(CommandError::msg(CLIENT_ID_NOT_POSITIVE))?;
                filter.id = Some(id);
            }
            b"type" => filter.kind = Some(parse_client_kind(value)?),
            b"addr" => filter.addr = Some(value.clone()),
            b"laddr" => filter.laddr = Some(value.clone()),
            // Every client is logged in as `default` until ACL users exist.
            b"user" if value.as_ref() == DEFAULT_USER => {}
            b"user" => return Err(CommandError::custom(no_such_user(value))),
            b"skipme" => {
                filter.skip_me = if value.eq_ignore_ascii_case(b"yes") {
                    true
                } else if value.eq_ignore_ascii_case(b"no") {
                    false
                } else {
                    return Err(CommandError::Syntax);
                };
            }
            _ => return Err(CommandError::Syntax),
        }
    }
    Ok(filter)
}

/// Size of the reply buffer every connection starts with (`rbs=`).
const REPLY_BUFFER_BYTES: usize = 16 * 1024;
/// What one socket read reserves in the query buffer (for `qbuf-free=`).
const READ_CHUNK_BYTES: usize = 16 * 1024;
/// A rough fixed cost of a client's own bookkeeping, for `tot-mem=`.
const CLIENT_OVERHEAD_BYTES: usize = 1024;

/// Appends one CLIENT LIST line (with its newline) for `client`, with Redis 7.0's fields in
/// Redis's order. Where the core keeps no such fact (fd, buffer sizes) the value is a plausible
/// stand-in: `fd` is derived from the id, buffers are modelled as 16 KiB chunks.
fn push_info_line(out: &mut String, client: &Client, ctx: &CommandContext<'_>) {
    use std::fmt::Write;
    let now_s = ctx.now_ms() / 1000;
    let is_caller = client.id == ctx.client_id();
    // Redis sets `cmd` before running a command, so the caller's line names this command.
    let cmd = if is_caller {
        ctx.command().full_name.as_str()
    } else {
        client.last_command
    };
    let fd: i64 = match client.peer {
        Peer::Internal => -1,
        Peer::Tcp { .. } | Peer::Unix(_) => id_reply(client.id).saturating_add(8),
    };
    let mut flags = String::new();
    if client.close_after_reply {
        flags.push('c');
    }
    if matches!(client.peer, Peer::Unix(_)) {
        flags.push('U');
    }
    if client.no_evict {
        flags.push('e');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let events = match client.peer {
        Peer::Internal => "",
        _ if client.output_buffer_len > 0 => "rw",
        _ => "r",
    };
    let qbuf = client.query_buffer_len;
    let qbuf_free = if qbuf == 0 {
        0
    } else {
        READ_CHUNK_BYTES.saturating_sub(qbuf)
    };
    let obl = client.output_buffer_len.min(REPLY_BUFFER_BYTES);
    let omem = client.output_buffer_len - obl;
    let oll = omem.div_ceil(REPLY_BUFFER_BYTES);
    let tot_mem = CLIENT_OVERHEAD_BYTES
        .saturating_add(REPLY_BUFFER_BYTES)
        .saturating_add(qbuf)
        .saturating_add(qbuf_free)
        .saturating_add(client.argv_mem)
        .saturating_add(omem);
    let resp = match client.resp {
        RespVersion::Resp2 => 2,
        RespVersion::Resp3 => 3,
    };
    // TODO(#pubsub, #transactions, #tracking): sub/psub/ssub, multi, multi-mem and redir.
    let _ = writeln!(
        out,
        "id={id} addr={addr} laddr={laddr} fd={fd} name={name} age={age} idle={idle} \
         flags={flags} db={db} sub=0 psub=0 ssub=0 multi=-1 qbuf={qbuf} qbuf-free={qbuf_free} \
         argv-mem={argv_mem} multi-mem=0 rbs={rbs} rbp={rbs} obl={obl} oll={oll} omem={omem} \
         tot-mem={tot_mem} events={events} cmd={cmd} user=default redir=-1 resp={resp}",
        id = client.id,
        addr = client.peer.addr(),
        laddr = client.peer.laddr(),
        name = String::from_utf8_lossy(client.name.as_deref().unwrap_or_default()),
        age = now_s.saturating_sub(client.created_ms / 1000),
        idle = now_s.saturating_sub(client.last_interaction_ms / 1000),
        db = client.db,
        argv_mem = client.argv_mem,
        rbs = REPLY_BUFFER_BYTES,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ConnectionHandle;
    use crate::command::AclCategory;
    use crate::config::Config;
    use crate::errors::NOAUTH;
    use crate::testing::{CommandRunner, bulk, err, simple};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[derive(Default)]
    struct FakeConnection {
        closed: AtomicBool,
    }

    impl ConnectionHandle for FakeConnection {
        fn close(&self) {
            self.closed.store(true, Ordering::SeqCst);
        }
    }

    fn tcp(peer: &str, local: &str) -> Peer {
        Peer::Tcp {
            peer: peer.parse().unwrap(),
            local: local.parse().unwrap(),
        }
    }

    /// Connects another TCP client with a fake connection; returns its id and handle.
    fn connect(r: &mut CommandRunner, peer: &str) -> (ClientId, Arc<FakeConnection>) {
        let conn = Arc::new(FakeConnection::default());
        let handle: Arc<dyn ConnectionHandle> = conn.clone();
        let now = r.server.now_ms();
        let id = r.server.connect_client(|id| {
            let mut c = Client::new(id, tcp(peer, "127.0.0.1:6379"), true, now);
            c.handle = Some(handle);
            c
        });
        (id, conn)
    }

    fn with_password(password: &str) -> CommandRunner {
        CommandRunner::with_config(Config {
            requirepass: Some(password.as_bytes().to_vec()),
            ..Config::default()
        })
    }

    fn text(frame: Frame) -> String {
        match frame {
            Frame::Verbatim { format, text } => {
                assert_eq!(&format, b"txt");
                String::from_utf8(text.to_vec()).unwrap()
            }
            other => panic!("expected a verbatim string, got {other:?}"),
        }
    }

    fn hello_map(proto: i64, id: i64) -> Frame {
        Frame::Map(vec![
            (bulk("server"), bulk("redis")),
            (bulk("version"), bulk("7.0.15")),
            (bulk("proto"), Frame::Integer(proto)),
            (bulk("id"), Frame::Integer(id)),
            (bulk("mode"), bulk("standalone")),
            (bulk("role"), bulk("master")),
            (bulk("modules"), Frame::Array(vec![])),
        ])
    }

    #[test]
    fn ping_and_echo() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(r.run(["PING"]), simple("PONG"));
        assert_eq!(r.run(["ping", "redis"]), bulk("redis"));
        assert_eq!(
            r.run(["PING", "hello", "redis"]),
            err("ERR wrong number of arguments for 'ping' command")
        );
        assert_eq!(r.run(["ECHO", "a b\r\n"]), bulk("a b\r\n"));
        assert_eq!(
            r.run(["ECHO"]),
            err("ERR wrong number of arguments for 'echo' command")
        );
    }

    #[test]
    fn quit_replies_ok_and_closes() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(r.run(["QUIT"]), Frame::ok());
        assert!(r.server.clients.get(r.client).unwrap().close_after_reply);
    }

    #[test]
    fn quit_works_before_auth() {
        let mut r = with_password("secret");
        assert_eq!(r.run(["PING"]), err(NOAUTH));
        assert_eq!(r.run(["QUIT"]), Frame::ok());
    }

    #[test]
    fn select_checks_the_range_and_the_integer() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(r.run(["SELECT", "9"]), Frame::ok());
        assert_eq!(r.server.clients.get(r.client).unwrap().db, 9);
        assert_eq!(r.run(["SELECT", "16"]), err("ERR DB index is out of range"));
        assert_eq!(r.run(["SELECT", "-1"]), err("ERR DB index is out of range"));
        assert_eq!(
            r.run(["SELECT", "abc"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            r.run(["SELECT", "99999999999"]),
            err("ERR value is out of range, value must between -2147483648 and 2147483647")
        );
        assert_eq!(r.server.clients.get(r.client).unwrap().db, 9);
    }

    #[test]
    fn hello_without_arguments_reports_the_current_protocol() {
        let mut r = CommandRunner::with_builtin_commands();
        let id = id_reply(r.client);
        assert_eq!(r.run(["HELLO"]), hello_map(2, id));
        assert_eq!(r.run(["HELLO", "3"]), hello_map(3, id));
        assert_eq!(
            r.server.clients.get(r.client).unwrap().resp,
            RespVersion::Resp3
        );
        assert_eq!(r.run(["HELLO"]), hello_map(3, id));
        assert_eq!(r.run(["HELLO", "2"]), hello_map(2, id));
        assert_eq!(
            r.server.clients.get(r.client).unwrap().resp,
            RespVersion::Resp2
        );
    }

    #[test]
    fn hello_errors() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(
            r.run(["HELLO", "4"]),
            err("NOPROTO unsupported protocol version")
        );
        assert_eq!(
            r.run(["HELLO", "1"]),
            err("NOPROTO unsupported protocol version")
        );
        assert_eq!(
            r.run(["HELLO", "abc"]),
            err("ERR Protocol version is not an integer or out of range")
        );
        assert_eq!(
            r.run(["HELLO", "3", "foo"]),
            err("ERR Syntax error in HELLO option 'foo'")
        );
        assert_eq!(
            r.run(["HELLO", "3", "auth", "a"]),
            err("ERR Syntax error in HELLO option 'auth'")
        );
        assert_eq!(
            r.run(["HELLO", "3", "SETNAME", "a b"]),
            err("ERR Client names cannot contain spaces, newlines or special characters.")
        );
        assert_eq!(
            r.run(["HELLO", "3", "AUTH", "nobody", "x"]),
            err("WRONGPASS invalid username-password pair or user is disabled.")
        );
        // None of the failures switched the protocol.
        assert_eq!(
            r.server.clients.get(r.client).unwrap().resp,
            RespVersion::Resp2
        );
    }

    #[test]
    fn hello_setname_and_auth() {
        let mut r = with_password("secret");
        let id = id_reply(r.client);
        assert_eq!(
            r.run(["HELLO", "3"]),
            err(
                "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
            )
        );
        assert_eq!(
            r.run(["HELLO", "3", "AUTH", "default", "wrong"]),
            err(WRONG_PASS)
        );
        assert_eq!(
            r.run(["HELLO", "3", "AUTH", "default", "secret", "SETNAME", "me"]),
            hello_map(3, id)
        );
        assert_eq!(r.run(["CLIENT", "GETNAME"]), bulk("me"));
        let client = r.server.clients.get(r.client).unwrap();
        assert!(client.authenticated);
        assert_eq!(client.resp, RespVersion::Resp3);
    }

    #[test]
    fn auth_without_requirepass() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(
            r.run(["AUTH", "foo"]),
            err(
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
            )
        );
        assert_eq!(r.run(["AUTH", "default", "anything"]), Frame::ok());
        assert_eq!(r.run(["AUTH", "nobody", "x"]), err(WRONG_PASS));
        assert_eq!(r.run(["AUTH", "a", "b", "c"]), err("ERR syntax error"));
        assert_eq!(
            r.run(["AUTH"]),
            err("ERR wrong number of arguments for 'auth' command")
        );
    }

    #[test]
    fn auth_with_requirepass() {
        let mut r = with_password("foobar");
        assert_eq!(
            r.run(["AUTH", "wrong!"]),
            err("WRONGPASS invalid username-password pair or user is disabled.")
        );
        assert_eq!(
            r.run(["SELECT", "1"]),
            err("NOAUTH Authentication required.")
        );
        assert_eq!(r.run(["AUTH", "foobar"]), Frame::ok());
        assert_eq!(r.run(["SELECT", "1"]), Frame::ok());
        // A later failure does not log the client out.
        assert_eq!(r.run(["AUTH", "default", "nope"]), err(WRONG_PASS));
        assert_eq!(r.run(["PING"]), simple("PONG"));
        assert_eq!(r.run(["AUTH", "default", "foobar"]), Frame::ok());
    }

    #[test]
    fn auth_accepts_binary_passwords() {
        let mut r = with_password("abc\0def");
        assert_eq!(r.run(["AUTH", "abc"]), err(WRONG_PASS));
        assert_eq!(r.run([b"AUTH".as_slice(), b"abc\0def"]), Frame::ok());
    }

    #[test]
    fn reset_restores_a_new_connection() {
        let mut r = with_password("pw");
        assert_eq!(r.run(["AUTH", "pw"]), Frame::ok());
        r.run(["SELECT", "3"]);
        r.run(["HELLO", "3", "SETNAME", "x"]);
        r.run(["CLIENT", "NO-EVICT", "on"]);
        assert_eq!(r.run(["RESET"]), simple("RESET"));
        let c = r.server.clients.get(r.client).unwrap();
        assert_eq!(c.db, 0);
        assert_eq!(c.resp, RespVersion::Resp2);
        assert_eq!(c.name, None);
        assert!(!c.authenticated);
        assert_eq!(c.reply_mode, ReplyMode::On);
        assert_eq!(r.run(["PING"]), err(NOAUTH));
    }

    #[test]
    fn reset_without_password_stays_authenticated() {
        let mut r = CommandRunner::with_builtin_commands();
        r.run(["CLIENT", "REPLY", "OFF"]);
        assert_eq!(r.run(["RESET"]), simple("RESET"));
        let c = r.server.clients.get(r.client).unwrap();
        assert!(c.authenticated);
        assert_eq!(c.reply_mode, ReplyMode::On);
        assert_eq!(
            r.run(["RESET", "x"]),
            err("ERR wrong number of arguments for 'reset' command")
        );
    }

    #[test]
    fn client_id_setname_getname() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(r.run(["CLIENT", "ID"]), Frame::Integer(id_reply(r.client)));
        assert_eq!(r.run(["CLIENT", "GETNAME"]), Frame::Null);
        assert_eq!(
            r.run(["CLIENT", "SETNAME", "foo bar"]),
            err("ERR Client names cannot contain spaces, newlines or special characters.")
        );
        assert_eq!(
            r.run(["CLIENT", "SETNAME", "caf\u{e9}"]),
            err(CLIENT_NAME_INVALID)
        );
        assert_eq!(r.run(["CLIENT", "SETNAME", "myname"]), Frame::ok());
        assert_eq!(r.run(["CLIENT", "GETNAME"]), bulk("myname"));
        assert_eq!(r.run(["CLIENT", "SETNAME", ""]), Frame::ok());
        assert_eq!(r.run(["CLIENT", "GETNAME"]), Frame::Null);
        assert_eq!(
            r.run(["CLIENT", "ID", "x"]),
            err("ERR wrong number of arguments for 'client|id' command")
        );
        assert_eq!(
            r.run(["CLIENT", "SETINFO", "LIB-NAME", "x"]),
            err("ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.")
        );
    }

    #[test]
    fn client_info_line_has_redis_fields_in_order() {
        let mut r = CommandRunner::with_builtin_commands();
        let (id, _conn) = connect(&mut r, "10.0.0.5:5000");
        {
            let c = r.server.clients.get_mut(id).unwrap();
            c.name = Some(b"worker".to_vec());
            c.db = 2;
            c.resp = RespVersion::Resp3;
            c.last_command = "get";
            c.query_buffer_len = 26;
            c.argv_mem = 10;
        }
        r.advance_ms(5_000);
        let list = text(r.run(["CLIENT", "LIST", "ID", &id.to_string()]));
        assert_eq!(
            list,
            format!(
                "id={id} addr=10.0.0.5:5000 laddr=127.0.0.1:6379 fd={} name=worker age=5 idle=5 \
                 flags=N db=2 sub=0 psub=0 ssub=0 multi=-1 qbuf=26 qbuf-free=16358 argv-mem=10 \
                 multi-mem=0 rbs=16384 rbp=16384 obl=0 oll=0 omem=0 tot-mem=33802 events=r \
                 cmd=get user=default redir=-1 resp=3\n",
                id + 8
            )
        );
    }

    #[test]
    fn client_info_and_list_name_the_running_command() {
        let mut r = CommandRunner::with_builtin_commands();
        let me = r.client;
        let info = text(r.run(["CLIENT", "INFO"]));
        assert!(info.starts_with(&format!(
            "id={me} addr= laddr= fd=-1 name= age=0 idle=0 flags=N db=0 "
        )));
        assert!(info.ends_with(" events= cmd=client|info user=default redir=-1 resp=2\n"));
        let list = text(r.run(["client", "list"]));
        assert!(list.contains(" cmd=client|list "));
        assert_eq!(list.lines().count(), 1);
    }

    #[test]
    fn client_list_filters() {
        let mut r = CommandRunner::with_builtin_commands();
        let (other, _conn) = connect(&mut r, "10.0.0.5:5000");
        assert_eq!(text(r.run(["CLIENT", "LIST"])).lines().count(), 2);
        assert_eq!(
            text(r.run(["CLIENT", "LIST", "TYPE", "normal"]))
                .lines()
                .count(),
            2
        );
        assert_eq!(text(r.run(["CLIENT", "LIST", "type", "PUBSUB"])), "");
        assert_eq!(text(r.run(["CLIENT", "LIST", "TYPE", "replica"])), "");
        let twice = text(r.run([
            "CLIENT",
            "LIST",
            "ID",
            &other.to_string(),
            "999",
            &other.to_string(),
        ]));
        assert_eq!(twice.lines().count(), 2);
        assert!(
            twice
                .lines()
                .all(|l| l.starts_with(&format!("id={other} ")))
        );
        assert_eq!(text(r.run(["CLIENT", "LIST", "ID", "-5"])), "");
        assert_eq!(
            r.run(["CLIENT", "LIST", "TYPE", "foo"]),
            err("ERR Unknown client type 'foo'")
        );
        assert_eq!(
            r.run(["CLIENT", "LIST", "ID", "1", "abc"]),
            err("ERR Invalid client ID")
        );
        assert_eq!(r.run(["CLIENT", "LIST", "ID"]), err("ERR syntax error"));
        assert_eq!(r.run(["CLIENT", "LIST", "foo"]), err("ERR syntax error"));
        assert_eq!(
            r.run(["CLIENT", "LIST", "TYPE", "normal", "x"]),
            err("ERR syntax error")
        );
    }

    #[test]
    fn client_kill_illegal_arguments() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(
            r.run(["CLIENT", "KILL"]),
            err("ERR wrong number of arguments for 'client|kill' command")
        );
        assert_eq!(
            r.run(["CLIENT", "KILL", "id", "10", "wrong_arg"]),
            err("ERR syntax error")
        );
        for bad in ["str", "-1", "0"] {
            assert_eq!(
                r.run(["CLIENT", "KILL", "id", bad]),
                err("ERR client-id should be greater than 0")
            );
        }
        assert_eq!(
            r.run(["CLIENT", "KILL", "type", "wrong_type"]),
            err("ERR Unknown client type 'wrong_type'")
        );
        assert_eq!(
            r.run(["CLIENT", "KILL", "user", "wrong_user"]),
            err("ERR No such user 'wrong_user'")
        );
        assert_eq!(
            r.run(["CLIENT", "KILL", "skipme", "yes_or_no"]),
            err("ERR syntax error")
        );
        assert_eq!(
            r.run(["CLIENT", "KILL", "foo", "bar"]),
            err("ERR syntax error")
        );
        assert_eq!(
            r.run(["CLIENT", "KILL", "1.2.3.4:5"]),
            err("ERR No such client")
        );
    }

    #[test]
    fn client_kill_by_id_addr_and_laddr() {
        let mut r = CommandRunner::with_builtin_commands();
        let (a, conn_a) = connect(&mut r, "10.0.0.5:5000");
        let (_b, conn_b) = connect(&mut r, "10.0.0.6:6000");
        assert_eq!(
            r.run(["CLIENT", "KILL", "ID", &a.to_string()]),
            Frame::Integer(1)
        );
        assert!(conn_a.closed.load(Ordering::SeqCst));
        assert!(!conn_b.closed.load(Ordering::SeqCst));
        assert_eq!(r.run(["CLIENT", "KILL", "10.0.0.6:6000"]), Frame::ok());
        assert!(conn_b.closed.load(Ordering::SeqCst));
        let (_c, conn_c) = connect(&mut r, "10.0.0.7:7000");
        assert_eq!(
            r.run([
                "CLIENT",
                "KILL",
                "LADDR",
                "127.0.0.1:1",
                "ADDR",
                "10.0.0.7:7000"
            ]),
            Frame::Integer(0)
        );
        assert_eq!(
            r.run([
                "CLIENT",
                "KILL",
                "LADDR",
                "127.0.0.1:6379",
                "ADDR",
                "10.0.0.7:7000",
                "USER",
                "default"
            ]),
            Frame::Integer(1)
        );
        assert!(conn_c.closed.load(Ordering::SeqCst));
        assert!(!r.server.clients.get(r.client).unwrap().close_after_reply);
    }

    #[test]
    fn client_kill_skipme() {
        let mut r = CommandRunner::with_builtin_commands();
        let (_a, conn_a) = connect(&mut r, "10.0.0.5:5000");
        let (_b, conn_b) = connect(&mut r, "10.0.0.6:6000");
        assert_eq!(
            r.run(["CLIENT", "KILL", "SKIPME", "yes"]),
            Frame::Integer(2)
        );
        assert!(conn_a.closed.load(Ordering::SeqCst) && conn_b.closed.load(Ordering::SeqCst));
        assert!(!r.server.clients.get(r.client).unwrap().close_after_reply);
        assert_eq!(
            r.run(["CLIENT", "KILL", "TYPE", "master"]),
            Frame::Integer(0)
        );
        // The killed clients are still registered until their connections go away.
        assert_eq!(r.run(["CLIENT", "KILL", "SKIPME", "no"]), Frame::Integer(3));
        assert!(r.server.clients.get(r.client).unwrap().close_after_reply);
    }

    #[test]
    fn client_kill_old_form_can_kill_the_caller() {
        let mut r = CommandRunner::with_builtin_commands();
        // An internal client's address is empty; the old form matches it and kills the caller.
        assert_eq!(r.run(["CLIENT", "KILL", ""]), Frame::ok());
        assert!(r.server.clients.get(r.client).unwrap().close_after_reply);
    }

    #[test]
    fn client_reply_modes() {
        let mut r = CommandRunner::with_builtin_commands();
        let mode = |r: &CommandRunner| r.server.clients.get(r.client).unwrap().reply_mode;
        r.run(["CLIENT", "REPLY", "OFF"]);
        assert_eq!(mode(&r), ReplyMode::Off);
        r.run(["CLIENT", "REPLY", "SKIP"]);
        assert_eq!(mode(&r), ReplyMode::Off);
        assert_eq!(r.run(["CLIENT", "REPLY", "ON"]), Frame::ok());
        assert_eq!(mode(&r), ReplyMode::On);
        r.run(["CLIENT", "REPLY", "SKIP"]);
        assert_eq!(mode(&r), ReplyMode::SkipNext);
        assert_eq!(r.run(["CLIENT", "REPLY", "ON"]), Frame::ok());
        assert_eq!(mode(&r), ReplyMode::On);
        assert_eq!(r.run(["CLIENT", "REPLY", "maybe"]), err("ERR syntax error"));
    }

    #[test]
    fn client_no_evict() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(r.run(["CLIENT", "NO-EVICT", "on"]), Frame::ok());
        assert!(text(r.run(["CLIENT", "INFO"])).contains(" flags=e "));
        assert_eq!(r.run(["CLIENT", "NO-EVICT", "OFF"]), Frame::ok());
        assert!(!r.server.clients.get(r.client).unwrap().no_evict);
        assert_eq!(
            r.run(["CLIENT", "NO-EVICT", "maybe"]),
            err("ERR syntax error")
        );
    }

    #[test]
    fn client_tracking_placeholders_and_unblock() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(r.run(["CLIENT", "GETREDIR"]), Frame::Integer(-1));
        assert_eq!(
            r.run(["CLIENT", "TRACKINGINFO"]),
            Frame::Map(vec![
                (bulk("flags"), Frame::Set(vec![bulk("off")])),
                (bulk("redirect"), Frame::Integer(-1)),
                (bulk("prefixes"), Frame::Array(vec![])),
            ])
        );
        assert_eq!(r.run(["CLIENT", "UNBLOCK", "999"]), Frame::Integer(0));
        assert_eq!(
            r.run(["CLIENT", "UNBLOCK", "abc"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            r.run(["CLIENT", "UNBLOCK", "abc", "foo"]),
            err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
        );
        assert_eq!(
            r.run(["CLIENT", "UNBLOCK", "1", "timeout", "x"]),
            err(
                "ERR unknown subcommand or wrong number of arguments for 'unblock'. Try CLIENT HELP."
            )
        );
    }

    #[test]
    fn client_help_lists_every_subcommand() {
        let mut r = CommandRunner::with_builtin_commands();
        let Frame::Array(lines) = r.run(["CLIENT", "HELP"]) else {
            panic!("expected an array");
        };
        assert_eq!(lines.len(), 48);
        assert_eq!(
            lines[0],
            simple("CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        );
        assert_eq!(lines[46], simple("HELP"));
        assert_eq!(lines[47], simple("    Prints this help."));
        assert_eq!(
            r.run(["CLIENT", "HELP", "x"]),
            err("ERR wrong number of arguments for 'client|help' command")
        );
    }

    #[test]
    fn specs_match_redis_metadata() {
        let r = CommandRunner::with_builtin_commands();
        let acl = |name: &str| {
            let cmd = r.server.table.get(name.as_bytes()).unwrap();
            AclCategory::in_set(cmd.acl_categories)
                .map(|c| c.name())
                .collect::<Vec<_>>()
        };
        assert_eq!(acl("ping"), ["fast", "connection"]);
        assert_eq!(acl("client"), ["slow"]);
        let client = r.server.table.get(b"client").unwrap();
        let kill = client.subcommand(b"kill").unwrap();
        assert_eq!(kill.spec.arity.as_redis(), -3);
        assert_eq!(
            AclCategory::in_set(kill.acl_categories)
                .map(|c| c.name())
                .collect::<Vec<_>>(),
            ["admin", "slow", "dangerous", "connection"]
        );
        let hello = r.server.table.get(b"hello").unwrap();
        assert!(hello.has(NoAuth) && hello.has(AllowBusy) && hello.has(NoScript));
    }
}
