//! Error texts of the hyperloglog family.

/// A string key whose bytes are not a HyperLogLog (bad header, wrong dense length, an
/// integer-encoded string).
pub const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
/// A HyperLogLog whose registers do not decode.
pub const CORRUPTED: &str = "INVALIDOBJ Corrupted HLL object detected";
/// PFDEBUG on a missing key.
pub const NO_SUCH_KEY: &str = "ERR The specified key does not exist";
/// PFDEBUG DECODE on a dense value.
pub const NOT_SPARSE: &str = "ERR HLL encoding is not sparse";

/// PFDEBUG with a subcommand it does not know (the name as the client sent it).
pub fn unknown_pfdebug(sub: &str) -> String {
    format!("ERR Unknown PFDEBUG subcommand '{sub}'")
}

/// PFSELFTEST found a register that did not keep its value.
pub fn selftest_register(index: usize, expected: u8, found: u8) -> String {
    format!("TESTFAILED Register {index} should be {expected} but is {found}")
}

/// PFSELFTEST: a small count was no longer sparse.
pub const SELFTEST_NOT_SPARSE: &str = "TESTFAILED sparse encoding not used";
/// PFSELFTEST: the two encodings estimated differently.
pub const SELFTEST_DISAGREE: &str = "TESTFAILED dense/sparse disagree";

/// PFSELFTEST: an estimate too far from the true count.
pub fn selftest_error(card: u64, abs_err: u64) -> String {
    format!("TESTFAILED Too big error. card:{card} abserr:{abs_err}")
}
