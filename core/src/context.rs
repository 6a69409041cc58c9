//! `CommandContext`: what a handler works with — the server state, the calling client and the
//! selected database — with the keyspace reads and writes that keep Redis's semantics in one
//! place (lazy expiry on access, hit/miss counting, the access clock, the dirty counter).

use oxidis_protocol::{Frame, RespVersion};

use crate::blocking::BlockRequest;
use crate::client::{Client, ClientId};
use crate::command::Command;
use crate::config::Config;
use crate::db::{Db, Ttl};
use crate::propagation::OwnPropagation;
use crate::server::Server;
use crate::types::Value;

/// The world as one command sees it.
pub struct CommandContext<'a> {
    /// The server state. Handlers prefer the methods below, which keep expiry and counters
    /// right; the field is public for the server-management commands that need everything.
    pub server: &'a mut Server,
    client_id: ClientId,
    db_index: usize,
    now_ms: u64,
    command: &'static Command,
    block_request: Option<BlockRequest>,
    redacted_args: Vec<usize>,
    unmodified: Vec<bytes::Bytes>,
    own_propagation: OwnPropagation,
}

impl<'a> CommandContext<'a> {
    /// A context for `client_id` running `command`. The client must be registered.
    pub fn new(server: &'a mut Server, client_id: ClientId, command: &'static Command) -> Self {
        let db_index = server.clients.get(client_id).map_or(0, |c| c.db);
        let now_ms = server.now_ms();
        CommandContext {
            server,
            client_id,
            db_index,
            now_ms,
            command,
            block_request: None,
            redacted_args: Vec::new(),
            unmodified: Vec::new(),
            own_propagation: OwnPropagation::AsIs,
        }
    }

    /// The command being run.
    pub fn command(&self) -> &'static Command {
        self.command
    }

    /// Whether the command runs from a script (`redis.call` inside EVAL or FCALL): Redis's
    /// `CLIENT_SCRIPT` flag, which a few commands check (SORT's ordering, XREAD's BLOCK).
    pub fn in_script(&self) -> bool {
        self.server
            .script_busy
            .running
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Blocks the client on `keys` until one of them is written while holding a `wants` value,
    /// or `timeout` passes (then the client gets `timeout_reply`). Return what this returns: the
    /// reply is never sent, the command runs again when a key is ready.
    pub fn block(
        &mut self,
        keys: Vec<bytes::Bytes>,
        wants: crate::types::ValueType,
        timeout: Option<std::time::Duration>,
        timeout_reply: Frame,
    ) -> crate::command::CommandResult {
        self.block_request = Some(BlockRequest {
            keys,
            wants,
            timeout,
            timeout_reply,
            rerun_argv: None,
            key_gone_reply: None,
        });
        Ok(Frame::NullArray)
    }

    /// [`block`](Self::block), re-running `argv` instead of the command as sent when woken
    /// (XREAD records the ids `$` stood for), and answering `key_gone_reply` if a key it waits
    /// on is deleted or changes type meanwhile (XREADGROUP's `-UNBLOCKED`).
    pub fn block_rerun(
        &mut self,
        keys: Vec<bytes::Bytes>,
        wants: crate::types::ValueType,
        timeout: Option<std::time::Duration>,
        timeout_reply: Frame,
        argv: Vec<bytes::Bytes>,
        key_gone_reply: Option<Frame>,
    ) -> crate::command::CommandResult {
        self.block_request = Some(BlockRequest {
            keys,
            wants,
            timeout,
            timeout_reply,
            rerun_argv: Some(argv),
            key_gone_reply,
        });
        Ok(Frame::NullArray)
    }

    /// The block request a handler made, if any (dispatch takes it after the handler ran).
    pub(crate) fn take_block_request(&mut self) -> Option<BlockRequest> {
        self.block_request.take()
    }

    /// Hides argument `index` (counted from the command name) from the slow log and MONITOR,
    /// as Redis's `redactClientCommandArgument` does for passwords.
    pub fn redact_argument(&mut self, index: usize) {
        self.redacted_args.push(index);
    }

    /// Declares that `key`, one of the command's write keys, was left unchanged: WATCH, blocked
    /// clients and client-side caching are not told about it (SMOVE of a member the destination
    /// already holds: Redis signals only the keys it really modified).
    pub fn unmodified(&mut self, key: &[u8]) {
        self.unmodified.push(bytes::Bytes::copy_from_slice(key));
    }

    /// The keys declared [`unmodified`](Self::unmodified) (dispatch takes them after the
    /// handler ran).
    pub(crate) fn take_unmodified(&mut self) -> Vec<bytes::Bytes> {
        std::mem::take(&mut self.unmodified)
    }

    /// The arguments a handler redacted (dispatch takes them after the handler ran).
    pub(crate) fn take_redacted_args(&mut self) -> Vec<usize> {
        std::mem::take(&mut self.redacted_args)
    }

    /// How new list nodes are shaped: `list-max-listpack-size` and the packed threshold.
    pub fn list_limits(&self) -> crate::types::NodeLimits {
        crate::types::NodeLimits {
            fill: self.server.config.list_max_listpack_size,
            packed_threshold: self.server.list_packed_threshold,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.server.config
    }

    /// The time this command runs at, in Unix milliseconds (fixed for the whole command, as
    /// Redis caches it, so one command sees one consistent "now").
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// The calling client's id.
    pub fn client_id(&self) -> ClientId {
        self.client_id
    }

    /// The calling client.
    pub fn client(&mut self) -> &mut Client {
        self.server
            .clients
            .get_mut(self.client_id)
            .expect("the calling client stays registered while its command runs")
    }

    /// The calling client's protocol version.
    pub fn resp(&self) -> RespVersion {
        self.server
            .clients
            .get(self.client_id)
            .map_or(RespVersion::Resp2, |c| c.resp)
    }

    /// The selected database's index.
    pub fn db_index(&self) -> usize {
        self.db_index
    }

    /// Selects database `index` for this client (the caller checked the range).
    pub fn select(&mut self, index: usize) {
        self.db_index = index;
        self.client().db = index;
    }

    /// The selected database.
    pub fn db(&mut self) -> &mut Db {
        &mut self.server.dbs[self.db_index]
    }

    /// Finds `key` in the selected database, reclaiming it first if it has expired. No
    /// statistics and no access clock: the building block of the `lookup_*` methods below.
    pub fn lookup(&mut self, key: &[u8]) -> Option<usize> {
        self.lookup_in(self.db_index, key, false)
    }

    /// [`lookup`](Self::lookup) in database `db_index` (the caller checked the range).
    /// `write`: a write lookup, which on a writable replica removes an expired key (a read-only
    /// replica leaves it to the master's DEL and reads it as missing).
    fn lookup_in(&mut self, db_index: usize, key: &[u8], write: bool) -> Option<usize> {
        let pos = self.server.dbs[db_index].find(key)?;
        if !self.server.loading && self.server.dbs[db_index].entry(pos).is_expired(self.now_ms) {
            // During CLIENT PAUSE an expired key reads as missing but is not removed.
            if !self.server.pause.stops_expiry()
                && (self.server.config.replicaof.is_none()
                    || (write && crate::replication::is_writable_replica(self.server)))
            {
                self.reclaim_expired_in(db_index, pos);
            }
            return None;
        }
        Some(pos)
    }

    /// Removes the expired entry at `pos` of the selected database and counts it, as lazy
    /// expiry does (KEYS, SCAN and RANDOMKEY meet expired entries while walking).
    pub fn reclaim_expired(&mut self, pos: usize) {
        self.reclaim_expired_in(self.db_index, pos);
    }

    fn reclaim_expired_in(&mut self, db_index: usize, pos: usize) {
        let entry = self.server.dbs[db_index].remove_at(pos);
        self.server.stats.expired_keys += 1;
        let lazy = self.server.config.lazyfree_lazy_expire;
        self.server
            .propagation
            .push_deletion(db_index, entry.key.as_slice(), lazy);
        self.server.key_expired(db_index, entry.key.as_slice());
        let current = Some(self.client_id);
        crate::tracking::invalidate_key(self.server, current, None, entry.key.as_slice(), true);
    }

    /// Redis's `lookupKeyRead`: [`lookup`](Self::lookup) that counts a keyspace hit or miss
    /// and refreshes the key's access clock.
    pub fn lookup_read(&mut self, key: &[u8]) -> Option<usize> {
        let found = self.lookup_read_no_touch(key);
        if let Some(pos) = found {
            self.touch(self.db_index, pos);
        }
        found
    }

    /// Redis's `LOOKUP_NOTOUCH` read: counts a keyspace hit or miss but leaves the access clock
    /// alone (EXISTS, TYPE, TTL and OBJECT must not make a key look fresh).
    pub fn lookup_read_no_touch(&mut self, key: &[u8]) -> Option<usize> {
        let found = self.lookup(key);
        match found {
            Some(_) => self.server.stats.keyspace_hits += 1,
            None => {
                self.server.stats.keyspace_misses += 1;
                self.notify(crate::events::class::KEY_MISS, "keymiss", key);
            }
        }
        found
    }

    /// Redis's `lookupKeyWrite`: [`lookup`](Self::lookup) that refreshes the access clock but
    /// counts no keyspace hit or miss.
    pub fn lookup_write(&mut self, key: &[u8]) -> Option<usize> {
        self.lookup_write_in(self.db_index, key)
    }

    /// [`lookup_write`](Self::lookup_write) in database `db_index`, which need not be the
    /// selected one (MOVE, COPY ... DB); the caller checked the range.
    pub fn lookup_write_in(&mut self, db_index: usize, key: &[u8]) -> Option<usize> {
        let found = self.lookup_in(db_index, key, true);
        if let Some(pos) = found {
            self.touch(db_index, pos);
        }
        found
    }

    /// Sets the access clock of the entry at `pos` of database `db_index` to now.
    fn touch(&mut self, db_index: usize, pos: usize) {
        let Server {
            dbs, config, rng, ..
        } = &mut *self.server;
        let entry = dbs[db_index].entry_mut(pos);
        entry.access_clock =
            crate::eviction::touched_clock(config, entry.access_clock, self.now_ms, rng);
    }

    /// The value under `key`, for reading.
    pub fn read(&mut self, key: &[u8]) -> Option<&Value> {
        let pos = self.lookup_read(key)?;
        Some(&self.db().entry(pos).value)
    }

    /// The value under `key`, for changing in place (the caller marks the change with
    /// [`changed`](Self::changed)).
    pub fn value_mut(&mut self, key: &[u8]) -> Option<&mut Value> {
        let pos = self.lookup(key)?;
        Some(&mut self.db().entry_mut(pos).value)
    }

    /// Stores `value` under `key` and counts the change.
    pub fn set(&mut self, key: &[u8], value: Value, ttl: Ttl) -> usize {
        let mut clock = crate::eviction::initial_clock(&self.server.config, self.now_ms);
        // Under LFU an overwritten key keeps its access counter, as Redis's dbOverwrite does.
        if self.server.config.maxmemory_policy.is_lfu()
            && let Some(pos) = self.server.dbs[self.db_index].find(key)
        {
            clock = self.server.dbs[self.db_index].entry(pos).access_clock;
        }
        self.server.dirty += 1;
        let len_before = self.server.dbs[self.db_index].len();
        // While loading (and for a replica's master) nothing is expired: an entry is replaced
        // as it is, its TTL kept when asked.
        let now = if self.server.loading { 0 } else { self.now_ms };
        let (pos, replaced_expired) =
            self.server.dbs[self.db_index].store(key, value, ttl, clock, now);
        // An expired key being overwritten counts as expired, as lazy expiry would have said.
        if replaced_expired {
            self.server.stats.expired_keys += 1;
            self.notify(crate::events::class::EXPIRED, "expired", key);
        }
        if replaced_expired || self.server.dbs[self.db_index].len() > len_before {
            self.notify(crate::events::class::NEW, "new", key);
        }
        pos
    }

    /// Deletes `key`; whether it existed (and had not expired).
    pub fn delete(&mut self, key: &[u8]) -> bool {
        self.remove(key).is_some()
    }

    /// [`delete`](Self::delete), freeing a big value on the background thread (UNLINK; see
    /// [`crate::lazyfree`]).
    pub fn delete_lazily(&mut self, key: &[u8]) -> bool {
        match self.remove(key) {
            Some(entry) => {
                crate::lazyfree::free(&entry.key, entry.value, &self.server.lazyfree);
                true
            }
            None => false,
        }
    }

    /// Removes `key` (counted as a change), handing back its entry.
    fn remove(&mut self, key: &[u8]) -> Option<crate::db::Entry> {
        let pos = self.lookup(key)?;
        let entry = self.db().remove_at(pos);
        self.server.dirty += 1;
        Some(entry)
    }

    /// Raises keyspace event `name` of `class` (a [`crate::events::class`] bit) for `key` in the
    /// selected database, as Redis's `notifyKeyspaceEvent` does; call it where Redis does, after
    /// the change. Costs nothing while nobody listens for the class.
    pub fn notify(&mut self, class: u32, name: &'static str, key: &[u8]) {
        self.notify_in(self.db_index, class, name, key);
    }

    /// [`notify`](Self::notify) for a key of database `db_index` (MOVE, COPY ... DB, SWAPDB).
    pub fn notify_in(&mut self, db_index: usize, class: u32, name: &'static str, key: &[u8]) {
        if self
            .server
            .events
            .wanted(self.server.config.notify_keyspace_events, class)
        {
            self.server.events.push(crate::events::KeyEvent {
                class,
                name,
                db: db_index,
                key: bytes::Bytes::copy_from_slice(key),
            });
        }
    }

    /// Propagates `argv` instead of the command's own arguments (to the AOF and replicas), as
    /// Redis's `rewriteClientCommandVector`: for a deterministic form of a command whose
    /// effect depends on the moment or on chance (`EXPIRE` → `PEXPIREAT`, `SPOP` → `SREM`).
    pub fn rewrite_propagation(&mut self, argv: Vec<bytes::Bytes>) {
        self.own_propagation = OwnPropagation::Rewritten(argv);
    }

    /// Propagates `argv` in the selected database, in addition to (and before) the command's
    /// own arguments, as Redis's `alsoPropagate`.
    pub fn also_propagate(&mut self, argv: Vec<bytes::Bytes>) {
        self.server.propagation.push(self.db_index, argv);
    }

    /// Propagates nothing for this command's own arguments.
    pub fn prevent_propagation(&mut self) {
        self.own_propagation = OwnPropagation::Prevented;
    }

    /// What the handler asked for its own propagation (dispatch takes it after the handler).
    pub(crate) fn take_own_propagation(&mut self) -> OwnPropagation {
        std::mem::take(&mut self.own_propagation)
    }

    /// Counts `n` changes to the dataset (for `rdb_changes_since_last_save` and save points).
    pub fn changed(&mut self, n: u64) {
        self.server.dirty += n;
    }
}
