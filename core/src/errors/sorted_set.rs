//! Error texts of the sorted_set family, exactly as redis-server 7.0 sends them.

/// ZADD with both NX and XX.
pub const XX_AND_NX: &str = "ERR XX and NX options at the same time are not compatible";
/// ZADD with GT/LT together or with NX.
pub const GT_LT_NX: &str = "ERR GT, LT, and/or NX options at the same time are not compatible";
/// ZADD INCR with more than one pair.
pub const INCR_SINGLE_PAIR: &str = "ERR INCR option supports a single increment-element pair";
/// An increment produced NaN (inf + -inf).
pub const SCORE_NAN: &str = "ERR resulting score is not a number (NaN)";
/// A score range bound that is not a float.
pub const MIN_MAX_NOT_FLOAT: &str = "ERR min or max is not a float";
/// A lex range bound that does not start with `[`, `(`, or is not `-`/`+`.
pub const MIN_MAX_NOT_STRING_RANGE: &str = "ERR min or max not valid string range item";
/// ZRANGE LIMIT on a rank range.
pub const LIMIT_NEEDS_BY: &str =
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
/// ZRANGE BYLEX WITHSCORES.
pub const WITHSCORES_BYLEX: &str =
    "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
/// A WEIGHTS value that is not a float.
pub const WEIGHT_NOT_FLOAT: &str = "ERR weight value is not a float";
/// ZINTERCARD LIMIT below zero.
pub const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";
/// ZMPOP numkeys below one.
pub const NUMKEYS_POSITIVE: &str = "ERR numkeys should be greater than 0";
/// ZMPOP COUNT below one.
pub const COUNT_POSITIVE: &str = "ERR count should be greater than 0";
/// ZRANDMEMBER WITHSCORES with a count too large to double.
pub const VALUE_OUT_OF_RANGE: &str = "ERR value is out of range";

/// `ERR at least 1 input key is needed for '<command>' command`.
pub fn at_least_one_key(command: &str) -> String {
    format!("ERR at least 1 input key is needed for '{command}' command")
}
