//! `Set`: a set of byte strings. Sets of integers stay a sorted integer array (`intset`,
//! up to `set-max-intset-entries`), everything else a hash table (`hashtable`), as in
//! Redis 7.0.

/// A set value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Set {
    /// Only integers, sorted.
    Intset(Vec<i64>),
}

impl Default for Set {
    fn default() -> Set {
        Set::Intset(Vec::new())
    }
}

impl Set {
    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            Set::Intset(v) => v.len(),
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
        }
    }

    /// Calls `f` with each member, in no particular order.
    pub fn for_each_member(&self, mut f: impl FnMut(&[u8])) {
        match self {
            Set::Intset(v) => v
                .iter()
                .for_each(|n| f(itoa::Buffer::new().format(*n).as_bytes())),
        }
    }

    /// Heap bytes owned.
    pub fn heap_size(&self) -> usize {
        match self {
            Set::Intset(v) => v.capacity() * 8,
        }
    }
}
