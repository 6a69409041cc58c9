//! Error texts of the string family, exactly as redis-server 7.0 sends them. The texts the
//! string family shares with others (`STRING_TOO_LONG`, `OFFSET_OUT_OF_RANGE`, the INCR
//! overflows, `NOT_A_FLOAT`...) live in the parent module as `CommandError` variants.

/// LCS on a key that holds something other than a string.
pub const LCS_WRONG_TYPE: &str = "ERR The specified keys must contain string values";
/// LCS with both LEN and IDX.
pub const LCS_LEN_AND_IDX: &str =
    "ERR If you want both the length and indexes, please just use IDX.";
/// LCS on a string of 4 GiB or more (its table is indexed with 32-bit lengths).
pub const LCS_STRING_TOO_LONG: &str = "ERR String too long for LCS";
/// LCS whose dynamic-programming table would be larger than `proto-max-bulk-len`.
pub const LCS_TABLE_TOO_BIG: &str =
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";
/// LCS whose table could not be allocated.
pub const LCS_ALLOC_FAILED: &str =
    "ERR Insufficient memory, failed allocating transient memory for LCS";
