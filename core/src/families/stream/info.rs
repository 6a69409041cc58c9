//! XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS and XINFO HELP.

use bytes::Bytes;
use oxidis_protocol::Frame;

use super::ids::{entry_frame, id_frame};
use crate::command::{Args, CommandResult};
use crate::context::CommandContext;
use crate::errors::{CommandError, NO_SUCH_KEY, subcommand_syntax};
use crate::families::{count_reply, help_reply};
use crate::types::{ConsumerGroup, Stream, StreamId};

fn field(name: &'static str) -> Frame {
    Frame::Bulk(Bytes::from_static(name.as_bytes()))
}

/// The stream under the key in the third argument; `ERR no such key` when missing.
fn info_stream<'c>(
    ctx: &'c mut CommandContext<'_>,
    key: &[u8],
) -> Result<&'c Stream, CommandError> {
    match ctx.read(key) {
        None => Err(CommandError::msg(NO_SUCH_KEY)),
        Some(value) => value.as_stream(),
    }
}

fn syntax(sub: &[u8]) -> CommandError {
    CommandError::custom(subcommand_syntax("XINFO", &String::from_utf8_lossy(sub)))
}

/// A group's `entries-read`: nil while unknown.
fn entries_read_frame(group: &ConsumerGroup) -> Frame {
    group.entries_read.map_or(Frame::Null, count_reply)
}

fn lag_frame(stream: &Stream, group: &ConsumerGroup) -> Frame {
    stream.group_lag(group).map_or(Frame::Null, count_reply)
}

/// XINFO STREAM key [FULL [COUNT count]]
pub(super) fn xinfo_stream(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let argv = args.argv();
    let options = &argv[3..];
    let mut count: usize = 10;
    let full = match options {
        [] => false,
        [f] if f.eq_ignore_ascii_case(b"full") => true,
        [f, c, n] if f.eq_ignore_ascii_case(b"full") && c.eq_ignore_ascii_case(b"count") => {
            let n = crate::command::parse_i64(n)?;
            count = if n < 0 {
                10
            } else {
                usize::try_from(n).unwrap_or(usize::MAX)
            };
            true
        }
        _ => return Err(syntax(&argv[1])),
    };
    let stream = info_stream(ctx, &argv[2])?;
    let limit = if count == 0 { usize::MAX } else { count };
    let mut map = vec![
        (field("length"), count_reply(stream.len())),
        (field("radix-tree-keys"), count_reply(stream.node_count())),
        (field("radix-tree-nodes"), count_reply(radix_nodes(stream))),
        (field("last-generated-id"), id_frame(stream.last_id())),
        (
            field("max-deleted-entry-id"),
            id_frame(stream.max_deleted_entry_id()),
        ),
        (field("entries-added"), count_reply(stream.entries_added())),
        (
            field("recorded-first-entry-id"),
            id_frame(stream.first_id()),
        ),
    ];
    if !full {
        map.push((field("groups"), count_reply(stream.groups().len())));
        let first = stream
            .entries()
            .next()
            .map_or(Frame::Null, |e| entry_frame(&e));
        let last = stream
            .range_rev(StreamId::MIN, StreamId::MAX)
            .next()
            .map_or(Frame::Null, |e| entry_frame(&e));
        map.push((field("first-entry"), first));
        map.push((field("last-entry"), last));
        return Ok(Frame::Map(map));
    }
    let entries = stream
        .entries()
        .take(limit)
        .map(|e| entry_frame(&e))
        .collect();
    map.push((field("entries"), Frame::Array(entries)));
    let groups = stream
        .groups()
        .iter()
        .map(|(name, group)| {
            let pel = group
                .pel()
                .iter()
                .take(limit)
                .map(|(id, p)| {
                    Frame::Array(vec![
                        id_frame(*id),
                        Frame::Bulk(p.consumer.clone()),
                        count_reply(p.delivery_time),
                        count_reply(p.delivery_count),
                    ])
                })
                .collect();
            let consumers = group
                .consumers()
                .iter()
                .map(|(cname, c)| {
                    let pending = c
                        .pending()
                        .iter()
                        .take(limit)
                        .filter_map(|id| {
                            let p = group.pending(*id)?;
                            Some(Frame::Array(vec![
                                id_frame(*id),
                                count_reply(p.delivery_time),
                                count_reply(p.delivery_count),
                            ]))
                        })
                        .collect();
                    Frame::Map(vec![
                        (field("name"), Frame::Bulk(cname.clone())),
                        (field("seen-time"), count_reply(c.seen_time)),
                        (field("pel-count"), count_reply(c.pending().len())),
                        (field("pending"), Frame::Array(pending)),
                    ])
                })
                .collect();
            Frame::Map(vec![
                (field("name"), Frame::Bulk(name.clone())),
                (field("last-delivered-id"), id_frame(group.last_id)),
                (field("entries-read"), entries_read_frame(group)),
                (field("lag"), lag_frame(stream, group)),
                (field("pel-count"), count_reply(group.pel().len())),
                (field("pending"), Frame::Array(pel)),
                (field("consumers"), Frame::Array(consumers)),
            ])
        })
        .collect();
    map.push((field("groups"), Frame::Array(groups)));
    Ok(Frame::Map(map))
}

/// What Redis's radix tree would report as its node count: ours is a B-tree, so this is an
/// estimate (one node per key plus the shared prefix nodes above them).
fn radix_nodes(stream: &Stream) -> usize {
    match stream.node_count() {
        0 => 1,
        n => n * 2,
    }
}

/// XINFO GROUPS key
pub(super) fn xinfo_groups(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let stream = info_stream(ctx, key)?;
    let groups = stream
        .groups()
        .iter()
        .map(|(name, group)| {
            Frame::Map(vec![
                (field("name"), Frame::Bulk(name.clone())),
                (field("consumers"), count_reply(group.consumers().len())),
                (field("pending"), count_reply(group.pel().len())),
                (field("last-delivered-id"), id_frame(group.last_id)),
                (field("entries-read"), entries_read_frame(group)),
                (field("lag"), lag_frame(stream, group)),
            ])
        })
        .collect();
    Ok(Frame::Array(groups))
}

/// XINFO CONSUMERS key group
pub(super) fn xinfo_consumers(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let group_name = args.next_bytes()?;
    let now = ctx.now_ms();
    let stream = info_stream(ctx, key)?;
    let Some(group) = stream.group(group_name) else {
        return Err(CommandError::custom(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            String::from_utf8_lossy(group_name),
            String::from_utf8_lossy(key)
        )));
    };
    let consumers = group
        .consumers()
        .iter()
        .map(|(name, c)| {
            Frame::Map(vec![
                (field("name"), Frame::Bulk(name.clone())),
                (field("pending"), count_reply(c.pending().len())),
                (field("idle"), count_reply(now.saturating_sub(c.seen_time))),
            ])
        })
        .collect();
    Ok(Frame::Array(consumers))
}

/// XINFO HELP
pub(super) fn xinfo_help(_ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    const LINES: &[&str] = &[
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
    ];
    Ok(help_reply("XINFO", LINES))
}
