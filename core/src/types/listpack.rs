//! `Listpack`: a sequence of byte strings packed into one buffer, the compact form of small
//! lists, hashes and sorted sets (Redis's listpack plays the same role and gives its name to
//! `OBJECT ENCODING`).
//!
//! Each entry is its length as a LEB128 varint followed by its bytes, so a 10-byte field costs
//! 11 bytes and there is no per-entry allocation or pointer. Walking is forward only; access by
//! index is O(n), which is fine because callers convert to a real structure past a small size
//! (`*-max-listpack-entries`). Integers are stored in their decimal form, as Redis replies them.

/// A packed sequence of byte strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listpack {
    buf: Vec<u8>,
    len: usize,
}

impl Listpack {
    /// An empty listpack.
    pub fn new() -> Listpack {
        Listpack::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes used by the packed entries (what `MEMORY USAGE` should count).
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    /// Heap bytes owned, spare capacity included.
    pub fn heap_size(&self) -> usize {
        self.buf.capacity()
    }

    /// Appends an entry at the end.
    pub fn push_back(&mut self, entry: &[u8]) {
        write_entry(&mut self.buf, entry);
        self.len += 1;
    }

    /// Inserts an entry at the front.
    pub fn push_front(&mut self, entry: &[u8]) {
        self.insert_at_offset(0, entry);
    }

    /// Inserts an entry so that it becomes entry number `index` (`index <= len`).
    pub fn insert(&mut self, index: usize, entry: &[u8]) {
        let offset = self.offset_of(index);
        self.insert_at_offset(offset, entry);
    }

    fn insert_at_offset(&mut self, offset: usize, entry: &[u8]) {
        let mut encoded = Vec::with_capacity(entry.len() + 5);
        write_entry(&mut encoded, entry);
        self.buf.splice(offset..offset, encoded);
        self.len += 1;
    }

    /// Entry number `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.iter().nth(index)
    }

    /// The first entry.
    pub fn first(&self) -> Option<&[u8]> {
        self.iter().next()
    }

    /// The last entry.
    pub fn last(&self) -> Option<&[u8]> {
        self.iter().last()
    }

    /// Removes entry number `index` and returns it.
    pub fn remove(&mut self, index: usize) -> Option<Vec<u8>> {
        if index >= self.len {
            return None;
        }
        let start = self.offset_of(index);
        let (entry, end) = read_entry(&self.buf, start)?;
        let removed = entry.to_vec();
        self.buf.drain(start..end);
        self.len -= 1;
        Some(removed)
    }

    /// Removes `count` entries starting at entry number `index` (clamped to the end).
    pub fn remove_range(&mut self, index: usize, count: usize) {
        if index >= self.len || count == 0 {
            return;
        }
        let count = count.min(self.len - index);
        let start = self.offset_of(index);
        let end = self.offset_of_from(start, count);
        self.buf.drain(start..end);
        self.len -= count;
    }

    /// Replaces entry number `index`.
    pub fn replace(&mut self, index: usize, entry: &[u8]) -> bool {
        if index >= self.len {
            return false;
        }
        let start = self.offset_of(index);
        let Some((_, end)) = read_entry(&self.buf, start) else {
            return false;
        };
        let mut encoded = Vec::with_capacity(entry.len() + 5);
        write_entry(&mut encoded, entry);
        self.buf.splice(start..end, encoded);
        true
    }

    /// Keeps only the entries for which `keep` returns true; returns how many were removed.
    pub fn retain(&mut self, mut keep: impl FnMut(&[u8]) -> bool) -> usize {
        let mut out = Vec::with_capacity(self.buf.len());
        let mut kept = 0;
        for entry in self.iter() {
            if keep(entry) {
                write_entry(&mut out, entry);
                kept += 1;
            }
        }
        let removed = self.len - kept;
        self.buf = out;
        self.len = kept;
        removed
    }

    /// The entries, front to back.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            buf: &self.buf,
            offset: 0,
        }
    }

    /// Frees spare capacity.
    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
    }

    fn offset_of(&self, index: usize) -> usize {
        self.offset_of_from(0, index)
    }

    /// The offset `skip` entries after the entry at `offset` (the end when past it).
    fn offset_of_from(&self, mut offset: usize, skip: usize) -> usize {
        for _ in 0..skip {
            match read_entry(&self.buf, offset) {
                Some((_, next)) => offset = next,
                None => return self.buf.len(),
            }
        }
        offset
    }
}

impl<'a> IntoIterator for &'a Listpack {
    type Item = &'a [u8];
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<E: AsRef<[u8]>> FromIterator<E> for Listpack {
    fn from_iter<I: IntoIterator<Item = E>>(iter: I) -> Listpack {
        let mut lp = Listpack::new();
        for entry in iter {
            lp.push_back(entry.as_ref());
        }
        lp
    }
}

/// Iterator over a listpack's entries.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    buf: &'a [u8],
    offset: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (entry, next) = read_entry(self.buf, self.offset)?;
        self.offset = next;
        Some(entry)
    }
}

fn write_entry(out: &mut Vec<u8>, entry: &[u8]) {
    let mut n = entry.len();
    loop {
        // Seven bits at a time, low bits first; the high bit says another byte follows.
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(low);
            break;
        }
        out.push(low | 0x80);
    }
    out.extend_from_slice(entry);
}

/// The entry at `offset` and the offset after it; `None` at the end.
fn read_entry(buf: &[u8], mut offset: usize) -> Option<(&[u8], usize)> {
    let mut len = 0usize;
    let mut shift = 0;
    loop {
        let byte = *buf.get(offset)?;
        offset += 1;
        len |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let end = offset.checked_add(len)?;
    Some((buf.get(offset..end)?, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(lp: &Listpack) -> Vec<String> {
        lp.iter()
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect()
    }

    #[test]
    fn push_insert_remove_replace() {
        let mut lp = Listpack::new();
        lp.push_back(b"b");
        lp.push_front(b"a");
        lp.push_back(b"d");
        lp.insert(2, b"c");
        assert_eq!(entries(&lp), ["a", "b", "c", "d"]);
        assert_eq!(lp.get(2), Some(&b"c"[..]));
        assert_eq!(lp.remove(1), Some(b"b".to_vec()));
        assert!(lp.replace(0, b"alpha"));
        assert_eq!(entries(&lp), ["alpha", "c", "d"]);
        lp.remove_range(1, 10);
        assert_eq!(entries(&lp), ["alpha"]);
        assert_eq!(lp.len(), 1);
        assert_eq!(lp.last(), Some(&b"alpha"[..]));
    }

    #[test]
    fn long_entries_use_multibyte_lengths() {
        let big = vec![b'x'; 300];
        let mut lp: Listpack = [&b"s"[..], &big[..], b""].into_iter().collect();
        assert_eq!(lp.len(), 3);
        assert_eq!(lp.get(1).map(<[u8]>::len), Some(300));
        assert_eq!(lp.get(2), Some(&b""[..]));
        assert_eq!(lp.bytes(), 2 + 302 + 1);
        assert_eq!(lp.retain(|e| e.len() < 10), 1);
        assert_eq!(entries(&lp), ["s", ""]);
    }
}
