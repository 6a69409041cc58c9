//! `execute`: the one way a command runs. It finds the command, checks arity and the gates,
//! runs the handler with a panic guard, keeps the statistics, turns a `CommandError` into an
//! error reply, and — when the command wrote keys that blocked clients wait on — serves those
//! clients once it is done. Nothing else in the server calls a handler.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use bytes::Bytes;
use oxidis_protocol::Frame;
use tracing::error;

use crate::blocking::{BlockRequest, BlockedClient, serve_blocked_clients};
use crate::client::ClientId;
use crate::command::{Args, Command, Flag, Handler, find_keys};
use crate::context::CommandContext;
use crate::errors::transactions::NOT_IN_TRANSACTION;
use crate::errors::{CommandError, OOM};
use crate::propagation::OwnPropagation;
use crate::server::Server;

/// What running a command led to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The reply to send (an error reply on failure).
    Reply(Frame),
    /// The client blocked; its reply comes later through its connection handle, or the
    /// request's timeout reply when the timeout expires first.
    Blocked(BlockRequest),
}

/// Runs one command for a client that can wait: a blocking command that finds nothing blocks
/// the client (recorded in `server.blocked`). Clients waiting on keys this command wrote are
/// served before it returns.
pub fn execute(server: &mut Server, client_id: ClientId, argv: &[Bytes]) -> Outcome {
    if server.pause.current.is_some() {
        crate::pause::check_expired(server);
    }
    let outcome = run_checked(server, client_id, argv, Origin::Client);
    if let Outcome::Blocked(request) = &outcome {
        let db = server.clients.get(client_id).map_or(0, |c| c.db);
        let deadline = request
            .timeout
            .and_then(|t| std::time::Instant::now().checked_add(t));
        server.blocked.block(
            client_id,
            BlockedClient {
                db,
                keys: request.keys.clone(),
                wants: request.wants,
                argv: request.rerun_argv.clone().unwrap_or_else(|| argv.to_vec()),
                timeout_reply: request.timeout_reply.clone(),
                key_gone_reply: request.key_gone_reply.clone(),
                deadline,
            },
        );
    }
    if server.blocked.has_ready_keys() {
        serve_blocked_clients(server);
    }
    if server.tracking.is_active() {
        crate::tracking::after_command(server, Some(client_id));
    }
    outcome
}

/// Runs one command for a caller that cannot wait (tests, and later MULTI and scripts): a
/// blocking command that finds nothing answers its timeout reply at once, as in Redis.
pub fn dispatch(server: &mut Server, client_id: ClientId, argv: &[Bytes]) -> Frame {
    let outcome = run_command(server, client_id, argv);
    finish_nested(server, client_id, outcome)
}

/// [`dispatch`] for a command its caller resolved already from `argv` (a script's
/// `redis.call` looks the command up for its own checks first): the lookup is not repeated.
pub fn dispatch_resolved(
    server: &mut Server,
    client_id: ClientId,
    command: &'static Command,
    argv: &[Bytes],
) -> Frame {
    let args_start = if command.parent.is_some() { 2 } else { 1 };
    let resolved = Some((command, args_start));
    let outcome = run_checked_as(server, client_id, argv, Origin::Nested, resolved);
    finish_nested(server, client_id, outcome)
}

/// What follows a nested command: blocked clients served, tracking, the reply.
fn finish_nested(server: &mut Server, client_id: ClientId, outcome: Outcome) -> Frame {
    if server.blocked.has_ready_keys() {
        serve_blocked_clients(server);
    }
    if server.tracking.is_active() {
        crate::tracking::after_command(server, Some(client_id));
    }
    match outcome {
        Outcome::Reply(reply) => reply,
        Outcome::Blocked(request) => request.timeout_reply,
    }
}

/// Resolves, checks and runs one command; no blocking bookkeeping.
pub(crate) fn run_command(server: &mut Server, client_id: ClientId, argv: &[Bytes]) -> Outcome {
    run_checked(server, client_id, argv, Origin::Nested)
}

/// Runs one command queued by MULTI, for EXEC.
pub(crate) fn run_queued(server: &mut Server, client_id: ClientId, argv: &[Bytes]) -> Outcome {
    run_checked(server, client_id, argv, Origin::Exec)
}

/// Runs again the command of a client blocked on keys. Its call was counted when it blocked,
/// so, as in Redis, serving it adds its time but not another call, and MONITOR saw it already.
pub(crate) fn rerun_blocked(server: &mut Server, client_id: ClientId, argv: &[Bytes]) -> Outcome {
    run_checked(server, client_id, argv, Origin::BlockedRerun)
}

/// Where a command comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Straight from a client: CLIENT PAUSE may postpone it.
    Client,
    /// From a script or a test.
    Nested,
    /// Queued in a transaction, run by EXEC: like Redis's `call()` from `execCommand`, it
    /// skips the memory gate, which EXEC itself passed.
    Exec,
    /// A blocked client being served.
    BlockedRerun,
}

/// [`run_command`] for a command from `origin`: one straight from a client may be postponed by
/// CLIENT PAUSE (after the checks that answer at once, such as arity, as in Redis).
fn run_checked(
    server: &mut Server,
    client_id: ClientId,
    argv: &[Bytes],
    origin: Origin,
) -> Outcome {
    run_checked_as(server, client_id, argv, origin, None)
}

/// [`run_checked`], with the command already `resolved` (and its arity checked) by the caller
/// when given.
fn run_checked_as(
    server: &mut Server,
    client_id: ClientId,
    argv: &[Bytes],
    origin: Origin,
    resolved: Option<(&'static Command, usize)>,
) -> Outcome {
    let in_transaction = server
        .clients
        .get(client_id)
        .is_some_and(|c| c.transaction.is_some());
    let resolved = match resolved {
        Some(found) => Ok(found),
        None => resolve(server, argv),
    };
    let checked = resolved.and_then(|(command, start)| {
        check_gates(server, client_id, command)
            .map(|()| (command, start))
            .map_err(|err| (Some(command), err))
    });
    let (command, args_start) = match checked {
        Ok(found) => found,
        Err((command, err)) => {
            if in_transaction {
                abort_transaction(server, client_id);
            }
            return Outcome::Reply(reject(server, command, &err));
        }
    };
    // A script's commands are checked by the script engine instead (only before its first
    // write, and not at all with `allow-oom`), as Redis's `scriptCall` does.
    let in_script = server
        .script_busy
        .running
        .load(std::sync::atomic::Ordering::Relaxed);
    if server.config.maxmemory > 0
        && !in_script
        && origin != Origin::Exec
        && crate::eviction::perform_evictions(server) == crate::eviction::Eviction::Failed
        && refused_when_out_of_memory(server, client_id, command, in_transaction)
    {
        return Outcome::Reply(refuse_before_run(
            server,
            client_id,
            command,
            in_transaction,
            &CommandError::msg(OOM),
        ));
    }
    if origin == Origin::Client
        && let Err(err) = crate::replication::check_gates(server, client_id, command)
    {
        return Outcome::Reply(refuse_before_run(
            server,
            client_id,
            command,
            in_transaction,
            &err,
        ));
    }
    // Redis's `CMD_LOADING` gate: while the dataset loads, only commands flagged `loading`.
    if origin == Origin::Client
        && server.persistence_state.loading.is_some()
        && !command.has(Flag::Loading)
    {
        return Outcome::Reply(refuse_before_run(
            server,
            client_id,
            command,
            in_transaction,
            &CommandError::msg(crate::errors::server::LOADING),
        ));
    }
    if origin == Origin::Client && crate::pause::must_postpone(server, client_id, command, argv) {
        return Outcome::Blocked(crate::pause::postpone(server, client_id));
    }
    if in_transaction && !command.spec.runs_in_multi {
        return Outcome::Reply(queue(server, client_id, command, argv));
    }
    run(server, client_id, command, argv, args_start, origin)
}

/// A gate refused `command` (OOM, or see [`crate::replication::check_gates`]): inside MULTI
/// the transaction is flagged; EXEC itself discards it and answers `EXECABORT`, as Redis's
/// `rejectCommand` does.
fn refuse_before_run(
    server: &mut Server,
    client_id: ClientId,
    command: &'static Command,
    in_transaction: bool,
    err: &CommandError,
) -> Frame {
    if command.spec.name == "exec" && in_transaction {
        if let Some(client) = server.clients.get_mut(client_id) {
            client.transaction = None;
            client.watch_dirty = false;
        }
        server.watched.unwatch_all(client_id);
        let abort =
            CommandError::custom(format!("EXECABORT Transaction discarded because of: {err}"));
        return reject(server, Some(command), &abort);
    }
    if in_transaction {
        abort_transaction(server, client_id);
    }
    reject(server, Some(command), err)
}

/// Whether `command` is refused while memory is over `maxmemory` and nothing can be evicted:
/// commands that may grow memory, EXEC of a transaction holding one, and — since queuing itself
/// takes memory — anything queued inside MULTI.
fn refused_when_out_of_memory(
    server: &Server,
    client_id: ClientId,
    command: &Command,
    in_transaction: bool,
) -> bool {
    if command.has(Flag::DenyOom) {
        return true;
    }
    let name = command.spec.name;
    if in_transaction && !matches!(name, "exec" | "discard" | "quit" | "reset") {
        return true;
    }
    name == "exec"
        && server
            .clients
            .get(client_id)
            .and_then(|c| c.transaction.as_ref())
            .is_some_and(|t| {
                t.queue.iter().any(|argv| {
                    argv.first()
                        .and_then(|n| server.table.get(n))
                        .is_some_and(|c| c.has(Flag::DenyOom))
                })
            })
}

/// Inside MULTI: queues the command, or refuses one that cannot be part of a transaction.
fn queue(
    server: &mut Server,
    client_id: ClientId,
    command: &'static Command,
    argv: &[Bytes],
) -> Frame {
    if command.has(Flag::NoMulti) {
        abort_transaction(server, client_id);
        return reject(
            server,
            Some(command),
            &CommandError::msg(NOT_IN_TRANSACTION),
        );
    }
    if let Some(transaction) = server
        .clients
        .get_mut(client_id)
        .and_then(|c| c.transaction.as_mut())
    {
        transaction.queue.push(argv.to_vec());
    }
    Frame::simple_static("QUEUED")
}

/// A command failed to queue: the transaction's EXEC will answer EXECABORT.
fn abort_transaction(server: &mut Server, client_id: ClientId) {
    if let Some(transaction) = server
        .clients
        .get_mut(client_id)
        .and_then(|c| c.transaction.as_mut())
    {
        transaction.aborted = true;
    }
}

/// A refusal before the handler runs, with the command when one was found (for its
/// `rejected_calls`).
type Rejection = (Option<&'static Command>, CommandError);

/// Looks the command (and subcommand) up and checks its arity.
fn resolve(server: &Server, argv: &[Bytes]) -> Result<(&'static Command, usize), Rejection> {
    let name = argv.first().ok_or((None, CommandError::Syntax))?;
    let Some(command) = server.table.get(name) else {
        return Err((None, unknown_command(argv)));
    };
    // A command with subcommands routes to one as soon as there is a second argument; alone,
    // it runs its own handler (COMMAND) or fails its arity (CONFIG).
    if command.subcommands.is_empty() || argv.len() < 2 {
        check_arity(command, argv.len())?;
        return Ok((command, 1));
    }
    let Some(sub) = command.subcommand(&argv[1]) else {
        return Err((
            None,
            CommandError::UnknownSubcommand {
                sub: sanitize(&argv[1], 128),
                container: command.spec.name.to_ascii_uppercase(),
            },
        ));
    };
    check_arity(sub, argv.len())?;
    Ok((sub, 2))
}

fn check_arity(command: &'static Command, argc: usize) -> Result<(), Rejection> {
    if command.spec.arity.accepts(argc) {
        Ok(())
    } else {
        let err = CommandError::WrongArity {
            command: command.full_name.clone(),
        };
        Err((Some(command), err))
    }
}

/// Authentication and the other per-client gates that run before any handler.
fn check_gates(
    server: &Server,
    client_id: ClientId,
    command: &Command,
) -> Result<(), CommandError> {
    let authenticated = server
        .clients
        .get(client_id)
        .is_none_or(|c| c.authenticated);
    if !authenticated && !command.has(Flag::NoAuth) {
        return Err(CommandError::NoAuth);
    }
    crate::pubsub::check_subscribed_mode(server, client_id, command)
}

fn run(
    server: &mut Server,
    client_id: ClientId,
    command: &'static Command,
    argv: &[Bytes],
    args_start: usize,
    origin: Origin,
) -> Outcome {
    let started = server.command_start();
    let dirty_before = server.dirty;
    server.propagation.enter();
    let (result, block, redacted, own_propagation, db, unmodified) = {
        let mut ctx = CommandContext::new(server, client_id, command);
        let mut args = Args::new(argv, args_start);
        let result = catch_unwind(AssertUnwindSafe(|| match command.spec.handler {
            Handler::Builtin(f) => f(&mut ctx, &mut args),
            Handler::Dynamic(f) => f(&mut ctx, &mut args),
            Handler::Container => Err(CommandError::Syntax),
        }));
        let block = ctx.take_block_request();
        let redacted = ctx.take_redacted_args();
        (
            result,
            block,
            redacted,
            ctx.take_own_propagation(),
            ctx.db_index(),
            ctx.take_unmodified(),
        )
    };
    let ended = Instant::now();
    server.command_end(ended);
    let usec =
        u64::try_from(ended.saturating_duration_since(started).as_micros()).unwrap_or(u64::MAX);
    let reply = match result {
        Ok(Ok(reply)) => reply,
        Ok(Err(err)) => Frame::error(err.to_string()),
        Err(_) => {
            error!(command = %command.full_name, "command panicked; answering with an error");
            Frame::error(format!(
                "ERR internal error while running '{}'",
                command.full_name
            ))
        }
    };
    let is_new_call = origin != Origin::BlockedRerun;
    let stats = server.stats.command_mut(command.id);
    // A command that blocked is counted once, by the run that finally answers it (Redis's
    // `updateStatsOnUnblock`).
    if block.is_none() || reply.is_error() {
        stats.calls += 1;
    }
    stats.usec += usec;
    if let Frame::Error(text) = &reply {
        stats.failed_calls += 1;
        server.stats.count_error(text);
    }
    if is_new_call {
        server.stats.total_commands_processed += 1;
        if let Some(client) = server.clients.get_mut(client_id) {
            client.last_command = &command.full_name;
            client.commands_processed += 1;
        }
    }
    // A blocked command is logged and timed by the run that serves it.
    crate::latency::record_command(server, command, usec, block.is_some());
    if block.is_none() {
        crate::slowlog::record(server, client_id, command, argv, &redacted, usec);
    }
    if is_new_call {
        crate::monitor::feed(server, client_id, command, argv, &redacted);
    }
    // A command that blocked wrote nothing; one that ran may have filled keys others wait on.
    if block.is_none()
        && command.has(Flag::Write)
        && !reply.is_error()
        && (!server.blocked.is_empty() || !server.watched.is_empty() || server.tracking.is_active())
    {
        signal_written_keys(server, client_id, command, argv, &unmodified);
    }
    // A writable replica expires the keys its own clients write.
    if block.is_none()
        && command.has(Flag::Write)
        && !reply.is_error()
        && server.config.replicaof.is_some()
    {
        crate::replication::note_replica_write(server, client_id, command, argv);
    }
    // A command that changed the dataset is propagated (as itself, unless it asked otherwise);
    // the outermost command then closes the execution unit.
    if server.dirty > dirty_before && block.is_none() {
        match own_propagation {
            OwnPropagation::AsIs => server.propagation.push(db, argv.to_vec()),
            OwnPropagation::Rewritten(rewritten) => server.propagation.push(db, rewritten),
            OwnPropagation::Prevented => {}
        }
    }
    if server.propagation.leave() {
        // SCAN and RANDOMKEY (Redis's hidden `touches-arbitrary-keys` flag) propagate the keys
        // they found expired as independent DELs, not as one transaction.
        let atomic = !matches!(command.spec.name, "scan" | "randomkey");
        server.propagation.flush(atomic);
    }
    if server.tracking.is_active() {
        crate::tracking::after_read(server, client_id, command, argv);
    }
    if !server.events.is_empty() {
        crate::events::deliver(server);
    }
    match block {
        Some(request) if !reply.is_error() => Outcome::Blocked(request),
        _ => Outcome::Reply(reply),
    }
}

/// Tells the clients blocked on, or WATCHing, the keys a write command declares.
fn signal_written_keys(
    server: &mut Server,
    client_id: ClientId,
    command: &Command,
    argv: &[Bytes],
    unmodified: &[Bytes],
) {
    let db = server.clients.get(client_id).map_or(0, |c| c.db);
    for key in find_keys(command, argv).unwrap_or_default() {
        if let Some(name) = argv.get(key.index)
            && !unmodified.contains(name)
        {
            server.blocked.signal_key(db, name);
            crate::transactions::touch(server, db, name);
            crate::tracking::invalidate_key(server, Some(client_id), Some(client_id), name, true);
        }
    }
}

/// An error reply for a command refused before running; counted as Redis counts it.
fn reject(server: &mut Server, command: Option<&'static Command>, err: &CommandError) -> Frame {
    let text = err.to_string();
    server.stats.count_error(text.as_bytes());
    if let Some(command) = command {
        server.stats.command_mut(command.id).rejected_calls += 1;
    }
    Frame::error(text)
}

/// "ERR unknown command 'x', with args beginning with: 'a' 'b' ", as Redis words it.
fn unknown_command(argv: &[Bytes]) -> CommandError {
    let mut args = String::new();
    for arg in argv.iter().skip(1) {
        if args.len() >= 128 {
            break;
        }
        let room = 128 - args.len();
        args.push('\'');
        args.push_str(&sanitize(arg, room));
        args.push_str("' ");
    }
    CommandError::UnknownCommand {
        name: sanitize(&argv[0], 128),
        args,
    }
}

/// At most `max` bytes of `arg`, with CR and LF turned into spaces so the reply stays one line.
fn sanitize(arg: &[u8], max: usize) -> String {
    let cut = &arg[..arg.len().min(max)];
    String::from_utf8_lossy(cut).replace(['\r', '\n'], " ")
}
