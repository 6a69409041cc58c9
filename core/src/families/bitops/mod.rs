//! Bitmaps and bitfields on strings: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and
//! BITFIELD_RO.
//!
//! A bitmap is a plain string value (`Value::Int`, `Str` or `Mutable`), bit 0 being the most
//! significant bit of the first byte. Readers see a missing key as an endless run of zeros.
//! Writers (SETBIT, BITFIELD's SET and INCRBY) change the string in place as `Value::Mutable`,
//! growing it with zero bytes up to the last bit they touch; offsets are refused from
//! `proto-max-bulk-len` bytes on. The bit-level algorithms live in `bits`, BITFIELD in
//! `bitfield`.

use std::borrow::Cow;

use oxidis_protocol::Frame;

mod bitfield;
mod bits;

use crate::command::{
    Arg, Args, Arity, CommandResult, CommandSpec, Family, Flag::*, Group, KeyFlag::*, KeySpec,
    keys::bitfield_keys, parse_i64,
};
use crate::context::CommandContext;
use crate::db::Ttl;
use crate::errors::CommandError;
use crate::errors::bitops::{
    BIT_ARGUMENT, BIT_OFFSET_OUT_OF_RANGE, BIT_VALUE_OUT_OF_RANGE, BITOP_NOT_SINGLE_SOURCE,
};
use crate::events::class;
use crate::families::count_reply;
use crate::families::string::make_mutable;
use crate::types::{Value, parse_canonical_i64};

const RO_ACCESS: &[KeySpec] = &[KeySpec::single(1, &[Ro, Access])];
const INDEX_UNIT: Arg = Arg::one_of(
    "index_unit",
    &[Arg::token("byte", "BYTE"), Arg::token("bit", "BIT")],
)
.optional()
.since("7.0.0");
const ENCODING_OFFSET: &[Arg] = &[Arg::string("encoding"), Arg::integer("offset")];
const BITFIELD_ARGS: &[Arg] = &[
    Arg::key("key", 0),
    Arg::one_of(
        "operation",
        &[
            Arg::block("encoding_offset", ENCODING_OFFSET).with_token("GET"),
            Arg::block(
                "write",
                &[
                    Arg::one_of(
                        "wrap_sat_fail",
                        &[
                            Arg::token("wrap", "WRAP"),
                            Arg::token("sat", "SAT"),
                            Arg::token("fail", "FAIL"),
                        ],
                    )
                    .with_token("OVERFLOW")
                    .optional(),
                    Arg::one_of(
                        "write_operation",
                        &[
                            Arg::block(
                                "encoding_offset_value",
                                &[
                                    Arg::string("encoding"),
                                    Arg::integer("offset"),
                                    Arg::integer("value"),
                                ],
                            )
                            .with_token("SET"),
                            Arg::block(
                                "encoding_offset_increment",
                                &[
                                    Arg::string("encoding"),
                                    Arg::integer("offset"),
                                    Arg::integer("increment"),
                                ],
                            )
                            .with_token("INCRBY"),
                        ],
                    ),
                ],
            ),
        ],
    )
    .multiple()
    .optional(),
];

/// The bitmap family; `families::BUILTIN` lists it, and nothing else does.
pub static FAMILY: Family = Family {
    group: Group::Bitmap,
    commands: &[
        CommandSpec::new("setbit", Arity::Exact(4), setbit)
            .flags(&[Write, DenyOom])
            .keys(&[KeySpec::single(1, &[Rw, Access, Update])])
            .doc(
                "Sets or clears one bit of a string, growing it with zero bytes if needed.",
                "2.2.0",
                "O(1)",
            )
            .args(&[
                Arg::key("key", 0),
                Arg::integer("offset"),
                Arg::integer("value"),
            ]),
        CommandSpec::new("getbit", Arity::Exact(3), getbit)
            .flags(&[ReadOnly, Fast])
            .keys(RO_ACCESS)
            .doc("Returns one bit of a string.", "2.2.0", "O(1)")
            .args(&[Arg::key("key", 0), Arg::integer("offset")]),
        CommandSpec::new("bitcount", Arity::AtLeast(2), bitcount)
            .flags(&[ReadOnly])
            .keys(RO_ACCESS)
            .doc(
                "Counts the bits set to 1 in a string, or in a range of it.",
                "2.6.0",
                "O(N)",
            )
            .args(&[
                Arg::key("key", 0),
                Arg::block(
                    "index",
                    &[Arg::integer("start"), Arg::integer("end"), INDEX_UNIT],
                )
                .optional(),
            ]),
        CommandSpec::new("bitpos", Arity::AtLeast(3), bitpos)
            .flags(&[ReadOnly])
            .keys(RO_ACCESS)
            .doc(
                "Finds the first bit set to 1 (or 0) in a string, or in a range of it.",
                "2.8.7",
                "O(N)",
            )
            .args(&[
                Arg::key("key", 0),
                Arg::integer("bit"),
                Arg::block(
                    "index",
                    &[
                        Arg::integer("start"),
                        Arg::block("end_index", &[Arg::integer("end"), INDEX_UNIT]).optional(),
                    ],
                )
                .optional(),
            ]),
        CommandSpec::new("bitop", Arity::AtLeast(4), bitop)
            .flags(&[Write, DenyOom])
            .keys(&[
                KeySpec::single(2, &[Ow, Update]),
                KeySpec::range(3, -1, 1, &[Ro, Access]),
            ])
            .doc(
                "Combines strings bit by bit (AND, OR, XOR, NOT) into a destination key.",
                "2.6.0",
                "O(N)",
            )
            .args(&[
                Arg::string("operation"),
                Arg::key("destkey", 0),
                Arg::key("key", 1).multiple(),
            ]),
        CommandSpec::new("bitfield", Arity::AtLeast(2), bitfield::bitfield)
            .flags(&[Write, DenyOom])
            .keys(&[KeySpec::single(1, &[Rw, Update, Access, VariableFlags])])
            .key_finder(bitfield_keys)
            .doc(
                "Reads and changes integers of any width at any bit offset of a string.",
                "3.2.0",
                "O(1) for each subcommand specified",
            )
            .args(BITFIELD_ARGS),
        CommandSpec::new("bitfield_ro", Arity::AtLeast(2), bitfield::bitfield_ro)
            .flags(&[ReadOnly, Fast])
            .keys(RO_ACCESS)
            .doc(
                "Reads integers of any width at any bit offset of a string (BITFIELD's GET only).",
                "6.0.0",
                "O(1) for each subcommand specified",
            )
            .args(&[
                Arg::key("key", 0),
                Arg::block("encoding_offset", ENCODING_OFFSET)
                    .with_token("GET")
                    .optional()
                    .multiple()
                    .multiple_token(),
            ]),
    ],
};

fn setbit(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let offset = parse_bit_offset(args.next_bytes()?, None, ctx.config().proto_max_bulk_len)?;
    let on = match parse_canonical_i64(args.next_bytes()?) {
        Some(0) => false,
        Some(1) => true,
        _ => return Err(CommandError::msg(BIT_VALUE_OUT_OF_RANGE)),
    };
    let byte = offset_byte(offset)?;
    let mask = 0x80u8 >> (offset % 8);
    let (buffer, growth) = string_for_bit_write(ctx, key, byte + 1)?;
    let was_on = buffer[byte] & mask != 0;
    // A new key or a longer string counts as a change even when the bit keeps its value.
    if growth != Growth::Same || was_on != on {
        if on {
            buffer[byte] |= mask;
        } else {
            buffer[byte] &= !mask;
        }
        ctx.notify(class::STRING, "setbit", key);
        if growth != Growth::Created {
            ctx.changed(1);
        }
    }
    Ok(Frame::Integer(i64::from(was_on)))
}

fn getbit(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let offset = parse_bit_offset(args.next_bytes()?, None, ctx.config().proto_max_bulk_len)?;
    let Some(value) = ctx.read(key) else {
        return Ok(Frame::Integer(0));
    };
    let bit = value
        .with_string_bytes(|s| bits::read_field(s, offset, 1))
        .ok_or(CommandError::WrongType)?;
    Ok(Frame::Integer(i64::from(bit == 1)))
}

fn bitcount(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    // The key is looked up and type-checked before the range is read.
    let Some(value) = ctx.read(key) else {
        return Ok(Frame::Integer(0));
    };
    value
        .with_string_bytes(|s| count_in_string(s, args))
        .ok_or(CommandError::WrongType)?
}

fn bitpos(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let bit = match args.next_i64()? {
        0 => false,
        1 => true,
        _ => return Err(CommandError::msg(BIT_ARGUMENT)),
    };
    // A missing key is an endless run of zeros, whatever range was asked for.
    let Some(value) = ctx.read(key) else {
        return Ok(Frame::Integer(if bit { -1 } else { 0 }));
    };
    value
        .with_string_bytes(|s| find_in_string(s, bit, args))
        .ok_or(CommandError::WrongType)?
}

fn bitop(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let op = parse_bit_operation(args.next_bytes()?)?;
    let dest = args.next_bytes()?;
    let sources = args.rest();
    if op == BitOperation::Not && sources.len() != 1 {
        return Err(CommandError::msg(BITOP_NOT_SINGLE_SOURCE));
    }
    // First every source is looked up (expiring what has expired, counting hits and misses)
    // and type-checked in order; then the now stable keyspace is borrowed to compute.
    for key in sources {
        if ctx.read(key).is_some_and(|v| !v.is_string()) {
            return Err(CommandError::WrongType);
        }
    }
    let result = {
        let db = ctx.db();
        let inputs: Vec<Cow<'_, [u8]>> = sources
            .iter()
            .map(|key| match db.find(key).map(|pos| &db.entry(pos).value) {
                Some(Value::Str(s)) => Cow::Borrowed(s.as_slice()),
                Some(Value::Mutable(v)) => Cow::Borrowed(v.as_slice()),
                Some(Value::Int(n)) => {
                    Cow::Owned(itoa::Buffer::new().format(*n).as_bytes().to_vec())
                }
                _ => Cow::Borrowed(&[][..]),
            })
            .collect();
        combine(op, &inputs)
    };
    let len = result.len();
    if len == 0 {
        // Only empty inputs: the destination is deleted, whatever it held.
        if ctx.delete(dest) {
            ctx.notify(class::GENERIC, "del", dest);
        }
    } else {
        // Stored as Redis's `createObject` leaves it: `raw`, never `int` or `embstr`.
        ctx.set(dest, Value::Mutable(Box::new(result)), Ttl::Clear);
        ctx.notify(class::STRING, "set", dest);
    }
    Ok(count_reply(len))
}

// ---------------------------------------------------------------------------------------------
// Helpers.

/// Reads a bit offset as Redis's `getBitOffsetFromArgument`. With `field_bits` (BITFIELD), a
/// `#N` offset means the N-th field of that width: Redis multiplies without an overflow check,
/// so a huge N wraps around (`#2305843009213693952` with u8 is offset 0), and so do we.
fn parse_bit_offset(
    arg: &[u8],
    field_bits: Option<u32>,
    max_bulk_len: u64,
) -> Result<u64, CommandError> {
    let refused = || CommandError::msg(BIT_OFFSET_OUT_OF_RANGE);
    let offset = match (arg.split_first(), field_bits) {
        (Some((b'#', index)), Some(bits)) => parse_canonical_i64(index)
            .ok_or_else(refused)?
            .wrapping_mul(i64::from(bits)),
        _ => parse_canonical_i64(arg).ok_or_else(refused)?,
    };
    let offset = u64::try_from(offset).map_err(|_| refused())?;
    if offset >> 3 >= max_bulk_len {
        return Err(refused());
    }
    Ok(offset)
}

/// The index of the byte holding bit `offset`, which `parse_bit_offset` kept below
/// `proto-max-bulk-len` bytes.
fn offset_byte(offset: u64) -> Result<usize, CommandError> {
    usize::try_from(offset >> 3).map_err(|_| CommandError::StringTooLong)
}

/// What [`string_for_bit_write`] had to do to the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Growth {
    /// The key did not exist: a zeroed string was created (and counted as one change).
    Created,
    /// The string was padded with zero bytes.
    Grown,
    /// The string was long enough.
    Same,
}

/// Redis's `SDS_MAX_PREALLOC`: strings below it grow by doubling, longer ones by this much.
const GROWTH_STEP: usize = 1024 * 1024;

/// Redis's `lookupStringForBitCommand`: the string under `key` as a growable buffer of at least
/// `len` bytes, creating it (zeroed) or padding it with zero bytes as needed; WRONGTYPE for
/// another type.
fn string_for_bit_write<'c>(
    ctx: &'c mut CommandContext<'_>,
    key: &[u8],
    len: usize,
) -> Result<(&'c mut Vec<u8>, Growth), CommandError> {
    let (pos, growth) = match ctx.lookup_write(key) {
        Some(pos) => (pos, Growth::Same),
        None => {
            let pos = ctx.set(key, Value::Mutable(Box::new(vec![0; len])), Ttl::Clear);
            (pos, Growth::Created)
        }
    };
    let buffer = make_mutable(&mut ctx.db().entry_mut(pos).value)?;
    if buffer.len() < len {
        if buffer.capacity() < len {
            // Redis's greedy sds growth: double up to 1 MB, then 1 MB of room at a time, so a
            // large bitmap grown bit by bit keeps little slack (a Vec would double).
            let room = if len < GROWTH_STEP {
                len * 2
            } else {
                len.saturating_add(GROWTH_STEP)
            };
            buffer.reserve_exact(room - buffer.len());
        }
        buffer.resize(len, 0);
        return Ok((buffer, Growth::Grown));
    }
    Ok((buffer, growth))
}

/// What BITCOUNT's and BITPOS's start and end count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Byte,
    Bit,
}

fn parse_unit(arg: &[u8]) -> Result<Unit, CommandError> {
    if arg.eq_ignore_ascii_case(b"bit") {
        Ok(Unit::Bit)
    } else if arg.eq_ignore_ascii_case(b"byte") {
        Ok(Unit::Byte)
    } else {
        Err(CommandError::Syntax)
    }
}

/// The inclusive bit range that `start..=end` (in `unit`s; negative counts from the end)
/// selects in a string of `len` bytes, clamped to the string; `None` when nothing is left.
fn bit_range(len: usize, start: i64, end: i64, unit: Unit) -> Option<(u64, u64)> {
    let bytes = i64::try_from(len).unwrap_or(i64::MAX);
    let total = match unit {
        Unit::Byte => bytes,
        Unit::Bit => bytes.saturating_mul(8),
    };
    let start = if start < 0 { total + start } else { start }.max(0);
    let end = if end < 0 { total + end } else { end }
        .max(0)
        .min(total - 1);
    if start > end {
        return None;
    }
    let (start, end) = (u64::try_from(start).ok()?, u64::try_from(end).ok()?);
    match unit {
        Unit::Byte => Some((start * 8, end * 8 + 7)),
        Unit::Bit => Some((start, end)),
    }
}

/// BITCOUNT's work once the key is known to hold string `s`.
fn count_in_string(s: &[u8], args: &mut Args<'_>) -> CommandResult {
    let range = match args.remaining() {
        0 => bit_range(s.len(), 0, -1, Unit::Byte),
        2 | 3 => {
            let start = args.next_i64()?;
            let end = args.next_i64()?;
            // Redis answers 0 here before it looks at BYTE|BIT, even a misspelled one.
            if start < 0 && end < 0 && start > end {
                return Ok(Frame::Integer(0));
            }
            let unit = match args.peek() {
                Some(arg) => parse_unit(arg)?,
                None => Unit::Byte,
            };
            bit_range(s.len(), start, end, unit)
        }
        _ => return Err(CommandError::Syntax),
    };
    let count = range.map_or(0, |(first, last)| bits::count_ones_in(s, first, last));
    Ok(count_reply(count))
}

/// BITPOS's work once the key is known to hold string `s`.
fn find_in_string(s: &[u8], bit: bool, args: &mut Args<'_>) -> CommandResult {
    let (range, end_given) = match args.remaining() {
        0 => (bit_range(s.len(), 0, -1, Unit::Byte), false),
        1..=3 => {
            let start = args.next_i64()?;
            let end = args.next_bytes().ok();
            // Redis reads BYTE|BIT before it parses the end.
            let unit = match args.next_bytes().ok() {
                Some(arg) => parse_unit(arg)?,
                None => Unit::Byte,
            };
            let end = end.map(|e| parse_i64(e)).transpose()?;
            (
                bit_range(s.len(), start, end.unwrap_or(-1), unit),
                end.is_some(),
            )
        }
        _ => return Err(CommandError::Syntax),
    };
    let Some((first, last)) = range else {
        // An empty range holds neither a 0 nor a 1.
        return Ok(Frame::Integer(-1));
    };
    let position = match bits::find_bit(s, bit, first, last) {
        Some(position) => i64::try_from(position).unwrap_or(i64::MAX),
        None if bit => -1,
        // Looking for a 0 past the end: without an explicit end the string counts as
        // zero-padded, so the first bit after it is the answer.
        None if end_given => -1,
        None => i64::try_from(last + 1).unwrap_or(i64::MAX),
    };
    Ok(Frame::Integer(position))
}

/// BITOP's operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BitOperation {
    And,
    Or,
    Xor,
    Not,
}

fn parse_bit_operation(name: &[u8]) -> Result<BitOperation, CommandError> {
    [
        (BitOperation::And, "and"),
        (BitOperation::Or, "or"),
        (BitOperation::Xor, "xor"),
        (BitOperation::Not, "not"),
    ]
    .into_iter()
    .find(|(_, n)| name.eq_ignore_ascii_case(n.as_bytes()))
    .map(|(op, _)| op)
    .ok_or(CommandError::Syntax)
}

/// BITOP's result: the inputs, zero-padded to the longest, combined byte by byte (loops the
/// compiler turns into wide vector operations).
fn combine(op: BitOperation, inputs: &[Cow<'_, [u8]>]) -> Vec<u8> {
    let len = inputs.iter().map(|i| i.len()).max().unwrap_or(0);
    let mut out = vec![0u8; len];
    let Some((first, rest)) = inputs.split_first() else {
        return out;
    };
    out[..first.len()].copy_from_slice(first);
    match op {
        BitOperation::Not => out.iter_mut().for_each(|b| *b = !*b),
        BitOperation::And => {
            for input in rest {
                out.iter_mut().zip(input.iter()).for_each(|(o, i)| *o &= i);
                // A shorter input is zero-padded: everything past it clears.
                out[input.len()..].fill(0);
            }
        }
        BitOperation::Or => {
            for input in rest {
                out.iter_mut().zip(input.iter()).for_each(|(o, i)| *o |= i);
            }
        }
        BitOperation::Xor => {
            for input in rest {
                out.iter_mut().zip(input.iter()).for_each(|(o, i)| *o ^= i);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
