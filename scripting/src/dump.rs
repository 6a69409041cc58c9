//! The FUNCTION DUMP payload, shaped as Redis's: one RDB `FUNCTION2` record (opcode 245 and the
//! library code as an RDB string) per library, then the RDB version (2 bytes, little-endian) and
//! a CRC64 (Jones, little-endian) of everything before it.
//!
//! Redis writes a library's code LZF-compressed when that saves more than 4 bytes (its RDB
//! string encoding), so a payload from a real server is read with LZF and the integer string
//! encodings too; ours are written plain, which Redis reads as well.

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
        let (code, tail) = read_string(tail)?;
        codes.push(code);
        rest = tail;
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

/// An RDB string: plain, an integer encoding (`0xC0`-`0xC2`) or LZF-compressed (`0xC3`).
fn read_string(data: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let (&first, rest) = data.split_first()?;
    match first {
        0xc0 => {
            let (&b, rest) = rest.split_first()?;
            Some((i8::from_le_bytes([b]).to_string().into_bytes(), rest))
        }
        0xc1 => {
            let bytes: [u8; 2] = rest.get(..2)?.try_into().ok()?;
            Some((
                i16::from_le_bytes(bytes).to_string().into_bytes(),
                &rest[2..],
            ))
        }
        0xc2 => {
            let bytes: [u8; 4] = rest.get(..4)?.try_into().ok()?;
            Some((
                i32::from_le_bytes(bytes).to_string().into_bytes(),
                &rest[4..],
            ))
        }
        0xc3 => {
            let (compressed_len, rest) = read_len(rest)?;
            let (len, rest) = read_len(rest)?;
            let compressed = rest.get(..compressed_len)?;
            Some((lzf_decompress(compressed, len)?, &rest[compressed_len..]))
        }
        _ => {
            let (len, rest) = read_len(data)?;
            let bytes = rest.get(..len)?;
            Some((bytes.to_vec(), &rest[len..]))
        }
    }
}

/// LZF: control bytes below 32 start a literal run of `ctrl + 1` bytes; others are a
/// back-reference of length `(ctrl >> 5) + 2` (7 means one more length byte follows) at
/// distance `((ctrl & 31) << 8) + next byte + 1`, which may overlap what it produces.
/// `None` unless it yields exactly `len` bytes.
fn lzf_decompress(input: &[u8], len: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(len);
    let mut i = 0;
    while i < input.len() {
        let ctrl = usize::from(input[i]);
        i += 1;
        if ctrl < 32 {
            let run = input.get(i..i + ctrl + 1)?;
            out.extend_from_slice(run);
            i += ctrl + 1;
        } else {
            let mut length = ctrl >> 5;
            if length == 7 {
                length += usize::from(*input.get(i)?);
                i += 1;
            }
            let low = usize::from(*input.get(i)?);
            i += 1;
            let distance = ((ctrl & 0x1f) << 8) + low + 1;
            let start = out.len().checked_sub(distance)?;
            for k in 0..length + 2 {
                let byte = out[start + k];
                out.push(byte);
            }
        }
        if out.len() > len {
            return None;
        }
    }
    (out.len() == len).then_some(out)
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

    /// FUNCTION DUMP of redis-server 7.0.15 with two libraries (LZF-compressed codes).
    const REDIS_PAYLOAD: &[&str] = &[
        "f5c3406940721f23216c7561206e616d653d6c6962320a72656469732e72656769737465725f6607756e6374",
        "696f6e7bc008005f602a0e276632272c2063616c6c6261636b3dc01c1f28292072657475726e203120656e64",
        "2c20666c6167733d7b276e6f2d77726974046573277d7df5c34079412c1f23216c7561206e616d653d6d796c",
        "69620a72656469732e72656769737465725f0b66756e6374696f6e28276d79400b02272c2040066012116b65",
        "79732c2061726773292072657475726e2006403d0863616c6c2827676574202d4024085b315d2920656e6429",
        "e0175d00322030e0525e0033e0335e0164290a0005c0cae97f56a9b3",
    ];

    #[test]
    fn reads_redis_compressed_payload() {
        let hex: String = REDIS_PAYLOAD.concat();
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let codes = parse(&bytes).unwrap();
        assert_eq!(codes.len(), 2);
        assert_eq!(
            String::from_utf8(codes[0].clone()).unwrap(),
            "#!lua name=lib2\nredis.register_function{function_name='f2', \
             callback=function() return 1 end, flags={'no-writes'}}"
        );
        let second = String::from_utf8(codes[1].clone()).unwrap();
        assert!(second.starts_with("#!lua name=mylib\nredis.register_function('myfunc', "));
        assert!(second.ends_with("redis.register_function('myfunc3', function(keys, args) return redis.call('get', keys[1]) end)"));
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
