//! `List`: Redis's quicklist — a deque of [`Listpack`] nodes, each holding up to
//! `list-max-listpack-size` entries, so a list costs a few bytes per element and pushes and
//! pops at either end are O(1). Redis 7.0 reports every list as `quicklist`.

use std::collections::VecDeque;

use super::Listpack;

/// A list value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct List {
    nodes: VecDeque<Listpack>,
    len: usize,
}

impl List {
    /// An empty list.
    pub fn new() -> List {
        List::default()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the list is empty (an empty list is never stored under a key).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        "quicklist"
    }

    /// Heap bytes owned.
    pub fn heap_size(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Listpack>()
            + self.nodes.iter().map(Listpack::heap_size).sum::<usize>()
    }

    /// The elements, head to tail.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.nodes.iter().flat_map(Listpack::iter)
    }
}
