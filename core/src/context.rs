//! `CommandContext`: what a handler works with — the server state, the calling client and the
//! selected database — with the keyspace reads and writes that keep Redis's semantics in one
//! place (lazy expiry on access, hit/miss counting, the dirty counter).

use oxidis_protocol::RespVersion;

use crate::client::{Client, ClientId};
use crate::command::Command;
use crate::config::Config;
use crate::db::{Db, Ttl};
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
        }
    }

    /// The command being run.
    pub fn command(&self) -> &'static Command {
        self.command
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

    /// Finds `key` in the selected database, reclaiming it first if it has expired.
    pub fn lookup(&mut self, key: &[u8]) -> Option<usize> {
        let now = self.now_ms;
        let db = &mut self.server.dbs[self.db_index];
        let pos = db.find(key)?;
        if db.entry(pos).is_expired(now) {
            db.remove_at(pos);
            self.server.stats.expired_keys += 1;
            return None;
        }
        Some(pos)
    }

    /// [`lookup`](Self::lookup) for a read: counts a keyspace hit or miss and refreshes the
    /// key's access clock.
    pub fn lookup_read(&mut self, key: &[u8]) -> Option<usize> {
        let found = self.lookup(key);
        match found {
            Some(pos) => {
                self.server.stats.keyspace_hits += 1;
                let clock = crate::server::lru_clock_at(self.now_ms);
                self.db().entry_mut(pos).access_clock = clock;
            }
            None => self.server.stats.keyspace_misses += 1,
        }
        found
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
        let clock = crate::server::lru_clock_at(self.now_ms);
        self.server.dirty += 1;
        let (pos, replaced_expired) =
            self.server.dbs[self.db_index].store(key, value, ttl, clock, self.now_ms);
        // An expired key being overwritten counts as expired, as lazy expiry would have said.
        if replaced_expired {
            self.server.stats.expired_keys += 1;
        }
        pos
    }

    /// Deletes `key`; whether it existed (and had not expired).
    pub fn delete(&mut self, key: &[u8]) -> bool {
        match self.lookup(key) {
            Some(pos) => {
                self.db().remove_at(pos);
                self.server.dirty += 1;
                true
            }
            None => false,
        }
    }

    /// Counts `n` changes to the dataset (for `rdb_changes_since_last_save` and save points).
    pub fn changed(&mut self, n: u64) {
        self.server.dirty += n;
    }
}
