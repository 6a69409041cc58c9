//! BITFIELD and BITFIELD_RO: signed and unsigned integers of 1 to 64 bits (unsigned up to 63,
//! so every value fits an integer reply) at any bit offset of a string, read with GET and
//! changed with SET and INCRBY under the OVERFLOW policy in force (WRAP, SAT or FAIL).
//!
//! As in Redis, every operation is parsed before any runs; a command with only GETs reads the
//! key, one with a write grows the string once, up to the farthest bit written, then runs the
//! operations in order (a GET sees the writes before it).

use bytes::Bytes;
use oxidis_protocol::Frame;

use super::{Growth, bits, parse_bit_offset, string_for_bit_write};
use crate::command::{Args, CommandResult, parse_i64};
use crate::context::CommandContext;
use crate::errors::CommandError;
use crate::errors::bitops::{BITFIELD_RO_GET_ONLY, INVALID_BITFIELD_TYPE, INVALID_OVERFLOW_TYPE};
use crate::events::class;
use crate::types::parse_canonical_i64;

pub(super) fn bitfield(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    run_bitfield(ctx, args, Access::ReadWrite)
}

pub(super) fn bitfield_ro(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    run_bitfield(ctx, args, Access::GetOnly)
}

/// Which operations the command accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    ReadWrite,
    GetOnly,
}

/// What to do when a SET or INCRBY result does not fit its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Overflow {
    /// Keep the low bits (two's complement for signed fields).
    Wrap,
    /// Clamp to the field's minimum or maximum.
    Sat,
    /// Write nothing and answer nil.
    Fail,
}

/// A field's type: `i1`..`i64` or `u1`..`u63`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FieldType {
    signed: bool,
    bits: u32,
}

impl FieldType {
    /// The smallest and largest values the field holds.
    fn limits(self) -> (i128, i128) {
        if self.signed {
            let half = 1i128 << (self.bits - 1);
            (-half, half - 1)
        } else {
            (0, (1i128 << self.bits) - 1)
        }
    }

    /// The field at `offset` of `bytes`, as a number (zero-padded past the end).
    fn read(self, bytes: &[u8], offset: u64) -> i128 {
        let raw = bits::read_field(bytes, offset, self.bits);
        if self.signed && self.bits < 64 && raw & (1 << (self.bits - 1)) != 0 {
            // Sign-extend: the field's top bit is the sign.
            i128::from(raw) - (1i128 << self.bits)
        } else if self.signed {
            i128::from(raw.cast_signed())
        } else {
            i128::from(raw)
        }
    }

    /// Stores `value`, which [`FieldType::settle`] brought within the field's limits.
    fn write(self, bytes: &mut [u8], offset: u64, value: i128) {
        // Two's complement in the field's width: the low bits of value mod 2^bits.
        let low_bits = value.rem_euclid(1i128 << self.bits);
        let raw = u64::try_from(low_bits).expect("a field is at most 64 bits wide");
        bits::write_field(bytes, offset, self.bits, raw);
    }

    /// What the field holds after writing `base + increment` (SET passes its value and 0),
    /// under `overflow`: `None` when the write must fail. `base` is an i64 for a signed field
    /// and a u64 for an unsigned one.
    fn settle(self, base: i128, increment: i64, overflow: Overflow) -> Option<i128> {
        let wanted = base + i128::from(increment);
        let bound = if self.signed {
            let base = i64::try_from(base).expect("a signed base is an i64");
            signed_bound(base, increment, self.bits)
        } else {
            let base = u64::try_from(base).expect("an unsigned base is a u64");
            unsigned_bound(base, increment, self.bits)
        };
        if bound == Bound::Within {
            return Some(wanted);
        }
        let (min, max) = self.limits();
        match overflow {
            Overflow::Fail => None,
            Overflow::Sat => Some(if bound == Bound::Above { max } else { min }),
            Overflow::Wrap => {
                let low_bits = wanted.rem_euclid(1i128 << self.bits);
                Some(if low_bits > max {
                    low_bits - (1i128 << self.bits)
                } else {
                    low_bits
                })
            }
        }
    }
}

/// Where `base + increment` falls against a field's range, as Redis decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Within,
    Above,
    Below,
}

/// Redis's signed overflow test, quirk included: it compares the increment with `max - base`
/// computed in wrapping 64-bit arithmetic, so a SET of a value within 2^bits of i64::MIN
/// (say `SET i9 0 -9223372036854775808`) counts as overflowing upwards, and SAT stores the
/// maximum. Everywhere else this is exactly "the sum leaves the range".
fn signed_bound(base: i64, increment: i64, bits: u32) -> Bound {
    let max: i64 = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let max_increment = max
        .cast_unsigned()
        .wrapping_sub(base.cast_unsigned())
        .cast_signed();
    let min_increment = min.wrapping_sub(base);
    if base > max
        || (bits != 64 && increment > max_increment)
        || (base >= 0 && increment > 0 && increment > max_increment)
    {
        Bound::Above
    } else if base < min
        || (bits != 64 && increment < min_increment)
        || (base < 0 && increment < 0 && increment < min_increment)
    {
        Bound::Below
    } else {
        Bound::Within
    }
}

/// Redis's unsigned overflow test (fields of at most 63 bits, so the limits fit an i64).
fn unsigned_bound(base: u64, increment: i64, bits: u32) -> Bound {
    let max: u64 = (1u64 << bits) - 1;
    let max_increment = max.wrapping_sub(base).cast_signed();
    let min_increment = base.wrapping_neg().cast_signed();
    if base > max || (increment > 0 && increment > max_increment) {
        Bound::Above
    } else if increment < 0 && increment < min_increment {
        Bound::Below
    } else {
        Bound::Within
    }
}

/// One parsed operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FieldOp {
    kind: OpKind,
    field: FieldType,
    offset: u64,
    overflow: Overflow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpKind {
    Get,
    Set(i64),
    IncrBy(i64),
}

fn run_bitfield(
    ctx: &mut CommandContext<'_>,
    args: &mut Args<'_>,
    access: Access,
) -> CommandResult {
    let key = args.next_bytes()?;
    let ops = parse_operations(args.rest(), ctx.config().proto_max_bulk_len)?;
    let farthest_write = ops
        .iter()
        .filter(|op| op.kind != OpKind::Get)
        .map(|op| op.offset + u64::from(op.field.bits) - 1)
        .max();
    let Some(farthest_write) = farthest_write else {
        // Reads only: the key may be missing (all zeros), but must be a string.
        let Some(value) = ctx.read(key) else {
            return Ok(Frame::Array(vec![Frame::Integer(0); ops.len()]));
        };
        return value
            .with_string_bytes(|s| Frame::Array(ops.iter().map(|op| get_reply(s, op)).collect()))
            .ok_or(CommandError::WrongType);
    };
    if access == Access::GetOnly {
        return Err(CommandError::msg(BITFIELD_RO_GET_ONLY));
    }
    let len = usize::try_from(farthest_write / 8 + 1).map_err(|_| CommandError::StringTooLong)?;
    let (buffer, growth) = string_for_bit_write(ctx, key, len)?;
    let mut changes: u64 = 0;
    let replies = ops
        .iter()
        .map(|op| {
            let (reply, changed) = apply(buffer, op, growth != Growth::Same);
            changes += u64::from(changed);
            reply
        })
        .collect();
    if changes > 0 {
        ctx.notify(class::STRING, "setbit", key);
        // Creating the key already counted one change.
        ctx.changed(if growth == Growth::Created {
            changes - 1
        } else {
            changes
        });
    }
    Ok(Frame::Array(replies))
}

fn get_reply(bytes: &[u8], op: &FieldOp) -> Frame {
    integer_reply(op.field.read(bytes, op.offset))
}

/// Runs one operation on the grown string: its reply, and whether it counts as a change (any
/// write that was not refused, when the string was just created or grown; otherwise a write
/// that changed the field).
fn apply(buffer: &mut [u8], op: &FieldOp, grown: bool) -> (Frame, bool) {
    let old = op.field.read(buffer, op.offset);
    let (base, increment, reply_old) = match op.kind {
        OpKind::Get => return (integer_reply(old), false),
        // Redis stores an unsigned SET value as the u64 of the same bits: a negative value is
        // a huge one, so it overflows upwards (SAT gives the maximum, not 0).
        OpKind::Set(value) if !op.field.signed => (i128::from(value.cast_unsigned()), 0, true),
        OpKind::Set(value) => (i128::from(value), 0, true),
        OpKind::IncrBy(increment) => (old, increment, false),
    };
    let Some(new) = op.field.settle(base, increment, op.overflow) else {
        return (Frame::Null, false);
    };
    op.field.write(buffer, op.offset, new);
    let reply = integer_reply(if reply_old { old } else { new });
    (reply, grown || old != new)
}

/// Fields hold at most i64 or u63 values, so every one is an integer reply.
fn integer_reply(value: i128) -> Frame {
    Frame::Integer(i64::try_from(value).unwrap_or(i64::MAX))
}

/// Parses every operation first, as Redis does: a bad one fails the command before anything
/// runs. OVERFLOW applies to the SET and INCRBY operations that follow it.
fn parse_operations(args: &[Bytes], max_bulk_len: u64) -> Result<Vec<FieldOp>, CommandError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut i = 0;
    while i < args.len() {
        let name = &args[i];
        let after = args.len() - i - 1;
        let kind_args = if name.eq_ignore_ascii_case(b"get") && after >= 2 {
            1
        } else if (name.eq_ignore_ascii_case(b"set") || name.eq_ignore_ascii_case(b"incrby"))
            && after >= 3
        {
            2
        } else if name.eq_ignore_ascii_case(b"overflow") && after >= 1 {
            overflow = parse_overflow(&args[i + 1])?;
            i += 2;
            continue;
        } else {
            return Err(CommandError::Syntax);
        };
        let field = parse_field_type(&args[i + 1])?;
        let offset = parse_bit_offset(&args[i + 2], Some(field.bits), max_bulk_len)?;
        let kind = if kind_args == 1 {
            OpKind::Get
        } else {
            let n = parse_i64(&args[i + 3])?;
            if name.eq_ignore_ascii_case(b"set") {
                OpKind::Set(n)
            } else {
                OpKind::IncrBy(n)
            }
        };
        ops.push(FieldOp {
            kind,
            field,
            offset,
            overflow,
        });
        i += 2 + kind_args;
    }
    Ok(ops)
}

fn parse_overflow(arg: &[u8]) -> Result<Overflow, CommandError> {
    if arg.eq_ignore_ascii_case(b"wrap") {
        Ok(Overflow::Wrap)
    } else if arg.eq_ignore_ascii_case(b"sat") {
        Ok(Overflow::Sat)
    } else if arg.eq_ignore_ascii_case(b"fail") {
        Ok(Overflow::Fail)
    } else {
        Err(CommandError::msg(INVALID_OVERFLOW_TYPE))
    }
}

/// `i<bits>` (1..=64) or `u<bits>` (1..=63), lower case only, as Redis accepts them.
fn parse_field_type(arg: &[u8]) -> Result<FieldType, CommandError> {
    let invalid = || CommandError::msg(INVALID_BITFIELD_TYPE);
    let (signed, digits) = match arg.split_first() {
        Some((b'i', digits)) => (true, digits),
        Some((b'u', digits)) => (false, digits),
        _ => return Err(invalid()),
    };
    let widest = if signed { 64 } else { 63 };
    let bits = parse_canonical_i64(digits)
        .filter(|bits| (1..=widest).contains(bits))
        .ok_or_else(invalid)?;
    Ok(FieldType {
        signed,
        bits: u32::try_from(bits).map_err(|_| invalid())?,
    })
}
