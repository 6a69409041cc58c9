//! The HyperLogLog string format of Redis 7.0, byte for byte, so that a value written by one
//! server counts the same on the other.
//!
//! A value is a 16-byte header — `HYLL`, an encoding byte (0 dense, 1 sparse), three unused
//! bytes, and the last computed cardinality as a little-endian u64 whose top bit marks it stale —
//! followed by 16384 registers (P = 14) in one of two encodings:
//! - dense: 6 bits per register, packed from the least significant bit up, 12288 bytes;
//! - sparse: run-length opcodes, `00xxxxxx` (ZERO: 1..=64 zero registers), `01xxxxxx yyyyyyyy`
//!   (XZERO: 1..=16384 zero registers) and `1vvvvvxx` (VAL: 1..=4 registers of value 1..=32).
//!
//! A sparse value turns dense when a register needs more than 32 or when it would grow past
//! `hll-sparse-max-bytes`. The sparse update splits and merges opcodes exactly as Redis does, so
//! the bytes match for the same commands. Stored values are client data (SET can write
//! anything that starts with a valid header), so every decoder checks its bounds and reports
//! [`Corrupt`] instead of trusting run lengths.

/// Bytes before the registers.
pub const HEADER_LEN: usize = 16;
/// Number of registers (2^14).
pub const REGISTERS: usize = 1 << PRECISION;
/// The length of a dense value: the header plus 16384 six-bit registers.
pub const DENSE_LEN: usize = HEADER_LEN + (REGISTERS * REGISTER_BITS).div_ceil(8);
/// The encoding byte of a dense value.
pub const DENSE: u8 = 0;
/// The encoding byte of a sparse value.
pub const SPARSE: u8 = 1;

/// Bits of the hash that pick the register.
const PRECISION: u32 = 14;
/// Bits of the hash left for the run of zeros.
const Q: u32 = 64 - PRECISION;
const REGISTER_BITS: usize = 6;
const REGISTER_MASK: u16 = 63;
const MAGIC: &[u8; 4] = b"HYLL";
/// The offset of the encoding byte in the header.
const ENCODING_AT: usize = 4;
/// The cached cardinality: header bytes 8..16; the top bit of byte 15 marks it stale.
const CARD_AT: usize = 8;
const STALE_BYTE: usize = 15;
const STALE_BIT: u8 = 0x80;
/// Redis's MurmurHash64A seed for HyperLogLog elements.
const SEED: u64 = 0xadc8_3b19;
const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;
const XZERO_MAX_LEN: usize = 16384;
/// 0.5 / ln(2), the estimator's constant for m -> infinity.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// The value's registers do not decode (a sparse run overflows or falls short of 16384
/// registers, or the encoding is unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// One register per byte, for merging (PFMERGE, multi-key PFCOUNT).
pub type Registers = [u8; REGISTERS];

/// MurmurHash64A (MurmurHash2, 64-bit) reading 8-byte blocks little-endian, as Redis does on
/// every architecture.
pub fn murmur64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let len = u64::try_from(data.len()).unwrap_or(u64::MAX);
    let mut h = seed ^ len.wrapping_mul(M);
    let mut blocks = data.chunks_exact(8);
    for block in &mut blocks {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(block);
        let mut k = u64::from_le_bytes(bytes);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element falls in, and the length of its `0...01` pattern (1..=51): the
/// value that register must at least hold once the element is added.
pub fn pattern(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, SEED);
    let index = usize::try_from(hash & (REGISTERS as u64 - 1)).unwrap_or(0);
    // The sentinel bit keeps the run within Q + 1.
    let rest = (hash >> PRECISION) | (1u64 << Q);
    let run = u8::try_from(rest.trailing_zeros() + 1).unwrap_or(u8::MAX);
    (index, run)
}

/// An empty HyperLogLog as PFADD creates it: sparse, one XZERO covering every register, the
/// cached cardinality 0 and valid.
pub fn new_sparse() -> Vec<u8> {
    let mut value = Vec::with_capacity(HEADER_LEN + 8);
    value.extend_from_slice(MAGIC);
    value.push(SPARSE);
    value.extend_from_slice(&[0; HEADER_LEN - 5]);
    let mut left = REGISTERS;
    while left > 0 {
        let run = left.min(XZERO_MAX_LEN);
        value.extend_from_slice(&xzero(run));
        left -= run;
    }
    value
}

/// Whether `value` passes Redis's header checks (`isHLLObjectOrReply`): long enough, `HYLL`,
/// a known encoding, and exactly [`DENSE_LEN`] bytes when dense. The registers are checked
/// only when decoded.
pub fn has_valid_header(value: &[u8]) -> bool {
    value.len() >= HEADER_LEN
        && value.starts_with(MAGIC)
        && match value[ENCODING_AT] {
            DENSE => value.len() == DENSE_LEN,
            SPARSE => true,
            _ => false,
        }
}

/// Whether a (header-checked) value is dense.
pub fn is_dense(value: &[u8]) -> bool {
    value[ENCODING_AT] == DENSE
}

/// The cached cardinality, unless it is marked stale.
pub fn cached_count(value: &[u8]) -> Option<u64> {
    if value[STALE_BYTE] & STALE_BIT != 0 {
        return None;
    }
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&value[CARD_AT..CARD_AT + 8]);
    Some(u64::from_le_bytes(bytes))
}

/// Caches `count` in the header (which also marks it fresh: estimates never reach 2^63).
pub fn store_count(value: &mut [u8], count: u64) {
    value[CARD_AT..CARD_AT + 8].copy_from_slice(&count.to_le_bytes());
}

/// Marks the cached cardinality stale.
pub fn invalidate(value: &mut [u8]) {
    value[STALE_BYTE] |= STALE_BIT;
}

/// Adds an element; whether a register grew. The value may turn dense.
///
/// # Errors
/// [`Corrupt`] when a sparse value does not decode; registers already written stay written,
/// as in Redis.
pub fn add(value: &mut Vec<u8>, element: &[u8], sparse_max_bytes: u64) -> Result<bool, Corrupt> {
    let (index, run) = pattern(element);
    raise_register(value, index, run, sparse_max_bytes)
}

/// Raises register `index` to `run` if it holds less; whether it changed. The value may turn
/// dense (then the answer is always yes).
///
/// # Errors
/// [`Corrupt`] for a sparse value that does not decode, or an unknown encoding.
pub fn raise_register(
    value: &mut Vec<u8>,
    index: usize,
    run: u8,
    sparse_max_bytes: u64,
) -> Result<bool, Corrupt> {
    match value.get(ENCODING_AT) {
        Some(&DENSE) => match value.get_mut(HEADER_LEN..) {
            Some(registers) => Ok(dense_raise(registers, index, run)),
            None => Err(Corrupt),
        },
        Some(&SPARSE) => sparse_raise(value, index, run, sparse_max_bytes),
        _ => Err(Corrupt),
    }
}

/// Turns a sparse value dense (the header, with its cached cardinality, is kept); a dense
/// value is left alone. Whether it converted.
///
/// # Errors
/// [`Corrupt`] when the sparse registers do not decode; the value is then unchanged.
pub fn make_dense(value: &mut Vec<u8>) -> Result<bool, Corrupt> {
    if is_dense(value) {
        return Ok(false);
    }
    let mut dense = vec![0u8; DENSE_LEN];
    dense[..HEADER_LEN].copy_from_slice(&value[..HEADER_LEN]);
    dense[ENCODING_AT] = DENSE;
    let registers = &mut dense[HEADER_LEN..];
    walk_sparse(value, |start, op| {
        if let Op::Val(v, len) = op {
            for index in start..start + len {
                dense_set(registers, index, v);
            }
        }
    })?;
    *value = dense;
    Ok(true)
}

/// How many registers hold each value (0..=63).
///
/// # Errors
/// [`Corrupt`] when the sparse registers do not decode.
pub fn histogram(value: &[u8]) -> Result<[u32; 64], Corrupt> {
    let mut histogram = [0u32; 64];
    if is_dense(value) {
        let registers = value.get(HEADER_LEN..DENSE_LEN).ok_or(Corrupt)?;
        for group in registers.chunks_exact(3) {
            for register in unpack4(group) {
                histogram[usize::from(register)] += 1;
            }
        }
    } else {
        walk_sparse(value, |_, op| match op {
            Op::Zero(len) => histogram[0] += count_u32(len),
            Op::Val(v, len) => histogram[usize::from(v)] += count_u32(len),
        })?;
    }
    Ok(histogram)
}

/// The histogram of one-byte-per-register registers (the merged union of multi-key PFCOUNT).
pub fn registers_histogram(registers: &Registers) -> [u32; 64] {
    let mut histogram = [0u32; 64];
    for &r in registers {
        histogram[usize::from(r & 63)] += 1;
    }
    histogram
}

/// Raises each of `max`'s registers to the value's, where that is higher.
///
/// # Errors
/// [`Corrupt`] when the sparse registers do not decode.
pub fn merge_into(max: &mut Registers, value: &[u8]) -> Result<(), Corrupt> {
    if is_dense(value) {
        let registers = value.get(HEADER_LEN..DENSE_LEN).ok_or(Corrupt)?;
        for (group, slots) in registers.chunks_exact(3).zip(max.chunks_exact_mut(4)) {
            for (slot, register) in slots.iter_mut().zip(unpack4(group)) {
                *slot = (*slot).max(register);
            }
        }
        return Ok(());
    }
    walk_sparse(value, |start, op| {
        if let Op::Val(v, len) = op {
            for slot in &mut max[start..start + len] {
                *slot = (*slot).max(v);
            }
        }
    })
}

/// The cardinality estimate of a register histogram: Ertl's improved estimator ("New
/// cardinality estimation algorithms for HyperLogLog sketches", 2017), as Redis 7.0 computes it.
pub fn estimate(histogram: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let q = usize::try_from(Q).unwrap_or(50);
    let mut z = m * tau((m - f64::from(histogram[q + 1])) / m);
    for &count in histogram[1..=q].iter().rev() {
        z += f64::from(count);
        z *= 0.5;
    }
    z += m * sigma(f64::from(histogram[0]) / m);
    let estimate = (ALPHA_INF * m * m / z).round();
    if estimate.is_finite() && estimate >= 0.0 {
        // In range: at most about 2^64 registers' worth, and finite.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let estimate = estimate as u64;
        estimate
    } else {
        0
    }
}

/// The sparse opcodes as PFDEBUG DECODE prints them: `z:N` (ZERO), `Z:N` (XZERO), `v:V,N`.
pub fn decode(value: &[u8]) -> String {
    let mut out = String::new();
    let mut p = HEADER_LEN;
    while p < value.len() {
        let (op, size) = op_at(value, p);
        let text = match (op, size) {
            (Op::Zero(len), 1) => format!("z:{len}"),
            (Op::Zero(len), _) => format!("Z:{len}"),
            (Op::Val(v, len), _) => format!("v:{v},{len}"),
        };
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&text);
        p += size;
    }
    out
}

/// The four registers packed in three dense bytes (registers 4k..4k+4 live in bytes 3k..3k+3).
fn unpack4(group: &[u8]) -> [u8; 4] {
    let word = u32::from(group[0]) | u32::from(group[1]) << 8 | u32::from(group[2]) << 16;
    [0, 6, 12, 18].map(|shift| u8::try_from((word >> shift) & 63).unwrap_or(0))
}

/// Register `index` of a dense value (registers only, header excluded).
pub fn dense_get(registers: &[u8], index: usize) -> u8 {
    let byte = index * REGISTER_BITS / 8;
    let shift = index * REGISTER_BITS % 8;
    let b0 = u16::from(registers.get(byte).copied().unwrap_or(0));
    let b1 = u16::from(registers.get(byte + 1).copied().unwrap_or(0));
    let value = ((b0 >> shift) | (b1 << (8 - shift))) & REGISTER_MASK;
    u8::try_from(value).unwrap_or(0)
}

/// Sets register `index` of a dense value to `value` (0..=63).
pub fn dense_set(registers: &mut [u8], index: usize, value: u8) {
    let byte = index * REGISTER_BITS / 8;
    let shift = index * REGISTER_BITS % 8;
    let value = u16::from(value);
    // Only the low 8 bits of each shifted mask and value land in the byte.
    let [low_mask, _] = (!(REGISTER_MASK << shift)).to_le_bytes();
    let [low_bits, _] = (value << shift).to_le_bytes();
    if let Some(b0) = registers.get_mut(byte) {
        *b0 = (*b0 & low_mask) | low_bits;
    }
    // The last register ends inside its byte: nothing spills into a next one.
    if let Some(b1) = registers.get_mut(byte + 1) {
        let [high_mask, _] = (!(REGISTER_MASK >> (8 - shift))).to_le_bytes();
        let [high_bits, _] = (value >> (8 - shift)).to_le_bytes();
        *b1 = (*b1 & high_mask) | high_bits;
    }
}

/// Raises register `index` of a dense value to `run`; whether it grew.
fn dense_raise(registers: &mut [u8], index: usize, run: u8) -> bool {
    if run > dense_get(registers, index) {
        dense_set(registers, index, run);
        true
    } else {
        false
    }
}

// ---------------------------------------------------------------------------------------------
// Sparse encoding.

/// One decoded sparse opcode: a run of zero registers (ZERO or XZERO), or `len` registers of
/// value `v` (VAL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Zero(usize),
    Val(u8, usize),
}

impl Op {
    fn len(self) -> usize {
        match self {
            Op::Zero(len) | Op::Val(_, len) => len,
        }
    }
}

/// The opcode at `p` (which must be in bounds) and its size in bytes. An XZERO cut short by the
/// end of the value reads its missing byte as 0, as Redis reads the string's terminator there.
fn op_at(value: &[u8], p: usize) -> (Op, usize) {
    let b = value[p];
    if b & 0xc0 == 0 {
        (Op::Zero(usize::from(b & 0x3f) + 1), 1)
    } else if b & 0x80 != 0 {
        let (v, len) = val_parts(b);
        (Op::Val(v, len), 1)
    } else {
        let low = value.get(p + 1).copied().unwrap_or(0);
        let len = (usize::from(b & 0x3f) << 8 | usize::from(low)) + 1;
        (Op::Zero(len), 2)
    }
}

/// Calls `f(first register, opcode)` for each opcode of a sparse value.
///
/// # Errors
/// [`Corrupt`] when the runs overflow 16384 registers or do not cover them all; `f` has then
/// seen only in-range runs.
fn walk_sparse(value: &[u8], mut f: impl FnMut(usize, Op)) -> Result<(), Corrupt> {
    let mut index = 0;
    let mut p = HEADER_LEN;
    while p < value.len() {
        let (op, size) = op_at(value, p);
        if index + op.len() > REGISTERS {
            return Err(Corrupt);
        }
        f(index, op);
        index += op.len();
        p += size;
    }
    if index == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// The value (1..=32) and run (1..=4) of a VAL opcode byte.
fn val_parts(b: u8) -> (u8, usize) {
    (((b >> 2) & 0x1f) + 1, usize::from(b & 0x3) + 1)
}

fn val_byte(value: u8, len: usize) -> u8 {
    let len = u8::try_from(len - 1).unwrap_or(0) & 0x3;
    0x80 | ((value - 1) << 2) | len
}

fn zero_byte(len: usize) -> u8 {
    u8::try_from(len - 1).unwrap_or(0) & 0x3f
}

fn xzero(len: usize) -> [u8; 2] {
    let [low, high] = u16::try_from(len - 1).unwrap_or(0).to_le_bytes();
    [0x40 | (high & 0x3f), low]
}

/// Appends the shortest opcode for `len` zero registers (XZERO above 64).
fn push_zeros(seq: &mut Vec<u8>, len: usize) {
    if len > ZERO_MAX_LEN {
        seq.extend_from_slice(&xzero(len));
    } else {
        seq.push(zero_byte(len));
    }
}

/// Redis's sparse update (`hllSparseSet`): find the opcode covering `index`; leave it if it
/// already holds `run` or more; rewrite a one-register opcode in place; otherwise split it into
/// up to three opcodes (before, the register, after), turning the value dense instead when that
/// would pass `sparse_max_bytes`. Then merge equal neighbouring VALs near the change.
fn sparse_raise(
    value: &mut Vec<u8>,
    index: usize,
    run: u8,
    sparse_max_bytes: u64,
) -> Result<bool, Corrupt> {
    if run > VAL_MAX_VALUE {
        return promote(value, index, run);
    }
    // Step 1: the opcode covering `index`.
    let mut p = HEADER_LEN;
    let mut first = 0;
    let mut prev = None;
    let mut found = None;
    while p < value.len() {
        let (op, size) = op_at(value, p);
        if index < first + op.len() {
            found = Some((op, size));
            break;
        }
        prev = Some(p);
        p += size;
        first += op.len();
    }
    let Some((op, size)) = found else {
        return Err(Corrupt);
    };
    // Step 2: the cases that need no split.
    match (op, size) {
        (Op::Val(old, _), _) if old >= run => return Ok(false),
        (Op::Val(_, 1), _) | (Op::Zero(1), 1) => {
            value[p] = val_byte(run, 1);
            merge_neighbours(value, prev);
            invalidate(value);
            return Ok(true);
        }
        _ => {}
    }
    // Step 3: split into at most five bytes (XZERO, VAL, XZERO).
    let last = first + op.len() - 1;
    let mut seq = Vec::with_capacity(5);
    match op {
        Op::Zero(_) => {
            if index != first {
                push_zeros(&mut seq, index - first);
            }
            seq.push(val_byte(run, 1));
            if index != last {
                push_zeros(&mut seq, last - index);
            }
        }
        Op::Val(current, _) => {
            if index != first {
                seq.push(val_byte(current, index - first));
            }
            seq.push(val_byte(run, 1));
            if index != last {
                seq.push(val_byte(current, last - index));
            }
        }
    }
    if seq.len() > size {
        let grown = u64::try_from(value.len() + seq.len() - size).unwrap_or(u64::MAX);
        if grown > sparse_max_bytes {
            return promote(value, index, run);
        }
    }
    let old_end = p + size;
    if old_end <= value.len() {
        value.splice(p..old_end, seq);
    } else {
        // An XZERO cut short at the end: Redis's length arithmetic counts its missing byte, so
        // the new sequence loses its last byte.
        value.splice(p.., seq);
        value.pop();
    }
    merge_neighbours(value, prev);
    invalidate(value);
    Ok(true)
}

/// Redis's step 4 of the sparse update: starting at the opcode before the change, look at up to
/// five opcodes and fold each VAL into an equal VAL right after it while their runs fit in one.
fn merge_neighbours(value: &mut Vec<u8>, prev: Option<usize>) {
    let mut p = prev.unwrap_or(HEADER_LEN);
    let mut budget = 5;
    while p < value.len() && budget > 0 {
        budget -= 1;
        let b = value[p];
        if b & 0xc0 == 0x40 {
            p += 2;
            continue;
        }
        if b & 0xc0 == 0 {
            p += 1;
            continue;
        }
        if let Some(&next) = value.get(p + 1)
            && next & 0x80 != 0
        {
            let (v1, l1) = val_parts(b);
            let (v2, l2) = val_parts(next);
            if v1 == v2 && l1 + l2 <= VAL_MAX_LEN {
                value[p + 1] = val_byte(v1, l1 + l2);
                value.remove(p);
                continue;
            }
        }
        p += 1;
    }
}

/// Turns the value dense, then raises the register there.
fn promote(value: &mut Vec<u8>, index: usize, run: u8) -> Result<bool, Corrupt> {
    make_dense(value)?;
    Ok(dense_raise(&mut value[HEADER_LEN..], index, run))
}

fn count_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Ertl's sigma function; infinite at 1 (every register zero: the estimate is then 0).
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let previous = z;
        z += x * y;
        y += y;
        if previous == z {
            return z;
        }
    }
}

/// Ertl's tau function.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let previous = z;
        y *= 0.5;
        // C compilers turn Redis's pow(1 - x, 2) into this exact product.
        z -= (1.0 - x) * (1.0 - x) * y;
        if previous == z {
            return z / 3.0;
        }
    }
}
