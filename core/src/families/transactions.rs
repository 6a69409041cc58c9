//! MULTI, EXEC, DISCARD, WATCH, UNWATCH. Queuing happens in dispatch (a client with an open
//! transaction gets `+QUEUED` for every command not marked `runs_in_multi`); EXEC runs the
//! queue with nothing else in between, since the whole server runs one command at a time.

use bytes::Bytes;
use oxidis_protocol::Frame;

use crate::command::{
    Arg, Args, Arity, CommandResult, CommandSpec, Family, Flag::*, Group, KeyFlag, KeySpec,
};
use crate::context::CommandContext;
use crate::dispatch::{Outcome, run_queued};
use crate::errors::CommandError;
use crate::errors::transactions::{
    DISCARD_WITHOUT_MULTI, EXEC_ABORT, EXEC_WITHOUT_MULTI, NESTED_MULTI, WATCH_IN_MULTI,
};
use crate::transactions::{Transaction, WatchedKey};

/// The transaction commands.
pub static FAMILY: Family = Family {
    group: Group::Transactions,
    commands: &[
        CommandSpec::new("multi", Arity::Exact(1), multi)
            .flags(&[NoScript, Loading, Stale, Fast, AllowBusy])
            .runs_in_multi()
            .doc("Starts a transaction.", "1.2.0", "O(1)"),
        CommandSpec::new("exec", Arity::Exact(1), exec)
            .flags(&[NoScript, Loading, Stale, SkipSlowlog])
            .runs_in_multi()
            .doc(
                "Executes all commands in a transaction.",
                "1.2.0",
                "Depends on commands in the transaction",
            ),
        CommandSpec::new("discard", Arity::Exact(1), discard)
            .flags(&[NoScript, Loading, Stale, Fast, AllowBusy])
            .runs_in_multi()
            .doc(
                "Discards a transaction.",
                "2.0.0",
                "O(N), when N is the number of queued commands",
            ),
        CommandSpec::new("watch", Arity::AtLeast(2), watch)
            .flags(&[NoScript, Loading, Stale, Fast, AllowBusy])
            .runs_in_multi()
            .keys(&[KeySpec::range(1, -1, 1, &[KeyFlag::Ro])])
            .doc(
                "Monitors changes to keys to determine the execution of a transaction.",
                "2.2.0",
                "O(1) for every key.",
            )
            .args(&[Arg::key("key", 0).multiple()]),
        CommandSpec::new("unwatch", Arity::Exact(1), unwatch)
            .flags(&[NoScript, Loading, Stale, Fast, AllowBusy])
            .doc(
                "Forgets about watched keys of a transaction.",
                "2.2.0",
                "O(1)",
            ),
    ],
};

fn multi(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    let client = ctx.client();
    if client.transaction.is_some() {
        return Err(CommandError::msg(NESTED_MULTI));
    }
    client.transaction = Some(Transaction::default());
    Ok(Frame::ok())
}

/// EXEC: the replies of the queued commands, a null array when a watched key changed, or
/// EXECABORT when a command failed to queue.
fn exec(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    let id = ctx.client_id();
    let Some(transaction) = ctx.client().transaction.take() else {
        return Err(CommandError::msg(EXEC_WITHOUT_MULTI));
    };
    let watched_expired = watched_key_expired(ctx);
    let dirty = std::mem::take(&mut ctx.client().watch_dirty) || watched_expired;
    ctx.server.watched.unwatch_all(id);
    if transaction.aborted {
        return Err(CommandError::msg(EXEC_ABORT));
    }
    if dirty {
        return Ok(Frame::NullArray);
    }
    // The queued commands propagate themselves, wrapped in MULTI/EXEC when there are several.
    ctx.prevent_propagation();
    let replies = transaction
        .queue
        .iter()
        .map(|argv| match run_queued(ctx.server, id, argv) {
            Outcome::Reply(reply) => reply,
            // Nothing blocks inside a transaction: the timeout reply comes at once.
            Outcome::Blocked(request) => request.timeout_reply,
        })
        .collect();
    Ok(Frame::Array(replies))
}

/// Whether a watched key that was alive when watched has expired since (Redis fails EXEC then,
/// even though no command touched the key).
fn watched_key_expired(ctx: &mut CommandContext<'_>) -> bool {
    let now = ctx.now_ms();
    let keys: Vec<WatchedKey> = ctx.server.watched.keys_of(ctx.client_id()).to_vec();
    keys.iter().any(|k| {
        !k.expired_when_watched
            && ctx.server.dbs.get(k.db).is_some_and(|db| {
                db.find(&k.key)
                    .is_some_and(|pos| db.entry(pos).is_expired(now))
            })
    })
}

fn discard(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    let id = ctx.client_id();
    let client = ctx.client();
    if client.transaction.take().is_none() {
        return Err(CommandError::msg(DISCARD_WITHOUT_MULTI));
    }
    client.watch_dirty = false;
    ctx.server.watched.unwatch_all(id);
    Ok(Frame::ok())
}

fn watch(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    if ctx.client().transaction.is_some() {
        return Err(CommandError::msg(WATCH_IN_MULTI));
    }
    let id = ctx.client_id();
    let db = ctx.db_index();
    let now = ctx.now_ms();
    for key in args.rest() {
        let expired_when_watched = ctx
            .db()
            .find(key)
            .is_some_and(|pos| ctx.server.dbs[db].entry(pos).is_expired(now));
        ctx.server.watched.watch(
            id,
            WatchedKey {
                db,
                key: Bytes::clone(key),
                expired_when_watched,
            },
        );
    }
    Ok(Frame::ok())
}

fn unwatch(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    let id = ctx.client_id();
    ctx.server.watched.unwatch_all(id);
    ctx.client().watch_dirty = false;
    Ok(Frame::ok())
}

#[cfg(test)]
mod tests {
    use crate::testing::{CommandRunner, bulk, err, simple};
    use oxidis_protocol::Frame;

    #[test]
    fn queued_commands_run_at_exec() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(r.run(["MULTI"]), Frame::ok());
        assert_eq!(r.run(["SET", "k", "1"]), simple("QUEUED"));
        assert_eq!(r.run(["INCR", "k"]), simple("QUEUED"));
        assert_eq!(r.run(["GET", "k"]), simple("QUEUED"));
        assert_eq!(
            r.run(["EXEC"]),
            Frame::Array(vec![Frame::ok(), Frame::Integer(2), bulk("2")])
        );
        assert_eq!(r.run(["EXEC"]), err("ERR EXEC without MULTI"));
        assert_eq!(r.run(["DISCARD"]), err("ERR DISCARD without MULTI"));
    }

    #[test]
    fn a_queueing_error_aborts_and_runtime_errors_do_not() {
        let mut r = CommandRunner::with_builtin_commands();
        r.run(["MULTI"]);
        assert_eq!(
            r.run(["SET", "k"]),
            err("ERR wrong number of arguments for 'set' command")
        );
        r.run(["SET", "k", "v"]);
        assert_eq!(
            r.run(["EXEC"]),
            err("EXECABORT Transaction discarded because of previous errors.")
        );
        assert_eq!(r.run(["EXISTS", "k"]), Frame::Integer(0));
        r.run(["SET", "s", "x"]);
        r.run(["MULTI"]);
        r.run(["INCR", "s"]);
        r.run(["SET", "t", "1"]);
        assert_eq!(
            r.run(["EXEC"]),
            Frame::Array(vec![
                err("ERR value is not an integer or out of range"),
                Frame::ok()
            ])
        );
        r.run(["MULTI"]);
        assert_eq!(r.run(["MULTI"]), err("ERR MULTI calls can not be nested"));
        assert_eq!(
            r.run(["WATCH", "x"]),
            err("ERR WATCH inside MULTI is not allowed")
        );
        assert_eq!(r.run(["DISCARD"]), Frame::ok());
    }

    #[test]
    fn watch_fails_exec_when_a_watched_key_changes() {
        let mut r = CommandRunner::with_builtin_commands();
        r.run(["SET", "w", "1"]);
        assert_eq!(r.run(["WATCH", "w"]), Frame::ok());
        r.run(["SET", "w", "2"]);
        r.run(["MULTI"]);
        r.run(["SET", "other", "x"]);
        assert_eq!(r.run(["EXEC"]), Frame::NullArray);
        assert_eq!(r.run(["EXISTS", "other"]), Frame::Integer(0));
        // After EXEC nothing is watched any more.
        r.run(["MULTI"]);
        r.run(["SET", "other", "x"]);
        assert_eq!(r.run(["EXEC"]), Frame::Array(vec![Frame::ok()]));
        // An untouched watch lets EXEC through; UNWATCH forgets a touched one.
        r.run(["WATCH", "w"]);
        r.run(["SET", "w", "3"]);
        r.run(["UNWATCH"]);
        r.run(["MULTI"]);
        r.run(["PING"]);
        assert_eq!(r.run(["EXEC"]), Frame::Array(vec![simple("PONG")]));
    }

    #[test]
    fn a_watched_key_that_expires_fails_exec() {
        let mut r = CommandRunner::with_builtin_commands();
        r.run(["SET", "x", "1", "PX", "100"]);
        r.run(["WATCH", "x"]);
        r.advance_ms(200);
        r.run(["MULTI"]);
        r.run(["PING"]);
        assert_eq!(r.run(["EXEC"]), Frame::NullArray);
    }
}
