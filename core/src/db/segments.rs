//! `Segments`: a vector of entries stored in fixed 4 KiB segments.
//!
//! A plain `Vec` grows by reallocating, which copies the whole keyspace (a pause of tens of
//! milliseconds at a few million keys) and holds old and new buffers for a moment; its spare
//! capacity is also memory no eviction can give back. Segments grow and shrink one 4 KiB block
//! at a time at the end: growing copies nothing, and removing keys (which moves the last entry
//! into the hole) frees the last block as soon as it empties, so `maxmemory` sees eviction pay
//! off at once. Indexing costs one extra load of the segment's pointer.

use std::ops::{Index, IndexMut};

/// Items per segment: 64 entries of 64 bytes fill 4 KiB.
const SEGMENT_BITS: u32 = 6;
const SEGMENT_LEN: usize = 1 << SEGMENT_BITS;
const SEGMENT_MASK: usize = SEGMENT_LEN - 1;

/// A growable sequence of `T` in fixed-size segments, indexed like a `Vec`.
#[derive(Debug, Clone)]
pub struct Segments<T> {
    segments: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Segments<T> {
    fn default() -> Self {
        Segments {
            segments: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Segments<T> {
    /// Number of items.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no items.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `item`; returns its position.
    pub fn push(&mut self, item: T) -> usize {
        let pos = self.len;
        if pos & SEGMENT_MASK == 0 {
            self.segments.push(Vec::with_capacity(SEGMENT_LEN));
        }
        if let Some(last) = self.segments.last_mut() {
            last.push(item);
        }
        self.len += 1;
        pos
    }

    /// Removes the item at `pos`, moving the last item into its place (`Vec::swap_remove`).
    ///
    /// # Panics
    /// If `pos` is out of bounds.
    pub fn swap_remove(&mut self, pos: usize) -> T {
        assert!(
            pos < self.len,
            "position {pos} out of bounds ({})",
            self.len
        );
        let last = self.pop_last();
        if pos == self.len {
            return last;
        }
        std::mem::replace(&mut self[pos], last)
    }

    fn pop_last(&mut self) -> T {
        let segment = self
            .segments
            .last_mut()
            .expect("a non-empty sequence has a segment");
        let item = segment.pop().expect("the last segment is never empty");
        if segment.is_empty() {
            self.segments.pop();
        }
        self.len -= 1;
        item
    }

    /// Iterates over the items in position order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.segments.iter().flatten()
    }

    /// Bytes held by the segments (allocated capacity, for memory reports).
    pub fn allocated_bytes(&self) -> usize {
        self.segments.len() * SEGMENT_LEN * std::mem::size_of::<T>()
            + self.segments.capacity() * std::mem::size_of::<Vec<T>>()
    }
}

impl<T> Index<usize> for Segments<T> {
    type Output = T;

    #[inline]
    fn index(&self, pos: usize) -> &T {
        &self.segments[pos >> SEGMENT_BITS][pos & SEGMENT_MASK]
    }
}

impl<T> IndexMut<usize> for Segments<T> {
    #[inline]
    fn index_mut(&mut self, pos: usize) -> &mut T {
        &mut self.segments[pos >> SEGMENT_BITS][pos & SEGMENT_MASK]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_vec_under_push_and_swap_remove() {
        let mut seg = Segments::default();
        let mut vec = Vec::new();
        let mut x = 12345u64;
        for step in 0..5000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if vec.is_empty() || !x.is_multiple_of(3) {
                seg.push(step);
                vec.push(step);
            } else {
                let pos = (x >> 33) as usize % vec.len();
                assert_eq!(seg.swap_remove(pos), vec.swap_remove(pos));
            }
            assert_eq!(seg.len(), vec.len());
        }
        assert!(seg.iter().eq(vec.iter()));
        for (pos, item) in vec.iter().enumerate() {
            assert_eq!(&seg[pos], item);
        }
    }

    #[test]
    fn an_emptied_last_segment_is_freed() {
        let mut seg = Segments::default();
        for i in 0..(SEGMENT_LEN + 1) {
            seg.push(i);
        }
        assert_eq!(seg.segments.len(), 2);
        seg.swap_remove(0);
        assert_eq!(seg.segments.len(), 1);
        while !seg.is_empty() {
            seg.swap_remove(0);
        }
        assert!(seg.segments.is_empty());
    }
}
