//! What the core knows about each connected client: identity, selected database, protocol,
//! flags and counters. The server crate owns the sockets; it registers a [`Client`] per
//! connection and gives it a [`ConnectionHandle`] so commands such as CLIENT KILL can close
//! another connection without the core ever seeing a socket.

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

    /// [`push_ref`](Self::push_ref) for a message many clients get (PUBLISH): a connection
    /// appends [`SharedPush::write`], which encodes it at most twice per protocol, not once
    /// per client.
    fn push_shared(&self, message: &SharedPush<'_>) {
        self.push(message.to_frame());
    }

    /// Bytes of pushed messages not yet written to the socket (for
    /// `client-output-buffer-limit`); 0 when the connection does not count them.
    fn pending_bytes(&self) -> u64 {
        0
    }

    /// Asks the connection to give back its (empty) query buffer's room: the client has been
    /// idle for a while.
    fn trim_query_buffer(&self) {}

    /// Memory the connection's output buffers hold (allocated, not just used), while any
    /// output is pending; what `omem=` and `maxmemory-clients` count.
    fn output_memory(&self) -> u64 {
        self.pending_bytes()
    }

    /// Like [`push`](Self::push), but for a message caused by the command the client is
    /// running: it is written after that command's reply (client-side caching invalidations).
    fn push_after_reply(&self, message: oxidis_protocol::Frame) {
        self.push(message);
    }
}

/// A message pushed to many clients: the first client of each protocol gets it encoded
/// straight into its buffer, later ones a copy of that encoding. A small message's copy is
/// kept inline (taken from the first client's buffer: no second encoding, no allocation); a
/// bigger one is encoded again into a buffer of its own when a second client needs it. A
/// message with a single subscriber costs one encoding and no allocation.
pub struct SharedPush<'a> {
    message: Message<'a>,
    /// Per protocol (RESP2, RESP3): whether one client has had the message already.
    written: [std::cell::Cell<bool>; 2],
    /// Per protocol: the encoding later clients get a copy of.
    kept: [std::cell::RefCell<Kept>; 2],
    /// Whether more than one client may get the message (else nothing is kept).
    shared: bool,
}

/// The most bytes of an encoded message [`SharedPush`] keeps inline.
const KEPT_INLINE: usize = 192;

/// A [`SharedPush`]'s kept encoding for one protocol.
enum Kept {
    /// None yet.
    Empty,
    /// A small message's encoding: the first `len` bytes.
    Inline {
        len: usize,
        bytes: [u8; KEPT_INLINE],
    },
    /// A bigger one, encoded on its own.
    Heap(bytes::BytesMut),
}

impl Kept {
    fn bytes(&self) -> Option<&[u8]> {
        match self {
            Kept::Empty => None,
            Kept::Inline { len, bytes } => bytes.get(..*len),
            Kept::Heap(bytes) => Some(bytes),
        }
    }
}

/// What a [`SharedPush`] sends.
enum Message<'a> {
    /// Any frame (an invalidation's nested array).
    Frame(&'a oxidis_protocol::Frame),
    /// A push of bulk strings (a pub/sub message), borrowed from the command's arguments:
    /// nothing is copied before it is encoded.
    Bulks(&'a [&'a [u8]]),
}

impl<'a> SharedPush<'a> {
    /// Wraps `frame`; nothing is encoded yet.
    pub fn new(frame: &'a oxidis_protocol::Frame) -> SharedPush<'a> {
        SharedPush::of(Message::Frame(frame))
    }

    /// A push message of bulk strings (`message`, channel, payload); nothing is encoded yet.
    pub fn bulks(parts: &'a [&'a [u8]]) -> SharedPush<'a> {
        SharedPush::of(Message::Bulks(parts))
    }

    /// Tells how many clients will get the message: with one, no copy is kept.
    pub fn for_recipients(mut self, recipients: usize) -> SharedPush<'a> {
        self.shared = recipients > 1;
        self
    }

    /// Whether more than one client gets the message (as far as the sender said).
    pub fn is_fan_out(&self) -> bool {
        self.shared
    }

    fn of(message: Message<'a>) -> SharedPush<'a> {
        SharedPush {
            shared: true,
            message,
            written: Default::default(),
            kept: [
                std::cell::RefCell::new(Kept::Empty),
                std::cell::RefCell::new(Kept::Empty),
            ],
        }
    }

    /// The message as a frame (built for handles that take frames).
    pub fn to_frame(&self) -> oxidis_protocol::Frame {
        use oxidis_protocol::Frame;
        match self.message {
            Message::Frame(frame) => frame.clone(),
            Message::Bulks(parts) => Frame::Push(
                parts
                    .iter()
                    .map(|part| Frame::Bulk(bytes::Bytes::copy_from_slice(part)))
                    .collect(),
            ),
        }
    }

    /// Appends the message, encoded for `resp`, to `out`.
    pub fn write(&self, resp: RespVersion, out: &mut bytes::BytesMut) {
        let slot = usize::from(resp == RespVersion::Resp3);
        let mut kept = self.kept[slot].borrow_mut();
        if let Some(bytes) = kept.bytes() {
            out.extend_from_slice(bytes);
        } else if !self.written[slot].replace(true) {
            let start = out.len();
            self.encode(resp, out);
            if self.shared
                && let Some(encoded) = out.get(start..)
                && encoded.len() <= KEPT_INLINE
            {
                let mut bytes = [0; KEPT_INLINE];
                bytes[..encoded.len()].copy_from_slice(encoded);
                *kept = Kept::Inline {
                    len: encoded.len(),
                    bytes,
                };
            }
        } else {
            let mut encoded = bytes::BytesMut::new();
            self.encode(resp, &mut encoded);
            out.extend_from_slice(&encoded);
            *kept = Kept::Heap(encoded);
        }
    }

    fn encode(&self, resp: RespVersion, out: &mut bytes::BytesMut) {
        match self.message {
            Message::Frame(frame) => oxidis_protocol::encode(frame, resp, out),
            Message::Bulks(parts) => oxidis_protocol::encode_push_of_bulks(parts, resp, out),
        }
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
    /// Free room the query buffer holds beyond `query_buffer_len` (`qbuf-free=`).
    pub query_buffer_free: usize,
    /// Bytes waiting in the output buffer (updated by the server after each batch).
    pub output_buffer_len: usize,
    /// The memory this client was last counted with in [`Clients::memory`] (`maxmemory-clients`).
    pub memory_usage: usize,
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
            query_buffer_free: 0,
            output_buffer_len: 0,
            memory_usage: 0,
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

/// Every connected client, by id: a hash table, because every command looks its client up
/// (several times), while only CLIENT LIST wants them in order ([`Clients::in_order`]).
#[derive(Debug, Default)]
pub struct Clients {
    by_id: hashbrown::HashMap<ClientId, Client, foldhash::fast::FixedState>,
    next_id: ClientId,
    /// The sum of every client's `memory_usage`, kept while `maxmemory-clients` is set.
    memory: usize,
    /// Whether `memory` and the clients' `memory_usage` are being kept up to date.
    counting: bool,
    /// Clients whose output grew from outside their own commands (pushed messages) since
    /// the last count, while counting.
    output_grew: Vec<ClientId>,
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
        let client = self.by_id.remove(&id)?;
        self.memory = self.memory.saturating_sub(client.memory_usage);
        Some(client)
    }

    /// Notes that messages were pushed to client `id`: the next count includes it, so
    /// `maxmemory-clients` sees a client that receives and does not read.
    pub fn note_output(&mut self, id: ClientId) {
        if self.counting && self.output_grew.last() != Some(&id) {
            self.output_grew.push(id);
        }
    }

    /// The memory all clients were last counted with (while `maxmemory-clients` is set).
    pub fn memory(&self) -> usize {
        self.memory
    }

    /// A client by id.
    pub fn get(&self, id: ClientId) -> Option<&Client> {
        self.by_id.get(&id)
    }

    /// A client by id, mutably.
    pub fn get_mut(&mut self, id: ClientId) -> Option<&mut Client> {
        self.by_id.get_mut(&id)
    }

    /// All clients, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Client> {
        self.by_id.values()
    }

    /// All clients by increasing id, the order they connected in (CLIENT LIST's).
    pub fn in_order(&self) -> Vec<&Client> {
        let mut clients: Vec<&Client> = self.by_id.values().collect();
        clients.sort_unstable_by_key(|client| client.id);
        clients
    }

    /// All clients, mutably, in no particular order.
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

/// Size of the reply buffer every connection starts with (`rbs=`, and the `obl=` part of
/// the output buffer).
pub const REPLY_BUFFER_BYTES: usize = 16 * 1024;

/// What one socket read reserves in the query buffer (for `qbuf-free=`).
pub const READ_CHUNK_BYTES: usize = 16 * 1024;

/// A rough fixed cost of a client's own bookkeeping, for `tot-mem=`.
pub const CLIENT_OVERHEAD_BYTES: usize = 1024;

/// A rough cost of one entry in a per-client list (a watched key, a subscription, a
/// tracking prefix) beside its name, like the list nodes and dict entries Redis counts.
const ENTRY_OVERHEAD_BYTES: usize = 48;

impl Client {
    /// Bytes waiting to be written to the client: read live from its connection.
    pub fn pending_output(&self) -> usize {
        self.handle.as_ref().map_or(self.output_buffer_len, |h| {
            usize::try_from(h.pending_bytes()).unwrap_or(usize::MAX)
        })
    }

    /// `obl=`, `oll=` and `omem=` of CLIENT LIST: Redis writes a reply into its 16 KiB
    /// buffer first and then into a list of 16 KiB blocks, which `omem` counts (as allocated).
    pub fn output_buffer_fields(&self) -> (usize, usize, usize) {
        let pending = self.pending_output();
        let obl = pending.min(REPLY_BUFFER_BYTES);
        let omem = if pending > REPLY_BUFFER_BYTES {
            let allocated = self.handle.as_ref().map_or(pending, |h| {
                usize::try_from(h.output_memory()).unwrap_or(usize::MAX)
            });
            allocated.max(pending) - obl
        } else {
            0
        };
        (obl, omem.div_ceil(REPLY_BUFFER_BYTES), omem)
    }
}

/// `tot-mem=` of CLIENT LIST: what the client's buffers, queued transaction, watched keys,
/// subscriptions and tracking prefixes hold; `argv_mem` is the running command's arguments.
/// This is also what `maxmemory-clients` compares with.
pub fn memory_usage(server: &crate::Server, client: &Client, argv_mem: usize) -> usize {
    let (_, _, omem) = client.output_buffer_fields();
    let multi_mem: usize = client.transaction.as_ref().map_or(0, |t| {
        t.queue
            .iter()
            .map(|argv| argv.iter().map(|a| a.len()).sum::<usize>() + 8 * argv.len())
            .sum()
    });
    let watched: usize = server
        .watched
        .keys_of(client.id)
        .iter()
        .map(|k| k.key.len() + ENTRY_OVERHEAD_BYTES)
        .sum();
    let prefixes: usize = server.tracking.client(client.id).map_or(0, |t| {
        t.prefixes
            .iter()
            .map(|p| p.len() + ENTRY_OVERHEAD_BYTES)
            .sum()
    });
    CLIENT_OVERHEAD_BYTES
        + REPLY_BUFFER_BYTES
        + client.query_buffer_len
        + client.query_buffer_free
        + argv_mem
        + omem
        + multi_mem
        + watched
        + prefixes
        + server
            .pubsub
            .subscription_bytes(client.id, ENTRY_OVERHEAD_BYTES)
}

/// Like Redis's client cron: a client idle for more than 2 seconds whose query buffer holds
/// no data but some room (more than 4 KiB) gives the room back; the next read takes a new one.
pub fn trim_idle_query_buffers(server: &mut crate::Server) {
    let now = server.now_ms();
    for client in server.clients.iter_mut() {
        if client.query_buffer_len == 0
            && client.query_buffer_free > 4096
            && now.saturating_sub(client.last_interaction_ms) > 2000
            && let Some(handle) = &client.handle
        {
            handle.trim_query_buffer();
            client.query_buffer_free = 0;
        }
    }
}

/// The hard `client-output-buffer-limit` of the class of client `id`, when it has one and
/// is not running a script: a command whose reply may be huge (HRANDFIELD with a large
/// negative count) stops building it past this, as Redis stops once the client is closing
/// for its output buffer (which such a reply then is).
pub fn reply_limit(server: &crate::Server, id: ClientId) -> Option<usize> {
    if server
        .script_busy
        .running
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        return None;
    }
    let client = server.clients.get(id)?;
    client.handle.as_ref()?;
    let class = if client.replica {
        1
    } else if client.subscribed {
        2
    } else {
        0
    };
    let hard = server.config.client_output_buffer_limit[class].hard_bytes;
    (hard != 0).then(|| usize::try_from(hard).unwrap_or(usize::MAX))
}

/// The `maxmemory-clients` limit in bytes (a percentage is of `maxmemory`); 0 for none.
pub fn client_memory_limit(config: &crate::config::Config) -> usize {
    let setting = config.maxmemory_clients;
    let bytes = if setting < 0 {
        i128::from(config.maxmemory) * -setting / 100
    } else {
        setting
    };
    usize::try_from(bytes).unwrap_or(usize::MAX)
}

/// Recounts client `id`'s memory (every client's when counting starts, or when `id` is
/// `None`), then applies `maxmemory-clients` as Redis's client eviction does: while all
/// clients together hold more than the limit, the largest client that may be evicted (not
/// CLIENT NO-EVICT, not a replica) is closed at once. Returns how many were evicted.
pub fn update_memory_and_evict(server: &mut crate::Server, id: Option<ClientId>) -> usize {
    let limit = client_memory_limit(&server.config);
    if limit == 0 {
        server.clients.counting = false;
        server.clients.output_grew.clear();
        return 0;
    }
    let mut ids: Vec<ClientId> = match id {
        Some(id) if server.clients.counting => vec![id],
        _ => server.clients.by_id.keys().copied().collect(),
    };
    ids.append(&mut server.clients.output_grew);
    ids.sort_unstable();
    ids.dedup();
    if !server.clients.counting {
        server.clients.counting = true;
        server.clients.memory = 0;
        for client in server.clients.by_id.values_mut() {
            client.memory_usage = 0;
        }
    }
    for id in ids {
        let Some(client) = server.clients.get(id) else {
            continue;
        };
        let usage = memory_usage(server, client, 0);
        let clients = &mut server.clients;
        if let Some(client) = clients.by_id.get_mut(&id) {
            clients.memory = clients.memory - client.memory_usage + usage;
            client.memory_usage = usage;
        }
    }
    if server.clients.memory <= limit {
        return 0;
    }
    let mut candidates: Vec<(usize, ClientId)> = server
        .clients
        .iter()
        .filter(|c| !c.no_evict && !c.replica && c.handle.is_some())
        .map(|c| (c.memory_usage, c.id))
        .collect();
    candidates.sort_unstable_by(|a, b| b.cmp(a));
    let mut evicted = 0;
    for (_, victim) in candidates {
        if server.clients.memory <= limit {
            break;
        }
        if let Some(client) = server.clients.get(victim) {
            tracing::info!(
                "Evicting client: id={} addr={} laddr={} name={} tot-mem={}",
                client.id,
                client.peer.addr(),
                client.peer.laddr(),
                String::from_utf8_lossy(client.name.as_deref().unwrap_or_default()),
                client.memory_usage,
            );
            if let Some(handle) = &client.handle {
                handle.close();
            }
        }
        server.disconnect_client(victim);
        server.stats.evicted_clients += 1;
        evicted += 1;
    }
    evicted
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    use oxidis_protocol::Frame;

    use super::*;
    use crate::testing::CommandRunner;

    /// A connection whose pending output the test sets.
    #[derive(Default)]
    struct Fake {
        closed: AtomicBool,
        pending: AtomicU64,
    }

    impl ConnectionHandle for Fake {
        fn close(&self) {
            self.closed.store(true, Ordering::SeqCst);
        }
        fn deliver(&self, _reply: Frame) {}
        fn push(&self, _message: Frame) {}
        fn pending_bytes(&self) -> u64 {
            self.pending.load(Ordering::SeqCst)
        }
    }

    fn connect(r: &mut CommandRunner, query: usize, output: u64) -> (ClientId, Arc<Fake>) {
        let fake = Arc::new(Fake::default());
        fake.pending.store(output, Ordering::SeqCst);
        let handle: Arc<dyn ConnectionHandle> = fake.clone();
        let id = r.server.connect_client(|id| {
            let mut c = Client::new(id, Peer::Unix("/s".into()), true, 0);
            c.handle = Some(handle);
            c.query_buffer_len = query;
            c
        });
        (id, fake)
    }

    #[test]
    fn a_shared_push_reaches_every_client_alike_in_each_protocol() {
        // Kept inline, and encoded on its own; a wrong count of recipients costs an
        // encoding, not correctness.
        for payload in [&b"hi"[..], &[b'x'; 1000]] {
            for recipients in [1, 5] {
                shared_push_reaches_every_client_alike(payload, recipients);
            }
        }
    }

    fn shared_push_reaches_every_client_alike(payload: &[u8], recipients: usize) {
        let parts: [&[u8]; 3] = [b"message", b"ch", payload];
        let message = SharedPush::bulks(&parts).for_recipients(recipients);
        let expected = |resp| {
            let mut out = bytes::BytesMut::new();
            oxidis_protocol::encode(&message.to_frame(), resp, &mut out);
            out
        };
        // Per protocol: the first client (encoded in place), then two more (the kept copy),
        // interleaved so each protocol's first write comes after the other's.
        for resp in [
            RespVersion::Resp2,
            RespVersion::Resp3,
            RespVersion::Resp2,
            RespVersion::Resp3,
            RespVersion::Resp2,
        ] {
            let mut out = bytes::BytesMut::from(&b"+before\r\n"[..]);
            message.write(resp, &mut out);
            assert_eq!(&out[..9], b"+before\r\n");
            assert_eq!(out[9..], expected(resp)[..], "{resp:?}");
        }
    }

    #[test]
    fn output_buffer_fields_split_at_the_reply_buffer() {
        let mut r = CommandRunner::with_builtin_commands();
        let (id, fake) = connect(&mut r, 0, 100);
        let client = r.server.clients.get(id).unwrap();
        assert_eq!(client.output_buffer_fields(), (100, 0, 0));
        fake.pending
            .store(REPLY_BUFFER_BYTES as u64 + 40_000, Ordering::SeqCst);
        assert_eq!(
            client.output_buffer_fields(),
            (REPLY_BUFFER_BYTES, 3, 40_000)
        );
    }

    #[test]
    fn no_limit_evicts_nobody() {
        let mut r = CommandRunner::with_builtin_commands();
        connect(&mut r, 10_000_000, 0);
        assert_eq!(update_memory_and_evict(&mut r.server, None), 0);
        assert_eq!(r.server.clients.memory(), 0);
    }

    #[test]
    fn largest_clients_go_first_until_under_the_limit() {
        let mut r = CommandRunner::with_builtin_commands();
        let base = CLIENT_OVERHEAD_BYTES + REPLY_BUFFER_BYTES;
        let (small, small_conn) = connect(&mut r, 100_000, 0);
        let (big, big_conn) = connect(&mut r, 0, 3_000_000);
        let (kept, _) = connect(&mut r, 5_000_000, 0);
        r.server.clients.get_mut(kept).unwrap().no_evict = true;
        assert_eq!(
            r.run(["CONFIG", "SET", "maxmemory-clients", "5200000"]),
            Frame::ok()
        );
        // The runner's own client counts too, but NO-EVICT clients are never chosen.
        let evicted = update_memory_and_evict(&mut r.server, None);
        assert_eq!(evicted, 1);
        assert!(big_conn.closed.load(Ordering::SeqCst));
        assert!(!small_conn.closed.load(Ordering::SeqCst));
        assert!(r.server.clients.get(big).is_none());
        assert!(r.server.clients.get(small).is_some());
        assert_eq!(r.server.stats.evicted_clients, 1);
        assert!(r.server.clients.memory() <= 5_200_000);
        assert!(r.server.clients.memory() >= 5_100_000 + 2 * base);
    }

    #[test]
    fn percentages_are_of_maxmemory() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(
            r.run([
                "CONFIG",
                "SET",
                "maxmemory",
                "1000000",
                "maxmemory-clients",
                "7%"
            ]),
            Frame::ok()
        );
        assert_eq!(client_memory_limit(&r.server.config), 70_000);
        assert_eq!(
            r.server.config.get("maxmemory-clients"),
            Some(b"7%".to_vec())
        );
    }
}
