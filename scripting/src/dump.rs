//! The FUNCTION DUMP payload, shaped as Redis's: one RDB `FUNCTION2` record (opcode 245 and the
//! library code as an RDB string) per library, then the RDB version (2 bytes, little-endian) and
//! a CRC64 (Jones, little-endian) of everything before it.

/// RDB opcode of a function library.
const OPCODE_FUNCTION2: u8 = 245;
/// The RDB version Redis 7.0 writes.
const RDB_VERSION: u16 = 10;

/// The payload for these library codes.
pub fn dump(codes: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for code in codes {
        out.push(OPCODE_FUNCTION2);
        write_len(&mut out, code.len());
        out.extend_from_slice(code);
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The library codes of a payload, or `None` when its version or checksum is wrong, or it is
/// malformed.
pub fn parse(payload: &[u8]) -> Option<Vec<Vec<u8>>> {
    if payload.len() < 10 {
        return None;
    }
    let (body, crc) = payload.split_at(payload.len() - 8);
    let crc = u64::from_le_bytes(crc.try_into().ok()?);
    if crc64(body) != crc {
        return None;
    }
    let (records, version) = body.split_at(body.len() - 2);
    let version = u16::from_le_bytes(version.try_into().ok()?);
    if version > RDB_VERSION {
        return None;
    }
    let mut codes = Vec::new();
    let mut rest = records;
    while let Some((&op, tail)) = rest.split_first() {
        if op != OPCODE_FUNCTION2 {
            return None;
        }
        let (len, tail) = read_len(tail)?;
        if tail.len() < len {
            return None;
        }
        codes.push(tail[..len].to_vec());
        rest = &tail[len..];
    }
    Some(codes)
}

fn write_len(out: &mut Vec<u8>, len: usize) {
    if len < 64 {
        out.push(u8::try_from(len).unwrap_or(0));
    } else if len < 16384 {
        let n = u16::try_from(len).unwrap_or(0) | 0x4000;
        out.extend_from_slice(&n.to_be_bytes());
    } else if let Ok(n) = u32::try_from(len) {
        out.push(0x80);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

fn read_len(data: &[u8]) -> Option<(usize, &[u8])> {
    let (&first, rest) = data.split_first()?;
    match first >> 6 {
        0 => Some((usize::from(first & 0x3f), rest)),
        1 => {
            let (&second, rest) = rest.split_first()?;
            Some(((usize::from(first & 0x3f) << 8) | usize::from(second), rest))
        }
        2 if first == 0x80 => {
            let bytes: [u8; 4] = rest.get(..4)?.try_into().ok()?;
            Some((usize::try_from(u32::from_be_bytes(bytes)).ok()?, &rest[4..]))
        }
        2 if first == 0x81 => {
            let bytes: [u8; 8] = rest.get(..8)?.try_into().ok()?;
            Some((usize::try_from(u64::from_be_bytes(bytes)).ok()?, &rest[8..]))
        }
        _ => None,
    }
}

/// Redis's CRC64 (Jones polynomial, reflected, no final xor).
fn crc64(data: &[u8]) -> u64 {
    const POLY: u64 = 0x95ac_9329_ac4b_c9b5;
    let mut crc: u64 = 0;
    for &byte in data {
        crc ^= u64::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_matches_redis_check_value() {
        assert_eq!(crc64(b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    }

    #[test]
    fn round_trip() {
        let payload = dump(&[b"#!lua name=a\n", &[b'x'; 100]]);
        assert_eq!(
            parse(&payload),
            Some(vec![b"#!lua name=a\n".to_vec(), vec![b'x'; 100]])
        );
        let mut bad = payload.clone();
        bad[3] ^= 1;
        assert_eq!(parse(&bad), None);
    }
}
