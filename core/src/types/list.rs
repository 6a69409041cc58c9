//! `List`: Redis's quicklist — a deque of [`Listpack`] nodes, so a list costs a few bytes per
//! element and pushes and pops at either end touch one node. Redis 7.0 reports every list as
//! `quicklist`.
//!
//! Node size follows `list-max-listpack-size`, passed in by the caller at each insertion (so a
//! `CONFIG SET` applies to existing lists from then on; Redis keeps the value a list was created
//! with): a negative value caps a node's bytes (-1..-5 = 4, 8, 16, 32, 64 KiB), a positive one
//! its entry count (with an 8 KiB safety cap, as Redis has). An element too big for any node
//! gets a node of its own. `list-compress-depth` is accepted by the config but nodes are never
//! compressed. Nodes are never empty; they are split when an insertion or a replacement
//! overflows them, and not merged back after deletions.

use std::collections::VecDeque;

use super::Listpack;

/// One end of a list (private: `types` exports only [`List`], whose methods name their end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListEnd {
    Head,
    Tail,
}

/// `list-max-listpack-size`'s default: nodes of at most 8 KiB.
pub const DEFAULT_FILL: i64 = -2;

/// Node byte limits for fill -1..-5.
const SIZE_LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// The byte cap of a node when the fill counts entries.
const SIZE_SAFETY_LIMIT: usize = 8192;

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

    /// Number of nodes (for tests and `DEBUG`-style introspection).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The elements, head to tail.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.nodes.iter().flat_map(Listpack::iter)
    }

    /// The elements from index `start` (head-based) to the tail; whole nodes are skipped.
    pub fn iter_from(&self, start: usize) -> impl Iterator<Item = &[u8]> {
        let mut skip = start;
        let mut first = self.nodes.len();
        for (i, node) in self.nodes.iter().enumerate() {
            if skip < node.len() {
                first = i;
                break;
            }
            skip -= node.len();
        }
        self.nodes
            .range(first..)
            .flat_map(Listpack::iter)
            .skip(skip)
    }

    /// The elements, tail to head.
    pub fn iter_rev(&self) -> impl Iterator<Item = &[u8]> {
        self.nodes.iter().rev().flat_map(|node| {
            // Entries only walk forward: reverse one node at a time.
            let entries: Vec<&[u8]> = node.iter().collect();
            entries.into_iter().rev()
        })
    }

    /// Adds `entry` at the head; `fill` is `list-max-listpack-size`.
    pub fn push_front(&mut self, entry: &[u8], fill: i64) {
        self.push(ListEnd::Head, entry, fill);
    }

    /// Adds `entry` at the tail; `fill` is `list-max-listpack-size`.
    pub fn push_back(&mut self, entry: &[u8], fill: i64) {
        self.push(ListEnd::Tail, entry, fill);
    }

    /// Removes and returns the head element.
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        self.pop(ListEnd::Head)
    }

    /// Removes and returns the tail element.
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        self.pop(ListEnd::Tail)
    }

    /// Removes up to `count` elements from the head, in head-to-tail order.
    pub fn pop_front_many(&mut self, count: usize) -> Vec<Vec<u8>> {
        self.pop_many(ListEnd::Head, count)
    }

    /// Removes up to `count` elements from the tail, in tail-to-head order.
    pub fn pop_back_many(&mut self, count: usize) -> Vec<Vec<u8>> {
        self.pop_many(ListEnd::Tail, count)
    }

    /// Removes the first `limit` elements equal to `element` walking from the head (0: all);
    /// returns how many were removed.
    pub fn remove_first_matches(&mut self, element: &[u8], limit: usize) -> usize {
        self.remove_matching(element, limit, ListEnd::Head)
    }

    /// Removes the last `limit` elements equal to `element` (0: all), walking from the tail.
    pub fn remove_last_matches(&mut self, element: &[u8], limit: usize) -> usize {
        self.remove_matching(element, limit, ListEnd::Tail)
    }

    fn push(&mut self, end: ListEnd, entry: &[u8], fill: i64) {
        let size = encoded_size(entry);
        let node = match end {
            ListEnd::Head => self.nodes.front_mut(),
            ListEnd::Tail => self.nodes.back_mut(),
        };
        match (node, end) {
            (Some(node), ListEnd::Head) if node_allows(node, fill, size) => node.push_front(entry),
            (Some(node), ListEnd::Tail) if node_allows(node, fill, size) => node.push_back(entry),
            _ => {
                let node = single_node(entry);
                match end {
                    ListEnd::Head => self.nodes.push_front(node),
                    ListEnd::Tail => self.nodes.push_back(node),
                }
            }
        }
        self.len += 1;
    }

    fn pop(&mut self, end: ListEnd) -> Option<Vec<u8>> {
        let node = match end {
            ListEnd::Head => self.nodes.front_mut()?,
            ListEnd::Tail => self.nodes.back_mut()?,
        };
        let index = match end {
            ListEnd::Head => 0,
            ListEnd::Tail => node.len().checked_sub(1)?,
        };
        let value = node.remove(index)?;
        if node.is_empty() {
            match end {
                ListEnd::Head => self.nodes.pop_front(),
                ListEnd::Tail => self.nodes.pop_back(),
            };
        }
        self.len -= 1;
        Some(value)
    }

    fn pop_many(&mut self, end: ListEnd, count: usize) -> Vec<Vec<u8>> {
        let count = count.min(self.len);
        let start = match end {
            ListEnd::Head => 0,
            ListEnd::Tail => self.len - count,
        };
        let mut popped: Vec<Vec<u8>> = self
            .iter_from(start)
            .take(count)
            .map(<[u8]>::to_vec)
            .collect();
        if end == ListEnd::Tail {
            popped.reverse();
        }
        self.remove_range(start, count);
        popped
    }

    /// The element at head-based `index`.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        let (node, offset) = self.locate(index)?;
        self.nodes.get(node)?.get(offset)
    }

    /// Replaces the element at `index`; false when out of range.
    pub fn set(&mut self, index: usize, entry: &[u8], fill: i64) -> bool {
        let Some((node, offset)) = self.locate(index) else {
            return false;
        };
        let Some(target) = self.nodes.get_mut(node) else {
            return false;
        };
        if !target.replace(offset, entry) {
            return false;
        }
        if exceeds_limit(target, fill) {
            self.repack_node(node, fill);
        }
        true
    }

    /// Inserts `entry` so that it becomes the element at `index` (`index <= len`).
    pub fn insert(&mut self, index: usize, entry: &[u8], fill: i64) {
        if index == 0 {
            return self.push(ListEnd::Head, entry, fill);
        }
        if index >= self.len {
            return self.push(ListEnd::Tail, entry, fill);
        }
        let Some((node, offset)) = self.locate(index) else {
            return self.push(ListEnd::Tail, entry, fill);
        };
        let size = encoded_size(entry);
        if node_allows(&self.nodes[node], fill, size) {
            self.nodes[node].insert(offset, entry);
        } else if offset == 0 && node_allows(&self.nodes[node - 1], fill, size) {
            // `index > 0` and `offset == 0` imply a previous node.
            self.nodes[node - 1].push_back(entry);
        } else if offset == 0 {
            self.nodes.insert(node, single_node(entry));
        } else {
            // Split the full node around the insertion point, as a quicklist does.
            let back: Listpack = self.nodes[node].iter().skip(offset).collect();
            let moved = back.len();
            self.nodes[node].remove_range(offset, moved);
            if node_allows(&self.nodes[node], fill, size) {
                self.nodes[node].push_back(entry);
                self.nodes.insert(node + 1, back);
            } else if node_allows(&back, fill, size) {
                let mut back = back;
                back.push_front(entry);
                self.nodes.insert(node + 1, back);
            } else {
                self.nodes.insert(node + 1, back);
                self.nodes.insert(node + 1, single_node(entry));
            }
        }
        self.len += 1;
    }

    /// Removes `count` elements starting at head-based `start` (clamped to the end).
    pub fn remove_range(&mut self, start: usize, count: usize) {
        if start >= self.len {
            return;
        }
        let mut left = count.min(self.len - start);
        self.len -= left;
        let mut skip = start;
        let mut i = 0;
        while left > 0 && i < self.nodes.len() {
            let n = self.nodes[i].len();
            if skip >= n {
                skip -= n;
                i += 1;
                continue;
            }
            let take = (n - skip).min(left);
            if take == n {
                self.nodes.remove(i);
            } else {
                self.nodes[i].remove_range(skip, take);
                i += 1;
            }
            left -= take;
            skip = 0;
        }
    }

    fn remove_matching(&mut self, element: &[u8], limit: usize, from: ListEnd) -> usize {
        let mut removed = 0;
        let order: Vec<usize> = match from {
            ListEnd::Head => (0..self.nodes.len()).collect(),
            ListEnd::Tail => (0..self.nodes.len()).rev().collect(),
        };
        for i in order {
            let budget = if limit == 0 {
                usize::MAX
            } else {
                limit - removed
            };
            if budget == 0 {
                break;
            }
            let node = &mut self.nodes[i];
            let matches = node.iter().filter(|e| *e == element).count();
            if matches == 0 {
                continue;
            }
            let take = matches.min(budget);
            // Walking from the tail, the matches to drop are the node's last `take`.
            let mut keep_first = match from {
                ListEnd::Head => 0,
                ListEnd::Tail => matches - take,
            };
            let mut to_drop = take;
            node.retain(|e| {
                if e != element || to_drop == 0 {
                    return true;
                }
                if keep_first > 0 {
                    keep_first -= 1;
                    return true;
                }
                to_drop -= 1;
                false
            });
            removed += take;
        }
        self.nodes.retain(|n| !n.is_empty());
        self.len -= removed;
        removed
    }

    /// The node holding head-based `index`, and the offset inside it; walks from the nearer end.
    fn locate(&self, index: usize) -> Option<(usize, usize)> {
        if index >= self.len {
            return None;
        }
        if index < self.len / 2 {
            let mut rest = index;
            for (i, node) in self.nodes.iter().enumerate() {
                if rest < node.len() {
                    return Some((i, rest));
                }
                rest -= node.len();
            }
        } else {
            let mut rest = self.len - 1 - index;
            for (i, node) in self.nodes.iter().enumerate().rev() {
                if rest < node.len() {
                    return Some((i, node.len() - 1 - rest));
                }
                rest -= node.len();
            }
        }
        None
    }

    /// Re-packs node `i`, which has outgrown its limit, into as many nodes as it needs.
    fn repack_node(&mut self, i: usize, fill: i64) {
        let Some(old) = self.nodes.remove(i) else {
            return;
        };
        let mut packed: Vec<Listpack> = Vec::new();
        for entry in old.iter() {
            match packed.last_mut() {
                Some(node) if node_allows(node, fill, encoded_size(entry)) => node.push_back(entry),
                _ => packed.push(single_node(entry)),
            }
        }
        for (k, node) in packed.into_iter().enumerate() {
            self.nodes.insert(i + k, node);
        }
    }
}

impl<E: AsRef<[u8]>> FromIterator<E> for List {
    /// A list of the elements in order, with the default node size.
    fn from_iter<I: IntoIterator<Item = E>>(iter: I) -> List {
        let mut list = List::new();
        for entry in iter {
            list.push(ListEnd::Tail, entry.as_ref(), DEFAULT_FILL);
        }
        list
    }
}

/// A node holding just `entry`.
fn single_node(entry: &[u8]) -> Listpack {
    let mut node = Listpack::new();
    node.push_back(entry);
    node
}

/// Bytes `entry` takes in a [`Listpack`]: its LEB128 length, then its bytes.
fn encoded_size(entry: &[u8]) -> usize {
    let mut header = 1;
    let mut n = entry.len() >> 7;
    while n > 0 {
        header += 1;
        n >>= 7;
    }
    header + entry.len()
}

/// The byte limit of a node for a negative `fill`.
fn size_level(fill: i64) -> usize {
    let level = usize::try_from(fill.unsigned_abs().clamp(1, 5)).unwrap_or(5);
    SIZE_LEVELS[level - 1]
}

/// Whether `node` may take one more entry of `added` encoded bytes. An empty node takes
/// anything, so an oversized element lives alone.
fn node_allows(node: &Listpack, fill: i64, added: usize) -> bool {
    if node.is_empty() {
        return true;
    }
    let new_size = node.bytes().saturating_add(added);
    if fill < 0 {
        new_size <= size_level(fill)
    } else {
        new_size <= SIZE_SAFETY_LIMIT
            && u64::try_from(node.len()).unwrap_or(u64::MAX) < fill.unsigned_abs()
    }
}

/// Whether a node holds more than its limit allows (after a replacement grew it).
fn exceeds_limit(node: &Listpack, fill: i64) -> bool {
    if node.len() <= 1 {
        return false;
    }
    if fill < 0 {
        node.bytes() > size_level(fill)
    } else {
        node.bytes() > SIZE_SAFETY_LIMIT
            || u64::try_from(node.len()).unwrap_or(u64::MAX) > fill.unsigned_abs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(list: &List) -> Vec<String> {
        list.iter()
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect()
    }

    fn numbered(n: usize, fill: i64) -> List {
        let mut list = List::new();
        for i in 0..n {
            list.push(ListEnd::Tail, i.to_string().as_bytes(), fill);
        }
        list
    }

    #[test]
    fn count_fill_caps_entries_per_node() {
        let list = numbered(10, 3);
        assert_eq!(list.node_count(), 4);
        assert_eq!(list.len(), 10);
        assert_eq!(list.get(9), Some(&b"9"[..]));
        assert_eq!(list.get(4), Some(&b"4"[..]));
        assert_eq!(list.get(10), None);
    }

    #[test]
    fn byte_fill_caps_node_bytes() {
        let mut list = List::new();
        let value = [b'x'; 100];
        for _ in 0..100 {
            list.push(ListEnd::Head, &value, -1);
        }
        // 101 bytes per entry, 4096 per node: 40 entries each.
        assert_eq!(list.node_count(), 3);
        let huge = vec![b'y'; 10_000];
        list.push(ListEnd::Tail, &huge, -1);
        assert_eq!(list.node_count(), 4);
        assert_eq!(list.pop(ListEnd::Tail).map(|v| v.len()), Some(10_000));
        assert_eq!(list.node_count(), 3);
    }

    #[test]
    fn insert_splits_full_nodes() {
        let mut list = numbered(8, 4);
        list.insert(2, b"a", 4);
        list.insert(0, b"h", 4);
        list.insert(10, b"t", 4);
        list.insert(5, b"m", 4);
        assert_eq!(
            items(&list),
            ["h", "0", "1", "a", "2", "m", "3", "4", "5", "6", "7", "t"]
        );
        assert_eq!(list.len(), 12);
        assert!(list.nodes.iter().all(|n| n.len() <= 4 && !n.is_empty()));
    }

    #[test]
    fn pops_ranges_and_removals() {
        let mut list = numbered(10, 3);
        assert_eq!(list.pop_many(ListEnd::Tail, 4), [b"9", b"8", b"7", b"6"]);
        assert_eq!(list.pop_many(ListEnd::Head, 2), [b"0", b"1"]);
        assert_eq!(items(&list), ["2", "3", "4", "5"]);
        list.remove_range(1, 2);
        assert_eq!(items(&list), ["2", "5"]);
        let mut list: List = ["a", "b", "a", "c", "a", "a"].into_iter().collect();
        assert_eq!(list.remove_matching(b"a", 2, ListEnd::Tail), 2);
        assert_eq!(items(&list), ["a", "b", "a", "c"]);
        assert_eq!(list.remove_matching(b"a", 1, ListEnd::Head), 1);
        assert_eq!(items(&list), ["b", "a", "c"]);
        let rev: Vec<&[u8]> = list.iter_rev().collect();
        assert_eq!(rev, [&b"c"[..], b"a", b"b"]);
        assert!(list.set(2, b"z", DEFAULT_FILL));
        assert_eq!(list.iter_from(1).collect::<Vec<_>>(), [&b"a"[..], b"z"]);
    }

    #[test]
    fn replacement_that_overflows_repacks() {
        let mut list = numbered(5, -1);
        assert_eq!(list.node_count(), 1);
        assert!(list.set(2, &[b'q'; 5000], -1));
        assert_eq!(list.node_count(), 3);
        assert_eq!(list.get(2).map(<[u8]>::len), Some(5000));
        assert_eq!(list.get(3), Some(&b"3"[..]));
    }
}
