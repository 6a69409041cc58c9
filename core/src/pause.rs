//! CLIENT PAUSE: for a while, commands that may write (or all commands) wait instead of running.
//!
//! A command that must wait is *postponed*: dispatch records it as a blocked client waiting on
//! no key (so it counts in `blocked_clients`, as Redis's `BLOCKED_POSTPONE` does) and its
//! connection waits for the reply, exactly as for BLPOP. When the pause ends — CLIENT UNPAUSE,
//! or its time runs out, noticed by the next command or the cron — the postponed commands run
//! in the order they arrived and their replies are delivered.
//!
//! While a pause is on, keys are not expired either (neither by the active cycle nor lazily on
//! access: an expired key reads as missing but stays), so a paused server changes nothing.

use std::collections::VecDeque;

use oxidis_protocol::Frame;

use crate::blocking::BlockRequest;
use crate::client::ClientId;
use crate::command::{Command, Flag};
use crate::server::Server;
use crate::types::ValueType;

/// What CLIENT PAUSE stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PauseKind {
    /// Commands that may write or replicate (`WRITE`).
    Write,
    /// Every command (`ALL`, the default).
    All,
}

/// The pause in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    /// What it stops.
    pub kind: PauseKind,
    /// When it ends, Unix milliseconds.
    pub end_ms: u64,
}

/// The pause state of a server.
#[derive(Debug, Default)]
pub struct Pauses {
    /// The pause in force, if any.
    pub current: Option<Pause>,
    /// Clients whose command waits for the pause to end, in arrival order.
    postponed: VecDeque<ClientId>,
}

impl Pauses {
    /// Starts a pause, or extends the one in force: the later end and the stronger kind win.
    pub fn pause(&mut self, kind: PauseKind, end_ms: u64) {
        self.current = Some(match self.current {
            Some(p) => Pause {
                kind: p.kind.max(kind),
                end_ms: p.end_ms.max(end_ms),
            },
            None => Pause { kind, end_ms },
        });
    }

    /// Whether keys must not be expired now.
    pub fn stops_expiry(&self) -> bool {
        self.current.is_some()
    }
}

/// Whether `command` (with `queued`, the commands of the transaction an EXEC would run) must
/// wait under the pause in force. Replicas are never paused (TODO(replication)).
pub(crate) fn must_postpone(
    server: &Server,
    client_id: ClientId,
    command: &Command,
    argv: &[bytes::Bytes],
) -> bool {
    let Some(pause) = server.pause.current else {
        return false;
    };
    match pause.kind {
        PauseKind::All => true,
        PauseKind::Write => {
            may_replicate(server, command, argv) || exec_may_replicate(server, client_id, command)
        }
    }
}

fn may_replicate(server: &Server, command: &Command, argv: &[bytes::Bytes]) -> bool {
    let flags = command.effective_flags(server, argv);
    flags & (Flag::Write.bit() | Flag::MayReplicate.bit()) != 0
}

/// EXEC counts as writing when one of its queued commands does.
fn exec_may_replicate(server: &Server, client_id: ClientId, command: &Command) -> bool {
    // Of the commands that run inside MULTI (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET), EXEC
    // is the only one that is not fast.
    if !command.spec.runs_in_multi || command.has(Flag::Fast) {
        return false;
    }
    let Some(transaction) = server
        .clients
        .get(client_id)
        .and_then(|c| c.transaction.as_ref())
    else {
        return false;
    };
    transaction.queue.iter().any(|argv| {
        let Some(name) = argv.first() else {
            return false;
        };
        let Some(found) = server.table.get(name) else {
            return false;
        };
        let found = match argv.get(1) {
            Some(sub) if !found.subcommands.is_empty() => found.subcommand(sub).unwrap_or(found),
            _ => found,
        };
        may_replicate(server, found, argv)
    })
}

/// The block request that parks a postponed command; its reply comes when the pause ends.
pub(crate) fn postpone(server: &mut Server, client_id: ClientId) -> BlockRequest {
    server.pause.postponed.push_back(client_id);
    BlockRequest {
        keys: Vec::new(),
        wants: ValueType::String,
        timeout: None,
        timeout_reply: Frame::NullArray,
        rerun_argv: None,
        key_gone_reply: None,
    }
}

/// Ends the pause once its time has come; true when a pause is still in force.
pub fn check_expired(server: &mut Server) -> bool {
    match server.pause.current {
        Some(pause) if server.now_ms() >= pause.end_ms => {
            unpause(server);
            false
        }
        Some(_) => true,
        None => false,
    }
}

/// Ends the pause and runs the postponed commands, in order, delivering their replies.
pub fn unpause(server: &mut Server) {
    server.pause.current = None;
    while let Some(client_id) = server.pause.postponed.pop_front() {
        // A client killed or unblocked meanwhile has nothing left to run.
        let Some(record) = server.blocked.unblock(client_id) else {
            continue;
        };
        match crate::dispatch::execute(server, client_id, &record.argv) {
            crate::dispatch::Outcome::Reply(reply) => {
                crate::blocking::deliver(server, client_id, reply);
            }
            // It blocked on keys (or was postponed by a pause it started): its connection
            // keeps waiting, now for that.
            crate::dispatch::Outcome::Blocked(_) => {}
        }
        if server.pause.current.is_some() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {

    use crate::dispatch::{Outcome, execute};
    use crate::testing::{CommandRunner, argv_of, err};
    use oxidis_protocol::Frame;

    #[test]
    fn write_pause_postpones_writes_until_unpause() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(r.run(["CLIENT", "PAUSE", "10000", "WRITE"]), Frame::ok());
        let id = r.client;
        assert_eq!(
            execute(&mut r.server, id, &argv_of(&["GET", "k"])),
            Outcome::Reply(Frame::Null)
        );
        assert!(matches!(
            execute(&mut r.server, id, &argv_of(&["SET", "k", "v"])),
            Outcome::Blocked(_)
        ));
        assert_eq!(r.server.blocked.len(), 1);
        // Errors found before running are answered at once.
        assert_eq!(
            execute(&mut r.server, id, &argv_of(&["SET", "k"])),
            Outcome::Reply(err("ERR wrong number of arguments for 'set' command"))
        );
        super::unpause(&mut r.server);
        assert_eq!(r.server.blocked.len(), 0);
        assert_eq!(r.run(["GET", "k"]), Frame::bulk("v"));
    }

    #[test]
    fn pause_arguments_are_checked_mode_first() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(
            r.run(["CLIENT", "PAUSE", "x", "NOPE"]),
            err("ERR CLIENT PAUSE mode must be WRITE or ALL")
        );
        assert_eq!(
            r.run(["CLIENT", "PAUSE", "x"]),
            err("ERR timeout is not an integer or out of range")
        );
        assert_eq!(
            r.run(["CLIENT", "PAUSE", "-1"]),
            err("ERR timeout is negative")
        );
        assert!(r.server.pause.current.is_none());
    }

    #[test]
    fn a_pause_keeps_the_later_end_and_the_stronger_kind() {
        let mut pauses = super::Pauses::default();
        pauses.pause(super::PauseKind::All, 100);
        pauses.pause(super::PauseKind::Write, 200);
        assert_eq!(
            pauses.current,
            Some(super::Pause {
                kind: super::PauseKind::All,
                end_ms: 200
            })
        );
    }

    #[test]
    fn expired_keys_stay_while_paused() {
        let mut r = CommandRunner::with_builtin_commands();
        r.run(["SET", "k", "v", "PX", "10"]);
        r.run(["CLIENT", "PAUSE", "100000", "WRITE"]);
        r.advance_ms(20);
        assert_eq!(r.run(["GET", "k"]), Frame::Null);
        assert_eq!(r.server.stats.expired_keys, 0);
        r.run(["CLIENT", "UNPAUSE"]);
        assert_eq!(r.run(["GET", "k"]), Frame::Null);
        assert_eq!(r.server.stats.expired_keys, 1);
    }
}
