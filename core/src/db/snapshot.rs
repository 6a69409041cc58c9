//! Forkless point-in-time snapshots of a database (BGSAVE, the background AOF rewrite).
//!
//! Redis forks and lets the kernel copy pages on write. We version entries instead, the way
//! Dragonfly does: a snapshot opens a new *epoch* in the database, and every entry carries
//! the epoch it was last saved (or created) in. A walker saves entries whose mark is older in
//! slices of about a millisecond, marking them. Any write to an entry not saved yet (the value
//! handed out by [`Db::entry_mut`], a new expiry, an overwrite, a deletion, an expiry) first
//! saves its old state through the same [`EntrySaver`]: copy-before-write of just that entry,
//! serialized, never a copy of the dataset. Keys created during the snapshot carry the new
//! epoch from birth and are not part of it.
//!
//! The walk goes from the last position down to 0. A deletion moves the last entry into the
//! hole; the entries above the walker's cursor are all saved or new, so whatever moves down is
//! either saved already (its mark says so) or will be visited: every entry present at the
//! start is saved exactly once.
//!
//! Emptying the database (FLUSHDB, FLUSHALL, a reload) while entries are still unsaved
//! abandons the snapshot instead of serializing the rest under the lock: the owner aborts it,
//! as Redis kills its saving child on FLUSHALL.

use std::sync::Arc;

use super::{Db, Entry};

/// Serializes one entry (as it is now) into the snapshot's output.
pub type EntrySaver = Arc<dyn Fn(&Entry, &mut Vec<u8>) + Send + Sync>;

/// A snapshot under way in one database.
pub struct SnapshotHook {
    saver: EntrySaver,
    /// The index the database had when the snapshot began (SWAPDB moves databases).
    origin: usize,
    /// Positions at and above this one have been visited.
    cursor: usize,
    /// Serialized entries not yet taken by the owner.
    out: Vec<u8>,
    /// Entries in `out`.
    keys: usize,
    /// The database was emptied before every entry was saved.
    abandoned: bool,
    /// Bytes of the entries writes saved rather than the walk (copy-before-write).
    cow_bytes: usize,
}

impl std::fmt::Debug for SnapshotHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotHook")
            .field("origin", &self.origin)
            .field("cursor", &self.cursor)
            .field("buffered", &self.out.len())
            .finish()
    }
}

impl Db {
    /// Saves the entry at `pos` first if a snapshot still needs it: the one copy-before-write
    /// point, called by every path that changes or removes an entry.
    #[inline]
    pub(super) fn before_write(&mut self, pos: usize) {
        if self.snapshot.is_some() {
            self.save_if_pending(pos);
        }
    }

    #[cold]
    fn save_if_pending(&mut self, pos: usize) {
        let epoch = self.epoch;
        if let Some(hook) = self.snapshot.as_deref_mut() {
            let entry = &mut self.entries[pos];
            if entry.saved_epoch != epoch {
                (hook.saver)(entry, &mut hook.out);
                // What the write made us keep: the entry's copy (the saver may clone it for
                // another thread to serialize rather than serialize it here).
                hook.cow_bytes += entry.key.as_slice().len() + entry.value.heap_size();
                hook.keys += 1;
                entry.saved_epoch = epoch;
            }
        }
    }

    /// Starts a point-in-time snapshot of this database, which has index `origin` now; every
    /// entry present is saved exactly once through `saver`, by [`Db::snapshot_step`] or before
    /// it changes.
    pub fn snapshot_begin(&mut self, origin: usize, saver: EntrySaver) {
        if self.epoch == u32::MAX {
            // After 4 billion snapshots: restart the numbering with every mark stale.
            for pos in 0..self.entries.len() {
                self.entries[pos].saved_epoch = 0;
            }
            self.epoch = 0;
        }
        self.epoch += 1;
        self.snapshot = Some(Box::new(SnapshotHook {
            saver,
            origin,
            cursor: self.entries.len(),
            out: Vec::new(),
            keys: 0,
            abandoned: false,
            cow_bytes: 0,
        }));
    }

    /// Visits up to `budget` positions of the walk, saving the entries not saved yet. Returns
    /// whether the walk is complete (also when there is no snapshot).
    pub fn snapshot_step(&mut self, budget: usize) -> bool {
        let epoch = self.epoch;
        let Some(hook) = self.snapshot.as_deref_mut() else {
            return true;
        };
        hook.cursor = hook.cursor.min(self.entries.len());
        let mut visited = 0;
        while hook.cursor > 0 && visited < budget {
            hook.cursor -= 1;
            visited += 1;
            let entry = &mut self.entries[hook.cursor];
            if entry.saved_epoch != epoch {
                (hook.saver)(entry, &mut hook.out);
                hook.keys += 1;
                entry.saved_epoch = epoch;
            }
        }
        hook.cursor == 0
    }

    /// Takes what the snapshot serialized so far: the bytes and how many entries they hold.
    pub fn snapshot_take_output(&mut self) -> (Vec<u8>, usize) {
        match self.snapshot.as_deref_mut() {
            Some(hook) => (
                std::mem::take(&mut hook.out),
                std::mem::take(&mut hook.keys),
            ),
            None => (Vec::new(), 0),
        }
    }

    /// The index this database had when its snapshot began, if one is under way.
    pub fn snapshot_origin(&self) -> Option<usize> {
        self.snapshot.as_deref().map(|hook| hook.origin)
    }

    /// Bytes of the entries that writes saved before changing them in this snapshot.
    pub fn snapshot_cow_bytes(&self) -> usize {
        self.snapshot.as_deref().map_or(0, |hook| hook.cow_bytes)
    }

    /// Whether the database was emptied while its snapshot still had entries to save.
    pub fn snapshot_abandoned(&self) -> bool {
        self.snapshot.as_deref().is_some_and(|hook| hook.abandoned)
    }

    /// Ends the snapshot (complete or aborted); writes no longer save anything.
    pub fn snapshot_end(&mut self) {
        self.snapshot = None;
    }

    /// Called before the database is emptied: a snapshot with unsaved entries left is
    /// abandoned (see the module docs).
    pub(super) fn abandon_snapshot(&mut self) {
        let len = self.entries.len();
        if let Some(hook) = self.snapshot.as_deref_mut()
            && hook.cursor.min(len) > 0
        {
            hook.abandoned = true;
            hook.out = Vec::new();
            hook.keys = 0;
            hook.cursor = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::db::Ttl;
    use crate::types::Value;

    /// A saver that records "key=value" lines.
    fn recorder() -> EntrySaver {
        Arc::new(|entry: &Entry, out: &mut Vec<u8>| {
            out.extend_from_slice(entry.key.as_slice());
            out.push(b'=');
            let _ = entry.value.with_string_bytes(|b| out.extend_from_slice(b));
            out.push(b'\n');
        })
    }

    fn lines(db: &mut Db, all: &Mutex<Vec<String>>) {
        let (bytes, _) = db.snapshot_take_output();
        let text = String::from_utf8(bytes).unwrap();
        all.lock().unwrap().extend(text.lines().map(str::to_string));
    }

    #[test]
    fn snapshot_sees_the_dataset_as_it_was_at_the_start() {
        let mut db = Db::new();
        for i in 0..300 {
            db.set(
                format!("k{i}").as_bytes(),
                Value::string(b"old"),
                Ttl::Clear,
                0,
            );
        }
        db.snapshot_begin(0, recorder());
        let seen = Mutex::new(Vec::new());
        let mut round = 0;
        loop {
            let done = db.snapshot_step(7);
            // Overwrite, delete, add and change in place while the walk runs.
            round += 1;
            db.set(
                format!("k{}", round * 3 % 300).as_bytes(),
                Value::string(b"new"),
                Ttl::Clear,
                0,
            );
            db.remove(format!("k{}", round * 11 % 300).as_bytes());
            db.set(
                format!("n{round}").as_bytes(),
                Value::string(b"new"),
                Ttl::Clear,
                0,
            );
            if let Some(pos) = db.find(format!("k{}", round * 5 % 300).as_bytes()) {
                db.entry_mut(pos).value = Value::string(b"new");
            }
            lines(&mut db, &seen);
            if done {
                break;
            }
        }
        db.snapshot_end();
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        let mut expected: Vec<String> = (0..300).map(|i| format!("k{i}=old")).collect();
        expected.sort();
        assert_eq!(seen, expected);
    }

    #[test]
    fn emptying_the_database_abandons_an_unfinished_snapshot() {
        let mut db = Db::new();
        for i in 0..10 {
            db.set(
                format!("k{i}").as_bytes(),
                Value::string(b"v"),
                Ttl::Clear,
                0,
            );
        }
        db.snapshot_begin(3, recorder());
        assert_eq!(db.snapshot_origin(), Some(3));
        db.clear();
        assert!(db.snapshot_abandoned());
        assert!(db.snapshot_step(100));
        db.snapshot_end();
        assert_eq!(db.snapshot_origin(), None);
    }
}
