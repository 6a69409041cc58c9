//! Error texts of the set family, exactly as redis-server 7.0 sends them.

/// SINTERCARD's numkeys is not an integer of at least 1.
pub const NUMKEYS_NOT_POSITIVE: &str = "ERR numkeys should be greater than 0";
/// SINTERCARD's numkeys is larger than the keys given.
pub const NUMKEYS_TOO_MANY: &str = "ERR Number of keys can't be greater than number of args";
/// SINTERCARD's LIMIT is negative or not an integer.
pub const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";
/// SRANDMEMBER's count is i64::MIN, which has no positive twin (Redis's own spelling).
pub const COUNT_OUT_OF_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
