//! Keyspace ("generic") commands: DEL, UNLINK, EXISTS, TYPE, RENAME, RENAMENX, MOVE, COPY, KEYS,
//! SCAN, RANDOMKEY, the EXPIRE group, the TTL group, PERSIST, TOUCH and OBJECT.
//! They work on keys whatever their type; the values themselves belong to the type families.

use crate::events::class;
use bytes::Bytes;
use oxidis_protocol::Frame;

mod expire;
pub(crate) mod scan;

use crate::command::{
    AclCategory, Arg, Args, Arity, CommandResult, CommandSpec, Family, Flag::*, Group, KeyFlag,
    KeySpec, parse_i64,
};
use crate::context::CommandContext;
use crate::errors::generic::{FREQ_WITHOUT_LFU, IDLETIME_WITH_LFU};
use crate::errors::{CommandError, DB_INDEX_OUT_OF_RANGE, SAME_OBJECT};
use crate::families::help_reply;
use crate::glob::{Case, glob_match};
use crate::modules::types::{COPY_FAILED, COPY_NOT_SUPPORTED, CopyError, CopyTarget};
use crate::types::{CompactBytes, Value};
use expire::{TimeBase, TimeUnit, report_expiry, set_expiry};
use scan::{Scanning, parse_scan_cursor, parse_scan_options};

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
    let lazy = ctx.config().lazyfree_lazy_user_del;
    delete_keys(ctx, args.rest(), lazy)
}

/// UNLINK: DEL that frees big values on the background thread.
fn unlink(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    delete_keys(ctx, args.rest(), true)
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
    Ok(match ctx.lookup_read_no_touch(key) {
        // A module type answers its own name.
        Some(pos) => match &ctx.db().entry(pos).value {
            Value::Module(m) => {
                Frame::Simple(Bytes::copy_from_slice(m.module_type().name().as_bytes()))
            }
            value => Frame::simple_static(value.value_type().name()),
        },
        None => Frame::simple_static("none"),
    })
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
    ctx.notify_in(target, class::NEW, "new", key);
    ctx.notify_in(source, class::GENERIC, "move_from", key);
    ctx.notify_in(target, class::GENERIC, "move_to", key);
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
    let value = match &entry.value {
        // A module value is copied by its type's callback, which may refuse.
        Value::Module(m) => {
            let target = CopyTarget {
                from_key: source_key,
                to_key: target_key,
                from_db: source_db,
                to_db: target_db,
            };
            match m.try_copy(target) {
                Ok(copy) => Value::Module(Box::new(copy)),
                Err(CopyError::NotSupported) => return Err(CommandError::msg(COPY_NOT_SUPPORTED)),
                Err(CopyError::Failed) => return Err(CommandError::msg(COPY_FAILED)),
            }
        }
        value => duplicate_value(value),
    };
    if ctx.lookup_write_in(target_db, target_key).is_some() {
        if !replace {
            return Ok(Frame::Integer(0));
        }
        ctx.server.dbs[target_db].remove(target_key);
    }
    let clock = ctx.server.lru_clock();
    ctx.server.dbs[target_db].insert_new(CompactBytes::new(target_key), value, expire_at, clock);
    ctx.changed(1);
    ctx.notify_in(target_db, class::NEW, "new", target_key);
    ctx.notify_in(target_db, class::GENERIC, "copy_to", target_key);
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
    let options = parse_scan_options(args, Scanning::Keys)?;
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
            let matches = if expired {
                ctx.reclaim_expired(pos);
                ctx.server.stats.keyspace_misses += 1;
                b"none".eq_ignore_ascii_case(wanted)
            } else {
                ctx.server.stats.keyspace_hits += 1;
                // A module type's own name, as TYPE answers it.
                let value = &ctx.db().entry(pos).value;
                value.type_name().as_bytes().eq_ignore_ascii_case(wanted)
            };
            if matches {
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
    let Some(pos) = ctx.lookup_write(key) else {
        return Ok(Frame::Integer(0));
    };
    if ctx.db().entry(pos).expire_at().is_none() {
        return Ok(Frame::Integer(0));
    }
    ctx.db().set_expire_at(pos, None);
    ctx.changed(1);
    ctx.notify(class::GENERIC, "persist", key);
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
    let Some(pos) = ctx.lookup_read_no_touch(key) else {
        return Ok(Frame::Null);
    };
    if !ctx.config().maxmemory_policy.is_lfu() {
        return Err(CommandError::msg(FREQ_WITHOUT_LFU));
    }
    let clock = ctx.db().entry(pos).access_clock;
    let counter = crate::eviction::lfu_counter(ctx.config(), clock, ctx.now_ms());
    Ok(Frame::Integer(i64::from(counter)))
}

fn object_idletime(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let Some(pos) = ctx.lookup_read_no_touch(key) else {
        return Ok(Frame::Null);
    };
    if ctx.config().maxmemory_policy.is_lfu() {
        return Err(CommandError::msg(IDLETIME_WITH_LFU));
    }
    let accessed = ctx.db().entry(pos).access_clock;
    let idle = crate::eviction::idle_seconds(accessed, ctx.now_ms());
    Ok(Frame::Integer(i64::try_from(idle).unwrap_or(i64::MAX)))
}

fn object_refcount(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let Some(pos) = ctx.lookup_read_no_touch(key) else {
        return Ok(Frame::Null);
    };
    // With an LRU or LFU eviction policy every key needs its own access clock, so Redis stops
    // sharing its small integers.
    let policy = ctx.config().maxmemory_policy;
    let shared_integers = ctx.config().maxmemory == 0 || !policy.orders_by_access();
    let value = &ctx.db().entry(pos).value;
    Ok(Frame::Integer(if shared_integers {
        reference_count(value)
    } else {
        1
    }))
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

/// The one place DEL and UNLINK remove keys; expired keys count as absent.
fn delete_keys(ctx: &mut CommandContext<'_>, keys: &[Bytes], lazy: bool) -> CommandResult {
    let mut deleted = 0;
    for key in keys {
        let removed = if lazy {
            ctx.delete_lazily(key)
        } else {
            ctx.delete(key)
        };
        if removed {
            ctx.notify(class::GENERIC, "del", key);
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
    if ctx.lookup_write(source).is_none() {
        return Err(CommandError::NoSuchKey);
    }
    // Renaming a key to itself changes nothing, but still needs the key to exist.
    if source == target {
        return Ok(refused);
    }
    if ctx.lookup_write(target).is_some() {
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
    ctx.notify(class::NEW, "new", target);
    ctx.notify(class::GENERIC, "rename_from", source);
    ctx.notify(class::GENERIC, "rename_to", target);
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

/// An independent copy of a value for COPY: collections are copied deeply, as Redis does.
fn duplicate_value(value: &Value) -> Value {
    value.clone()
}

/// What OBJECT REFCOUNT reports. Redis shares one object for each integer 0..=9999 and reports
/// `INT_MAX` for it; every other value has a single owner.
fn reference_count(value: &Value) -> i64 {
    const SHARED_INTEGERS: i64 = 10_000;
    const SHARED_REFCOUNT: i64 = 2_147_483_647;
    match value {
        Value::Int(n) if (0..SHARED_INTEGERS).contains(n) => SHARED_REFCOUNT,
        Value::Int(_)
        | Value::Str(_)
        | Value::Mutable(_)
        | Value::List(_)
        | Value::Hash(_)
        | Value::Set(_)
        | Value::SortedSet(_)
        | Value::Stream(_)
        | Value::Module(_) => 1,
    }
}

#[cfg(test)]
mod tests;
