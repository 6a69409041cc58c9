//! Error texts of the connection family, exactly as redis-server 7.0 sends them.

/// CLIENT SETNAME / HELLO SETNAME with a byte outside `!`..`~`.
pub const CLIENT_NAME_INVALID: &str =
    "ERR Client names cannot contain spaces, newlines or special characters.";
/// HELLO with a protocol version other than 2 or 3.
pub const NOPROTO: &str = "NOPROTO unsupported protocol version";
/// HELLO whose protocol version is not an integer.
pub const PROTOVER_NOT_INTEGER: &str = "ERR Protocol version is not an integer or out of range";
/// HELLO from a client that is not authenticated and gave no AUTH option.
pub const HELLO_NOAUTH: &str = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time";
/// The old form `CLIENT KILL addr` matched nobody.
pub const NO_SUCH_CLIENT: &str = "ERR No such client";
/// `CLIENT KILL ID` with zero, a negative number or junk.
pub const CLIENT_ID_NOT_POSITIVE: &str = "ERR client-id should be greater than 0";
/// `CLIENT LIST ID` with something that is not an integer.
pub const INVALID_CLIENT_ID: &str = "ERR Invalid client ID";
/// `CLIENT UNBLOCK id reason` with a reason other than TIMEOUT or ERROR.
pub const UNBLOCK_REASON: &str = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR";
/// An integer argument outside the C `int` range (Redis's `getIntFromObjectOrReply`).
pub const INT_OUT_OF_RANGE: &str =
    "ERR value is out of range, value must between -2147483648 and 2147483647";

/// `ERR Syntax error in HELLO option '<opt>'`.
pub fn hello_syntax(option: &[u8]) -> String {
    format!(
        "ERR Syntax error in HELLO option '{}'",
        String::from_utf8_lossy(option)
    )
}

/// `ERR Unknown client type '<name>'` (CLIENT LIST TYPE, CLIENT KILL TYPE).
pub fn unknown_client_type(name: &[u8]) -> String {
    format!(
        "ERR Unknown client type '{}'",
        String::from_utf8_lossy(name)
    )
}

/// `ERR No such user '<name>'` (CLIENT KILL USER).
pub fn no_such_user(name: &[u8]) -> String {
    format!("ERR No such user '{}'", String::from_utf8_lossy(name))
}

/// What a client blocked on keys receives after `CLIENT UNBLOCK id ERROR`.
pub const UNBLOCKED_BY_CLIENT_UNBLOCK: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

/// CLIENT PAUSE with a timeout that is not an integer.
pub const PAUSE_TIMEOUT_NOT_INTEGER: &str = "ERR timeout is not an integer or out of range";
/// CLIENT PAUSE with a mode other than WRITE or ALL.
pub const PAUSE_MODE: &str = "ERR CLIENT PAUSE mode must be WRITE or ALL";
