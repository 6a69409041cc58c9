//! Redis's listpack, byte for byte: the blob RDB stores for small hashes, sorted sets and list
//! nodes. Oxidis's in-memory `Listpack` is a different (simpler) layout, so values are converted
//! on the way in and out.
//!
//! Layout: total bytes (u32 LE), entry count (u16 LE, 65535 when unknown), the entries, and a
//! 0xFF terminator. An entry is an encoding byte (with the data's length or a small integer),
//! its data, then the length of encoding + data written backwards in 7-bit groups ("backlen"),
//! so the listpack can be walked from either end.

use oxidis_core::types::parse_canonical_i64;

const HEADER: usize = 6;
const TERMINATOR: u8 = 0xFF;
/// The count a listpack stores when it has 65535 entries or more.
const COUNT_UNKNOWN: u16 = u16::MAX;

/// Builds a Redis listpack entry by entry.
#[derive(Debug, Default)]
pub struct Builder {
    buf: Vec<u8>,
    count: usize,
}

impl Builder {
    /// An empty listpack.
    pub fn new() -> Builder {
        Builder {
            buf: vec![0; HEADER],
            count: 0,
        }
    }

    /// Appends `entry`, as an integer when it is one's canonical spelling (as `lpAppend`).
    pub fn push(&mut self, entry: &[u8]) {
        let start = self.buf.len();
        match parse_canonical_i64(entry) {
            Some(n) => encode_int(&mut self.buf, n),
            None => encode_str(&mut self.buf, entry),
        }
        let len = self.buf.len() - start;
        encode_backlen(&mut self.buf, len);
        self.count += 1;
    }

    /// Appends an integer entry.
    pub fn push_int(&mut self, n: i64) {
        let start = self.buf.len();
        encode_int(&mut self.buf, n);
        let len = self.buf.len() - start;
        encode_backlen(&mut self.buf, len);
        self.count += 1;
    }

    /// Number of entries so far.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether no entry was added.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes the finished listpack will take.
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    /// The finished blob.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(TERMINATOR);
        let total = u32::try_from(self.buf.len()).unwrap_or(u32::MAX);
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let count = u16::try_from(self.count)
            .ok()
            .filter(|&c| c != COUNT_UNKNOWN)
            .unwrap_or(COUNT_UNKNOWN);
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

fn encode_int(buf: &mut Vec<u8>, n: i64) {
    if (0..=127).contains(&n) {
        buf.push(n as u8);
    } else if (-4096..=4095).contains(&n) {
        let v = (n as u16) & 0x1FFF;
        buf.push(0xC0 | (v >> 8) as u8);
        buf.push((v & 0xFF) as u8);
    } else if let Ok(v) = i16::try_from(n) {
        buf.push(0xF1);
        buf.extend_from_slice(&v.to_le_bytes());
    } else if (-(1 << 23)..(1 << 23)).contains(&n) {
        buf.push(0xF2);
        buf.extend_from_slice(&n.to_le_bytes()[..3]);
    } else if let Ok(v) = i32::try_from(n) {
        buf.push(0xF3);
        buf.extend_from_slice(&v.to_le_bytes());
    } else {
        buf.push(0xF4);
        buf.extend_from_slice(&n.to_le_bytes());
    }
}

fn encode_str(buf: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 64 {
        buf.push(0x80 | len as u8);
    } else if len < 4096 {
        buf.push(0xE0 | (len >> 8) as u8);
        buf.push((len & 0xFF) as u8);
    } else {
        buf.push(0xF0);
        buf.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes());
    }
    buf.extend_from_slice(s);
}

fn encode_backlen(buf: &mut Vec<u8>, len: usize) {
    let groups = match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    };
    for g in (0..groups).rev() {
        let bits = ((len >> (7 * g)) & 127) as u8;
        // Every group but the most significant (written first) has its high bit set.
        buf.push(if g == groups - 1 { bits } else { bits | 128 });
    }
}

/// One decoded entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry<'a> {
    /// A string entry.
    Str(&'a [u8]),
    /// An integer entry.
    Int(i64),
}

impl Entry<'_> {
    /// The entry as bytes (integers in decimal).
    pub fn to_vec(self) -> Vec<u8> {
        match self {
            Entry::Str(s) => s.to_vec(),
            Entry::Int(n) => itoa::Buffer::new().format(n).as_bytes().to_vec(),
        }
    }
}

/// Decodes and fully validates a listpack (header size and count, every entry's bounds and
/// backlen, the terminator). `None` for anything malformed.
pub fn decode(blob: &[u8]) -> Option<Vec<Entry<'_>>> {
    let header = blob.get(..HEADER)?;
    let total = u32::from_le_bytes(header[..4].try_into().ok()?);
    if usize::try_from(total).ok()? != blob.len() || blob.last() != Some(&TERMINATOR) {
        return None;
    }
    let count = u16::from_le_bytes(header[4..6].try_into().ok()?);
    let body = &blob[HEADER..blob.len() - 1];
    let mut entries = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        let (entry, len) = decode_entry(&body[pos..])?;
        let backlen_bytes = backlen_size(len);
        let back = body.get(pos + len..pos + len + backlen_bytes)?;
        if decode_backlen(back)? != len {
            return None;
        }
        entries.push(entry);
        pos += len + backlen_bytes;
    }
    if count != COUNT_UNKNOWN && usize::from(count) != entries.len() {
        return None;
    }
    Some(entries)
}

fn backlen_size(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

fn decode_backlen(bytes: &[u8]) -> Option<usize> {
    let mut value = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        let last = i + 1 == bytes.len();
        // The first byte written is the most significant group and has no continuation bit.
        if (i == 0) == (b & 128 != 0) {
            return None;
        }
        value = (value << 7) | usize::from(b & 127);
        if last {
            return Some(value);
        }
    }
    None
}

/// Decodes the entry at the start of `bytes`: the entry and the length of encoding + data.
fn decode_entry(bytes: &[u8]) -> Option<(Entry<'_>, usize)> {
    let first = *bytes.first()?;
    let int_at = |width: usize| -> Option<i64> {
        let data = bytes.get(1..1 + width)?;
        let mut raw = [0u8; 8];
        raw[..width].copy_from_slice(data);
        // Sign-extend from `width` bytes.
        let shift = 64 - 8 * width;
        Some((i64::from_le_bytes(raw) << shift) >> shift)
    };
    let string = |offset: usize, len: usize| -> Option<(Entry<'_>, usize)> {
        let end = offset.checked_add(len)?;
        Some((Entry::Str(bytes.get(offset..end)?), end))
    };
    match first {
        0x00..=0x7F => Some((Entry::Int(i64::from(first)), 1)),
        0x80..=0xBF => string(1, usize::from(first & 0x3F)),
        0xC0..=0xDF => {
            let low = *bytes.get(1)?;
            let raw = (u16::from(first & 0x1F) << 8) | u16::from(low);
            // 13-bit two's complement.
            let n = (i64::from(raw) << 51) >> 51;
            Some((Entry::Int(n), 2))
        }
        0xE0..=0xEF => {
            let low = *bytes.get(1)?;
            string(2, (usize::from(first & 0x0F) << 8) | usize::from(low))
        }
        0xF0 => {
            let len = u32::from_le_bytes(bytes.get(1..5)?.try_into().ok()?);
            string(5, usize::try_from(len).ok()?)
        }
        0xF1 => Some((Entry::Int(int_at(2)?), 3)),
        0xF2 => Some((Entry::Int(int_at(3)?), 4)),
        0xF3 => Some((Entry::Int(int_at(4)?), 5)),
        0xF4 => Some((Entry::Int(int_at(8)?), 9)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_encoding() {
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 300];
        let samples: Vec<&[u8]> = vec![
            b"0",
            b"127",
            b"128",
            b"-4096",
            b"4095",
            b"-32768",
            b"32767",
            b"8388607",
            b"-8388608",
            b"2147483647",
            b"9223372036854775807",
            b"-9223372036854775808",
            b"hello",
            b"",
            b"007",
            &mid,
            &long,
        ];
        let mut b = Builder::new();
        for s in &samples {
            b.push(s);
        }
        let blob = b.finish();
        let decoded: Vec<Vec<u8>> = decode(&blob)
            .expect("valid")
            .into_iter()
            .map(Entry::to_vec)
            .collect();
        let expected: Vec<Vec<u8>> = samples.iter().map(|s| s.to_vec()).collect();
        assert_eq!(decoded, expected);
    }

    #[test]
    fn matches_redis_bytes() {
        // What Redis 7.0 writes for RPUSH l a 1 (DEBUG LISTPACK / DUMP).
        let mut b = Builder::new();
        b.push(b"a");
        b.push(b"1");
        assert_eq!(
            b.finish(),
            vec![0x0C, 0, 0, 0, 0x02, 0, 0x81, b'a', 0x02, 0x01, 0x01, 0xFF]
        );
    }

    #[test]
    fn corrupt_is_refused() {
        let mut b = Builder::new();
        b.push(b"hello");
        let blob = b.finish();
        for cut in 0..blob.len() {
            assert!(decode(&blob[..cut]).is_none());
        }
        let mut bad = blob.clone();
        bad[6] = 0x8F; // string longer than the blob
        assert!(decode(&bad).is_none());
        let mut bad = blob;
        bad[4] = 2; // wrong count
        assert!(decode(&bad).is_none());
    }
}
