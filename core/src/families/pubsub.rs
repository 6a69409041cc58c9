//! Publish/subscribe: SUBSCRIBE, PSUBSCRIBE, PUBLISH, their UNSUBSCRIBEs, the sharded SSUBSCRIBE,
//! SUNSUBSCRIBE and SPUBLISH, and PUBSUB's introspection subcommands. The state lives in
//! [`crate::pubsub`].
//!
//! A (un)subscription is confirmed once per channel, as an out-of-band push (`>3` in RESP3,
//! an array in RESP2). Like Redis, the confirmations reach a client even under CLIENT REPLY
//! OFF or SKIP: then they go through the connection as pushes rather than as the reply.

use bytes::Bytes;
use oxidis_protocol::Frame;

use crate::client::ReplyMode;
use crate::command::{
    Arg, Args, Arity, CommandResult, CommandSpec, Family, Flag::*, Group, KeyFlag, KeySpec,
};
use crate::context::CommandContext;
use crate::errors::{CommandError, subcommand_syntax};
use crate::families::{count_reply, help_reply};
use crate::pubsub::{Kind, publish as deliver};

/// The pubsub family.
pub static FAMILY: Family = Family {
    group: Group::PubSub,
    commands: &[
        CommandSpec::new("subscribe", Arity::AtLeast(2), subscribe)
            .flags(&[PubSub, NoScript, Loading, Stale])
            .doc(
                "Listen for messages published to the given channels",
                "2.0.0",
                "O(N) where N is the number of channels to subscribe to.",
            )
            .args(&[Arg::string("channel").multiple()]),
        CommandSpec::new("unsubscribe", Arity::AtLeast(1), unsubscribe)
            .flags(&[PubSub, NoScript, Loading, Stale])
            .doc(
                "Stop listening for messages posted to the given channels",
                "2.0.0",
                "O(N) where N is the number of clients already subscribed to a channel.",
            )
            .args(&[Arg::string("channel").optional().multiple()]),
        CommandSpec::new("psubscribe", Arity::AtLeast(2), psubscribe)
            .flags(&[PubSub, NoScript, Loading, Stale])
            .doc(
                "Listen for messages published to channels matching the given patterns",
                "2.0.0",
                "O(N) where N is the number of patterns the client is already subscribed to.",
            )
            .args(&[Arg::block("pattern", &[Arg::pattern("pattern")]).multiple()]),
        CommandSpec::new("punsubscribe", Arity::AtLeast(1), punsubscribe)
            .flags(&[PubSub, NoScript, Loading, Stale])
            .doc(
                "Stop listening for messages posted to channels matching the given patterns",
                "2.0.0",
                "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).",
            )
            .args(&[Arg::pattern("pattern").optional().multiple()]),
        CommandSpec::new("publish", Arity::Exact(3), publish)
            .flags(&[PubSub, Loading, Stale, Fast, MayReplicate])
            .doc(
                "Post a message to a channel",
                "2.0.0",
                "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
            )
            .args(&[Arg::string("channel"), Arg::string("message")]),
        CommandSpec::new("ssubscribe", Arity::AtLeast(2), ssubscribe)
            .flags(&[PubSub, NoScript, Loading, Stale])
            .keys(&[KeySpec::range(1, -1, 1, &[KeyFlag::NotKey])])
            .doc(
                "Listen for messages published to the given shard channels",
                "7.0.0",
                "O(N) where N is the number of shard channels to subscribe to.",
            )
            .args(&[Arg::string("shardchannel").multiple()]),
        CommandSpec::new("sunsubscribe", Arity::AtLeast(1), sunsubscribe)
            .flags(&[PubSub, NoScript, Loading, Stale])
            .keys(&[KeySpec::range(1, -1, 1, &[KeyFlag::NotKey])])
            .doc(
                "Stop listening for messages posted to the given shard channels",
                "7.0.0",
                "O(N) where N is the number of clients already subscribed to a shard channel.",
            )
            .args(&[Arg::string("shardchannel").optional().multiple()]),
        CommandSpec::new("spublish", Arity::Exact(3), spublish)
            .flags(&[PubSub, Loading, Stale, Fast, MayReplicate])
            .keys(&[KeySpec::single(1, &[KeyFlag::NotKey])])
            .doc(
                "Post a message to a shard channel",
                "7.0.0",
                "O(N) where N is the number of clients subscribed to the receiving shard channel.",
            )
            .args(&[Arg::string("shardchannel"), Arg::string("message")]),
        CommandSpec::container("pubsub", PUBSUB_SUBCOMMANDS).doc(
            "A container for Pub/Sub commands",
            "2.8.0",
            "Depends on subcommand.",
        ),
    ],
};

static PUBSUB_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("channels", Arity::AtLeast(2), pubsub_channels)
        .flags(&[PubSub, Loading, Stale])
        .doc(
            "List active channels",
            "2.8.0",
            "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
        )
        .args(&[Arg::pattern("pattern").optional()]),
    CommandSpec::new("help", Arity::Exact(2), pubsub_help)
        .flags(&[Loading, Stale])
        .doc(
            "Show helpful text about the different subcommands",
            "6.2.0",
            "O(1)",
        ),
    CommandSpec::new("numpat", Arity::Exact(2), pubsub_numpat)
        .flags(&[PubSub, Loading, Stale])
        .doc(
            "Get the count of unique patterns pattern subscriptions",
            "2.8.0",
            "O(1)",
        ),
    CommandSpec::new("numsub", Arity::AtLeast(2), pubsub_numsub)
        .flags(&[PubSub, Loading, Stale])
        .doc(
            "Get the count of subscribers for channels",
            "2.8.0",
            "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
        )
        .args(&[Arg::string("channel").optional().multiple()]),
    CommandSpec::new("shardchannels", Arity::AtLeast(2), pubsub_shardchannels)
        .flags(&[PubSub, Loading, Stale])
        .doc(
            "List active shard channels",
            "7.0.0",
            "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
        )
        .args(&[Arg::pattern("pattern").optional()]),
    CommandSpec::new("shardnumsub", Arity::AtLeast(2), pubsub_shardnumsub)
        .flags(&[PubSub, Loading, Stale])
        .doc(
            "Get the count of subscribers for shard channels",
            "7.0.0",
            "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
        )
        .args(&[Arg::string("shardchannel").optional().multiple()]),
];

fn subscribe(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    subscribe_to(ctx, args, Kind::Channel)
}

fn unsubscribe(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    unsubscribe_from(ctx, args, Kind::Channel)
}

fn psubscribe(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let id = ctx.client_id();
    let mut confirmations = Vec::with_capacity(args.remaining());
    for pattern in args.rest() {
        ctx.server.pubsub.psubscribe(id, pattern);
        let count = subscription_count(ctx, Kind::Channel);
        confirmations.push(confirmation("psubscribe", Some(pattern.clone()), count));
    }
    ctx.client().subscribed = true;
    Ok(reply(ctx, confirmations))
}

fn punsubscribe(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let id = ctx.client_id();
    let patterns = match args.rest() {
        [] => ctx.server.pubsub.client_patterns(id),
        some => some.to_vec(),
    };
    let mut confirmations = Vec::with_capacity(patterns.len().max(1));
    for pattern in patterns {
        ctx.server.pubsub.punsubscribe(id, &pattern);
        let count = subscription_count(ctx, Kind::Channel);
        confirmations.push(confirmation("punsubscribe", Some(pattern), count));
    }
    if confirmations.is_empty() {
        let count = subscription_count(ctx, Kind::Channel);
        confirmations.push(confirmation("punsubscribe", None, count));
    }
    refresh_subscribed(ctx);
    Ok(reply(ctx, confirmations))
}

fn publish(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    publish_on(ctx, args, Kind::Channel)
}

fn ssubscribe(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    subscribe_to(ctx, args, Kind::Shard)
}

fn sunsubscribe(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    unsubscribe_from(ctx, args, Kind::Shard)
}

fn spublish(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    publish_on(ctx, args, Kind::Shard)
}

/// PUBSUB CHANNELS [pattern].
fn pubsub_channels(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    list_channels(ctx, args, Kind::Channel, "channels")
}

/// PUBSUB HELP.
fn pubsub_help(_ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    const LINES: &[&str] = &[
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
    ];
    Ok(help_reply("PUBSUB", LINES))
}

/// PUBSUB NUMPAT: distinct patterns, however many clients share one.
fn pubsub_numpat(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    Ok(count_reply(ctx.server.pubsub.pattern_count()))
}

/// PUBSUB NUMSUB [channel ...].
fn pubsub_numsub(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    Ok(count_subscribers(ctx, args, Kind::Channel))
}

/// PUBSUB SHARDCHANNELS [pattern].
fn pubsub_shardchannels(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    list_channels(ctx, args, Kind::Shard, "shardchannels")
}

/// PUBSUB SHARDNUMSUB [shardchannel ...].
fn pubsub_shardnumsub(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    Ok(count_subscribers(ctx, args, Kind::Shard))
}

/// SUBSCRIBE / SSUBSCRIBE: one confirmation per channel, repeated ones included.
fn subscribe_to(ctx: &mut CommandContext<'_>, args: &mut Args<'_>, kind: Kind) -> CommandResult {
    let id = ctx.client_id();
    let name = match kind {
        Kind::Channel => "subscribe",
        Kind::Shard => "ssubscribe",
    };
    let mut confirmations = Vec::with_capacity(args.remaining());
    for channel in args.rest() {
        ctx.server.pubsub.subscribe(id, kind, channel);
        let count = subscription_count(ctx, kind);
        confirmations.push(confirmation(name, Some(channel.clone()), count));
    }
    ctx.client().subscribed = true;
    Ok(reply(ctx, confirmations))
}

/// UNSUBSCRIBE / SUNSUBSCRIBE: the named channels, or every one; a client subscribed to
/// nothing still gets one confirmation, with a nil channel.
fn unsubscribe_from(
    ctx: &mut CommandContext<'_>,
    args: &mut Args<'_>,
    kind: Kind,
) -> CommandResult {
    let id = ctx.client_id();
    let name = match kind {
        Kind::Channel => "unsubscribe",
        Kind::Shard => "sunsubscribe",
    };
    let channels = match args.rest() {
        [] => ctx.server.pubsub.client_channels(id, kind),
        some => some.to_vec(),
    };
    let mut confirmations = Vec::with_capacity(channels.len().max(1));
    for channel in channels {
        ctx.server.pubsub.unsubscribe(id, kind, &channel);
        let count = subscription_count(ctx, kind);
        confirmations.push(confirmation(name, Some(channel), count));
    }
    if confirmations.is_empty() {
        let count = subscription_count(ctx, kind);
        confirmations.push(confirmation(name, None, count));
    }
    refresh_subscribed(ctx);
    Ok(reply(ctx, confirmations))
}

/// PUBLISH / SPUBLISH: the number of deliveries.
fn publish_on(ctx: &mut CommandContext<'_>, args: &mut Args<'_>, kind: Kind) -> CommandResult {
    let channel = args.next_bytes()?;
    let message = args.next_bytes()?;
    let now = ctx.now_ms();
    let server = &mut *ctx.server;
    let receivers = deliver(
        &server.pubsub,
        &mut server.clients,
        &server.config,
        now,
        kind,
        channel,
        message,
    );
    // Replicas get the message too (Redis forces its propagation to them); the arguments
    // are copied only when someone consumes the stream.
    if ctx.server.propagation.is_enabled() {
        ctx.also_propagate(args.argv().to_vec());
    }
    Ok(count_reply(receivers))
}

fn list_channels(
    ctx: &mut CommandContext<'_>,
    args: &mut Args<'_>,
    kind: Kind,
    sub: &str,
) -> CommandResult {
    let pattern = match args.rest() {
        [] => None,
        [pattern] => Some(pattern.as_ref()),
        _ => return Err(CommandError::custom(subcommand_syntax("PUBSUB", sub))),
    };
    Ok(Frame::Array(
        ctx.server
            .pubsub
            .channels_matching(kind, pattern)
            .into_iter()
            .map(Frame::Bulk)
            .collect(),
    ))
}

fn count_subscribers(ctx: &mut CommandContext<'_>, args: &mut Args<'_>, kind: Kind) -> Frame {
    let mut reply = Vec::with_capacity(args.remaining() * 2);
    for channel in args.rest() {
        reply.push(Frame::Bulk(channel.clone()));
        reply.push(count_reply(
            ctx.server.pubsub.subscriber_count(kind, channel),
        ));
    }
    Frame::Array(reply)
}

/// The count a confirmation carries: channels plus patterns, or shard channels alone.
fn subscription_count(ctx: &CommandContext<'_>, kind: Kind) -> usize {
    let (channels, patterns, shard) = ctx.server.pubsub.subscription_counts(ctx.client_id());
    match kind {
        Kind::Channel => channels + patterns,
        Kind::Shard => shard,
    }
}

/// Leaves subscribed mode once nothing is left.
fn refresh_subscribed(ctx: &mut CommandContext<'_>) {
    let (channels, patterns, shard) = ctx.server.pubsub.subscription_counts(ctx.client_id());
    ctx.client().subscribed = channels + patterns + shard > 0;
}

fn confirmation(kind: &'static str, channel: Option<Bytes>, count: usize) -> Frame {
    Frame::Push(vec![
        Frame::Bulk(Bytes::from_static(kind.as_bytes())),
        channel.map_or(Frame::Null, Frame::Bulk),
        count_reply(count),
    ])
}

/// The confirmations as the reply; or, when CLIENT REPLY silences the reply, pushed through
/// the connection, which Redis sends regardless.
fn reply(ctx: &mut CommandContext<'_>, mut confirmations: Vec<Frame>) -> Frame {
    let client = ctx.client();
    if client.reply_mode != ReplyMode::On
        && let Some(handle) = client.handle.clone()
    {
        for frame in confirmations {
            handle.push(frame);
        }
        return Frame::Sequence(Vec::new());
    }
    if confirmations.len() == 1 {
        return confirmations.pop().unwrap_or(Frame::Null);
    }
    Frame::Sequence(confirmations)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use oxidis_protocol::RespVersion;

    use super::*;
    use crate::client::ClientId;
    use crate::testing::{CommandRunner, Inbox, bulk, connect_inbox, err};

    fn listener(r: &mut CommandRunner) -> (ClientId, Arc<Inbox>) {
        connect_inbox(&mut r.server, RespVersion::Resp2)
    }

    fn push(items: &[Frame]) -> Frame {
        Frame::Push(items.to_vec())
    }

    #[test]
    fn subscribe_confirms_each_channel_and_publish_delivers() {
        let mut r = CommandRunner::with_builtin_commands();
        let (id, inbox) = listener(&mut r);
        assert_eq!(
            r.run_as(id, &["SUBSCRIBE", "a", "b", "a"]),
            Frame::Sequence(vec![
                push(&[bulk("subscribe"), bulk("a"), Frame::Integer(1)]),
                push(&[bulk("subscribe"), bulk("b"), Frame::Integer(2)]),
                push(&[bulk("subscribe"), bulk("a"), Frame::Integer(2)]),
            ])
        );
        assert_eq!(r.run(["PUBLISH", "a", "hi"]), Frame::Integer(1));
        assert_eq!(r.run(["PUBLISH", "zz", "hi"]), Frame::Integer(0));
        assert_eq!(
            inbox.pushed().as_slice(),
            &[push(&[bulk("message"), bulk("a"), bulk("hi")])]
        );
        assert_eq!(
            r.run(["PUBSUB", "NUMSUB", "a", "x"]),
            Frame::Array(vec![
                bulk("a"),
                Frame::Integer(1),
                bulk("x"),
                Frame::Integer(0)
            ])
        );
    }

    #[test]
    fn resp2_subscribed_mode_allows_only_a_few_commands() {
        let mut r = CommandRunner::with_builtin_commands();
        let (id, _inbox) = listener(&mut r);
        r.run_as(id, &["SUBSCRIBE", "a"]);
        assert_eq!(
            r.run_as(id, &["GET", "k"]),
            err(
                "ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
            )
        );
        assert_eq!(
            r.run_as(id, &["PING"]),
            Frame::Array(vec![bulk("pong"), bulk("")])
        );
        r.server.clients.get_mut(id).unwrap().resp = RespVersion::Resp3;
        assert_eq!(r.run_as(id, &["GET", "k"]), Frame::Null);
        r.run_as(id, &["UNSUBSCRIBE"]);
        assert!(!r.server.clients.get(id).unwrap().subscribed);
    }

    #[test]
    fn patterns_receive_pmessage_and_unsubscribe_all_replies_once() {
        let mut r = CommandRunner::with_builtin_commands();
        let (id, inbox) = listener(&mut r);
        r.run_as(id, &["PSUBSCRIBE", "foo.*"]);
        assert_eq!(r.run(["PUBLISH", "foo.1", "x"]), Frame::Integer(1));
        assert_eq!(
            inbox.pushed().as_slice(),
            &[push(&[
                bulk("pmessage"),
                bulk("foo.*"),
                bulk("foo.1"),
                bulk("x")
            ])]
        );
        assert_eq!(r.run(["PUBSUB", "NUMPAT"]), Frame::Integer(1));
        assert_eq!(
            r.run_as(id, &["PUNSUBSCRIBE"]),
            push(&[bulk("punsubscribe"), bulk("foo.*"), Frame::Integer(0)])
        );
        assert_eq!(
            r.run_as(id, &["UNSUBSCRIBE"]),
            push(&[bulk("unsubscribe"), Frame::Null, Frame::Integer(0)])
        );
    }

    #[test]
    fn keyspace_events_are_published_in_redis_order() {
        use crate::events::class;
        let mut r = CommandRunner::with_builtin_commands();
        r.server.config.notify_keyspace_events = class::KEYEVENT | class::ALL | class::NEW;
        let (id, inbox) = listener(&mut r);
        r.run_as(id, &["PSUBSCRIBE", "*"]);
        r.run(["RPUSH", "src", "a"]);
        r.run(["LMOVE", "src", "dst", "LEFT", "RIGHT"]);
        let events: Vec<Frame> = inbox
            .pushed()
            .iter()
            .map(|m| match m {
                Frame::Push(items) => items[2].clone(),
                other => other.clone(),
            })
            .collect();
        let expected: Vec<Frame> = [
            "__keyevent@0__:new",
            "__keyevent@0__:rpush",
            "__keyevent@0__:new",
            "__keyevent@0__:rpush",
            "__keyevent@0__:lpop",
            "__keyevent@0__:del",
        ]
        .iter()
        .map(|c| bulk(c))
        .collect();
        assert_eq!(events, expected);
    }

    #[test]
    fn shard_channels_are_separate() {
        let mut r = CommandRunner::with_builtin_commands();
        let (id, _inbox) = listener(&mut r);
        r.run_as(id, &["SSUBSCRIBE", "c"]);
        assert_eq!(r.run(["PUBLISH", "c", "x"]), Frame::Integer(0));
        assert_eq!(r.run(["SPUBLISH", "c", "x"]), Frame::Integer(1));
        assert_eq!(
            r.run(["PUBSUB", "SHARDCHANNELS"]),
            Frame::Array(vec![bulk("c")])
        );
        assert_eq!(r.run(["PUBSUB", "CHANNELS"]), Frame::Array(vec![]));
        r.server.disconnect_client(id);
        assert_eq!(
            r.run(["PUBSUB", "SHARDNUMSUB", "c"]),
            Frame::Array(vec![bulk("c"), Frame::Integer(0)])
        );
    }
}
