//! `MemberTable`: the `hashtable` encoding of a set — members side by side in a dense vector,
//! found through a `hashbrown` table of `u32` positions.
//!
//! A member up to 22 bytes lives inline in its 24-byte slot ([`CompactBytes`]), so a typical
//! member costs about 30 bytes with its index slot, where Redis spends a dict entry, a bucket
//! pointer and an sds allocation. The dense vector also makes a uniformly random member one
//! random index (Redis needs its fair-random-key sampling for that), and gives SSCAN its
//! guarantee the way the keyspace does: a walk from the last position down to 0 sees every
//! member present for the whole walk, because removal only moves the *last* member, which the
//! walk has already passed, into the hole.

use hashbrown::HashTable;
use std::hash::BuildHasher;

use crate::types::CompactBytes;

/// The members of a large or non-integer set.
#[derive(Clone, Default)]
pub struct MemberTable {
    members: Vec<CompactBytes>,
    index: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
}

impl std::fmt::Debug for MemberTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.members.iter()).finish()
    }
}

impl PartialEq for MemberTable {
    fn eq(&self, other: &MemberTable) -> bool {
        self.len() == other.len() && self.members.iter().all(|m| other.contains(m))
    }
}

impl Eq for MemberTable {}

fn slot(pos: usize) -> u32 {
    u32::try_from(pos).expect("fewer than 2^32 members in one set")
}

impl MemberTable {
    /// An empty table with room for `capacity` members.
    pub fn with_capacity(capacity: usize) -> MemberTable {
        MemberTable {
            members: Vec::with_capacity(capacity),
            index: HashTable::with_capacity(capacity),
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    /// Makes room for `additional` more members.
    pub fn reserve(&mut self, additional: usize) {
        self.members.reserve(additional);
        let (members, hasher) = (&self.members, &self.hasher);
        self.index.reserve(additional, |&i| {
            hasher.hash_one(members[i as usize].as_slice())
        });
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    fn find(&self, member: &[u8]) -> Option<usize> {
        let members = &self.members;
        self.index
            .find(self.hasher.hash_one(member), |&i| {
                members[i as usize].as_slice() == member
            })
            .map(|&i| i as usize)
    }

    /// Whether `member` is in the table.
    pub fn contains(&self, member: &[u8]) -> bool {
        self.find(member).is_some()
    }

    /// Adds `member`; false if it was already there.
    pub fn insert(&mut self, member: &[u8]) -> bool {
        let hash = self.hasher.hash_one(member);
        let (members, hasher) = (&self.members, &self.hasher);
        match self.index.entry(
            hash,
            |&i| members[i as usize].as_slice() == member,
            |&i| hasher.hash_one(members[i as usize].as_slice()),
        ) {
            hashbrown::hash_table::Entry::Occupied(_) => false,
            hashbrown::hash_table::Entry::Vacant(vacant) => {
                vacant.insert(slot(members.len()));
                self.members.push(CompactBytes::new(member));
                true
            }
        }
    }

    /// Removes `member`; false if it was not there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self.find(member) {
            Some(pos) => {
                self.remove_at(pos);
                true
            }
            None => false,
        }
    }

    /// The member at `pos` (< `len`).
    pub fn get(&self, pos: usize) -> &[u8] {
        &self.members[pos]
    }

    /// Removes and returns the member at `pos` (< `len`); the last member moves into its place.
    pub fn remove_at(&mut self, pos: usize) -> CompactBytes {
        let hash = self.hasher.hash_one(self.members[pos].as_slice());
        if let Ok(found) = self.index.find_entry(hash, |&i| i as usize == pos) {
            found.remove();
        }
        let member = self.members.swap_remove(pos);
        if pos < self.members.len() {
            let moved_from = self.members.len();
            let moved_hash = self.hasher.hash_one(self.members[pos].as_slice());
            if let Some(i) = self
                .index
                .find_mut(moved_hash, |&i| i as usize == moved_from)
            {
                *i = slot(pos);
            }
        }
        self.shrink_if_sparse();
        member
    }

    /// Gives memory back once the table is mostly empty, as Redis's dict shrinks below 10% fill.
    fn shrink_if_sparse(&mut self) {
        let len = self.members.len();
        if self.members.capacity() > 64 && len < self.members.capacity() / 8 {
            self.members.shrink_to(len * 2);
            let (members, hasher) = (&self.members, &self.hasher);
            self.index.shrink_to(len * 2, |&i| {
                hasher.hash_one(members[i as usize].as_slice())
            });
        }
    }

    /// Every member, in storage order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.members.iter().map(CompactBytes::as_slice)
    }

    /// One SSCAN step: visits up to `count` positions below `cursor` (0 starts at the end) and
    /// returns the next cursor, 0 once the walk is complete.
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&[u8])) -> u64 {
        let len = self.members.len();
        let start = match usize::try_from(cursor) {
            Ok(0) | Err(_) => len,
            Ok(c) => c.min(len),
        };
        let stop = start.saturating_sub(count.max(1));
        for pos in (stop..start).rev() {
            visit(&self.members[pos]);
        }
        stop as u64
    }

    /// Heap bytes owned.
    pub fn heap_size(&self) -> usize {
        let members = self.members.capacity() * std::mem::size_of::<CompactBytes>();
        let inline_heap: usize = self.members.iter().map(CompactBytes::heap_size).sum();
        // hashbrown spends one control byte per bucket beside each slot.
        members + inline_heap + self.index.capacity() * (std::mem::size_of::<u32>() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_find_remove() {
        let mut table = MemberTable::with_capacity(0);
        assert!(table.insert(b"a"));
        assert!(table.insert(b"b"));
        assert!(table.insert(b"a long member that does not fit inline"));
        assert!(!table.insert(b"a"));
        assert_eq!(table.len(), 3);
        assert!(table.remove(b"a"));
        assert!(!table.remove(b"a"));
        assert!(table.contains(b"b"));
        assert!(table.contains(b"a long member that does not fit inline"));
        assert!(!table.contains(b"a"));
    }

    #[test]
    fn removal_repoints_the_moved_member() {
        let mut table = MemberTable::with_capacity(0);
        for i in 0..1000 {
            table.insert(format!("m{i}").as_bytes());
        }
        for i in (0..1000).step_by(2) {
            assert!(table.remove(format!("m{i}").as_bytes()));
        }
        for i in 0..1000 {
            assert_eq!(
                table.contains(format!("m{i}").as_bytes()),
                i % 2 == 1,
                "m{i}"
            );
        }
        assert_eq!(table.len(), 500);
    }

    #[test]
    fn scan_sees_every_member_that_stays_despite_removals() {
        let mut table = MemberTable::with_capacity(0);
        for i in 0..300 {
            table.insert(format!("{i}").as_bytes());
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = table.scan(cursor, 10, |m| {
                seen.insert(m.to_vec());
            });
            step += 1;
            if step == 3 {
                for i in 100..300 {
                    table.remove(format!("{i}").as_bytes());
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..100 {
            assert!(seen.contains(format!("{i}").as_bytes()), "missing {i}");
        }
    }
}
