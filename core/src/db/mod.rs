//! The keyspace: numbered databases of keys, each an index over a dense vector of entries.
//!
//! # Layout
//! A [`Db`] keeps its entries densely in [`Segments`] (a vector in 4 KiB blocks; key, value,
//! expiry and access clock side by side, 64 bytes) and finds them through a `hashbrown` table
//! of `u32` positions (5 bytes a slot). Keys and short values live inline in the entry, so a small key costs no allocation of
//! its own and no pointer chain; Redis spends a dict entry, an object header and two allocations.
//! Deleting moves the last entry into the hole (`swap_remove`) and repoints its slot.
//!
//! # Scanning
//! Both SCAN and the active-expire cycle walk positions from the end towards 0. A deletion only
//! moves the *last* entry down, which such a walk has already visited, so every key present for
//! the whole walk is visited at least once: Redis's SCAN guarantee, without its reverse-binary
//! cursor.

use hashbrown::HashTable;
use std::hash::BuildHasher;

use crate::types::{CompactBytes, Value};

mod segments;
pub mod snapshot;

pub use segments::Segments;
pub use snapshot::{EntrySaver, SnapshotHook};

/// One key and everything stored about it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The key.
    pub key: CompactBytes,
    /// The value.
    pub value: Value,
    /// Absolute expiry time in Unix milliseconds; 0 when the key does not expire.
    expire_at_ms: u64,
    /// Last access, in seconds of the server's LRU clock (OBJECT IDLETIME).
    pub access_clock: u32,
    /// The snapshot epoch this entry was last saved in (or created in): see [`snapshot`].
    saved_epoch: u32,
}

impl Entry {
    /// When the key expires, in Unix milliseconds.
    pub fn expire_at(&self) -> Option<u64> {
        (self.expire_at_ms != 0).then_some(self.expire_at_ms)
    }

    /// Whether the key has expired at `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expire_at_ms != 0 && self.expire_at_ms <= now_ms
    }
}

/// What to do with a key's time to live when its value is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// Keep the current expiry (KEEPTTL, SETRANGE, INCR...).
    Keep,
    /// Make the key persistent (a plain SET).
    Clear,
    /// Expire at this Unix millisecond.
    At(u64),
}

/// One numbered database.
#[derive(Default)]
pub struct Db {
    index: HashTable<u32>,
    entries: Segments<Entry>,
    hasher: foldhash::fast::RandomState,
    volatile_keys: usize,
    expire_cursor: usize,
    /// The current snapshot epoch; entries saved in it carry it.
    epoch: u32,
    /// The point-in-time snapshot under way in this database, if any.
    snapshot: Option<Box<SnapshotHook>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("keys", &self.entries.len())
            .field("volatile_keys", &self.volatile_keys)
            .finish()
    }
}

impl Db {
    /// An empty database.
    pub fn new() -> Db {
        Db::default()
    }

    /// Number of keys, expired-but-not-yet-reclaimed ones included (as DBSIZE counts them).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of keys with an expiry.
    pub fn volatile_len(&self) -> usize {
        self.volatile_keys
    }

    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Makes room in the key index for `additional` more keys (RDB loading's RESIZEDB hint),
    /// so a load does not rehash as it grows.
    pub fn reserve(&mut self, additional: usize) {
        let (entries, hasher) = (&self.entries, &self.hasher);
        self.index.reserve(additional, |&i| {
            hasher.hash_one(entries[i as usize].key.as_slice())
        });
    }

    /// The position of `key`, expired or not.
    #[inline]
    pub fn find(&self, key: &[u8]) -> Option<usize> {
        self.find_hashed(self.hash(key), key)
    }

    #[inline]
    fn find_hashed(&self, hash: u64, key: &[u8]) -> Option<usize> {
        let entries = &self.entries;
        self.index
            .find(hash, |&i| entries[i as usize].key.as_slice() == key)
            .map(|&i| i as usize)
    }

    /// The entry at `pos` (from [`Db::find`] or a scan).
    #[inline]
    pub fn entry(&self, pos: usize) -> &Entry {
        &self.entries[pos]
    }

    /// The entry at `pos`, for changing its value in place.
    #[inline]
    pub fn entry_mut(&mut self, pos: usize) -> &mut Entry {
        self.before_write(pos);
        &mut self.entries[pos]
    }

    /// Sets or clears the expiry of the entry at `pos`.
    pub fn set_expire_at(&mut self, pos: usize, at_ms: Option<u64>) {
        self.before_write(pos);
        let entry = &mut self.entries[pos];
        let was_volatile = entry.expire_at_ms != 0;
        // 0 is reserved for "no expiry"; an expiry at the epoch is just as expired at 1 ms.
        entry.expire_at_ms = at_ms.map_or(0, |t| t.max(1));
        match (was_volatile, entry.expire_at_ms != 0) {
            (false, true) => self.volatile_keys += 1,
            (true, false) => self.volatile_keys -= 1,
            _ => {}
        }
    }

    /// Stores `value` under `key`, replacing any current value, and returns its position.
    pub fn set(&mut self, key: &[u8], value: Value, ttl: Ttl, clock: u32) -> usize {
        self.store(key, value, ttl, clock, 0).0
    }

    /// [`Db::set`], treating an entry already expired at `now_ms` as absent (it keeps no TTL).
    /// Returns the position and whether an expired entry was replaced. The key is hashed once.
    pub fn store(
        &mut self,
        key: &[u8],
        value: Value,
        ttl: Ttl,
        clock: u32,
        now_ms: u64,
    ) -> (usize, bool) {
        let hash = self.hash(key);
        match self.find_hashed(hash, key) {
            Some(pos) => {
                self.before_write(pos);
                let entry = &mut self.entries[pos];
                let expired = entry.is_expired(now_ms);
                let old = std::mem::replace(&mut entry.value, value);
                // An overwrite unlinks the old value, as Redis's dbOverwrite tells modules.
                crate::modules::types::unlinked(key, &old);
                entry.access_clock = clock;
                let ttl = if expired && ttl == Ttl::Keep {
                    Ttl::Clear
                } else {
                    ttl
                };
                match ttl {
                    Ttl::Keep => {}
                    Ttl::Clear => self.set_expire_at(pos, None),
                    Ttl::At(t) => self.set_expire_at(pos, Some(t)),
                }
                (pos, expired)
            }
            None => {
                let expire = match ttl {
                    Ttl::At(t) => Some(t),
                    Ttl::Keep | Ttl::Clear => None,
                };
                let pos = self.insert_hashed(hash, CompactBytes::new(key), value, expire, clock);
                (pos, false)
            }
        }
    }

    /// Adds a key known to be absent and returns its position.
    pub fn insert_new(
        &mut self,
        key: CompactBytes,
        value: Value,
        expire_at: Option<u64>,
        clock: u32,
    ) -> usize {
        let hash = self.hash(&key);
        self.insert_hashed(hash, key, value, expire_at, clock)
    }

    fn insert_hashed(
        &mut self,
        hash: u64,
        key: CompactBytes,
        value: Value,
        expire_at: Option<u64>,
        clock: u32,
    ) -> usize {
        let pos = self.entries.push(Entry {
            key,
            value,
            expire_at_ms: 0,
            access_clock: clock,
            // A key born during a snapshot is not part of it.
            saved_epoch: self.epoch,
        });
        let (entries, hasher) = (&self.entries, &self.hasher);
        // Positions fit in u32: a database of 4 billion keys is far past any machine we run on.
        let slot = u32::try_from(pos).expect("fewer than 2^32 keys per database");
        self.index.insert_unique(hash, slot, |&i| {
            hasher.hash_one(entries[i as usize].key.as_slice())
        });
        if expire_at.is_some() {
            self.set_expire_at(pos, expire_at);
        }
        pos
    }

    /// Removes the entry at `pos` and returns it; the last entry moves into its place.
    pub fn remove_at(&mut self, pos: usize) -> Entry {
        self.before_write(pos);
        let hash = self.hash(&self.entries[pos].key);
        let slot = u32::try_from(pos).expect("positions fit in u32");
        if let Ok(found) = self.index.find_entry(hash, |&i| i == slot) {
            found.remove();
        }
        let entry = self.entries.swap_remove(pos);
        crate::modules::types::unlinked(entry.key.as_slice(), &entry.value);
        if entry.expire_at_ms != 0 {
            self.volatile_keys -= 1;
        }
        if pos < self.entries.len() {
            let moved_from = u32::try_from(self.entries.len()).expect("positions fit in u32");
            let moved_hash = self.hash(&self.entries[pos].key);
            if let Some(i) = self.index.find_mut(moved_hash, |&i| i == moved_from) {
                *i = slot;
            }
        }
        if self.expire_cursor > self.entries.len() {
            self.expire_cursor = self.entries.len();
        }
        self.shrink_if_sparse();
        entry
    }

    /// Removes `key` if present.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        self.find(key).map(|pos| self.remove_at(pos))
    }

    /// Gives the index's memory back when it has become mostly empty, as Redis's dict shrinks
    /// (the entries free their blocks as they go).
    fn shrink_if_sparse(&mut self) {
        let len = self.entries.len();
        if self.index.capacity() > 64 && len < self.index.capacity() / 8 {
            let (entries, hasher) = (&self.entries, &self.hasher);
            self.index.shrink_to(len * 2, |&i| {
                hasher.hash_one(entries[i as usize].key.as_slice())
            });
        }
    }

    /// Drops every key.
    pub fn clear(&mut self) {
        self.abandon_snapshot();
        *self = Db {
            hasher: self.hasher,
            epoch: self.epoch,
            snapshot: self.snapshot.take(),
            ..Db::default()
        };
    }

    /// Takes every entry out, leaving the database empty (for freeing off the serving path).
    pub fn take_entries(&mut self) -> Segments<Entry> {
        self.abandon_snapshot();
        let entries = std::mem::take(&mut self.entries);
        self.clear();
        entries
    }

    /// Iterates over all entries, expired ones included.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// One SCAN step: visits up to `count` positions below `cursor` (0 starts at the end) and
    /// returns the next cursor (0 when the walk is complete). See the module docs for the
    /// guarantee.
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&Entry)) -> u64 {
        let len = self.entries.len();
        let start = match usize::try_from(cursor) {
            Ok(0) | Err(_) => len,
            Ok(c) => c.min(len),
        };
        let stop = start.saturating_sub(count.max(1));
        for pos in (stop..start).rev() {
            visit(&self.entries[pos]);
        }
        stop as u64
    }

    /// A uniformly random position, if any.
    pub fn random_position(&self, rng: &mut impl rand::Rng) -> Option<usize> {
        (!self.entries.is_empty()).then(|| rng.random_range(0..self.entries.len()))
    }

    /// One step of the active-expire cycle: walks down from where the last step stopped until
    /// it has examined `sample` keys with an expiry (or `sample * 20` entries in all), reclaiming
    /// the expired ones, each handed to `reclaimed_entry`. Returns (volatile keys examined, keys
    /// reclaimed).
    pub fn expire_step(
        &mut self,
        now_ms: u64,
        sample: usize,
        mut reclaimed_entry: impl FnMut(Entry),
    ) -> (usize, usize) {
        let (mut examined, mut reclaimed) = (0, 0);
        if self.volatile_keys == 0 {
            return (0, 0);
        }
        let mut budget = sample * 20;
        while examined < sample && budget > 0 && !self.entries.is_empty() {
            if self.expire_cursor == 0 || self.expire_cursor > self.entries.len() {
                self.expire_cursor = self.entries.len();
            }
            self.expire_cursor -= 1;
            budget -= 1;
            let entry = &self.entries[self.expire_cursor];
            if entry.expire_at_ms == 0 {
                continue;
            }
            examined += 1;
            if entry.expire_at_ms <= now_ms {
                // The last entry moves into this position; the walk has seen it already.
                reclaimed_entry(self.remove_at(self.expire_cursor));
                reclaimed += 1;
            }
        }
        (examined, reclaimed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn str(v: &str) -> Value {
        Value::string(v.as_bytes())
    }

    #[test]
    fn entry_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<Entry>(), 64);
    }

    #[test]
    fn set_find_remove_keep_the_index_consistent() {
        let mut db = Db::new();
        for i in 0..1000 {
            db.set(format!("k{i}").as_bytes(), str("v"), Ttl::Clear, 0);
        }
        for i in (0..1000).step_by(3) {
            assert!(db.remove(format!("k{i}").as_bytes()).is_some());
        }
        for i in 0..1000 {
            assert_eq!(
                db.find(format!("k{i}").as_bytes()).is_some(),
                i % 3 != 0,
                "k{i}"
            );
        }
        assert_eq!(db.len(), 666);
    }

    #[test]
    fn scan_visits_every_surviving_key_despite_deletions() {
        let mut db = Db::new();
        for i in 0..500 {
            db.set(format!("k{i}").as_bytes(), str("v"), Ttl::Clear, 0);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            cursor = db.scan(cursor, 10, |e| {
                seen.insert(e.key.as_slice().to_vec());
            });
            // Delete keys the walk has not reached yet, and some it has.
            round += 1;
            db.remove(format!("k{}", round * 7).as_bytes());
            if cursor == 0 {
                break;
            }
        }
        for i in 0..500 {
            let key = format!("k{i}");
            if db.find(key.as_bytes()).is_some() {
                assert!(seen.contains(key.as_bytes()), "{key} missed");
            }
        }
    }

    #[test]
    fn expire_step_reclaims_expired_keys_only() {
        let mut db = Db::new();
        for i in 0..100 {
            let ttl = if i % 2 == 0 {
                Ttl::At(1000)
            } else {
                Ttl::Clear
            };
            db.set(format!("k{i}").as_bytes(), str("v"), ttl, 0);
        }
        assert_eq!(db.volatile_len(), 50);
        let mut total = 0;
        for _ in 0..10 {
            total += db.expire_step(2000, 20, drop).1;
        }
        assert_eq!(total, 50);
        assert_eq!(db.len(), 50);
        assert_eq!(db.volatile_len(), 0);
    }
}
