//! The RDB format of Redis 7.0 (version 10): constants, the value codec ([`write`], [`read`])
//! and whole-file encoding and decoding.
//!
//! A file is `REDIS0010`, AUX fields, then per non-empty database a SELECTDB and a RESIZEDB
//! opcode followed by its keys (each optionally preceded by EXPIRETIME_MS and IDLE/FREQ), then
//! EOF and the CRC-64 of everything before it (little-endian; zero when `rdbchecksum no`).
//!
//! Lengths are 6-bit, 14-bit (big-endian), 32-bit or 64-bit (big-endian) by their top bits;
//! `11` in the top bits marks a specially encoded string instead: an 8/16/32-bit little-endian
//! integer, or LZF-compressed bytes.

pub mod read;
pub mod stream;
pub mod write;

#[cfg(test)]
mod module_tests;

/// The version Redis 7.0 writes (and the newest one it reads).
pub const RDB_VERSION: u16 = 10;

/// Value type bytes.
pub mod kind {
    /// A string.
    pub const STRING: u8 = 0;
    /// A list as a linked list of strings (before 3.2).
    pub const LIST: u8 = 1;
    /// A set as its members.
    pub const SET: u8 = 2;
    /// A sorted set with scores as strings (before 3.0).
    pub const ZSET: u8 = 3;
    /// A hash as its pairs.
    pub const HASH: u8 = 4;
    /// A sorted set with binary double scores.
    pub const ZSET_2: u8 = 5;
    /// A module value (pre-GA).
    pub const MODULE: u8 = 6;
    /// A module value with annotations.
    pub const MODULE_2: u8 = 7;
    /// A hash as a zipmap (before 2.6).
    pub const HASH_ZIPMAP: u8 = 9;
    /// A list as one ziplist (before 3.2).
    pub const LIST_ZIPLIST: u8 = 10;
    /// A set of integers as an intset.
    pub const SET_INTSET: u8 = 11;
    /// A sorted set as a ziplist (before 7.0).
    pub const ZSET_ZIPLIST: u8 = 12;
    /// A hash as a ziplist (before 7.0).
    pub const HASH_ZIPLIST: u8 = 13;
    /// A list as a quicklist of ziplists (3.2 to 6.2).
    pub const LIST_QUICKLIST: u8 = 14;
    /// A stream (before 7.0).
    pub const STREAM_LISTPACKS: u8 = 15;
    /// A hash as a listpack.
    pub const HASH_LISTPACK: u8 = 16;
    /// A sorted set as a listpack.
    pub const ZSET_LISTPACK: u8 = 17;
    /// A list as a quicklist of listpacks and plain nodes.
    pub const LIST_QUICKLIST_2: u8 = 18;
    /// A stream (7.0).
    pub const STREAM_LISTPACKS_2: u8 = 19;
}

/// Opcodes that can appear where a value type is expected.
pub mod opcode {
    /// A function library.
    pub const FUNCTION2: u8 = 245;
    /// A function library of 7.0 release candidates.
    pub const FUNCTION: u8 = 246;
    /// Module auxiliary data.
    pub const MODULE_AUX: u8 = 247;
    /// The next key's LRU idle time, seconds.
    pub const IDLE: u8 = 248;
    /// The next key's LFU counter.
    pub const FREQ: u8 = 249;
    /// A key/value AUX field.
    pub const AUX: u8 = 250;
    /// Sizes of the next database's key and expire tables.
    pub const RESIZEDB: u8 = 251;
    /// The next key's expiry, Unix milliseconds (u64 LE).
    pub const EXPIRETIME_MS: u8 = 252;
    /// The next key's expiry, Unix seconds (u32 LE).
    pub const EXPIRETIME: u8 = 253;
    /// The database of the following keys.
    pub const SELECTDB: u8 = 254;
    /// End of the file.
    pub const EOF: u8 = 255;
}

/// Quicklist node containers in `LIST_QUICKLIST_2`.
pub const CONTAINER_PLAIN: u64 = 1;
/// A listpack node.
pub const CONTAINER_PACKED: u64 = 2;

/// Why a payload or a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// The data ended early.
    ShortRead,
    /// A collection without elements (Redis skips these keys in files, refuses them in RESTORE).
    EmptyKey,
    /// Malformed data; the text says what.
    Corrupt(String),
    /// The file's checksum does not match its contents.
    Checksum {
        /// What the contents hash to.
        expected: u64,
        /// What the file says.
        got: u64,
    },
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::ShortRead => f.write_str("Unexpected EOF reading RDB file"),
            LoadError::EmptyKey => f.write_str("Empty key"),
            // Redis's rdbReportCorruptRDB line (we have no C source position to give).
            LoadError::Corrupt(what) => write!(
                f,
                "Internal error in RDB reading offset 0, function at rdb.c:0 -> {what}"
            ),
            LoadError::Checksum { expected, got } => write!(
                f,
                "Wrong RDB checksum expected: ({expected:x}) but got ({got:x}). Aborting now."
            ),
        }
    }
}

impl std::error::Error for LoadError {}

pub(crate) fn corrupt(what: &str) -> LoadError {
    LoadError::Corrupt(what.to_string())
}
