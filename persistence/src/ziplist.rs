//! Readers for the packed encodings of older RDB files (Redis 2.6 to 6.2): the ziplist (lists,
//! hashes and sorted sets) and the zipmap (hashes). Redis 7.0 converts both on load and never
//! writes them; so do we. Both readers validate everything and return `None` for any damage.

/// Decodes a ziplist: zlbytes (u32 LE), zltail (u32 LE), zllen (u16 LE), the entries, 0xFF.
/// An entry is the previous entry's length (1 byte, or 0xFE and a u32), an encoding, the data.
pub fn decode_ziplist(blob: &[u8]) -> Option<Vec<Vec<u8>>> {
    let header = blob.get(..10)?;
    let total = u32::from_le_bytes(header[..4].try_into().ok()?);
    let tail = u32::from_le_bytes(header[4..8].try_into().ok()?);
    let count = u16::from_le_bytes(header[8..10].try_into().ok()?);
    if usize::try_from(total).ok()? != blob.len() || blob.last() != Some(&0xFF) {
        return None;
    }
    let end = blob.len() - 1;
    let mut entries = Vec::new();
    let mut pos = 10;
    let mut prev_len = 0usize;
    let mut last_start = 10;
    while pos < end {
        let start = pos;
        let (stored_prev, prev_size) = match blob[pos] {
            0xFE => (
                usize::try_from(u32::from_le_bytes(
                    blob.get(pos + 1..pos + 5)?.try_into().ok()?,
                ))
                .ok()?,
                5,
            ),
            0xFF => return None,
            b => (usize::from(b), 1),
        };
        if stored_prev != prev_len {
            return None;
        }
        pos += prev_size;
        let enc = *blob.get(pos)?;
        let value = match enc >> 6 {
            0 => {
                let len = usize::from(enc & 0x3F);
                pos += 1;
                take(blob, &mut pos, len)?.to_vec()
            }
            1 => {
                let len = (usize::from(enc & 0x3F) << 8) | usize::from(*blob.get(pos + 1)?);
                pos += 2;
                take(blob, &mut pos, len)?.to_vec()
            }
            2 => {
                if enc != 0x80 {
                    return None;
                }
                let len = u32::from_be_bytes(blob.get(pos + 1..pos + 5)?.try_into().ok()?);
                pos += 5;
                take(blob, &mut pos, usize::try_from(len).ok()?)?.to_vec()
            }
            _ => {
                pos += 1;
                let n: i64 = match enc {
                    0xC0 => i64::from(i16::from_le_bytes(
                        take(blob, &mut pos, 2)?.try_into().ok()?,
                    )),
                    0xD0 => i64::from(i32::from_le_bytes(
                        take(blob, &mut pos, 4)?.try_into().ok()?,
                    )),
                    0xE0 => i64::from_le_bytes(take(blob, &mut pos, 8)?.try_into().ok()?),
                    0xF0 => {
                        let b = take(blob, &mut pos, 3)?;
                        (i64::from(i32::from_le_bytes([0, b[0], b[1], b[2]]))) >> 8
                    }
                    0xFE => i64::from(i8::from_le_bytes([*take(blob, &mut pos, 1)?.first()?])),
                    0xF1..=0xFD => i64::from(enc & 0x0F) - 1,
                    _ => return None,
                };
                itoa::Buffer::new().format(n).as_bytes().to_vec()
            }
        };
        if pos > end {
            return None;
        }
        prev_len = pos - start;
        last_start = start;
        entries.push(value);
    }
    if pos != end {
        return None;
    }
    // The tail offset points at the last entry (at the terminator when empty).
    let expected_tail = if entries.is_empty() { end } else { last_start };
    if usize::try_from(tail).ok()? != expected_tail {
        return None;
    }
    if count != u16::MAX && usize::from(count) != entries.len() {
        return None;
    }
    Some(entries)
}

fn take<'a>(blob: &'a [u8], pos: &mut usize, len: usize) -> Option<&'a [u8]> {
    let end = pos.checked_add(len)?;
    let bytes = blob.get(*pos..end)?;
    *pos = end;
    Some(bytes)
}

/// Decodes a zipmap: a count byte, then (key length, key, value length, free byte, value, free
/// space) records, then 0xFF. Lengths are one byte below 254, else 254 and a u32.
pub fn decode_zipmap(blob: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut pos = 1;
    let mut pairs = Vec::new();
    blob.first()?;
    loop {
        let len_byte = *blob.get(pos)?;
        if len_byte == 0xFF {
            pos += 1;
            break;
        }
        let key_len = zipmap_len(blob, &mut pos)?;
        let key = take(blob, &mut pos, key_len)?.to_vec();
        let value_len = zipmap_len(blob, &mut pos)?;
        let free = usize::from(*take(blob, &mut pos, 1)?.first()?);
        let value = take(blob, &mut pos, value_len)?.to_vec();
        take(blob, &mut pos, free)?;
        pairs.push((key, value));
    }
    (pos == blob.len()).then_some(pairs)
}

fn zipmap_len(blob: &[u8], pos: &mut usize) -> Option<usize> {
    let first = *take(blob, pos, 1)?.first()?;
    match first {
        0..=253 => Some(usize::from(first)),
        // The 5-byte form is only for lengths that do not fit the 1-byte one: Redis's
        // integrity check refuses it for a small length (a fuzzer found it confuses the
        // zipmap's size bookkeeping).
        254 => {
            let raw = take(blob, pos, 4)?;
            let len = usize::try_from(u32::from_le_bytes(raw.try_into().ok()?)).ok()?;
            (len >= 254).then_some(len)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_ziplist_of_mixed_entries() {
        // Built by hand: "ab", 7 (immediate), 300 (int16), -1 (int8 would be 0xFE).
        let mut body = vec![
            0x00, 0x02, b'a', b'b', // prevlen 0, 6-bit string of 2
            0x04, 0xF8, // prevlen 4, immediate 7
            0x02, 0xC0, 0x2C, 0x01, // prevlen 2, int16 300
            0x04, 0xFE, 0xFF, // prevlen 4, int8 -1
        ];
        let mut blob = Vec::new();
        let total = 10 + body.len() + 1;
        blob.extend_from_slice(&u32::try_from(total).unwrap().to_le_bytes());
        blob.extend_from_slice(&(10u32 + 10).to_le_bytes());
        blob.extend_from_slice(&4u16.to_le_bytes());
        blob.append(&mut body);
        blob.push(0xFF);
        let entries = decode_ziplist(&blob).expect("valid");
        assert_eq!(
            entries,
            vec![
                b"ab".to_vec(),
                b"7".to_vec(),
                b"300".to_vec(),
                b"-1".to_vec()
            ]
        );
        for cut in 0..blob.len() {
            assert!(decode_ziplist(&blob[..cut]).is_none());
        }
    }

    #[test]
    fn reads_a_zipmap() {
        let blob = [
            2, 1, b'a', 1, 0, b'x', 2, b'b', b'c', 2, 1, b'y', b'z', b'!', 0xFF,
        ];
        assert_eq!(
            decode_zipmap(&blob),
            Some(vec![
                (b"a".to_vec(), b"x".to_vec()),
                (b"bc".to_vec(), b"yz".to_vec())
            ])
        );
        assert!(decode_zipmap(&blob[..blob.len() - 1]).is_none());
    }
}
