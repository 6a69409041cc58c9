//! Decoding RDB values and files: every type Redis 7.0 writes and the older encodings it still
//! reads (zipmap, ziplists, linked lists, string scores), converted to Oxidis's types in the
//! encoding Redis would pick on load. Input is untrusted (RESTORE payloads come from clients):
//! every length is checked against the bytes that remain, nothing is preallocated from a
//! length alone, and any inconsistency is an error, never a panic.

use std::collections::HashSet;

use oxidis_core::config::Config;
use oxidis_core::db::Db;
use oxidis_core::modules::types as module_types;
use oxidis_core::modules::{ModuleIoError, ModuleRdbReader, ModuleTypes, ModuleValue, RdbSource};
use oxidis_core::types::{CompactBytes, Hash, List, NodeLimits, Set, SortedSet, Value};

use super::{CONTAINER_PACKED, CONTAINER_PLAIN, LoadError, RDB_VERSION, corrupt, kind, opcode};
use crate::{crc64, listpack, lzf, ziplist};

/// The configuration that decides the encodings of loaded values.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The registered module types, which read module values (#9).
    module_types: ModuleTypes,
    hash_max_entries: usize,
    hash_max_value: usize,
    set_max_intset_entries: u64,
    zset_max_entries: usize,
    zset_max_value: usize,
    list_limits: NodeLimits,
}

impl LoadOptions {
    /// The options a configuration calls for.
    pub fn from_config(config: &Config, packed_threshold: usize) -> LoadOptions {
        let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        LoadOptions {
            module_types: ModuleTypes::default(),
            hash_max_entries: size(config.hash_max_listpack_entries),
            hash_max_value: size(config.hash_max_listpack_value),
            set_max_intset_entries: config.set_max_intset_entries,
            zset_max_entries: size(config.zset_max_listpack_entries),
            zset_max_value: size(config.zset_max_listpack_value),
            list_limits: NodeLimits {
                fill: config.list_max_listpack_size,
                packed_threshold,
            },
        }
    }
}

impl LoadOptions {
    /// These options, reading module values with `types` (a cheap copy of the registry).
    #[must_use]
    pub fn with_module_types(mut self, types: &ModuleTypes) -> LoadOptions {
        self.module_types = types.clone();
        self
    }
}

/// A cursor over RDB bytes.
#[derive(Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

/// A length, or the marker of a specially encoded string.
enum Len {
    Plain(u64),
    Encoded(u8),
}

impl<'a> Reader<'a> {
    /// A reader at the start of `data`.
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0 }
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], LoadError> {
        let end = self.pos.checked_add(n).ok_or(LoadError::ShortRead)?;
        let out = self.data.get(self.pos..end).ok_or(LoadError::ShortRead)?;
        self.pos = end;
        Ok(out)
    }

    /// One byte.
    pub fn byte(&mut self) -> Result<u8, LoadError> {
        Ok(self.bytes(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], LoadError> {
        self.bytes(N)?.try_into().map_err(|_| LoadError::ShortRead)
    }

    fn len_or_encoding(&mut self) -> Result<Len, LoadError> {
        let first = self.byte()?;
        Ok(match first >> 6 {
            0 => Len::Plain(u64::from(first & 0x3F)),
            1 => Len::Plain((u64::from(first & 0x3F) << 8) | u64::from(self.byte()?)),
            3 => Len::Encoded(first & 0x3F),
            _ => match first {
                0x80 => Len::Plain(u64::from(u32::from_be_bytes(self.array()?))),
                0x81 => Len::Plain(u64::from_be_bytes(self.array()?)),
                _ => return Err(corrupt("Unknown length encoding in rdbLoadLen()")),
            },
        })
    }

    /// A length.
    pub fn length(&mut self) -> Result<u64, LoadError> {
        match self.len_or_encoding()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(_) => Err(corrupt("Unexpected string encoding where a length was due")),
        }
    }

    fn len_usize(&mut self) -> Result<usize, LoadError> {
        usize::try_from(self.length()?).map_err(|_| LoadError::ShortRead)
    }

    /// A string in any of its encodings (integers come back in decimal).
    pub fn string(&mut self) -> Result<Vec<u8>, LoadError> {
        Ok(self.string_cow()?.into_owned())
    }

    /// A string, borrowed from the input when it is stored plain (no copy, no allocation).
    pub fn string_cow(&mut self) -> Result<std::borrow::Cow<'a, [u8]>, LoadError> {
        use std::borrow::Cow;
        Ok(Cow::Owned(match self.len_or_encoding()? {
            Len::Plain(n) => {
                let n = usize::try_from(n).map_err(|_| LoadError::ShortRead)?;
                return Ok(Cow::Borrowed(self.bytes(n)?));
            }
            Len::Encoded(0) => decimal(i64::from(i8::from_le_bytes(self.array()?))),
            Len::Encoded(1) => decimal(i64::from(i16::from_le_bytes(self.array()?))),
            Len::Encoded(2) => decimal(i64::from(i32::from_le_bytes(self.array()?))),
            Len::Encoded(3) => {
                let packed_len = self.len_usize()?;
                let len = self.len_usize()?;
                let packed = self.bytes(packed_len)?;
                // LZF expands at most 264 bytes per 3 input bytes: a bigger claim is a lie, and
                // must not become a huge allocation.
                if len > packed_len.saturating_mul(90).saturating_add(64) || len == 0 {
                    return Err(corrupt("Invalid LZF compressed string"));
                }
                lzf::decompress(packed, len)
                    .ok_or_else(|| corrupt("Invalid LZF compressed string"))?
            }
            Len::Encoded(_) => return Err(corrupt("Unknown RDB string encoding type")),
        }))
    }

    fn binary_double(&mut self) -> Result<f64, LoadError> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// An old-style score: a length byte (253 NaN, 254 +inf, 255 -inf) and its text.
    fn string_double(&mut self) -> Result<f64, LoadError> {
        match self.byte()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            len => parse_double(self.bytes(usize::from(len))?)
                .ok_or_else(|| corrupt("Invalid double value")),
        }
    }

    /// A value of type `kind`, in the encoding `options` call for.
    pub fn value(&mut self, kind: u8, options: &LoadOptions) -> Result<Value, LoadError> {
        match kind {
            kind::STRING => Ok(match self.string_cow()? {
                std::borrow::Cow::Borrowed(bytes) => Value::string(bytes),
                std::borrow::Cow::Owned(bytes) => Value::string_from_vec(bytes),
            }),
            kind::LIST => {
                let len = self.length()?;
                let mut elements = Vec::new();
                for _ in 0..len {
                    elements.push(self.string()?);
                }
                list_of(elements.iter().map(Vec::as_slice), options)
            }
            kind::LIST_ZIPLIST => {
                let blob = self.string()?;
                let elements = ziplist::decode_ziplist(&blob)
                    .ok_or_else(|| corrupt("Ziplist integrity check failed."))?;
                list_of(elements.iter().map(Vec::as_slice), options)
            }
            kind::LIST_QUICKLIST | kind::LIST_QUICKLIST_2 => self.quicklist(kind, options),
            kind::SET => {
                let len = self.length()?;
                let mut members = Vec::new();
                for _ in 0..len {
                    members.push(self.string()?);
                }
                set_of(&members, options)
            }
            kind::SET_INTSET => {
                let blob = self.string()?;
                let ints = decode_intset(&blob)
                    .ok_or_else(|| corrupt("Intset integrity check failed."))?;
                let members: Vec<Vec<u8>> = ints.into_iter().map(decimal).collect();
                set_of(&members, options)
            }
            kind::ZSET | kind::ZSET_2 => {
                let len = self.length()?;
                let mut pairs = Vec::new();
                for _ in 0..len {
                    let member = self.string()?;
                    let score = if kind == kind::ZSET_2 {
                        self.binary_double()?
                    } else {
                        self.string_double()?
                    };
                    pairs.push((member, score));
                }
                zset_of(pairs, options, "Duplicate zset fields detected")
            }
            kind::ZSET_ZIPLIST | kind::ZSET_LISTPACK => {
                let what = if kind == kind::ZSET_LISTPACK {
                    "Zset listpack integrity check failed."
                } else {
                    "Zset ziplist integrity check failed."
                };
                let entries = self.packed_entries(kind == kind::ZSET_LISTPACK, what)?;
                if entries.len() % 2 != 0 {
                    return Err(corrupt(what));
                }
                let mut pairs = Vec::with_capacity(entries.len() / 2);
                for pair in entries.chunks_exact(2) {
                    let score = parse_double(&pair[1]).ok_or_else(|| corrupt(what))?;
                    pairs.push((pair[0].clone(), score));
                }
                zset_of(pairs, options, what)
            }
            kind::HASH => {
                let len = self.length()?;
                let mut pairs = Vec::new();
                for _ in 0..len {
                    let field = self.string()?;
                    let value = self.string()?;
                    pairs.push((field, value));
                }
                hash_of(pairs, options, "Duplicate hash fields detected")
            }
            kind::HASH_ZIPMAP => {
                let what = "Zipmap integrity check failed.";
                let blob = self.string()?;
                let pairs = ziplist::decode_zipmap(&blob)
                    .filter(|pairs| !pairs.is_empty())
                    .ok_or_else(|| corrupt(what))?;
                hash_of(pairs, options, what)
            }
            kind::HASH_ZIPLIST | kind::HASH_LISTPACK => {
                let what = if kind == kind::HASH_LISTPACK {
                    "Hash listpack integrity check failed."
                } else {
                    "Hash ziplist integrity check failed."
                };
                let entries = self.packed_entries(kind == kind::HASH_LISTPACK, what)?;
                if entries.len() % 2 != 0 {
                    return Err(corrupt(what));
                }
                let mut entries = entries.into_iter();
                let mut pairs = Vec::new();
                while let (Some(f), Some(v)) = (entries.next(), entries.next()) {
                    pairs.push((f, v));
                }
                let duplicate = if kind == kind::HASH_LISTPACK {
                    // The words of Redis's panic when it converts such a hash unsanitized.
                    "Hash listpack integrity check failed: listpack with dup elements"
                } else {
                    what
                };
                hash_of(pairs, options, duplicate)
            }
            kind::STREAM_LISTPACKS | kind::STREAM_LISTPACKS_2 => {
                super::stream::read(self, kind == kind::STREAM_LISTPACKS_2)
            }
            kind::MODULE | kind::MODULE_2 => self.module_value(kind, options),
            other => Err(corrupt(&format!("Unknown RDB encoding type {other}"))),
        }
    }

    /// A module value: the type's id, the module's fields read by its `rdb_load` (with the
    /// encoding version the id carries), and for `MODULE_2` the EOF opcode.
    fn module_value(&mut self, kind: u8, options: &LoadOptions) -> Result<Value, LoadError> {
        let id = self.length()?;
        let Some(ty) = options.module_types.by_id(id).cloned() else {
            return Err(corrupt(&format!(
                "The RDB file contains module data I can't load: no matching module type '{}'",
                module_types::name_from_id(id)
            )));
        };
        let loaded = {
            let mut fields = ModuleRdbReader::new(self, b"", 0);
            ty.methods()
                .rdb_load(&mut fields, module_types::encver_from_id(id))
        };
        let value = match loaded {
            Ok(data) => ModuleValue::new(&ty, data),
            Err(reason) => {
                tracing::warn!(module_type = ty.name(), %reason, "module value not loaded");
                return Err(corrupt(&format!(
                    "The RDB file contains module data for the module type '{}', that the \
                     responsible module is not able to load. Check for modules log above for \
                     additional clues.",
                    ty.owner()
                )));
            }
        };
        if kind == kind::MODULE_2 && self.length()? != module_types::opcode::EOF {
            return Err(corrupt(&format!(
                "The RDB file contains module data for the module '{}' that is not terminated \
                 by the proper module value EOF marker",
                ty.owner()
            )));
        }
        Ok(Value::Module(Box::new(value)))
    }

    /// A type's auxiliary data (`MODULE_AUX`): its id, `when` as an unsigned field, the
    /// module's fields read by its `aux_load`, EOF.
    fn module_aux(&mut self, options: &LoadOptions) -> Result<(), LoadError> {
        let id = self.length()?;
        let when_opcode = self.length()?;
        let when = self.length()?;
        if when_opcode != module_types::opcode::UINT {
            return Err(corrupt("bad when_opcode"));
        }
        let name = module_types::name_from_id(id);
        let Some(ty) = options.module_types.by_id(id).cloned() else {
            return Err(corrupt(&format!(
                "The RDB file contains AUX module data I can't load: no matching module '{name}'"
            )));
        };
        let when = u32::try_from(when).map_err(|_| corrupt("bad when"))?;
        let loaded = {
            let mut fields = ModuleRdbReader::new(self, b"", 0);
            ty.methods()
                .aux_load(&mut fields, module_types::encver_from_id(id), when)
        };
        if let Err(reason) = loaded {
            tracing::warn!(module_type = %name, %reason, "module AUX data not loaded");
            return Err(corrupt(&format!(
                "The RDB file contains module AUX data for the module type '{name}', that the \
                 responsible module is not able to load. Check for modules log above for \
                 additional clues."
            )));
        }
        if self.length()? != module_types::opcode::EOF {
            return Err(corrupt(&format!(
                "The RDB file contains module AUX data for the module '{name}' that is not \
                 terminated by the proper module value EOF marker"
            )));
        }
        Ok(())
    }

    /// The entries of a listpack (or ziplist) blob, as bytes; `what` names the damage.
    fn packed_entries(&mut self, is_listpack: bool, what: &str) -> Result<Vec<Vec<u8>>, LoadError> {
        let blob = self.string()?;
        if is_listpack {
            let entries = listpack::decode(&blob).ok_or_else(|| corrupt(what))?;
            Ok(entries.into_iter().map(listpack::Entry::to_vec).collect())
        } else {
            ziplist::decode_ziplist(&blob).ok_or_else(|| corrupt(what))
        }
    }

    fn quicklist(&mut self, kind: u8, options: &LoadOptions) -> Result<Value, LoadError> {
        let nodes = self.length()?;
        let mut list = List::new();
        for _ in 0..nodes {
            let container = if kind == kind::LIST_QUICKLIST_2 {
                self.length()?
            } else {
                CONTAINER_PACKED
            };
            let blob = self.string()?;
            if blob.is_empty() {
                return Err(corrupt("Quicklist node is empty"));
            }
            match container {
                CONTAINER_PLAIN => list.push_back(&blob, options.list_limits),
                CONTAINER_PACKED if kind == kind::LIST_QUICKLIST_2 => {
                    let entries = listpack::decode(&blob)
                        .ok_or_else(|| corrupt("Listpack integrity check failed."))?;
                    for entry in entries {
                        list.push_back(&entry.to_vec(), options.list_limits);
                    }
                }
                CONTAINER_PACKED => {
                    let entries = ziplist::decode_ziplist(&blob)
                        .ok_or_else(|| corrupt("Ziplist integrity check failed."))?;
                    for entry in entries {
                        list.push_back(&entry, options.list_limits);
                    }
                }
                _ => return Err(corrupt("Quicklist integrity check failed.")),
            }
        }
        // Empty nodes are skipped silently; a list left empty is an empty key.
        if list.is_empty() {
            return Err(LoadError::EmptyKey);
        }
        Ok(Value::List(Box::new(list)))
    }
}

/// Redis's intset layout: width and count (u32 LE each), then the elements, strictly
/// ascending, at 2, 4 or 8 bytes each.
fn decode_intset(blob: &[u8]) -> Option<Vec<i64>> {
    let (header, body) = blob.split_at_checked(8)?;
    let width = usize::try_from(u32::from_le_bytes(header[..4].try_into().ok()?)).ok()?;
    let count = usize::try_from(u32::from_le_bytes(header[4..].try_into().ok()?)).ok()?;
    if !matches!(width, 2 | 4 | 8) || body.len() != width.checked_mul(count)? {
        return None;
    }
    let ints: Vec<i64> = body
        .chunks_exact(width)
        .map(|c| {
            let mut raw = [0u8; 8];
            raw[..width].copy_from_slice(c);
            let shift = 64 - 8 * width;
            (i64::from_le_bytes(raw) << shift) >> shift
        })
        .collect();
    ints.windows(2).all(|w| w[0] < w[1]).then_some(ints)
}

fn decimal(n: i64) -> Vec<u8> {
    itoa::Buffer::new().format(n).as_bytes().to_vec()
}

/// `strtod` on the whole text, as Redis parses scores.
fn parse_double(text: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(text).ok()?;
    match text.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        "nan" | "-nan" => Some(f64::NAN),
        _ => text.parse().ok(),
    }
}

fn list_of<'e>(
    elements: impl Iterator<Item = &'e [u8]>,
    options: &LoadOptions,
) -> Result<Value, LoadError> {
    let mut list = List::new();
    for e in elements {
        list.push_back(e, options.list_limits);
    }
    if list.is_empty() {
        return Err(LoadError::EmptyKey);
    }
    Ok(Value::List(Box::new(list)))
}

fn set_of(members: &[Vec<u8>], options: &LoadOptions) -> Result<Value, LoadError> {
    if members.is_empty() {
        return Err(LoadError::EmptyKey);
    }
    let mut set = Set::default();
    let added = set.add_all(
        members.iter().map(Vec::as_slice),
        options.set_max_intset_entries,
    );
    if added != members.len() {
        return Err(corrupt("Duplicate set members detected"));
    }
    Ok(Value::Set(set))
}

/// A hash of `pairs`; `duplicate` is the complaint when a field repeats.
fn hash_of(
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
    options: &LoadOptions,
    duplicate: &str,
) -> Result<Value, LoadError> {
    if pairs.is_empty() {
        return Err(LoadError::EmptyKey);
    }
    let mut fields = HashSet::with_capacity(pairs.len());
    if !pairs.iter().all(|(f, _)| fields.insert(f.as_slice())) {
        return Err(corrupt(duplicate));
    }
    let hash = Hash::from_pairs(
        pairs.iter().map(|(f, v)| (f.as_slice(), v.as_slice())),
        options.hash_max_entries,
        options.hash_max_value,
    );
    Ok(Value::Hash(Box::new(hash)))
}

/// A sorted set of `pairs`; `duplicate` is the complaint when a member repeats.
fn zset_of(
    pairs: Vec<(Vec<u8>, f64)>,
    options: &LoadOptions,
    duplicate: &str,
) -> Result<Value, LoadError> {
    if pairs.is_empty() {
        return Err(LoadError::EmptyKey);
    }
    if pairs.iter().any(|(_, s)| s.is_nan()) {
        return Err(corrupt("Zset with NAN score detected"));
    }
    let mut members = HashSet::with_capacity(pairs.len());
    if !pairs.iter().all(|(m, _)| members.insert(m.as_slice())) {
        return Err(corrupt(duplicate));
    }
    let zset = SortedSet::from_pairs(pairs, options.zset_max_entries, options.zset_max_value);
    Ok(Value::SortedSet(Box::new(zset)))
}

/// Why a RESTORE payload was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadError {
    /// The footer's version is too new or its CRC does not match.
    Footer,
    /// The body does not decode.
    Body(LoadError),
}

/// Decodes a DUMP payload: checks the version and (unless `skip_checksum`) the CRC footer,
/// then reads the value.
///
/// # Errors
/// [`PayloadError::Footer`] for a bad version or checksum, [`PayloadError::Body`] otherwise.
pub fn restore_payload(
    payload: &[u8],
    options: &LoadOptions,
    skip_checksum: bool,
) -> Result<Value, PayloadError> {
    let Some(body_len) = payload.len().checked_sub(10) else {
        return Err(PayloadError::Footer);
    };
    let version = u16::from_le_bytes([payload[body_len], payload[body_len + 1]]);
    if version > RDB_VERSION {
        return Err(PayloadError::Footer);
    }
    let crc = u64::from_le_bytes(
        payload[body_len + 2..]
            .try_into()
            .map_err(|_| PayloadError::Footer)?,
    );
    if !skip_checksum && crc64::checksum(&payload[..body_len + 2]) != crc {
        return Err(PayloadError::Footer);
    }
    let mut reader = Reader::new(&payload[..body_len]);
    let kind = reader.byte().map_err(PayloadError::Body)?;
    reader.value(kind, options).map_err(PayloadError::Body)
}

/// An LFU access clock: the current minute (16 bits) and `counter`, as Redis packs it.
pub fn lfu_clock(now_ms: u64, counter: u8) -> u32 {
    let minutes = u32::try_from((now_ms / 60_000) & 0xffff).unwrap_or(0);
    (minutes << 8) | u32::from(counter)
}

/// What loading a file produced.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The databases, as many as the configuration has.
    pub dbs: Vec<Db>,
    /// FUNCTION2 payloads (library code), in file order.
    pub functions: Vec<Vec<u8>>,
    /// Keys loaded.
    pub keys_loaded: u64,
    /// Keys skipped because their expiry had passed.
    pub keys_expired: u64,
    /// Empty collections skipped.
    pub empty_keys_skipped: u64,
    /// The names of the first ten empty keys skipped, for the log.
    pub empty_keys: Vec<String>,
    /// The `redis-ver` AUX field, when present.
    pub producer_version: Option<String>,
    /// Bytes the RDB image took (an AOF's RDB preamble is followed by commands).
    pub consumed: usize,
}

/// Decodes a whole RDB file into fresh databases. Keys already expired at `now_ms` are dropped,
/// as a master does at load.
///
/// # Errors
/// Any short read, corruption or checksum mismatch: nothing half-loaded is returned.
pub fn decode_dataset(
    data: &[u8],
    config: &Config,
    options: &LoadOptions,
    now_ms: u64,
    lru_clock: u32,
) -> Result<Loaded, LoadError> {
    decode_dataset_with_progress(data, config, options, now_ms, lru_clock, &mut |_| {})
}

/// [`decode_dataset`], calling `progress` with the bytes consumed so far after each key.
///
/// # Errors
/// As [`decode_dataset`].
pub fn decode_dataset_with_progress(
    data: &[u8],
    config: &Config,
    options: &LoadOptions,
    now_ms: u64,
    lru_clock: u32,
    progress: &mut dyn FnMut(usize),
) -> Result<Loaded, LoadError> {
    let mut r = Reader::new(data);
    let magic = r.bytes(9)?;
    if &magic[..5] != b"REDIS" {
        return Err(corrupt("Wrong signature trying to load DB from file"));
    }
    let version: u16 = std::str::from_utf8(&magic[5..])
        .ok()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| corrupt("Can't handle RDB format version"))?;
    if !(1..=RDB_VERSION).contains(&version) {
        return Err(corrupt(&format!(
            "Can't handle RDB format version {version}"
        )));
    }
    let mut loaded = Loaded {
        dbs: (0..config.databases).map(|_| Db::new()).collect(),
        ..Loaded::default()
    };
    // Under an LFU policy the access clock holds (minutes << 8) | counter and FREQ sets the
    // counter; otherwise it is the LRU clock and IDLE moves it back (objectSetLRUOrLFU).
    let lfu = config.maxmemory_policy.is_lfu();
    let fresh_clock = if lfu {
        oxidis_core::eviction::initial_clock(config, now_ms)
    } else {
        lru_clock
    };
    let mut db_index = 0usize;
    let mut expire_at: Option<u64> = None;
    let mut idle: Option<u64> = None;
    let mut freq: Option<u8> = None;
    loop {
        let kind = r.byte()?;
        match kind {
            opcode::EXPIRETIME_MS => {
                expire_at = Some(u64::try_from(i64::from_le_bytes(r.array()?)).unwrap_or(0));
                continue;
            }
            opcode::EXPIRETIME => {
                let secs = i32::from_le_bytes(r.array()?);
                expire_at = Some(u64::try_from(secs).unwrap_or(0).saturating_mul(1000));
                continue;
            }
            opcode::IDLE => {
                idle = Some(r.length()?);
                continue;
            }
            opcode::FREQ => {
                freq = Some(r.byte()?);
                continue;
            }
            opcode::EOF => break,
            opcode::SELECTDB => {
                let index = r.length()?;
                db_index = usize::try_from(index)
                    .ok()
                    .filter(|&i| i < loaded.dbs.len())
                    .ok_or_else(|| {
                        corrupt(&format!(
                            "Data file was created with a Redis server configured to handle more than {} databases.",
                            loaded.dbs.len()
                        ))
                    })?;
                continue;
            }
            opcode::RESIZEDB => {
                let keys = r.length()?;
                r.length()?;
                // A hint: every key takes at least three bytes of the file, so a damaged
                // hint cannot make us reserve more than the file could hold.
                let cap = u64::try_from(data.len() / 3).unwrap_or(u64::MAX);
                let keys = usize::try_from(keys.min(cap)).unwrap_or(0);
                loaded.dbs[db_index].reserve(keys);
                continue;
            }
            opcode::AUX => {
                let key = r.string()?;
                let value = r.string()?;
                if key == b"redis-ver" {
                    loaded.producer_version = Some(String::from_utf8_lossy(&value).into_owned());
                }
                continue;
            }
            opcode::MODULE_AUX => {
                r.module_aux(options)?;
                continue;
            }
            opcode::FUNCTION => return Err(corrupt("Pre-release function format not supported.")),
            opcode::FUNCTION2 => {
                loaded.functions.push(r.string()?);
                continue;
            }
            _ => {}
        }
        let key = r.string_cow()?;
        let value = match r.value(kind, options) {
            Ok(value) => value,
            Err(LoadError::EmptyKey) => {
                if loaded.empty_keys.len() < 10 {
                    loaded
                        .empty_keys
                        .push(String::from_utf8_lossy(&key).into_owned());
                }
                loaded.empty_keys_skipped += 1;
                expire_at = None;
                idle = None;
                freq = None;
                continue;
            }
            Err(e) => return Err(e),
        };
        let expire = expire_at.take();
        let idle_secs = idle.take();
        progress(r.position());
        if expire.is_some_and(|at| at < now_ms) {
            loaded.keys_expired += 1;
            continue;
        }
        let db = &mut loaded.dbs[db_index];
        if db.find(&key).is_some() {
            return Err(corrupt(&format!(
                "RDB has duplicated key '{}' in DB {db_index}",
                String::from_utf8_lossy(&key)
            )));
        }
        let clock = match (idle_secs, freq.take()) {
            (_, Some(counter)) if lfu => lfu_clock(now_ms, counter),
            (Some(secs), _) if !lfu => {
                lru_clock.wrapping_sub(u32::try_from(secs).unwrap_or(u32::MAX))
            }
            _ => fresh_clock,
        };
        db.insert_new(CompactBytes::new(&key), value, expire, clock);
        loaded.keys_loaded += 1;
    }
    if version >= 5 {
        let expected = crc64::checksum(&data[..r.position()]);
        let got = u64::from_le_bytes(r.array()?);
        if config.rdbchecksum && got != 0 && got != expected {
            return Err(LoadError::Checksum { expected, got });
        }
    }
    loaded.consumed = r.position();
    Ok(loaded)
}

/// Module types read their fields through the same reader (any string encoding included).
impl RdbSource for Reader<'_> {
    fn read_length(&mut self) -> Result<u64, ModuleIoError> {
        self.length().map_err(|e| ModuleIoError(e.to_string()))
    }

    fn read_string(&mut self) -> Result<Vec<u8>, ModuleIoError> {
        self.string().map_err(|e| ModuleIoError(e.to_string()))
    }

    fn read_raw(&mut self, n: usize) -> Result<Vec<u8>, ModuleIoError> {
        self.bytes(n)
            .map(<[u8]>::to_vec)
            .map_err(|e| ModuleIoError(e.to_string()))
    }
}
