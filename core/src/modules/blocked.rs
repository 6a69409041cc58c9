//! Blocking a client from a module command and answering it from another thread (Redis's
//! `RM_BlockClient` / `RM_UnblockClient`).
//!
//! A handler calls [`block_client`], gets a [`BlockedHandle`] (which is `Send`: move it to a
//! worker thread) and returns the [`Frame`] `block_client` gave it. The client then waits like
//! a BLPOP without keys: until [`BlockedHandle::complete`] hands it a reply, the timeout passes
//! (it gets the `timeout_reply` the module chose), CLIENT UNBLOCK, or the client disconnects.
//!
//! `complete` never takes the keyspace lock: the reply goes straight to the client's
//! connection. Whichever comes first wins — the completion, or the timeout / unblock /
//! disconnection (then `complete` returns the reply back as `Err`). The decision is one
//! mutex-guarded state per blocked command, shared by the handle and the record in
//! [`crate::blocking::Blocked`].
//!
//! Blocking is refused inside scripts ([`BLOCK_IN_SCRIPT`]). Inside MULTI/EXEC the client
//! cannot wait either: EXEC answers the timeout reply at once, as for BLPOP, and the handle's
//! completion is accepted but goes nowhere.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use oxidis_protocol::Frame;

use crate::client::{ClientId, ConnectionHandle};
use crate::context::CommandContext;
use crate::errors::CommandError;
use crate::types::ValueType;

/// The error when a module command would block inside a script.
pub const BLOCK_IN_SCRIPT: &str = "ERR Blocking module command called from Lua script";

#[derive(Debug)]
enum State {
    /// The handler returned but dispatch has not recorded the block yet; a completion that
    /// arrives now is kept and delivered when it does.
    Pending(Option<Frame>),
    /// The client waits.
    Armed,
    /// Answered by [`BlockedHandle::complete`].
    Completed,
    /// Timed out, unblocked or disconnected; completions are refused.
    Aborted,
}

/// The shared decision between a [`BlockedHandle`] and the blocked client's record.
pub struct BlockToken {
    state: Mutex<State>,
    connection: Option<Arc<dyn ConnectionHandle>>,
}

impl std::fmt::Debug for BlockToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockToken")
            .field("state", &*self.lock())
            .finish_non_exhaustive()
    }
}

impl BlockToken {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn deliver(&self, reply: Frame) {
        if let Some(connection) = &self.connection {
            connection.deliver(reply);
        }
    }
}

/// The module blocks known to [`crate::blocking::Blocked`]: tokens made by running handlers
/// (pending) and those of clients now waiting (armed).
#[derive(Debug, Default)]
pub struct ModuleBlocks {
    pending: std::collections::HashMap<ClientId, Arc<BlockToken>>,
    armed: std::collections::HashMap<ClientId, Arc<BlockToken>>,
}

/// What [`ModuleBlocks::on_block`] decided.
#[derive(Debug, PartialEq, Eq)]
pub enum OnBlock {
    /// Record the client as blocked.
    Wait,
    /// It was answered already (the reply is on its way): do not record it.
    Answered,
}

impl ModuleBlocks {
    /// Dispatch records `client` as blocked (`module`: by [`block_client`]): arms its pending
    /// token. A completion that came in between is delivered now. A token left by a module
    /// block that could not wait (inside EXEC) is dropped when another command blocks.
    pub fn on_block(&mut self, client: ClientId, module: bool) -> OnBlock {
        self.armed.remove(&client);
        let Some(token) = self.pending.remove(&client) else {
            return OnBlock::Wait;
        };
        if !module {
            *token.lock() = State::Aborted;
            return OnBlock::Wait;
        }
        let mut state = token.lock();
        if let State::Pending(early) = &mut *state
            && let Some(reply) = early.take()
        {
            *state = State::Completed;
            drop(state);
            token.deliver(reply);
            return OnBlock::Answered;
        }
        *state = State::Armed;
        drop(state);
        self.armed.insert(client, token);
        OnBlock::Wait
    }

    /// `client` leaves the blocked set (timeout, CLIENT UNBLOCK, disconnection): true when a
    /// module completed it first, so its reply is already on the way (the caller must not
    /// answer it again).
    pub fn on_unblock(&mut self, client: ClientId) -> bool {
        self.pending.remove(&client);
        let Some(token) = self.armed.remove(&client) else {
            return false;
        };
        let mut state = token.lock();
        match *state {
            State::Completed => true,
            _ => {
                *state = State::Aborted;
                false
            }
        }
    }

    /// Whether `client`'s module block was completed (its record is stale).
    pub fn is_completed(&self, client: ClientId) -> bool {
        self.armed
            .get(&client)
            .is_some_and(|t| matches!(*t.lock(), State::Completed))
    }

    /// Armed blocks already completed (their records are stale until the client's next
    /// command or disconnection).
    pub fn completed_count(&self) -> usize {
        self.armed
            .values()
            .filter(|t| matches!(*t.lock(), State::Completed))
            .count()
    }
}

/// A blocked client, to be answered from any thread.
#[derive(Debug)]
pub struct BlockedHandle {
    token: Arc<BlockToken>,
    client: ClientId,
}

impl BlockedHandle {
    /// The blocked client's id.
    pub fn client_id(&self) -> ClientId {
        self.client
    }

    /// Answers the client with `reply` (Redis's `RM_UnblockClient`).
    ///
    /// # Errors
    /// The reply back when the client no longer waits (timed out, unblocked, disconnected, or
    /// the block was refused).
    pub fn complete(self, reply: Frame) -> Result<(), Frame> {
        let mut state = self.token.lock();
        match &mut *state {
            State::Pending(early @ None) => {
                *early = Some(reply);
                Ok(())
            }
            State::Armed => {
                *state = State::Completed;
                drop(state);
                self.token.deliver(reply);
                Ok(())
            }
            State::Pending(Some(_)) | State::Completed | State::Aborted => Err(reply),
        }
    }

    /// Whether the client stopped waiting without an answer from this handle (a module doing
    /// long work may check it to give up early).
    pub fn is_aborted(&self) -> bool {
        matches!(*self.token.lock(), State::Aborted)
    }
}

/// Blocks the calling client until the returned handle completes it, or `timeout` passes
/// (`None`: no timeout), when it gets `timeout_reply`. The handler must return the frame given
/// back with the handle (`Ok(frame)`); the client receives the reply from the handle instead.
///
/// # Errors
/// [`BLOCK_IN_SCRIPT`] inside a script.
pub fn block_client(
    ctx: &mut CommandContext<'_>,
    timeout: Option<Duration>,
    timeout_reply: Frame,
) -> Result<(BlockedHandle, Frame), CommandError> {
    if ctx.in_script() {
        return Err(CommandError::msg(BLOCK_IN_SCRIPT));
    }
    let client = ctx.client_id();
    let token = Arc::new(BlockToken {
        state: Mutex::new(State::Pending(None)),
        connection: ctx.client().handle.clone(),
    });
    ctx.server
        .blocked
        .module_blocks
        .pending
        .insert(client, Arc::clone(&token));
    // No keys, and a type no key serves: only the handle, the timeout, CLIENT UNBLOCK or the
    // disconnection end the wait.
    let frame = ctx.block(Vec::new(), ValueType::Module, timeout, timeout_reply)?;
    Ok((BlockedHandle { token, client }, frame))
}
