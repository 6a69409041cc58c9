//! What the core knows about each connected client: identity, selected database, protocol,
//! flags and counters. The server crate owns the sockets; it registers a [`Client`] per
//! connection and gives it a [`ConnectionHandle`] so commands such as CLIENT KILL can close
//! another connection without the core ever seeing a socket.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use oxidis_protocol::RespVersion;

/// A client's unique, increasing id (`CLIENT ID`).
pub type ClientId = u64;

/// Lets the core act on a connection it does not own.
pub trait ConnectionHandle: Send + Sync {
    /// Asks the connection to close after writing what is already queued.
    fn close(&self);

    /// Hands the connection the reply of the command it is blocked on.
    fn deliver(&self, reply: oxidis_protocol::Frame);

    /// Sends the client an out-of-band message (a pub/sub message, an invalidation) between
    /// replies.
    fn push(&self, message: oxidis_protocol::Frame);

    /// [`push`](Self::push) from a borrowed frame: one message sent to many clients is built
    /// once (a connection encodes it straight into its buffer).
    fn push_ref(&self, message: &oxidis_protocol::Frame) {
        self.push(message.clone());
    }

    /// Bytes of pushed messages not yet written to the socket (for
    /// `client-output-buffer-limit`); 0 when the connection does not count them.
    fn pending_bytes(&self) -> u64 {
        0
    }

    /// Like [`push`](Self::push), but for a message caused by the command the client is
    /// running: it is written after that command's reply (client-side caching invalidations).
    fn push_after_reply(&self, message: oxidis_protocol::Frame) {
        self.push(message);
    }
}

/// What `CLIENT REPLY` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyMode {
    /// Every reply is sent.
    #[default]
    On,
    /// No reply is sent.
    Off,
    /// CLIENT REPLY SKIP just ran: its own reply is skipped, then the next one.
    SkipNext,
    /// The reply of the command now running is skipped.
    Skip,
}

/// Where a connection comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// A TCP peer and the local address it reached.
    Tcp {
        /// The remote address.
        peer: SocketAddr,
        /// The local address.
        local: SocketAddr,
    },
    /// A unix socket, with the socket's path.
    Unix(String),
    /// No connection (tests, scripts, the AOF loader).
    Internal,
}

impl Peer {
    /// `addr=` of CLIENT LIST.
    pub fn addr(&self) -> String {
        match self {
            Peer::Tcp { peer, .. } => peer.to_string(),
            Peer::Unix(path) => format!("{path}:0"),
            Peer::Internal => String::new(),
        }
    }

    /// `laddr=` of CLIENT LIST.
    pub fn laddr(&self) -> String {
        match self {
            Peer::Tcp { local, .. } => local.to_string(),
            Peer::Unix(path) => format!("{path}:0"),
            Peer::Internal => String::new(),
        }
    }

    /// Whether the peer is on this machine (loopback or unix socket): `enable-*-command local`.
    pub fn is_local(&self) -> bool {
        match self {
            Peer::Tcp { peer, .. } => peer.ip().is_loopback(),
            Peer::Unix(_) | Peer::Internal => true,
        }
    }
}

/// One client, as the core sees it.
pub struct Client {
    /// The id.
    pub id: ClientId,
    /// Where it connects from.
    pub peer: Peer,
    /// `CLIENT SETNAME` / `HELLO ... SETNAME`.
    pub name: Option<Vec<u8>>,
    /// `CLIENT SETINFO LIB-NAME`.
    pub lib_name: Option<Vec<u8>>,
    /// `CLIENT SETINFO LIB-VER`.
    pub lib_ver: Option<Vec<u8>>,
    /// The selected database.
    pub db: usize,
    /// The protocol chosen with HELLO.
    pub resp: RespVersion,
    /// Whether AUTH (or no `requirepass`) let it in.
    pub authenticated: bool,
    /// `CLIENT REPLY`.
    pub reply_mode: ReplyMode,
    /// Close once the current reply is written (QUIT, a failed protocol).
    pub close_after_reply: bool,
    /// `CLIENT NO-EVICT`.
    pub no_evict: bool,
    /// Creation time, Unix milliseconds.
    pub created_ms: u64,
    /// Last command time, Unix milliseconds.
    pub last_interaction_ms: u64,
    /// Full name of the last command run (`cmd=` of CLIENT LIST).
    pub last_command: &'static str,
    /// Bytes waiting in the query buffer (updated by the server before each batch).
    pub query_buffer_len: usize,
    /// Bytes waiting in the output buffer (updated by the server after each batch).
    pub output_buffer_len: usize,
    /// Arguments of the command being run, counted for `argv-mem`.
    pub argv_mem: usize,
    /// Total commands run by this client.
    pub commands_processed: u64,
    /// How to reach the connection; `None` for internal clients.
    pub handle: Option<Arc<dyn ConnectionHandle>>,
    /// The transaction between MULTI and EXEC, if one is open.
    pub transaction: Option<crate::transactions::Transaction>,
    /// A key this client WATCHes has changed since: its next EXEC fails.
    pub watch_dirty: bool,
    /// Subscribed to a channel, pattern or shard channel (Redis's `CLIENT_PUBSUB`): a RESP2
    /// client may then only run the subscription commands, PING, QUIT and RESET.
    pub subscribed: bool,
    /// When the pending output first passed the soft `client-output-buffer-limit`.
    pub output_soft_limit_since: Option<u64>,
    /// The output limit was broken: the connection is closing and gets nothing more.
    pub output_limit_reached: bool,
    /// In MONITOR mode: every command run is pushed to it.
    pub monitor: bool,
    /// A replica attached with SYNC or PSYNC: it receives the propagation stream.
    pub replica: bool,
}

impl Client {
    /// A fresh client, authenticated unless `requirepass` is set.
    pub fn new(id: ClientId, peer: Peer, authenticated: bool, now_ms: u64) -> Client {
        Client {
            id,
            peer,
            name: None,
            lib_name: None,
            lib_ver: None,
            db: 0,
            resp: RespVersion::Resp2,
            authenticated,
            reply_mode: ReplyMode::On,
            close_after_reply: false,
            no_evict: false,
            created_ms: now_ms,
            last_interaction_ms: now_ms,
            last_command: "NULL",
            query_buffer_len: 0,
            output_buffer_len: 0,
            argv_mem: 0,
            commands_processed: 0,
            handle: None,
            transaction: None,
            watch_dirty: false,
            subscribed: false,
            output_soft_limit_since: None,
            output_limit_reached: false,
            monitor: false,
            replica: false,
        }
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("peer", &self.peer)
            .finish()
    }
}

/// Every connected client, by id (ordered, as CLIENT LIST prints them).
#[derive(Debug, Default)]
pub struct Clients {
    by_id: BTreeMap<ClientId, Client>,
    next_id: ClientId,
}

impl Clients {
    /// Hands out the next id; ids start at 1 and never repeat.
    pub fn next_id(&mut self) -> ClientId {
        self.next_id += 1;
        self.next_id
    }

    /// Adds a client.
    pub fn insert(&mut self, client: Client) {
        self.by_id.insert(client.id, client);
    }

    /// Removes a client, returning it.
    pub fn remove(&mut self, id: ClientId) -> Option<Client> {
        self.by_id.remove(&id)
    }

    /// A client by id.
    pub fn get(&self, id: ClientId) -> Option<&Client> {
        self.by_id.get(&id)
    }

    /// A client by id, mutably.
    pub fn get_mut(&mut self, id: ClientId) -> Option<&mut Client> {
        self.by_id.get_mut(&id)
    }

    /// All clients, by increasing id.
    pub fn iter(&self) -> impl Iterator<Item = &Client> {
        self.by_id.values()
    }

    /// All clients, mutably.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Client> {
        self.by_id.values_mut()
    }

    /// Number of clients.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}
