//! XREAD and XREADGROUP: one parser and one reader (Redis's `xreadCommand` serves both), with
//! BLOCK through the blocking machinery.

use bytes::Bytes;
use oxidis_protocol::{Frame, RespVersion};

use super::ids::{
    createconsumer_argv, entry_frame, id_frame, parse_strict_id, setid_argv, xclaim_argv,
};
use super::read_stream;
use crate::command::{Args, CommandResult, parse_i64};
use crate::context::CommandContext;
use crate::errors::stream::{
    DOLLAR_WITH_XREADGROUP, GROUP_WITH_XREAD, GT_WITH_XREAD, KEY_GONE, MISSING_GROUP,
    NOACK_WITH_XREAD, TIMEOUT_NOT_INTEGER, UNBALANCED,
};
use crate::errors::{CommandError, TIMEOUT_NEGATIVE};
use crate::events::class;
use crate::types::{Stream, StreamId, ValueType};

/// How many entries a blocked reader gets when it named no COUNT (Redis's
/// `XREAD_BLOCKED_DEFAULT_COUNT`).
const BLOCKED_DEFAULT_COUNT: &str = "1000";

/// XREAD [COUNT count] [BLOCK ms] STREAMS key [key ...] id [id ...]
pub(super) fn xread(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    read(ctx, args.argv(), false)
}

/// XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS key ... id ...
pub(super) fn xreadgroup(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    read(ctx, args.argv(), true)
}

/// What the arguments ask for.
struct Request<'a> {
    timeout: Option<u64>,
    count: usize,
    count_given: bool,
    /// Index of the first key.
    streams_at: usize,
    keys: &'a [Bytes],
    group: Option<(&'a Bytes, &'a Bytes)>,
    noack: bool,
}

fn parse(argv: &[Bytes], group_mode: bool, in_script: bool) -> Result<Request<'_>, CommandError> {
    let mut request = Request {
        timeout: None,
        count: 0,
        count_given: false,
        streams_at: 0,
        keys: &[],
        group: None,
        noack: false,
    };
    let mut i = 1;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        let opt = &argv[i][..];
        if opt.eq_ignore_ascii_case(b"block") && more > 0 {
            // Redis refuses BLOCK from a script outright, before reading the timeout.
            if in_script {
                let name = String::from_utf8_lossy(&argv[0]).into_owned();
                return Err(CommandError::custom(format!(
                    "ERR {name} command is not allowed with BLOCK option from scripts"
                )));
            }
            i += 1;
            let ms = parse_i64(&argv[i]).map_err(|_| CommandError::msg(TIMEOUT_NOT_INTEGER))?;
            let ms = u64::try_from(ms).map_err(|_| CommandError::msg(TIMEOUT_NEGATIVE))?;
            request.timeout = Some(ms);
        } else if opt.eq_ignore_ascii_case(b"count") && more > 0 {
            i += 1;
            request.count = usize::try_from(parse_i64(&argv[i])?).unwrap_or(0);
            request.count_given = true;
        } else if opt.eq_ignore_ascii_case(b"streams") && more > 0 {
            let start = i + 1;
            let n = argv.len() - start;
            if !n.is_multiple_of(2) {
                return Err(CommandError::msg(UNBALANCED));
            }
            request.streams_at = start;
            request.keys = &argv[start..start + n / 2];
            break;
        } else if opt.eq_ignore_ascii_case(b"group") && more >= 2 {
            if !group_mode {
                return Err(CommandError::msg(GROUP_WITH_XREAD));
            }
            request.group = Some((&argv[i + 1], &argv[i + 2]));
            i += 2;
        } else if opt.eq_ignore_ascii_case(b"noack") {
            if !group_mode {
                return Err(CommandError::msg(NOACK_WITH_XREAD));
            }
            request.noack = true;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    if request.streams_at == 0 {
        return Err(CommandError::Syntax);
    }
    if group_mode && request.group.is_none() {
        return Err(CommandError::msg(MISSING_GROUP));
    }
    Ok(request)
}

/// `>`: deliver entries the group has not delivered yet.
const NEW_ENTRIES: StreamId = StreamId::MAX;

fn read(ctx: &mut CommandContext<'_>, argv: &[Bytes], group_mode: bool) -> CommandResult {
    let request = parse(argv, group_mode, ctx.in_script())?;
    // What XREADGROUP changes reaches replicas as XCLAIM and XGROUP commands instead.
    if group_mode {
        ctx.prevent_propagation();
    }
    let id_args = &argv[request.streams_at + request.keys.len()..];
    let mut ids = Vec::with_capacity(id_args.len());
    for (key, arg) in request.keys.iter().zip(id_args) {
        let stream = read_stream(ctx, key)?;
        if let Some((group, _)) = request.group
            && stream.is_none_or(|s| s.group(group).is_none())
        {
            return Err(CommandError::custom(format!(
                "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                String::from_utf8_lossy(key),
                String::from_utf8_lossy(group)
            )));
        }
        let id = match &arg[..] {
            b"$" if group_mode => return Err(CommandError::msg(DOLLAR_WITH_XREADGROUP)),
            b"$" => stream.map_or(StreamId::MIN, Stream::last_id),
            b">" if !group_mode => return Err(CommandError::msg(GT_WITH_XREAD)),
            b">" => NEW_ENTRIES,
            other => parse_strict_id(other)?,
        };
        ids.push(id);
    }

    let mut served = Vec::new();
    for (key, &id) in request.keys.iter().zip(&ids) {
        let entries = match request.group {
            Some((group, consumer)) => {
                read_group(ctx, key, group, consumer, id, request.count, request.noack)?
            }
            None => read_plain(ctx, key, id, request.count)?,
        };
        if let Some(entries) = entries {
            served.push((Frame::Bulk(key.clone()), entries));
        }
    }
    if !served.is_empty() {
        return Ok(match ctx.resp() {
            RespVersion::Resp2 => Frame::Array(
                served
                    .into_iter()
                    .map(|(k, v)| Frame::Array(vec![k, v]))
                    .collect(),
            ),
            _ => Frame::Map(served),
        });
    }
    let Some(timeout) = request.timeout else {
        return Ok(Frame::NullArray);
    };
    // Run again when woken, with `$` replaced by the ids it stood for now, and Redis's
    // default COUNT for a blocked reader.
    let mut rerun: Vec<Bytes> = argv[..request.streams_at - 1].to_vec();
    if !request.count_given || request.count == 0 {
        rerun.push(Bytes::from_static(b"COUNT"));
        rerun.push(Bytes::from_static(BLOCKED_DEFAULT_COUNT.as_bytes()));
    }
    rerun.extend_from_slice(&argv[request.streams_at - 1..request.streams_at + request.keys.len()]);
    for (arg, id) in id_args.iter().zip(&ids) {
        rerun.push(if &arg[..] == b"$" {
            Bytes::from(id.to_string())
        } else {
            arg.clone()
        });
    }
    let timeout = (timeout > 0).then(|| std::time::Duration::from_millis(timeout));
    let key_gone = group_mode.then(|| Frame::error(KEY_GONE));
    ctx.block_rerun(
        request.keys.to_vec(),
        ValueType::Stream,
        timeout,
        Frame::NullArray,
        rerun,
        key_gone,
    )
}

/// XREAD on one stream: the entries after `after`, if there are any.
fn read_plain(
    ctx: &mut CommandContext<'_>,
    key: &[u8],
    after: StreamId,
    count: usize,
) -> Result<Option<Frame>, CommandError> {
    let Some(stream) = read_stream(ctx, key)? else {
        return Ok(None);
    };
    if stream.is_empty() || stream.last_valid_id().is_none_or(|top| top <= after) {
        return Ok(None);
    }
    let Some(start) = after.next() else {
        return Ok(None);
    };
    let limit = if count == 0 { usize::MAX } else { count };
    Ok(Some(Frame::Array(
        stream
            .range(start, StreamId::MAX)
            .take(limit)
            .map(|e| entry_frame(&e))
            .collect(),
    )))
}

/// XREADGROUP on one stream: new entries (`>`) or the consumer's own pending history.
fn read_group(
    ctx: &mut CommandContext<'_>,
    key: &[u8],
    group_name: &[u8],
    consumer: &[u8],
    id: StreamId,
    count: usize,
    noack: bool,
) -> Result<Option<Frame>, CommandError> {
    let now = ctx.now_ms();
    let Some(pos) = ctx.lookup_read(key) else {
        return Ok(None);
    };
    let stream = ctx.db().entry_mut(pos).value.as_stream_mut()?;
    let Some(group) = stream.group(group_name) else {
        return Ok(None);
    };
    let history = id != NEW_ENTRIES;
    let after = if history {
        id
    } else {
        match stream.last_valid_id() {
            Some(top) if !stream.is_empty() && top > group.last_id => group.last_id,
            _ => return Ok(None),
        }
    };
    // Redis's streamIncrID wraps the largest id to 0-0.
    let start = after.next().unwrap_or(StreamId::MIN);
    let limit = if count == 0 { usize::MAX } else { count };
    let mut created = false;
    let (reply, ops) = {
        let Some(group) = stream.group_mut(group_name) else {
            return Ok(None);
        };
        match group.consumer_mut(consumer) {
            Some(c) => c.seen_time = now,
            None => created = group.create_consumer(consumer, now),
        }
        if history {
            let reply = history_reply(stream, group_name, consumer, start, limit, now);
            (reply, Vec::new())
        } else {
            let read = NewEntries {
                key,
                group: group_name,
                consumer,
                start,
                limit,
                now,
                noack,
            };
            new_entries_reply(stream, &read)
        }
    };
    if created {
        ctx.notify(class::STREAM, "xgroup-createconsumer", key);
        ctx.changed(1);
        if noack {
            ctx.also_propagate(createconsumer_argv(key, group_name, consumer));
        }
    }
    for op in ops {
        ctx.also_propagate(op);
    }
    ctx.changed(1);
    Ok(Some(reply))
}

/// The consumer's pending entries from `start`: each entry as it is now, or `[id, nil]` when it
/// was deleted since; each delivery is counted.
fn history_reply(
    stream: &mut Stream,
    group_name: &[u8],
    consumer: &[u8],
    start: StreamId,
    limit: usize,
    now: u64,
) -> Frame {
    let ids: Vec<StreamId> = stream
        .group(group_name)
        .and_then(|g| g.consumer(consumer))
        .map(|c| c.pending().range(start..).take(limit).copied().collect())
        .unwrap_or_default();
    let mut reply = Vec::with_capacity(ids.len());
    let mut delivered = Vec::new();
    for id in ids {
        match stream.get(id) {
            Some(entry) => {
                reply.push(entry_frame(&entry));
                delivered.push(id);
            }
            None => reply.push(Frame::Array(vec![id_frame(id), Frame::NullArray])),
        }
    }
    if let Some(group) = stream.group_mut(group_name) {
        for id in delivered {
            if let Some(p) = group.pending_mut(id) {
                p.delivery_time = now;
                p.delivery_count += 1;
            }
        }
    }
    Frame::Array(reply)
}

/// One `>` read of a group.
struct NewEntries<'a> {
    key: &'a [u8],
    group: &'a [u8],
    consumer: &'a [u8],
    start: StreamId,
    limit: usize,
    now: u64,
    noack: bool,
}

/// Entries from `start` not yet delivered to the group: the group's position moves, and each
/// entry becomes pending for `consumer` (unless NOACK). Also returns what to propagate: an
/// XCLAIM per pending entry made, or with NOACK an XGROUP SETID when the group moved.
fn new_entries_reply(stream: &mut Stream, read: &NewEntries<'_>) -> (Frame, Vec<Vec<Bytes>>) {
    let Some(group) = stream.group(read.group) else {
        return (Frame::Array(Vec::new()), Vec::new());
    };
    let (mut last_id, mut entries_read) = (group.last_id, group.entries_read);
    let moved_from = last_id;
    let mut reply = Vec::new();
    // Each id with the group's last id once it was delivered.
    let mut ids = Vec::new();
    for entry in stream.range(read.start, StreamId::MAX).take(read.limit) {
        let id = entry.id();
        if id > last_id {
            entries_read = match entries_read {
                Some(read) if !stream.range_has_tombstones(id, StreamId::MAX) => Some(read + 1),
                _ if stream.entries_added() > 0 => {
                    stream.estimate_distance_from_first_ever_entry(id)
                }
                other => other,
            };
            last_id = id;
        }
        reply.push(entry_frame(&entry));
        ids.push((id, last_id));
    }
    let mut ops = Vec::new();
    if let Some(group) = stream.group_mut(read.group) {
        group.last_id = last_id;
        group.entries_read = entries_read;
        if read.noack {
            if last_id != moved_from {
                ops.push(setid_argv(read.key, read.group, last_id, entries_read));
            }
        } else {
            for (id, last_at) in ids {
                group.assign(id, read.consumer, read.now, 1);
                ops.push(xclaim_argv(
                    read.key,
                    read.group,
                    read.consumer,
                    id,
                    read.now,
                    1,
                    last_at,
                ));
            }
        }
    }
    (Frame::Array(reply), ops)
}
