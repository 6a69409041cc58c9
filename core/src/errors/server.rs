//! Error texts of the server family, exactly as redis-server 7.0 sends them.

/// SWAPDB's first index is not an integer in the `int` range.
pub const INVALID_FIRST_DB_INDEX: &str = "ERR invalid first DB index";
/// SWAPDB's second index is not an integer in the `int` range.
pub const INVALID_SECOND_DB_INDEX: &str = "ERR invalid second DB index";
/// SHUTDOWN ABORT with no shutdown waiting.
pub const NO_SHUTDOWN_IN_PROGRESS: &str = "ERR No shutdown in progress.";
/// DEBUG PROTOCOL with an unknown type name.
pub const DEBUG_PROTOCOL_TYPE: &str = "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false";
/// DEBUG PROTOCOL PUSH on a RESP2 connection.
pub const RESP2_NOT_SUPPORTED: &str = "ERR RESP2 is not supported by this command";
/// FUNCTION FLUSH with an argument other than ASYNC or SYNC.
pub const FUNCTION_FLUSH_MODE: &str = "ERR FUNCTION FLUSH only supports SYNC|ASYNC option";

/// DEBUG QUICKLIST-PACKED-THRESHOLD with a size that is not a memory value or is too big.
pub const PACKED_THRESHOLD: &str =
    "ERR argument must be a memory value bigger than 1 and smaller than 4gb";

/// A command without the `loading` flag while the dataset loads at startup.
pub const LOADING: &str = "LOADING Redis is loading the dataset in memory";

/// SHUTDOWN when the final save failed (and FORCE was not given).
pub const SHUTDOWN_SAVE_FAILED: &str = "ERR Errors trying to SHUTDOWN. Check logs.";
/// DEBUG RELOAD with an option other than MERGE, NOFLUSH or NOSAVE.
pub const RELOAD_OPTIONS: &str =
    "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.";
/// DEBUG RELOAD when the save before the reload failed (Redis's bare `-ERR`).
pub const RELOAD_SAVE_FAILED: &str = "ERR";
/// DEBUG RELOAD when loading the file back failed.
pub const RELOAD_LOAD_FAILED: &str = "ERR Error trying to load the RDB dump";
/// DEBUG RELOAD in a build without the persistence crate.
pub const RELOAD_WITHOUT_PERSISTENCE: &str =
    "ERR DEBUG RELOAD needs persistence, which this build does not include";

/// SLOWLOG GET with a count below -1 or not an integer.
pub const SLOWLOG_COUNT: &str = "ERR count should be greater than or equal to -1";

/// LATENCY GRAPH for an event with no samples.
pub fn no_latency_samples(event: &str) -> String {
    format!("ERR No samples available for event '{event}'")
}
