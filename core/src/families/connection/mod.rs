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

mod client;

use crate::REDIS_VERSION;
use crate::client::{Client, ReplyMode};
use crate::command::{
    Arg, Args, Arity, CommandResult, CommandSpec, Family, Flag::*, Group, parse_i64,
};
use crate::context::CommandContext;
use crate::errors::connection::{
    CLIENT_NAME_INVALID, HELLO_NOAUTH, INT_OUT_OF_RANGE, NOPROTO, PROTOVER_NOT_INTEGER,
    hello_syntax,
};
use crate::errors::{AUTH_NOT_CONFIGURED, CommandError, DB_INDEX_OUT_OF_RANGE, WRONG_PASS};
use client::CLIENT_SUBCOMMANDS;

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
            .runs_in_multi()
            .doc("Closes the connection after replying.", "1.0.0", "O(1)"),
        CommandSpec::new("reset", Arity::Exact(1), reset)
            .flags(&[NoScript, Loading, Stale, Fast, NoAuth, AllowBusy])
            .runs_in_multi()
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

fn ping(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    // A RESP2 client in subscribed mode reads only arrays: it gets ["pong", msg-or-""].
    if ctx.client().subscribed && ctx.resp() == RespVersion::Resp2 && args.remaining() <= 1 {
        let message = args.rest().first().cloned().unwrap_or_default();
        return Ok(Frame::Array(vec![
            Frame::Bulk(Bytes::from_static(b"pong")),
            Frame::Bulk(message),
        ]));
    }
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
    crate::families::server::stop_monitoring(ctx);
    let authenticated = !requires_password(ctx);
    ctx.select(0);
    let id = ctx.client_id();
    ctx.server.watched.unwatch_all(id);
    ctx.server.pubsub.unsubscribe_all(id);
    ctx.server.tracking.disable(id);
    ctx.client().subscribed = false;
    let client = ctx.client();
    client.transaction = None;
    client.watch_dirty = false;
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
            let at = args.argv().len() - args.remaining();
            ctx.redact_argument(at);
            ctx.redact_argument(at + 1);
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
    let id = client::id_reply(client.id);
    let modules = ctx.server.modules.list_reply();
    let pair =
        |key: &'static str, value: Frame| (Frame::Bulk(Bytes::from_static(key.as_bytes())), value);
    let text = |value: &'static str| Frame::Bulk(Bytes::from_static(value.as_bytes()));
    // TODO(#replication, #cluster): role and mode are fixed for now.
    Ok(Frame::Map(vec![
        pair("server", text("redis")),
        pair("version", text(REDIS_VERSION)),
        pair("proto", Frame::Integer(proto)),
        pair("id", Frame::Integer(id)),
        pair("mode", text("standalone")),
        pair("role", text("master")),
        pair("modules", modules),
    ]))
}

fn auth(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let rest = args.rest();
    // Passwords never reach the slow log or MONITOR, even when AUTH fails.
    if rest.len() <= 2 {
        for index in 1..=rest.len() {
            ctx.redact_argument(index);
        }
    }
    let (user, password) = match rest {
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

#[cfg(test)]
mod tests;
