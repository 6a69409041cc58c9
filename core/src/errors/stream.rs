//! Error texts of the stream family, exactly as redis-server 7.0 sends them.

/// An id argument that does not parse.
pub const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";
/// XADD with an explicit id at or below the last one.
pub const ID_TOO_SMALL: &str =
    "ERR The ID specified in XADD is equal or smaller than the target stream top item";
/// XADD 0-0.
pub const ID_ZERO: &str = "ERR The ID specified in XADD must be greater than 0-0";
/// XADD to a stream whose last id is the largest possible.
pub const ID_EXHAUSTED: &str =
    "ERR The stream has exhausted the last possible ID, unable to add more items";
/// XADD of more than a node can hold.
pub const TOO_LARGE: &str = "ERR Elements are too large to be stored";
/// MAXLEN and MINID together.
pub const MAXLEN_AND_MINID: &str =
    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";
/// MAXLEN below zero.
pub const MAXLEN_NEGATIVE: &str = "ERR The MAXLEN argument must be >= 0.";
/// LIMIT below zero.
pub const LIMIT_NEGATIVE: &str = "ERR The LIMIT argument must be >= 0.";
/// LIMIT without MAXLEN or MINID.
pub const LIMIT_WITHOUT_STRATEGY: &str =
    "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy";
/// XTRIM without MAXLEN or MINID.
pub const XTRIM_WITHOUT_STRATEGY: &str =
    "ERR syntax error, XTRIM must be called with a trimming strategy";
/// LIMIT with exact trimming.
pub const LIMIT_WITHOUT_APPROX: &str =
    "ERR syntax error, LIMIT cannot be used without the special ~ option";
/// An exclusive start that cannot be incremented.
pub const INVALID_START: &str = "ERR invalid start ID for the interval";
/// An exclusive end that cannot be decremented.
pub const INVALID_END: &str = "ERR invalid end ID for the interval";
/// XREAD with an odd number of key and id arguments.
pub const UNBALANCED: &str =
    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.";
/// GROUP given to XREAD.
pub const GROUP_WITH_XREAD: &str =
    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.";
/// NOACK given to XREAD.
pub const NOACK_WITH_XREAD: &str =
    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.";
/// XREADGROUP without GROUP.
pub const MISSING_GROUP: &str = "ERR Missing GROUP option for XREADGROUP";
/// `$` given to XREADGROUP.
pub const DOLLAR_WITH_XREADGROUP: &str = "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.";
/// `>` given to XREAD.
pub const GT_WITH_XREAD: &str = "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.";
/// A blocked XREADGROUP whose key was deleted or changed type.
pub const KEY_GONE: &str = "UNBLOCKED the stream key no longer exists";
/// XGROUP on a missing key without MKSTREAM.
pub const XGROUP_NO_KEY: &str = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";
/// XGROUP CREATE of an existing group.
pub const BUSYGROUP: &str = "BUSYGROUP Consumer Group name already exists";
/// ENTRIESREAD below -1.
pub const ENTRIES_READ_NEGATIVE: &str = "ERR value for ENTRIESREAD must be positive or -1";
/// XSETID ENTRIESADDED below zero.
pub const ENTRIES_ADDED_NEGATIVE: &str = "ERR entries_added must be positive";
/// XSETID MAXDELETEDID above the id.
pub const XSETID_BELOW_MAX_DELETED: &str =
    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id";
/// XSETID below the last entry.
pub const XSETID_TOO_SMALL: &str =
    "ERR The ID specified in XSETID is smaller than the target stream top item";
/// XSETID ENTRIESADDED below the length.
pub const XSETID_ENTRIES_ADDED_TOO_SMALL: &str =
    "ERR The entries_added specified in XSETID is smaller than the target stream length";
/// XCLAIM's min-idle-time is not an integer.
pub const XCLAIM_MIN_IDLE: &str = "ERR Invalid min-idle-time argument for XCLAIM";
/// XCLAIM IDLE is not an integer.
pub const XCLAIM_IDLE: &str = "ERR Invalid IDLE option argument for XCLAIM";
/// XCLAIM TIME is not an integer.
pub const XCLAIM_TIME: &str = "ERR Invalid TIME option argument for XCLAIM";
/// XCLAIM RETRYCOUNT is not an integer.
pub const XCLAIM_RETRYCOUNT: &str = "ERR Invalid RETRYCOUNT option argument for XCLAIM";
/// XAUTOCLAIM's min-idle-time is not an integer.
pub const XAUTOCLAIM_MIN_IDLE: &str = "ERR Invalid min-idle-time argument for XAUTOCLAIM";
/// XAUTOCLAIM COUNT out of range.
pub const XAUTOCLAIM_COUNT: &str = "ERR COUNT must be > 0";
/// XREAD BLOCK that is not an integer.
pub const TIMEOUT_NOT_INTEGER: &str = "ERR timeout is not an integer or out of range";
