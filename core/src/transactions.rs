//! MULTI/EXEC state: what a client has queued, and which clients watch which keys.
//!
//! WATCH is served by the same signal as blocking: after a write command, dispatch tells
//! [`Watched::touch`] every key the command declares, so a watched key changed by any command —
//! from any client, including inside another transaction — makes its watchers' EXEC fail.

use std::collections::HashMap;

use bytes::Bytes;

use crate::client::ClientId;

/// A client's transaction between MULTI and EXEC/DISCARD.
#[derive(Debug, Clone, Default)]
pub struct Transaction {
    /// The queued commands, in order.
    pub queue: Vec<Vec<Bytes>>,
    /// A command failed to queue (unknown, wrong arity, not allowed): EXEC answers EXECABORT.
    pub aborted: bool,
}

/// Which clients watch which keys, and which of them saw a watched key change.
#[derive(Debug, Default)]
pub struct Watched {
    by_key: HashMap<(usize, Bytes), Vec<ClientId>>,
    by_client: HashMap<ClientId, Vec<WatchedKey>>,
}

/// One key a client watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedKey {
    /// Its database.
    pub db: usize,
    /// The key.
    pub key: Bytes,
    /// Whether it had already expired when WATCH ran (expiring later fails EXEC; being stale
    /// from the start does not).
    pub expired_when_watched: bool,
}

impl Watched {
    /// Whether nobody watches anything.
    pub fn is_empty(&self) -> bool {
        self.by_client.is_empty()
    }

    /// Starts watching `key` for `client` (watching twice is a no-op).
    pub fn watch(&mut self, client: ClientId, key: WatchedKey) {
        let keys = self.by_client.entry(client).or_default();
        if keys.iter().any(|k| k.db == key.db && k.key == key.key) {
            return;
        }
        self.by_key
            .entry((key.db, key.key.clone()))
            .or_default()
            .push(client);
        keys.push(key);
    }

    /// Stops watching everything for `client`; returns what it watched.
    pub fn unwatch_all(&mut self, client: ClientId) -> Vec<WatchedKey> {
        let keys = self.by_client.remove(&client).unwrap_or_default();
        for key in &keys {
            let slot = (key.db, key.key.clone());
            if let Some(watchers) = self.by_key.get_mut(&slot) {
                watchers.retain(|c| *c != client);
                if watchers.is_empty() {
                    self.by_key.remove(&slot);
                }
            }
        }
        keys
    }

    /// The keys `client` watches.
    pub fn keys_of(&self, client: ClientId) -> &[WatchedKey] {
        self.by_client.get(&client).map_or(&[], Vec::as_slice)
    }

    /// The clients watching `key` of database `db`.
    pub fn watchers(&self, db: usize, key: &[u8]) -> Vec<ClientId> {
        self.by_key
            .get(&(db, Bytes::copy_from_slice(key)))
            .cloned()
            .unwrap_or_default()
    }

    /// Every watched key of database `db`, with its watchers.
    pub fn keys_in_db(&self, db: usize) -> Vec<(Bytes, Vec<ClientId>)> {
        self.by_key
            .iter()
            .filter(|((d, _), _)| *d == db)
            .map(|((_, key), clients)| (key.clone(), clients.clone()))
            .collect()
    }
}

/// Marks the watchers of `key` in `db` as having seen it change.
pub fn touch(server: &mut crate::Server, db: usize, key: &[u8]) {
    if server.watched.is_empty() {
        return;
    }
    for client in server.watched.watchers(db, key) {
        if let Some(c) = server.clients.get_mut(client) {
            c.watch_dirty = true;
        }
    }
}

/// FLUSHDB, FLUSHALL and SWAPDB: every watched key of `db` that exists (in `db` before the
/// change, or in `other` after a swap) counts as changed.
pub fn touch_all_in_db(server: &mut crate::Server, db: usize, other: Option<usize>) {
    if server.watched.is_empty() {
        return;
    }
    for (key, clients) in server.watched.keys_in_db(db) {
        let exists = |d: usize| server.dbs.get(d).is_some_and(|x| x.find(&key).is_some());
        if exists(db) || other.is_some_and(exists) {
            for client in clients {
                if let Some(c) = server.clients.get_mut(client) {
                    c.watch_dirty = true;
                }
            }
        }
    }
}
