//! Streams in RDB (`STREAM_LISTPACKS_2`, and reading 6.x's `STREAM_LISTPACKS`): the entries as
//! Redis's listpack nodes keyed by their master id, then the stream's ids and counters, then
//! the consumer groups with their PELs and consumers.
//!
//! A node is written the way `streamAppendItem` builds one: a master entry (`count`,
//! `deleted`, the field count, the field names, `0`), then per entry `flags`, the ms and seq
//! differences from the master id, the fields (omitted when they are the master's) and values,
//! and `lp-count`. Nodes hold up to 100 entries, as with the default `stream-node-max-entries`.

use std::collections::BTreeMap;

use bytes::Bytes;
use oxidis_core::types::{ConsumerGroup, Stream, StreamEntry, StreamId, StreamNodeLimits, Value};

use super::LoadError;
use super::read::Reader;
use super::write::Writer;
use crate::listpack::{self, Entry};

const FLAG_DELETED: i64 = 1;
const FLAG_SAME_FIELDS: i64 = 2;
const ENTRIES_PER_NODE: usize = 100;
/// `SCG_INVALID_ENTRIES_READ` as `rdbSaveLen` writes it.
const INVALID_ENTRIES_READ: u64 = u64::MAX;

fn corrupt(text: &str) -> LoadError {
    LoadError::Corrupt(text.to_string())
}

fn raw_id(id: StreamId) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&id.ms.to_be_bytes());
    out[8..].copy_from_slice(&id.seq.to_be_bytes());
    out
}

fn id_from_raw(raw: &[u8]) -> Result<StreamId, LoadError> {
    let ms = raw
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes);
    let seq = raw
        .get(8..16)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes);
    match (ms, seq, raw.len()) {
        (Some(ms), Some(seq), 16) => Ok(StreamId::new(ms, seq)),
        _ => Err(corrupt(
            "Stream node key entry is not the size of a stream ID",
        )),
    }
}

/// Writes `stream`'s body (after its type byte).
pub fn write(w: &mut Writer, stream: &Stream) {
    let entries: Vec<StreamEntry<'_>> = stream.entries().collect();
    let nodes: Vec<&[StreamEntry<'_>]> = entries.chunks(ENTRIES_PER_NODE).collect();
    w.length(nodes.len() as u64);
    for node in nodes {
        let Some(master) = node.first() else { continue };
        let master_id = master.id();
        let master_fields: Vec<&[u8]> = master.fields().map(|(f, _)| f).collect();
        let mut lp = listpack::Builder::new();
        lp.push_int(i64::try_from(node.len()).unwrap_or(i64::MAX));
        lp.push_int(0);
        lp.push_int(i64::try_from(master_fields.len()).unwrap_or(i64::MAX));
        for field in &master_fields {
            lp.push(field);
        }
        lp.push_int(0);
        for entry in node {
            let id = entry.id();
            let fields: Vec<(&[u8], &[u8])> = entry.fields().collect();
            let same = fields.len() == master_fields.len()
                && fields.iter().zip(&master_fields).all(|((f, _), m)| f == m);
            lp.push_int(if same { FLAG_SAME_FIELDS } else { 0 });
            lp.push_int(id.ms.wrapping_sub(master_id.ms).cast_signed());
            lp.push_int(id.seq.wrapping_sub(master_id.seq).cast_signed());
            let n = i64::try_from(fields.len()).unwrap_or(i64::MAX);
            if same {
                for (_, value) in &fields {
                    lp.push(value);
                }
                lp.push_int(n + 3);
            } else {
                lp.push_int(n);
                for (field, value) in &fields {
                    lp.push(field);
                    lp.push(value);
                }
                lp.push_int(2 * n + 4);
            }
        }
        w.string(&raw_id(master_id));
        w.string(&lp.finish());
    }
    w.length(stream.len());
    let last = stream.last_id();
    w.length(last.ms);
    w.length(last.seq);
    let first = stream.first_id();
    w.length(first.ms);
    w.length(first.seq);
    let max_deleted = stream.max_deleted_entry_id();
    w.length(max_deleted.ms);
    w.length(max_deleted.seq);
    w.length(stream.entries_added());
    w.length(stream.groups().len() as u64);
    for (name, group) in stream.groups() {
        w.string(name);
        w.length(group.last_id.ms);
        w.length(group.last_id.seq);
        w.length(group.entries_read.unwrap_or(INVALID_ENTRIES_READ));
        w.length(group.pel().len() as u64);
        for (id, pending) in group.pel() {
            w.buf.extend_from_slice(&raw_id(*id));
            w.buf
                .extend_from_slice(&pending.delivery_time.to_le_bytes());
            w.length(pending.delivery_count);
        }
        w.length(group.consumers().len() as u64);
        for (name, consumer) in group.consumers() {
            w.string(name);
            w.buf.extend_from_slice(&consumer.seen_time.to_le_bytes());
            w.length(consumer.pending().len() as u64);
            for id in consumer.pending() {
                w.buf.extend_from_slice(&raw_id(*id));
            }
        }
    }
}

fn int(entry: Option<&Entry<'_>>) -> Result<i64, LoadError> {
    match entry {
        Some(Entry::Int(n)) => Ok(*n),
        Some(Entry::Str(s)) => std::str::from_utf8(s)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| corrupt("Stream listpack integrity check failed.")),
        None => Err(corrupt("Stream listpack integrity check failed.")),
    }
}

fn bytes(entry: Option<&Entry<'_>>) -> Result<Vec<u8>, LoadError> {
    entry
        .map(|e| e.to_vec())
        .ok_or_else(|| corrupt("Stream listpack integrity check failed."))
}

/// Reads a stream body of type `kind` (`STREAM_LISTPACKS` or `STREAM_LISTPACKS_2`).
pub fn read(r: &mut Reader<'_>, version_2: bool) -> Result<Value, LoadError> {
    let limits = StreamNodeLimits {
        max_bytes: 4096,
        max_entries: 100,
    };
    let mut stream = Stream::new();
    let nodes = r.length()?;
    for _ in 0..nodes {
        let key = r.string()?;
        let master_id = id_from_raw(&key)?;
        let blob = r.string()?;
        let items = listpack::decode(&blob)
            .ok_or_else(|| corrupt("Stream listpack integrity check failed."))?;
        if items.is_empty() {
            return Err(corrupt("Empty listpack inside stream"));
        }
        let mut it = items.iter();
        let count = int(it.next())?;
        let deleted = int(it.next())?;
        let (mut valid_seen, mut deleted_seen) = (0i64, 0i64);
        let nfields = usize::try_from(int(it.next())?).map_err(|_| corrupt("Bad stream node"))?;
        let mut master_fields = Vec::with_capacity(nfields);
        for _ in 0..nfields {
            master_fields.push(bytes(it.next())?);
        }
        int(it.next())?; // the master entry's terminating 0
        while let Some(flags) = it.next() {
            let flags = int(Some(flags))?;
            // Every entry ends with its element count (flags, ms, seq, the fields and values
            // and, when it has its own fields, their number), which XREVRANGE uses to walk
            // back: a wrong one sends it astray, so it is checked here as Redis's deep
            // sanitization does.
            let mut elements = 3; // flags, ms and seq
            let ms = master_id.ms.wrapping_add(int(it.next())?.cast_unsigned());
            let seq = master_id.seq.wrapping_add(int(it.next())?.cast_unsigned());
            let id = StreamId::new(ms, seq);
            let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            if flags & FLAG_SAME_FIELDS != 0 {
                for field in &master_fields {
                    pairs.push((field.clone(), bytes(it.next())?));
                }
            } else {
                let n =
                    usize::try_from(int(it.next())?).map_err(|_| corrupt("Bad stream entry"))?;
                for _ in 0..n {
                    let field = bytes(it.next())?;
                    pairs.push((field, bytes(it.next())?));
                }
                elements += 1 + n; // the field count and the fields
            }
            elements += pairs.len(); // the values
            if u64::try_from(int(it.next())?).ok() != u64::try_from(elements).ok() {
                return Err(corrupt("Stream listpack integrity check failed."));
            }
            if flags & FLAG_DELETED != 0 {
                deleted_seen += 1;
                continue;
            }
            valid_seen += 1;
            if !stream.is_empty() && id <= stream.last_id() {
                return Err(corrupt("Stream entries out of order"));
            }
            let fields: Vec<(&[u8], &[u8])> = pairs
                .iter()
                .map(|(f, v)| (f.as_slice(), v.as_slice()))
                .collect();
            stream.append(id, &fields, limits);
        }
        if (valid_seen, deleted_seen) != (count, deleted) {
            return Err(corrupt("Stream listpack integrity check failed."));
        }
    }
    let length = r.length()?;
    if length != stream.len() {
        return Err(corrupt("Stream length inconsistent with its entries"));
    }
    let last_id = StreamId::new(r.length()?, r.length()?);
    let (max_deleted, entries_added) = if version_2 {
        let _first = StreamId::new(r.length()?, r.length()?);
        let max_deleted = StreamId::new(r.length()?, r.length()?);
        (max_deleted, r.length()?)
    } else {
        // 6.x did not track these: as Redis does, assume nothing was deleted.
        (StreamId::MIN, stream.len())
    };
    stream.set_metadata(last_id, max_deleted, entries_added);
    let groups = r.length()?;
    for _ in 0..groups {
        let name = Bytes::from(r.string()?);
        let group_last = StreamId::new(r.length()?, r.length()?);
        let entries_read = if version_2 {
            match r.length()? {
                INVALID_ENTRIES_READ => None,
                n => Some(n),
            }
        } else {
            stream.estimate_distance_from_first_ever_entry(group_last)
        };
        let mut group = ConsumerGroup::new(group_last, entries_read);
        let mut nacks: BTreeMap<StreamId, (u64, u64)> = BTreeMap::new();
        for _ in 0..r.length()? {
            let id = id_from_raw(r.bytes(16)?)?;
            let time =
                u64::from_le_bytes(r.bytes(8)?.try_into().map_err(|_| LoadError::ShortRead)?);
            nacks.insert(id, (time, r.length()?));
        }
        for _ in 0..r.length()? {
            let consumer = r.string()?;
            let seen =
                u64::from_le_bytes(r.bytes(8)?.try_into().map_err(|_| LoadError::ShortRead)?);
            if !group.create_consumer(&consumer, seen) {
                return Err(corrupt("Duplicate stream consumer detected."));
            }
            for _ in 0..r.length()? {
                let id = id_from_raw(r.bytes(16)?)?;
                // Taking an entry out of the table: a second consumer naming it (or the same
                // one twice) would share one pending entry, which XACK could not undo cleanly.
                let Some((time, count)) = nacks.remove(&id) else {
                    return Err(corrupt(if group.pel().contains_key(&id) {
                        "Stream consumer PEL entry already has a consumer assigned"
                    } else {
                        "Consumer entry not found in group global PEL"
                    }));
                };
                group.assign(id, &consumer, time, count);
            }
        }
        if !nacks.is_empty() {
            return Err(corrupt("Stream group PEL entries without a consumer"));
        }
        stream.groups_mut().insert(name, group);
    }
    Ok(Value::Stream(Box::new(stream)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdb::write::SaveOptions;

    #[test]
    fn streams_round_trip_with_groups_and_tombstones() {
        let limits = StreamNodeLimits {
            max_bytes: 4096,
            max_entries: 3,
        };
        let mut stream = Stream::new();
        for i in 1..=250u64 {
            let v = i.to_string();
            let fields: Vec<(&[u8], &[u8])> = if i % 7 == 0 {
                vec![(b"other", v.as_bytes())]
            } else {
                vec![(b"f", v.as_bytes()), (b"g", b"x")]
            };
            stream.append(StreamId::new(1000 + i / 3, i % 3), &fields, limits);
        }
        stream.delete(StreamId::new(1001, 0));
        let mut group = ConsumerGroup::new(StreamId::new(1002, 0), Some(4));
        group.create_consumer(b"alice", 77);
        group.create_consumer(b"idle", 78);
        group.assign(StreamId::new(1000, 1), b"alice", 123, 2);
        group.assign(StreamId::new(1001, 1), b"alice", 124, 1);
        stream.groups_mut().insert(Bytes::from_static(b"g"), group);
        stream.groups_mut().insert(
            Bytes::from_static(b"h"),
            ConsumerGroup::new(StreamId::MIN, None),
        );

        let mut w = Writer::new(SaveOptions {
            compress: true,
            list_fill: -2,
            packed_threshold: 1 << 30,
        });
        write(&mut w, &stream);
        let mut r = Reader::new(&w.buf);
        let Ok(Value::Stream(loaded)) = read(&mut r, true) else {
            panic!("the stream loads back");
        };
        type Flat = Vec<(StreamId, Vec<(Vec<u8>, Vec<u8>)>)>;
        let flat = |s: &Stream| -> Flat {
            s.entries()
                .map(|e| {
                    (
                        e.id(),
                        e.fields().map(|(f, v)| (f.to_vec(), v.to_vec())).collect(),
                    )
                })
                .collect()
        };
        assert_eq!(flat(&loaded), flat(&stream));
        assert_eq!(loaded.len(), 249);
        assert_eq!(
            (
                loaded.last_id(),
                loaded.first_id(),
                loaded.max_deleted_entry_id(),
                loaded.entries_added()
            ),
            (
                stream.last_id(),
                stream.first_id(),
                stream.max_deleted_entry_id(),
                250
            )
        );
        assert_eq!(loaded.groups(), stream.groups());
    }
}
