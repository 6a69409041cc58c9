//! `Shared`: what every connection task and the cron task hold — the one keyspace behind its
//! lock, and the signal that asks the process to shut down.
//!
//! # Execution model
//! Redis semantics need one order of execution per keyspace, so commands run under one lock.
//! Everything else — reading, parsing, encoding, writing — happens outside it on every core.
//! A connection takes the lock once per *batch* of pipelined commands, not once per command.
//! The lock is a `parking_lot` mutex: it is never held across an `.await`.

use std::sync::Arc;

use oxidis_core::Server;
use parking_lot::Mutex;
use tokio::sync::Notify;

use oxidis_core::client::ConnectionHandle;

/// State shared by all tasks of the server.
pub struct Shared {
    /// The keyspace and everything commands touch.
    pub server: Mutex<Server>,
    /// Notified when a SHUTDOWN command or a signal asks the process to stop.
    pub shutdown: Notify,
}

impl Shared {
    /// Wraps a server.
    pub fn new(server: Server) -> Arc<Shared> {
        Arc::new(Shared {
            server: Mutex::new(server),
            shutdown: Notify::new(),
        })
    }
}

/// How the core asks one connection task to close (CLIENT KILL, `timeout`).
#[derive(Default)]
pub struct CloseSignal {
    notify: Notify,
}

impl CloseSignal {
    /// Completes once `close` has been called (immediately if it already was).
    pub async fn closed(&self) {
        self.notify.notified().await;
    }
}

impl ConnectionHandle for CloseSignal {
    fn close(&self) {
        // `notify_one` stores a permit, so a close requested while the task is busy executing
        // is seen at its next wait.
        self.notify.notify_one();
    }
}
