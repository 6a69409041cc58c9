//! LZF, the compression RDB files use for strings (Marc Lehmann's format; written fresh here).
//!
//! A compressed stream is a series of chunks. A control byte below 32 starts a literal run of
//! `ctrl + 1` bytes. Otherwise its top three bits are a match length minus 2 (7 means "add the
//! next byte"), its low five bits and the following byte a back-reference offset minus 1 (up to
//! 8 KiB back); the match may overlap the bytes it produces.

/// Longest back-reference offset.
const MAX_OFFSET: usize = 1 << 13;
/// Longest match: 2 + 7 + 255.
const MAX_MATCH: usize = 264;
/// Longest literal run.
const MAX_LITERAL: usize = 32;
const HASH_BITS: u32 = 14;

/// Compresses `input`; `None` when the result would not be shorter than `max_len` bytes.
pub fn compress(input: &[u8], max_len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(max_len.min(input.len()));
    let mut table = vec![usize::MAX; 1 << HASH_BITS];
    let mut literal_start = 0;
    let mut i = 0;
    while i + 2 < input.len() {
        let seq =
            u32::from(input[i]) << 16 | u32::from(input[i + 1]) << 8 | u32::from(input[i + 2]);
        let slot = (seq.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize;
        let candidate = table[slot];
        table[slot] = i;
        if candidate < i
            && i - candidate <= MAX_OFFSET
            && input[candidate..candidate + 3] == input[i..i + 3]
        {
            let limit = (input.len() - i).min(MAX_MATCH);
            let mut len = 3;
            while len < limit && input[candidate + len] == input[i + len] {
                len += 1;
            }
            flush_literals(&mut out, &input[literal_start..i]);
            let offset = i - candidate - 1;
            let code = len - 2;
            // offset < 8192 and code <= 262: both fit the byte casts below.
            let high = (offset >> 8) as u8;
            if code < 7 {
                out.push(((code as u8) << 5) | high);
            } else {
                out.push((7 << 5) | high);
                out.push((code - 7) as u8);
            }
            out.push((offset & 0xff) as u8);
            i += len;
            literal_start = i;
            if out.len() >= max_len {
                return None;
            }
        } else {
            i += 1;
        }
    }
    flush_literals(&mut out, &input[literal_start..]);
    (out.len() < max_len).then_some(out)
}

fn flush_literals(out: &mut Vec<u8>, mut literals: &[u8]) {
    while !literals.is_empty() {
        let n = literals.len().min(MAX_LITERAL);
        out.push((n - 1) as u8);
        out.extend_from_slice(&literals[..n]);
        literals = &literals[n..];
    }
}

/// Decompresses `input`, which must expand to exactly `expected_len` bytes; `None` for a
/// malformed stream (never reads or writes out of bounds).
pub fn decompress(input: &[u8], expected_len: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(expected_len);
    let mut i = 0;
    while i < input.len() {
        let ctrl = usize::from(input[i]);
        i += 1;
        if ctrl < 32 {
            let run = input.get(i..i + ctrl + 1)?;
            if out.len() + run.len() > expected_len {
                return None;
            }
            out.extend_from_slice(run);
            i += ctrl + 1;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(i)?);
                i += 1;
            }
            len += 2;
            let back = ((ctrl & 0x1f) << 8) + usize::from(*input.get(i)?) + 1;
            i += 1;
            let start = out.len().checked_sub(back)?;
            if out.len() + len > expected_len {
                return None;
            }
            for k in 0..len {
                let b = out[start + k];
                out.push(b);
            }
        }
    }
    (out.len() == expected_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let samples: Vec<Vec<u8>> = vec![
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_vec(),
            b"hello world hello world hello world, hello world!".to_vec(),
            (0..5000u32).flat_map(|i| (i % 251).to_le_bytes()).collect(),
            (0..70_000u32).map(|i| (i % 7) as u8).collect(),
        ];
        for s in samples {
            let c = compress(&s, s.len()).expect("compressible");
            assert!(c.len() < s.len());
            assert_eq!(decompress(&c, s.len()).as_deref(), Some(s.as_slice()));
        }
    }

    #[test]
    fn incompressible_is_refused() {
        let s: Vec<u8> = (0..40u8).collect();
        assert_eq!(compress(&s, s.len() - 4), None);
    }

    #[test]
    fn malformed_is_refused() {
        assert_eq!(decompress(&[0x20, 0x00], 3), None); // back-reference before the start
        assert_eq!(decompress(&[0x05, b'a'], 6), None); // literal run past the end
        assert_eq!(decompress(&[0x00, b'a'], 2), None); // too short
    }
}
