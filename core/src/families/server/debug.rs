//! DEBUG: the subcommands Redis's test suite relies on that make sense without persistence:
//! SLEEP, SET-ACTIVE-EXPIRE, OBJECT, DIGEST, DIGEST-VALUE, PROTOCOL, POPULATE, ERROR, LOG,
//! CHANGE-REPL-ID and HELP, plus RELOAD, which runs through the persistence hooks
//! ([`crate::server::PersistenceHooks`]) when the persistence crate is compiled in. LOADAOF
//! waits for AOF (#6).
//!
//! DIGEST follows Redis's scheme (SHA1 per key and value, xored together so key order does
//! not matter, with the database index and the key's expiry mixed in), so equal datasets give
//! equal digests, and an empty dataset gives forty zeros.

use bytes::Bytes;
use oxidis_protocol::{Frame, RespVersion};
use tracing::warn;

use crate::command::{Args, CommandResult};
use crate::config::ProtectedAccess;
use crate::context::CommandContext;
use crate::db::Entry;
use crate::errors::server::{
    DEBUG_PROTOCOL_TYPE, PACKED_THRESHOLD, RELOAD_LOAD_FAILED, RELOAD_OPTIONS, RELOAD_SAVE_FAILED,
    RELOAD_WITHOUT_PERSISTENCE, RESP2_NOT_SUPPORTED,
};
use crate::errors::{CommandError, DEBUG_DISABLED, NO_SUCH_KEY, NOT_POSITIVE, subcommand_syntax};
use crate::families::help_reply;
use crate::modules::types::DigestOp;
use crate::types::{CompactBytes, Value};

/// Redis's refcount for shared objects (the small integers 0..10000).
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

pub(super) fn debug(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    check_access(ctx)?;
    let sub = args.next_bytes()?;
    let rest = args.rest();
    let name = sub.to_ascii_lowercase();
    match (name.as_slice(), rest) {
        (b"help", []) => Ok(help()),
        (b"sleep", [seconds]) => {
            // strtod: junk reads as 0, and a negative time does not sleep.
            let seconds = leading_f64(seconds).max(0.0);
            if let Ok(duration) = std::time::Duration::try_from_secs_f64(seconds) {
                // Redis blocks the whole server for the duration; so does holding the lock here.
                std::thread::sleep(duration);
            }
            Ok(Frame::ok())
        }
        (b"aof-flush-sleep", [micros]) => {
            let micros = crate::command::parse_i64(micros)?;
            ctx.server.aof_status.flush_sleep_us = u64::try_from(micros).unwrap_or(0);
            Ok(Frame::ok())
        }
        (b"pause-cron", [flag]) => {
            ctx.server.cron_paused = atoi(flag) != 0;
            Ok(Frame::ok())
        }
        (b"set-active-expire", [flag]) => {
            ctx.server.active_expire_enabled = atoi(flag) != 0;
            Ok(Frame::ok())
        }
        // Our reply buffer does not shrink or grow with traffic, so there is nothing to
        // resize: the settings are accepted (and checked) for the suite's sake.
        (b"replybuffer", [setting, value]) => {
            if setting.eq_ignore_ascii_case(b"peak-reset-time") {
                if !value.eq_ignore_ascii_case(b"never") && !value.eq_ignore_ascii_case(b"reset") {
                    crate::command::parse_i64(value)?;
                }
            } else if !setting.eq_ignore_ascii_case(b"resizing") {
                return Err(CommandError::custom(subcommand_syntax(
                    "DEBUG",
                    "replybuffer",
                )));
            }
            Ok(Frame::ok())
        }
        (b"set-disable-deny-scripts", [flag]) => {
            ctx.server
                .script_busy
                .deny_script_disabled
                .store(atoi(flag) != 0, std::sync::atomic::Ordering::Relaxed);
            Ok(Frame::ok())
        }
        (b"quicklist-packed-threshold", [size]) => {
            // Redis accepts up to 4 GiB - 1 MiB; 0 restores the 1 GiB default.
            let size = crate::config::value::parse_memory(size)
                .filter(|&n| n <= (1 << 32) - (1 << 20))
                .ok_or(CommandError::msg(PACKED_THRESHOLD))?;
            ctx.server.list_packed_threshold = match usize::try_from(size) {
                Ok(0) | Err(_) => crate::types::DEFAULT_PACKED_THRESHOLD,
                Ok(n) => n,
            };
            Ok(Frame::ok())
        }
        (b"object", [key]) => object(ctx, key),
        (b"digest", []) => Ok(Frame::Simple(Bytes::from(hex(&dataset_digest(ctx))))),
        (b"digest-value", keys) => {
            let index = ctx.db_index();
            let db = &ctx.server.dbs[index];
            // Like Redis, logically expired keys still count: no lookup, no reclaiming.
            let digests = keys
                .iter()
                .map(|key| {
                    let mut digest = [0u8; 20];
                    if let Some(pos) = db.find(key) {
                        mix_value_digest(&mut digest, db.entry(pos), index);
                    }
                    Frame::Simple(Bytes::from(hex(&digest)))
                })
                .collect();
            Ok(Frame::Array(digests))
        }
        (b"reload", options) => reload(ctx, options),
        (b"loadaof", []) => {
            let Some(hooks) = ctx.server.aof_hooks else {
                return Err(CommandError::msg(RELOAD_WITHOUT_PERSISTENCE));
            };
            for index in 0..ctx.server.dbs.len() {
                crate::transactions::touch_all_in_db(ctx.server, index, None);
                ctx.server.dbs[index].clear();
            }
            (hooks.load)(ctx.server).map_err(CommandError::custom)?;
            ctx.server.dirty = 0;
            warn!("Append Only File loaded by DEBUG LOADAOF");
            Ok(Frame::ok())
        }
        (b"set-skip-checksum-validation", [flag]) => {
            ctx.server.persistence_state.skip_checksum_validation = atoi(flag) != 0;
            Ok(Frame::ok())
        }
        (b"protocol", [kind]) => protocol(ctx.resp(), kind),
        (b"populate", [count, rest @ ..]) if rest.len() <= 2 => populate(ctx, count, rest),
        (b"error", [text]) => {
            let text: Vec<u8> = text
                .iter()
                .map(|&b| if matches!(b, b'\r' | b'\n') { b' ' } else { b })
                .collect();
            Ok(Frame::Error(Bytes::from(text)))
        }
        (b"log", [message]) => {
            warn!("DEBUG LOG: {}", String::from_utf8_lossy(message));
            Ok(Frame::ok())
        }
        (b"change-repl-id", []) => {
            warn!("Changing replication IDs after receiving DEBUG change-repl-id");
            ctx.server.replication_id = crate::server::random_hex_id(&mut ctx.server.rng);
            Ok(Frame::ok())
        }
        (b"config-rewrite-force-all", []) => config_rewrite_force_all(ctx),
        _ => Err(CommandError::custom(subcommand_syntax(
            "DEBUG",
            &String::from_utf8_lossy(&sub[..sub.len().min(128)]),
        ))),
    }
}

/// `DEBUG CONFIG-REWRITE-FORCE-ALL`: CONFIG REWRITE that writes every parameter, defaults
/// included.
fn config_rewrite_force_all(ctx: &mut CommandContext<'_>) -> CommandResult {
    let config = &ctx.server.config;
    let result = match config.config_file.as_deref() {
        Some(path) => config
            .rewrite_file(path, true)
            .map_err(|e| crate::config::value::io_error_text(&e)),
        None => Err("No such file or directory".to_string()),
    };
    result.map(|()| Frame::ok()).map_err(|reason| {
        CommandError::custom(format!("ERR CONFIG-REWRITE-FORCE-ALL failed: {reason}"))
    })
}

/// `DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]`: save, empty the dataset, load the file back.
fn reload(ctx: &mut CommandContext<'_>, options: &[Bytes]) -> CommandResult {
    let (mut merge, mut flush, mut save) = (false, true, true);
    for option in options {
        match option.to_ascii_lowercase().as_slice() {
            b"merge" => merge = true,
            b"noflush" => flush = false,
            b"nosave" => save = false,
            _ => return Err(CommandError::msg(RELOAD_OPTIONS)),
        }
    }
    let Some(hooks) = ctx.server.persistence else {
        return Err(CommandError::msg(RELOAD_WITHOUT_PERSISTENCE));
    };
    if save && (hooks.save)(ctx.server).is_err() {
        return Err(CommandError::msg(RELOAD_SAVE_FAILED));
    }
    if flush {
        for index in 0..ctx.server.dbs.len() {
            crate::transactions::touch_all_in_db(ctx.server, index, None);
            ctx.server.dbs[index].clear();
        }
        // Redis's emptyData drops the function libraries too.
        ctx.server.persistence_state.function_code.clear();
    }
    if (hooks.load)(ctx.server, merge).is_err() {
        return Err(CommandError::msg(RELOAD_LOAD_FAILED));
    }
    warn!("DB reloaded by DEBUG RELOAD");
    Ok(Frame::ok())
}

/// `enable-debug-command`: `no` refuses everyone, `local` only non-local peers.
// TODO(dispatch): Redis refuses protected commands before running them (a rejected call, not
// a failed one); this check belongs with the other gates in dispatch.
fn check_access(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let allowed = match ctx.config().enable_debug_command {
        ProtectedAccess::Yes => true,
        ProtectedAccess::No => false,
        ProtectedAccess::Local => ctx.client().peer.is_local(),
    };
    if allowed {
        Ok(())
    } else {
        Err(CommandError::msg(DEBUG_DISABLED))
    }
}

fn help() -> Frame {
    help_reply(
        "DEBUG",
        &[
            "CHANGE-REPL-ID",
            "    Gives the server a new random replication id.",
            "CONFIG-REWRITE-FORCE-ALL",
            "    Rewrites the config file with every parameter, defaults included.",
            "DIGEST",
            "    Prints a hex signature of the whole dataset.",
            "DIGEST-VALUE <key> [<key> ...]",
            "    Prints a hex signature of the value at each key.",
            "ERROR <string>",
            "    Answers with <string> as an error reply.",
            "LOG <message>",
            "    Writes <message> to the server log.",
            "OBJECT <key>",
            "    Prints internal details of the value at <key>.",
            "POPULATE <count> [<prefix>] [<size>]",
            "    Creates string keys <prefix>:0 to <prefix>:<count-1> (prefix 'key'), each",
            "    holding value:<n>, zero-padded or cut to <size> bytes when given.",
            "RELOAD [MERGE] [NOFLUSH] [NOSAVE]",
            "    Saves the dataset to disk, empties it and loads the file back. NOSAVE skips",
            "    the save, NOFLUSH keeps the current keys, MERGE lets loaded keys replace them.",
            "PROTOCOL <type>",
            "    Answers with a sample reply of <type>: string, integer, double, bignum,",
            "    null, array, set, map, attrib, push, verbatim, true or false.",
            "PAUSE-CRON <0|1>",
            "    Stop periodic cron job processing.",
            "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
            "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
            "    In case NEVER is provided the last observed peak will never be reset",
            "    In case RESET is provided the peak reset time will be restored to the default value",
            "REPLYBUFFER RESIZING <0|1>",
            "    Enable or disable the reply buffer resize cron job",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Turns the background expiry of keys off (0) or on (1).",
            "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
            "    Makes RESTORE skip (1) or check (0) the CRC of DUMP payloads.",
            "SLEEP <seconds>",
            "    Blocks the server for <seconds>, which may have decimals.",
        ],
    )
}

/// `DEBUG OBJECT key`, on the line Redis prints. The address is the value's slot in its
/// database, so it stays the same while the key is changed in place.
fn object(ctx: &mut CommandContext<'_>, key: &[u8]) -> CommandResult {
    let now_clock = ctx.server.lru_clock();
    let db = ctx.db();
    let pos = db.find(key).ok_or(CommandError::msg(NO_SUCH_KEY))?;
    let entry = db.entry(pos);
    let refcount = match &entry.value {
        Value::Int(n) if (0..10_000).contains(n) => SHARED_REFCOUNT,
        Value::Int(_)
        | Value::Str(_)
        | Value::Mutable(_)
        | Value::List(_)
        | Value::Hash(_)
        | Value::Set(_)
        | Value::SortedSet(_)
        | Value::Stream(_)
        | Value::Module(_) => 1,
    };
    let idle = now_clock.wrapping_sub(entry.access_clock);
    Ok(Frame::Simple(Bytes::from(format!(
        "Value at:{:p} refcount:{refcount} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{idle}",
        &entry.value,
        entry.value.encoding_name(),
        serialized_length(&entry.value),
        lru_24_bits(entry.access_clock),
    ))))
}

/// Redis's LRU clock has 24 bits of seconds.
pub(super) fn lru_24_bits(clock: u32) -> u32 {
    clock & 0x00FF_FFFF
}

/// The bytes a string takes in an RDB file, as Redis's `rdbSavedObjectLen` counts them
/// (without LZF compression, which Redis tries on strings over 20 bytes).
fn serialized_length(value: &Value) -> usize {
    let rdb_int_len = |n: i64| {
        if i8::try_from(n).is_ok() {
            Some(2)
        } else if i16::try_from(n).is_ok() {
            Some(3)
        } else if i32::try_from(n).is_ok() {
            Some(5)
        } else {
            None
        }
    };
    let raw_len = |len: usize| {
        let prefix = if len < 1 << 6 {
            1
        } else if len < 1 << 14 {
            2
        } else if u32::try_from(len).is_ok() {
            5
        } else {
            9
        };
        prefix + len
    };
    match value {
        Value::Int(n) => {
            rdb_int_len(*n).unwrap_or_else(|| raw_len(value.string_len().unwrap_or(0)))
        }
        Value::Str(_) | Value::Mutable(_) => value
            .with_string_bytes(|bytes| {
                let as_int = (bytes.len() <= 11)
                    .then(|| crate::types::parse_canonical_i64(bytes))
                    .flatten();
                as_int
                    .and_then(rdb_int_len)
                    .unwrap_or_else(|| raw_len(bytes.len()))
            })
            .unwrap_or(0),
        // Until RDB exists (#6) a collection's serialized length is estimated by its heap size.
        Value::List(_)
        | Value::Hash(_)
        | Value::Set(_)
        | Value::SortedSet(_)
        | Value::Stream(_) => value.heap_size(),
        // A module value's payload as RDB writes it: the type id, the fields, EOF.
        Value::Module(m) => {
            let mut out = Vec::new();
            crate::modules::types::write_rdb_length(&mut out, m.module_type().id());
            let mut fields = crate::modules::ModuleRdbWriter::new();
            m.save(&mut fields);
            out.len() + fields.as_bytes().len() + 1
        }
    }
}

/// `DEBUG PROTOCOL type`: one sample reply of each RESP3 type. `attrib` and `push` send an
/// out-of-band frame and then the real reply, as one [`Frame::Sequence`] (the encoder drops the
/// attribute for RESP2 clients).
fn protocol(resp: RespVersion, kind: &[u8]) -> CommandResult {
    let kind = kind.to_ascii_lowercase();
    let ints = || (0..3).map(Frame::Integer).collect::<Vec<_>>();
    let reply = match kind.as_slice() {
        b"string" => Frame::bulk("Hello World"),
        b"integer" => Frame::Integer(12345),
        // Redis's sample value, not an approximation of pi.
        #[allow(clippy::approx_constant)]
        b"double" => Frame::Double(3.141),
        b"bignum" => Frame::BigNumber(Bytes::from_static(b"1234567999999999999999999999999999999")),
        b"null" => Frame::Null,
        b"array" => Frame::Array(ints()),
        b"set" => Frame::Set(ints()),
        b"map" => Frame::Map(
            (0..3)
                .map(|j| (Frame::Integer(j), Frame::Boolean(j == 1)))
                .collect(),
        ),
        b"attrib" => Frame::Sequence(vec![
            Frame::Attribute(vec![(
                Frame::bulk("key-popularity"),
                Frame::Array(vec![Frame::bulk("key:123"), Frame::Integer(90)]),
            )]),
            Frame::bulk("Some real reply following the attribute"),
        ]),
        b"push" if resp == RespVersion::Resp2 => {
            return Err(CommandError::msg(RESP2_NOT_SUPPORTED));
        }
        b"push" => Frame::Sequence(vec![
            Frame::Push(vec![Frame::bulk("server-cpu-usage"), Frame::Integer(42)]),
            Frame::bulk("Some real reply following the push reply"),
        ]),
        b"true" => Frame::Boolean(true),
        b"false" => Frame::Boolean(false),
        b"verbatim" => Frame::Verbatim {
            format: *b"txt",
            text: Bytes::from_static(b"This is a verbatim\nstring"),
        },
        _ => return Err(CommandError::msg(DEBUG_PROTOCOL_TYPE)),
    };
    Ok(reply)
}

/// `DEBUG POPULATE count [prefix] [size]`: adds the missing keys of the series, as plain
/// strings (Redis does not integer-encode them), without counting changes.
fn populate(ctx: &mut CommandContext<'_>, count: &[u8], rest: &[Bytes]) -> CommandResult {
    let count = parse_non_negative(count)?;
    let prefix: &[u8] = rest.first().map_or(b"key", |p| p.as_ref());
    let size = match rest.get(1) {
        Some(size) => Some(
            usize::try_from(parse_non_negative(size)?).map_err(|_| CommandError::NotAnInteger)?,
        ),
        None => None,
    };
    let clock = ctx.server.lru_clock();
    for j in 0..count {
        let mut key = prefix.to_vec();
        key.push(b':');
        key.extend_from_slice(j.to_string().as_bytes());
        if ctx.lookup(&key).is_some() {
            continue;
        }
        let mut value = format!("value:{j}").into_bytes();
        if let Some(size) = size {
            value.resize(size, 0);
        }
        ctx.db().insert_new(
            CompactBytes::from_vec(key),
            Value::Str(CompactBytes::from_vec(value)),
            None,
            clock,
        );
    }
    Ok(Frame::ok())
}

/// `getPositiveLongFromObjectOrReply`: an integer, and not below zero.
fn parse_non_negative(arg: &[u8]) -> Result<u64, CommandError> {
    let n = crate::command::parse_i64(arg)?;
    u64::try_from(n).map_err(|_| CommandError::msg(NOT_POSITIVE))
}

/// The digest of every database, as Redis's `computeDatasetDigest` builds it.
fn dataset_digest(ctx: &CommandContext<'_>) -> [u8; 20] {
    let mut total = [0u8; 20];
    for (db_index, db) in ctx.server.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        let index = u32::try_from(db_index).unwrap_or(u32::MAX);
        mix_digest(&mut total, &index.to_be_bytes());
        for entry in db.iter() {
            let mut digest = [0u8; 20];
            mix_digest(&mut digest, &entry.key);
            mix_value_digest(&mut digest, entry, db_index);
            xor_digest(&mut total, &digest);
        }
    }
    total
}

/// Mixes a value's type, contents and whether it expires into `digest`.
fn mix_value_digest(digest: &mut [u8; 20], entry: &Entry, db: usize) {
    // Redis's object type numbers, so the type is part of the digest.
    let type_code: u32 = match &entry.value {
        Value::Int(_) | Value::Str(_) | Value::Mutable(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::SortedSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Module(_) => 5,
        Value::Stream(_) => 6,
    };
    mix_digest(digest, &type_code.to_be_bytes());
    match &entry.value {
        Value::Int(_) | Value::Str(_) | Value::Mutable(_) => {
            entry
                .value
                .with_string_bytes(|bytes| mix_digest(digest, bytes));
        }
        // Ordered: elements mixed in order.
        Value::List(list) => list.iter().for_each(|e| mix_digest(digest, e)),
        // Unordered: each element digested alone and XORed in, so order does not matter.
        // Unordered: each member's SHA1 XORed in directly (Redis mixes no per-element digest
        // for sets, unlike hashes and sorted sets).
        Value::Set(set) => set.for_each_member(|m| xor_digest(digest, m)),
        Value::Hash(hash) => hash.for_each_pair(|field, value| {
            let mut element = [0u8; 20];
            mix_digest(&mut element, field);
            mix_digest(&mut element, value);
            xor_digest(digest, &element);
        }),
        Value::SortedSet(zset) => zset.for_each_pair(|member, score| {
            let mut element = [0u8; 20];
            mix_digest(&mut element, member);
            mix_digest(&mut element, format_g17(score).as_bytes());
            xor_digest(digest, &element);
        }),
        // Ordered: each entry's id as "ms.seq", then its fields and values.
        Value::Stream(stream) => stream.entries().for_each(|e| {
            let id = e.id();
            mix_digest(digest, format!("{}.{}", id.ms, id.seq).as_bytes());
            for (field, value) in e.fields() {
                mix_digest(digest, field);
                mix_digest(digest, value);
            }
        }),
        // The module's own digest: each closed sequence XORed into the value's part, which is
        // XORed in as a whole (Redis's `RedisModuleDigest`).
        Value::Module(m) => {
            let steps = m.digest(&entry.key, db);
            let mut sequence = [0u8; 20];
            let mut value = [0u8; 20];
            for step in steps.ops() {
                match step {
                    DigestOp::Add(element) => mix_digest(&mut sequence, element),
                    DigestOp::EndSequence => {
                        xor_digest(&mut value, &sequence);
                        sequence = [0u8; 20];
                    }
                }
            }
            xor_digest(digest, &value);
        }
    }
    if entry.expire_at().is_some() {
        xor_digest(digest, b"!!expire!!");
    }
}

/// C's `%.17g`, as Redis formats scores for the digest: 17 significant digits, trailing zeros
/// dropped, the exponent form below 1e-4 and from 1e17.
fn format_g17(value: f64) -> String {
    if value.is_nan() {
        return "nan".to_string();
    }
    if value.is_infinite() {
        return if value < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let sci = format!("{value:.16e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if value < 0.0 {
        out.push('-');
    }
    let point = |out: &mut String, frac: &str| {
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
    };
    if (0..17).contains(&exponent) {
        let int_len = usize::try_from(exponent).unwrap_or(0) + 1;
        out.push_str(&digits[..int_len]);
        point(&mut out, digits[int_len..].trim_end_matches('0'));
    } else if (-4..0).contains(&exponent) {
        out.push_str("0.");
        out.extend(std::iter::repeat_n(
            '0',
            exponent.unsigned_abs() as usize - 1,
        ));
        out.push_str(digits.trim_end_matches('0'));
    } else {
        out.push_str(&digits[..1]);
        point(&mut out, digits[1..].trim_end_matches('0'));
        let sign = if exponent < 0 { '-' } else { '+' };
        out.push_str(&format!("e{sign}{:02}", exponent.unsigned_abs()));
    }
    out
}

/// `digest ^= SHA1(data)`: order-independent accumulation.
fn xor_digest(digest: &mut [u8; 20], data: &[u8]) {
    for (d, h) in digest.iter_mut().zip(sha1(data)) {
        *d ^= h;
    }
}

/// `digest = SHA1(digest ^ SHA1(data))`: order-dependent accumulation.
fn mix_digest(digest: &mut [u8; 20], data: &[u8]) {
    xor_digest(digest, data);
    *digest = sha1(digest.as_slice());
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(40), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// SHA-1 (FIPS 180-4). Only DEBUG DIGEST uses it; scripting (#8) will need it for EVALSHA.
// TODO(#8): promote to a shared module when scripting lands.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let bit_len = (data.len() as u64).wrapping_mul(8);
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bit_len.to_be_bytes());
    for block in message.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, &word) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let temp = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(word);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = temp;
        }
        for (state, add) in h.iter_mut().zip([a, b, c, d, e]) {
            *state = state.wrapping_add(add);
        }
    }
    let mut out = [0u8; 20];
    for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// C's `atoi`: optional spaces and sign, then digits up to the first non-digit; junk is 0.
fn atoi(arg: &[u8]) -> i64 {
    let text = String::from_utf8_lossy(arg);
    let text = text.trim_start();
    let (negative, digits) = match text.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        other => (false, other),
    };
    let n = digits
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0i64, |n, &b| {
            n.saturating_mul(10).saturating_add(i64::from(b - b'0'))
        });
    if negative { -n } else { n }
}

/// C's `strtod` on a whole argument: the longest leading number, 0 when there is none.
fn leading_f64(arg: &[u8]) -> f64 {
    let text = String::from_utf8_lossy(arg);
    let text = text.trim_start();
    (1..=text.len())
        .rev()
        .filter(|&end| text.is_char_boundary(end))
        .find_map(|end| text[..end].parse::<f64>().ok())
        .filter(|v| !v.is_nan())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_matches_known_vectors() {
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        let long = vec![b'a'; 1000];
        assert_eq!(
            hex(&sha1(&long)),
            "291e9a6c66994949b57ba5e650361e98fc36b1ba"
        );
    }

    #[test]
    fn c_number_parsing() {
        assert_eq!(atoi(b"1"), 1);
        assert_eq!(atoi(b" -12x"), -12);
        assert_eq!(atoi(b"x"), 0);
        assert_eq!(leading_f64(b"0.5"), 0.5);
        assert_eq!(leading_f64(b"1.5s"), 1.5);
        assert_eq!(leading_f64(b"abc"), 0.0);
    }

    #[test]
    fn serialized_lengths_follow_rdb_encoding() {
        assert_eq!(serialized_length(&Value::Int(1)), 2);
        assert_eq!(serialized_length(&Value::Int(1000)), 3);
        assert_eq!(serialized_length(&Value::Int(100_000)), 5);
        assert_eq!(serialized_length(&Value::Int(i64::MAX)), 20);
        assert_eq!(serialized_length(&Value::string(b"hello")), 6);
    }
}
