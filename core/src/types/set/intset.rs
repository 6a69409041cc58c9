//! `Intset`: a sorted array of distinct integers in one exact-size allocation, packed as Redis's
//! intset packs them: every element little-endian at one width (2, 4 or 8 bytes), the width of
//! the widest value ever added; it grows when a wider value arrives and never shrinks.
//!
//! Redis's blob starts with an 8-byte header (width and count). Ours keeps only the width, in one
//! byte, and derives the count from the allocation's length: for 50 small integers that is 101
//! bytes instead of 108, which the allocator rounds to 112 bytes instead of 128.
//! [`Intset::to_redis_bytes`] writes Redis's layout for RDB and DUMP.

use std::cmp::Ordering;

/// Bytes before the first element: the width.
const HEADER: usize = 1;

/// The blob of a new, empty intset, which owns no allocation until its first element.
const EMPTY: [u8; HEADER] = [2];

/// A sorted set of integers, packed at 2, 4 or 8 bytes an element.
#[derive(Clone)]
pub struct Intset {
    /// Header and elements, no spare capacity; empty (no allocation) stands for [`EMPTY`].
    blob: Box<[u8]>,
}

impl Default for Intset {
    fn default() -> Intset {
        Intset::new()
    }
}

impl PartialEq for Intset {
    fn eq(&self, other: &Intset) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Intset {}

impl std::fmt::Debug for Intset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The narrowest element width that holds `value`, as Redis picks it.
fn width_for(value: i64) -> usize {
    if i16::try_from(value).is_ok() {
        2
    } else if i32::try_from(value).is_ok() {
        4
    } else {
        8
    }
}

/// Reads the element stored in `bytes` (2, 4 or 8 of them).
fn decode(bytes: &[u8]) -> i64 {
    match *bytes {
        [a, b] => i64::from(i16::from_le_bytes([a, b])),
        [a, b, c, d] => i64::from(i32::from_le_bytes([a, b, c, d])),
        [a, b, c, d, e, f, g, h] => i64::from_le_bytes([a, b, c, d, e, f, g, h]),
        _ => unreachable!("intset elements are 2, 4 or 8 bytes"),
    }
}

/// Appends `value` to `out` at `width` bytes (the caller checked that it fits).
fn encode(value: i64, width: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(&value.to_le_bytes()[..width]);
}

impl Intset {
    /// An empty intset at the narrowest width.
    pub fn new() -> Intset {
        Intset {
            blob: Box::default(),
        }
    }

    /// The blob, header included.
    fn bytes(&self) -> &[u8] {
        if self.blob.is_empty() {
            &EMPTY
        } else {
            &self.blob
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        (self.bytes().len() - HEADER) / self.width()
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes per element: 2, 4 or 8.
    pub fn width(&self) -> usize {
        usize::from(self.bytes()[0])
    }

    /// The element at `pos` (< `len`), in ascending order.
    pub fn get(&self, pos: usize) -> i64 {
        let width = self.width();
        let at = HEADER + pos * width;
        decode(&self.bytes()[at..at + width])
    }

    /// Every element in ascending order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = i64> + ExactSizeIterator + '_ {
        self.bytes()[HEADER..]
            .chunks_exact(self.width())
            .map(decode)
    }

    /// Where `value` is (`Ok`), or where it would go (`Err`).
    fn search(&self, value: i64) -> Result<usize, usize> {
        if width_for(value) > self.width() {
            // Wider than every element: below all of them or above all of them.
            return Err(if value < 0 { 0 } else { self.len() });
        }
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let mid = low + (high - low) / 2;
            match self.get(mid).cmp(&value) {
                Ordering::Less => low = mid + 1,
                Ordering::Greater => high = mid,
                Ordering::Equal => return Ok(mid),
            }
        }
        Err(low)
    }

    /// Whether `value` is an element.
    pub fn contains(&self, value: i64) -> bool {
        self.search(value).is_ok()
    }

    /// Adds `value`; false if it was already there. Widens every element first when `value`
    /// needs more bytes than the current width.
    pub fn insert(&mut self, value: i64) -> bool {
        let Err(pos) = self.search(value) else {
            return false;
        };
        let len = self.len() + 1;
        let needed = width_for(value);
        if needed > self.width() {
            let mut wider = Vec::with_capacity(HEADER + needed * len);
            wider.push(width_byte(needed));
            if pos == 0 {
                encode(value, needed, &mut wider);
            }
            for element in self.iter() {
                encode(element, needed, &mut wider);
            }
            if pos != 0 {
                encode(value, needed, &mut wider);
            }
            self.blob = wider.into_boxed_slice();
            return true;
        }
        let width = self.width();
        let mut blob = match std::mem::take(&mut self.blob).into_vec() {
            empty if empty.is_empty() => {
                let mut blob = Vec::with_capacity(HEADER + width);
                blob.extend_from_slice(&EMPTY);
                blob
            }
            mut blob => {
                blob.reserve_exact(width);
                blob
            }
        };
        let at = HEADER + pos * width;
        blob.splice(at..at, value.to_le_bytes()[..width].iter().copied());
        self.blob = blob.into_boxed_slice();
        true
    }

    /// Adds every value of `values` (any order, repeats allowed) in one merge and one
    /// allocation; returns how many were new. Same result as inserting them one by one.
    pub fn insert_all(&mut self, values: &mut Vec<i64>) -> usize {
        values.sort_unstable();
        values.dedup();
        let old = self.len();
        let len = merge_sorted(self.iter(), values.iter().copied(), |_| {});
        if len == old {
            return 0;
        }
        let width = values
            .iter()
            .map(|&v| width_for(v))
            .fold(self.width(), usize::max);
        let mut blob = Vec::with_capacity(HEADER + width * len);
        blob.push(width_byte(width));
        merge_sorted(self.iter(), values.iter().copied(), |v| {
            encode(v, width, &mut blob)
        });
        self.blob = blob.into_boxed_slice();
        len - old
    }

    /// Removes `value`; false if it was not there. The width stays.
    pub fn remove(&mut self, value: i64) -> bool {
        match self.search(value) {
            Ok(pos) => {
                self.remove_positions(&[pos]);
                true
            }
            Err(_) => false,
        }
    }

    /// Removes the elements at `positions` (ascending, distinct, each < `len`) in one pass.
    pub fn remove_positions(&mut self, positions: &[usize]) {
        let width = self.width();
        let len = self.len() - positions.len();
        let mut blob = Vec::with_capacity(HEADER + width * len);
        blob.push(width_byte(width));
        let mut skip = positions.iter().peekable();
        for (pos, element) in self.bytes()[HEADER..].chunks_exact(width).enumerate() {
            if skip.peek() == Some(&&pos) {
                skip.next();
            } else {
                blob.extend_from_slice(element);
            }
        }
        self.blob = blob.into_boxed_slice();
    }

    /// The intset as Redis lays it out (RDB `SET_INTSET`, DUMP): width and count as
    /// little-endian `u32`s, then the elements.
    pub fn to_redis_bytes(&self) -> Vec<u8> {
        let elements = &self.bytes()[HEADER..];
        let mut out = Vec::with_capacity(8 + elements.len());
        out.extend_from_slice(&u32::from(self.bytes()[0]).to_le_bytes());
        out.extend_from_slice(&count_u32(self.len()).to_le_bytes());
        out.extend_from_slice(elements);
        out
    }

    /// Reads Redis's layout (an RDB `SET_INTSET` payload or a RESTORE blob), checking it
    /// the way Redis's deep sanitization does: a width of 2, 4 or 8, a count that matches the
    /// length, and elements strictly ascending. `None` for anything malformed.
    pub fn from_redis_bytes(bytes: &[u8]) -> Option<Intset> {
        let (header, elements) = bytes.split_at_checked(8)?;
        let width = u32::from_le_bytes(header[..4].try_into().ok()?);
        let count = u32::from_le_bytes(header[4..].try_into().ok()?);
        let width = usize::try_from(width)
            .ok()
            .filter(|w| matches!(w, 2 | 4 | 8))?;
        if elements.len() != width.checked_mul(usize::try_from(count).ok()?)? {
            return None;
        }
        let mut blob = Vec::with_capacity(HEADER + elements.len());
        blob.push(width_byte(width));
        blob.extend_from_slice(elements);
        let intset = Intset {
            blob: blob.into_boxed_slice(),
        };
        let ascending = intset.iter().zip(intset.iter().skip(1)).all(|(a, b)| a < b);
        ascending.then_some(intset)
    }

    /// Heap bytes owned.
    pub fn heap_size(&self) -> usize {
        self.blob.len()
    }
}

/// Walks the union of two ascending sequences (`b` without repeats), calling `emit` with each
/// distinct value in order; returns how many there were.
fn merge_sorted(
    a: impl Iterator<Item = i64>,
    b: impl Iterator<Item = i64>,
    mut emit: impl FnMut(i64),
) -> usize {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    let mut count = 0;
    loop {
        let next = match (a.peek().copied(), b.peek().copied()) {
            (Some(x), Some(y)) => match x.cmp(&y) {
                Ordering::Less => a.next(),
                Ordering::Greater => b.next(),
                Ordering::Equal => {
                    b.next();
                    a.next()
                }
            },
            (Some(_), None) => a.next(),
            (None, Some(_)) => b.next(),
            (None, None) => return count,
        };
        if let Some(v) = next {
            emit(v);
            count += 1;
        }
    }
}

fn width_byte(width: usize) -> u8 {
    u8::try_from(width).expect("widths are 2, 4 or 8")
}

fn count_u32(len: usize) -> u32 {
    u32::try_from(len).expect("intsets convert to a hash table long before 2^32 elements")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intset(values: &[i64]) -> Intset {
        let mut set = Intset::new();
        for &v in values {
            set.insert(v);
        }
        set
    }

    #[test]
    fn keeps_elements_sorted_and_distinct() {
        let mut set = intset(&[5, -3, 12, 5, 0]);
        assert_eq!(set.iter().collect::<Vec<_>>(), [-3, 0, 5, 12]);
        assert!(!set.insert(12));
        assert!(set.contains(-3) && !set.contains(4));
        assert!(set.remove(0));
        assert!(!set.remove(0));
        assert_eq!(set.iter().collect::<Vec<_>>(), [-3, 5, 12]);
        assert_eq!(set.len(), 3);
    }

    #[test]
    fn widths_follow_redis() {
        let mut set = intset(&[1, 2]);
        assert_eq!(set.width(), 2);
        assert_eq!(set.heap_size(), HEADER + 4);
        set.insert(i64::from(i16::MAX) + 1);
        assert_eq!(set.width(), 4);
        set.insert(-(1 << 40));
        assert_eq!(set.width(), 8);
        assert_eq!(set.iter().collect::<Vec<_>>(), [-(1 << 40), 1, 2, 32768]);
        // Never narrower again.
        set.remove(-(1 << 40));
        assert_eq!(set.width(), 8);
        assert_eq!(set.heap_size(), HEADER + 3 * 8);
        assert!(set.contains(32768) && !set.contains(-(1 << 40)));
    }

    #[test]
    fn upgrade_puts_the_wide_value_at_the_right_end() {
        let set = intset(&[1, i64::MIN]);
        assert_eq!(set.iter().collect::<Vec<_>>(), [i64::MIN, 1]);
        let set = intset(&[1, i64::MAX]);
        assert_eq!(set.iter().collect::<Vec<_>>(), [1, i64::MAX]);
        let set = intset(&[-70000, 70000, i64::from(i16::MIN)]);
        assert_eq!(set.iter().collect::<Vec<_>>(), [-70000, -32768, 70000]);
    }

    #[test]
    fn insert_all_merges_like_one_by_one() {
        let mut set = intset(&[5, 1, 9]);
        let mut values = vec![9, 3, 3, -1, 70000, 1];
        assert_eq!(set.insert_all(&mut values), 3);
        assert_eq!(set.iter().collect::<Vec<_>>(), [-1, 1, 3, 5, 9, 70000]);
        assert_eq!(set.width(), 4);
        assert_eq!(set.heap_size(), HEADER + 6 * 4);
        assert_eq!(set.insert_all(&mut vec![1, 5]), 0);
        assert_eq!(set.heap_size(), HEADER + 6 * 4);
        let mut empty = Intset::new();
        assert_eq!(empty.insert_all(&mut vec![i64::MIN, 0]), 2);
        assert_eq!(empty.width(), 8);
        assert_eq!(empty.iter().collect::<Vec<_>>(), [i64::MIN, 0]);
    }

    #[test]
    fn blob_is_redis_layout() {
        let set = intset(&[3, 1]);
        assert_eq!(set.to_redis_bytes(), [2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 3, 0]);
        assert_eq!(Intset::new().to_redis_bytes(), [2, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(Intset::new().heap_size(), 0);
    }

    #[test]
    fn redis_layout_round_trips_and_bad_blobs_are_refused() {
        let set = intset(&[-70000, 3, 1 << 40]);
        let bytes = set.to_redis_bytes();
        assert_eq!(Intset::from_redis_bytes(&bytes), Some(set));
        let empty = Intset::from_redis_bytes(&[2, 0, 0, 0, 0, 0, 0, 0]).unwrap();
        assert!(empty.is_empty());
        // Bad width, count past the end, unsorted, repeated, short header.
        assert_eq!(
            Intset::from_redis_bytes(&[3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0]),
            None
        );
        assert_eq!(
            Intset::from_redis_bytes(&[2, 0, 0, 0, 2, 0, 0, 0, 1, 0]),
            None
        );
        assert_eq!(
            Intset::from_redis_bytes(&[2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 1, 0]),
            None
        );
        assert_eq!(
            Intset::from_redis_bytes(&[2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 1, 0]),
            None
        );
        assert_eq!(Intset::from_redis_bytes(&[2, 0, 0]), None);
    }

    #[test]
    fn remove_positions_in_one_pass() {
        let mut set = intset(&[1, 2, 3, 4, 5]);
        set.remove_positions(&[0, 2, 4]);
        assert_eq!(set.iter().collect::<Vec<_>>(), [2, 4]);
        set.remove_positions(&[]);
        assert_eq!(set.len(), 2);
    }
}
