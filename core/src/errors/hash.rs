//! Error texts of the hash family, exactly as redis-server 7.0 sends them.

/// HINCRBY on a field whose value is not a 64-bit integer.
pub const HASH_VALUE_NOT_INTEGER: &str = "ERR hash value is not an integer";
/// HINCRBYFLOAT on a field whose value is not a float.
pub const HASH_VALUE_NOT_FLOAT: &str = "ERR hash value is not a float";
/// HINCRBYFLOAT given an infinite increment.
pub const INCREMENT_NAN_OR_INFINITY: &str = "ERR value is NaN or Infinity";
/// HRANDFIELD ... WITHVALUES with a count whose reply length would overflow.
pub const COUNT_OUT_OF_RANGE: &str = "ERR value is out of range";
/// HRANDFIELD's count is `LONG_MIN`, outside `-LONG_MAX..=LONG_MAX`.
pub const COUNT_OUTSIDE_LONG: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
