//! Server management commands: INFO, TIME, DBSIZE, LASTSAVE, FLUSHDB, FLUSHALL, SWAPDB,
//! SHUTDOWN and DEBUG.
//!
//! INFO's text is built in [`info`], DEBUG's subcommands live in [`debug`]. Saving, loading and
//! replication are not here: SHUTDOWN only records a [`ShutdownRequest`] that the server crate
//! carries out, and DEBUG RELOAD/LOADAOF belong to persistence (#6).
//!
//! FUNCTION lives in the scripting crate (#8), with EVAL and SCRIPT.

mod debug;
mod info;
mod latency;
mod memory;
mod slowlog;

use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use oxidis_protocol::Frame;

use crate::modules::events::{self as module_events, Phase, ServerEvent};

use crate::command::{
    AclCategory, Arg, Args, Arity, CommandResult, CommandSpec, Family, Flag::*, Group,
};
use crate::context::CommandContext;
use crate::db::Db;
use crate::errors::CommandError;
use crate::errors::server::{
    INVALID_FIRST_DB_INDEX, INVALID_SECOND_DB_INDEX, NO_SHUTDOWN_IN_PROGRESS, SHUTDOWN_SAVE_FAILED,
};
use crate::errors::{DB_INDEX_OUT_OF_RANGE, SYNTAX};
use crate::families::count_reply;
use crate::server::ShutdownRequest;

const FLUSH_MODE: &[Arg] = &[Arg::one_of(
    "async",
    &[
        Arg::token("async", "ASYNC").since("4.0.0"),
        Arg::token("sync", "SYNC").since("6.2.0"),
    ],
)
.optional()];

/// The server family; `families::BUILTIN` lists it, and nothing else does.
pub static FAMILY: Family = Family {
    group: Group::Server,
    commands: &[
        CommandSpec::new("info", Arity::AtLeast(1), info)
            .flags(&[Loading, Stale])
            .acl(&[AclCategory::Dangerous])
            .tips(&[
                "nondeterministic_output",
                "request_policy:all_shards",
                "response_policy:special",
            ])
            .doc("Reports information and statistics about the server.", "1.0.0", "O(1)")
            .args(&[Arg::string("section").optional().multiple()]),
        CommandSpec::new("time", Arity::Exact(1), time)
            .flags(&[Loading, Stale, Fast])
            .tips(&["nondeterministic_output"])
            .doc("Returns the server's clock as seconds and microseconds.", "2.6.0", "O(1)"),
        CommandSpec::new("dbsize", Arity::Exact(1), dbsize)
            .flags(&[ReadOnly, Fast])
            .acl(&[AclCategory::Keyspace])
            .tips(&["request_policy:all_shards", "response_policy:agg_sum"])
            .doc("Counts the keys of the selected database.", "1.0.0", "O(1)"),
        CommandSpec::new("lastsave", Arity::Exact(1), lastsave)
            .flags(&[Loading, Stale, Fast])
            .acl(&[AclCategory::Admin, AclCategory::Dangerous])
            .tips(&["nondeterministic_output"])
            .doc("Returns the Unix time of the last successful save.", "1.0.0", "O(1)"),
        CommandSpec::new("flushdb", Arity::AtLeast(1), flushdb)
            .flags(&[Write])
            .acl(&[AclCategory::Keyspace, AclCategory::Dangerous])
            .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
            .doc(
                "Deletes every key of the selected database.",
                "1.0.0",
                "O(N) where N is the number of keys in the selected database",
            )
            .args(FLUSH_MODE),
        CommandSpec::new("flushall", Arity::AtLeast(1), flushall)
            .flags(&[Write])
            .acl(&[AclCategory::Keyspace, AclCategory::Dangerous])
            .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
            .doc(
                "Deletes every key of every database.",
                "1.0.0",
                "O(N) where N is the total number of keys in all databases",
            )
            .args(FLUSH_MODE),
        CommandSpec::new("swapdb", Arity::Exact(3), swapdb)
            .flags(&[Write, Fast])
            .acl(&[AclCategory::Keyspace, AclCategory::Dangerous])
            .doc(
                "Exchanges the contents of two databases.",
                "4.0.0",
                "O(N) where N is the count of clients watching or blocking on keys from both databases.",
            )
            .args(&[Arg::integer("index1"), Arg::integer("index2")]),
        CommandSpec::new("shutdown", Arity::AtLeast(1), shutdown)
            .flags(&[Admin, NoScript, Loading, Stale, NoMulti, AllowBusy])
            .doc(
                "Stops the server, saving first when asked or configured to.",
                "1.0.0",
                "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
            )
            .args(&[
                Arg::one_of(
                    "nosave_save",
                    &[Arg::token("nosave", "NOSAVE"), Arg::token("save", "SAVE")],
                )
                .optional(),
                Arg::token("now", "NOW").optional().since("7.0.0"),
                Arg::token("force", "FORCE").optional().since("7.0.0"),
                Arg::token("abort", "ABORT").optional().since("7.0.0"),
            ]),
        CommandSpec::new("debug", Arity::AtLeast(2), debug::debug)
            .flags(&[Admin, NoScript, Loading, Stale, Protected])
            .doc("Runs a debugging subcommand.", "1.0.0", "Depends on subcommand."),
        memory::MEMORY,
        slowlog::SLOWLOG,
        latency::LATENCY,
        CommandSpec::new("monitor", Arity::Exact(1), monitor)
            .flags(&[Admin, NoScript, Loading, Stale])
            .doc(
                "Streams every command the server runs to this connection.",
                "1.0.0",
                "",
            ),
    ],
};

fn info(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let text = info::render(ctx, args.rest());
    Ok(Frame::Verbatim {
        format: *b"txt",
        text: Bytes::from(text),
    })
}

fn time(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    let usec = now_usec(ctx.now_ms());
    Ok(Frame::Array(vec![
        Frame::bulk((usec / 1_000_000).to_string()),
        Frame::bulk((usec % 1_000_000).to_string()),
    ]))
}

fn dbsize(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    // Like Redis, keys that expired but were not reclaimed yet still count.
    Ok(count_reply(ctx.db().len()))
}

fn lastsave(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    Ok(count_reply(ctx.server.last_save_unix))
}

fn flushdb(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let mode = parse_flush_mode(args)?;
    let index = ctx.db_index();
    crate::transactions::touch_all_in_db(ctx.server, index, None);
    let flush = |phase| ServerEvent::Flush {
        phase,
        db: Some(index),
    };
    module_events::fire(ctx.server, &flush(Phase::Start));
    flush_databases(ctx, index..index + 1, mode);
    module_events::fire(ctx.server, &flush(Phase::End));
    // Propagated even when the database was already empty (Redis's forceCommandPropagation).
    ctx.also_propagate(args.argv().to_vec());
    ctx.prevent_propagation();
    Ok(Frame::ok())
}

fn flushall(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let mode = parse_flush_mode(args)?;
    // Redis kills its saving child first: the save would outlive the data it was writing.
    if let Some(hooks) = ctx.server.persistence {
        (hooks.kill_bgsave)(ctx.server);
    }
    let all = 0..ctx.server.dbs.len();
    for db in all.clone() {
        crate::transactions::touch_all_in_db(ctx.server, db, None);
    }
    let flush = |phase| ServerEvent::Flush { phase, db: None };
    module_events::fire(ctx.server, &flush(Phase::Start));
    flush_databases(ctx, all, mode);
    module_events::fire(ctx.server, &flush(Phase::End));
    // With save points configured, Redis saves the (now empty) dataset, which resets the dirty
    // counter (7.0.15's flushAllDataAndResetRDB adds nothing after the save).
    if let Some(hooks) = ctx.server.persistence
        && !ctx.config().save.is_empty()
    {
        let _ = (hooks.save)(ctx.server);
    }
    ctx.also_propagate(args.argv().to_vec());
    ctx.prevent_propagation();
    Ok(Frame::ok())
}

fn swapdb(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let first = parse_db_index(args.next_bytes()?, INVALID_FIRST_DB_INDEX)?;
    let second = parse_db_index(args.next_bytes()?, INVALID_SECOND_DB_INDEX)?;
    let count = ctx.server.dbs.len();
    let in_range = |i: i32| usize::try_from(i).ok().filter(|&i| i < count);
    let (Some(first), Some(second)) = (in_range(first), in_range(second)) else {
        return Err(CommandError::msg(DB_INDEX_OUT_OF_RANGE));
    };
    // Clients keep their selected index, so they now see the other database's keys; a watched
    // key on either side changes, and clients blocked on keys the swap brings are served.
    crate::transactions::touch_all_in_db(ctx.server, first, Some(second));
    crate::transactions::touch_all_in_db(ctx.server, second, Some(first));
    ctx.server.dbs.swap(first, second);
    if !ctx.server.blocked.is_empty() {
        for db in [first, second] {
            ctx.server.blocked.signal_db(db);
            let keys: Vec<Vec<u8>> = ctx.server.dbs[db].iter().map(|e| e.key.to_vec()).collect();
            for key in keys {
                ctx.server.blocked.signal_key(db, &key);
            }
        }
    }
    ctx.changed(1);
    Ok(Frame::ok())
}

fn shutdown(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let mut request = ShutdownRequest::default();
    let mut abort = false;
    for arg in args.rest() {
        let arg = arg.to_ascii_lowercase();
        match arg.as_slice() {
            b"nosave" => request.nosave = true,
            b"save" => request.save = true,
            b"now" => request.now = true,
            b"force" => request.force = true,
            b"abort" => abort = true,
            _ => return Err(CommandError::Syntax),
        }
    }
    if (abort && request != ShutdownRequest::default()) || (request.nosave && request.save) {
        return Err(CommandError::Syntax);
    }
    if abort {
        // Without replicas to wait for, a shutdown never lingers: only one a signal asked for
        // (carried out by the next cron tick) or one requested earlier in the same batch can
        // still be called off.
        let requested = ctx.server.shutdown_request.take().is_some();
        if !(requested || std::mem::take(&mut ctx.server.shutdown_asap)) {
            return Err(CommandError::msg(NO_SHUTDOWN_IN_PROGRESS));
        }
        tracing::info!("Shutdown manually aborted.");
        return Ok(Frame::ok());
    }
    // The final save happens here, so a failure can still be answered: without FORCE the
    // server refuses to exit. Once saved, the server crate has nothing left to save.
    if let Some(hooks) = ctx.server.persistence
        && !request.nosave
        && (request.save || !ctx.config().save.is_empty())
    {
        tracing::info!("Saving the final RDB snapshot before exiting.");
        if (hooks.save)(ctx.server).is_err() && !request.force {
            tracing::warn!("Error trying to save the DB, can't exit.");
            return Err(CommandError::msg(SHUTDOWN_SAVE_FAILED));
        }
        request.nosave = true;
    }
    ctx.server.shutdown_request = Some(request);
    // Redis exits before replying; the server crate drops this reply when it acts on the
    // request.
    Ok(Frame::ok())
}

/// MONITOR: from now on the client receives every command the server runs (see
/// [`crate::monitor`]). A client already monitoring gets no reply at all, as in Redis.
fn monitor(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    let id = ctx.client_id();
    let client = ctx.client();
    if client.monitor {
        if client.reply_mode == crate::client::ReplyMode::On {
            client.reply_mode = crate::client::ReplyMode::Skip;
        }
        return Ok(Frame::ok());
    }
    client.monitor = true;
    ctx.server.monitors.push(id);
    Ok(Frame::ok())
}

/// Takes the calling client out of MONITOR mode (RESET).
pub(crate) fn stop_monitoring(ctx: &mut CommandContext<'_>) {
    let id = ctx.client_id();
    ctx.client().monitor = false;
    ctx.server.monitors.retain(|&m| m != id);
}

/// How a FLUSH frees the keys it removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FlushMode {
    /// Free them before replying.
    Sync,
    /// Hand them to a background thread and reply at once.
    Async,
}

/// Reads FLUSHDB/FLUSHALL's optional `ASYNC`/`SYNC`; anything else is a syntax error.
fn parse_flush_mode(args: &mut Args<'_>) -> Result<FlushMode, CommandError> {
    // TODO(#3): no argument follows `lazyfree-lazy-user-flush` (default no: SYNC).
    let mode = match args.rest() {
        [] => FlushMode::Sync,
        [arg] if arg.eq_ignore_ascii_case(b"sync") => FlushMode::Sync,
        [arg] if arg.eq_ignore_ascii_case(b"async") => FlushMode::Async,
        _ => return Err(CommandError::msg(SYNTAX)),
    };
    Ok(mode)
}

/// Empties the databases in `range`, counting every removed key as a change (as Redis's
/// `emptyData` does).
fn flush_databases(ctx: &mut CommandContext<'_>, range: std::ops::Range<usize>, mode: FlushMode) {
    let current = Some(ctx.client_id());
    crate::tracking::invalidate_all(ctx.server, current);
    let mut removed = 0u64;
    let mut taken = Vec::new();
    for db in range.clone() {
        ctx.server.blocked.signal_db(db);
    }
    for db in ctx.server.dbs.get_mut(range).unwrap_or_default() {
        removed += db.len() as u64;
        match mode {
            FlushMode::Sync => db.clear(),
            FlushMode::Async if db.is_empty() => {}
            FlushMode::Async => taken.push(Db::take_entries(db)),
        }
    }
    ctx.changed(removed);
    if !taken.is_empty() {
        let count: u64 = taken.iter().map(|t| t.len() as u64).sum();
        let counters = ctx.server.lazyfree.clone();
        counters.pending.fetch_add(count, Ordering::Relaxed);
        let in_thread = counters.clone();
        let spawned = std::thread::Builder::new()
            .name("oxidis-lazyfree".to_string())
            .spawn(move || {
                drop(taken);
                in_thread.pending.fetch_sub(count, Ordering::Relaxed);
                in_thread.freed.fetch_add(count, Ordering::Relaxed);
            });
        // Without a thread the entries were dropped with the failed closure: count them freed.
        if spawned.is_err() {
            counters.pending.fetch_sub(count, Ordering::Relaxed);
            counters.freed.fetch_add(count, Ordering::Relaxed);
        }
    }
}

/// A database index as Redis's `getIntFromObjectOrReply` reads it: an integer in the C `int`
/// range, else the given error.
fn parse_db_index(arg: &[u8], error: &'static str) -> Result<i32, CommandError> {
    crate::command::parse_i64(arg)
        .ok()
        .and_then(|n| i32::try_from(n).ok())
        .ok_or(CommandError::msg(error))
}

/// The time in Unix microseconds: the real clock's when the server runs on it, else (a test's
/// hand-moved clock) `now_ms` in microseconds.
fn now_usec(now_ms: u64) -> u64 {
    let real = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    if real / 1000 >= now_ms && real / 1000 - now_ms < 1000 {
        real
    } else {
        now_ms.saturating_mul(1000)
    }
}

#[cfg(test)]
mod tests;
