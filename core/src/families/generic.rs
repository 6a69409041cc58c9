//! Keyspace ("generic") commands: DEL, UNLINK, EXISTS, TYPE, RENAME, RENAMENX, MOVE, COPY, KEYS,
//! SCAN, RANDOMKEY, the EXPIRE group, the TTL group, PERSIST, TOUCH and OBJECT.
//! They work on keys whatever their type; the values themselves belong to the type families.

use bytes::Bytes;
use oxidis_protocol::Frame;

use crate::command::{
    AclCategory, Arg, Args, Arity, CommandResult, CommandSpec, Family, Flag::*, Group, KeyFlag,
    KeySpec, parse_i64,
};
use crate::config::Config;
use crate::context::CommandContext;
use crate::errors::generic::{
    EXPIRE_GT_LT_CONFLICT, EXPIRE_NX_CONFLICT, FREQ_WITHOUT_LFU, IDLETIME_WITH_LFU, INVALID_CURSOR,
    unsupported_option,
};
use crate::errors::{CommandError, DB_INDEX_OUT_OF_RANGE, SAME_OBJECT};
use crate::families::help_reply;
use crate::glob::{Case, glob_match};
use crate::types::{CompactBytes, Value};

const KEYS_DELETED: &[KeySpec] = &[KeySpec::range(1, -1, 1, &[KeyFlag::Rm, KeyFlag::Delete])];
const KEYS_READ: &[KeySpec] = &[KeySpec::range(1, -1, 1, &[KeyFlag::Ro])];
const KEY_RO: &[KeySpec] = &[KeySpec::single(1, &[KeyFlag::Ro])];
const KEY_RO_ACCESS: &[KeySpec] = &[KeySpec::single(1, &[KeyFlag::Ro, KeyFlag::Access])];
const KEY_RW_UPDATE: &[KeySpec] = &[KeySpec::single(1, &[KeyFlag::Rw, KeyFlag::Update])];
const OBJECT_KEY: &[KeySpec] = &[KeySpec::single(2, &[KeyFlag::Ro])];
const MULTI_SHARD_SUM: &[&str] = &["request_policy:multi_shard", "response_policy:agg_sum"];
const NONDETERMINISTIC: &[&str] = &["nondeterministic_output"];

const ARG_KEY: &[Arg] = &[Arg::key("key", 0)];
const ARG_KEYS: &[Arg] = &[Arg::key("key", 0).multiple()];
const ARGS_RENAME: &[Arg] = &[Arg::key("key", 0), Arg::key("newkey", 1)];
const EXPIRE_CONDITION: Arg = Arg::one_of(
    "condition",
    &[
        Arg::token("nx", "NX"),
        Arg::token("xx", "XX"),
        Arg::token("gt", "GT"),
        Arg::token("lt", "LT"),
    ],
)
.optional()
.since("7.0.0");

/// Builds the spec shared by EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT.
const fn expire_spec(
    name: &'static str,
    handler: crate::command::HandlerFn,
    summary: &'static str,
    since: &'static str,
    args: &'static [Arg],
) -> CommandSpec {
    CommandSpec::new(name, Arity::AtLeast(3), handler)
        .flags(&[Write, Fast])
        .keys(KEY_RW_UPDATE)
        .doc(summary, since, "O(1)")
        .args(args)
}

/// Builds the spec shared by TTL, PTTL, EXPIRETIME and PEXPIRETIME.
const fn ttl_spec(
    name: &'static str,
    handler: crate::command::HandlerFn,
    summary: &'static str,
    since: &'static str,
    tips: &'static [&'static str],
) -> CommandSpec {
    CommandSpec::new(name, Arity::Exact(2), handler)
        .flags(&[ReadOnly, Fast])
        .keys(KEY_RO_ACCESS)
        .doc(summary, since, "O(1)")
        .args(ARG_KEY)
        .tips(tips)
}

/// Builds an OBJECT subcommand that reads one key.
const fn object_spec(
    name: &'static str,
    handler: crate::command::HandlerFn,
    summary: &'static str,
    since: &'static str,
) -> CommandSpec {
    CommandSpec::new(name, Arity::Exact(3), handler)
        .flags(&[ReadOnly])
        .keys(OBJECT_KEY)
        .doc(summary, since, "O(1)")
        .args(ARG_KEY)
        .tips(NONDETERMINISTIC)
}

/// The generic family; `families::BUILTIN` lists it, and nothing else does.
pub static FAMILY: Family = Family {
    group: Group::Generic,
    commands: &[
        CommandSpec::new("del", Arity::AtLeast(2), del)
            .flags(&[Write])
            .keys(KEYS_DELETED)
            .doc(
                "Removes keys.",
                "1.0.0",
                "O(N) where N is the number of keys removed",
            )
            .args(ARG_KEYS)
            .tips(MULTI_SHARD_SUM),
        CommandSpec::new("unlink", Arity::AtLeast(2), unlink)
            .flags(&[Write, Fast])
            .keys(KEYS_DELETED)
            .doc(
                "Removes keys, freeing their memory off the serving path.",
                "4.0.0",
                "O(1) for each key removed",
            )
            .args(ARG_KEYS)
            .tips(MULTI_SHARD_SUM),
        CommandSpec::new("exists", Arity::AtLeast(2), exists)
            .flags(&[ReadOnly, Fast])
            .keys(KEYS_READ)
            .doc(
                "Counts how many of the given keys exist.",
                "1.0.0",
                "O(N) where N is the number of keys",
            )
            .args(ARG_KEYS)
            .tips(MULTI_SHARD_SUM),
        CommandSpec::new("type", Arity::Exact(2), r#type)
            .flags(&[ReadOnly, Fast])
            .keys(KEY_RO)
            .doc(
                "Names the type of the value stored at a key.",
                "1.0.0",
                "O(1)",
            )
            .args(ARG_KEY),
        CommandSpec::new("rename", Arity::Exact(3), rename)
            .flags(&[Write])
            .keys(&[
                KeySpec::single(1, &[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]),
                KeySpec::single(2, &[KeyFlag::Ow, KeyFlag::Update]),
            ])
            .doc(
                "Gives a key a new name, replacing any key of that name.",
                "1.0.0",
                "O(1)",
            )
            .args(ARGS_RENAME),
        CommandSpec::new("renamenx", Arity::Exact(3), renamenx)
            .flags(&[Write, Fast])
            .keys(&[
                KeySpec::single(1, &[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]),
                KeySpec::single(2, &[KeyFlag::Ow, KeyFlag::Insert]),
            ])
            .doc(
                "Gives a key a new name only if that name is free.",
                "1.0.0",
                "O(1)",
            )
            .args(ARGS_RENAME),
        CommandSpec::new("move", Arity::Exact(3), r#move)
            .flags(&[Write, Fast])
            .keys(&[KeySpec::single(
                1,
                &[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update],
            )])
            .doc("Moves a key to another database.", "1.0.0", "O(1)")
            .args(&[Arg::key("key", 0), Arg::integer("db")]),
        CommandSpec::new("copy", Arity::AtLeast(3), copy)
            .flags(&[Write, DenyOom])
            .keys(&[
                KeySpec::single(1, &[KeyFlag::Ro, KeyFlag::Access]),
                KeySpec::single(2, &[KeyFlag::Ow, KeyFlag::Update]),
            ])
            .doc(
                "Copies the value of a key to another key, in this or another database.",
                "6.2.0",
                "O(N) for collections, where N is the number of nested items; O(1) for strings",
            )
            .args(&[
                Arg::key("source", 0),
                Arg::key("destination", 1),
                Arg::integer("destination-db").with_token("DB").optional(),
                Arg::token("replace", "REPLACE").optional(),
            ]),
        CommandSpec::new("keys", Arity::Exact(2), keys)
            .flags(&[ReadOnly])
            .acl(&[AclCategory::Dangerous])
            .doc(
                "Lists every key matching a glob pattern.",
                "1.0.0",
                "O(N) with N being the number of keys in the database",
            )
            .args(&[Arg::pattern("pattern")])
            .tips(&["request_policy:all_shards", "nondeterministic_output_order"]),
        CommandSpec::new("scan", Arity::AtLeast(2), scan)
            .flags(&[ReadOnly])
            .doc(
                "Walks the keyspace a few keys at a time with a cursor.",
                "2.8.0",
                "O(1) for every call. O(N) for a complete iteration",
            )
            .args(&[
                Arg::integer("cursor"),
                Arg::pattern("pattern").with_token("MATCH").optional(),
                Arg::integer("count").with_token("COUNT").optional(),
                Arg::string("type")
                    .with_token("TYPE")
                    .optional()
                    .since("6.0.0"),
            ])
            .tips(&["nondeterministic_output", "request_policy:special"]),
        CommandSpec::new("randomkey", Arity::Exact(1), randomkey)
            .flags(&[ReadOnly])
            .doc("Names a random key of the database.", "1.0.0", "O(1)")
            .tips(&["request_policy:all_shards", "nondeterministic_output"]),
        expire_spec(
            "expire",
            expire,
            "Sets a key's time to live in seconds.",
            "1.0.0",
            &[
                Arg::key("key", 0),
                Arg::integer("seconds"),
                EXPIRE_CONDITION,
            ],
        ),
        expire_spec(
            "pexpire",
            pexpire,
            "Sets a key's time to live in milliseconds.",
            "2.6.0",
            &[
                Arg::key("key", 0),
                Arg::integer("milliseconds"),
                EXPIRE_CONDITION,
            ],
        ),
        expire_spec(
            "expireat",
            expireat,
            "Makes a key expire at a Unix time in seconds.",
            "1.2.0",
            &[
                Arg::key("key", 0),
                Arg::unix_time("unix-time-seconds"),
                EXPIRE_CONDITION,
            ],
        ),
        expire_spec(
            "pexpireat",
            pexpireat,
            "Makes a key expire at a Unix time in milliseconds.",
            "2.6.0",
            &[
                Arg::key("key", 0),
                Arg::unix_time("unix-time-milliseconds"),
                EXPIRE_CONDITION,
            ],
        ),
        ttl_spec(
            "ttl",
            ttl,
            "Reports a key's time to live in seconds.",
            "1.0.0",
            NONDETERMINISTIC,
        ),
        ttl_spec(
            "pttl",
            pttl,
            "Reports a key's time to live in milliseconds.",
            "2.6.0",
            NONDETERMINISTIC,
        ),
        ttl_spec(
            "expiretime",
            expiretime,
            "Reports when a key expires, as Unix seconds.",
            "7.0.0",
            &[],
        ),
        ttl_spec(
            "pexpiretime",
            pexpiretime,
            "Reports when a key expires, as Unix milliseconds.",
            "7.0.0",
            &[],
        ),
        CommandSpec::new("persist", Arity::Exact(2), persist)
            .flags(&[Write, Fast])
            .keys(KEY_RW_UPDATE)
            .doc("Removes a key's expiry.", "2.2.0", "O(1)")
            .args(ARG_KEY),
        CommandSpec::new("touch", Arity::AtLeast(2), touch)
            .flags(&[ReadOnly, Fast])
            .keys(KEYS_READ)
            .doc(
                "Marks keys as just accessed; counts those that exist.",
                "3.2.1",
                "O(N) where N is the number of keys touched",
            )
            .args(ARG_KEYS)
            .tips(MULTI_SHARD_SUM),
        CommandSpec::container(
            "object",
            &[
                object_spec(
                    "encoding",
                    object_encoding,
                    "Names the internal encoding of a value.",
                    "2.2.3",
                ),
                object_spec(
                    "freq",
                    object_freq,
                    "Reports a key's logarithmic access frequency.",
                    "4.0.0",
                ),
                object_spec(
                    "idletime",
                    object_idletime,
                    "Reports seconds since a key was last accessed.",
                    "2.2.3",
                ),
                object_spec(
                    "refcount",
                    object_refcount,
                    "Reports how many references a value has.",
                    "2.2.3",
                ),
                CommandSpec::new("help", Arity::Exact(2), object_help)
                    .flags(&[Loading, Stale])
                    .doc("Lists the OBJECT subcommands.", "6.2.0", "O(1)"),
            ],
        )
        // Redis gives the container itself no category but @slow.
        .acl_only(&[])
        .doc(
            "Container for object introspection commands.",
            "2.2.3",
            "Depends on subcommand.",
        ),
    ],
};

fn del(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    delete_keys(ctx, args.rest())
}

// Values are freed in place either way: nothing here is large enough yet to need a background
// thread, so UNLINK is DEL with its own flags.
fn unlink(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    delete_keys(ctx, args.rest())
}

fn exists(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let mut count = 0;
    // A key named twice counts twice, as in Redis.
    for key in args.rest() {
        if ctx.lookup_read_no_touch(key).is_some() {
            count += 1;
        }
    }
    Ok(Frame::Integer(count))
}

fn r#type(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let name = match ctx.lookup_read_no_touch(key) {
        Some(pos) => ctx.db().entry(pos).value.value_type().name(),
        None => "none",
    };
    Ok(Frame::simple_static(name))
}

fn rename(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    rename_key(ctx, args, Overwrite::Allowed)
}

fn renamenx(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    rename_key(ctx, args, Overwrite::Refused)
}

fn r#move(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let target = parse_db_index(ctx, args.next_bytes()?)?;
    let source = ctx.db_index();
    if target == source {
        return Err(CommandError::msg(SAME_OBJECT));
    }
    if ctx.lookup_write_in(source, key).is_none() || ctx.lookup_write_in(target, key).is_some() {
        return Ok(Frame::Integer(0));
    }
    let Some(entry) = ctx.server.dbs[source].remove(key) else {
        return Ok(Frame::Integer(0));
    };
    let expire_at = entry.expire_at();
    ctx.server.dbs[target].insert_new(entry.key, entry.value, expire_at, entry.access_clock);
    ctx.changed(1);
    Ok(Frame::Integer(1))
}

fn copy(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let source_key = args.next_bytes()?;
    let target_key = args.next_bytes()?;
    let source_db = ctx.db_index();
    let mut target_db = source_db;
    let mut replace = false;
    while let Some(option) = args.peek() {
        if args.eat_keyword("REPLACE") {
            replace = true;
        } else if option.eq_ignore_ascii_case(b"DB") && args.remaining() >= 2 {
            args.next_bytes()?;
            target_db = parse_db_index(ctx, args.next_bytes()?)?;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    if source_db == target_db && source_key == target_key {
        return Err(CommandError::msg(SAME_OBJECT));
    }
    let Some(pos) = ctx.lookup_read(source_key) else {
        return Ok(Frame::Integer(0));
    };
    let entry = ctx.db().entry(pos);
    let expire_at = entry.expire_at();
    let value = duplicate_value(&entry.value);
    if ctx.lookup_write_in(target_db, target_key).is_some() {
        if !replace {
            return Ok(Frame::Integer(0));
        }
        ctx.server.dbs[target_db].remove(target_key);
    }
    let clock = ctx.server.lru_clock();
    ctx.server.dbs[target_db].insert_new(CompactBytes::new(target_key), value, expire_at, clock);
    ctx.changed(1);
    Ok(Frame::Integer(1))
}

fn keys(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let pattern = args.next_bytes()?;
    let match_all = pattern.as_ref() == b"*";
    let now = ctx.now_ms();
    // Expired keys are skipped but left in place: KEYS only reads, as in Redis.
    let found = ctx
        .db()
        .iter()
        .filter(|e| !e.is_expired(now))
        .filter(|e| match_all || glob_match(pattern, e.key.as_slice(), Case::Sensitive))
        .map(|e| Frame::bulk(e.key.as_slice()))
        .collect();
    Ok(Frame::Array(found))
}

fn scan(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let cursor = parse_scan_cursor(args.next_bytes()?)?;
    let options = parse_scan_options(args)?;
    let mut visited: Vec<CompactBytes> = Vec::new();
    let next = ctx.db().scan(cursor, options.count, |entry| {
        if options
            .pattern
            .is_none_or(|p| glob_match(p, entry.key.as_slice(), Case::Sensitive))
        {
            visited.push(entry.key.clone());
        }
    });
    let now = ctx.now_ms();
    let mut found = Vec::with_capacity(visited.len());
    for key in visited {
        // Removing an entry the walk has passed only moves another passed entry, so the cursor
        // stays valid while expired keys are reclaimed here.
        let Some(pos) = ctx.db().find(key.as_slice()) else {
            continue;
        };
        let expired = ctx.db().entry(pos).is_expired(now);
        if let Some(wanted) = options.type_name {
            // Redis reads the type through a lookup that reclaims an expired key and calls it
            // "none"; such a key then passes the expiry filter, since it is already gone.
            let name = if expired {
                ctx.reclaim_expired(pos);
                ctx.server.stats.keyspace_misses += 1;
                "none"
            } else {
                ctx.server.stats.keyspace_hits += 1;
                ctx.db().entry(pos).value.value_type().name()
            };
            if name.as_bytes().eq_ignore_ascii_case(wanted) {
                found.push(Frame::bulk(key.as_slice()));
            }
            continue;
        }
        if expired {
            ctx.reclaim_expired(pos);
            continue;
        }
        found.push(Frame::bulk(key.as_slice()));
    }
    Ok(Frame::Array(vec![
        Frame::Bulk(Bytes::from(next.to_string())),
        Frame::Array(found),
    ]))
}

fn randomkey(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    let now = ctx.now_ms();
    let db = ctx.db_index();
    // Expired keys met on the way are reclaimed, so this ends: each miss shrinks the database.
    loop {
        let server = &mut *ctx.server;
        let Some(pos) = server.dbs[db].random_position(&mut server.rng) else {
            return Ok(Frame::Null);
        };
        let entry = server.dbs[db].entry(pos);
        if !entry.is_expired(now) {
            return Ok(Frame::bulk(entry.key.as_slice()));
        }
        ctx.reclaim_expired(pos);
    }
}

fn expire(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    set_expiry(ctx, args, TimeBase::Now, TimeUnit::Seconds)
}

fn pexpire(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    set_expiry(ctx, args, TimeBase::Now, TimeUnit::Milliseconds)
}

fn expireat(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    set_expiry(ctx, args, TimeBase::Epoch, TimeUnit::Seconds)
}

fn pexpireat(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    set_expiry(ctx, args, TimeBase::Epoch, TimeUnit::Milliseconds)
}

fn ttl(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    report_expiry(ctx, args, TimeBase::Now, TimeUnit::Seconds)
}

fn pttl(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    report_expiry(ctx, args, TimeBase::Now, TimeUnit::Milliseconds)
}

fn expiretime(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    report_expiry(ctx, args, TimeBase::Epoch, TimeUnit::Seconds)
}

fn pexpiretime(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    report_expiry(ctx, args, TimeBase::Epoch, TimeUnit::Milliseconds)
}

fn persist(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let db = ctx.db_index();
    let Some(pos) = ctx.lookup_write_in(db, key) else {
        return Ok(Frame::Integer(0));
    };
    if ctx.db().entry(pos).expire_at().is_none() {
        return Ok(Frame::Integer(0));
    }
    ctx.db().set_expire_at(pos, None);
    ctx.changed(1);
    Ok(Frame::Integer(1))
}

fn touch(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let mut count = 0;
    for key in args.rest() {
        if ctx.lookup_read(key).is_some() {
            count += 1;
        }
    }
    Ok(Frame::Integer(count))
}

fn object_encoding(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    Ok(match ctx.lookup_read_no_touch(key) {
        Some(pos) => Frame::bulk(ctx.db().entry(pos).value.encoding_name()),
        None => Frame::Null,
    })
}

fn object_freq(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    if ctx.lookup_read_no_touch(key).is_none() {
        return Ok(Frame::Null);
    }
    if !lfu_policy_selected(ctx.config()) {
        return Err(CommandError::msg(FREQ_WITHOUT_LFU));
    }
    // TODO(#3): report the LFU counter once maxmemory-policy and LFU tracking exist.
    Ok(Frame::Integer(0))
}

fn object_idletime(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let Some(pos) = ctx.lookup_read_no_touch(key) else {
        return Ok(Frame::Null);
    };
    if lfu_policy_selected(ctx.config()) {
        return Err(CommandError::msg(IDLETIME_WITH_LFU));
    }
    let accessed = ctx.db().entry(pos).access_clock;
    let idle_seconds = ctx.server.lru_clock().wrapping_sub(accessed);
    Ok(Frame::Integer(i64::from(idle_seconds)))
}

fn object_refcount(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let Some(pos) = ctx.lookup_read_no_touch(key) else {
        return Ok(Frame::Null);
    };
    Ok(Frame::Integer(reference_count(&ctx.db().entry(pos).value)))
}

fn object_help(_ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    const LINES: &[&str] = &[
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
    ];
    Ok(help_reply("OBJECT", LINES))
}

/// Whether RENAME may replace an existing key (RENAMENX may not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Overwrite {
    Allowed,
    Refused,
}

/// Where an expire time is counted from: now (EXPIRE, TTL) or the Unix epoch (EXPIREAT,
/// EXPIRETIME).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeBase {
    Now,
    Epoch,
}

/// The unit of an expire time a client sends or reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeUnit {
    Seconds,
    Milliseconds,
}

/// EXPIRE's NX / XX / GT / LT conditions (XX combines with GT or LT).
#[derive(Debug, Clone, Copy, Default)]
struct ExpireCondition {
    if_no_expiry: bool,
    if_has_expiry: bool,
    if_later: bool,
    if_earlier: bool,
}

impl ExpireCondition {
    /// Whether the new expiry `when` may replace `current` (`None`: no expiry, which GT and
    /// LT treat as infinitely far away).
    fn allows(self, current: Option<i64>, when: i64) -> bool {
        match current {
            None => !self.if_has_expiry && !self.if_later,
            Some(_) if self.if_no_expiry => false,
            Some(current) => {
                let not_later = self.if_later && when <= current;
                let not_earlier = self.if_earlier && when >= current;
                !not_later && !not_earlier
            }
        }
    }
}

/// SCAN's MATCH, COUNT and TYPE options.
struct ScanOptions<'a> {
    pattern: Option<&'a [u8]>,
    count: usize,
    type_name: Option<&'a [u8]>,
}

/// The one place DEL and UNLINK remove keys; expired keys count as absent.
fn delete_keys(ctx: &mut CommandContext<'_>, keys: &[Bytes]) -> CommandResult {
    let mut deleted = 0;
    for key in keys {
        if ctx.delete(key) {
            deleted += 1;
        }
    }
    Ok(Frame::Integer(deleted))
}

/// RENAME and RENAMENX. The value keeps its expiry; the target's expiry is dropped with it.
fn rename_key(
    ctx: &mut CommandContext<'_>,
    args: &mut Args<'_>,
    overwrite: Overwrite,
) -> CommandResult {
    let source = args.next_bytes()?;
    let target = args.next_bytes()?;
    let (done, refused) = match overwrite {
        Overwrite::Allowed => (Frame::ok(), Frame::ok()),
        Overwrite::Refused => (Frame::Integer(1), Frame::Integer(0)),
    };
    let db = ctx.db_index();
    if ctx.lookup_write_in(db, source).is_none() {
        return Err(CommandError::NoSuchKey);
    }
    // Renaming a key to itself changes nothing, but still needs the key to exist.
    if source == target {
        return Ok(refused);
    }
    if ctx.lookup_write_in(db, target).is_some() {
        if overwrite == Overwrite::Refused {
            return Ok(refused);
        }
        ctx.db().remove(target);
    }
    let Some(entry) = ctx.db().remove(source) else {
        return Err(CommandError::NoSuchKey);
    };
    let expire_at = entry.expire_at();
    ctx.db().insert_new(
        CompactBytes::new(target),
        entry.value,
        expire_at,
        entry.access_clock,
    );
    ctx.changed(1);
    Ok(done)
}

/// A database index argument of MOVE and COPY, checked against `databases`.
fn parse_db_index(ctx: &CommandContext<'_>, arg: &[u8]) -> Result<usize, CommandError> {
    // Redis reads it as a C int, so anything past 32 bits is "not an integer".
    let index = i32::try_from(parse_i64(arg)?).map_err(|_| CommandError::NotAnInteger)?;
    usize::try_from(index)
        .ok()
        .filter(|i| *i < ctx.server.dbs.len())
        .ok_or(CommandError::msg(DB_INDEX_OUT_OF_RANGE))
}

/// An independent copy of a value for COPY.
fn duplicate_value(value: &Value) -> Value {
    match value {
        Value::Int(_) | Value::Str(_) | Value::Mutable(_) => value.clone(),
    }
}

/// What OBJECT REFCOUNT reports. Redis shares one object for each integer 0..=9999 and reports
/// `INT_MAX` for it; every other value has a single owner.
fn reference_count(value: &Value) -> i64 {
    const SHARED_INTEGERS: i64 = 10_000;
    const SHARED_REFCOUNT: i64 = 2_147_483_647;
    match value {
        Value::Int(n) if (0..SHARED_INTEGERS).contains(n) => SHARED_REFCOUNT,
        Value::Int(_) | Value::Str(_) | Value::Mutable(_) => 1,
    }
}

/// Whether `maxmemory-policy` is an LFU one (OBJECT FREQ works, OBJECT IDLETIME does not).
// TODO(#3): read `maxmemory_policy` once the config carries it; until then the policy is
// Redis's default, `noeviction`.
fn lfu_policy_selected(_config: &Config) -> bool {
    false
}

/// SCAN's cursor, read as C's `strtoul` would (a sign is allowed and a negative number wraps;
/// no spaces), so any cursor Redis accepts is accepted.
fn parse_scan_cursor(arg: &[u8]) -> Result<u64, CommandError> {
    let invalid = || CommandError::msg(INVALID_CURSOR);
    if arg.is_empty() {
        return Ok(0);
    }
    let (negative, digits) = match arg {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, arg),
    };
    if digits.is_empty() {
        return Err(invalid());
    }
    let mut cursor: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return Err(invalid());
        }
        cursor = cursor
            .checked_mul(10)
            .and_then(|c| c.checked_add(u64::from(b - b'0')))
            .ok_or_else(invalid)?;
    }
    Ok(if negative {
        cursor.wrapping_neg()
    } else {
        cursor
    })
}

/// Reads SCAN's options in order, as Redis does: the first bad one decides the error.
fn parse_scan_options<'a>(args: &mut Args<'a>) -> Result<ScanOptions<'a>, CommandError> {
    let mut options = ScanOptions {
        pattern: None,
        count: 10,
        type_name: None,
    };
    while let Some(option) = args.peek() {
        if args.remaining() < 2 {
            return Err(CommandError::Syntax);
        }
        if option.eq_ignore_ascii_case(b"COUNT") {
            args.next_bytes()?;
            let count = args.next_i64()?;
            options.count = usize::try_from(count)
                .ok()
                .filter(|c| *c >= 1)
                .ok_or(CommandError::Syntax)?;
        } else if option.eq_ignore_ascii_case(b"MATCH") {
            args.next_bytes()?;
            let pattern = args.next_bytes()?.as_ref();
            // "*" matches everything: no need to run the matcher.
            options.pattern = (pattern != b"*").then_some(pattern);
        } else if option.eq_ignore_ascii_case(b"TYPE") {
            args.next_bytes()?;
            options.type_name = Some(args.next_bytes()?.as_ref());
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok(options)
}

/// Reads an EXPIRE-family condition list; every option must be NX, XX, GT or LT.
fn parse_expire_condition(options: &[Bytes]) -> Result<ExpireCondition, CommandError> {
    let mut condition = ExpireCondition::default();
    for option in options {
        let flag = match option.to_ascii_uppercase().as_slice() {
            b"NX" => &mut condition.if_no_expiry,
            b"XX" => &mut condition.if_has_expiry,
            b"GT" => &mut condition.if_later,
            b"LT" => &mut condition.if_earlier,
            _ => return Err(CommandError::custom(unsupported_option(option))),
        };
        *flag = true;
    }
    if condition.if_no_expiry
        && (condition.if_has_expiry || condition.if_later || condition.if_earlier)
    {
        return Err(CommandError::msg(EXPIRE_NX_CONFLICT));
    }
    if condition.if_later && condition.if_earlier {
        return Err(CommandError::msg(EXPIRE_GT_LT_CONFLICT));
    }
    Ok(condition)
}

/// The one place EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT change an expiry. A time already in
/// the past deletes the key (and still answers 1).
fn set_expiry(
    ctx: &mut CommandContext<'_>,
    args: &mut Args<'_>,
    base: TimeBase,
    unit: TimeUnit,
) -> CommandResult {
    let key = args.next_bytes()?;
    let amount = args.next_bytes()?;
    // Redis checks the options before the number.
    let condition = parse_expire_condition(args.rest())?;
    let amount = parse_i64(amount)?;
    let now = ctx.now_ms();
    let invalid = || CommandError::InvalidExpireTime {
        command: ctx.command().full_name.clone(),
    };
    let amount_ms = match unit {
        TimeUnit::Seconds => amount.checked_mul(1000).ok_or_else(invalid)?,
        TimeUnit::Milliseconds => amount,
    };
    let base_ms = match base {
        TimeBase::Now => i64::try_from(now).unwrap_or(i64::MAX),
        TimeBase::Epoch => 0,
    };
    let when = amount_ms.checked_add(base_ms).ok_or_else(invalid)?;
    let db = ctx.db_index();
    let Some(pos) = ctx.lookup_write_in(db, key) else {
        return Ok(Frame::Integer(0));
    };
    let current = ctx
        .db()
        .entry(pos)
        .expire_at()
        .map(|at| i64::try_from(at).unwrap_or(i64::MAX));
    if !condition.allows(current, when) {
        return Ok(Frame::Integer(0));
    }
    match u64::try_from(when) {
        Ok(at) if at > now => ctx.db().set_expire_at(pos, Some(at)),
        _ => {
            ctx.db().remove_at(pos);
        }
    }
    ctx.changed(1);
    Ok(Frame::Integer(1))
}

/// The one place TTL, PTTL, EXPIRETIME and PEXPIRETIME read an expiry: -2 for a missing key,
/// -1 for a key without expiry. Seconds are rounded to the nearest, as Redis does.
fn report_expiry(
    ctx: &mut CommandContext<'_>,
    args: &mut Args<'_>,
    base: TimeBase,
    unit: TimeUnit,
) -> CommandResult {
    let key = args.next_bytes()?;
    let now = ctx.now_ms();
    let Some(pos) = ctx.lookup_read_no_touch(key) else {
        return Ok(Frame::Integer(-2));
    };
    let Some(at) = ctx.db().entry(pos).expire_at() else {
        return Ok(Frame::Integer(-1));
    };
    let ms = match base {
        TimeBase::Now => at.saturating_sub(now),
        TimeBase::Epoch => at,
    };
    let ms = i64::try_from(ms).unwrap_or(i64::MAX);
    Ok(Frame::Integer(match unit {
        TimeUnit::Milliseconds => ms,
        TimeUnit::Seconds => ms.saturating_add(500) / 1000,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Flag;
    use crate::db::Ttl;
    use crate::testing::{CommandRunner, bulk, err, simple};

    const START_MS: u64 = 1_000_000;

    fn put(r: &mut CommandRunner, key: &str, value: &str) {
        put_in(r, 0, key, value, None);
    }

    fn put_expiring(r: &mut CommandRunner, key: &str, value: &str, in_ms: u64) {
        let at = r.server.now_ms() + in_ms;
        put_in(r, 0, key, value, Some(at));
    }

    fn put_in(r: &mut CommandRunner, db: usize, key: &str, value: &str, at: Option<u64>) {
        let ttl = at.map_or(Ttl::Clear, Ttl::At);
        let clock = r.server.lru_clock();
        r.server.dbs[db].set(key.as_bytes(), Value::string(value.as_bytes()), ttl, clock);
    }

    fn get_in(r: &CommandRunner, db: usize, key: &str) -> Option<Value> {
        let db = &r.server.dbs[db];
        db.find(key.as_bytes())
            .map(|pos| db.entry(pos).value.clone())
    }

    fn use_db(r: &mut CommandRunner, db: usize) {
        r.server.clients.get_mut(r.client).unwrap().db = db;
    }

    fn int(n: i64) -> Frame {
        Frame::Integer(n)
    }

    fn bulks(items: &[&str]) -> Frame {
        Frame::Array(items.iter().map(|s| bulk(s)).collect())
    }

    fn sorted_keys(reply: Frame) -> Vec<String> {
        let Frame::Array(items) = reply else {
            panic!("not an array: {reply:?}")
        };
        let mut keys: Vec<String> = items
            .into_iter()
            .map(|f| match f {
                Frame::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
                other => panic!("not a bulk: {other:?}"),
            })
            .collect();
        keys.sort();
        keys
    }

    /// Runs a SCAN to completion with `extra` options; every key reported, sorted and unique.
    fn scan_all(r: &mut CommandRunner, extra: &[&str]) -> Vec<String> {
        let mut cursor = "0".to_string();
        let mut all = Vec::new();
        loop {
            let mut argv = vec!["SCAN", cursor.as_str()];
            argv.extend_from_slice(extra);
            let Frame::Array(mut parts) = r.run(argv) else {
                panic!("SCAN reply is not an array")
            };
            let keys = parts.pop().unwrap();
            let Frame::Bulk(next) = parts.pop().unwrap() else {
                panic!("cursor is not a bulk string")
            };
            all.extend(sorted_keys(keys));
            cursor = String::from_utf8(next.to_vec()).unwrap();
            if cursor == "0" {
                break;
            }
        }
        all.sort();
        all.dedup();
        all
    }

    #[test]
    fn del_and_unlink_count_only_live_keys() {
        let mut r = CommandRunner::with_builtin_commands();
        put(&mut r, "a", "1");
        put(&mut r, "b", "2");
        put_expiring(&mut r, "gone", "x", 100);
        r.advance_ms(100);
        assert_eq!(r.run(["DEL", "a", "gone", "nokey", "a"]), int(1));
        assert_eq!(r.run(["UNLINK", "b", "b"]), int(1));
        assert_eq!(r.server.dbs[0].len(), 0);
        assert_eq!(
            r.run(["DEL"]),
            err("ERR wrong number of arguments for 'del' command")
        );
    }

    #[test]
    fn exists_counts_repeats_and_type_names_values() {
        let mut r = CommandRunner::with_builtin_commands();
        put(&mut r, "a", "1");
        put_expiring(&mut r, "soon", "x", 10);
        assert_eq!(r.run(["EXISTS", "a", "a", "nokey", "soon"]), int(3));
        r.advance_ms(10);
        assert_eq!(r.run(["EXISTS", "soon"]), int(0));
        assert_eq!(r.run(["TYPE", "a"]), simple("string"));
        assert_eq!(r.run(["TYPE", "nokey"]), simple("none"));
        assert_eq!(r.server.stats.keyspace_hits, 4);
        assert_eq!(r.server.stats.keyspace_misses, 3);
    }

    #[test]
    fn rename_moves_value_and_ttl() {
        let mut r = CommandRunner::with_builtin_commands();
        put_expiring(&mut r, "src", "v", 100_000);
        put(&mut r, "dst", "old");
        assert_eq!(r.run(["RENAME", "src", "dst"]), Frame::ok());
        assert_eq!(get_in(&r, 0, "dst"), Some(Value::string(b"v")));
        assert_eq!(r.run(["EXISTS", "src"]), int(0));
        assert_eq!(r.run(["TTL", "dst"]), int(100));
        // A persistent source does not inherit the target's TTL.
        put(&mut r, "p", "x");
        assert_eq!(r.run(["RENAME", "p", "dst"]), Frame::ok());
        assert_eq!(r.run(["TTL", "dst"]), int(-1));
    }

    #[test]
    fn rename_edge_cases() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(r.run(["RENAME", "nokey", "x"]), err("ERR no such key"));
        assert_eq!(r.run(["RENAMENX", "nokey", "x"]), err("ERR no such key"));
        assert_eq!(r.run(["RENAME", "nokey", "nokey"]), err("ERR no such key"));
        put(&mut r, "k", "v");
        assert_eq!(r.run(["RENAME", "k", "k"]), Frame::ok());
        assert_eq!(r.run(["RENAMENX", "k", "k"]), int(0));
        put(&mut r, "taken", "t");
        assert_eq!(r.run(["RENAMENX", "k", "taken"]), int(0));
        assert_eq!(get_in(&r, 0, "taken"), Some(Value::string(b"t")));
        assert_eq!(r.run(["RENAMENX", "k", "free"]), int(1));
        assert_eq!(get_in(&r, 0, "free"), Some(Value::string(b"v")));
        // An expired source is gone; an expired target is free.
        put_expiring(&mut r, "old", "o", 5);
        put_expiring(&mut r, "stale", "s", 5);
        r.advance_ms(5);
        assert_eq!(r.run(["RENAME", "old", "x"]), err("ERR no such key"));
        assert_eq!(r.run(["RENAMENX", "free", "stale"]), int(1));
    }

    #[test]
    fn move_checks_the_database_and_carries_the_ttl() {
        let mut r = CommandRunner::with_builtin_commands();
        put_expiring(&mut r, "k", "v", 100_000);
        assert_eq!(
            r.run(["MOVE", "k", "16"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            r.run(["MOVE", "k", "-1"]),
            err("ERR DB index is out of range")
        );
        let not_int = err("ERR value is not an integer or out of range");
        assert_eq!(r.run(["MOVE", "k", "notanumber"]), not_int);
        assert_eq!(r.run(["MOVE", "k", "4294967296"]), not_int);
        assert_eq!(
            r.run(["MOVE", "k", "0"]),
            err("ERR source and destination objects are the same")
        );
        assert_eq!(r.run(["MOVE", "nokey", "1"]), int(0));
        assert_eq!(r.run(["MOVE", "k", "1"]), int(1));
        assert_eq!(r.run(["TTL", "k"]), int(-2));
        use_db(&mut r, 1);
        assert_eq!(r.run(["TTL", "k"]), int(100));
        assert_eq!(get_in(&r, 1, "k"), Some(Value::string(b"v")));
        use_db(&mut r, 0);
        put(&mut r, "k", "other");
        assert_eq!(r.run(["MOVE", "k", "1"]), int(0));
        assert_eq!(get_in(&r, 0, "k"), Some(Value::string(b"other")));
    }

    #[test]
    fn copy_options_and_errors() {
        let mut r = CommandRunner::with_builtin_commands();
        put_expiring(&mut r, "src", "foobar", 100_000);
        assert_eq!(r.run(["COPY", "src", "dst"]), int(1));
        assert_eq!(get_in(&r, 0, "dst"), Some(Value::string(b"foobar")));
        assert_eq!(r.run(["TTL", "dst"]), int(100));
        put(&mut r, "src", "changed");
        assert_eq!(r.run(["COPY", "src", "dst"]), int(0));
        assert_eq!(get_in(&r, 0, "dst"), Some(Value::string(b"foobar")));
        assert_eq!(r.run(["COPY", "src", "dst", "replace"]), int(1));
        assert_eq!(get_in(&r, 0, "dst"), Some(Value::string(b"changed")));
        assert_eq!(r.run(["TTL", "dst"]), int(-1));
        assert_eq!(r.run(["COPY", "src", "dst", "DB", "10", "REPLACE"]), int(1));
        assert_eq!(get_in(&r, 10, "dst"), Some(Value::string(b"changed")));
        assert_eq!(r.run(["COPY", "nokey", "dst"]), int(0));
        let same = err("ERR source and destination objects are the same");
        assert_eq!(r.run(["COPY", "src", "src"]), same);
        assert_eq!(r.run(["COPY", "src", "src", "DB", "0"]), same);
        assert_eq!(r.run(["COPY", "src", "src", "DB", "1"]), int(1));
        assert_eq!(r.run(["COPY", "src", "x", "DB"]), err("ERR syntax error"));
        assert_eq!(r.run(["COPY", "src", "x", "FOO"]), err("ERR syntax error"));
        assert_eq!(
            r.run(["COPY", "src", "x", "DB", "notanumber"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            r.run(["COPY", "src", "x", "DB", "99"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            r.run(["COPY", "src"]),
            err("ERR wrong number of arguments for 'copy' command")
        );
    }

    #[test]
    fn keys_matches_globs_and_skips_expired_keys() {
        let mut r = CommandRunner::with_builtin_commands();
        for k in ["key_x", "key_y", "key_z", "foo_a", "foo_b", "foo_c"] {
            put(&mut r, k, "hello");
        }
        put_expiring(&mut r, "key_gone", "x", 1);
        r.advance_ms(1);
        assert_eq!(
            sorted_keys(r.run(["KEYS", "foo*"])),
            ["foo_a", "foo_b", "foo_c"]
        );
        assert_eq!(sorted_keys(r.run(["KEYS", "*"])).len(), 6);
        assert_eq!(sorted_keys(r.run(["KEYS", "key_[xz]"])), ["key_x", "key_z"]);
        assert_eq!(r.run(["KEYS", "nomatch*"]), bulks(&[]));
        // KEYS only reads: the expired key is still stored.
        assert_eq!(r.server.dbs[0].len(), 7);
    }

    #[test]
    fn scan_visits_every_key() {
        let mut r = CommandRunner::with_builtin_commands();
        for i in 0..1000 {
            put(&mut r, &format!("key:{i}"), "v");
        }
        assert_eq!(scan_all(&mut r, &[]).len(), 1000);
        assert_eq!(scan_all(&mut r, &["COUNT", "5"]).len(), 1000);
        assert_eq!(scan_all(&mut r, &["match", "key:1??"]).len(), 100);
        assert_eq!(scan_all(&mut r, &["TYPE", "list"]).len(), 0);
        assert_eq!(scan_all(&mut r, &["TYPE", "STRING"]).len(), 1000);
        assert_eq!(
            scan_all(&mut r, &["type", "string", "match", "key:*", "count", "10"]).len(),
            1000
        );
    }

    #[test]
    fn scan_reply_shape_and_errors() {
        let mut r = CommandRunner::with_builtin_commands();
        put(&mut r, "a", "1");
        let done = Frame::Array(vec![bulk("0"), bulks(&["a"])]);
        assert_eq!(r.run(["SCAN", "0"]), done);
        assert_eq!(r.run(["SCAN", ""]), done);
        assert_eq!(r.run(["SCAN", "+0"]), done);
        let invalid = err("ERR invalid cursor");
        for bad in [" 0", "1a", "-", "18446744073709551616", "0x1"] {
            assert_eq!(r.run(["SCAN", bad]), invalid, "cursor {bad:?}");
        }
        let syntax = err("ERR syntax error");
        assert_eq!(r.run(["SCAN", "0", "COUNT", "0"]), syntax);
        assert_eq!(r.run(["SCAN", "0", "MATCH"]), syntax);
        assert_eq!(r.run(["SCAN", "0", "FOO", "bar"]), syntax);
        assert_eq!(
            r.run(["SCAN", "0", "COUNT", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            r.run(["SCAN", "0", "TYPE", "foo"]),
            Frame::Array(vec![bulk("0"), bulks(&[])])
        );
    }

    #[test]
    fn scan_reclaims_expired_keys() {
        let mut r = CommandRunner::with_builtin_commands();
        put(&mut r, "live", "v");
        put_expiring(&mut r, "foo1", "v", 1);
        put_expiring(&mut r, "foo2", "v", 1);
        r.advance_ms(2);
        assert_eq!(scan_all(&mut r, &[]), ["live"]);
        assert_eq!(r.server.dbs[0].len(), 1);
        assert_eq!(r.server.stats.expired_keys, 2);
    }

    #[test]
    fn scan_keeps_its_guarantee_under_writes() {
        let mut r = CommandRunner::with_builtin_commands();
        for i in 0..100 {
            put(&mut r, &format!("k{i}"), "v");
        }
        let mut cursor = "0".to_string();
        let mut seen = Vec::new();
        let mut round = 0;
        loop {
            let Frame::Array(mut parts) = r.run(["SCAN", cursor.as_str(), "COUNT", "7"]) else {
                panic!()
            };
            seen.extend(sorted_keys(parts.pop().unwrap()));
            let Frame::Bulk(next) = parts.pop().unwrap() else {
                panic!()
            };
            cursor = String::from_utf8(next.to_vec()).unwrap();
            if cursor == "0" {
                break;
            }
            round += 1;
            for j in 0..10 {
                put(&mut r, &format!("added:{round}:{j}"), "v");
            }
            r.run(["DEL", &format!("added:{round}:3")]);
        }
        seen.retain(|k| !k.starts_with("added:"));
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 100);
    }

    #[test]
    fn randomkey_skips_and_reclaims_expired_keys() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(r.run(["RANDOMKEY"]), Frame::Null);
        put_expiring(&mut r, "foo1", "v", 1);
        put_expiring(&mut r, "foo2", "v", 1);
        r.advance_ms(1);
        assert_eq!(r.run(["RANDOMKEY"]), Frame::Null);
        assert_eq!(r.server.dbs[0].len(), 0);
        put(&mut r, "foo", "x");
        put(&mut r, "bar", "y");
        let (mut foo, mut bar) = (false, false);
        for _ in 0..100 {
            match r.run(["RANDOMKEY"]) {
                Frame::Bulk(k) if k.as_ref() == b"foo" => foo = true,
                Frame::Bulk(k) if k.as_ref() == b"bar" => bar = true,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(foo && bar);
    }

    #[test]
    fn expire_sets_and_reports_ttls() {
        let mut r = CommandRunner::with_builtin_commands();
        put(&mut r, "k", "v");
        assert_eq!(r.run(["EXPIRE", "k", "100"]), int(1));
        assert_eq!(r.run(["TTL", "k"]), int(100));
        assert_eq!(r.run(["PTTL", "k"]), int(100_000));
        assert_eq!(r.run(["EXPIRETIME", "k"]), int(1100));
        assert_eq!(r.run(["PEXPIRETIME", "k"]), int(1_100_000));
        assert_eq!(r.run(["PEXPIRE", "k", "1499"]), int(1));
        assert_eq!(r.run(["TTL", "k"]), int(1));
        assert_eq!(r.run(["PEXPIRE", "k", "1500"]), int(1));
        assert_eq!(r.run(["TTL", "k"]), int(2));
        let at = (START_MS / 1000 + 50).to_string();
        assert_eq!(r.run(["EXPIREAT", "k", at.as_str()]), int(1));
        assert_eq!(r.run(["TTL", "k"]), int(50));
        let at_ms = (START_MS + 2500).to_string();
        assert_eq!(r.run(["PEXPIREAT", "k", at_ms.as_str()]), int(1));
        assert_eq!(r.run(["PTTL", "k"]), int(2500));
        r.advance_ms(2499);
        assert_eq!(r.run(["PTTL", "k"]), int(1));
        r.advance_ms(1);
        for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
            assert_eq!(r.run([cmd, "k"]), int(-2));
        }
        put(&mut r, "p", "v");
        for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
            assert_eq!(r.run([cmd, "p"]), int(-1));
        }
        assert_eq!(r.run(["EXPIRE", "nokey", "100"]), int(0));
    }

    #[test]
    fn expire_in_the_past_deletes_the_key() {
        let mut r = CommandRunner::with_builtin_commands();
        put(&mut r, "k", "v");
        assert_eq!(r.run(["EXPIRE", "k", "-10", "LT"]), int(1));
        assert_eq!(r.run(["TTL", "k"]), int(-2));
        put(&mut r, "k", "v");
        assert_eq!(r.run(["PEXPIREAT", "k", "-9223372036854770000"]), int(1));
        assert_eq!(r.run(["EXISTS", "k"]), int(0));
        put(&mut r, "k", "v");
        assert_eq!(r.run(["EXPIRE", "k", "0"]), int(1));
        assert_eq!(r.run(["EXISTS", "k"]), int(0));
        put(&mut r, "k", "v");
        assert_eq!(r.run(["PEXPIREAT", "k", "9223372036854770000"]), int(1));
        assert_eq!(r.run(["PEXPIRETIME", "k"]), int(9_223_372_036_854_770_000));
    }

    #[test]
    fn expire_conditions() {
        let mut r = CommandRunner::with_builtin_commands();
        put(&mut r, "k", "v");
        assert_eq!(r.run(["EXPIRE", "k", "100", "XX"]), int(0));
        assert_eq!(r.run(["EXPIRE", "k", "100", "GT"]), int(0));
        assert_eq!(r.run(["EXPIRE", "k", "100", "LT"]), int(1));
        assert_eq!(r.run(["EXPIRE", "k", "200", "NX"]), int(0));
        assert_eq!(r.run(["EXPIRE", "k", "200", "XX"]), int(1));
        assert_eq!(r.run(["EXPIRE", "k", "100", "gt"]), int(0));
        assert_eq!(r.run(["EXPIRE", "k", "300", "GT"]), int(1));
        assert_eq!(r.run(["EXPIRE", "k", "400", "LT"]), int(0));
        assert_eq!(r.run(["EXPIRE", "k", "50", "lt", "xx"]), int(1));
        assert_eq!(r.run(["TTL", "k"]), int(50));
        assert_eq!(r.run(["PERSIST", "k"]), int(1));
        assert_eq!(r.run(["EXPIRE", "k", "60", "NX"]), int(1));
        assert_eq!(r.run(["TTL", "k"]), int(60));
        for opt in ["NX", "XX", "GT", "LT"] {
            assert_eq!(r.run(["EXPIRE", "none", "100", opt]), int(0));
        }
    }

    #[test]
    fn expire_option_and_range_errors() {
        let mut r = CommandRunner::with_builtin_commands();
        put(&mut r, "foo", "bar");
        let nx = err("ERR NX and XX, GT or LT options at the same time are not compatible");
        assert_eq!(r.run(["EXPIRE", "foo", "200", "NX", "XX"]), nx);
        assert_eq!(r.run(["EXPIRE", "foo", "200", "NX", "GT"]), nx);
        assert_eq!(r.run(["EXPIRE", "foo", "200", "LT", "NX"]), nx);
        // Options are checked before the number.
        assert_eq!(r.run(["PEXPIRE", "foo", "abc", "NX", "XX"]), nx);
        assert_eq!(
            r.run(["EXPIRE", "foo", "200", "LT", "GT"]),
            err("ERR GT and LT options at the same time are not compatible")
        );
        assert_eq!(
            r.run(["EXPIRE", "foo", "200", "AB"]),
            err("ERR Unsupported option AB")
        );
        assert_eq!(
            r.run(["EXPIRE", "foo", "200", "XX", "ab"]),
            err("ERR Unsupported option ab")
        );
        let not_int = err("ERR value is not an integer or out of range");
        assert_eq!(r.run(["EXPIRE", "foo", ""]), not_int);
        assert_eq!(r.run(["EXPIRE", "foo", "1.5"]), not_int);
        let expire = err("ERR invalid expire time in 'expire' command");
        for big in [
            "9223372036854776",
            "10000000000000000",
            "-9223372036854776",
            "-9999999999999999",
        ] {
            assert_eq!(r.run(["EXPIRE", "foo", big]), expire, "{big}");
        }
        assert_eq!(
            r.run(["PEXPIRE", "foo", "9223372036854770000"]),
            err("ERR invalid expire time in 'pexpire' command")
        );
        assert_eq!(
            r.run(["EXPIREAT", "foo", "9223372036854776"]),
            err("ERR invalid expire time in 'expireat' command")
        );
        assert_eq!(r.run(["TTL", "foo"]), int(-1));
    }

    #[test]
    fn persist_removes_only_existing_expiries() {
        let mut r = CommandRunner::with_builtin_commands();
        put_expiring(&mut r, "v", "x", 10_000);
        put(&mut r, "p", "x");
        assert_eq!(r.run(["PERSIST", "v"]), int(1));
        assert_eq!(r.run(["TTL", "v"]), int(-1));
        assert_eq!(r.run(["PERSIST", "v"]), int(0));
        assert_eq!(r.run(["PERSIST", "p"]), int(0));
        assert_eq!(r.run(["PERSIST", "nokey"]), int(0));
        assert_eq!(r.server.dbs[0].volatile_len(), 0);
    }

    #[test]
    fn touch_refreshes_idle_time_but_reads_without_touch_do_not() {
        let mut r = CommandRunner::with_builtin_commands();
        put(&mut r, "a", "1");
        r.advance_ms(10_000);
        for cmd in ["EXISTS", "TYPE", "TTL"] {
            r.run([cmd, "a"]);
        }
        r.run(["OBJECT", "ENCODING", "a"]);
        assert_eq!(r.run(["OBJECT", "IDLETIME", "a"]), int(10));
        assert_eq!(r.run(["TOUCH", "a", "nokey", "a"]), int(2));
        assert_eq!(r.run(["OBJECT", "idletime", "a"]), int(0));
        assert_eq!(r.run(["OBJECT", "IDLETIME", "nokey"]), Frame::Null);
    }

    #[test]
    fn object_subcommands() {
        let mut r = CommandRunner::with_builtin_commands();
        put(&mut r, "int", "5");
        put(&mut r, "big", "10000");
        put(&mut r, "neg", "-1");
        put(&mut r, "short", "hello");
        put(&mut r, "long", &"x".repeat(45));
        assert_eq!(r.run(["OBJECT", "ENCODING", "int"]), bulk("int"));
        assert_eq!(r.run(["OBJECT", "ENCODING", "short"]), bulk("embstr"));
        assert_eq!(r.run(["OBJECT", "ENCODING", "long"]), bulk("raw"));
        assert_eq!(r.run(["OBJECT", "ENCODING", "nokey"]), Frame::Null);
        assert_eq!(r.run(["OBJECT", "REFCOUNT", "int"]), int(2_147_483_647));
        assert_eq!(r.run(["OBJECT", "REFCOUNT", "big"]), int(1));
        assert_eq!(r.run(["OBJECT", "REFCOUNT", "neg"]), int(1));
        assert_eq!(r.run(["OBJECT", "REFCOUNT", "short"]), int(1));
        assert_eq!(r.run(["OBJECT", "REFCOUNT", "nokey"]), Frame::Null);
        assert_eq!(r.run(["OBJECT", "FREQ", "nokey"]), Frame::Null);
        assert_eq!(r.run(["OBJECT", "FREQ", "int"]), err(FREQ_WITHOUT_LFU));
        let Frame::Array(help) = r.run(["object", "help"]) else {
            panic!("help is not an array")
        };
        assert_eq!(help.len(), 15);
        assert_eq!(
            help[0],
            simple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        );
        assert_eq!(help[14], simple("    Prints this help."));
        assert_eq!(
            r.run(["OBJECT", "foo"]),
            err("ERR unknown subcommand 'foo'. Try OBJECT HELP.")
        );
        assert_eq!(
            r.run(["OBJECT", "ENCODING"]),
            err("ERR wrong number of arguments for 'object|encoding' command")
        );
        assert_eq!(
            r.run(["OBJECT", "HELP", "x"]),
            err("ERR wrong number of arguments for 'object|help' command")
        );
        assert_eq!(
            r.run(["OBJECT"]),
            err("ERR wrong number of arguments for 'object' command")
        );
    }

    #[test]
    fn specs_match_redis() {
        let r = CommandRunner::with_builtin_commands();
        let cmd = |name: &str| r.server.table.get(name.as_bytes()).unwrap();
        assert_eq!(cmd("del").legacy_keys, (1, -1, 1));
        assert_eq!(cmd("del").spec.arity.as_redis(), -2);
        assert_eq!(cmd("rename").legacy_keys, (1, 2, 1));
        assert_eq!(cmd("copy").legacy_keys, (1, 2, 1));
        assert_eq!(cmd("move").legacy_keys, (1, 1, 1));
        assert_eq!(cmd("keys").legacy_keys, (0, 0, 0));
        assert!(cmd("expire").has(Flag::Fast));
        let categories = |name: &str| -> Vec<&str> {
            AclCategory::in_set(cmd(name).acl_categories)
                .map(AclCategory::name)
                .collect()
        };
        assert_eq!(
            categories("keys"),
            ["keyspace", "read", "slow", "dangerous"]
        );
        assert_eq!(categories("unlink"), ["keyspace", "write", "fast"]);
        assert_eq!(categories("copy"), ["keyspace", "write", "slow"]);
        assert_eq!(categories("object"), ["slow"]);
        let encoding = cmd("object").subcommand(b"encoding").unwrap();
        assert_eq!(encoding.legacy_keys, (2, 2, 1));
        assert_eq!(
            AclCategory::in_set(encoding.acl_categories)
                .map(AclCategory::name)
                .collect::<Vec<_>>(),
            ["keyspace", "read", "slow"]
        );
    }
}
