//! Error texts of the pubsub family.

/// A RESP2 client in subscribed mode ran a command other than the few it may run.
pub fn subscribed_mode(command: &str) -> String {
    format!(
        "ERR Can't execute '{command}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / \
         RESET are allowed in this context"
    )
}

/// CLIENT TRACKING REDIRECT given twice.
pub const TRACKING_SINGLE_REDIRECT: &str =
    "ERR A client can only redirect to a single other client";
/// CLIENT TRACKING REDIRECT to an id nobody has.
pub const TRACKING_NO_REDIRECT_CLIENT: &str =
    "ERR The client ID you want redirect to does not exist";
/// CLIENT TRACKING ON PREFIX without BCAST.
pub const TRACKING_PREFIX_NEEDS_BCAST: &str = "ERR PREFIX option requires BCAST mode to be enabled";
/// CLIENT TRACKING ON switching BCAST on or off while tracking.
pub const TRACKING_BCAST_SWITCH: &str = "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.";
/// CLIENT TRACKING ON BCAST with OPTIN or OPTOUT.
pub const TRACKING_OPT_WITH_BCAST: &str = "ERR OPTIN and OPTOUT are not compatible with BCAST";
/// CLIENT TRACKING ON OPTIN OPTOUT.
pub const TRACKING_OPTIN_AND_OPTOUT: &str = "ERR You can't specify both OPTIN mode and OPTOUT mode";
/// CLIENT TRACKING ON switching between OPTIN and OPTOUT while tracking.
pub const TRACKING_OPT_SWITCH: &str = "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.";
/// CLIENT CACHING from a client not tracking.
pub const CACHING_NOT_TRACKING: &str = "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled";
/// CLIENT CACHING YES outside OPTIN.
pub const CACHING_YES_NEEDS_OPTIN: &str =
    "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.";
/// CLIENT CACHING NO outside OPTOUT.
pub const CACHING_NO_NEEDS_OPTOUT: &str =
    "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.";

/// A BCAST prefix overlapping one the client already has.
pub fn tracking_prefix_overlaps_existing(prefix: &[u8], existing: &[u8]) -> String {
    format!(
        "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
        String::from_utf8_lossy(prefix),
        String::from_utf8_lossy(existing)
    )
}

/// Two BCAST prefixes of one CLIENT TRACKING overlapping each other.
pub fn tracking_prefix_overlaps_given(prefix: &[u8], other: &[u8]) -> String {
    format!(
        "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
        String::from_utf8_lossy(prefix),
        String::from_utf8_lossy(other)
    )
}
