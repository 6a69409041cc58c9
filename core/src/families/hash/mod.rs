//! Hash commands: HSET and HMSET, HSETNX, HGET, HMGET, HDEL, HLEN, HSTRLEN, HEXISTS, HKEYS,
//! HVALS, HGETALL, HINCRBY, HINCRBYFLOAT, HRANDFIELD and HSCAN.
//!
//! Values are `Value::Hash` (see `types::hash` for the `listpack` and `hashtable` encodings and
//! when one becomes the other). Writers create the key on demand and never leave an empty hash
//! behind; readers treat a missing key as an empty hash.
//!
//! Not done here (no shared API yet): WATCH invalidation, and the
//! rewriting of HINCRBYFLOAT as HSET for propagation.

use crate::events::class;
use crate::families::generic::scan::{
    ScanOptions, Scanning, parse_scan_cursor, parse_scan_options,
};
use bytes::Bytes;
use oxidis_protocol::{Frame, RespVersion};
use rand::Rng;

use crate::command::{
    Arg, Args, Arity, CommandResult, CommandSpec, Family, Flag::*, Group, KeyFlag::*, KeySpec,
};
use crate::context::CommandContext;
use crate::errors::CommandError;
use crate::errors::hash::{
    COUNT_OUT_OF_RANGE, COUNT_OUTSIDE_LONG, HASH_VALUE_NOT_FLOAT, HASH_VALUE_NOT_INTEGER,
    INCREMENT_NAN_OR_INFINITY,
};
use crate::families::count_reply;
use crate::glob::{Case, glob_match};
use crate::types::{CompactBytes, Hash, Value, parse_canonical_i64};
use long_double::LongDouble;

mod long_double;

const KEY: &[Arg] = &[Arg::key("key", 0)];
const KEY_FIELD: &[Arg] = &[Arg::key("key", 0), Arg::string("field")];
const KEY_FIELDS: &[Arg] = &[Arg::key("key", 0), Arg::string("field").multiple()];
const KEY_PAIRS: &[Arg] = &[
    Arg::key("key", 0),
    Arg::block("field_value", &[Arg::string("field"), Arg::string("value")]).multiple(),
];

/// Reads one key and exposes its contents.
const RO_ACCESS: &[KeySpec] = &[KeySpec::single(1, &[Ro, Access])];
/// Reads one key without exposing contents (lengths, existence).
const RO: &[KeySpec] = &[KeySpec::single(1, &[Ro])];
/// Reads, updates and returns one key (HINCRBY, HINCRBYFLOAT).
const RW_ACCESS_UPDATE: &[KeySpec] = &[KeySpec::single(1, &[Rw, Access, Update])];
/// Updates one key (HSET, HMSET).
const RW_UPDATE: &[KeySpec] = &[KeySpec::single(1, &[Rw, Update])];
const ALL_FIELDS: &str = "O(N) where N is the size of the hash.";

/// The hash family; `families::BUILTIN` lists it, and nothing else does.
pub static FAMILY: Family = Family {
    group: Group::Hash,
    commands: &[
        CommandSpec::new("hset", Arity::AtLeast(4), hset)
            .flags(&[Write, DenyOom, Fast])
            .keys(RW_UPDATE)
            .doc(
                "Sets the values of one or more fields of a hash.",
                "2.0.0",
                "O(1) for each field/value pair added, so O(N) to add N field/value pairs when \
                 the command is called with multiple field/value pairs.",
            )
            .args(KEY_PAIRS),
        CommandSpec::new("hsetnx", Arity::Exact(4), hsetnx)
            .flags(&[Write, DenyOom, Fast])
            .keys(&[KeySpec::single(1, &[Rw, Insert])])
            .doc(
                "Sets a field of a hash only if it does not exist.",
                "2.0.0",
                "O(1)",
            )
            .args(&[
                Arg::key("key", 0),
                Arg::string("field"),
                Arg::string("value"),
            ]),
        CommandSpec::new("hget", Arity::Exact(3), hget)
            .flags(&[ReadOnly, Fast])
            .keys(RO_ACCESS)
            .doc("Returns the value of a field of a hash.", "2.0.0", "O(1)")
            .args(KEY_FIELD),
        CommandSpec::new("hmget", Arity::AtLeast(3), hmget)
            .flags(&[ReadOnly, Fast])
            .keys(RO_ACCESS)
            .doc(
                "Returns the values of several fields of a hash.",
                "2.0.0",
                "O(N) where N is the number of fields being requested.",
            )
            .args(KEY_FIELDS),
        CommandSpec::new("hmset", Arity::AtLeast(4), hmset)
            .flags(&[Write, DenyOom, Fast])
            .keys(RW_UPDATE)
            .doc(
                "Sets the values of several fields of a hash.",
                "2.0.0",
                "O(N) where N is the number of fields being set.",
            )
            .deprecated("4.0.0", "`HSET` with multiple field-value pairs")
            .args(KEY_PAIRS),
        CommandSpec::new("hdel", Arity::AtLeast(3), hdel)
            .flags(&[Write, Fast])
            .keys(&[KeySpec::single(1, &[Rw, Delete])])
            .doc(
                "Removes fields from a hash, and the hash once it is empty.",
                "2.0.0",
                "O(N) where N is the number of fields to be removed.",
            )
            .args(KEY_FIELDS),
        CommandSpec::new("hlen", Arity::Exact(2), hlen)
            .flags(&[ReadOnly, Fast])
            .keys(RO)
            .doc("Returns the number of fields of a hash.", "2.0.0", "O(1)")
            .args(KEY),
        CommandSpec::new("hstrlen", Arity::Exact(3), hstrlen)
            .flags(&[ReadOnly, Fast])
            .keys(RO)
            .doc(
                "Returns the length of the value of a field of a hash.",
                "3.2.0",
                "O(1)",
            )
            .args(KEY_FIELD),
        CommandSpec::new("hexists", Arity::Exact(3), hexists)
            .flags(&[ReadOnly, Fast])
            .keys(RO)
            .doc("Tells whether a field exists in a hash.", "2.0.0", "O(1)")
            .args(KEY_FIELD),
        CommandSpec::new("hkeys", Arity::Exact(2), hkeys)
            .flags(&[ReadOnly])
            .keys(RO_ACCESS)
            .doc("Returns every field of a hash.", "2.0.0", ALL_FIELDS)
            .args(KEY)
            .tips(&["nondeterministic_output_order"]),
        CommandSpec::new("hvals", Arity::Exact(2), hvals)
            .flags(&[ReadOnly])
            .keys(RO_ACCESS)
            .doc("Returns every value of a hash.", "2.0.0", ALL_FIELDS)
            .args(KEY)
            .tips(&["nondeterministic_output_order"]),
        CommandSpec::new("hgetall", Arity::Exact(2), hgetall)
            .flags(&[ReadOnly])
            .keys(RO_ACCESS)
            .doc(
                "Returns every field and value of a hash.",
                "2.0.0",
                ALL_FIELDS,
            )
            .args(KEY)
            .tips(&["nondeterministic_output_order"]),
        CommandSpec::new("hincrby", Arity::Exact(4), hincrby)
            .flags(&[Write, DenyOom, Fast])
            .keys(RW_ACCESS_UPDATE)
            .doc(
                "Adds an integer to the integer value of a field of a hash.",
                "2.0.0",
                "O(1)",
            )
            .args(&[
                Arg::key("key", 0),
                Arg::string("field"),
                Arg::integer("increment"),
            ]),
        CommandSpec::new("hincrbyfloat", Arity::Exact(4), hincrbyfloat)
            .flags(&[Write, DenyOom, Fast])
            .keys(RW_ACCESS_UPDATE)
            .doc(
                "Adds a floating-point number to the value of a field of a hash.",
                "2.6.0",
                "O(1)",
            )
            .args(&[
                Arg::key("key", 0),
                Arg::string("field"),
                Arg::double("increment"),
            ]),
        CommandSpec::new("hrandfield", Arity::AtLeast(2), hrandfield)
            .flags(&[ReadOnly])
            .keys(RO_ACCESS)
            .doc(
                "Returns random fields of a hash, with or without their values.",
                "6.2.0",
                "O(N) where N is the number of fields returned",
            )
            .args(&[
                Arg::key("key", 0),
                Arg::block(
                    "options",
                    &[
                        Arg::integer("count"),
                        Arg::token("withvalues", "WITHVALUES").optional(),
                    ],
                )
                .optional(),
            ])
            .tips(&["nondeterministic_output"]),
        CommandSpec::new("hscan", Arity::AtLeast(3), hscan)
            .flags(&[ReadOnly])
            .keys(RO_ACCESS)
            .doc(
                "Walks the fields and values of a hash a few at a time with a cursor.",
                "2.8.0",
                "O(1) for every call. O(N) for a complete iteration, including enough command \
                 calls for the cursor to return back to 0. N is the number of elements inside \
                 the collection..",
            )
            .args(&[
                Arg::key("key", 0),
                Arg::integer("cursor"),
                Arg::pattern("pattern").with_token("MATCH").optional(),
                Arg::integer("count").with_token("COUNT").optional(),
            ])
            .tips(&["nondeterministic_output"]),
    ],
};

fn hset(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let created = set_pairs(ctx, args)?;
    Ok(count_reply(created))
}

fn hsetnx(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let value = args.next_bytes()?;
    let inserted = change_hash(ctx, key, |hash, limits| {
        Ok(!hash.contains(field) && limits.insert(hash, field, value))
    })?;
    if inserted {
        ctx.changed(1);
        ctx.notify(class::HASH, "hset", key);
    }
    Ok(Frame::Integer(i64::from(inserted)))
}

fn hget(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    Ok(read_hash(ctx, key)?
        .and_then(|hash| hash.get(field))
        .map_or(Frame::Null, Frame::bulk))
}

fn hmget(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let fields = args.rest();
    // A missing key is an empty hash: one nil per field.
    let hash = read_hash(ctx, key)?;
    Ok(Frame::Array(
        fields
            .iter()
            .map(|f| hash.and_then(|h| h.get(f)).map_or(Frame::Null, Frame::bulk))
            .collect(),
    ))
}

fn hmset(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    set_pairs(ctx, args)?;
    Ok(Frame::ok())
}

fn hdel(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let fields = args.rest();
    let Some(pos) = ctx.lookup_write(key) else {
        return Ok(Frame::Integer(0));
    };
    let hash = as_hash_mut(&mut ctx.db().entry_mut(pos).value)?;
    let mut deleted = 0u64;
    for field in fields {
        if hash.remove(field) {
            deleted += 1;
            if hash.is_empty() {
                break;
            }
        }
    }
    hash.shrink_spare();
    let emptied = hash.is_empty();
    if deleted > 0 {
        ctx.notify(class::HASH, "hdel", key);
    }
    if emptied {
        ctx.db().remove_at(pos);
        ctx.notify(class::GENERIC, "del", key);
    }
    ctx.changed(deleted);
    Ok(count_reply(deleted))
}

fn hlen(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    Ok(count_reply(read_hash(ctx, key)?.map_or(0, Hash::len)))
}

fn hstrlen(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let len = read_hash(ctx, key)?
        .and_then(|hash| hash.get(field))
        .map_or(0, <[u8]>::len);
    Ok(count_reply(len))
}

fn hexists(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let found = read_hash(ctx, key)?.is_some_and(|hash| hash.contains(field));
    Ok(Frame::Integer(i64::from(found)))
}

fn hkeys(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    all_of(ctx, args, Part::Fields)
}

fn hvals(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    all_of(ctx, args, Part::Values)
}

fn hgetall(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    all_of(ctx, args, Part::Both)
}

fn hincrby(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let increment = args.next_i64()?;
    let updated = change_hash(ctx, key, |hash, limits| {
        let current = match hash.get(field) {
            Some(value) => {
                parse_canonical_i64(value).ok_or(CommandError::msg(HASH_VALUE_NOT_INTEGER))?
            }
            None => 0,
        };
        let updated = current
            .checked_add(increment)
            .ok_or(CommandError::IncrementOverflow)?;
        limits.insert(hash, field, itoa::Buffer::new().format(updated).as_bytes());
        Ok(updated)
    })?;
    ctx.changed(1);
    ctx.notify(class::HASH, "hincrby", key);
    Ok(Frame::Integer(updated))
}

fn hincrbyfloat(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    // Redis computes in long double; so do we (see `long_double`).
    let increment = LongDouble::parse(args.next_bytes()?)
        .ok_or(CommandError::NotAFloat)?
        .ok_or(CommandError::msg(INCREMENT_NAN_OR_INFINITY))?;
    let text = change_hash(ctx, key, |hash, limits| {
        let current = match hash.get(field) {
            // A stored infinity is a float, but any sum with it is refused.
            Some(value) => LongDouble::parse(value)
                .ok_or(CommandError::msg(HASH_VALUE_NOT_FLOAT))?
                .ok_or(CommandError::NanOrInfinity)?,
            None => LongDouble::parse(b"0")
                .flatten()
                .ok_or(CommandError::NanOrInfinity)?,
        };
        let sum = current.add(increment).ok_or(CommandError::NanOrInfinity)?;
        let text = sum.to_human_string();
        limits.insert(hash, field, text.as_bytes());
        Ok(text)
    })?;
    ctx.changed(1);
    ctx.notify(class::HASH, "hincrbyfloat", key);
    // Propagated as the value it produced: float formatting must not differ between hosts.
    ctx.rewrite_propagation(vec![
        Bytes::from_static(b"HSET"),
        key.clone(),
        field.clone(),
        Bytes::from(text.clone()),
    ]);
    Ok(Frame::Bulk(Bytes::from(text)))
}

fn hrandfield(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    if args.is_empty() {
        return random_field(ctx, key);
    }
    let count = args.next_i64()?;
    // Redis reads the count as a long in -LONG_MAX..=LONG_MAX, so LONG_MIN has no magnitude.
    if count == i64::MIN {
        return Err(CommandError::msg(COUNT_OUTSIDE_LONG));
    }
    let with_values = match args.remaining() {
        0 => false,
        1 if args.eat_keyword("WITHVALUES") => true,
        _ => return Err(CommandError::Syntax),
    };
    // Twice the count must still be a long (the RESP2 reply has two entries a field).
    if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CommandError::msg(COUNT_OUT_OF_RANGE));
    }
    random_fields(ctx, key, count, with_values)
}

fn hscan(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let cursor = parse_scan_cursor(args.next_bytes()?)?;
    // Redis looks the key up before reading the options: a missing key answers an empty
    // scan even when the options are bad.
    let Some(hash) = read_hash(ctx, key)? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let ScanOptions { pattern, count, .. } = parse_scan_options(args, Scanning::Elements)?;
    let mut found = Vec::new();
    let next = hash.scan(cursor, count, |field, value| {
        if pattern.is_none_or(|p| glob_match(p, field, Case::Sensitive)) {
            found.push(Frame::bulk(field));
            found.push(Frame::bulk(value));
        }
    });
    Ok(scan_reply(next, found))
}

// ---------------------------------------------------------------------------------------------
// Cores shared by several commands.

/// HSET and HMSET: sets every pair and returns how many fields were new.
fn set_pairs(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> Result<usize, CommandError> {
    let key = args.next_bytes()?;
    let pairs = args.rest();
    // Arity lets an odd number of arguments through; Redis refuses it as an arity error.
    if !pairs.len().is_multiple_of(2) {
        return Err(CommandError::WrongArity {
            command: ctx.command().full_name.clone(),
        });
    }
    let created = change_hash(ctx, key, |hash, limits| {
        Ok(pairs
            .chunks_exact(2)
            .filter(|pair| limits.insert(hash, &pair[0], &pair[1]))
            .count())
    })?;
    ctx.changed(u64::try_from(pairs.len() / 2).unwrap_or(u64::MAX));
    ctx.notify(class::HASH, "hset", key);
    Ok(created)
}

/// Which part of each pair HKEYS, HVALS and HGETALL answer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Fields,
    Values,
    Both,
}

fn all_of(ctx: &mut CommandContext<'_>, args: &mut Args<'_>, part: Part) -> CommandResult {
    let key = args.next_bytes()?;
    let hash = read_hash(ctx, key)?;
    let pairs = hash.into_iter().flat_map(Hash::iter);
    Ok(match part {
        // A map in RESP3 (an empty one for a missing key), a flat array in RESP2.
        Part::Both => Frame::Map(
            pairs
                .map(|(f, v)| (Frame::bulk(f), Frame::bulk(v)))
                .collect(),
        ),
        Part::Fields => Frame::Array(pairs.map(|(f, _)| Frame::bulk(f)).collect()),
        Part::Values => Frame::Array(pairs.map(|(_, v)| Frame::bulk(v)).collect()),
    })
}

/// HRANDFIELD key: one random field, or nil.
fn random_field(ctx: &mut CommandContext<'_>, key: &[u8]) -> CommandResult {
    let Some(pos) = ctx.lookup_read(key) else {
        return Ok(Frame::Null);
    };
    let db = ctx.db_index();
    let server = &mut *ctx.server;
    let hash = as_hash(&server.dbs[db].entry(pos).value)?;
    Ok(hash
        .random_pair(&mut server.rng)
        .map_or(Frame::Null, |(field, _)| Frame::bulk(field)))
}

/// HRANDFIELD key count [WITHVALUES]. A negative count samples with repetition; a positive one
/// returns distinct fields, the whole hash when it asks for at least that many.
fn random_fields(
    ctx: &mut CommandContext<'_>,
    key: &[u8],
    count: i64,
    with_values: bool,
) -> CommandResult {
    let resp = ctx.resp();
    let Some(pos) = ctx.lookup_read(key) else {
        return Ok(Frame::Array(Vec::new()));
    };
    let db = ctx.db_index();
    let budget = crate::client::reply_limit(ctx.server, ctx.client_id());
    let server = &mut *ctx.server;
    let hash = as_hash(&server.dbs[db].entry(pos).value)?;
    let rng = &mut server.rng;
    let distinct = count > 0;
    let wanted = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let mut reply = Vec::with_capacity(wanted.min(hash.len().max(1) * 2).min(1 << 16));
    let mut push = |(field, value): (&[u8], &[u8])| match (with_values, resp) {
        (false, _) => reply.push(Frame::bulk(field)),
        // RESP3 nests each pair; RESP2 flattens them.
        (true, RespVersion::Resp3) => {
            reply.push(Frame::Array(vec![Frame::bulk(field), Frame::bulk(value)]));
        }
        (true, RespVersion::Resp2) => {
            reply.push(Frame::bulk(field));
            reply.push(Frame::bulk(value));
        }
    };
    let size = hash.len();
    if wanted == 0 || size == 0 {
        // Nothing to add.
    } else if !distinct || wanted == 1 {
        let pairs = hash.indexed();
        // Past the caller's output limit the client is closed unanswered: stop there.
        let mut bytes = 0usize;
        for _ in 0..wanted {
            if let Some(pair) = pairs.get(rng.random_range(0..size)) {
                // At most what it encodes to (`$N\r\n...\r\n`), so stopping here means the
                // reply is over the limit for certain.
                bytes += pair.0.len() + 5 + if with_values { pair.1.len() + 5 } else { 0 };
                push(pair);
            }
            if budget.is_some_and(|limit| bytes > limit + crate::client::REPLY_BUFFER_BYTES) {
                break;
            }
        }
    } else if wanted >= size {
        hash.iter().for_each(&mut push);
    } else {
        let pairs = hash.indexed();
        for i in sample_distinct(rng, size, wanted) {
            if let Some(pair) = pairs.get(i) {
                push(pair);
            }
        }
    }
    Ok(Frame::Array(reply))
}

/// `wanted` distinct positions below `size` (`wanted < size`), in random order: a partial
/// shuffle when most positions are wanted, rejection sampling when few are.
fn sample_distinct(rng: &mut impl Rng, size: usize, wanted: usize) -> Vec<usize> {
    if wanted.saturating_mul(3) > size {
        let mut positions: Vec<usize> = (0..size).collect();
        for i in 0..wanted {
            let j = rng.random_range(i..size);
            positions.swap(i, j);
        }
        positions.truncate(wanted);
        positions
    } else {
        let mut seen = std::collections::HashSet::with_capacity(wanted);
        let mut picked = Vec::with_capacity(wanted);
        while picked.len() < wanted {
            let i = rng.random_range(0..size);
            if seen.insert(i) {
                picked.push(i);
            }
        }
        picked
    }
}

// ---------------------------------------------------------------------------------------------
// Keyspace access.

/// `hash-max-listpack-entries` and `hash-max-listpack-value`, read once per command so CONFIG
/// SET takes effect on the next write.
#[derive(Clone, Copy)]
struct Limits {
    max_entries: usize,
    max_value: usize,
}

impl Limits {
    fn of(ctx: &CommandContext<'_>) -> Limits {
        let config = ctx.config();
        Limits {
            max_entries: usize::try_from(config.hash_max_listpack_entries).unwrap_or(usize::MAX),
            max_value: usize::try_from(config.hash_max_listpack_value).unwrap_or(usize::MAX),
        }
    }

    /// Sets `field` in `hash`, converting it when these limits say so; true when it is new.
    fn insert(self, hash: &mut Hash, field: &[u8], value: &[u8]) -> bool {
        hash.insert(field, value, self.max_entries, self.max_value)
    }
}

/// The hash under `key` for reading (counting a hit or miss), `None` when missing.
///
/// # Errors
/// WRONGTYPE when the key holds another type.
fn read_hash<'c>(
    ctx: &'c mut CommandContext<'_>,
    key: &[u8],
) -> Result<Option<&'c Hash>, CommandError> {
    ctx.read(key).map(as_hash).transpose()
}

/// Runs `change` on the hash under `key`, or on a new empty one when the key is missing; the
/// new hash is stored only if `change` succeeds and leaves something in it.
///
/// # Errors
/// WRONGTYPE when the key holds another type, or whatever `change` fails with.
fn change_hash<R>(
    ctx: &mut CommandContext<'_>,
    key: &[u8],
    change: impl FnOnce(&mut Hash, Limits) -> Result<R, CommandError>,
) -> Result<R, CommandError> {
    let limits = Limits::of(ctx);
    match ctx.lookup_write(key) {
        Some(pos) => {
            let hash = as_hash_mut(&mut ctx.db().entry_mut(pos).value)?;
            let result = change(hash, limits);
            hash.shrink_spare();
            result
        }
        None => {
            let mut hash = Hash::new();
            let result = change(&mut hash, limits)?;
            if !hash.is_empty() {
                hash.shrink_spare();
                let clock = crate::server::lru_clock_at(ctx.now_ms());
                ctx.db().insert_new(
                    CompactBytes::new(key),
                    Value::Hash(Box::new(hash)),
                    None,
                    clock,
                );
                ctx.notify(class::NEW, "new", key);
            }
            Ok(result)
        }
    }
}

/// The hash in `value`, or WRONGTYPE. Every variant is listed, so a new one must be given an arm.
fn as_hash(value: &Value) -> Result<&Hash, CommandError> {
    value.as_hash()
}

/// [`as_hash`] for changing.
fn as_hash_mut(value: &mut Value) -> Result<&mut Hash, CommandError> {
    value.as_hash_mut()
}

// ---------------------------------------------------------------------------------------------
// Numbers and SCAN arguments.

/// `[cursor, [elements...]]`, a plain array in both protocols.
fn scan_reply(cursor: u64, elements: Vec<Frame>) -> Frame {
    Frame::Array(vec![
        Frame::Bulk(Bytes::from(cursor.to_string())),
        Frame::Array(elements),
    ])
}

#[cfg(test)]
mod tests;
