//! `Stream`: an append-only log of entries with ids, plus consumer groups — Redis 7.0's stream
//! type, with the same bookkeeping (`last_id`, `first_id`, `max_deleted_entry_id`,
//! `entries_added`, groups with PELs) so it can be written to and read from RDB unchanged.
//!
//! Entries live in packed nodes (see `node`), keyed in a `BTreeMap` by each node's base id, the
//! shape of Redis's radix tree of listpacks: one allocation per ~100 entries, ids delta-encoded
//! against the node's base id and field names shared with the node's master entry. XDEL and
//! exact trimming only mark entries deleted inside a node, as Redis does; a node whose entries
//! are all deleted is dropped.
//!
//! # Public API in short
//! - building: [`Stream::new`], [`Stream::append`] (with [`StreamNodeLimits`]),
//!   [`Stream::set_metadata`], [`Stream::groups_mut`] with [`ConsumerGroup::create_consumer`]
//!   and [`ConsumerGroup::assign`] to rebuild groups and PELs;
//! - reading: [`Stream::range`], [`Stream::range_rev`], [`Stream::entries`],
//!   [`Stream::get`], [`Stream::groups`], the id getters.

mod group;
mod node;

use std::collections::BTreeMap;
use std::fmt;

use bytes::Bytes;

pub use group::{Consumer, ConsumerGroup, PendingEntry};
use node::{Node, RawEntry};

/// A stream entry id: milliseconds and a sequence number, ordered as a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    /// The milliseconds part.
    pub ms: u64,
    /// The sequence part.
    pub seq: u64,
}

impl StreamId {
    /// `0-0`.
    pub const MIN: StreamId = StreamId::new(0, 0);
    /// The largest id there is.
    pub const MAX: StreamId = StreamId::new(u64::MAX, u64::MAX);

    /// The id `ms-seq`.
    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The next id, `None` after [`StreamId::MAX`].
    pub fn next(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            None
        }
    }

    /// The previous id, `None` before `0-0`.
    pub fn prev(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }

    /// Whether this is `0-0`.
    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// How big a node may grow before a new one is started (`stream-node-max-bytes`,
/// `stream-node-max-entries`; 0 means no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamNodeLimits {
    /// Maximum bytes of a node.
    pub max_bytes: u64,
    /// Maximum entries of a node, deleted ones included.
    pub max_entries: u64,
}

/// How XADD and XTRIM trim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrimStrategy {
    /// Keep at most this many entries.
    MaxLen(u64),
    /// Keep no entry below this id.
    MinId(StreamId),
}

/// One trimming request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trim {
    /// What to keep.
    pub strategy: TrimStrategy,
    /// `~`: remove whole nodes only.
    pub approx: bool,
    /// The most entries to remove (0: no limit).
    pub limit: u64,
}

/// Redis allows one node (listpack) up to 1 GB; so do we.
const MAX_NODE_BYTES: u64 = 1 << 30;

/// A stream.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stream {
    nodes: BTreeMap<StreamId, Node>,
    length: u64,
    last_id: StreamId,
    first_id: StreamId,
    max_deleted_entry_id: StreamId,
    entries_added: u64,
    groups: BTreeMap<Bytes, ConsumerGroup>,
}

/// One entry, borrowed from its node.
#[derive(Clone, Copy)]
pub struct StreamEntry<'a> {
    node: &'a Node,
    raw: RawEntry,
}

impl<'a> StreamEntry<'a> {
    /// The entry's id.
    pub fn id(&self) -> StreamId {
        self.raw.id
    }

    /// The number of field-value pairs.
    pub fn field_count(&self) -> usize {
        self.node.field_count(&self.raw)
    }

    /// The field-value pairs, in the order they were added.
    pub fn fields(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        self.node.fields(&self.raw)
    }
}

impl fmt::Debug for StreamEntry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamEntry")
            .field("id", &self.raw.id)
            .finish_non_exhaustive()
    }
}

impl Stream {
    /// An empty stream.
    pub fn new() -> Stream {
        Stream::default()
    }

    /// Number of entries (XLEN).
    pub fn len(&self) -> u64 {
        self.length
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// The last id ever added (or set with XSETID).
    pub fn last_id(&self) -> StreamId {
        self.last_id
    }

    /// The first live entry's id (`0-0` when empty).
    pub fn first_id(&self) -> StreamId {
        self.first_id
    }

    /// The greatest id ever deleted.
    pub fn max_deleted_entry_id(&self) -> StreamId {
        self.max_deleted_entry_id
    }

    /// How many entries were ever added.
    pub fn entries_added(&self) -> u64 {
        self.entries_added
    }

    /// Number of packed nodes (XINFO STREAM's `radix-tree-nodes`/`keys`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Sets the four ids and counters at once (XSETID and RDB loading).
    pub fn set_metadata(
        &mut self,
        last_id: StreamId,
        max_deleted_entry_id: StreamId,
        entries_added: u64,
    ) {
        self.last_id = last_id;
        self.max_deleted_entry_id = max_deleted_entry_id;
        self.entries_added = entries_added;
    }

    /// Appends entry `id` with `fields`. The caller checked that `id` is above
    /// [`Stream::last_id`]; the length, `last_id`, `first_id` and `entries_added` follow.
    pub fn append(&mut self, id: StreamId, fields: &[(&[u8], &[u8])], limits: StreamNodeLimits) {
        let total: u64 = fields.iter().map(|(f, v)| (f.len() + v.len()) as u64).sum();
        let max_bytes = match limits.max_bytes {
            0 => MAX_NODE_BYTES,
            n => n.min(MAX_NODE_BYTES),
        };
        let tail_full = self.nodes.last_key_value().is_none_or(|(_, node)| {
            (node.bytes() as u64).saturating_add(total) >= max_bytes
                || (limits.max_entries != 0 && node.count() >= limits.max_entries)
        });
        if tail_full {
            if let Some((_, node)) = self.nodes.iter_mut().next_back() {
                node.shrink();
            }
            self.nodes.insert(id, Node::new(fields));
        }
        if let Some((base, node)) = self.nodes.iter_mut().next_back() {
            node.append(*base, id, fields);
        }
        if self.length == 0 {
            self.first_id = id;
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
    }

    /// The entries with ids in `start..=end`, in order.
    pub fn range(&self, start: StreamId, end: StreamId) -> Range<'_> {
        let floor = self
            .nodes
            .range(..=start)
            .next_back()
            .map_or(start, |(k, _)| *k);
        Range {
            nodes: if start <= end {
                Some(self.nodes.range(floor..=end))
            } else {
                None
            },
            current: None,
            start,
            end,
        }
    }

    /// The entries with ids in `start..=end`, last first.
    pub fn range_rev(&self, start: StreamId, end: StreamId) -> RangeRev<'_> {
        RangeRev {
            nodes: if start <= end {
                Some(self.nodes.range(..=end))
            } else {
                None
            },
            current: None,
            pending: Vec::new(),
            start,
            end,
            done: false,
        }
    }

    /// Every entry, in order.
    pub fn entries(&self) -> Range<'_> {
        self.range(StreamId::MIN, StreamId::MAX)
    }

    /// The entry with id `id`.
    pub fn get(&self, id: StreamId) -> Option<StreamEntry<'_>> {
        self.range(id, id).next()
    }

    /// The first or last entry; tombstones are considered when `skip_tombstones` is false
    /// (Redis's `streamGetEdgeID`). `None` when there is none.
    pub fn edge_id(&self, first: bool, skip_tombstones: bool) -> Option<StreamId> {
        if first {
            self.nodes.iter().find_map(|(base, node)| {
                node.raw_entries(*base)
                    .find(|e| !skip_tombstones || !e.deleted)
                    .map(|e| e.id)
            })
        } else {
            self.nodes.iter().rev().find_map(|(base, node)| {
                node.raw_entries(*base)
                    .filter(|e| !skip_tombstones || !e.deleted)
                    .last()
                    .map(|e| e.id)
            })
        }
    }

    /// The last live entry's id (Redis's `streamLastValidID`).
    pub fn last_valid_id(&self) -> Option<StreamId> {
        self.edge_id(false, true)
    }

    /// Deletes entry `id`, as XDEL does (length, first id and max deleted id follow); whether
    /// it existed.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&base, node)) = self.nodes.range_mut(..=id).next_back() else {
            return false;
        };
        let Some(at) = node
            .raw_entries(base)
            .find(|e| e.id >= id)
            .filter(|e| e.id == id && !e.deleted)
            .map(|e| e.at)
        else {
            return false;
        };
        node.mark_deleted(at);
        if node.live == 0 {
            self.nodes.remove(&base);
        }
        self.length -= 1;
        if id > self.max_deleted_entry_id {
            self.max_deleted_entry_id = id;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if id == self.first_id {
            self.first_id = self.edge_id(true, true).unwrap_or(StreamId::MAX);
        }
        true
    }

    /// Trims as XADD and XTRIM do (Redis's `streamTrim`); how many entries were removed.
    pub fn trim(&mut self, trim: Trim) -> u64 {
        let mut deleted = 0u64;
        while let Some((&base, node)) = self.nodes.first_key_value() {
            if let TrimStrategy::MaxLen(max) = trim.strategy
                && self.length <= max
            {
                break;
            }
            let entries = u64::from(node.live);
            if trim.limit != 0 && deleted + entries > trim.limit {
                break;
            }
            let remove_node = match trim.strategy {
                TrimStrategy::MaxLen(max) => self.length - entries >= max,
                TrimStrategy::MinId(min) => node
                    .raw_entries(base)
                    .last()
                    .is_some_and(|last| last.id < min),
            };
            if remove_node {
                self.nodes.remove(&base);
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if trim.approx {
                break;
            }
            // Mark entries deleted inside this node, then stop: it had enough to remove.
            let Some(node) = self.nodes.get_mut(&base) else {
                break;
            };
            let candidates: Vec<RawEntry> = node.raw_entries(base).collect();
            for entry in candidates {
                let stop = match trim.strategy {
                    TrimStrategy::MaxLen(max) => self.length <= max,
                    TrimStrategy::MinId(min) => entry.id >= min,
                };
                if stop {
                    break;
                }
                if !entry.deleted && node.mark_deleted(entry.at) {
                    self.length -= 1;
                    deleted += 1;
                }
            }
            if node.live == 0 {
                self.nodes.remove(&base);
            }
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.edge_id(true, true).unwrap_or(StreamId::MAX);
        }
        deleted
    }

    /// Whether `start..=end` may hold a tombstone (Redis's `streamRangeHasTombstones`).
    pub fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.length == 0 || self.max_deleted_entry_id.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted_entry_id {
            return false;
        }
        start <= self.max_deleted_entry_id && self.max_deleted_entry_id <= end
    }

    /// How many entries precede `id` since the first ever added, when that is knowable (Redis's
    /// `streamEstimateDistanceFromFirstEverEntry`).
    pub fn estimate_distance_from_first_ever_entry(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.length == 0 && id <= self.last_id {
            return Some(self.entries_added);
        }
        match id.cmp(&self.last_id) {
            std::cmp::Ordering::Equal => return Some(self.entries_added),
            std::cmp::Ordering::Greater => return None,
            std::cmp::Ordering::Less => {}
        }
        if self.max_deleted_entry_id.is_zero() || self.max_deleted_entry_id < self.first_id {
            match id.cmp(&self.first_id) {
                std::cmp::Ordering::Less => return Some(self.entries_added - self.length),
                std::cmp::Ordering::Equal => {
                    return Some(self.entries_added - self.length + 1);
                }
                std::cmp::Ordering::Greater => {}
            }
        }
        None
    }

    /// A group's lag: entries not yet delivered to it, when knowable (XINFO's `lag`).
    pub fn group_lag(&self, group: &ConsumerGroup) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if let Some(read) = group.entries_read
            && !self.range_has_tombstones(group.last_id, StreamId::MAX)
        {
            return Some(self.entries_added.saturating_sub(read));
        }
        self.estimate_distance_from_first_ever_entry(group.last_id)
            .map(|read| self.entries_added.saturating_sub(read))
    }

    /// The consumer groups, by name.
    pub fn groups(&self) -> &BTreeMap<Bytes, ConsumerGroup> {
        &self.groups
    }

    /// The consumer groups, for changing (creating, destroying, rebuilding from RDB).
    pub fn groups_mut(&mut self) -> &mut BTreeMap<Bytes, ConsumerGroup> {
        &mut self.groups
    }

    /// One group.
    pub fn group(&self, name: &[u8]) -> Option<&ConsumerGroup> {
        self.groups.get(name)
    }

    /// One group, for changing.
    pub fn group_mut(&mut self, name: &[u8]) -> Option<&mut ConsumerGroup> {
        self.groups.get_mut(name)
    }

    /// Heap bytes owned (MEMORY USAGE).
    pub fn heap_size(&self) -> usize {
        // A B-tree slot per node and per group, plus what each owns.
        let nodes: usize = self
            .nodes
            .values()
            .map(|n| n.heap_size() + std::mem::size_of::<(StreamId, Node)>())
            .sum();
        let groups: usize = self
            .groups
            .iter()
            .map(|(name, g)| {
                name.len()
                    + 64
                    + g.pel().len() * 80
                    + g.consumers().keys().map(|c| c.len() + 64).sum::<usize>()
            })
            .sum();
        nodes + groups
    }
}

/// Forward iterator over a range of entries.
pub struct Range<'a> {
    nodes: Option<std::collections::btree_map::Range<'a, StreamId, Node>>,
    current: Option<(StreamId, &'a Node, usize)>,
    start: StreamId,
    end: StreamId,
}

impl<'a> Iterator for Range<'a> {
    type Item = StreamEntry<'a>;

    fn next(&mut self) -> Option<StreamEntry<'a>> {
        loop {
            if let Some((base, node, at)) = &mut self.current {
                match node.entry_at(*base, *at) {
                    Some(raw) => {
                        *at = raw.end;
                        if raw.id > self.end {
                            self.nodes = None;
                            self.current = None;
                            return None;
                        }
                        if raw.deleted || raw.id < self.start {
                            continue;
                        }
                        return Some(StreamEntry { node, raw });
                    }
                    None => self.current = None,
                }
            }
            let (base, node) = self.nodes.as_mut()?.next()?;
            self.current = Some((*base, node, node.first_offset()));
        }
    }
}

/// Reverse iterator over a range of entries.
pub struct RangeRev<'a> {
    nodes: Option<std::collections::btree_map::Range<'a, StreamId, Node>>,
    current: Option<&'a Node>,
    pending: Vec<RawEntry>,
    start: StreamId,
    end: StreamId,
    done: bool,
}

impl<'a> Iterator for RangeRev<'a> {
    type Item = StreamEntry<'a>;

    fn next(&mut self) -> Option<StreamEntry<'a>> {
        if self.done {
            return None;
        }
        loop {
            if let Some(node) = self.current {
                while let Some(raw) = self.pending.pop() {
                    if raw.id < self.start {
                        self.done = true;
                        return None;
                    }
                    if raw.deleted || raw.id > self.end {
                        continue;
                    }
                    return Some(StreamEntry { node, raw });
                }
            }
            let (base, node) = self.nodes.as_mut()?.next_back()?;
            self.pending.clear();
            self.pending.extend(node.raw_entries(*base));
            self.current = Some(node);
        }
    }
}

#[cfg(test)]
mod tests;
