//! `CommandRunner`: the real command table and keyspace in memory, with no socket, for unit
//! tests beside the code (`runner.run(["SET", "k", "v"])`); [`Inbox`], a connection that
//! records what the server sends it, for tests of blocking and pushed messages.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use oxidis_protocol::{Frame, RespVersion};

use crate::client::{Client, ClientId, ConnectionHandle, Peer};
use crate::config::Config;
use crate::dispatch::dispatch;
use crate::server::Server;

/// A server with one connected client, driven command by command.
pub struct CommandRunner {
    /// The server, for inspecting state directly.
    pub server: Server,
    /// The client commands run as.
    pub client: ClientId,
}

impl CommandRunner {
    /// A runner over every built-in command, on a hand-moved clock starting at 1,000,000 ms.
    pub fn with_builtin_commands() -> CommandRunner {
        CommandRunner::with_config(Config::default())
    }

    /// A runner with a given configuration.
    pub fn with_config(config: Config) -> CommandRunner {
        let mut server = Server::new(config);
        server.use_manual_clock(1_000_000);
        let now = server.now_ms();
        let authenticated = !server.requires_auth();
        let client =
            server.connect_client(|id| Client::new(id, Peer::Internal, authenticated, now));
        CommandRunner { server, client }
    }

    /// Runs one command and returns its reply.
    pub fn run<I, S>(&mut self, argv: I) -> Frame
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let argv: Vec<Bytes> = argv
            .into_iter()
            .map(|a| Bytes::copy_from_slice(a.as_ref()))
            .collect();
        as_client_reads(dispatch(&mut self.server, self.client, &argv))
    }

    /// Runs one command as client `id` (one connected with [`connect_inbox`]); the reply as
    /// the server returns it.
    pub fn run_as(&mut self, id: ClientId, argv: &[&str]) -> Frame {
        dispatch(&mut self.server, id, &argv_of(argv))
    }

    /// Switches the client's protocol, as HELLO would.
    pub fn set_resp(&mut self, resp: RespVersion) {
        if let Some(c) = self.server.clients.get_mut(self.client) {
            c.resp = resp;
        }
    }

    /// Moves the clock forward by `ms` milliseconds.
    pub fn advance_ms(&mut self, ms: u64) {
        self.server
            .advance_clock(std::time::Duration::from_millis(ms));
    }
}

/// A connection that records what the server sends it: the replies of its blocked commands,
/// and the messages pushed to it.
#[derive(Default)]
pub struct Inbox {
    delivered: Mutex<Vec<Frame>>,
    pushed: Mutex<Vec<Frame>>,
}

impl Inbox {
    /// The replies delivered so far.
    pub fn delivered(&self) -> Vec<Frame> {
        self.delivered.lock().map(|d| d.clone()).unwrap_or_default()
    }

    /// The messages pushed so far.
    pub fn pushed(&self) -> Vec<Frame> {
        self.pushed.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

impl ConnectionHandle for Inbox {
    fn close(&self) {}

    fn deliver(&self, reply: Frame) {
        if let Ok(mut delivered) = self.delivered.lock() {
            delivered.push(reply);
        }
    }

    fn push(&self, message: Frame) {
        if let Ok(mut pushed) = self.pushed.lock() {
            pushed.push(message);
        }
    }
}

/// Connects a client speaking `resp` whose connection is a new [`Inbox`].
pub fn connect_inbox(server: &mut Server, resp: RespVersion) -> (ClientId, Arc<Inbox>) {
    let inbox = Arc::new(Inbox::default());
    let handle = inbox.clone();
    let id = server.connect_client(|id| {
        let mut client = Client::new(id, Peer::Internal, true, 0);
        client.resp = resp;
        client.handle = Some(handle);
        client
    });
    (id, inbox)
}

/// An argument vector from text.
pub fn argv_of(items: &[&str]) -> Vec<Bytes> {
    items
        .iter()
        .map(|item| Bytes::copy_from_slice(item.as_bytes()))
        .collect()
}

/// A reply as a client parses it: packed arrays become plain arrays of bulks, so assertions
/// need not know which form a handler chose.
fn as_client_reads(frame: Frame) -> Frame {
    match frame {
        Frame::BulkArray(array) => Frame::Array(array.to_frames()),
        Frame::Array(items) => Frame::Array(items.into_iter().map(as_client_reads).collect()),
        other => other,
    }
}

/// `Frame::Bulk` from text, for assertions.
pub fn bulk(text: &str) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(text.as_bytes()))
}

/// `Frame::Error` from text, for assertions.
pub fn err(text: &str) -> Frame {
    Frame::Error(Bytes::copy_from_slice(text.as_bytes()))
}

/// `Frame::Simple` from text, for assertions.
pub fn simple(text: &str) -> Frame {
    Frame::Simple(Bytes::copy_from_slice(text.as_bytes()))
}
