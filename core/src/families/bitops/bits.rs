//! The bit-level work under the bitmap commands, on plain byte slices. Bit 0 is the most
//! significant bit of byte 0, as in Redis: a string is read left to right, bit by bit.
//!
//! Counting and searching go eight bytes at a time (a `u64` popcount, or a comparison with an
//! all-zeros/all-ones word), so BITCOUNT and BITPOS over a 512 MB string touch each word once.

/// How many bits are set in `bytes`.
pub(super) fn count_ones(bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(8);
    let mut total: u64 = 0;
    for word in &mut words {
        total += u64::from(word_at(word).count_ones());
    }
    total
        + words
            .remainder()
            .iter()
            .map(|b| u64::from(b.count_ones()))
            .sum::<u64>()
}

/// How many bits are set among bits `first..=last` of `bytes`; the range lies inside the string.
pub(super) fn count_ones_in(bytes: &[u8], first: u64, last: u64) -> u64 {
    let (first_byte, last_byte) = (byte_index(first), byte_index(last));
    let Some(span) = bytes.get(first_byte..=last_byte) else {
        return 0;
    };
    let mut count = count_ones(span);
    // The popcount took whole bytes: take back the bits before `first` and after `last`.
    count -= u64::from((span[0] & !bits_from(first)).count_ones());
    count -= u64::from((span[span.len() - 1] & !bits_up_to(last)).count_ones());
    count
}

/// The position of the first bit equal to `bit` among bits `first..=last` of `bytes` (the range
/// lies inside the string), or `None` when every bit there differs.
pub(super) fn find_bit(bytes: &[u8], bit: bool, first: u64, last: u64) -> Option<u64> {
    let (first_byte, last_byte) = (byte_index(first), byte_index(last));
    let span = bytes.get(first_byte..=last_byte)?;
    // `wanted` turns a byte into one whose set bits are the positions holding `bit`.
    let wanted = |byte: u8| if bit { byte } else { !byte };
    let found_at = |index: usize, matches: u8| {
        let index = u64::try_from(first_byte + index).unwrap_or(u64::MAX);
        Some(index * 8 + u64::from(matches.leading_zeros()))
    };
    let head_mask = bits_from(first);
    let tail_mask = bits_up_to(last);
    if span.len() == 1 {
        let matches = wanted(span[0]) & head_mask & tail_mask;
        return if matches == 0 {
            None
        } else {
            found_at(0, matches)
        };
    }
    let head = wanted(span[0]) & head_mask;
    if head != 0 {
        return found_at(0, head);
    }
    let middle = &span[1..span.len() - 1];
    if let Some(index) = first_byte_holding(middle, bit) {
        return found_at(index + 1, wanted(middle[index]));
    }
    let tail = wanted(span[span.len() - 1]) & tail_mask;
    if tail != 0 {
        return found_at(span.len() - 1, tail);
    }
    None
}

/// The index of the first byte of `bytes` with a bit equal to `bit`, skipping whole words of
/// the other value.
fn first_byte_holding(bytes: &[u8], bit: bool) -> Option<usize> {
    let skip: u8 = if bit { 0 } else { 0xff };
    let skip_word = u64::from_ne_bytes([skip; 8]);
    let mut start = 0;
    for word in bytes.chunks_exact(8) {
        if word_at(word) != skip_word {
            break;
        }
        start += 8;
    }
    bytes[start..]
        .iter()
        .position(|&b| b != skip)
        .map(|i| start + i)
}

/// Reads the `bits`-wide (1..=64) unsigned field at bit `offset`; bits past the end of `bytes`
/// read as zero, as the string were zero-padded.
pub(super) fn read_field(bytes: &[u8], offset: u64, bits: u32) -> u64 {
    let (window, _) = load_window(bytes, offset);
    let field = (window >> window_shift(offset, bits)) & field_mask(bits);
    u64::try_from(field).expect("a field is at most 64 bits wide")
}

/// Writes the low `bits` (1..=64) bits of `value` into the field at bit `offset`; the caller
/// grew `bytes` to hold the whole field.
pub(super) fn write_field(bytes: &mut [u8], offset: u64, bits: u32, value: u64) {
    let (window, start) = load_window(bytes, offset);
    let shift = window_shift(offset, bits);
    let mask = field_mask(bits) << shift;
    let window = (window & !mask) | ((u128::from(value) << shift) & mask);
    let updated = window.to_be_bytes();
    let end = bytes.len().min(start.saturating_add(WINDOW_BYTES));
    if let Some(target) = bytes.get_mut(start..end) {
        let len = target.len();
        target.copy_from_slice(&updated[16 - WINDOW_BYTES..16 - WINDOW_BYTES + len]);
    }
}

/// A field of up to 64 bits that starts anywhere in a byte spans at most nine bytes.
const WINDOW_BYTES: usize = 9;

/// The nine bytes from the one holding bit `offset`, zero-padded past the end of `bytes`, as the
/// low 72 bits of a big-endian `u128`; and the index of the first of them.
fn load_window(bytes: &[u8], offset: u64) -> (u128, usize) {
    let start = byte_index(offset);
    let mut window = [0u8; 16];
    if let Some(available) = bytes.get(start..) {
        let len = available.len().min(WINDOW_BYTES);
        window[16 - WINDOW_BYTES..16 - WINDOW_BYTES + len].copy_from_slice(&available[..len]);
    }
    (u128::from_be_bytes(window), start)
}

/// How far right the window must shift to bring a `bits`-wide field at `offset` to bit 0.
fn window_shift(offset: u64, bits: u32) -> u32 {
    let within_byte = u32::try_from(offset % 8).expect("below 8");
    72 - within_byte - bits
}

fn field_mask(bits: u32) -> u128 {
    (1u128 << bits) - 1
}

/// The bits of a byte at or after bit `position`'s place in its byte.
fn bits_from(position: u64) -> u8 {
    0xff >> (position % 8)
}

/// The bits of a byte at or before bit `position`'s place in its byte.
fn bits_up_to(position: u64) -> u8 {
    !(0xff_u8
        .checked_shr(u32::try_from(position % 8 + 1).expect("at most 8"))
        .unwrap_or(0))
}

/// The byte holding bit `position`; positions come from ranges clamped to a string in memory.
fn byte_index(position: u64) -> usize {
    usize::try_from(position / 8).unwrap_or(usize::MAX)
}

fn word_at(chunk: &[u8]) -> u64 {
    u64::from_ne_bytes(chunk.try_into().expect("chunks_exact(8) yields 8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit-by-bit reference for `find_bit`.
    fn slow_find(bytes: &[u8], bit: bool, first: u64, last: u64) -> Option<u64> {
        (first..=last).find(|&p| (bytes[(p / 8) as usize] >> (7 - p % 8)) & 1 == u8::from(bit))
    }

    fn slow_count(bytes: &[u8], first: u64, last: u64) -> u64 {
        (first..=last)
            .filter(|&p| (bytes[(p / 8) as usize] >> (7 - p % 8)) & 1 == 1)
            .count() as u64
    }

    #[test]
    fn counting_and_searching_agree_with_a_bit_by_bit_walk() {
        let mut seed: u32 = 12345;
        let mut next = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            seed >> 16
        };
        for round in 0..300 {
            let len = 1 + (next() % 40) as usize;
            // Sparse, dense and random strings, so both searches meet long skips.
            let bytes: Vec<u8> = (0..len)
                .map(|_| match round % 3 {
                    0 => u8::from(next() % 13 == 0) << (next() % 8),
                    1 => !(u8::from(next() % 13 == 0) << (next() % 8)),
                    _ => (next() & 0xff) as u8,
                })
                .collect();
            let total = len as u64 * 8;
            let first = u64::from(next()) % total;
            let last = first + u64::from(next()) % (total - first);
            assert_eq!(
                count_ones_in(&bytes, first, last),
                slow_count(&bytes, first, last)
            );
            for bit in [false, true] {
                assert_eq!(
                    find_bit(&bytes, bit, first, last),
                    slow_find(&bytes, bit, first, last),
                    "{bytes:?} {bit} {first}..={last}"
                );
            }
        }
    }

    #[test]
    fn whole_string_popcount() {
        assert_eq!(count_ones(b""), 0);
        assert_eq!(count_ones(b"foobar"), 26);
        assert_eq!(count_ones(&[0xff; 37]), 37 * 8);
    }

    #[test]
    fn fields_read_and_write_across_byte_boundaries() {
        let mut bytes = vec![0u8; 2];
        // The example of Redis's docs: u5 = 23 at offset 7 gives 00000001|01110000.
        write_field(&mut bytes, 7, 5, 23);
        assert_eq!(bytes, [0b0000_0001, 0b0111_0000]);
        assert_eq!(read_field(&bytes, 7, 5), 23);
        let mut wide = vec![0xaa; 10];
        write_field(&mut wide, 3, 64, u64::MAX);
        assert_eq!(read_field(&wide, 3, 64), u64::MAX);
        assert_eq!(read_field(&wide, 0, 3), 0b101);
        assert_eq!(read_field(&wide, 67, 5), 0b01010);
        // Past the end reads zeros.
        assert_eq!(read_field(&[0xff], 4, 8), 0xf0);
        assert_eq!(read_field(&[0xff], 800, 64), 0);
    }
}
