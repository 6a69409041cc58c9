//! Error texts of the list family, exactly as redis-server 7.0 sends them.

/// LSET with an index outside the list.
pub const INDEX_OUT_OF_RANGE: &str = "ERR index out of range";
/// LPOS RANK 0.
pub const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
/// LPOS COUNT below zero (or not an integer).
pub const COUNT_NEGATIVE: &str = "ERR COUNT can't be negative";
/// LPOS MAXLEN below zero (or not an integer).
pub const MAXLEN_NEGATIVE: &str = "ERR MAXLEN can't be negative";
/// LMPOP numkeys below one (or not an integer).
pub const NUMKEYS_NOT_POSITIVE: &str = "ERR numkeys should be greater than 0";
/// LMPOP COUNT below one (or not an integer).
pub const COUNT_NOT_POSITIVE: &str = "ERR count should be greater than 0";
