//! `Set`: a set of byte strings in one of Redis 7.0's two encodings. A set whose members are all
//! canonical 64-bit integers stays an [`Intset`] (sorted, packed at 2, 4 or 8 bytes a member)
//! until it has more than `set-max-intset-entries` members; a non-integer member, or one too
//! many, turns it into a [`MemberTable`] (`hashtable`) for good, exactly when Redis converts.
//!
//! Members are addressed by position (`0..len`: ascending order in an intset, storage order in
//! a table) so the random and scanning commands pick uniformly and walk without extra state.

mod intset;
mod table;

pub use intset::Intset;
pub use table::MemberTable;

use crate::types::parse_canonical_i64;

/// Redis's cap on `set-max-intset-entries`.
const INTSET_HARD_LIMIT: u64 = 1 << 30;

/// A set value: 16 bytes, whichever the encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Set {
    /// Only integers, sorted (`intset`).
    Intset(Intset),
    /// Anything (`hashtable`).
    Table(Box<MemberTable>),
}

/// One member as a set holds it: an integer of an intset, or the bytes of a table member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member<'a> {
    /// An intset element.
    Int(i64),
    /// A table member.
    Bytes(&'a [u8]),
}

impl Member<'_> {
    /// Calls `f` with the member's bytes (integers in decimal).
    pub fn with_bytes<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Member::Int(n) => f(itoa::Buffer::new().format(n).as_bytes()),
            Member::Bytes(b) => f(b),
        }
    }

    /// The member's bytes, owned.
    pub fn to_vec(self) -> Vec<u8> {
        self.with_bytes(<[u8]>::to_vec)
    }
}

impl Default for Set {
    fn default() -> Set {
        Set::Intset(Intset::new())
    }
}

impl Set {
    /// An empty set in the encoding Redis would create for a first member `first`: an intset
    /// when it is an integer, a table otherwise (`setTypeCreate`).
    pub fn for_first_member(first: &[u8]) -> Set {
        match parse_canonical_i64(first) {
            Some(_) => Set::default(),
            None => Set::Table(Box::new(MemberTable::with_capacity(1))),
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            Set::Intset(set) => set.len(),
            Set::Table(table) => table.len(),
        }
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Set::Intset(_) => "intset",
            Set::Table(_) => "hashtable",
        }
    }

    /// Whether `member` is in the set.
    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            // A non-canonical spelling ("01") is not an integer to Redis, so never in an intset.
            Set::Intset(set) => parse_canonical_i64(member).is_some_and(|n| set.contains(n)),
            Set::Table(table) => table.contains(member),
        }
    }

    /// Whether the member at `pos` of `other` is in this set (no decimal round trip between
    /// intsets).
    pub fn contains_member_of(&self, other: &Set, pos: usize) -> bool {
        self.contains_member(other.member_at(pos))
    }

    fn contains_member(&self, member: Member<'_>) -> bool {
        match (self, member) {
            (Set::Intset(set), Member::Int(n)) => set.contains(n),
            (_, member) => member.with_bytes(|b| self.contains(b)),
        }
    }

    /// Adds `member`; false if it was already there. Converts to a table when `member` is not
    /// an integer or the intset grows past `max_intset_entries`.
    pub fn add(&mut self, member: &[u8], max_intset_entries: u64) -> bool {
        match self {
            Set::Intset(set) => match parse_canonical_i64(member) {
                Some(n) => self.add_int(n, max_intset_entries),
                None => {
                    let mut table = Self::table_from(set, 1);
                    table.insert(member);
                    *self = Set::Table(Box::new(table));
                    true
                }
            },
            Set::Table(table) => table.insert(member),
        }
    }

    /// Adds every member of `members`; returns how many were new. The same result as adding
    /// them one by one, but integers join an intset in one merge and one allocation.
    pub fn add_all<'m>(
        &mut self,
        members: impl ExactSizeIterator<Item = &'m [u8]> + Clone,
        max_intset_entries: u64,
    ) -> usize {
        let before = self.len();
        if let Set::Intset(set) = self {
            let ints: Option<Vec<i64>> = members.clone().map(parse_canonical_i64).collect();
            match ints {
                Some(mut ints) => {
                    set.insert_all(&mut ints);
                    if exceeds(set.len(), max_intset_entries) {
                        *self = Set::Table(Box::new(Self::table_from(set, 0)));
                    }
                    return self.len() - before;
                }
                // A string among them: the set ends up a table whatever the order.
                None => *self = Set::Table(Box::new(Self::table_from(set, members.len()))),
            }
        }
        if let Set::Table(table) = self {
            table.reserve(members.len());
            members.for_each(|m| {
                table.insert(m);
            });
        }
        self.len() - before
    }

    /// Adds the member at `pos` of `other`, as [`add`](Self::add) would.
    pub fn add_member_of(&mut self, other: &Set, pos: usize, max_intset_entries: u64) -> bool {
        self.add_member(other.member_at(pos), max_intset_entries)
    }

    fn add_member(&mut self, member: Member<'_>, max_intset_entries: u64) -> bool {
        match (&*self, member) {
            (Set::Intset(_), Member::Int(n)) => self.add_int(n, max_intset_entries),
            (_, member) => member.with_bytes(|b| self.add(b, max_intset_entries)),
        }
    }

    fn add_int(&mut self, n: i64, max_intset_entries: u64) -> bool {
        match self {
            Set::Intset(set) => {
                if !set.insert(n) {
                    return false;
                }
                if exceeds(set.len(), max_intset_entries) {
                    *self = Set::Table(Box::new(Self::table_from(set, 0)));
                }
                true
            }
            Set::Table(table) => table.insert(itoa::Buffer::new().format(n).as_bytes()),
        }
    }

    /// A table holding the elements of `set`, with room for `extra` more.
    fn table_from(set: &Intset, extra: usize) -> MemberTable {
        let mut table = MemberTable::with_capacity(set.len() + extra);
        let mut buffer = itoa::Buffer::new();
        for n in set.iter() {
            table.insert(buffer.format(n).as_bytes());
        }
        table
    }

    /// Removes `member`; false if it was not there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            Set::Intset(set) => parse_canonical_i64(member).is_some_and(|n| set.remove(n)),
            Set::Table(table) => table.remove(member),
        }
    }

    /// Removes the member at `pos` of `other`; false if it was not here.
    pub fn remove_member_of(&mut self, other: &Set, pos: usize) -> bool {
        self.remove_member(other.member_at(pos))
    }

    fn remove_member(&mut self, member: Member<'_>) -> bool {
        match (&mut *self, member) {
            (Set::Intset(set), Member::Int(n)) => set.remove(n),
            (_, member) => member.with_bytes(|b| self.remove(b)),
        }
    }

    /// Calls `f` with the bytes of the member at `pos` (< `len`; see [`member_at`](Self::member_at)).
    pub fn with_member_at<R>(&self, pos: usize, f: impl FnOnce(&[u8]) -> R) -> R {
        self.member_at(pos).with_bytes(f)
    }

    /// The member at `pos` (< `len`): ascending order in an intset, storage order in a table.
    pub fn member_at(&self, pos: usize) -> Member<'_> {
        match self {
            Set::Intset(set) => Member::Int(set.get(pos)),
            Set::Table(table) => Member::Bytes(table.get(pos)),
        }
    }

    /// Removes the members at `positions` (distinct, each < `len`, any order).
    pub fn remove_positions(&mut self, positions: &mut [usize]) {
        match self {
            Set::Intset(set) => {
                positions.sort_unstable();
                set.remove_positions(positions);
            }
            Set::Table(table) => {
                // Highest first: a removal moves the last member down, never one still to go.
                positions.sort_unstable_by(|a, b| b.cmp(a));
                for &pos in positions.iter() {
                    table.remove_at(pos);
                }
            }
        }
    }

    /// Every member: ascending for an intset, storage order for a table.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Member<'_>> + '_ {
        (0..self.len()).map(|pos| self.member_at(pos))
    }

    /// Calls `f` with each member, in no particular order.
    pub fn for_each_member(&self, mut f: impl FnMut(&[u8])) {
        self.iter().for_each(|m| m.with_bytes(&mut f));
    }

    /// One SSCAN step from `cursor`: a compact set is visited whole (cursor 0), as Redis does;
    /// a table `count` members at a time. Returns the next cursor, 0 once done.
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&[u8])) -> u64 {
        match self {
            Set::Intset(set) => {
                let mut buffer = itoa::Buffer::new();
                set.iter().for_each(|n| visit(buffer.format(n).as_bytes()));
                0
            }
            Set::Table(table) => table.scan(cursor, count, visit),
        }
    }

    /// Heap bytes owned.
    pub fn heap_size(&self) -> usize {
        match self {
            Set::Intset(set) => set.heap_size(),
            Set::Table(table) => std::mem::size_of::<MemberTable>() + table.heap_size(),
        }
    }
}

/// Whether an intset of `len` elements is past `set-max-intset-entries` (Redis caps the limit
/// at 2^30 whatever the configuration says).
fn exceeds(len: usize, max_intset_entries: u64) -> bool {
    u64::try_from(len).unwrap_or(u64::MAX) > max_intset_entries.min(INTSET_HARD_LIMIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(set: &Set) -> Vec<Vec<u8>> {
        let mut all: Vec<Vec<u8>> = set.iter().map(Member::to_vec).collect();
        all.sort();
        all
    }

    #[test]
    fn is_two_words() {
        assert_eq!(std::mem::size_of::<Set>(), 16);
    }

    #[test]
    fn first_member_picks_the_encoding() {
        assert_eq!(Set::for_first_member(b"12").encoding_name(), "intset");
        assert_eq!(Set::for_first_member(b"012").encoding_name(), "hashtable");
        assert_eq!(Set::for_first_member(b"a").encoding_name(), "hashtable");
    }

    #[test]
    fn a_non_integer_converts_for_good() {
        let mut set = Set::default();
        assert!(set.add(b"1", 512));
        assert!(set.add(b"-2", 512));
        assert!(set.add(b"x", 512));
        assert_eq!(set.encoding_name(), "hashtable");
        assert!(set.remove(b"x"));
        assert_eq!(set.encoding_name(), "hashtable");
        assert!(set.contains(b"-2") && set.contains(b"1"));
        assert_eq!(members(&set), [b"-2".to_vec(), b"1".to_vec()]);
    }

    #[test]
    fn converts_past_max_intset_entries() {
        let mut set = Set::default();
        for i in 0..4 {
            set.add(i.to_string().as_bytes(), 4);
        }
        assert_eq!(set.encoding_name(), "intset");
        assert!(!set.add(b"3", 4));
        assert_eq!(set.encoding_name(), "intset");
        assert!(set.add(b"4", 4));
        assert_eq!(set.encoding_name(), "hashtable");
        assert_eq!(set.len(), 5);
        assert!(set.contains(b"4") && set.contains(b"0"));
    }

    #[test]
    fn add_all_matches_adding_one_by_one() {
        let cases: &[(&[&str], u64)] = &[
            (&["3", "1", "2", "1"], 512),
            (&["3", "x", "2"], 512),
            (&["1", "2", "3", "4", "5"], 4),
            (&["1", "2", "3", "4"], 4),
            (&["-1", "01"], 512),
        ];
        for &(input, max) in cases {
            let mut one_by_one = Set::default();
            let mut added = 0;
            for m in input {
                added += usize::from(one_by_one.add(m.as_bytes(), max));
            }
            let mut all = Set::default();
            let got = all.add_all(input.iter().map(|m| m.as_bytes()), max);
            assert_eq!(got, added, "{input:?}");
            assert_eq!(all.encoding_name(), one_by_one.encoding_name(), "{input:?}");
            assert_eq!(members(&all), members(&one_by_one), "{input:?}");
        }
        let mut table = Set::for_first_member(b"x");
        assert_eq!(table.add_all([&b"x"[..], b"1", b"1"].into_iter(), 512), 2);
    }

    #[test]
    fn non_canonical_integers_are_strings() {
        let mut set = Set::default();
        set.add(b"1", 512);
        assert!(!set.contains(b"01"));
        assert!(!set.remove(b"+1"));
        assert!(set.add(b"01", 512));
        assert_eq!(set.encoding_name(), "hashtable");
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn members_cross_encodings() {
        let mut ints = Set::default();
        ints.add(b"7", 512);
        let mut table = Set::for_first_member(b"a");
        table.add(b"7", 512);
        assert!(table.contains_member_of(&ints, 0));
        assert!(ints.contains_member_of(&table, 0));
        assert!(!ints.contains(b"a"));
        assert!(!ints.add_member_of(&table, 0, 512));
        assert!(ints.remove_member_of(&table, 0));
        let mut more = Set::default();
        more.add(b"7", 512);
        assert!(table.remove_member_of(&more, 0));
        assert!(table.is_empty());
    }

    #[test]
    fn remove_positions_in_both_encodings() {
        for first in [&b"1"[..], b"x"] {
            let mut set = Set::for_first_member(first);
            for i in 0..10 {
                set.add(i.to_string().as_bytes(), 512);
            }
            let doomed: Vec<Vec<u8>> = [2, 5, 9]
                .iter()
                .map(|&p| set.member_at(p).to_vec())
                .collect();
            set.remove_positions(&mut [5, 2, 9]);
            assert_eq!(set.len(), 7);
            for m in doomed {
                assert!(!set.contains(&m));
            }
        }
    }
}
