//! String commands: GET and SET with their variants, the INCR group, APPEND, GETRANGE,
//! SETRANGE, GETEX, GETDEL and LCS.
//!
//! Strings are `Value::Int`, `Value::Str` or `Value::Mutable` (see `types::value`), which is
//! what `OBJECT ENCODING` reports as `int`, `embstr`/`raw` and `raw`. Writers pick the shape Redis
//! would leave behind: SET-like commands store `Value::string` (Redis's `tryObjectEncoding`), the
//! INCR group stores `Int`, INCRBYFLOAT stores its formatted result as a plain string (never
//! `int`, as in Redis), and APPEND/SETRANGE turn an existing value into `Mutable`.
//!
//! Not done here (no shared API yet): keyspace notifications, WATCH invalidation and the
//! rewriting of commands for propagation (SET ... PXAT, GETEX as PEXPIREAT/PERSIST/DEL).

use crate::events::class;
use bytes::Bytes;
use oxidis_protocol::Frame;

mod lcs;
mod set;

use crate::command::{
    Arg, Args, Arity, CommandResult, CommandSpec, Family, Flag::*, Group, KeyFlag::*, KeySpec,
    keys, parse_f64,
};
use crate::context::CommandContext;
use crate::db::Ttl;
use crate::errors::CommandError;
use crate::errors::string::{LCS_LEN_AND_IDX, LCS_WRONG_TYPE};
use crate::families::count_reply;
use crate::types::{CompactBytes, Value, parse_canonical_i64};
use lcs::{LcsTable, parse_lcs_options};
use set::{
    Condition, ExpireKind, Expiry, OptionsOf, SetOptions, expire_at_ms, parse_set_options,
    set_pairs, set_string, set_with_relative_expiry,
};

const KEY: &[Arg] = &[Arg::key("key", 0)];
const KEY_VALUE: &[Arg] = &[Arg::key("key", 0), Arg::string("value")];
const KEY_RANGE: &[Arg] = &[
    Arg::key("key", 0),
    Arg::integer("start"),
    Arg::integer("end"),
];
const KEY_VALUE_PAIRS: &[Arg] = &[Arg::block("key_value", KEY_VALUE).multiple()];
const SET_ARGS: &[Arg] = &[
    Arg::key("key", 0),
    Arg::string("value"),
    Arg::one_of(
        "condition",
        &[Arg::token("nx", "NX"), Arg::token("xx", "XX")],
    )
    .optional()
    .since("2.6.12"),
    Arg::token("get", "GET").optional().since("6.2.0"),
    Arg::one_of(
        "expiration",
        &[
            Arg::integer("seconds").with_token("EX").since("2.6.12"),
            Arg::integer("milliseconds")
                .with_token("PX")
                .since("2.6.12"),
            Arg::unix_time("unix-time-seconds")
                .with_token("EXAT")
                .since("6.2.0"),
            Arg::unix_time("unix-time-milliseconds")
                .with_token("PXAT")
                .since("6.2.0"),
            Arg::token("keepttl", "KEEPTTL").since("6.0.0"),
        ],
    )
    .optional(),
];
const GETEX_ARGS: &[Arg] = &[
    Arg::key("key", 0),
    Arg::one_of(
        "expiration",
        &[
            Arg::integer("seconds").with_token("EX"),
            Arg::integer("milliseconds").with_token("PX"),
            Arg::unix_time("unix-time-seconds").with_token("EXAT"),
            Arg::unix_time("unix-time-milliseconds").with_token("PXAT"),
            Arg::token("persist", "PERSIST"),
        ],
    )
    .optional(),
];
const LCS_ARGS: &[Arg] = &[
    Arg::key("key1", 0),
    Arg::key("key2", 0),
    Arg::token("len", "LEN").optional(),
    Arg::token("idx", "IDX").optional(),
    Arg::integer("len").with_token("MINMATCHLEN").optional(),
    Arg::token("withmatchlen", "WITHMATCHLEN").optional(),
];

/// Reads one key and exposes its value.
const RO_ACCESS: &[KeySpec] = &[KeySpec::single(1, &[Ro, Access])];
/// Reads, updates and returns one key (the INCR group, GETSET, GETEX).
const RW_ACCESS_UPDATE: &[KeySpec] = &[KeySpec::single(1, &[Rw, Access, Update])];
/// Overwrites one key without reading it.
const OW_UPDATE: &[KeySpec] = &[KeySpec::single(1, &[Ow, Update])];
const SLOW_RANGE: &str = "O(N) where N is the length of the returned string. The complexity is \
ultimately determined by the returned length, but because creating a substring from an existing \
string is very cheap, it can be considered O(1) for small strings.";

/// The string family; `families::BUILTIN` lists it, and nothing else does.
pub static FAMILY: Family = Family {
    group: Group::String,
    commands: &[
        CommandSpec::new("get", Arity::Exact(2), get)
            .flags(&[ReadOnly, Fast])
            .keys(RO_ACCESS)
            .doc("Returns the string value of a key.", "1.0.0", "O(1)")
            .args(KEY),
        CommandSpec::new("set", Arity::AtLeast(3), set)
            .flags(&[Write, DenyOom])
            .keys(&[KeySpec::single(1, &[Rw, Access, Update, VariableFlags])])
            .key_finder(keys::set_keys)
            .doc(
                "Sets the string value of a key, with optional conditions, expiry and old-value return.",
                "1.0.0",
                "O(1)",
            )
            .args(SET_ARGS),
        CommandSpec::new("setnx", Arity::Exact(3), setnx)
            .flags(&[Write, DenyOom, Fast])
            .keys(&[KeySpec::single(1, &[Ow, Insert])])
            .doc("Sets a key only if it does not exist.", "1.0.0", "O(1)")
            .args(KEY_VALUE),
        CommandSpec::new("setex", Arity::Exact(4), setex)
            .flags(&[Write, DenyOom])
            .keys(OW_UPDATE)
            .doc("Sets a key with a time to live in seconds.", "2.0.0", "O(1)")
            .args(&[
                Arg::key("key", 0),
                Arg::integer("seconds"),
                Arg::string("value"),
            ]),
        CommandSpec::new("psetex", Arity::Exact(4), psetex)
            .flags(&[Write, DenyOom])
            .keys(OW_UPDATE)
            .doc("Sets a key with a time to live in milliseconds.", "2.6.0", "O(1)")
            .args(&[
                Arg::key("key", 0),
                Arg::integer("milliseconds"),
                Arg::string("value"),
            ]),
        CommandSpec::new("mget", Arity::AtLeast(2), mget)
            .flags(&[ReadOnly, Fast])
            .keys(&[KeySpec::range(1, -1, 1, &[Ro, Access])])
            .doc(
                "Returns the string values of several keys.",
                "1.0.0",
                "O(N) where N is the number of keys to retrieve.",
            )
            .args(&[Arg::key("key", 0).multiple()]),
        CommandSpec::new("mset", Arity::AtLeast(3), mset)
            .flags(&[Write, DenyOom])
            .keys(&[KeySpec::range(1, -1, 2, &[Ow, Update])])
            .doc(
                "Sets several keys at once.",
                "1.0.1",
                "O(N) where N is the number of keys to set.",
            )
            .args(KEY_VALUE_PAIRS),
        CommandSpec::new("msetnx", Arity::AtLeast(3), msetnx)
            .flags(&[Write, DenyOom])
            .keys(&[KeySpec::range(1, -1, 2, &[Ow, Insert])])
            .doc(
                "Sets several keys at once, only if none of them exists.",
                "1.0.1",
                "O(N) where N is the number of keys to set.",
            )
            .args(KEY_VALUE_PAIRS),
        CommandSpec::new("append", Arity::Exact(3), append)
            .flags(&[Write, DenyOom, Fast])
            .keys(&[KeySpec::single(1, &[Rw, Insert])])
            .doc(
                "Appends bytes to a string, creating it if needed.",
                "2.0.0",
                "O(1). The amortized time complexity is O(1) assuming the appended value is small \
                 and the already present value is of any size, since the dynamic string library \
                 used by Redis will double the free space available on every reallocation.",
            )
            .args(KEY_VALUE),
        CommandSpec::new("strlen", Arity::Exact(2), strlen)
            .flags(&[ReadOnly, Fast])
            .keys(&[KeySpec::single(1, &[Ro])])
            .doc("Returns the length of a string value.", "2.2.0", "O(1)")
            .args(KEY),
        CommandSpec::new("incr", Arity::Exact(2), incr)
            .flags(&[Write, DenyOom, Fast])
            .keys(RW_ACCESS_UPDATE)
            .doc("Adds one to the integer value of a key.", "1.0.0", "O(1)")
            .args(KEY),
        CommandSpec::new("decr", Arity::Exact(2), decr)
            .flags(&[Write, DenyOom, Fast])
            .keys(RW_ACCESS_UPDATE)
            .doc("Subtracts one from the integer value of a key.", "1.0.0", "O(1)")
            .args(KEY),
        CommandSpec::new("incrby", Arity::Exact(3), incrby)
            .flags(&[Write, DenyOom, Fast])
            .keys(RW_ACCESS_UPDATE)
            .doc("Adds a signed amount to the integer value of a key.", "1.0.0", "O(1)")
            .args(&[Arg::key("key", 0), Arg::integer("increment")]),
        CommandSpec::new("decrby", Arity::Exact(3), decrby)
            .flags(&[Write, DenyOom, Fast])
            .keys(RW_ACCESS_UPDATE)
            .doc("Subtracts an amount from the integer value of a key.", "1.0.0", "O(1)")
            .args(&[Arg::key("key", 0), Arg::integer("decrement")]),
        CommandSpec::new("incrbyfloat", Arity::Exact(3), incrbyfloat)
            .flags(&[Write, DenyOom, Fast])
            .keys(RW_ACCESS_UPDATE)
            .doc("Adds a floating-point amount to the numeric value of a key.", "2.6.0", "O(1)")
            .args(&[Arg::key("key", 0), Arg::double("increment")]),
        CommandSpec::new("getrange", Arity::Exact(4), getrange)
            .flags(&[ReadOnly])
            .keys(RO_ACCESS)
            .doc("Returns a substring of a string value.", "2.4.0", SLOW_RANGE)
            .args(KEY_RANGE),
        CommandSpec::new("setrange", Arity::Exact(4), setrange)
            .flags(&[Write, DenyOom])
            .keys(&[KeySpec::single(1, &[Rw, Update])])
            .doc(
                "Overwrites part of a string at an offset, growing it with zero bytes if needed.",
                "2.2.0",
                "O(1), not counting the time taken to copy the new string in place. Usually, this \
                 string is very small so the amortized complexity is O(1). Otherwise, complexity \
                 is O(M) with M being the length of the value argument.",
            )
            .args(&[
                Arg::key("key", 0),
                Arg::integer("offset"),
                Arg::string("value"),
            ]),
        CommandSpec::new("substr", Arity::Exact(4), getrange)
            .flags(&[ReadOnly])
            .keys(RO_ACCESS)
            .doc("Returns a substring of a string value.", "1.0.0", SLOW_RANGE)
            .deprecated("2.0.0", "`GETRANGE`")
            .args(KEY_RANGE),
        CommandSpec::new("getdel", Arity::Exact(2), getdel)
            .flags(&[Write, Fast])
            .keys(&[KeySpec::single(1, &[Rw, Access, Delete])])
            .doc("Returns the string value of a key and deletes the key.", "6.2.0", "O(1)")
            .args(KEY),
        CommandSpec::new("getex", Arity::AtLeast(2), getex)
            .flags(&[Write, Fast])
            .keys(RW_ACCESS_UPDATE)
            .doc(
                "Returns the string value of a key and sets or removes its expiry.",
                "6.2.0",
                "O(1)",
            )
            .args(GETEX_ARGS),
        CommandSpec::new("getset", Arity::Exact(3), getset)
            .flags(&[Write, DenyOom, Fast])
            .keys(RW_ACCESS_UPDATE)
            .doc("Sets a key and returns its previous string value.", "1.0.0", "O(1)")
            .deprecated("6.2.0", "`SET` with the `!GET` argument")
            .args(KEY_VALUE),
        CommandSpec::new("lcs", Arity::AtLeast(3), lcs)
            .flags(&[ReadOnly])
            .keys(&[KeySpec::range(1, 1, 1, &[Ro, Access])])
            .doc(
                "Finds the longest common subsequence of two strings.",
                "7.0.0",
                "O(N*M) where N and M are the lengths of s1 and s2, respectively",
            )
            .args(LCS_ARGS),
    ],
};

// ---------------------------------------------------------------------------------------------
// Handlers, in table order.

fn get(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    match ctx.read(key) {
        Some(value) => string_reply(value),
        None => Ok(Frame::Null),
    }
}

fn set(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let value = args.next_bytes()?;
    let options = parse_set_options(args, OptionsOf::Set)?;
    let outcome = set_string(ctx, key, value, &options)?;
    // SET ... GET propagates without its GETs (an expiry already rewrote it whole).
    if options.return_old && !matches!(options.expiry, Expiry::At(_)) {
        let argv: Vec<Bytes> = args
            .argv()
            .iter()
            .enumerate()
            .filter(|(i, a)| *i < 3 || !a.eq_ignore_ascii_case(b"GET"))
            .map(|(_, a)| a.clone())
            .collect();
        ctx.rewrite_propagation(argv);
    }
    Ok(match outcome.old {
        Some(old) => old,
        None if outcome.written => Frame::ok(),
        None => Frame::Null,
    })
}

fn setnx(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let value = args.next_bytes()?;
    let options = SetOptions {
        condition: Condition::IfAbsent,
        ..SetOptions::default()
    };
    let outcome = set_string(ctx, key, value, &options)?;
    Ok(Frame::Integer(i64::from(outcome.written)))
}

fn setex(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    set_with_relative_expiry(ctx, args, ExpireKind::Ex)
}

fn psetex(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    set_with_relative_expiry(ctx, args, ExpireKind::Px)
}

fn mget(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let keys = args.rest();
    let mut replies = Vec::with_capacity(keys.len());
    for key in keys {
        // Redis answers nil, not WRONGTYPE, for a key of another type.
        let reply = ctx
            .read(key)
            .and_then(|value| string_reply(value).ok())
            .unwrap_or(Frame::Null);
        replies.push(reply);
    }
    Ok(Frame::Array(replies))
}

fn mset(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    set_pairs(ctx, args, Condition::Always)
}

fn msetnx(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    set_pairs(ctx, args, Condition::IfAbsent)
}

fn append(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let suffix = args.next_bytes()?;
    let max_len = ctx.config().proto_max_bulk_len;
    let Some(pos) = ctx.lookup_write(key) else {
        // A new key holds the argument as SET would store it (`int` for "123").
        ctx.set(key, Value::string(suffix), Ttl::Clear);
        ctx.notify(class::STRING, "append", key);
        return Ok(count_reply(suffix.len()));
    };
    let value = &mut ctx.db().entry_mut(pos).value;
    let current_len = with_string(value, <[u8]>::len)?;
    check_string_length(current_len, suffix.len(), max_len)?;
    let buffer = make_mutable(value)?;
    buffer.extend_from_slice(suffix);
    let len = buffer.len();
    ctx.changed(1);
    ctx.notify(class::STRING, "append", key);
    Ok(count_reply(len))
}

fn strlen(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    match ctx.read(key) {
        Some(value) => Ok(count_reply(with_string(value, <[u8]>::len)?)),
        None => Ok(Frame::Integer(0)),
    }
}

fn incr(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    add_to_integer(ctx, key, 1)
}

fn decr(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    add_to_integer(ctx, key, -1)
}

fn incrby(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let amount = args.next_i64()?;
    add_to_integer(ctx, key, amount)
}

fn decrby(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    // i64::MIN has no positive twin: Redis refuses it with its own message.
    let amount = args
        .next_i64()?
        .checked_neg()
        .ok_or(CommandError::DecrementOverflow)?;
    add_to_integer(ctx, key, amount)
}

fn incrbyfloat(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let increment = args.next_bytes()?;
    // Redis checks the type and the stored value before it reads the increment.
    let current = match ctx.lookup_write(key) {
        Some(pos) => with_string(&ctx.db().entry(pos).value, parse_long_double)?
            .ok_or(CommandError::NotAFloat)?,
        None => 0.0,
    };
    let increment = parse_long_double(increment).ok_or(CommandError::NotAFloat)?;
    let sum = current + increment;
    if !sum.is_finite() {
        return Err(CommandError::NanOrInfinity);
    }
    let text = format_float(sum);
    // Stored as a plain string even when it reads "3": Redis does not int-encode this result.
    ctx.set(
        key,
        Value::Str(CompactBytes::new(text.as_bytes())),
        Ttl::Keep,
    );
    ctx.notify(class::STRING, "incrbyfloat", key);
    // Propagated as the value it produced: float formatting must not differ between hosts.
    ctx.rewrite_propagation(set::propagation_argv(&[
        b"SET",
        key,
        text.as_bytes(),
        b"KEEPTTL",
    ]));
    Ok(Frame::Bulk(Bytes::from(text)))
}

fn getrange(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let start = args.next_i64()?;
    let end = args.next_i64()?;
    match ctx.read(key) {
        Some(value) => with_string(value, |s| Frame::bulk(substring(s, start, end))),
        // An empty string, not nil, for a missing key.
        None => Ok(Frame::Bulk(Bytes::new())),
    }
}

fn setrange(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let offset = args.next_i64()?;
    let patch = args.next_bytes()?;
    if offset < 0 {
        return Err(CommandError::OffsetOutOfRange);
    }
    let offset = usize::try_from(offset).map_err(|_| CommandError::StringTooLong)?;
    let max_len = ctx.config().proto_max_bulk_len;
    let Some(pos) = ctx.lookup_write(key) else {
        // Writing nothing to a missing key creates nothing.
        if patch.is_empty() {
            return Ok(Frame::Integer(0));
        }
        check_string_length(offset, patch.len(), max_len)?;
        // Sized exactly, as Redis sizes the new string: no doubling slack for maxmemory.
        let mut buffer = Vec::with_capacity(offset + patch.len());
        buffer.resize(offset, 0);
        buffer.extend_from_slice(patch);
        let len = buffer.len();
        ctx.set(key, Value::Mutable(Box::new(buffer)), Ttl::Clear);
        ctx.notify(class::STRING, "setrange", key);
        return Ok(count_reply(len));
    };
    let value = &mut ctx.db().entry_mut(pos).value;
    let current_len = with_string(value, <[u8]>::len)?;
    // Writing nothing leaves the value (and its encoding) alone, whatever the offset.
    if patch.is_empty() {
        return Ok(count_reply(current_len));
    }
    check_string_length(offset, patch.len(), max_len)?;
    let buffer = make_mutable(value)?;
    let end = offset + patch.len(); // checked against proto-max-bulk-len just above
    if buffer.len() < end {
        buffer.resize(end, 0);
    }
    buffer[offset..end].copy_from_slice(patch);
    let len = buffer.len();
    ctx.changed(1);
    ctx.notify(class::STRING, "setrange", key);
    Ok(count_reply(len))
}

fn getdel(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let reply = match ctx.read(key) {
        Some(value) => string_reply(value)?,
        None => return Ok(Frame::Null),
    };
    if ctx.delete(key) {
        ctx.notify(class::GENERIC, "del", key);
        let del: &[u8] = if ctx.config().lazyfree_lazy_user_del {
            b"UNLINK"
        } else {
            b"DEL"
        };
        ctx.rewrite_propagation(set::propagation_argv(&[del, key]));
    }
    Ok(reply)
}

fn getex(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let options = parse_set_options(args, OptionsOf::GetEx)?;
    let reply = match ctx.read(key) {
        Some(value) => string_reply(value)?,
        None => return Ok(Frame::Null),
    };
    // The expire time is validated only once the key is known to hold a string.
    match options.expiry {
        Expiry::Default | Expiry::Keep => {}
        Expiry::At(arg) => {
            let at = expire_at_ms(ctx, arg)?;
            if arg.kind.is_absolute() && at <= ctx.now_ms() {
                // An absolute time already past deletes the key, after replying its value.
                if ctx.delete(key) {
                    ctx.notify(class::GENERIC, "del", key);
                }
                ctx.changed(1);
                let del: &[u8] = if ctx.config().lazyfree_lazy_expire {
                    b"UNLINK"
                } else {
                    b"DEL"
                };
                ctx.rewrite_propagation(set::propagation_argv(&[del, key]));
            } else if let Some(pos) = ctx.lookup(key) {
                ctx.db().set_expire_at(pos, Some(at));
                ctx.changed(1);
                ctx.notify(class::GENERIC, "expire", key);
                ctx.rewrite_propagation(set::propagation_argv(&[
                    b"PEXPIREAT",
                    key,
                    at.to_string().as_bytes(),
                ]));
            }
        }
        Expiry::Persist => {
            if let Some(pos) = ctx.lookup(key)
                && ctx.db().entry(pos).expire_at().is_some()
            {
                ctx.db().set_expire_at(pos, None);
                ctx.changed(1);
                ctx.notify(class::GENERIC, "persist", key);
                ctx.rewrite_propagation(set::propagation_argv(&[b"PERSIST", key]));
            }
        }
    }
    Ok(reply)
}

fn getset(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let value = args.next_bytes()?;
    let options = SetOptions {
        return_old: true,
        ..SetOptions::default()
    };
    let outcome = set_string(ctx, key, value, &options)?;
    ctx.rewrite_propagation(set::propagation_argv(&[b"SET", key, value]));
    Ok(outcome.old.unwrap_or(Frame::Null))
}

fn lcs(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key_a = args.next_bytes()?;
    let key_b = args.next_bytes()?;
    // Both keys are looked up before either is type-checked, as Redis counts the hits.
    let a = ctx.read(key_a).map(|v| with_string(v, <[u8]>::to_vec));
    let b = ctx.read(key_b).map(|v| with_string(v, <[u8]>::to_vec));
    let (Ok(a), Ok(b)) = (a.unwrap_or(Ok(Vec::new())), b.unwrap_or(Ok(Vec::new()))) else {
        return Err(CommandError::msg(LCS_WRONG_TYPE));
    };
    let options = parse_lcs_options(args)?;
    if options.len && options.idx {
        return Err(CommandError::msg(LCS_LEN_AND_IDX));
    }
    let max_len = ctx.config().proto_max_bulk_len;
    let table = LcsTable::build(&a, &b, max_len)?;
    if options.len && !options.idx {
        return Ok(Frame::Integer(i64::from(table.length())));
    }
    let walk = table.walk(&a, &b, options.min_match_len);
    if !options.idx {
        return Ok(Frame::Bulk(Bytes::from(walk.common)));
    }
    let matches = walk
        .ranges
        .iter()
        .map(|m| {
            let mut item = vec![
                pair_reply(m.a_start, m.a_end),
                pair_reply(m.b_start, m.b_end),
            ];
            if options.with_match_len {
                item.push(Frame::Integer(i64::from(m.len())));
            }
            Frame::Array(item)
        })
        .collect();
    Ok(Frame::Map(vec![
        (Frame::bulk("matches"), Frame::Array(matches)),
        (
            Frame::bulk("len"),
            Frame::Integer(i64::from(table.length())),
        ),
    ]))
}

// ---------------------------------------------------------------------------------------------
// Numbers.

/// The one place INCR, DECR, INCRBY and DECRBY change a counter; the TTL is kept.
fn add_to_integer(ctx: &mut CommandContext<'_>, key: &[u8], amount: i64) -> CommandResult {
    let current = match ctx.lookup_write(key) {
        Some(pos) => with_string(&ctx.db().entry(pos).value, parse_canonical_i64)?
            .ok_or(CommandError::NotAnInteger)?,
        None => 0,
    };
    let updated = current
        .checked_add(amount)
        .ok_or(CommandError::IncrementOverflow)?;
    ctx.set(key, Value::Int(updated), Ttl::Keep);
    ctx.notify(class::STRING, "incrby", key);
    Ok(Frame::Integer(updated))
}

/// Redis reads INCRBYFLOAT operands with `strtold`, refusing spaces, trailing bytes, NaN and
/// anything longer than 5 KiB. We read an f64 (see [`format_float`]).
fn parse_long_double(bytes: &[u8]) -> Option<f64> {
    const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;
    if bytes.len() > MAX_LONG_DOUBLE_CHARS {
        return None;
    }
    parse_f64(bytes)
}

/// Formats an INCRBYFLOAT result.
///
/// Redis computes in `long double` and prints `%.17Lf` with trailing zeros trimmed. We compute
/// in f64 and print the shortest decimal that reads back as the same f64, never with an
/// exponent, so the common cases agree ("10.6", "3", "17179869185.5"). They differ for results
/// below 1e-17 (Redis prints "0"), for huge magnitudes (Redis prints the exact binary
/// expansion, and accepts sums past f64's range), and where long double's extra precision hides
/// a decimal rounding error that f64 shows (1 + -1.1: Redis "-0.1", we "-0.10000000000000009").
fn format_float(value: f64) -> String {
    if value == 0.0 {
        // Never "-0".
        return "0".to_string();
    }
    format!("{value}")
}

// ---------------------------------------------------------------------------------------------
// Strings.

/// Runs `f` on the string bytes of `value`, or fails with WRONGTYPE. Each string encoding is
/// listed, so a new `Value` variant must be given an arm here.
fn with_string<R>(value: &Value, f: impl FnOnce(&[u8]) -> R) -> Result<R, CommandError> {
    match value {
        Value::Int(n) => Ok(f(itoa::Buffer::new().format(*n).as_bytes())),
        Value::Str(s) => Ok(f(s.as_slice())),
        Value::Mutable(v) => Ok(f(v)),
        Value::List(_)
        | Value::Hash(_)
        | Value::Set(_)
        | Value::SortedSet(_)
        | Value::Stream(_)
        | Value::Module(_) => Err(CommandError::WrongType),
    }
}

/// The bulk reply for a string value, or WRONGTYPE.
fn string_reply(value: &Value) -> CommandResult {
    with_string(value, |s| Frame::Bulk(Bytes::copy_from_slice(s)))
}

/// Turns a string value into the growable form APPEND and SETRANGE change in place (Redis's
/// `dbUnshareStringValue`: the result reports `raw`).
pub(crate) fn make_mutable(value: &mut Value) -> Result<&mut Vec<u8>, CommandError> {
    if !matches!(value, Value::Mutable(_)) {
        let bytes = with_string(value, <[u8]>::to_vec)?;
        *value = Value::Mutable(Box::new(bytes));
    }
    match value {
        Value::Mutable(buffer) => Ok(buffer),
        _ => Err(CommandError::WrongType),
    }
}

/// Refuses a string that would grow past `proto-max-bulk-len`.
fn check_string_length(size: usize, added: usize, max_len: u64) -> Result<(), CommandError> {
    let total = u64::try_from(size)
        .ok()
        .zip(u64::try_from(added).ok())
        .and_then(|(size, added)| size.checked_add(added));
    match total {
        Some(total) if total <= max_len => Ok(()),
        _ => Err(CommandError::StringTooLong),
    }
}

/// GETRANGE's slice: negative indexes count from the end, and the range is clamped to the
/// string, so it is empty rather than an error when nothing is left.
fn substring(s: &[u8], start: i64, end: i64) -> &[u8] {
    let len = i64::try_from(s.len()).unwrap_or(i64::MAX);
    if start < 0 && end < 0 && start > end {
        return &[];
    }
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end }.max(0).min(len - 1);
    if start > end || len == 0 {
        return &[];
    }
    match (usize::try_from(start), usize::try_from(end)) {
        (Ok(start), Ok(end)) => s.get(start..=end).unwrap_or_default(),
        _ => &[],
    }
}

fn pair_reply(start: u32, end: u32) -> Frame {
    Frame::Array(vec![
        Frame::Integer(i64::from(start)),
        Frame::Integer(i64::from(end)),
    ])
}

#[cfg(test)]
mod tests;
