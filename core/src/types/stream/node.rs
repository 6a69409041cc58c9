//! One packed node of a stream: up to `stream-node-max-entries` entries in a single buffer.
//!
//! Redis keeps a stream as a radix tree of listpacks, each opened by a "master entry" whose
//! field names later entries may share, and whose id the entries' ids are delta-encoded
//! against. A node here is the same idea in our own encoding (LEB128 varints, no back-lengths):
//!
//! ```text
//! master fields:  nfields  (len bytes)*nfields
//! each entry:     flags  delta-ms  seq  body
//!   flags         bit 0 deleted (a tombstone, as XDEL leaves in Redis), bit 1 same fields
//!   delta-ms      entry ms - node base ms
//!   seq           entry seq - base seq when delta-ms is 0, else the entry seq itself
//!   body          same fields: (len value)*nfields; otherwise n (len field len value)*n
//! ```
//!
//! The node's base id is its key in the stream's `BTreeMap` (the first id ever added to it).
//! A small entry with the master's fields costs 4 bytes plus 1 byte per value over the values'
//! bytes. Reverse iteration decodes the node forward once (a node is at most a few kilobytes).

use super::StreamId;

const FLAG_DELETED: u8 = 1;
const FLAG_SAME_FIELDS: u8 = 2;

/// A packed run of stream entries sharing one base id and one master field list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Node {
    buf: Vec<u8>,
    /// Where the first entry starts (after the master fields).
    entries_start: u32,
    /// Entries not deleted.
    pub(super) live: u32,
    /// Entries marked deleted.
    pub(super) deleted: u32,
}

/// One decoded entry of a node (its fields are read lazily).
#[derive(Debug, Clone, Copy)]
pub(super) struct RawEntry {
    pub(super) id: StreamId,
    pub(super) deleted: bool,
    /// Offset of the flags byte.
    pub(super) at: usize,
    /// Offset of the body.
    body: usize,
    same_fields: bool,
    /// Offset just past the entry.
    pub(super) end: usize,
}

impl Node {
    /// A node whose master fields are `fields`.
    pub(super) fn new(fields: &[(&[u8], &[u8])]) -> Node {
        let mut buf = Vec::new();
        write_varint(&mut buf, fields.len() as u64);
        for (field, _) in fields {
            write_bytes(&mut buf, field);
        }
        let entries_start = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        Node {
            buf,
            entries_start,
            live: 0,
            deleted: 0,
        }
    }

    /// Bytes the node's buffer holds.
    pub(super) fn bytes(&self) -> usize {
        self.buf.len()
    }

    /// Heap bytes owned.
    pub(super) fn heap_size(&self) -> usize {
        self.buf.capacity()
    }

    /// Gives back spare capacity (a node that will not grow again).
    pub(super) fn shrink(&mut self) {
        self.buf.shrink_to_fit();
    }

    /// Entries stored, deleted ones included.
    pub(super) fn count(&self) -> u64 {
        u64::from(self.live) + u64::from(self.deleted)
    }

    /// The master field names.
    pub(super) fn master_fields(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let mut pos = 0;
        let n = read_varint(&self.buf, &mut pos);
        (0..n).map(move |_| read_bytes(&self.buf, &mut pos))
    }

    fn master_field_count(&self) -> u64 {
        let mut pos = 0;
        read_varint(&self.buf, &mut pos)
    }

    /// Appends entry `id` (greater than every id in the node) with `fields` (name, value pairs).
    pub(super) fn append(&mut self, base: StreamId, id: StreamId, fields: &[(&[u8], &[u8])]) {
        let same = self.master_field_count() == fields.len() as u64
            && self.master_fields().zip(fields).all(|(m, (f, _))| m == *f);
        let flags = if same { FLAG_SAME_FIELDS } else { 0 };
        self.buf.push(flags);
        let delta_ms = id.ms.wrapping_sub(base.ms);
        write_varint(&mut self.buf, delta_ms);
        write_varint(
            &mut self.buf,
            if delta_ms == 0 {
                id.seq.wrapping_sub(base.seq)
            } else {
                id.seq
            },
        );
        if same {
            for (_, value) in fields {
                write_bytes(&mut self.buf, value);
            }
        } else {
            write_varint(&mut self.buf, fields.len() as u64);
            for (field, value) in fields {
                write_bytes(&mut self.buf, field);
                write_bytes(&mut self.buf, value);
            }
        }
        self.live += 1;
    }

    /// Decodes the entry at offset `at`; `None` past the end.
    pub(super) fn entry_at(&self, base: StreamId, at: usize) -> Option<RawEntry> {
        if at >= self.buf.len() {
            return None;
        }
        let flags = self.buf[at];
        let mut pos = at + 1;
        let delta_ms = read_varint(&self.buf, &mut pos);
        let seq = read_varint(&self.buf, &mut pos);
        let id = if delta_ms == 0 {
            StreamId::new(base.ms, base.seq.wrapping_add(seq))
        } else {
            StreamId::new(base.ms.wrapping_add(delta_ms), seq)
        };
        let body = pos;
        let same_fields = flags & FLAG_SAME_FIELDS != 0;
        if same_fields {
            for _ in 0..self.master_field_count() {
                skip_bytes(&self.buf, &mut pos);
            }
        } else {
            let n = read_varint(&self.buf, &mut pos);
            for _ in 0..n.saturating_mul(2) {
                skip_bytes(&self.buf, &mut pos);
            }
        }
        Some(RawEntry {
            id,
            deleted: flags & FLAG_DELETED != 0,
            at,
            body,
            same_fields,
            end: pos,
        })
    }

    /// Offset of the first entry.
    pub(super) fn first_offset(&self) -> usize {
        self.entries_start as usize
    }

    /// Every entry, in order, tombstones included.
    pub(super) fn raw_entries(&self, base: StreamId) -> impl Iterator<Item = RawEntry> + '_ {
        let mut at = self.first_offset();
        std::iter::from_fn(move || {
            let entry = self.entry_at(base, at)?;
            at = entry.end;
            Some(entry)
        })
    }

    /// The number of field-value pairs of `entry`.
    pub(super) fn field_count(&self, entry: &RawEntry) -> usize {
        if entry.same_fields {
            usize::try_from(self.master_field_count()).unwrap_or(0)
        } else {
            let mut pos = entry.body;
            usize::try_from(read_varint(&self.buf, &mut pos)).unwrap_or(0)
        }
    }

    /// The field-value pairs of `entry`.
    pub(super) fn fields<'a>(&'a self, entry: &RawEntry) -> FieldIter<'a> {
        if entry.same_fields {
            let mut master = 0;
            let n = read_varint(&self.buf, &mut master);
            FieldIter {
                buf: &self.buf,
                master: Some(master),
                pos: entry.body,
                left: n,
            }
        } else {
            let mut pos = entry.body;
            let n = read_varint(&self.buf, &mut pos);
            FieldIter {
                buf: &self.buf,
                master: None,
                pos,
                left: n,
            }
        }
    }

    /// Marks the entry at offset `at` deleted; whether it was live.
    pub(super) fn mark_deleted(&mut self, at: usize) -> bool {
        match self.buf.get_mut(at) {
            Some(flags) if *flags & FLAG_DELETED == 0 => {
                *flags |= FLAG_DELETED;
                self.live = self.live.saturating_sub(1);
                self.deleted += 1;
                true
            }
            _ => false,
        }
    }
}

/// The field-value pairs of one entry.
pub(super) struct FieldIter<'a> {
    buf: &'a [u8],
    /// Offset of the next master field name, when the entry shares them.
    master: Option<usize>,
    pos: usize,
    left: u64,
}

impl<'a> Iterator for FieldIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let field = match &mut self.master {
            Some(master) => read_bytes(self.buf, master),
            None => read_bytes(self.buf, &mut self.pos),
        };
        let value = read_bytes(self.buf, &mut self.pos);
        Some((field, value))
    }
}

fn write_varint(buf: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        buf.push((n as u8) | 0x80);
        n >>= 7;
    }
    buf.push(n as u8);
}

fn write_bytes(buf: &mut Vec<u8>, bytes: &[u8]) {
    write_varint(buf, bytes.len() as u64);
    buf.extend_from_slice(bytes);
}

/// Reads a varint at `*pos`; a truncated one reads as what it has (the buffer is ours, so
/// this never happens, but nothing here may panic).
fn read_varint(buf: &[u8], pos: &mut usize) -> u64 {
    let mut n = 0u64;
    let mut shift = 0;
    while let Some(&byte) = buf.get(*pos) {
        *pos += 1;
        if shift < 64 {
            n |= u64::from(byte & 0x7f) << shift;
        }
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    n
}

fn read_bytes<'a>(buf: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let len = usize::try_from(read_varint(buf, pos)).unwrap_or(usize::MAX);
    let start = (*pos).min(buf.len());
    let end = start.saturating_add(len).min(buf.len());
    *pos = end;
    &buf[start..end]
}

fn skip_bytes(buf: &[u8], pos: &mut usize) {
    let len = usize::try_from(read_varint(buf, pos)).unwrap_or(usize::MAX);
    *pos = pos.saturating_add(len).min(buf.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_share_master_fields_and_decode_back() {
        let base = StreamId::new(100, 5);
        let mut node = Node::new(&[(b"f1", b""), (b"f2", b"")]);
        node.append(base, base, &[(b"f1", b"a"), (b"f2", b"b")]);
        node.append(base, StreamId::new(100, 9), &[(b"f1", b"c"), (b"f2", b"d")]);
        node.append(base, StreamId::new(300, 0), &[(b"x", b"y")]);
        let entries: Vec<_> = node.raw_entries(base).collect();
        let ids: Vec<_> = entries.iter().map(|e| e.id).collect();
        assert_eq!(
            ids,
            vec![base, StreamId::new(100, 9), StreamId::new(300, 0)]
        );
        let second: Vec<_> = node.fields(&entries[1]).collect();
        assert_eq!(
            second,
            vec![(b"f1".as_slice(), b"c".as_slice()), (b"f2", b"d")]
        );
        let third: Vec<_> = node.fields(&entries[2]).collect();
        assert_eq!(third, vec![(b"x".as_slice(), b"y".as_slice())]);
        // 3 bytes of id and flags, then 2 bytes per one-byte value.
        assert_eq!(entries[1].end - entries[1].at, 7);
        assert!(node.mark_deleted(entries[1].at));
        assert!(!node.mark_deleted(entries[1].at));
        assert_eq!((node.live, node.deleted), (2, 1));
        assert!(node.raw_entries(base).nth(1).is_some_and(|e| e.deleted));
    }
}
