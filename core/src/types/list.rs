//! `List`: Redis's quicklist — a deque of packed nodes, so a list costs a few bytes per element
//! and pushes and pops at either end touch one node. Redis 7.0 reports every list as
//! `quicklist`.
//!
//! A node is one buffer of entries, each its length as a LEB128 varint, its bytes, then the
//! same varint byte-reversed, so the node walks both ways (a 10-byte element costs 12 bytes,
//! as in Redis's listpack) and pops at either end are O(1). The shared `types::Listpack` walks
//! forward only, which would make RPOP cost a walk of the tail node.
//!
//! Node size follows `list-max-listpack-size`, passed in by the caller at each insertion (so a
//! `CONFIG SET` applies to existing lists from then on; Redis keeps the value a list was created
//! with): a negative value caps a node's bytes (-1..-5 = 4, 8, 16, 32, 64 KiB), a positive one
//! its entry count (with an 8 KiB safety cap, as Redis has). An element too big for any node
//! gets a node of its own. `list-compress-depth` is accepted by the config but nodes are never
//! compressed. Nodes are never empty; they are split when an insertion or a replacement
//! overflows them, and not merged back after deletions.

use std::collections::VecDeque;

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

/// Elements this big or bigger get a node of their own ("plain" nodes); Redis's default, and
/// what `DEBUG QUICKLIST-PACKED-THRESHOLD` changes.
pub const DEFAULT_PACKED_THRESHOLD: usize = 1 << 30;

/// What shapes a list's nodes: `list-max-listpack-size` and the packed threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeLimits {
    /// `list-max-listpack-size`: negative caps a node's bytes, positive its entries.
    pub fill: i64,
    /// Elements of at least this many bytes are stored alone in a plain node.
    pub packed_threshold: usize,
}

impl From<i64> for NodeLimits {
    /// The limits for a fill, with the default packed threshold.
    fn from(fill: i64) -> NodeLimits {
        NodeLimits {
            fill,
            packed_threshold: DEFAULT_PACKED_THRESHOLD,
        }
    }
}

/// A list value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct List {
    nodes: VecDeque<Node>,
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
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.nodes.iter().map(Node::heap_size).sum::<usize>()
    }

    /// Number of nodes (for tests and `DEBUG`-style introspection).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The elements, head to tail.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.nodes.iter().flat_map(Node::iter)
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
        self.nodes.range(first..).flat_map(Node::iter).skip(skip)
    }

    /// The elements, tail to head.
    pub fn iter_rev(&self) -> impl Iterator<Item = &[u8]> {
        self.nodes.iter().rev().flat_map(Node::iter_rev)
    }

    /// Adds `entry` at the head; `limits` is `list-max-listpack-size` (and the packed
    /// threshold, when not the default).
    pub fn push_front(&mut self, entry: &[u8], limits: impl Into<NodeLimits>) {
        self.push(ListEnd::Head, entry, limits.into());
    }

    /// Adds `entry` at the tail; see [`List::push_front`] for `limits`.
    pub fn push_back(&mut self, entry: &[u8], limits: impl Into<NodeLimits>) {
        self.push(ListEnd::Tail, entry, limits.into());
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

    fn push(&mut self, end: ListEnd, entry: &[u8], fill: NodeLimits) {
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
                // Most lists are one node: grow the node table one slot at a time while it is
                // small instead of VecDeque's first step of four.
                if self.nodes.len() == self.nodes.capacity() && self.nodes.capacity() < 4 {
                    self.nodes.reserve_exact(1);
                }
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
        let value = match end {
            ListEnd::Head => node.pop_front()?,
            ListEnd::Tail => node.pop_back()?,
        };
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
    pub fn set(&mut self, index: usize, entry: &[u8], limits: impl Into<NodeLimits>) -> bool {
        let fill = limits.into();
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
    pub fn insert(&mut self, index: usize, entry: &[u8], limits: impl Into<NodeLimits>) {
        let fill = limits.into();
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
            let back = self.nodes[node].split_off(offset);
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
    fn repack_node(&mut self, i: usize, fill: NodeLimits) {
        let Some(old) = self.nodes.remove(i) else {
            return;
        };
        let mut packed: Vec<Node> = Vec::new();
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
            list.push(
                ListEnd::Tail,
                entry.as_ref(),
                NodeLimits::from(DEFAULT_FILL),
            );
        }
        list
    }
}

/// A node holding just `entry`.
fn single_node(entry: &[u8]) -> Node {
    let mut node = Node::default();
    node.push_back(entry);
    node
}

/// Bytes `entry` takes in a [`Node`]: its length twice, then its bytes.
fn encoded_size(entry: &[u8]) -> usize {
    2 * varint_len(entry.len()) + entry.len()
}

/// Bytes of `n` as a LEB128 varint.
fn varint_len(n: usize) -> usize {
    let mut bytes = 1;
    let mut rest = n >> 7;
    while rest > 0 {
        bytes += 1;
        rest >>= 7;
    }
    bytes
}

/// Whether `node` is a plain node: one element at or over the packed threshold.
fn is_plain(node: &Node, limits: NodeLimits) -> bool {
    node.len() == 1 && node.bytes() >= limits.packed_threshold
}

/// The byte limit of a node for a negative `fill`.
fn size_level(fill: i64) -> usize {
    let level = usize::try_from(fill.unsigned_abs().clamp(1, 5)).unwrap_or(5);
    SIZE_LEVELS[level - 1]
}

/// Whether `node` may take one more entry of `added` encoded bytes. An empty node takes
/// anything, so an oversized element lives alone.
fn node_allows(node: &Node, limits: NodeLimits, added: usize) -> bool {
    if node.is_empty() {
        return true;
    }
    // A large element lives alone in a "plain" node, as Redis's quicklist keeps it.
    if added >= limits.packed_threshold || is_plain(node, limits) {
        return false;
    }
    let fill = limits.fill;
    let new_size = node.bytes().saturating_add(added);
    if fill < 0 {
        new_size <= size_level(fill)
    } else {
        new_size <= SIZE_SAFETY_LIMIT
            && u64::try_from(node.len()).unwrap_or(u64::MAX) < fill.unsigned_abs()
    }
}

/// Whether a node holds more than its limit allows (after a replacement grew it).
fn exceeds_limit(node: &Node, limits: NodeLimits) -> bool {
    if node.len() <= 1 {
        return false;
    }
    if node
        .iter()
        .any(|e| encoded_size(e) >= limits.packed_threshold)
    {
        return true;
    }
    let fill = limits.fill;
    if fill < 0 {
        node.bytes() > size_level(fill)
    } else {
        node.bytes() > SIZE_SAFETY_LIMIT
            || u64::try_from(node.len()).unwrap_or(u64::MAX) > fill.unsigned_abs()
    }
}

/// One quicklist node: packed entries that walk both ways (see the module doc). The entries
/// are `buf[start..]`; the bytes before `start` are free room for pushes at the head, so LPUSH
/// and LPOP move no bytes most of the time (a listpack moves the whole node each time).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Node {
    buf: Vec<u8>,
    start: usize,
    len: usize,
}

impl Node {
    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes used by the entries.
    fn bytes(&self) -> usize {
        self.buf.len() - self.start
    }

    fn heap_size(&self) -> usize {
        self.buf.capacity()
    }

    fn iter(&self) -> NodeIter<'_> {
        NodeIter {
            buf: &self.buf,
            front: self.start,
            back: self.buf.len(),
        }
    }

    fn iter_rev(&self) -> std::iter::Rev<NodeIter<'_>> {
        self.iter().rev()
    }

    fn push_back(&mut self, entry: &[u8]) {
        let at = self.buf.len();
        self.insert_at_offset(at, entry);
    }

    fn push_front(&mut self, entry: &[u8]) {
        let size = 2 * varint_len(entry.len()) + entry.len();
        if self.start < size {
            self.regap_front(size);
        }
        self.start -= size;
        write_entry(&mut self.buf[self.start..self.start + size], entry);
        self.len += 1;
    }

    /// Inserts `entry` so that it becomes entry number `index` (`index <= len`).
    fn insert(&mut self, index: usize, entry: &[u8]) {
        if index == 0 {
            return self.push_front(entry);
        }
        let at = self.offset_of(index);
        self.insert_at_offset(at, entry);
    }

    fn get(&self, index: usize) -> Option<&[u8]> {
        if index >= self.len {
            return None;
        }
        let at = self.offset_of(index);
        read_forward(&self.buf, at).map(|(entry, _)| entry)
    }

    fn pop_front(&mut self) -> Option<Vec<u8>> {
        let (entry, end) = read_forward(&self.buf, self.start)?;
        let value = entry.to_vec();
        self.start = end;
        self.len -= 1;
        self.after_removal();
        Some(value)
    }

    fn pop_back(&mut self) -> Option<Vec<u8>> {
        let (entry, start) = read_backward(&self.buf, self.buf.len())?;
        let value = entry.to_vec();
        self.buf.truncate(start);
        self.len -= 1;
        self.after_removal();
        Some(value)
    }

    /// Removes `count` entries from entry number `index` (clamped to the end).
    fn remove_range(&mut self, index: usize, count: usize) {
        if index >= self.len || count == 0 {
            return;
        }
        let count = count.min(self.len - index);
        let from = self.offset_of(index);
        let to = self.offset_of(index + count);
        if index == 0 {
            self.start = to;
        } else {
            self.buf.drain(from..to);
        }
        self.len -= count;
        self.after_removal();
    }

    /// Replaces entry number `index`; false when out of range.
    fn replace(&mut self, index: usize, entry: &[u8]) -> bool {
        if index >= self.len {
            return false;
        }
        let from = self.offset_of(index);
        let to = self.offset_of(index + 1);
        self.buf.drain(from..to);
        self.len -= 1;
        self.insert_at_offset(from, entry);
        true
    }

    /// Moves entries `index..` into a new node.
    fn split_off(&mut self, index: usize) -> Node {
        let index = index.min(self.len);
        let at = self.offset_of(index);
        let back = Node {
            buf: self.buf.split_off(at),
            start: 0,
            len: self.len - index,
        };
        self.len = index;
        self.compact();
        self.buf.shrink_to_fit();
        back
    }

    /// Keeps only the entries for which `keep` returns true.
    fn retain(&mut self, mut keep: impl FnMut(&[u8]) -> bool) {
        let mut kept = Node::default();
        for entry in self.iter() {
            if keep(entry) {
                kept.push_back(entry);
            }
        }
        *self = kept;
    }

    /// The byte offset in `buf` of entry number `index` (the end for `index == len`), walking
    /// from the nearer end.
    fn offset_of(&self, index: usize) -> usize {
        if index >= self.len {
            return self.buf.len();
        }
        if index <= self.len / 2 {
            let mut at = self.start;
            for _ in 0..index {
                match read_forward(&self.buf, at) {
                    Some((_, next)) => at = next,
                    None => return self.buf.len(),
                }
            }
            at
        } else {
            let mut at = self.buf.len();
            for _ in index..self.len {
                match read_backward(&self.buf, at) {
                    Some((_, start)) => at = start,
                    None => return self.start,
                }
            }
            at
        }
    }

    fn insert_at_offset(&mut self, at: usize, entry: &[u8]) {
        let size = 2 * varint_len(entry.len()) + entry.len();
        let old_end = self.buf.len();
        if old_end + size > self.buf.capacity() && self.start > 0 {
            // Use the room at the head before asking for more.
            let shift = self.start;
            self.compact();
            return self.insert_at_offset(at - shift, entry);
        }
        self.reserve_for(old_end + size);
        self.buf.resize(old_end + size, 0);
        self.buf.copy_within(at..old_end, at + size);
        write_entry(&mut self.buf[at..at + size], entry);
        self.len += 1;
    }

    /// Re-lays the entries at the end of a new buffer with room for `size` more bytes before
    /// them (a push at the head that found no room left).
    fn regap_front(&mut self, size: usize) {
        let live = self.bytes();
        let target = grown_capacity(live, live + size);
        let mut buf = vec![0u8; target];
        let gap = target - live;
        buf[gap..].copy_from_slice(&self.buf[self.start..]);
        self.buf = buf;
        self.start = gap;
    }

    /// Grows the buffer to hold `needed` bytes (see [`grown_capacity`]).
    fn reserve_for(&mut self, needed: usize) {
        if needed > self.buf.capacity() {
            let target = grown_capacity(self.bytes(), needed);
            self.buf.reserve_exact(target - self.buf.len());
        }
    }

    /// Moves the entries to the start of the buffer.
    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }

    /// Gives memory back once most of the buffer is unused, as a listpack reallocs on delete.
    fn after_removal(&mut self) {
        if self.len == 0 {
            self.buf = Vec::new();
            self.start = 0;
        } else if self.buf.capacity() > 64 && self.bytes() < self.buf.capacity() / 4 {
            self.compact();
            self.buf.shrink_to(self.buf.len() * 2);
        }
    }
}

/// The capacity for a node of `live` bytes that needs `needed`: power-of-two steps, so a node
/// filled to its byte limit fills its allocation exactly; a lone element gets an exact buffer,
/// and past the largest node size growth is by an eighth.
fn grown_capacity(live: usize, needed: usize) -> usize {
    if live == 0 {
        needed
    } else if needed <= SIZE_LEVELS[SIZE_LEVELS.len() - 1] {
        needed.next_power_of_two()
    } else {
        needed.saturating_add(needed / 8)
    }
}

/// Writes `entry` (length, bytes, reversed length) into `slot`, which is exactly its size.
fn write_entry(slot: &mut [u8], entry: &[u8]) {
    let mut header = [0u8; 10];
    let used = write_varint(&mut header, entry.len());
    let size = slot.len();
    slot[..used].copy_from_slice(&header[..used]);
    slot[used..used + entry.len()].copy_from_slice(entry);
    for (i, byte) in header[..used].iter().enumerate() {
        slot[size - 1 - i] = *byte;
    }
}

/// Entries of a [`Node`], from both ends.
struct NodeIter<'a> {
    buf: &'a [u8],
    front: usize,
    back: usize,
}

impl<'a> Iterator for NodeIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.front >= self.back {
            return None;
        }
        let (entry, next) = read_forward(self.buf, self.front)?;
        self.front = next;
        Some(entry)
    }
}

impl DoubleEndedIterator for NodeIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        let (entry, start) = read_backward(self.buf, self.back)?;
        self.back = start;
        Some(entry)
    }
}

/// Writes `n` as a LEB128 varint (low seven bits first, high bit = more follow); returns the
/// byte count.
fn write_varint(out: &mut [u8; 10], mut n: usize) -> usize {
    let mut i = 0;
    loop {
        let low = u8::try_from(n & 0x7f).expect("seven bits fit in a byte");
        n >>= 7;
        if n == 0 {
            out[i] = low;
            return i + 1;
        }
        out[i] = low | 0x80;
        i += 1;
    }
}

/// The entry starting at `at` and the offset after it.
fn read_forward(buf: &[u8], mut at: usize) -> Option<(&[u8], usize)> {
    let mut len = 0usize;
    let mut shift = 0;
    let mut used = 0;
    loop {
        let byte = *buf.get(at)?;
        at += 1;
        used += 1;
        len |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let end = at.checked_add(len)?;
    Some((buf.get(at..end)?, end + used))
}

/// The entry ending at `end` and the offset where it starts.
fn read_backward(buf: &[u8], mut end: usize) -> Option<(&[u8], usize)> {
    let mut len = 0usize;
    let mut shift = 0;
    let mut used = 0;
    loop {
        end = end.checked_sub(1)?;
        let byte = *buf.get(end)?;
        used += 1;
        len |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let data_start = end.checked_sub(len)?;
    Some((buf.get(data_start..end)?, data_start.checked_sub(used)?))
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
            list.push(
                ListEnd::Tail,
                i.to_string().as_bytes(),
                NodeLimits::from(fill),
            );
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
            list.push(ListEnd::Head, &value, NodeLimits::from(-1));
        }
        // 102 bytes per entry, 4096 per node: 40 entries each.
        assert_eq!(list.node_count(), 3);
        let huge = vec![b'y'; 10_000];
        list.push(ListEnd::Tail, &huge, NodeLimits::from(-1));
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
        let mut node = Node::default();
        let long = vec![b'l'; 300];
        node.push_back(b"b");
        node.push_front(&long);
        node.push_back(b"");
        node.insert(2, b"c");
        assert_eq!(
            node.iter().rev().collect::<Vec<_>>(),
            [&b""[..], b"c", b"b", &long[..]]
        );
        assert_eq!(node.bytes(), (300 + 4) + 3 + 3 + 2);
        assert_eq!(node.get(3), Some(&b""[..]));
        assert_eq!(node.pop_back(), Some(Vec::new()));
        assert_eq!(node.pop_front(), Some(long.clone()));
        assert_eq!(node.iter().collect::<Vec<_>>(), [&b"b"[..], b"c"]);
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

    #[test]
    fn random_operations_match_a_vec_model() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            usize::try_from(seed % u64::try_from(n).unwrap()).unwrap()
        };
        for fill in [1, 3, 5, -1] {
            let mut list = List::new();
            let mut model: Vec<Vec<u8>> = Vec::new();
            for step in 0..3000 {
                let value = vec![b'a' + u8::try_from(next(26)).unwrap(); next(300)];
                match next(9) {
                    0 => {
                        list.push_front(&value, fill);
                        model.insert(0, value);
                    }
                    1 => {
                        list.push_back(&value, fill);
                        model.push(value);
                    }
                    2 => assert_eq!(
                        list.pop_front(),
                        (!model.is_empty()).then(|| model.remove(0))
                    ),
                    3 => assert_eq!(list.pop_back(), model.pop()),
                    4 => {
                        let at = next(model.len() + 1);
                        list.insert(at, &value, fill);
                        model.insert(at, value);
                    }
                    5 if !model.is_empty() => {
                        let at = next(model.len());
                        assert!(list.set(at, &value, fill));
                        model[at] = value;
                    }
                    6 if !model.is_empty() => {
                        let at = next(model.len());
                        let count = next(5);
                        list.remove_range(at, count);
                        model.drain(at..(at + count).min(model.len()));
                    }
                    7 => {
                        let n = next(4);
                        let popped = list.pop_back_many(n);
                        let keep = model.len().saturating_sub(n);
                        let mut expected = model.split_off(keep);
                        expected.reverse();
                        assert_eq!(popped, expected);
                    }
                    _ => {
                        let target = vec![b'a' + u8::try_from(next(26)).unwrap(); next(300)];
                        let limit = next(3);
                        let removed = list.remove_last_matches(&target, limit);
                        let mut left = if limit == 0 { usize::MAX } else { limit };
                        let mut count = 0;
                        for i in (0..model.len()).rev() {
                            if left > 0 && model[i] == target {
                                model.remove(i);
                                left -= 1;
                                count += 1;
                            }
                        }
                        assert_eq!(removed, count);
                    }
                }
                assert_eq!(list.len(), model.len(), "fill {fill} step {step}");
                assert!(list.nodes.iter().all(|n| !n.is_empty()));
                if step % 50 == 0 {
                    let all: Vec<Vec<u8>> = list.iter().map(<[u8]>::to_vec).collect();
                    assert_eq!(all, model);
                    let rev: Vec<Vec<u8>> = list.iter_rev().map(<[u8]>::to_vec).collect();
                    assert_eq!(rev, model.iter().rev().cloned().collect::<Vec<_>>());
                    for (i, v) in model.iter().enumerate().step_by(7) {
                        assert_eq!(list.get(i), Some(&v[..]));
                    }
                }
            }
        }
    }
}
