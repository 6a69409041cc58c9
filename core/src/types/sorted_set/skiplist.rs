//! `SkipList`: the large encoding of a sorted set. A skiplist with spans (rank in O(log n)) whose
//! nodes live in a `Vec` arena addressed by `u32` ids, plus a member → node index
//! (a `hashbrown::HashTable` of ids, so members are stored once).
//!
//! Order is (score, member bytes), as Redis orders a zset. Freed slots are reused, so a node
//! keeps its id for as long as it lives: ZSCAN uses the slot as its cursor.

use crate::types::CompactBytes;
use hashbrown::HashTable;
use std::hash::BuildHasher;

const NIL: u32 = u32::MAX;
const MAX_LEVEL: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Level {
    forward: u32,
    /// Number of level-0 steps this link jumps.
    span: u32,
}

#[derive(Debug, Clone)]
struct Node {
    /// Inline up to 22 bytes, so comparing members during a search follows no pointer.
    member: CompactBytes,
    score: f64,
    backward: u32,
    /// Empty for a free slot.
    levels: Levels,
}

/// A node's links, inline up to three (a node has one level with probability 3/4 and at most
/// three with probability 63/64), on the heap beyond: a search step then reads one node, not a
/// node and a separate links allocation.
#[derive(Debug, Clone)]
enum Levels {
    Inline { len: u8, links: [Level; 3] },
    Heap(Box<[Level]>),
}

impl Levels {
    const NO_LINK: Level = Level {
        forward: NIL,
        span: 0,
    };

    /// `count` empty links.
    fn new(count: usize) -> Levels {
        match u8::try_from(count) {
            Ok(len) if count <= 3 => Levels::Inline {
                len,
                links: [Levels::NO_LINK; 3],
            },
            _ => Levels::Heap(vec![Levels::NO_LINK; count].into_boxed_slice()),
        }
    }
}

impl std::ops::Deref for Levels {
    type Target = [Level];
    fn deref(&self) -> &[Level] {
        match self {
            Levels::Inline { len, links } => &links[..usize::from(*len)],
            Levels::Heap(links) => links,
        }
    }
}

impl std::ops::DerefMut for Levels {
    fn deref_mut(&mut self) -> &mut [Level] {
        match self {
            Levels::Inline { len, links } => &mut links[..usize::from(*len)],
            Levels::Heap(links) => links,
        }
    }
}

/// A skiplist with a member index.
#[derive(Debug, Clone)]
pub struct SkipList {
    nodes: Vec<Node>,
    free: Vec<u32>,
    head: [Level; MAX_LEVEL],
    level: usize,
    tail: u32,
    len: usize,
    index: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
    rng: u64,
}

impl PartialEq for SkipList {
    fn eq(&self, other: &SkipList) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

/// Whether (s1, m1) sorts before (s2, m2).
fn before(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> bool {
    s1 < s2 || (s1 == s2 && m1 < m2)
}

impl SkipList {
    /// An empty skiplist.
    pub(crate) fn new() -> SkipList {
        SkipList {
            nodes: Vec::new(),
            free: Vec::new(),
            head: [Level {
                forward: NIL,
                span: 0,
            }; MAX_LEVEL],
            level: 1,
            tail: NIL,
            len: 0,
            index: HashTable::new(),
            hasher: foldhash::fast::RandomState::default(),
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Number of arena slots (ZSCAN's cursor range).
    pub(crate) fn slots(&self) -> usize {
        self.nodes.len()
    }

    /// The member and score in arena slot `slot`, if it is in use.
    pub(crate) fn slot(&self, slot: usize) -> Option<(&[u8], f64)> {
        let node = self.nodes.get(slot)?;
        (!node.levels.is_empty()).then_some((&*node.member, node.score))
    }

    pub(crate) fn heap_size(&self) -> usize {
        let nodes: usize = self
            .nodes
            .iter()
            .map(|n| n.member.heap_size() + n.levels.len() * std::mem::size_of::<Level>())
            .sum();
        nodes
            + self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.free.capacity() * 4
            + self.index.capacity() * 5
    }

    fn random_level(&mut self) -> usize {
        let mut level = 1;
        loop {
            // xorshift64*: cheap and good enough for level choice.
            self.rng ^= self.rng >> 12;
            self.rng ^= self.rng << 25;
            self.rng ^= self.rng >> 27;
            let r = self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D);
            // Each further level with probability 1/4, as Redis's ZSKIPLIST_P.
            if level < MAX_LEVEL && (r >> 62) == 0 {
                level += 1;
                self.rng = r;
            } else {
                return level;
            }
        }
    }

    fn hash(&self, member: &[u8]) -> u64 {
        self.hasher.hash_one(member)
    }

    fn find_id(&self, member: &[u8]) -> Option<u32> {
        let hash = self.hash(member);
        self.index
            .find(hash, |&id| &*self.nodes[id as usize].member == member)
            .copied()
    }

    /// The score of `member`.
    pub(crate) fn score(&self, member: &[u8]) -> Option<f64> {
        self.find_id(member).map(|id| self.nodes[id as usize].score)
    }

    fn link(&self, from: u32, level: usize) -> Level {
        if from == NIL {
            self.head[level]
        } else {
            self.nodes[from as usize].levels[level]
        }
    }

    fn link_mut(&mut self, from: u32, level: usize) -> &mut Level {
        if from == NIL {
            &mut self.head[level]
        } else {
            &mut self.nodes[from as usize].levels[level]
        }
    }

    /// Inserts `member`, which must be absent.
    pub(crate) fn insert(&mut self, member: &[u8], score: f64) {
        let level = self.random_level();
        let node = Node {
            member: CompactBytes::new(member),
            score,
            backward: NIL,
            levels: Levels::new(level),
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.nodes[id as usize] = node;
                id
            }
            None => {
                self.nodes.push(node);
                u32::try_from(self.nodes.len() - 1).expect("fewer than 2^32 members")
            }
        };
        self.attach(id);
        let hash = self.hash(member);
        let nodes = &self.nodes;
        let hasher = &self.hasher;
        self.index
            .insert_unique(hash, id, |&id| hasher.hash_one(&*nodes[id as usize].member));
    }

    /// Links node `id` (allocated, with its levels sized, not yet linked) at its place by
    /// score and member.
    fn attach(&mut self, id: u32) {
        let mut update = [NIL; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        let mut x = NIL;
        let (score, level) = {
            let node = &self.nodes[id as usize];
            (node.score, node.levels.len())
        };
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let next = self.link(x, i);
                if next.forward == NIL {
                    break;
                }
                let n = &self.nodes[next.forward as usize];
                if !before(n.score, &n.member, score, &self.nodes[id as usize].member) {
                    break;
                }
                rank[i] += next.span;
                x = next.forward;
            }
            update[i] = x;
        }
        let len = u32::try_from(self.len).unwrap_or(u32::MAX);
        if level > self.level {
            for i in self.level..level {
                rank[i] = 0;
                update[i] = NIL;
                self.head[i].span = len;
            }
            self.level = level;
        }
        for i in 0..level {
            let prev = self.link(update[i], i);
            let steps = rank[0] - rank[i];
            self.nodes[id as usize].levels[i] = Level {
                forward: prev.forward,
                span: prev.span - steps,
            };
            *self.link_mut(update[i], i) = Level {
                forward: id,
                span: steps + 1,
            };
        }
        for (i, &from) in update.iter().enumerate().take(self.level).skip(level) {
            self.link_mut(from, i).span += 1;
        }
        self.nodes[id as usize].backward = update[0];
        let next = self.nodes[id as usize].levels[0].forward;
        if next == NIL {
            self.tail = id;
        } else {
            self.nodes[next as usize].backward = id;
        }
        self.len += 1;
    }

    /// Removes `member`; its score if it was there.
    pub(crate) fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let hash = self.hash(member);
        let nodes = &self.nodes;
        let entry = self
            .index
            .find_entry(hash, |&id| &*nodes[id as usize].member == member)
            .ok()?;
        let (id, _) = entry.remove();
        let score = self.nodes[id as usize].score;
        self.unlink(id);
        Some(score)
    }

    /// Changes the score of `member` (present): in place when the order is unchanged, as
    /// Redis's `zslUpdateScore` does, else by removing and reinserting it.
    pub(crate) fn update(&mut self, member: &[u8], score: f64) {
        let Some(id) = self.find_id(member) else {
            return;
        };
        let node = &self.nodes[id as usize];
        let back = node.backward;
        let next = node.levels[0].forward;
        let after_back = back == NIL || {
            let b = &self.nodes[back as usize];
            before(b.score, &b.member, score, member)
        };
        let before_next = next == NIL || {
            let n = &self.nodes[next as usize];
            before(score, member, n.score, &n.member)
        };
        if after_back && before_next {
            self.nodes[id as usize].score = score;
        } else {
            // Move the node itself: its id, member and index entry stay as they are.
            self.detach(id);
            self.nodes[id as usize].score = score;
            self.attach(id);
        }
    }

    /// Unlinks node `id` from the list and frees its slot (the index is the caller's).
    fn unlink(&mut self, id: u32) {
        self.detach(id);
        let node = &mut self.nodes[id as usize];
        node.member = CompactBytes::new(b"");
        node.levels = Levels::new(0);
        self.free.push(id);
    }

    /// Takes node `id` out of the list's links, keeping its slot, member and levels.
    fn detach(&mut self, id: u32) {
        // Borrow the member out while searching, so the comparisons need no copy.
        let member = std::mem::replace(&mut self.nodes[id as usize].member, CompactBytes::new(b""));
        let score = self.nodes[id as usize].score;
        let mut update = [NIL; MAX_LEVEL];
        let mut x = NIL;
        for i in (0..self.level).rev() {
            loop {
                let next = self.link(x, i).forward;
                if next == NIL || next == id {
                    break;
                }
                let n = &self.nodes[next as usize];
                if !before(n.score, &n.member, score, &member) {
                    break;
                }
                x = next;
            }
            update[i] = x;
        }
        for (i, &from) in update.iter().enumerate().take(self.level) {
            let prev = self.link(from, i);
            if prev.forward == id {
                let own = self.nodes[id as usize].levels[i];
                *self.link_mut(from, i) = Level {
                    forward: own.forward,
                    span: prev.span + own.span - 1,
                };
            } else {
                self.link_mut(from, i).span = prev.span.saturating_sub(1);
            }
        }
        let next = self.nodes[id as usize].levels[0].forward;
        let back = self.nodes[id as usize].backward;
        if next == NIL {
            self.tail = back;
        } else {
            self.nodes[next as usize].backward = back;
        }
        while self.level > 1 && self.head[self.level - 1].forward == NIL {
            self.level -= 1;
        }
        self.len -= 1;
        self.nodes[id as usize].member = member;
    }

    /// How many leading elements (in order) satisfy `pred`, which must hold for a prefix.
    pub(crate) fn count_prefix(&self, mut pred: impl FnMut(f64, &[u8]) -> bool) -> usize {
        let mut rank = 0usize;
        let mut x = NIL;
        for i in (0..self.level).rev() {
            loop {
                let next = self.link(x, i);
                if next.forward == NIL {
                    break;
                }
                let n = &self.nodes[next.forward as usize];
                if !pred(n.score, &n.member) {
                    break;
                }
                rank += next.span as usize;
                x = next.forward;
            }
        }
        rank
    }

    /// The node at 0-based `rank`.
    fn node_at(&self, rank: usize) -> u32 {
        let target = rank + 1;
        let mut traversed = 0usize;
        let mut x = NIL;
        for i in (0..self.level).rev() {
            loop {
                let next = self.link(x, i);
                if next.forward == NIL || traversed + next.span as usize > target {
                    break;
                }
                traversed += next.span as usize;
                x = next.forward;
            }
            if traversed == target {
                return x;
            }
        }
        NIL
    }

    /// Calls `f` for ranks `lo..=hi` (clamped by the caller), backwards when `rev`.
    pub(crate) fn range(&self, lo: usize, hi: usize, rev: bool, mut f: impl FnMut(&[u8], f64)) {
        let mut x = self.node_at(if rev { hi } else { lo });
        for _ in lo..=hi {
            if x == NIL {
                break;
            }
            let n = &self.nodes[x as usize];
            f(&n.member, n.score);
            x = if rev { n.backward } else { n.levels[0].forward };
        }
    }

    /// Removes ranks `lo..=hi`; how many were removed.
    pub(crate) fn remove_range(&mut self, lo: usize, hi: usize) -> usize {
        let mut members = Vec::with_capacity(hi.saturating_sub(lo) + 1);
        self.range(lo, hi, false, |m, _| members.push(m.to_vec()));
        for m in &members {
            self.remove(m);
        }
        members.len()
    }

    /// Members and scores in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], f64)> {
        let mut x = self.head[0].forward;
        std::iter::from_fn(move || {
            if x == NIL {
                return None;
            }
            let n = &self.nodes[x as usize];
            x = n.levels[0].forward;
            Some((&*n.member, n.score))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_remove_rank_and_ranges() {
        let mut sl = SkipList::new();
        for i in 0..1000u32 {
            let m = format!("m{:04}", (i * 7919) % 1000);
            sl.insert(m.as_bytes(), f64::from((i * 7919) % 1000));
        }
        assert_eq!(sl.len(), 1000);
        assert_eq!(sl.count_prefix(|s, _| s < 500.0), 500);
        let mut got = Vec::new();
        sl.range(10, 12, false, |m, s| got.push((m.to_vec(), s)));
        assert_eq!(got[0], (b"m0010".to_vec(), 10.0));
        assert_eq!(got.len(), 3);
        for i in (0..1000).step_by(2) {
            assert_eq!(sl.remove(format!("m{i:04}").as_bytes()), Some(f64::from(i)));
        }
        assert_eq!(sl.len(), 500);
        assert_eq!(sl.count_prefix(|s, _| s < 501.0), 250);
        let mut rev = Vec::new();
        sl.range(497, 499, true, |_, s| rev.push(s));
        assert_eq!(rev, [999.0, 997.0, 995.0]);
        assert_eq!(sl.remove_range(0, 9), 10);
        assert_eq!(sl.iter().next().map(|(_, s)| s), Some(21.0));
        assert_eq!(sl.score(b"m0021"), Some(21.0));
        sl.insert(b"new", 0.5);
        assert_eq!(sl.iter().next(), Some((&b"new"[..], 0.5)));
        sl.update(b"new", 0.75);
        assert_eq!(sl.iter().next(), Some((&b"new"[..], 0.75)));
        sl.update(b"new", 5000.0);
        assert_eq!(sl.iter().last(), Some((&b"new"[..], 5000.0)));
        assert_eq!(sl.count_prefix(|s, _| s < 5000.0), sl.len() - 1);
    }
}
