//! Error texts of the sort family, exactly as redis-server 7.0 sends them.

/// A numeric SORT met an element or weight that is not a number.
pub const SCORE_NOT_A_DOUBLE: &str = "ERR One or more scores can't be converted into double";
