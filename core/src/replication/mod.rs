//! Replication state, both roles.
//!
//! **Master side.** A replica is a client with [`Client::replica`] set, attached with SYNC or
//! PSYNC (see [`crate::families::replication`]). After every batch of commands the server crate
//! calls [`drain`], which takes the new part of the propagation stream, sends it to each replica,
//! appends it to the backlog (which makes a later `PSYNC replid offset` answerable with
//! `+CONTINUE`) and returns it for the append-only file. `master_repl_offset` counts the bytes
//! that went through the backlog, as in Redis (it stays 0 until the first replica attaches).
//!
//! **Replica side.** `REPLICAOF host port` only records the master here ([`set_master`]); the
//! server crate's replica task sees the new [`Replication::generation`], connects, performs the
//! handshake, loads the snapshot and feeds the master's stream through the normal execute path
//! as the master client ([`Replication::master_client`]). The stream it applied is forwarded
//! verbatim to this server's own replicas and backlog ([`applied_from_master`]), so offsets
//! stay those of the master, as Redis's chained replicas do. Writes the replica makes itself
//! (lazy expiry, a writable replica) reach its AOF but not its replicas.
//!
//! The state lives in [`Server::extensions`] (one [`Replication`] value); the replication id
//! is [`Server::replication_id`] and the master's address [`Config::replicaof`].
//!
//! [`Client::replica`]: crate::client::Client::replica
//! [`Config::replicaof`]: crate::config::Config::replicaof

use std::collections::{BTreeMap, HashSet, VecDeque};

use bytes::{Bytes, BytesMut};
use oxidis_protocol::Frame;
use tracing::info;

use crate::client::ClientId;
use crate::command::{Command, Flag};
use crate::errors::CommandError;
use crate::errors::replication::{MASTERDOWN, NOREPLICAS, READONLY};
use crate::server::Server;

mod report;

/// Where the link with the master stands (Redis's `repl_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkState {
    /// Must connect (REPLICAOF just ran, or the link broke).
    #[default]
    Connect,
    /// The TCP connection is being made.
    Connecting,
    /// PING, AUTH, REPLCONF and PSYNC are under way.
    Handshake,
    /// The snapshot is being received.
    Transfer,
    /// Streaming.
    Connected,
}

/// What the master knows of one attached replica.
#[derive(Debug, Clone, Default)]
pub struct ReplicaInfo {
    /// `REPLCONF listening-port`.
    pub listening_port: u16,
    /// `REPLCONF ip-address`, else the peer's address.
    pub ip: String,
    /// The last `REPLCONF ACK` offset.
    pub ack_offset: u64,
    /// When the last ACK arrived, Unix ms.
    pub ack_time_ms: u64,
    /// Attached (SYNC/PSYNC ran) rather than only announced.
    pub online: bool,
}

/// Replication state of the server (both roles).
#[derive(Debug, Default)]
pub struct Replication {
    /// `master_repl_offset`: bytes of stream that went through the backlog.
    pub offset: u64,
    /// `master_replid2`: the previous replication id (all zeros when none).
    pub replid2: Option<String>,
    /// `second_repl_offset`: up to where `replid2` is valid (-1 when none).
    pub second_offset: i64,
    /// The last `repl-backlog-size` bytes of the stream; `None` until a replica attaches.
    backlog: Option<VecDeque<u8>>,
    /// Replicas by client id (also clients that only sent REPLCONF so far).
    pub replicas: BTreeMap<ClientId, ReplicaInfo>,
    /// Bumped by every REPLICAOF: the replica task drops a link of an older generation.
    pub generation: u64,
    /// The link with the master (meaningful while `replicaof` is set).
    pub link: LinkState,
    /// The client the master's stream runs as.
    pub master_client: Option<ClientId>,
    /// The database the master client had selected when the link broke: a `+CONTINUE` goes on
    /// in it (Redis keeps its master client across the break).
    pub master_db: usize,
    /// Unix ms of the last byte read from the master.
    pub last_io_ms: u64,
    /// Unix ms the link went down (0: never was up).
    pub down_since_ms: u64,
    /// Offset of the master's stream read so far (`slave_read_repl_offset`).
    pub read_offset: u64,
    /// Snapshot size announced by the master, and bytes of it read (INFO while syncing).
    pub transfer_size: i64,
    /// See [`Replication::transfer_size`].
    pub transfer_read: u64,
    /// Keys written by this replica's own clients (a writable replica): the replica expires
    /// those itself, since its master knows nothing of them.
    replica_keys: HashSet<(usize, Bytes)>,
    /// Clients blocked in WAIT.
    waiters: Vec<Waiter>,
    /// `Propagation::offset` when the stream was last drained: what is above it is propagated
    /// but not yet in `offset`.
    drained_mark: u64,
    /// A WAIT asked the replicas for an acknowledgement: `REPLCONF GETACK *` goes out after
    /// the next drain.
    getack_pending: bool,
    /// Full resynchronisations served (`sync_full`).
    pub sync_full: u64,
    /// Partial resynchronisations accepted and refused (`sync_partial_ok`, `sync_partial_err`).
    pub sync_partial_ok: u64,
    /// See [`Replication::sync_partial_ok`].
    pub sync_partial_err: u64,
}

impl Replication {
    fn new() -> Replication {
        Replication {
            second_offset: -1,
            ..Replication::default()
        }
    }

    /// Bytes held by the backlog (`repl_backlog_histlen`).
    pub fn backlog_len(&self) -> u64 {
        self.backlog.as_ref().map_or(0, |b| b.len() as u64)
    }

    /// Whether the backlog exists (`repl_backlog_active`).
    pub fn has_backlog(&self) -> bool {
        self.backlog.is_some()
    }

    /// Offset of the backlog's first byte (`repl_backlog_first_byte_offset`).
    pub fn backlog_first_offset(&self) -> u64 {
        if self.backlog.is_some() {
            self.offset + 1 - self.backlog_len()
        } else {
            0
        }
    }

    /// Appends stream bytes to the backlog (trimmed to `size`) and moves the offset.
    fn feed_backlog(&mut self, bytes: &[u8], size: usize) {
        let Some(backlog) = &mut self.backlog else {
            return;
        };
        backlog.extend(bytes);
        let excess = backlog.len().saturating_sub(size.max(1));
        backlog.drain(..excess);
        self.offset += bytes.len() as u64;
    }

    /// Creates an empty backlog starting after the current offset, if there is none.
    pub fn ensure_backlog(&mut self) {
        if self.backlog.is_none() {
            self.backlog = Some(VecDeque::new());
        }
    }

    /// Empties the backlog (a full resynchronisation replaced the history).
    pub fn reset_backlog(&mut self) {
        self.backlog = Some(VecDeque::new());
    }

    /// The stream from `from` (a PSYNC offset) to now, if the backlog still holds it.
    pub fn backlog_from(&self, from: u64) -> Option<Bytes> {
        let backlog = self.backlog.as_ref()?;
        let first = self.backlog_first_offset();
        if from < first || from > self.offset + 1 {
            return None;
        }
        let skip = usize::try_from(from - first).ok()?;
        let (a, b) = backlog.as_slices();
        let mut out = BytesMut::with_capacity(backlog.len() - skip);
        if skip < a.len() {
            out.extend_from_slice(&a[skip..]);
            out.extend_from_slice(b);
        } else {
            out.extend_from_slice(&b[skip - a.len()..]);
        }
        Some(out.freeze())
    }
}

/// The replication state (created on first use).
pub fn state(server: &mut Server) -> &mut Replication {
    server.extensions.get_or_insert_with(Replication::new)
}

/// The replication state for reading, if any was created.
pub fn state_ref(server: &Server) -> Option<&Replication> {
    server.extensions.get::<Replication>()
}

/// Whether `client_id`'s writes must be applied whatever the replication gates say: it is this
/// replica's master, or the server is loading (the AOF replays), as Redis's `mustObeyClient`.
pub fn must_obey(server: &Server, client_id: ClientId) -> bool {
    server.loading || state_ref(server).and_then(|s| s.master_client) == Some(client_id)
}

/// Whether this server replicates another (`role:slave`).
pub fn is_replica(server: &Server) -> bool {
    server.config.replicaof.is_some()
}

/// Whether this server is a replica that accepts writes (`replica-read-only no`).
pub fn is_writable_replica(server: &Server) -> bool {
    is_replica(server) && !server.config.replica_read_only
}

/// Takes what the propagation stream gained since the last call, sends it to every replica and
/// the backlog (a master only: a replica forwards its master's stream instead), and returns it
/// for the AOF. Empty when nothing was propagated.
pub fn drain(server: &mut Server) -> Bytes {
    let stream = server.propagation.take_stream();
    let mark = server.propagation.offset();
    let ask_ack = server.extensions.get_mut::<Replication>().is_some_and(|s| {
        s.drained_mark = mark;
        std::mem::take(&mut s.getack_pending)
    });
    if is_replica(server) {
        return stream;
    }
    if !stream.is_empty() {
        feed_replicas(server, &stream);
    }
    if ask_ack {
        let mut getack = BytesMut::new();
        crate::propagation::encode_command(&mut getack, &[&b"REPLCONF"[..], b"GETACK", b"*"]);
        feed_replicas(server, &getack.freeze());
    }
    stream
}

/// Sends `bytes` of stream to the replicas and the backlog.
fn feed_replicas(server: &mut Server, bytes: &Bytes) {
    // No backlog means no replica ever attached (the first one creates it, and it stays): an
    // AOF-only server skips the walk over every client and the config lookup per batch.
    if !state_ref(server).is_some_and(Replication::has_backlog) {
        return;
    }
    for client in server.clients.iter().filter(|c| c.replica) {
        if let Some(handle) = &client.handle {
            handle.push(Frame::Raw(bytes.clone()));
        }
    }
    let size = backlog_size(server);
    state(server).feed_backlog(bytes, size);
}

/// `repl-backlog-size` in bytes.
fn backlog_size(server: &Server) -> usize {
    config_number(server, "repl-backlog-size")
        .map_or(1 << 20, |n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// A numeric configuration parameter.
fn config_number(server: &Server, name: &str) -> Option<i64> {
    let value = server.config.get(name)?;
    std::str::from_utf8(&value).ok()?.parse().ok()
}

/// Whether a boolean configuration parameter is `yes`.
fn config_yes(server: &Server, name: &str) -> bool {
    server.config.get(name).is_some_and(|v| v == b"yes")
}

/// Number of attached replicas.
pub fn replica_count(server: &Server) -> usize {
    server.clients.iter().filter(|c| c.replica).count()
}

/// Collects propagated commands exactly while someone consumes them: an append-only file, a
/// replica, or the backlog that later replicas resynchronise from.
pub fn update_propagation(server: &mut Server) {
    let backlog = state_ref(server).is_some_and(Replication::has_backlog);
    let wanted = server.config.appendonly || backlog || replica_count(server) > 0;
    server.propagation.set_enabled(wanted);
}

/// Pings the replicas every `repl-ping-replica-period` seconds (called by the cron after the
/// stream was drained), so they can tell a quiet master from a dead link.
pub fn cron(server: &mut Server) {
    if is_replica(server) {
        expire_replica_keys(server);
    }
    serve_waiters(server, true);
    let now = server.now_ms();
    let period = config_number(server, "repl-ping-replica-period").unwrap_or(10);
    let period_ms = u64::try_from(period).unwrap_or(10).saturating_mul(1000);
    if is_replica(server) || replica_count(server) == 0 {
        return;
    }
    let last = server
        .extensions
        .get_or_insert_with(PingClock::default)
        .last_ms;
    // The first period starts when the first replica is seen, not at once.
    if last == 0 {
        server
            .extensions
            .get_or_insert_with(PingClock::default)
            .last_ms = now;
        return;
    }
    if now.saturating_sub(last) < period_ms {
        return;
    }
    server
        .extensions
        .get_or_insert_with(PingClock::default)
        .last_ms = now;
    let mut ping = BytesMut::new();
    crate::propagation::encode_command(&mut ping, &[b"PING"]);
    feed_replicas(server, &ping.freeze());
}

/// A write command from one of a writable replica's own clients ran: its keys are remembered
/// for [`expire_replica_keys`].
pub fn note_replica_write(
    server: &mut Server,
    client_id: ClientId,
    command: &Command,
    argv: &[Bytes],
) {
    if state_ref(server).and_then(|s| s.master_client) == Some(client_id) {
        return;
    }
    let db = server.clients.get(client_id).map_or(0, |c| c.db);
    let keys: Vec<Bytes> = crate::command::find_keys(command, argv)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|k| argv.get(k.index).cloned())
        .collect();
    let state = state(server);
    for key in keys {
        state.replica_keys.insert((db, key));
    }
}

/// Expires the keys a writable replica's own clients wrote, once their time has come (Redis's
/// `expireSlaveKeys`); keys without a TTL, or gone, are forgotten.
fn expire_replica_keys(server: &mut Server) {
    let Some(tracked) = server
        .extensions
        .get_mut::<Replication>()
        .filter(|s| !s.replica_keys.is_empty())
        .map(|s| std::mem::take(&mut s.replica_keys))
    else {
        return;
    };
    let now = server.now_ms();
    let lazy = server.config.lazyfree_lazy_expire;
    let mut kept = HashSet::new();
    for (db, key) in tracked {
        let Some(pos) = server.dbs.get(db).and_then(|d| d.find(&key)) else {
            continue;
        };
        let entry = server.dbs[db].entry(pos);
        if entry.expire_at().is_none() {
            continue;
        }
        if !entry.is_expired(now) {
            kept.insert((db, key));
            continue;
        }
        server.dbs[db].remove_at(pos);
        server.stats.expired_keys += 1;
        server.propagation.push_deletion(db, &key, lazy);
        server.key_expired(db, &key);
    }
    server.propagation.without_multi(|p| p.flush(true));
    if !server.events.is_empty() {
        crate::events::deliver(server);
    }
    state(server).replica_keys.extend(kept);
}

/// When the replicas were last pinged.
#[derive(Debug, Default)]
struct PingClock {
    last_ms: u64,
}

// ---------------------------------------------------------------------------------------------
// Gates.

/// The replication gates of Redis's `processCommand`, for a command a client sends: NOREPLICAS
/// (`min-replicas-to-write`), READONLY (a read-only replica refuses writes except from its
/// master) and MASTERDOWN (`replica-serve-stale-data no` while the link is down). For EXEC the
/// flags of the queued commands count.
///
/// # Errors
/// The refusal.
pub fn check_gates(
    server: &Server,
    client_id: ClientId,
    command: &Command,
) -> Result<(), CommandError> {
    let replica = is_replica(server);
    let is_exec = command.spec.name == "exec";
    if !replica && !is_exec && !command.has(Flag::Write) {
        return Ok(());
    }
    let (mut write, mut deny_stale) = (command.has(Flag::Write), !command.has(Flag::Stale));
    if is_exec
        && let Some(transaction) = server
            .clients
            .get(client_id)
            .and_then(|c| c.transaction.as_ref())
    {
        for argv in &transaction.queue {
            if let Some(queued) = resolve(server, argv) {
                write |= queued.has(Flag::Write);
                deny_stale |= !queued.has(Flag::Stale);
            }
        }
    }
    // A replica's own writes are never refused for want of replicas.
    if write && !replica && !enough_good_replicas(server) {
        return Err(CommandError::msg(NOREPLICAS));
    }
    if !replica {
        return Ok(());
    }
    let state = state_ref(server);
    if state.and_then(|s| s.master_client) == Some(client_id) {
        return Ok(());
    }
    if write && server.config.replica_read_only {
        return Err(CommandError::msg(READONLY));
    }
    let connected = state.is_some_and(|s| s.link == LinkState::Connected);
    if !connected && deny_stale && !config_yes(server, "replica-serve-stale-data") {
        return Err(CommandError::msg(MASTERDOWN));
    }
    Ok(())
}

/// The command (or subcommand) `argv` names.
fn resolve(server: &Server, argv: &[Bytes]) -> Option<&'static Command> {
    let command = server.table.get(argv.first()?)?;
    if command.subcommands.is_empty() {
        return Some(command);
    }
    argv.get(1)
        .and_then(|sub| command.subcommand(sub))
        .or(Some(command))
}

/// Whether `min-replicas-to-write` is met: that many replicas acknowledged within
/// `min-replicas-max-lag` seconds (always true when either is 0).
pub fn enough_good_replicas(server: &Server) -> bool {
    let wanted = server.config.min_replicas_to_write;
    let max_lag = server.config.min_replicas_max_lag;
    if wanted == 0 || max_lag == 0 {
        return true;
    }
    u64::try_from(good_replicas(server, max_lag)).unwrap_or(u64::MAX) >= wanted
}

/// Online replicas that acknowledged within `max_lag` seconds.
fn good_replicas(server: &Server, max_lag: u64) -> usize {
    let now = server.now_ms();
    let max_lag_ms = max_lag.saturating_mul(1000);
    state_ref(server).map_or(0, |s| {
        s.replicas
            .iter()
            .filter(|(id, r)| {
                r.online
                    && server.clients.get(**id).is_some_and(|c| c.replica)
                    && now.saturating_sub(r.ack_time_ms) <= max_lag_ms
            })
            .count()
    })
}

// ---------------------------------------------------------------------------------------------
// Role changes.

/// REPLICAOF host port: this server becomes a replica of `host:port`. The replica task
/// connects; until then the link is down. Our own replicas are disconnected (they will
/// resynchronise), as are clients blocked on keys.
pub fn set_master(server: &mut Server, host: String, port: u16) {
    server.config.replicaof = Some((host, port));
    drop_master_link(server);
    unblock_clients_on_keys(server);
    disconnect_replicas(server);
    let state = state(server);
    state.generation += 1;
    state.link = LinkState::Connect;
    state.down_since_ms = 0;
    update_propagation(server);
    // A replica takes the replica class of `oom-score-adj-values` (failures are logged).
    let _ = server
        .oom_score
        .apply(&server.config, crate::oom_score::ProcessClass::Replica);
}

/// REPLICAOF NO ONE: this server becomes a master. The replication id changes (the old one
/// stays valid as `master_replid2` up to the current offset, so our replicas can continue
/// partially) and they are disconnected so they learn of it.
pub fn unset_master(server: &mut Server) {
    server.config.replicaof = None;
    drop_master_link(server);
    let new_id = crate::server::random_hex_id(&mut server.rng);
    let old_id = std::mem::replace(&mut server.replication_id, new_id);
    let state = state(server);
    state.generation += 1;
    state.link = LinkState::Connect;
    state.replid2 = Some(old_id);
    state.second_offset = i64::try_from(state.offset + 1).unwrap_or(i64::MAX);
    state.ensure_backlog();
    disconnect_replicas(server);
    update_propagation(server);
    let _ = server
        .oom_score
        .apply(&server.config, crate::oom_score::ProcessClass::Master);
    info!("MASTER MODE enabled (user request)");
}

/// Clients blocked on keys are released with an error when the instance becomes a replica
/// (their keys now belong to the master's stream).
fn unblock_clients_on_keys(server: &mut Server) {
    let blocked: Vec<ClientId> = server
        .clients
        .iter()
        .map(|c| c.id)
        .filter(|id| server.blocked.get(*id).is_some_and(|b| !b.keys.is_empty()))
        .collect();
    for id in blocked {
        server.blocked.unblock(id);
        crate::blocking::deliver(
            server,
            id,
            Frame::error_static(
                "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)",
            ),
        );
    }
}

/// Closes the connection with the master, if any.
fn drop_master_link(server: &mut Server) {
    if let Some(id) = state(server).master_client.take()
        && let Some(client) = server.clients.get(id)
        && let Some(handle) = &client.handle
    {
        handle.close();
    }
}

/// Disconnects every attached replica.
fn disconnect_replicas(server: &mut Server) {
    for client in server.clients.iter_mut().filter(|c| c.replica) {
        client.replica = false;
        if let Some(handle) = &client.handle {
            handle.close();
        }
    }
    state(server).replicas.clear();
    update_propagation(server);
}

// ---------------------------------------------------------------------------------------------
// The replica task's entry points (server crate, under the lock).

/// The master to replicate and the generation of that order, if this server is a replica.
pub fn target(server: &mut Server) -> Option<(String, u16, u64)> {
    let (host, port) = server.config.replicaof.clone()?;
    Some((host, port, state(server).generation))
}

/// Whether `generation` is still the current order (a newer REPLICAOF cancels a link).
pub fn is_current(server: &mut Server, generation: u64) -> bool {
    is_replica(server) && state(server).generation == generation
}

/// Records the link's progress.
pub fn set_link(server: &mut Server, generation: u64, link: LinkState) {
    if is_current(server, generation) {
        let now = server.now_ms();
        let state = state(server);
        if state.link == LinkState::Connected && link != LinkState::Connected {
            state.down_since_ms = now;
        }
        state.link = link;
        state.last_io_ms = now;
    }
}

/// What PSYNC asks for: our replication id and the next offset we need.
pub fn psync_request(server: &mut Server) -> (String, u64) {
    let id = server.replication_id.clone();
    (id, state(server).offset + 1)
}

/// After `+FULLRESYNC replid offset` and the snapshot loaded: the master's history is ours.
pub fn full_sync_done(server: &mut Server, replid: String, offset: u64, master: ClientId) {
    server.replication_id = replid;
    disconnect_replicas(server);
    let now = server.now_ms();
    let state = state(server);
    state.offset = offset;
    state.read_offset = offset;
    state.replid2 = None;
    state.second_offset = -1;
    state.reset_backlog();
    state.master_client = Some(master);
    state.master_db = 0;
    state.link = LinkState::Connected;
    state.last_io_ms = now;
    update_propagation(server);
}

/// Empties every database before a full resynchronisation loads the master's snapshot
/// (watchers of the keys see them change).
pub fn clear_dataset(server: &mut Server) {
    for db in 0..server.dbs.len() {
        crate::transactions::touch_all_in_db(server, db, None);
        server.dbs[db] = crate::db::Db::new();
    }
}

/// After `+CONTINUE [replid]`: the stream goes on from our offset, possibly under a new id
/// (the old one stays valid as `replid2` up to here).
pub fn partial_sync_done(server: &mut Server, new_replid: Option<String>, master: ClientId) {
    if let Some(new_id) = new_replid
        && new_id != server.replication_id
    {
        let old = std::mem::replace(&mut server.replication_id, new_id);
        let state = state(server);
        state.replid2 = Some(old);
        state.second_offset = i64::try_from(state.offset + 1).unwrap_or(i64::MAX);
        disconnect_replicas(server);
    }
    let now = server.now_ms();
    let db = state(server).master_db;
    if let Some(client) = server.clients.get_mut(master) {
        client.db = db;
    }
    let state = state(server);
    state.ensure_backlog();
    state.read_offset = state.offset;
    state.master_client = Some(master);
    state.link = LinkState::Connected;
    state.last_io_ms = now;
    update_propagation(server);
}

/// The master's stream applied: forwarded verbatim to our replicas and backlog.
pub fn applied_from_master(server: &mut Server, bytes: &Bytes) {
    let now = server.now_ms();
    {
        let state = state(server);
        state.last_io_ms = now;
        if state.backlog.is_none() {
            state.ensure_backlog();
        }
    }
    feed_replicas(server, bytes);
    let state = state(server);
    state.read_offset = state.offset;
}

/// The link broke (or was replaced): the master client is gone.
pub fn link_lost(server: &mut Server, generation: u64, master: Option<ClientId>) {
    if let Some(id) = master {
        if let Some(db) = server.clients.get(id).map(|c| c.db) {
            state(server).master_db = db;
        }
        server.disconnect_client(id);
    }
    if is_current(server, generation) {
        let now = server.now_ms();
        let state = state(server);
        if state.link == LinkState::Connected {
            state.down_since_ms = now;
        }
        state.link = LinkState::Connect;
        state.master_client = None;
    }
}

/// The processed offset a `REPLCONF ACK` reports.
pub fn processed_offset(server: &mut Server) -> u64 {
    state(server).offset
}

// ---------------------------------------------------------------------------------------------
// Master side: replicas announcing themselves.

/// `REPLCONF listening-port` / `ip-address`: remembered for INFO and ROLE.
pub fn announce(server: &mut Server, client_id: ClientId, port: Option<u16>, ip: Option<String>) {
    let info = state(server).replicas.entry(client_id).or_default();
    if let Some(port) = port {
        info.listening_port = port;
    }
    if let Some(ip) = ip {
        info.ip = ip;
    }
}

/// `REPLCONF ACK offset`: WAITing clients whose writes enough replicas now hold are answered.
pub fn acknowledge(server: &mut Server, client_id: ClientId, offset: u64) {
    let now = server.now_ms();
    let info = state(server).replicas.entry(client_id).or_default();
    info.ack_offset = info.ack_offset.max(offset);
    info.ack_time_ms = now;
    serve_waiters(server, false);
}

/// A client blocked in WAIT.
#[derive(Debug, Clone)]
struct Waiter {
    client: ClientId,
    offset: u64,
    replicas: u64,
    deadline_ms: Option<u64>,
}

/// Replicas whose acknowledged offset reached `offset`.
fn acked_replicas(server: &Server, offset: u64) -> u64 {
    state_ref(server).map_or(0, |s| {
        s.replicas
            .iter()
            .filter(|(id, r)| {
                r.online
                    && r.ack_offset >= offset
                    && server.clients.get(**id).is_some_and(|c| c.replica)
            })
            .count() as u64
    })
}

/// WAIT numreplicas timeout: the number of replicas holding every write propagated so far,
/// at once when enough do (or the caller cannot block), else once enough acknowledge or the
/// timeout passes (then however many did).
///
/// # Errors
/// WAIT on a replica.
pub fn wait(
    server: &mut Server,
    client_id: ClientId,
    replicas: u64,
    timeout_ms: u64,
    can_block: bool,
) -> Result<WaitOutcome, CommandError> {
    if is_replica(server) {
        return Err(CommandError::msg(
            crate::errors::replication::WAIT_ON_REPLICA,
        ));
    }
    let pending = server
        .propagation
        .offset()
        .saturating_sub(state_ref(server).map_or(0, |s| s.drained_mark));
    let target = state(server).offset + pending;
    let acked = acked_replicas(server, target);
    if acked >= replicas || !can_block {
        return Ok(WaitOutcome::Done(acked));
    }
    let now = server.now_ms();
    let state = state(server);
    state.waiters.push(Waiter {
        client: client_id,
        offset: target,
        replicas,
        deadline_ms: (timeout_ms > 0).then(|| now.saturating_add(timeout_ms)),
    });
    state.getack_pending = true;
    Ok(WaitOutcome::Blocked(acked))
}

/// What [`wait`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitOutcome {
    /// Answer this count now.
    Done(u64),
    /// The client waits; this is the count so far.
    Blocked(u64),
}

/// Answers the WAITing clients that enough replicas acknowledged (all of them, with the
/// count so far, once past their deadline when `timeouts`).
fn serve_waiters(server: &mut Server, timeouts: bool) {
    let Some(waiters) = server
        .extensions
        .get_mut::<Replication>()
        .filter(|s| !s.waiters.is_empty())
        .map(|s| std::mem::take(&mut s.waiters))
    else {
        return;
    };
    let now = server.now_ms();
    let mut still = Vec::new();
    for waiter in waiters {
        // A client no longer blocked (gone, or killed with CLIENT UNBLOCK) is forgotten.
        let still_waiting = server
            .blocked
            .get(waiter.client)
            .is_some_and(|b| b.keys.is_empty() && b.wants == crate::types::ValueType::String);
        if !still_waiting {
            continue;
        }
        let acked = acked_replicas(server, waiter.offset);
        let expired = timeouts && waiter.deadline_ms.is_some_and(|d| now >= d);
        if acked >= waiter.replicas || expired {
            server.blocked.unblock(waiter.client);
            let count = Frame::Integer(i64::try_from(acked).unwrap_or(i64::MAX));
            crate::blocking::deliver(server, waiter.client, count);
        } else {
            still.push(waiter);
        }
    }
    state(server).waiters.extend(still);
}

/// A replica attached (SYNC/PSYNC): it is online from now on.
pub fn attached(server: &mut Server, client_id: ClientId) {
    let now = server.now_ms();
    let ip = server
        .clients
        .get(client_id)
        .map(|c| match &c.peer {
            crate::client::Peer::Tcp { peer, .. } => peer.ip().to_string(),
            _ => "127.0.0.1".to_string(),
        })
        .unwrap_or_default();
    let info = state(server).replicas.entry(client_id).or_default();
    info.online = true;
    info.ack_time_ms = now;
    if info.ip.is_empty() {
        info.ip = ip;
    }
}

/// The attached replicas, in attach order: (ip, port, ack offset, lag seconds).
fn online_replicas(server: &Server) -> Vec<(String, u16, u64, u64)> {
    let now = server.now_ms();
    let Some(state) = state_ref(server) else {
        return Vec::new();
    };
    state
        .replicas
        .iter()
        .filter(|(id, r)| r.online && server.clients.get(**id).is_some_and(|c| c.replica))
        .map(|(_, r)| {
            let lag = now.saturating_sub(r.ack_time_ms) / 1000;
            (r.ip.clone(), r.listening_port, r.ack_offset, lag)
        })
        .collect()
}

pub use report::{info_fields, role};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backlog_keeps_the_last_bytes_and_serves_offsets_inside_it() {
        let mut r = Replication::new();
        r.ensure_backlog();
        r.feed_backlog(b"abcdef", 4);
        assert_eq!(r.offset, 6);
        assert_eq!(r.backlog_len(), 4);
        assert_eq!(r.backlog_first_offset(), 3);
        assert_eq!(r.backlog_from(3).as_deref(), Some(&b"cdef"[..]));
        assert_eq!(r.backlog_from(6).as_deref(), Some(&b"f"[..]));
        assert_eq!(r.backlog_from(7).as_deref(), Some(&b""[..]));
        assert_eq!(r.backlog_from(2), None);
        assert_eq!(r.backlog_from(8), None);
    }

    #[test]
    fn no_backlog_no_offset() {
        let mut r = Replication::new();
        r.feed_backlog(b"abc", 10);
        assert_eq!(r.offset, 0);
        assert_eq!(r.backlog_from(1), None);
    }
}
