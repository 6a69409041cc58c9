//! CLIENT and its subcommands: the calling client's own settings (ID, SETNAME, GETNAME, INFO,
//! NO-EVICT, REPLY) and the registry of all clients (LIST, KILL), with the CLIENT LIST line
//! format.

use bytes::Bytes;
use oxidis_protocol::{Frame, RespVersion};

use super::{DEFAULT_USER, set_client_name};
use crate::client::{Client, ClientId, Peer, ReplyMode};
use crate::command::{Arg, Args, Arity, CommandResult, CommandSpec, Flag::*, parse_i64};
use crate::context::CommandContext;
use crate::errors::connection::{
    CLIENT_ID_NOT_POSITIVE, INVALID_CLIENT_ID, NO_SUCH_CLIENT, UNBLOCK_REASON,
    UNBLOCKED_BY_CLIENT_UNBLOCK, no_such_user, unknown_client_type,
};
use crate::errors::connection::{PAUSE_MODE, PAUSE_TIMEOUT_NOT_INTEGER};
use crate::errors::{CommandError, NOT_AN_INTEGER, TIMEOUT_NEGATIVE, subcommand_syntax};
use crate::families::{count_reply, help_reply};
use crate::pause::PauseKind;

pub(super) static CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
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
    CommandSpec::new("pause", Arity::AtLeast(3), client_pause)
        .flags(&[Admin, NoScript, Loading, Stale])
        .doc(
            "Suspends commands from clients for a while.",
            "2.9.50",
            "O(1)",
        )
        .args(&[
            Arg::integer("timeout"),
            Arg::one_of(
                "mode",
                &[Arg::token("write", "WRITE"), Arg::token("all", "ALL")],
            )
            .optional()
            .since("6.2.0"),
        ]),
    CommandSpec::new("unpause", Arity::Exact(2), client_unpause)
        .flags(&[Admin, NoScript, Loading, Stale])
        .doc(
            "Resumes the commands a pause held back.",
            "6.2.0",
            "O(N) Where N is the number of paused clients",
        ),
    CommandSpec::new("help", Arity::Exact(2), client_help)
        .flags(&[Loading, Stale])
        .doc("Lists the CLIENT subcommands.", "5.0.0", "O(1)"),
    CommandSpec::new("tracking", Arity::AtLeast(3), client_tracking)
        .flags(&[NoScript, Loading, Stale])
        .doc(
            "Enable or disable server assisted client side caching support",
            "6.0.0",
            "O(1). Some options may introduce additional complexity.",
        )
        .args(CLIENT_TRACKING_ARGS),
    CommandSpec::new("caching", Arity::Exact(3), client_caching)
        .flags(&[NoScript, Loading, Stale])
        .doc(
            "Instruct the server about tracking or not keys in the next request",
            "6.0.0",
            "O(1)",
        )
        .args(&[Arg::one_of(
            "mode",
            &[Arg::token("yes", "YES"), Arg::token("no", "NO")],
        )]),
];

pub(super) static CLIENT_TYPES: &[Arg] = &[
    Arg::token("normal", "normal"),
    Arg::token("master", "master"),
    Arg::token("replica", "replica"),
    Arg::token("pubsub", "pubsub"),
];

pub(super) static CLIENT_LIST_ARGS: &[Arg] = &[
    Arg::one_of("normal_master_replica_pubsub", CLIENT_TYPES)
        .with_token("TYPE")
        .optional()
        .since("5.0.0"),
    Arg::block("id", &[Arg::integer("client-id").multiple()])
        .with_token("ID")
        .optional()
        .since("6.2.0"),
];

pub(super) static CLIENT_KILL_ARGS: &[Arg] = &[Arg::one_of(
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

pub(super) fn client_id(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    Ok(Frame::Integer(id_reply(ctx.client_id())))
}

pub(super) fn client_setname(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let name = args.next_bytes()?;
    set_client_name(ctx.client(), name)?;
    Ok(Frame::ok())
}

pub(super) fn client_getname(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    Ok(match &ctx.client().name {
        Some(name) => Frame::bulk(name),
        None => Frame::Null,
    })
}

pub(super) fn client_info(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    note_argv_mem(ctx, args);
    let me = ctx.client_id();
    let mut text = String::new();
    if let Some(client) = ctx.server.clients.get(me) {
        push_info_line(&mut text, client, ctx);
    }
    Ok(verbatim(text))
}

/// CLIENT LIST [TYPE type | ID id...]: TYPE must be the only option, ID takes one or more ids.
pub(super) fn client_list(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    note_argv_mem(ctx, args);
    let mut text = String::new();
    let rest = args.rest();
    match rest {
        [] => {
            for client in ctx.server.clients.in_order() {
                push_info_line(&mut text, client, ctx);
            }
        }
        [option, kind] if option.eq_ignore_ascii_case(b"TYPE") => {
            let kind = parse_client_kind(kind)?;
            for client in ctx.server.clients.in_order() {
                if client_kind(ctx.server, client) == kind {
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

/// Records the running command's argument bytes as the caller's `argv-mem`: Redis shows the
/// arguments of the command a client is running, so only the caller's line has any.
fn note_argv_mem(ctx: &mut CommandContext<'_>, args: &Args<'_>) {
    ctx.client().argv_mem = args.argv().iter().map(|a| a.len()).sum();
}

/// CLIENT KILL addr (old form: OK or "No such client", may kill the caller) or
/// CLIENT KILL option value ... (new form: the count killed; SKIPME defaults to yes).
pub(super) fn client_kill(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
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
        .filter(|c| filter.matches(ctx.server, c) && !(filter.skip_me && c.id == me))
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
        Ok(count_reply(victims.len()))
    }
}

pub(super) fn client_no_evict(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let on = parse_on_off(args.next_bytes()?)?;
    ctx.client().no_evict = on;
    Ok(Frame::ok())
}

/// CLIENT REPLY ON|OFF|SKIP. The contract with the server crate, which drops replies: a reply
/// is not sent when `reply_mode` is not `On` once the command returns; after each command the
/// server moves `SkipNext` to `Skip` and `Skip` to `On` (Redis's `CLIENT_REPLY_SKIP_NEXT` and
/// `CLIENT_REPLY_SKIP`). So OFF and SKIP are silent themselves, and SKIP drops one more reply.
pub(super) fn client_reply(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
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

pub(super) fn client_getredir(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    let id = ctx.client_id();
    Ok(match ctx.server.tracking.client(id) {
        Some(state) => count_reply(state.redirect),
        None => Frame::Integer(-1),
    })
}

pub(super) fn client_trackinginfo(
    ctx: &mut CommandContext<'_>,
    _args: &mut Args<'_>,
) -> CommandResult {
    let id = ctx.client_id();
    Ok(tracking_info_reply(ctx.server.tracking.client(id)))
}

pub(super) fn client_unblock(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
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
    let id = parse_i64(id).map_err(|_| CommandError::msg(NOT_AN_INTEGER))?;
    let Some(blocked) = u64::try_from(id)
        .ok()
        .and_then(|id| ctx.server.blocked.unblock(id).map(|b| (id, b)))
    else {
        return Ok(Frame::Integer(0));
    };
    let (id, blocked) = blocked;
    // A blocked command's call is counted by whatever answers it: here, this unblock.
    if let Some(command) = blocked.argv.first().and_then(|n| ctx.server.table.get(n)) {
        ctx.server.stats.command_mut(command.id).calls += 1;
    }
    // TIMEOUT (the default) ends the wait as the timeout would; ERROR fails the command.
    let reply = match reason {
        Some(reason) if reason.eq_ignore_ascii_case(b"ERROR") => {
            // The error is the blocked command's failure: counted in its errorstats and in
            // that command's failed_calls, as Redis counts it.
            ctx.server
                .stats
                .count_error(UNBLOCKED_BY_CLIENT_UNBLOCK.as_bytes());
            if let Some(command) = blocked.argv.first().and_then(|n| ctx.server.table.get(n)) {
                ctx.server.stats.command_mut(command.id).failed_calls += 1;
            }
            Frame::error_static(UNBLOCKED_BY_CLIENT_UNBLOCK)
        }
        _ => blocked.timeout_reply,
    };
    crate::blocking::deliver(ctx.server, id, reply);
    Ok(Frame::Integer(1))
}

/// CLIENT PAUSE timeout [WRITE|ALL]: see [`crate::pause`]. The mode is checked before the
/// timeout, as Redis does; a pause already in force keeps the later end and the stronger mode.
pub(super) fn client_pause(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let (timeout, mode) = match args.rest() {
        [timeout] => (timeout, None),
        [timeout, mode] => (timeout, Some(mode)),
        _ => return Err(CommandError::custom(subcommand_syntax("CLIENT", "pause"))),
    };
    let kind = match mode {
        None => PauseKind::All,
        Some(m) if m.eq_ignore_ascii_case(b"WRITE") => PauseKind::Write,
        Some(m) if m.eq_ignore_ascii_case(b"ALL") => PauseKind::All,
        Some(_) => return Err(CommandError::msg(PAUSE_MODE)),
    };
    let ms = parse_i64(timeout).map_err(|_| CommandError::msg(PAUSE_TIMEOUT_NOT_INTEGER))?;
    let ms = u64::try_from(ms).map_err(|_| CommandError::msg(TIMEOUT_NEGATIVE))?;
    let end_ms = ctx.now_ms().saturating_add(ms);
    ctx.server.pause.pause(kind, end_ms);
    Ok(Frame::ok())
}

pub(super) fn client_unpause(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    crate::pause::unpause(ctx.server);
    Ok(Frame::ok())
}

pub(super) fn client_help(_ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    Ok(help_reply("CLIENT", CLIENT_HELP))
}

/// The CLIENT HELP body, line for line as Redis 7.0 prints it.
pub(super) static CLIENT_HELP: &[&str] = &[
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

/// A client id as the integer CLIENT ID, HELLO and CLIENT LIST show.
pub(super) fn id_reply(id: ClientId) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

pub(super) fn parse_on_off(arg: &[u8]) -> Result<bool, CommandError> {
    if arg.eq_ignore_ascii_case(b"ON") {
        Ok(true)
    } else if arg.eq_ignore_ascii_case(b"OFF") {
        Ok(false)
    } else {
        Err(CommandError::Syntax)
    }
}

pub(super) fn verbatim(text: String) -> Frame {
    Frame::Verbatim {
        format: *b"txt",
        text: Bytes::from(text),
    }
}

/// The client classes of CLIENT LIST TYPE and CLIENT KILL TYPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ClientKind {
    Normal,
    Replica,
    PubSub,
    Master,
}

pub(super) fn parse_client_kind(name: &[u8]) -> Result<ClientKind, CommandError> {
    let kind = match name.to_ascii_lowercase().as_slice() {
        b"normal" => ClientKind::Normal,
        b"slave" | b"replica" => ClientKind::Replica,
        b"pubsub" => ClientKind::PubSub,
        b"master" => ClientKind::Master,
        _ => return Err(CommandError::custom(unknown_client_type(name))),
    };
    Ok(kind)
}

pub(super) fn client_kind(server: &crate::Server, client: &Client) -> ClientKind {
    // A MONITOR client counts as normal.
    let master = crate::replication::state_ref(server).and_then(|s| s.master_client);
    if client.replica {
        ClientKind::Replica
    } else if master == Some(client.id) {
        ClientKind::Master
    } else if client.subscribed {
        ClientKind::PubSub
    } else {
        ClientKind::Normal
    }
}

/// The filters of CLIENT KILL's new form; every given filter must match.
#[derive(Debug, Default)]
pub(super) struct KillFilter {
    pub(super) addr: Option<Bytes>,
    pub(super) laddr: Option<Bytes>,
    pub(super) kind: Option<ClientKind>,
    pub(super) id: Option<ClientId>,
    pub(super) skip_me: bool,
}

impl KillFilter {
    pub(super) fn matches(&self, server: &crate::Server, client: &Client) -> bool {
        self.addr
            .as_ref()
            .is_none_or(|a| client.peer.addr().as_bytes() == a.as_ref())
            && self
                .laddr
                .as_ref()
                .is_none_or(|a| client.peer.laddr().as_bytes() == a.as_ref())
            && self.kind.is_none_or(|k| client_kind(server, client) == k)
            && self.id.is_none_or(|id| client.id == id)
    }
}

/// Reads `option value` pairs; a trailing option without a value is a syntax error, and the
/// first bad option decides the error, as Redis parses them left to right.
pub(super) fn parse_kill_filter(args: &mut Args<'_>) -> Result<KillFilter, CommandError> {
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

use crate::client::REPLY_BUFFER_BYTES;

/// Appends one CLIENT LIST line (with its newline) for `client`, with Redis 7.0's fields in
/// Redis's order. Where the core keeps no such fact (fd, buffer sizes) the value is a plausible
/// stand-in: `fd` is derived from the id, buffers are modelled as 16 KiB chunks.
pub(super) fn push_info_line(out: &mut String, client: &Client, ctx: &CommandContext<'_>) {
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
    if client.monitor {
        flags.push('O');
    }
    if client.subscribed {
        flags.push('P');
    }
    if client.transaction.is_some() {
        flags.push('x');
    }
    if ctx.server.blocked.get(client.id).is_some() {
        flags.push('b');
    }
    if let Some(tracking) = ctx.server.tracking.client(client.id) {
        flags.push('t');
        if tracking.broken_redirect {
            flags.push('R');
        }
        if tracking.bcast {
            flags.push('B');
        }
    }
    if client.watch_dirty {
        flags.push('d');
    }
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
        _ if client.pending_output() > 0 => "rw",
        _ => "r",
    };
    let qbuf = client.query_buffer_len;
    // Only a client running a command holds arguments: the caller.
    let argv_mem = if is_caller { client.argv_mem } else { 0 };
    let qbuf_free = client.query_buffer_free;
    let (obl, oll, omem) = client.output_buffer_fields();
    let tot_mem = crate::client::memory_usage(ctx.server, client, argv_mem);
    let resp = match client.resp {
        RespVersion::Resp2 => 2,
        RespVersion::Resp3 => 3,
    };
    let (multi, multi_mem) = client.transaction.as_ref().map_or((-1, 0), |t| {
        let bytes: usize = t.queue.iter().flatten().map(|a| a.len()).sum();
        (i64::try_from(t.queue.len()).unwrap_or(i64::MAX), bytes)
    });
    let (sub, psub, ssub) = subscription_counts(ctx, client);
    let _ = writeln!(
        out,
        "id={id} addr={addr} laddr={laddr} fd={fd} name={name} age={age} idle={idle} \
         flags={flags} db={db} sub={sub} psub={psub} ssub={ssub} multi={multi} qbuf={qbuf} \
         qbuf-free={qbuf_free} argv-mem={argv_mem} multi-mem={multi_mem} rbs={rbs} rbp={rbs} \
         obl={obl} oll={oll} omem={omem} tot-mem={tot_mem} events={events} cmd={cmd} \
         user=default redir={redir} resp={resp}",
        id = client.id,
        addr = client.peer.addr(),
        laddr = client.peer.laddr(),
        name = String::from_utf8_lossy(client.name.as_deref().unwrap_or_default()),
        age = now_s.saturating_sub(client.created_ms / 1000),
        idle = now_s.saturating_sub(client.last_interaction_ms / 1000),
        db = client.db,
        rbs = REPLY_BUFFER_BYTES,
        redir = tracking_redirect(ctx, client),
    );
}

/// The channels, patterns and shard channels `client` is subscribed to (`sub=`, `psub=`,
/// `ssub=` of CLIENT LIST).
fn subscription_counts(ctx: &CommandContext<'_>, client: &Client) -> (usize, usize, usize) {
    ctx.server.pubsub.subscription_counts(client.id)
}

/// The client id tracking notifications of `client` go to (`redir=`), -1 when not tracking
/// or not redirecting.
fn tracking_redirect(ctx: &CommandContext<'_>, client: &Client) -> i64 {
    ctx.server
        .tracking
        .client(client.id)
        .map_or(-1, |t| i64::try_from(t.redirect).unwrap_or(i64::MAX))
}

static CLIENT_TRACKING_ARGS: &[Arg] = &[
    Arg::one_of(
        "status",
        &[Arg::token("on", "ON"), Arg::token("off", "OFF")],
    ),
    Arg::integer("client-id").with_token("REDIRECT").optional(),
    Arg::string("prefix")
        .with_token("PREFIX")
        .optional()
        .multiple()
        .multiple_token(),
    Arg::token("BCAST", "BCAST").optional(),
    Arg::token("OPTIN", "OPTIN").optional(),
    Arg::token("OPTOUT", "OPTOUT").optional(),
    Arg::token("NOLOOP", "NOLOOP").optional(),
];

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]: the
/// options are read first (syntax and REDIRECT errors), then checked against each other and
/// against the client's current mode, with Redis's texts and in Redis's order.
fn client_tracking(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    use crate::errors::pubsub as e;
    let status = args.next_bytes()?;
    let mut options = crate::tracking::TrackingOptions::default();
    while let Ok(option) = args.next_bytes() {
        let has_value = !args.is_empty();
        if option.eq_ignore_ascii_case(b"REDIRECT") && has_value {
            if options.redirect != 0 {
                return Err(CommandError::msg(e::TRACKING_SINGLE_REDIRECT));
            }
            let id = args.next_i64()?;
            let found = u64::try_from(id)
                .ok()
                .filter(|&id| ctx.server.clients.get(id).is_some());
            options.redirect = found.ok_or(CommandError::msg(e::TRACKING_NO_REDIRECT_CLIENT))?;
        } else if option.eq_ignore_ascii_case(b"BCAST") {
            options.bcast = true;
        } else if option.eq_ignore_ascii_case(b"OPTIN") {
            options.optin = true;
        } else if option.eq_ignore_ascii_case(b"OPTOUT") {
            options.optout = true;
        } else if option.eq_ignore_ascii_case(b"NOLOOP") {
            options.noloop = true;
        } else if option.eq_ignore_ascii_case(b"PREFIX") && has_value {
            options.prefixes.push(args.next_bytes()?.clone());
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let id = ctx.client_id();
    if status.eq_ignore_ascii_case(b"OFF") {
        ctx.server.tracking.disable(id);
        return Ok(Frame::ok());
    }
    if !status.eq_ignore_ascii_case(b"ON") {
        return Err(CommandError::Syntax);
    }
    if !options.bcast && !options.prefixes.is_empty() {
        return Err(CommandError::msg(e::TRACKING_PREFIX_NEEDS_BCAST));
    }
    let current = ctx.server.tracking.client(id).cloned();
    if let Some(current) = &current
        && current.bcast != options.bcast
    {
        return Err(CommandError::msg(e::TRACKING_BCAST_SWITCH));
    }
    if options.bcast && (options.optin || options.optout) {
        return Err(CommandError::msg(e::TRACKING_OPT_WITH_BCAST));
    }
    if options.optin && options.optout {
        return Err(CommandError::msg(e::TRACKING_OPTIN_AND_OPTOUT));
    }
    if let Some(current) = &current
        && ((options.optin && current.optout) || (options.optout && current.optin))
    {
        return Err(CommandError::msg(e::TRACKING_OPT_SWITCH));
    }
    if options.bcast {
        for (i, prefix) in options.prefixes.iter().enumerate() {
            if let Some(existing) = ctx.server.tracking.colliding_prefix(id, prefix) {
                return Err(CommandError::custom(e::tracking_prefix_overlaps_existing(
                    prefix, &existing,
                )));
            }
            for other in &options.prefixes[i + 1..] {
                let n = prefix.len().min(other.len());
                if prefix[..n] == other[..n] {
                    return Err(CommandError::custom(e::tracking_prefix_overlaps_given(
                        prefix, other,
                    )));
                }
            }
        }
    }
    ctx.server.tracking.enable(id, options);
    Ok(Frame::ok())
}

/// CLIENT CACHING YES|NO: for the next command only (OPTIN: track it; OPTOUT: do not).
fn client_caching(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    use crate::errors::pubsub as e;
    let mode = args.next_bytes()?;
    let id = ctx.client_id();
    let Some(state) = ctx.server.tracking.client(id) else {
        return Err(CommandError::msg(e::CACHING_NOT_TRACKING));
    };
    if mode.eq_ignore_ascii_case(b"YES") {
        if !state.optin {
            return Err(CommandError::msg(e::CACHING_YES_NEEDS_OPTIN));
        }
    } else if mode.eq_ignore_ascii_case(b"NO") {
        if !state.optout {
            return Err(CommandError::msg(e::CACHING_NO_NEEDS_OPTOUT));
        }
    } else {
        return Err(CommandError::Syntax);
    }
    ctx.server.tracking.set_caching(id);
    Ok(Frame::ok())
}

/// CLIENT TRACKINGINFO's map: flags, redirect, prefixes.
fn tracking_info_reply(state: Option<&crate::tracking::ClientTracking>) -> Frame {
    let mut flags = Vec::new();
    let (redirect, prefixes) = match state {
        None => {
            flags.push(Frame::bulk("off"));
            (-1, Vec::new())
        }
        Some(t) => {
            flags.push(Frame::bulk("on"));
            if t.bcast {
                flags.push(Frame::bulk("bcast"));
            }
            if t.optin {
                flags.push(Frame::bulk("optin"));
                if t.caching {
                    flags.push(Frame::bulk("caching-yes"));
                }
            }
            if t.optout {
                flags.push(Frame::bulk("optout"));
                if t.caching {
                    flags.push(Frame::bulk("caching-no"));
                }
            }
            if t.noloop {
                flags.push(Frame::bulk("noloop"));
            }
            if t.broken_redirect {
                flags.push(Frame::bulk("broken_redirect"));
            }
            let redirect = i64::try_from(t.redirect).unwrap_or(i64::MAX);
            (
                redirect,
                t.prefixes.iter().cloned().map(Frame::Bulk).collect(),
            )
        }
    };
    Frame::Map(vec![
        (Frame::bulk("flags"), Frame::Set(flags)),
        (Frame::bulk("redirect"), Frame::Integer(redirect)),
        (Frame::bulk("prefixes"), Frame::Array(prefixes)),
    ])
}
