//! Error texts of MULTI/EXEC/WATCH, exactly as redis-server 7.0 sends them.

/// A command flagged `no_multi` sent inside MULTI.
pub const NOT_IN_TRANSACTION: &str = "ERR Command not allowed inside a transaction";
/// MULTI inside MULTI.
pub const NESTED_MULTI: &str = "ERR MULTI calls can not be nested";
/// EXEC with no MULTI.
pub const EXEC_WITHOUT_MULTI: &str = "ERR EXEC without MULTI";
/// DISCARD with no MULTI.
pub const DISCARD_WITHOUT_MULTI: &str = "ERR DISCARD without MULTI";
/// WATCH inside MULTI.
pub const WATCH_IN_MULTI: &str = "ERR WATCH inside MULTI is not allowed";
/// EXEC after a command failed to queue.
pub const EXEC_ABORT: &str = "EXECABORT Transaction discarded because of previous errors.";
