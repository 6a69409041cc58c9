//! Error texts of the generic family, exactly as redis-server 7.0 sends them.

/// SCAN's cursor is not an unsigned decimal number.
pub const INVALID_CURSOR: &str = "ERR invalid cursor";
/// EXPIRE and friends given NX together with XX, GT or LT.
pub const EXPIRE_NX_CONFLICT: &str =
    "ERR NX and XX, GT or LT options at the same time are not compatible";
/// EXPIRE and friends given both GT and LT.
pub const EXPIRE_GT_LT_CONFLICT: &str = "ERR GT and LT options at the same time are not compatible";
/// OBJECT FREQ while the eviction policy is not an LFU one.
pub const FREQ_WITHOUT_LFU: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
/// OBJECT IDLETIME while the eviction policy is an LFU one.
pub const IDLETIME_WITH_LFU: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

/// "ERR Unsupported option X" for an unknown EXPIRE condition, spelled as the client sent it.
pub fn unsupported_option(option: &[u8]) -> String {
    format!("ERR Unsupported option {}", String::from_utf8_lossy(option))
}
