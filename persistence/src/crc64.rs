//! CRC-64/Jones as Redis uses it for RDB files and DUMP payloads: the polynomial
//! 0xad93d23594c935a9, reflected input and output, initial value 0, no final xor. The check
//! value of "123456789" is 0xe9c6d914c4b8d9ca.

/// The reflected polynomial (bit order reversed), for the right-shifting table algorithm.
const POLY_REFLECTED: u64 = 0x95ac_9329_ac4b_c9b5;

const TABLE: [u64; 256] = build_table();

/// Slicing-by-8 tables: `SLICES[k][i]` is the CRC of byte `i` followed by `k` zero bytes, so
/// eight bytes are folded in with eight lookups instead of eight dependent steps.
const SLICES: [[u64; 256]; 8] = build_slices();

const fn build_slices() -> [[u64; 256]; 8] {
    let mut slices = [[0u64; 256]; 8];
    slices[0] = TABLE;
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = slices[k - 1][i];
            slices[k][i] = (prev >> 8) ^ TABLE[(prev & 0xff) as usize];
            i += 1;
        }
        k += 1;
    }
    slices
}

const fn build_table() -> [u64; 256] {
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY_REFLECTED
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// Continues a CRC over `data` (start with 0).
pub fn update(mut crc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = crc ^ u64::from_le_bytes(word);
        let byte = |n: u32| ((x >> (8 * n)) & 0xff) as usize;
        crc = SLICES[7][byte(0)]
            ^ SLICES[6][byte(1)]
            ^ SLICES[5][byte(2)]
            ^ SLICES[4][byte(3)]
            ^ SLICES[3][byte(4)]
            ^ SLICES[2][byte(5)]
            ^ SLICES[1][byte(6)]
            ^ SLICES[0][byte(7)];
    }
    for &b in chunks.remainder() {
        crc = TABLE[usize::from((crc as u8) ^ b)] ^ (crc >> 8);
    }
    crc
}

/// The CRC of `data`.
pub fn checksum(data: &[u8]) -> u64 {
    update(0, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value() {
        assert_eq!(checksum(b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        assert_eq!(update(checksum(b"1234"), b"56789"), 0xe9c6_d914_c4b8_d9ca);
    }

    #[test]
    fn slicing_matches_the_bytewise_algorithm() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let mut bytewise = 0u64;
        for &b in &data {
            bytewise = TABLE[usize::from((bytewise as u8) ^ b)] ^ (bytewise >> 8);
        }
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            let (a, b) = data.split_at(split);
            assert_eq!(update(update(0, a), b), bytewise, "split at {split}");
        }
    }
}
