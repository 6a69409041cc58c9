//! Consumer group commands: XGROUP (CREATE, CREATECONSUMER, DELCONSUMER, DESTROY, SETID, HELP),
//! XACK, XPENDING, XCLAIM and XAUTOCLAIM.

use bytes::Bytes;
use oxidis_protocol::Frame;

use super::ids::{
    entry_frame, id_frame, parse_id_full, parse_int, parse_range_bound, parse_strict_id,
    setid_argv, xclaim_argv,
};
use super::{read_stream, read_stream_mut, write_stream};
use crate::command::{Args, CommandResult, parse_i64};
use crate::context::CommandContext;
use crate::db::Ttl;
use crate::errors::stream::{
    BUSYGROUP, ENTRIES_READ_NEGATIVE, XAUTOCLAIM_COUNT, XAUTOCLAIM_MIN_IDLE, XCLAIM_IDLE,
    XCLAIM_MIN_IDLE, XCLAIM_RETRYCOUNT, XCLAIM_TIME, XGROUP_NO_KEY,
};
use crate::errors::{CommandError, subcommand_syntax};
use crate::events::class;
use crate::families::{count_reply, help_reply};
use crate::types::{ConsumerGroup, Stream, StreamId, Value};

/// What every XGROUP subcommand but HELP reads first: `key group`, the optional `MKSTREAM` and
/// `ENTRIESREAD n` from the fifth argument on (for CREATE and SETID), then the stream.
struct GroupArgs<'a> {
    sub: &'a Bytes,
    key: &'a Bytes,
    group: &'a Bytes,
    mkstream: bool,
    entries_read: Option<u64>,
}

fn group_args<'a>(args: &Args<'a>) -> Result<GroupArgs<'a>, CommandError> {
    let argv = args.argv();
    let sub = &argv[1];
    let create = sub.eq_ignore_ascii_case(b"create");
    let setid = sub.eq_ignore_ascii_case(b"setid");
    let mut parsed = GroupArgs {
        sub,
        key: &argv[2],
        group: &argv[3],
        mkstream: false,
        entries_read: None,
    };
    let mut i = 5;
    while i < argv.len() {
        let opt = &argv[i][..];
        if create && opt.eq_ignore_ascii_case(b"mkstream") {
            parsed.mkstream = true;
            i += 1;
        } else if (create || setid)
            && opt.eq_ignore_ascii_case(b"entriesread")
            && i + 1 < argv.len()
        {
            let n = parse_i64(&argv[i + 1])?;
            parsed.entries_read = match n {
                -1 => None,
                n => Some(u64::try_from(n).map_err(|_| CommandError::msg(ENTRIES_READ_NEGATIVE))?),
            };
            i += 2;
        } else {
            return Err(syntax(sub));
        }
    }
    Ok(parsed)
}

fn syntax(sub: &[u8]) -> CommandError {
    CommandError::custom(subcommand_syntax("XGROUP", &String::from_utf8_lossy(sub)))
}

fn no_group(group: &[u8], key: &[u8]) -> CommandError {
    CommandError::custom(format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        String::from_utf8_lossy(group),
        String::from_utf8_lossy(key)
    ))
}

/// The stream for an XGROUP subcommand that needs the key (and, unless `group_optional`, the
/// group) to exist.
fn group_stream<'c>(
    ctx: &'c mut CommandContext<'_>,
    a: &GroupArgs<'_>,
    group_optional: bool,
) -> Result<&'c mut Stream, CommandError> {
    let stream = write_stream(ctx, a.key)?.ok_or(CommandError::msg(XGROUP_NO_KEY))?;
    if !group_optional && stream.group(a.group).is_none() {
        return Err(no_group(a.group, a.key));
    }
    Ok(stream)
}

/// XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n]
pub(super) fn xgroup_create(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let a = group_args(args)?;
    let argv = args.argv();
    let exists = match write_stream(ctx, a.key)? {
        Some(_) => true,
        None if a.mkstream => false,
        None => return Err(CommandError::msg(XGROUP_NO_KEY)),
    };
    if argv.len() > 8 {
        return Err(syntax(a.sub));
    }
    let id = match &argv[4][..] {
        b"$" => match write_stream(ctx, a.key)? {
            Some(stream) => stream.last_id(),
            None => StreamId::MIN,
        },
        other => parse_strict_id(other)?,
    };
    if !exists {
        ctx.set(a.key, Value::Stream(Box::new(Stream::new())), Ttl::Clear);
    }
    let Some(stream) = write_stream(ctx, a.key)? else {
        return Err(CommandError::msg(XGROUP_NO_KEY));
    };
    if stream.group(a.group).is_some() {
        return Err(CommandError::msg(BUSYGROUP));
    }
    stream
        .groups_mut()
        .insert(a.group.clone(), ConsumerGroup::new(id, a.entries_read));
    ctx.changed(1);
    ctx.notify(class::STREAM, "xgroup-create", a.key);
    Ok(Frame::ok())
}

/// XGROUP SETID key group id|$ [ENTRIESREAD n]
pub(super) fn xgroup_setid(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let a = group_args(args)?;
    let argv = args.argv();
    let stream = group_stream(ctx, &a, false)?;
    if argv.len() != 5 && argv.len() != 7 {
        return Err(syntax(a.sub));
    }
    let id = match &argv[4][..] {
        b"$" => stream.last_id(),
        other => parse_id_full(other, 0, false, false)?.id,
    };
    if let Some(group) = stream.group_mut(a.group) {
        group.last_id = id;
        group.entries_read = a.entries_read;
    }
    ctx.changed(1);
    ctx.notify(class::STREAM, "xgroup-setid", a.key);
    Ok(Frame::ok())
}

/// XGROUP DESTROY key group
pub(super) fn xgroup_destroy(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let a = group_args(args)?;
    let stream = group_stream(ctx, &a, true)?;
    if stream.groups_mut().remove(&a.group[..]).is_none() {
        return Ok(Frame::Integer(0));
    }
    // Clients blocked in XREADGROUP on this group are woken by the write and get -NOGROUP.
    ctx.changed(1);
    ctx.notify(class::STREAM, "xgroup-destroy", a.key);
    Ok(Frame::Integer(1))
}

/// XGROUP CREATECONSUMER key group consumer
pub(super) fn xgroup_createconsumer(
    ctx: &mut CommandContext<'_>,
    args: &mut Args<'_>,
) -> CommandResult {
    let a = group_args(args)?;
    let consumer = &args.argv()[4];
    let now = ctx.now_ms();
    let stream = group_stream(ctx, &a, false)?;
    let created = stream
        .group_mut(a.group)
        .is_some_and(|g| g.create_consumer(consumer, now));
    if created {
        ctx.changed(1);
        ctx.notify(class::STREAM, "xgroup-createconsumer", a.key);
    }
    Ok(Frame::Integer(i64::from(created)))
}

/// XGROUP DELCONSUMER key group consumer
pub(super) fn xgroup_delconsumer(
    ctx: &mut CommandContext<'_>,
    args: &mut Args<'_>,
) -> CommandResult {
    let a = group_args(args)?;
    let consumer = &args.argv()[4];
    let stream = group_stream(ctx, &a, false)?;
    let pending = stream
        .group_mut(a.group)
        .and_then(|g| g.delete_consumer(consumer));
    if pending.is_some() {
        ctx.changed(1);
        ctx.notify(class::STREAM, "xgroup-delconsumer", a.key);
    }
    Ok(count_reply(pending.unwrap_or(0)))
}

/// XGROUP HELP
pub(super) fn xgroup_help(_ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    const LINES: &[&str] = &[
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
    ];
    Ok(help_reply("XGROUP", LINES))
}

/// XACK key group id [id ...]
pub(super) fn xack(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let group = args.next_bytes()?;
    let raw_ids = args.rest();
    let Some(stream) = read_stream_mut(ctx, key)? else {
        return Ok(Frame::Integer(0));
    };
    let Some(group) = stream.group_mut(group) else {
        return Ok(Frame::Integer(0));
    };
    // All or nothing: every id is checked before any is acknowledged.
    let ids = raw_ids
        .iter()
        .map(|a| parse_strict_id(a))
        .collect::<Result<Vec<_>, _>>()?;
    let acknowledged = ids.into_iter().filter(|id| group.acknowledge(*id)).count();
    ctx.changed(acknowledged as u64);
    Ok(count_reply(acknowledged))
}

fn no_key_or_group(key: &[u8], group: &[u8]) -> CommandError {
    CommandError::custom(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

/// XPENDING key group [[IDLE min-idle] start end count [consumer]]
pub(super) fn xpending(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let argv = args.argv();
    let (key, group_name) = (&argv[1], &argv[2]);
    if argv.len() != 3 && !(6..=9).contains(&argv.len()) {
        return Err(CommandError::Syntax);
    }
    let mut range = None;
    if argv.len() >= 6 {
        let mut at = 3;
        let mut min_idle = 0;
        if argv[3].eq_ignore_ascii_case(b"idle") {
            min_idle = parse_i64(&argv[4])?;
            if argv.len() < 8 {
                return Err(CommandError::Syntax);
            }
            at += 2;
        }
        let count = usize::try_from(parse_i64(&argv[at + 2])?).unwrap_or(0);
        let start = parse_range_bound(&argv[at], 0, true)?;
        let end = parse_range_bound(&argv[at + 1], u64::MAX, false)?;
        range = Some((min_idle, start, end, count, argv.get(at + 3)));
    }
    let now = ctx.now_ms();
    let stream = read_stream(ctx, key)?;
    let Some(group) = stream.and_then(|s| s.group(group_name)) else {
        return Err(no_key_or_group(key, group_name));
    };
    let Some((min_idle, start, end, count, consumer)) = range else {
        let pel = group.pel();
        let (Some((first, _)), Some((last, _))) = (pel.first_key_value(), pel.last_key_value())
        else {
            return Ok(Frame::Array(vec![
                Frame::Integer(0),
                Frame::Null,
                Frame::Null,
                Frame::NullArray,
            ]));
        };
        let owners = group
            .consumers()
            .iter()
            .filter(|(_, c)| !c.pending().is_empty())
            .map(|(name, c)| {
                Frame::Array(vec![
                    Frame::Bulk(name.clone()),
                    Frame::Bulk(Bytes::from(c.pending().len().to_string())),
                ])
            })
            .collect();
        return Ok(Frame::Array(vec![
            count_reply(pel.len()),
            id_frame(*first),
            id_frame(*last),
            Frame::Array(owners),
        ]));
    };
    let ids: Vec<StreamId> = match consumer {
        Some(name) => match group.consumer(name) {
            Some(c) => c
                .pending()
                .range(start..)
                .take_while(|id| **id <= end)
                .copied()
                .collect(),
            None => return Ok(Frame::Array(Vec::new())),
        },
        None => group
            .pel()
            .range(start..)
            .take_while(|(id, _)| **id <= end)
            .map(|(id, _)| *id)
            .collect(),
    };
    let mut reply = Vec::new();
    for id in ids {
        if reply.len() >= count {
            break;
        }
        let Some(p) = group.pending(id) else { continue };
        let idle = i64::try_from(now.saturating_sub(p.delivery_time)).unwrap_or(i64::MAX);
        if min_idle != 0 && idle < min_idle {
            continue;
        }
        reply.push(Frame::Array(vec![
            id_frame(id),
            Frame::Bulk(p.consumer.clone()),
            Frame::Integer(idle),
            count_reply(p.delivery_count),
        ]));
    }
    Ok(Frame::Array(reply))
}

/// Finds `consumer` (refreshing its seen time) or creates it; whether it was created.
fn touch_consumer(group: &mut ConsumerGroup, consumer: &[u8], now: u64) -> bool {
    match group.consumer_mut(consumer) {
        Some(c) => {
            c.seen_time = now;
            false
        }
        None => group.create_consumer(consumer, now),
    }
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME ms] [RETRYCOUNT n]
/// [FORCE] [JUSTID] [LASTID id]
pub(super) fn xclaim(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let argv = args.argv();
    let (key, group_name, consumer) = (&argv[1], &argv[2], &argv[3]);
    let now = ctx.now_ms();
    {
        let stream = read_stream(ctx, key)?;
        if stream.and_then(|s| s.group(group_name)).is_none() {
            return Err(no_key_or_group(key, group_name));
        }
    }
    let min_idle = parse_int(&argv[4], XCLAIM_MIN_IDLE)?.max(0);
    // The ids run up to the first argument that is not one; options follow.
    let mut ids = Vec::new();
    let mut j = 5;
    while let Some(id) = argv.get(j).and_then(|a| parse_strict_id(a).ok()) {
        ids.push(id);
        j += 1;
    }
    let mut force = false;
    let mut justid = false;
    let mut delivery_time: Option<i64> = None;
    let mut retry_count: Option<i64> = None;
    let mut last_id = StreamId::MIN;
    let now_i = i64::try_from(now).unwrap_or(i64::MAX);
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let opt = &argv[j][..];
        if opt.eq_ignore_ascii_case(b"force") {
            force = true;
        } else if opt.eq_ignore_ascii_case(b"justid") {
            justid = true;
        } else if opt.eq_ignore_ascii_case(b"idle") && more > 0 {
            j += 1;
            delivery_time = Some(now_i.saturating_sub(parse_int(&argv[j], XCLAIM_IDLE)?));
        } else if opt.eq_ignore_ascii_case(b"time") && more > 0 {
            j += 1;
            delivery_time = Some(parse_int(&argv[j], XCLAIM_TIME)?);
        } else if opt.eq_ignore_ascii_case(b"retrycount") && more > 0 {
            j += 1;
            retry_count = Some(parse_int(&argv[j], XCLAIM_RETRYCOUNT)?);
        } else if opt.eq_ignore_ascii_case(b"lastid") && more > 0 {
            j += 1;
            last_id = parse_strict_id(&argv[j])?;
        } else {
            return Err(CommandError::custom(format!(
                "ERR Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(opt)
            )));
        }
        j += 1;
    }
    // A delivery time in the future or before the epoch means "now".
    let delivery_time = delivery_time
        .filter(|t| (0..=now_i).contains(t))
        .map_or(now, |t| t.unsigned_abs());
    let Some(stream) = read_stream_mut(ctx, key)? else {
        return Err(no_key_or_group(key, group_name));
    };
    let mut claimed = Vec::new();
    let mut created = false;
    let mut changes = 0u64;
    let mut consumer_ready = false;
    // What reaches replicas: an XCLAIM per entry changed, else the moved last id.
    let mut ops = Vec::new();
    let mut propagate_last_id = false;
    if let Some(group) = stream.group_mut(group_name)
        && last_id > group.last_id
    {
        group.last_id = last_id;
        propagate_last_id = true;
    }
    for id in ids {
        let exists = stream.get(id).is_some();
        let Some(group) = stream.group_mut(group_name) else {
            break;
        };
        if !exists {
            // Pending but deleted from the stream: dropped from the PEL.
            if let Some(p) = group.pending(id).cloned() {
                ops.push(xclaim_argv(
                    key,
                    group_name,
                    &p.consumer,
                    id,
                    p.delivery_time,
                    p.delivery_count,
                    group.last_id,
                ));
                propagate_last_id = false;
                group.acknowledge(id);
                changes += 1;
            }
            continue;
        }
        let pending = group.pending(id).cloned();
        let (old_time, old_count, owned) = match &pending {
            Some(p) => (p.delivery_time, p.delivery_count, true),
            // FORCE makes a pending entry (delivered once, to nobody yet).
            None if force => (now, 1, false),
            None => continue,
        };
        if owned && min_idle != 0 {
            let idle = i64::try_from(now.saturating_sub(old_time)).unwrap_or(i64::MAX);
            if idle < min_idle {
                continue;
            }
        }
        if !consumer_ready {
            created |= touch_consumer(group, consumer, now);
            consumer_ready = true;
        }
        let count = match retry_count {
            Some(n) => u64::try_from(n).unwrap_or(0),
            None if !justid => old_count + 1,
            None => old_count,
        };
        group.assign(id, consumer, delivery_time, count);
        ops.push(xclaim_argv(
            key,
            group_name,
            consumer,
            id,
            delivery_time,
            count,
            group.last_id,
        ));
        propagate_last_id = false;
        claimed.push(id);
        changes += 1;
    }
    if propagate_last_id && let Some(group) = stream.group(group_name) {
        ops.push(setid_argv(
            key,
            group_name,
            group.last_id,
            group.entries_read,
        ));
        changes += 1;
    }
    let reply = claimed_frames(stream, &claimed, justid);
    finish_claim(ctx, key, created, changes, ops);
    Ok(Frame::Array(reply))
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
pub(super) fn xautoclaim(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    const ATTEMPTS_FACTOR: u64 = 10;
    let argv = args.argv();
    let (key, group_name, consumer) = (&argv[1], &argv[2], &argv[3]);
    let min_idle = parse_int(&argv[4], XAUTOCLAIM_MIN_IDLE)?.max(0);
    let start = parse_range_bound(&argv[5], 0, true)?;
    let mut count: u64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let opt = &argv[j][..];
        if opt.eq_ignore_ascii_case(b"count") && more > 0 {
            let max = i64::MAX / 16;
            let n = parse_int(&argv[j + 1], XAUTOCLAIM_COUNT)?;
            if !(1..=max).contains(&n) {
                return Err(CommandError::msg(XAUTOCLAIM_COUNT));
            }
            count = n.unsigned_abs();
            j += 1;
        } else if opt.eq_ignore_ascii_case(b"justid") {
            justid = true;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    let now = ctx.now_ms();
    let Some(stream) = read_stream_mut(ctx, key)? else {
        return Err(no_key_or_group(key, group_name));
    };
    if stream.group(group_name).is_none() {
        return Err(no_key_or_group(key, group_name));
    }
    let mut attempts = count.saturating_mul(ATTEMPTS_FACTOR);
    let mut cursor = Some(start);
    let mut claimed = Vec::new();
    let mut deleted = Vec::new();
    let mut created = false;
    let mut consumer_ready = false;
    let mut changes = 0u64;
    let mut ops = Vec::new();
    let next_pending = |stream: &Stream, from: Option<StreamId>| {
        from.and_then(|from| {
            stream
                .group(group_name)
                .and_then(|g| g.pel().range(from..).next().map(|(id, p)| (*id, p.clone())))
        })
    };
    while attempts > 0 && count > 0 {
        attempts -= 1;
        let Some((id, pending)) = next_pending(stream, cursor) else {
            cursor = None;
            break;
        };
        cursor = id.next();
        let exists = stream.get(id).is_some();
        let Some(group) = stream.group_mut(group_name) else {
            break;
        };
        if !exists {
            ops.push(xclaim_argv(
                key,
                group_name,
                &pending.consumer,
                id,
                pending.delivery_time,
                pending.delivery_count,
                group.last_id,
            ));
            group.acknowledge(id);
            deleted.push(id);
            count -= 1;
            changes += 1;
            continue;
        }
        if min_idle != 0 {
            let idle = i64::try_from(now.saturating_sub(pending.delivery_time)).unwrap_or(i64::MAX);
            if idle < min_idle {
                continue;
            }
        }
        if !consumer_ready {
            created |= touch_consumer(group, consumer, now);
            consumer_ready = true;
        }
        let delivery_count = if justid {
            pending.delivery_count
        } else {
            pending.delivery_count + 1
        };
        group.assign(id, consumer, now, delivery_count);
        ops.push(xclaim_argv(
            key,
            group_name,
            consumer,
            id,
            now,
            delivery_count,
            group.last_id,
        ));
        claimed.push(id);
        count -= 1;
        changes += 1;
    }
    // The cursor is the next pending id not looked at, or 0-0 when the PEL was exhausted.
    let next = next_pending(stream, cursor).map_or(StreamId::MIN, |(id, _)| id);
    let entries = claimed_frames(stream, &claimed, justid);
    finish_claim(ctx, key, created, changes, ops);
    Ok(Frame::Array(vec![
        id_frame(next),
        Frame::Array(entries),
        Frame::Array(deleted.into_iter().map(id_frame).collect()),
    ]))
}

/// The reply entries of XCLAIM and XAUTOCLAIM: each claimed entry, or only its id with
/// JUSTID (or when it was deleted from the stream meanwhile).
fn claimed_frames(stream: &Stream, claimed: &[StreamId], justid: bool) -> Vec<Frame> {
    claimed
        .iter()
        .map(|&id| match (justid, stream.get(id)) {
            (false, Some(entry)) => entry_frame(&entry),
            _ => id_frame(id),
        })
        .collect()
}

/// What XCLAIM and XAUTOCLAIM do last: the consumer's creation event, the dirty count, and
/// their propagation as the explicit operations collected (never the command itself).
fn finish_claim(
    ctx: &mut CommandContext<'_>,
    key: &[u8],
    created: bool,
    mut changes: u64,
    ops: Vec<Vec<Bytes>>,
) {
    if created {
        ctx.notify(class::STREAM, "xgroup-createconsumer", key);
        changes += 1;
    }
    ctx.changed(changes);
    ctx.prevent_propagation();
    for op in ops {
        ctx.also_propagate(op);
    }
}
