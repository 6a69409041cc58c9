//! `Hash`: field/value pairs, packed in a [`Listpack`] (field, value, field, value...) while
//! small (`hash-max-listpack-entries`/`-value`), a [`FieldTable`] beyond — the two encodings
//! Redis reports as `listpack` and `hashtable`. A hash converts once, when a write crosses a
//! limit, and never converts back (as in Redis).
//!
//! # The table layout
//! A [`FieldTable`] keeps its pairs in one dense `Vec` of two [`CompactBytes`] (48 bytes a
//! pair; fields and values up to 22 bytes live inline, with no allocation of their own) and
//! finds them through a `hashbrown` table of `u32` positions (5 bytes a slot). Redis spends a
//! dict entry, two sds allocations and a bucket pointer on each pair. Deleting moves the last
//! pair into the hole, so positions stay dense: a random pair costs one index (HRANDFIELD) and
//! HSCAN walks positions from the end down, which visits every pair present for the whole scan
//! at least once (a deletion only moves the last pair, which the walk has already passed).

use std::hash::BuildHasher;

use hashbrown::HashTable;

use super::{CompactBytes, Listpack};

/// A hash value.
#[derive(Debug, Clone)]
pub enum Hash {
    /// Small: alternating fields and values.
    Listpack(Listpack),
    /// Large: a hash table of pairs.
    Table(Box<FieldTable>),
}

impl Default for Hash {
    fn default() -> Hash {
        Hash::Listpack(Listpack::new())
    }
}

/// Equality as maps: the same fields with the same values, whatever the encoding or order.
impl PartialEq for Hash {
    fn eq(&self, other: &Hash) -> bool {
        self.len() == other.len() && self.iter().all(|(f, v)| other.get(f) == Some(v))
    }
}

impl Eq for Hash {}

impl Hash {
    /// An empty hash (a listpack).
    pub fn new() -> Hash {
        Hash::default()
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        match self {
            Hash::Listpack(lp) => lp.len() / 2,
            Hash::Table(table) => table.len(),
        }
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Hash::Listpack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    /// Calls `f` with each field and value, in no particular order.
    pub fn for_each_pair(&self, mut f: impl FnMut(&[u8], &[u8])) {
        self.iter().for_each(|(field, value)| f(field, value));
    }

    /// The pairs, in storage order (insertion order for a listpack).
    pub fn iter(&self) -> Pairs<'_> {
        match self {
            Hash::Listpack(lp) => Pairs::Packed(lp.iter()),
            Hash::Table(table) => Pairs::Table(table.entries.iter()),
        }
    }

    /// Heap bytes owned.
    pub fn heap_size(&self) -> usize {
        match self {
            Hash::Listpack(lp) => lp.heap_size(),
            Hash::Table(table) => std::mem::size_of::<FieldTable>() + table.heap_size(),
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Listpack(lp) => find_packed(lp, field).map(|(_, value)| value),
            Hash::Table(table) => table.get(field),
        }
    }

    /// Whether `field` is present.
    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Sets `field` to `value`; true when the field is new. A listpack becomes a table first
    /// when the field or value is longer than `max_value` bytes, and after the insert when it
    /// holds more than `max_entries` pairs (Redis's `hashTypeSet` rules, with its
    /// `hash-max-listpack-value` and `hash-max-listpack-entries`).
    pub fn insert(
        &mut self,
        field: &[u8],
        value: &[u8],
        max_entries: usize,
        max_value: usize,
    ) -> bool {
        if let Hash::Listpack(_) = self
            && (field.len() > max_value || value.len() > max_value)
        {
            self.convert_to_table();
        }
        match self {
            Hash::Listpack(lp) => {
                let inserted = match find_packed(lp, field) {
                    Some((index, _)) => {
                        lp.replace(index + 1, value);
                        false
                    }
                    None => {
                        lp.push_back(field);
                        lp.push_back(value);
                        true
                    }
                };
                if self.len() > max_entries {
                    self.convert_to_table();
                }
                inserted
            }
            Hash::Table(table) => table.insert(field, value),
        }
    }

    /// Removes `field`; whether it was present.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Listpack(lp) => match find_packed(lp, field) {
                Some((index, _)) => {
                    lp.remove_range(index, 2);
                    true
                }
                None => false,
            },
            Hash::Table(table) => table.remove(field),
        }
    }

    /// Frees spare capacity a listpack gathered while growing. Writers call it once per
    /// command, so a burst of inserts grows the buffer geometrically and trims it once.
    pub fn shrink_spare(&mut self) {
        if let Hash::Listpack(lp) = self
            && lp.heap_size() - lp.bytes() > lp.bytes() / 16
        {
            lp.shrink_to_fit();
        }
    }

    /// One HSCAN step over the pairs: a listpack is visited whole (cursor 0 back, as Redis
    /// does for its compact encodings); a table visits up to `count` positions below `cursor`
    /// (0 starts at the end) and returns the next cursor, 0 when the walk is complete.
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&[u8], &[u8])) -> u64 {
        match self {
            Hash::Listpack(_) => {
                self.for_each_pair(visit);
                0
            }
            Hash::Table(table) => {
                let len = table.entries.len();
                let start = match usize::try_from(cursor) {
                    Ok(0) | Err(_) => len,
                    Ok(c) => c.min(len),
                };
                let stop = start.saturating_sub(count.max(1));
                for (field, value) in table.entries[stop..start].iter().rev() {
                    visit(field, value);
                }
                u64::try_from(stop).unwrap_or(0)
            }
        }
    }

    /// A view that reaches pair number `i` in O(1), for random sampling (HRANDFIELD).
    pub fn indexed(&self) -> IndexedPairs<'_> {
        match self {
            Hash::Listpack(_) => IndexedPairs::Packed(self.iter().collect()),
            Hash::Table(table) => IndexedPairs::Table(&table.entries),
        }
    }

    /// A uniformly random pair, if any (one walk for a listpack, one index for a table).
    pub fn random_pair(&self, rng: &mut impl rand::Rng) -> Option<(&[u8], &[u8])> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        let pick = rng.random_range(0..len);
        match self {
            Hash::Listpack(_) => self.iter().nth(pick),
            Hash::Table(table) => table.pair_at(pick),
        }
    }

    /// Builds a hash from pairs, in the encoding the limits call for (see [`Hash::insert`]; a
    /// later pair wins over an earlier one with the same field).
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
        max_entries: usize,
        max_value: usize,
    ) -> Hash {
        let mut hash = Hash::new();
        for (field, value) in pairs {
            hash.insert(field, value, max_entries, max_value);
        }
        hash.shrink_spare();
        hash
    }

    fn convert_to_table(&mut self) {
        if let Hash::Listpack(lp) = self {
            let mut table = FieldTable::with_capacity(lp.len() / 2 + 1);
            let mut entries = lp.iter();
            while let (Some(field), Some(value)) = (entries.next(), entries.next()) {
                table.insert(field, value);
            }
            *self = Hash::Table(Box::new(table));
        }
    }
}

/// The entry index of `field` in a listpack hash and its value.
fn find_packed<'a>(lp: &'a Listpack, field: &[u8]) -> Option<(usize, &'a [u8])> {
    let mut entries = lp.iter();
    let mut index = 0;
    while let (Some(f), Some(value)) = (entries.next(), entries.next()) {
        if f == field {
            return Some((index, value));
        }
        index += 2;
    }
    None
}

/// Iterator over a hash's pairs.
#[derive(Debug, Clone)]
pub enum Pairs<'a> {
    /// Over a listpack.
    Packed(super::listpack::Iter<'a>),
    /// Over a table.
    Table(std::slice::Iter<'a, (CompactBytes, CompactBytes)>),
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<(&'a [u8], &'a [u8])> {
        match self {
            Pairs::Packed(entries) => Some((entries.next()?, entries.next()?)),
            Pairs::Table(entries) => entries.next().map(|(f, v)| (f.as_slice(), v.as_slice())),
        }
    }
}

/// Pairs reachable by number in O(1).
#[derive(Debug)]
pub enum IndexedPairs<'a> {
    /// A listpack's pairs, collected.
    Packed(Vec<(&'a [u8], &'a [u8])>),
    /// A table's dense pairs.
    Table(&'a [(CompactBytes, CompactBytes)]),
}

impl<'a> IndexedPairs<'a> {
    /// Number of pairs.
    pub fn len(&self) -> usize {
        match self {
            IndexedPairs::Packed(pairs) => pairs.len(),
            IndexedPairs::Table(pairs) => pairs.len(),
        }
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pair number `i`.
    pub fn get(&self, i: usize) -> Option<(&'a [u8], &'a [u8])> {
        match self {
            IndexedPairs::Packed(pairs) => pairs.get(i).copied(),
            IndexedPairs::Table(pairs) => pairs.get(i).map(|(f, v)| (f.as_slice(), v.as_slice())),
        }
    }
}

/// The `hashtable` encoding: dense pairs plus an index of positions (see the module docs).
#[derive(Clone)]
pub struct FieldTable {
    entries: Vec<(CompactBytes, CompactBytes)>,
    index: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
}

impl std::fmt::Debug for FieldTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl FieldTable {
    /// An empty table with room for `capacity` pairs.
    pub fn with_capacity(capacity: usize) -> FieldTable {
        FieldTable {
            entries: Vec::with_capacity(capacity),
            index: HashTable::with_capacity(capacity),
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Heap bytes owned: the pair vector, long fields and values, and the index.
    pub fn heap_size(&self) -> usize {
        let pairs = self.entries.capacity() * std::mem::size_of::<(CompactBytes, CompactBytes)>();
        let long: usize = self
            .entries
            .iter()
            .map(|(f, v)| f.heap_size() + v.heap_size())
            .sum();
        pairs + long + self.index.allocation_size()
    }

    fn position(&self, field: &[u8]) -> Option<usize> {
        let hash = self.hasher.hash_one(field);
        let entries = &self.entries;
        self.index
            .find(hash, |&i| entries[i as usize].0.as_slice() == field)
            .map(|&i| i as usize)
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.position(field).map(|i| self.entries[i].1.as_slice())
    }

    /// Pair number `i` (positions are dense, `0..len`).
    pub fn pair_at(&self, i: usize) -> Option<(&[u8], &[u8])> {
        self.entries
            .get(i)
            .map(|(f, v)| (f.as_slice(), v.as_slice()))
    }

    /// Sets `field` to `value`; true when the field is new.
    pub fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        let hash = self.hasher.hash_one(field);
        let entries = &self.entries;
        if let Some(&i) = self
            .index
            .find(hash, |&i| entries[i as usize].0.as_slice() == field)
        {
            self.entries[i as usize].1 = CompactBytes::new(value);
            return false;
        }
        let pos = self.entries.len();
        if pos == self.entries.capacity() {
            // Grow by half rather than double: the pairs are most of a large hash's memory.
            self.entries.reserve_exact((pos / 2).max(4));
        }
        self.entries
            .push((CompactBytes::new(field), CompactBytes::new(value)));
        // Positions fit in u32: a hash of 4 billion fields is far past any machine we run on.
        let slot = u32::try_from(pos).expect("fewer than 2^32 fields per hash");
        let (entries, hasher) = (&self.entries, &self.hasher);
        self.index.insert_unique(hash, slot, |&i| {
            hasher.hash_one(entries[i as usize].0.as_slice())
        });
        true
    }

    /// Removes `field`; whether it was present. The last pair moves into the hole.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        let hash = self.hasher.hash_one(field);
        let entries = &self.entries;
        let Ok(found) = self
            .index
            .find_entry(hash, |&i| entries[i as usize].0.as_slice() == field)
        else {
            return false;
        };
        let (slot, _) = found.remove();
        let pos = slot as usize;
        let last = self.entries.len() - 1;
        self.entries.swap_remove(pos);
        if pos != last {
            let moved_hash = self.hasher.hash_one(self.entries[pos].0.as_slice());
            let last_slot = u32::try_from(last).expect("positions fit in u32");
            if let Some(s) = self.index.find_mut(moved_hash, |&i| i == last_slot) {
                *s = slot;
            }
        }
        self.shrink_if_sparse();
        true
    }

    /// Gives memory back once the table is under a quarter full, as Redis resizes a dict
    /// that falls under 10% fill.
    fn shrink_if_sparse(&mut self) {
        let len = self.entries.len();
        if len > 8 && self.entries.capacity() / 4 > len {
            self.entries.shrink_to(len + len / 2);
            let (entries, hasher) = (&self.entries, &self.hasher);
            self.index
                .shrink_to(len, |&i| hasher.hash_one(entries[i as usize].0.as_slice()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small limits: 4 pairs, 8 bytes.
    const LIMITS: (usize, usize) = (4, 8);

    fn put(h: &mut Hash, field: &[u8], value: &[u8], (entries, value_len): (usize, usize)) -> bool {
        h.insert(field, value, entries, value_len)
    }

    fn sorted_pairs(hash: &Hash) -> Vec<(String, String)> {
        let mut pairs: Vec<_> = hash
            .iter()
            .map(|(f, v)| {
                (
                    String::from_utf8_lossy(f).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect();
        pairs.sort();
        pairs
    }

    #[test]
    fn listpack_insert_replace_remove() {
        let mut h = Hash::new();
        assert!(put(&mut h, b"a", b"1", LIMITS));
        assert!(put(&mut h, b"b", b"2", LIMITS));
        assert!(!put(&mut h, b"a", b"10", LIMITS));
        assert_eq!(h.get(b"a"), Some(&b"10"[..]));
        assert_eq!(h.len(), 2);
        assert_eq!(h.encoding_name(), "listpack");
        assert!(h.remove(b"a"));
        assert!(!h.remove(b"a"));
        assert_eq!(sorted_pairs(&h), [("b".into(), "2".into())]);
    }

    #[test]
    fn converts_on_entries_and_on_length_and_never_back() {
        let mut h = Hash::new();
        for i in 0..4 {
            put(&mut h, format!("f{i}").as_bytes(), b"v", LIMITS);
        }
        assert_eq!(h.encoding_name(), "listpack");
        put(&mut h, b"f4", b"v", LIMITS);
        assert_eq!(h.encoding_name(), "hashtable");
        for i in 0..5 {
            assert!(h.remove(format!("f{i}").as_bytes()));
        }
        assert!(h.is_empty());
        assert_eq!(h.encoding_name(), "hashtable");

        let mut long = Hash::new();
        put(&mut long, b"f", b"123456789", LIMITS);
        assert_eq!(long.encoding_name(), "hashtable");
        assert_eq!(long.get(b"f"), Some(&b"123456789"[..]));
    }

    #[test]
    fn table_keeps_positions_dense_through_removals() {
        let limits = (0, 64);
        let mut h = Hash::new();
        for i in 0..1000 {
            assert!(put(
                &mut h,
                format!("field:{i}").as_bytes(),
                format!("{i}").as_bytes(),
                limits
            ));
        }
        for i in (0..1000).step_by(3) {
            assert!(h.remove(format!("field:{i}").as_bytes()));
        }
        assert_eq!(h.len(), 666);
        for i in 0..1000 {
            let expected = (i % 3 != 0).then(|| format!("{i}"));
            assert_eq!(
                h.get(format!("field:{i}").as_bytes()),
                expected.as_deref().map(str::as_bytes)
            );
        }
        let mut seen = 0;
        let mut cursor = 0;
        loop {
            cursor = h.scan(cursor, 7, |_, _| seen += 1);
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen, 666);
    }

    #[test]
    fn equality_ignores_encoding_and_order() {
        let a = Hash::from_pairs([(&b"x"[..], &b"1"[..]), (b"y", b"2")], 4, 8);
        let b = Hash::from_pairs([(&b"y"[..], &b"2"[..]), (b"x", b"1")], 0, 0);
        assert_eq!(b.encoding_name(), "hashtable");
        assert_eq!(a, b);
    }
}
