//! `SortedSet`: members ordered by score. Small sets are a [`Listpack`] of member, score pairs
//! in score order (`listpack`, up to `zset-max-listpack-entries`/`-value`); larger ones a
//! skiplist with a member index (`skiplist`), as Redis 7.0 encodes them.

use super::Listpack;

/// A sorted set value.
#[derive(Debug, Clone, PartialEq)]
pub enum SortedSet {
    /// Small: member, score, member, score... in score order.
    Listpack(Listpack),
}

impl Default for SortedSet {
    fn default() -> SortedSet {
        SortedSet::Listpack(Listpack::new())
    }
}

impl SortedSet {
    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            SortedSet::Listpack(lp) => lp.len() / 2,
        }
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            SortedSet::Listpack(_) => "listpack",
        }
    }

    /// Calls `f` with each member and score, in score order.
    pub fn for_each_pair(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            SortedSet::Listpack(lp) => {
                let mut entries = lp.iter();
                while let (Some(member), Some(score)) = (entries.next(), entries.next()) {
                    let score = std::str::from_utf8(score)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0.0);
                    f(member, score);
                }
            }
        }
    }

    /// Heap bytes owned.
    pub fn heap_size(&self) -> usize {
        match self {
            SortedSet::Listpack(lp) => lp.heap_size(),
        }
    }
}
