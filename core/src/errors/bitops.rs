//! Error texts of the bitmap family (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD), exactly
//! as redis-server 7.0 sends them.

/// A bit offset that is not an integer, is negative, or lies past `proto-max-bulk-len` bytes.
pub const BIT_OFFSET_OUT_OF_RANGE: &str = "ERR bit offset is not an integer or out of range";
/// SETBIT's value is not 0 or 1.
pub const BIT_VALUE_OUT_OF_RANGE: &str = "ERR bit is not an integer or out of range";
/// BITPOS's bit is an integer other than 0 or 1.
pub const BIT_ARGUMENT: &str = "ERR The bit argument must be 1 or 0.";
/// BITOP NOT with other than one source key.
pub const BITOP_NOT_SINGLE_SOURCE: &str = "ERR BITOP NOT must be called with a single source key.";
/// A BITFIELD type that is not `i1`..`i64` or `u1`..`u63`.
pub const INVALID_BITFIELD_TYPE: &str = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
/// BITFIELD OVERFLOW with something other than WRAP, SAT or FAIL.
pub const INVALID_OVERFLOW_TYPE: &str = "ERR Invalid OVERFLOW type specified";
/// BITFIELD_RO given SET or INCRBY.
pub const BITFIELD_RO_GET_ONLY: &str = "ERR BITFIELD_RO only supports the GET subcommand";
