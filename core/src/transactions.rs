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

    /// The entry of `client` for `key` of database `db`, if it watches it.
    pub fn key_mut(&mut self, client: ClientId, db: usize, key: &[u8]) -> Option<&mut WatchedKey> {
        self.by_client
            .get_mut(&client)?
            .iter_mut()
            .find(|k| k.db == db && k.key == key)
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

/// Marks the watchers of `key` in `db` as having seen it change (Redis's `touchWatchedKey`).
///
/// A key that was already expired when watched is special: its deletion (by lazy expiry,
/// say) is no logical change, and only clears that mark; Redis 7.0 also leaves such a
/// watcher clean when the key is written again.
pub fn touch(server: &mut crate::Server, db: usize, key: &[u8]) {
    if server.watched.is_empty() {
        return;
    }
    let exists = server.dbs.get(db).is_some_and(|d| d.find(key).is_some());
    for client in server.watched.watchers(db, key) {
        if let Some(watched) = server.watched.key_mut(client, db, key)
            && watched.expired_when_watched
        {
            if !exists {
                watched.expired_when_watched = false;
            }
            continue;
        }
        if let Some(c) = server.clients.get_mut(client) {
            c.watch_dirty = true;
        }
    }
}

/// FLUSHDB, FLUSHALL and SWAPDB (Redis's `touchAllWatchedKeysInDb`), called before `db` is
/// emptied or swapped with `replaced_with`: a watched key that exists in either counts as
/// changed — except a key that was stale when watched and is now gone or still stale, and a
/// missing key replaced by a stale one (which becomes "stale when watched").
pub fn touch_all_in_db(server: &mut crate::Server, db: usize, replaced_with: Option<usize>) {
    if server.watched.is_empty() {
        return;
    }
    let now = server.now_ms();
    for (key, clients) in server.watched.keys_in_db(db) {
        let find = |d: usize| server.dbs.get(d).and_then(|x| x.find(&key).map(|p| (d, p)));
        let exists_in_emptied = find(db).is_some();
        let replacement = replaced_with.and_then(find);
        if !exists_in_emptied && replacement.is_none() {
            continue;
        }
        let replacement_stale =
            replacement.is_some_and(|(d, p)| server.dbs[d].entry(p).is_expired(now));
        for client in clients {
            let Some(watched) = server.watched.key_mut(client, db, &key) else {
                continue;
            };
            if watched.expired_when_watched {
                if replacement.is_none() {
                    watched.expired_when_watched = false;
                    continue;
                }
                if replacement_stale {
                    continue;
                }
            } else if !exists_in_emptied && replacement_stale {
                watched.expired_when_watched = true;
                continue;
            }
            if let Some(c) = server.clients.get_mut(client) {
                c.watch_dirty = true;
            }
        }
    }
}
