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

use bytes::Bytes;
use oxidis_protocol::Frame;

use crate::command::{
    Arg, Args, Arity, CommandResult, CommandSpec, Family, Flag::*, Group, KeyFlag::*, KeySpec,
    keys, parse_f64, parse_i64,
};
use crate::context::CommandContext;
use crate::db::Ttl;
use crate::errors::CommandError;
use crate::errors::string::{
    LCS_ALLOC_FAILED, LCS_LEN_AND_IDX, LCS_STRING_TOO_LONG, LCS_TABLE_TOO_BIG, LCS_WRONG_TYPE,
};
use crate::types::{CompactBytes, Value, parse_canonical_i64};

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
        return Ok(length_reply(suffix.len()));
    };
    let value = &mut ctx.db().entry_mut(pos).value;
    let current_len = with_string(value, <[u8]>::len)?;
    check_string_length(current_len, suffix.len(), max_len)?;
    let buffer = make_mutable(value)?;
    buffer.extend_from_slice(suffix);
    let len = buffer.len();
    ctx.changed(1);
    Ok(length_reply(len))
}

fn strlen(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    match ctx.read(key) {
        Some(value) => Ok(length_reply(with_string(value, <[u8]>::len)?)),
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
        let mut buffer = vec![0; offset];
        buffer.extend_from_slice(patch);
        let len = buffer.len();
        ctx.set(key, Value::Mutable(Box::new(buffer)), Ttl::Clear);
        return Ok(length_reply(len));
    };
    let value = &mut ctx.db().entry_mut(pos).value;
    let current_len = with_string(value, <[u8]>::len)?;
    // Writing nothing leaves the value (and its encoding) alone, whatever the offset.
    if patch.is_empty() {
        return Ok(length_reply(current_len));
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
    Ok(length_reply(len))
}

fn getdel(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let reply = match ctx.read(key) {
        Some(value) => string_reply(value)?,
        None => return Ok(Frame::Null),
    };
    ctx.delete(key);
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
                ctx.delete(key);
            } else if let Some(pos) = ctx.lookup(key) {
                ctx.db().set_expire_at(pos, Some(at));
                ctx.changed(1);
            }
        }
        Expiry::Persist => {
            if let Some(pos) = ctx.lookup(key)
                && ctx.db().entry(pos).expire_at().is_some()
            {
                ctx.db().set_expire_at(pos, None);
                ctx.changed(1);
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
// The SET core and its options.

/// When a SET-like command may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Condition {
    /// Always (plain SET).
    #[default]
    Always,
    /// Only if the key is missing (NX, SETNX, MSETNX).
    IfAbsent,
    /// Only if the key exists (XX).
    IfPresent,
}

/// The four ways to give an expire time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExpireKind {
    /// Seconds from now.
    Ex,
    /// Milliseconds from now.
    Px,
    /// A Unix time in seconds.
    ExAt,
    /// A Unix time in milliseconds.
    PxAt,
}

impl ExpireKind {
    fn from_token(token: &[u8]) -> Option<ExpireKind> {
        [
            ("EX", ExpireKind::Ex),
            ("PX", ExpireKind::Px),
            ("EXAT", ExpireKind::ExAt),
            ("PXAT", ExpireKind::PxAt),
        ]
        .into_iter()
        .find(|(name, _)| token.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, kind)| kind)
    }

    fn is_absolute(self) -> bool {
        matches!(self, ExpireKind::ExAt | ExpireKind::PxAt)
    }

    fn is_seconds(self) -> bool {
        matches!(self, ExpireKind::Ex | ExpireKind::ExAt)
    }
}

/// An expire time as given; its number is read only after every option parsed, as in Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ExpireArg<'a> {
    kind: ExpireKind,
    raw: &'a [u8],
}

/// What a command does to the key's time to live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Expiry<'a> {
    /// No option: SET clears the TTL, GETEX leaves it.
    #[default]
    Default,
    /// KEEPTTL (SET only).
    Keep,
    /// PERSIST (GETEX only).
    Persist,
    /// EX, PX, EXAT or PXAT.
    At(ExpireArg<'a>),
}

/// The options of SET (and the expiry options GETEX shares with it).
#[derive(Debug, Clone, Copy, Default)]
struct SetOptions<'a> {
    condition: Condition,
    /// GET: reply the old value instead of OK.
    return_old: bool,
    expiry: Expiry<'a>,
}

/// Which command's options are being parsed: each accepts a different subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OptionsOf {
    Set,
    GetEx,
}

/// What [`set_string`] did.
struct SetOutcome {
    /// Whether the value was stored (false when NX/XX vetoed it).
    written: bool,
    /// With GET: the old value's reply (nil when there was none).
    old: Option<Frame>,
}

/// Parses SET's (or GETEX's) options. Any option may repeat; conflicting ones (NX with XX, two
/// different expiry forms, KEEPTTL or PERSIST with an expiry) and an expiry missing its value
/// are all `ERR syntax error`, as Redis answers them.
fn parse_set_options<'a>(
    args: &mut Args<'a>,
    of: OptionsOf,
) -> Result<SetOptions<'a>, CommandError> {
    let mut options = SetOptions::default();
    let is_set = of == OptionsOf::Set;
    while !args.is_empty() {
        let token = args.next_bytes()?.as_ref();
        let is = |name: &str| token.eq_ignore_ascii_case(name.as_bytes());
        if is_set && is("NX") && options.condition != Condition::IfPresent {
            options.condition = Condition::IfAbsent;
        } else if is_set && is("XX") && options.condition != Condition::IfAbsent {
            options.condition = Condition::IfPresent;
        } else if is_set && is("GET") {
            options.return_old = true;
        } else if is_set
            && is("KEEPTTL")
            && matches!(options.expiry, Expiry::Default | Expiry::Keep)
        {
            options.expiry = Expiry::Keep;
        } else if !is_set
            && is("PERSIST")
            && matches!(options.expiry, Expiry::Default | Expiry::Persist)
        {
            options.expiry = Expiry::Persist;
        } else if let Some(kind) = ExpireKind::from_token(token)
            && match options.expiry {
                Expiry::Default => true,
                Expiry::At(previous) => previous.kind == kind,
                Expiry::Keep | Expiry::Persist => false,
            }
            && !args.is_empty()
        {
            let raw = args.next_bytes()?.as_ref();
            options.expiry = Expiry::At(ExpireArg { kind, raw });
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok(options)
}

/// The one place SET, SETNX, SETEX, PSETEX and GETSET store a string.
fn set_string(
    ctx: &mut CommandContext<'_>,
    key: &[u8],
    value: &[u8],
    options: &SetOptions<'_>,
) -> Result<SetOutcome, CommandError> {
    // Redis validates the expire time first, then reads the old value, then checks NX/XX.
    let ttl = match options.expiry {
        Expiry::Default | Expiry::Persist => Ttl::Clear,
        Expiry::Keep => Ttl::Keep,
        Expiry::At(arg) => Ttl::At(expire_at_ms(ctx, arg)?),
    };
    let old = if options.return_old {
        Some(match ctx.read(key) {
            Some(current) => string_reply(current)?,
            None => Frame::Null,
        })
    } else {
        None
    };
    let allowed = match options.condition {
        // A plain SET needs no lookup: `ctx.set` finds the key once, to overwrite it.
        Condition::Always => true,
        Condition::IfAbsent => ctx.lookup_write(key).is_none(),
        Condition::IfPresent => ctx.lookup_write(key).is_some(),
    };
    if allowed {
        ctx.set(key, Value::string(value), ttl);
    }
    Ok(SetOutcome {
        written: allowed,
        old,
    })
}

/// SETEX and PSETEX: `key ttl value`, always written.
fn set_with_relative_expiry(
    ctx: &mut CommandContext<'_>,
    args: &mut Args<'_>,
    kind: ExpireKind,
) -> CommandResult {
    let key = args.next_bytes()?;
    let raw = args.next_bytes()?.as_ref();
    let value = args.next_bytes()?;
    let options = SetOptions {
        expiry: Expiry::At(ExpireArg { kind, raw }),
        ..SetOptions::default()
    };
    set_string(ctx, key, value, &options)?;
    Ok(Frame::ok())
}

/// The absolute expiry time, in Unix milliseconds, an expire argument stands for.
///
/// # Errors
/// `ERR value is not an integer or out of range` for a non-integer, and
/// `ERR invalid expire time in '<command>' command` for zero, negative or overflowing times.
fn expire_at_ms(ctx: &CommandContext<'_>, arg: ExpireArg<'_>) -> Result<u64, CommandError> {
    let invalid = || CommandError::InvalidExpireTime {
        command: ctx.command().full_name.clone(),
    };
    let amount = parse_i64(arg.raw)?;
    if amount <= 0 {
        return Err(invalid());
    }
    let mut ms = if arg.kind.is_seconds() {
        amount.checked_mul(1000).ok_or_else(invalid)?
    } else {
        amount
    };
    if !arg.kind.is_absolute() {
        let now = i64::try_from(ctx.now_ms()).map_err(|_| invalid())?;
        ms = ms.checked_add(now).ok_or_else(invalid)?;
    }
    u64::try_from(ms).map_err(|_| invalid())
}

/// MSET and MSETNX: pairs of key and value, all written or (MSETNX) none.
fn set_pairs(
    ctx: &mut CommandContext<'_>,
    args: &mut Args<'_>,
    condition: Condition,
) -> CommandResult {
    let pairs = args.rest();
    // The arity only says "at least 3"; an odd number of keys and values is an arity error.
    if !pairs.len().is_multiple_of(2) {
        return Err(CommandError::WrongArity {
            command: ctx.command().full_name.clone(),
        });
    }
    if condition == Condition::IfAbsent
        && pairs
            .iter()
            .step_by(2)
            .any(|key| ctx.lookup_write(key).is_some())
    {
        return Ok(Frame::Integer(0));
    }
    for pair in pairs.chunks_exact(2) {
        ctx.set(&pair[0], Value::string(&pair[1]), Ttl::Clear);
    }
    Ok(match condition {
        Condition::IfAbsent => Frame::Integer(1),
        Condition::Always | Condition::IfPresent => Frame::ok(),
    })
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
    }
}

/// The bulk reply for a string value, or WRONGTYPE.
fn string_reply(value: &Value) -> CommandResult {
    with_string(value, |s| Frame::Bulk(Bytes::copy_from_slice(s)))
}

/// Turns a string value into the growable form APPEND and SETRANGE change in place (Redis's
/// `dbUnshareStringValue`: the result reports `raw`).
fn make_mutable(value: &mut Value) -> Result<&mut Vec<u8>, CommandError> {
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

fn length_reply(len: usize) -> Frame {
    Frame::Integer(i64::try_from(len).unwrap_or(i64::MAX))
}

fn pair_reply(start: u32, end: u32) -> Frame {
    Frame::Array(vec![
        Frame::Integer(i64::from(start)),
        Frame::Integer(i64::from(end)),
    ])
}

// ---------------------------------------------------------------------------------------------
// LCS.

#[derive(Debug, Default)]
struct LcsOptions {
    len: bool,
    idx: bool,
    with_match_len: bool,
    min_match_len: u32,
}

fn parse_lcs_options(args: &mut Args<'_>) -> Result<LcsOptions, CommandError> {
    let mut options = LcsOptions::default();
    while !args.is_empty() {
        if args.eat_keyword("IDX") {
            options.idx = true;
        } else if args.eat_keyword("LEN") {
            options.len = true;
        } else if args.eat_keyword("WITHMATCHLEN") {
            options.with_match_len = true;
        } else if args.remaining() >= 2 && args.eat_keyword("MINMATCHLEN") {
            // Negative means no minimum; beyond u32 no match can qualify.
            let min = args.next_i64()?.max(0);
            options.min_match_len = u32::try_from(min).unwrap_or(u32::MAX);
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok(options)
}

/// The classic dynamic-programming table: `cell(i, j)` is the LCS length of `a[..i]` and
/// `b[..j]`.
struct LcsTable {
    cells: Vec<u32>,
    a_len: usize,
    b_len: usize,
}

/// One run of consecutive matching bytes, inclusive on both sides.
#[derive(Debug, Clone, Copy)]
struct LcsRange {
    a_start: u32,
    a_end: u32,
    b_start: u32,
    b_end: u32,
}

impl LcsRange {
    fn len(&self) -> u32 {
        self.a_end - self.a_start + 1
    }
}

/// The common subsequence and its runs, from the end of the strings backwards.
struct LcsWalk {
    common: Vec<u8>,
    ranges: Vec<LcsRange>,
}

impl LcsTable {
    fn build(a: &[u8], b: &[u8], max_len: u64) -> Result<LcsTable, CommandError> {
        let limit = usize::try_from(u32::MAX - 1).unwrap_or(usize::MAX);
        if a.len() >= limit || b.len() >= limit {
            return Err(CommandError::msg(LCS_STRING_TOO_LONG));
        }
        let (a_len, b_len) = (a.len(), b.len());
        let cell_count = (a_len + 1)
            .checked_mul(b_len + 1)
            .ok_or(CommandError::msg(LCS_ALLOC_FAILED))?;
        let bytes = cell_count
            .checked_mul(std::mem::size_of::<u32>())
            .and_then(|n| u64::try_from(n).ok())
            .ok_or(CommandError::msg(LCS_ALLOC_FAILED))?;
        if bytes > max_len {
            return Err(CommandError::msg(LCS_TABLE_TOO_BIG));
        }
        let mut cells = Vec::new();
        cells
            .try_reserve_exact(cell_count)
            .map_err(|_| CommandError::msg(LCS_ALLOC_FAILED))?;
        cells.resize(cell_count, 0u32);
        let width = b_len + 1;
        for i in 1..=a_len {
            for j in 1..=b_len {
                cells[i * width + j] = if a[i - 1] == b[j - 1] {
                    cells[(i - 1) * width + j - 1] + 1
                } else {
                    cells[(i - 1) * width + j].max(cells[i * width + j - 1])
                };
            }
        }
        Ok(LcsTable {
            cells,
            a_len,
            b_len,
        })
    }

    fn cell(&self, i: usize, j: usize) -> u32 {
        self.cells[i * (self.b_len + 1) + j]
    }

    /// The LCS length.
    fn length(&self) -> u32 {
        self.cell(self.a_len, self.b_len)
    }

    /// Walks back from the end, collecting the subsequence and its runs of at least
    /// `min_match_len` (0: all). The path and the run boundaries follow Redis's walk exactly,
    /// since IDX replies expose them: on a tie it moves along `b`, and a run is closed when the
    /// next match is not adjacent, on a mismatch step, or at the start of either string.
    fn walk(&self, a: &[u8], b: &[u8], min_match_len: u32) -> LcsWalk {
        let mut common = vec![0u8; usize::try_from(self.length()).unwrap_or_default()];
        let mut remaining = common.len();
        let mut ranges = Vec::new();
        let mut current: Option<LcsRange> = None;
        let (mut i, mut j) = (self.a_len, self.b_len);
        while i > 0 && j > 0 {
            let mut emit = false;
            if a[i - 1] == b[j - 1] {
                remaining -= 1;
                common[remaining] = a[i - 1];
                // Indexes fit in u32: `build` refused longer strings.
                let (ai, bj) = (to_u32(i - 1), to_u32(j - 1));
                match &mut current {
                    None => {
                        current = Some(LcsRange {
                            a_start: ai,
                            a_end: ai,
                            b_start: bj,
                            b_end: bj,
                        });
                    }
                    Some(run) if run.a_start == ai + 1 && run.b_start == bj + 1 => {
                        run.a_start = ai;
                        run.b_start = bj;
                    }
                    Some(_) => emit = true,
                }
                if current.is_some_and(|run| run.a_start == 0 || run.b_start == 0) {
                    emit = true;
                }
                i -= 1;
                j -= 1;
            } else {
                if self.cell(i - 1, j) > self.cell(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                emit = current.is_some();
            }
            if emit
                && let Some(run) = current.take()
                && (min_match_len == 0 || run.len() >= min_match_len)
            {
                ranges.push(run);
            }
        }
        LcsWalk { common, ranges }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::AclCategory;
    use crate::config::Config;
    use crate::testing::{CommandRunner, bulk, err};

    const NOW: u64 = 1_000_000;

    fn runner() -> CommandRunner {
        CommandRunner::with_builtin_commands()
    }

    /// Runs a command written as one line of space-separated words.
    fn run(r: &mut CommandRunner, line: &str) -> Frame {
        r.run(line.split(' '))
    }

    fn int(n: i64) -> Frame {
        Frame::Integer(n)
    }

    fn array(items: Vec<Frame>) -> Frame {
        Frame::Array(items)
    }

    fn expire_at(r: &CommandRunner, key: &str) -> Option<u64> {
        let db = &r.server.dbs[0];
        db.find(key.as_bytes())
            .and_then(|p| db.entry(p).expire_at())
    }

    fn encoding(r: &CommandRunner, key: &str) -> &'static str {
        let db = &r.server.dbs[0];
        let pos = db.find(key.as_bytes()).expect("key exists");
        db.entry(pos).value.encoding_name()
    }

    fn exists(r: &CommandRunner, key: &str) -> bool {
        r.server.dbs[0].find(key.as_bytes()).is_some()
    }

    // Config may grow private fields, so no struct literal here.
    #[allow(clippy::field_reassign_with_default)]
    fn small_bulk_len(max: u64) -> CommandRunner {
        let mut config = Config::default();
        config.proto_max_bulk_len = max;
        CommandRunner::with_config(config)
    }

    const INVALID_SET: &str = "ERR invalid expire time in 'set' command";
    const INVALID_GETEX: &str = "ERR invalid expire time in 'getex' command";
    const NOT_INT: &str = "ERR value is not an integer or out of range";
    const NOT_FLOAT: &str = "ERR value is not a valid float";
    const SYNTAX: &str = "ERR syntax error";

    // --- metadata -------------------------------------------------------------------------

    #[test]
    fn specs_match_redis_metadata() {
        let r = runner();
        let info = |name: &str| r.server.table.get(name.as_bytes()).expect(name);
        let acl = |name: &str| {
            AclCategory::in_set(info(name).acl_categories)
                .map(AclCategory::name)
                .collect::<Vec<_>>()
        };
        assert_eq!(acl("get"), ["read", "string", "fast"]);
        assert_eq!(acl("set"), ["write", "string", "slow"]);
        assert_eq!(acl("getdel"), ["write", "string", "fast"]);
        assert_eq!(acl("lcs"), ["read", "string", "slow"]);
        assert_eq!(acl("getrange"), ["read", "string", "slow"]);
        let arities: Vec<i64> = [
            "get",
            "set",
            "setnx",
            "setex",
            "psetex",
            "mget",
            "mset",
            "msetnx",
            "append",
            "strlen",
            "incr",
            "decr",
            "incrby",
            "decrby",
            "incrbyfloat",
            "getrange",
            "setrange",
            "substr",
            "getdel",
            "getex",
            "getset",
            "lcs",
        ]
        .iter()
        .map(|name| info(name).spec.arity.as_redis())
        .collect();
        assert_eq!(
            arities,
            [
                2, -3, 3, 4, 4, -2, -3, -3, 3, 2, 2, 2, 3, 3, 3, 4, 4, 4, 2, -2, 3, -3
            ]
        );
        assert_eq!(info("mset").legacy_keys, (1, -1, 2));
        assert_eq!(info("lcs").legacy_keys, (1, 2, 1));
        assert_eq!(info("substr").spec.docs.deprecated_since, Some("2.0.0"));
    }

    // --- GET / SET ------------------------------------------------------------------------

    #[test]
    fn set_and_get() {
        let mut r = runner();
        assert_eq!(run(&mut r, "GET x"), Frame::Null);
        assert_eq!(run(&mut r, "SET x foobar"), Frame::ok());
        assert_eq!(run(&mut r, "GET x"), bulk("foobar"));
        assert_eq!(r.run(["SET", "x", ""]), Frame::ok());
        assert_eq!(run(&mut r, "GET x"), bulk(""));
        let big = "abcd".repeat(1_000_000);
        assert_eq!(r.run(["SET", "foo", big.as_str()]), Frame::ok());
        assert_eq!(run(&mut r, "GET foo"), bulk(&big));
    }

    #[test]
    fn set_keeps_redis_encodings() {
        let mut r = runner();
        run(&mut r, "SET a 12345");
        run(&mut r, "SET b -0");
        r.run(["SET", "c", &"x".repeat(44)]);
        r.run(["SET", "d", &"x".repeat(45)]);
        assert_eq!(encoding(&r, "a"), "int");
        assert_eq!(encoding(&r, "b"), "embstr");
        assert_eq!(encoding(&r, "c"), "embstr");
        assert_eq!(encoding(&r, "d"), "raw");
        assert_eq!(run(&mut r, "GET a"), bulk("12345"));
    }

    #[test]
    fn set_nx_xx_and_get() {
        let mut r = runner();
        assert_eq!(run(&mut r, "SET foo 1 nx"), Frame::ok());
        assert_eq!(run(&mut r, "SET foo 2 nx"), Frame::Null);
        assert_eq!(run(&mut r, "GET foo"), bulk("1"));
        assert_eq!(run(&mut r, "SET bar 1 xx"), Frame::Null);
        assert!(!exists(&r, "bar"));
        assert_eq!(run(&mut r, "SET foo 2 XX"), Frame::ok());
        assert_eq!(run(&mut r, "GET foo"), bulk("2"));

        assert_eq!(run(&mut r, "SET foo bar2 GET"), bulk("2"));
        assert_eq!(run(&mut r, "SET new bar GET"), Frame::Null);
        assert_eq!(run(&mut r, "GET new"), bulk("bar"));
        assert_eq!(run(&mut r, "SET foo baz GET XX"), bulk("bar2"));
        assert_eq!(run(&mut r, "SET none bar GET XX"), Frame::Null);
        assert!(!exists(&r, "none"));
        assert_eq!(run(&mut r, "SET nx1 bar GET NX"), Frame::Null);
        assert_eq!(run(&mut r, "GET nx1"), bulk("bar"));
        assert_eq!(run(&mut r, "SET nx1 baz GET NX"), bulk("bar"));
        assert_eq!(run(&mut r, "GET nx1"), bulk("bar"));
        // Repeated options are accepted.
        assert_eq!(run(&mut r, "SET nx1 v get get nx nx"), bulk("bar"));
    }

    #[test]
    fn set_syntax_errors() {
        let mut r = runner();
        for line in [
            "SET foo bar non-existing-option",
            "SET foo bar NX XX",
            "SET foo bar XX NX",
            "SET foo bar EX",
            "SET foo bar EX 10 PX 20",
            "SET foo bar PX 10 EXAT 20",
            "SET foo bar KEEPTTL EX 5",
            "SET foo bar EX 5 KEEPTTL",
            "SET foo bar PERSIST",
            "SET foo bar EX abc NX XX",
        ] {
            assert_eq!(run(&mut r, line), err(SYNTAX), "{line}");
        }
        assert!(!exists(&r, "foo"));
        assert_eq!(run(&mut r, "SET foo bar KEEPTTL KEEPTTL"), Frame::ok());
    }

    #[test]
    fn set_expiry_options() {
        let mut r = runner();
        run(&mut r, "SET foo bar EX 10");
        assert_eq!(expire_at(&r, "foo"), Some(NOW + 10_000));
        run(&mut r, "SET foo bar PX 1500");
        assert_eq!(expire_at(&r, "foo"), Some(NOW + 1_500));
        run(&mut r, "SET foo bar EXAT 2000");
        assert_eq!(expire_at(&r, "foo"), Some(2_000_000));
        run(&mut r, "SET foo bar pxat 2000001");
        assert_eq!(expire_at(&r, "foo"), Some(2_000_001));
        // The last of a repeated option wins.
        run(&mut r, "SET foo bar ex 10 ex 20");
        assert_eq!(expire_at(&r, "foo"), Some(NOW + 20_000));
        run(&mut r, "SET foo bar2 KEEPTTL");
        assert_eq!(expire_at(&r, "foo"), Some(NOW + 20_000));
        assert_eq!(run(&mut r, "SET foo bar3 xx px 10000"), Frame::ok());
        assert_eq!(expire_at(&r, "foo"), Some(NOW + 10_000));
        run(&mut r, "SET foo bar");
        assert_eq!(expire_at(&r, "foo"), None);

        run(&mut r, "SET short v PX 100");
        r.advance_ms(100);
        assert_eq!(run(&mut r, "GET short"), Frame::Null);
        // An absolute time in the past stores a key that is already gone.
        assert_eq!(run(&mut r, "SET past v EXAT 1"), Frame::ok());
        assert_eq!(run(&mut r, "GET past"), Frame::Null);
    }

    #[test]
    fn set_invalid_expire_times() {
        let mut r = runner();
        for line in [
            "SET foo bar EX 0",
            "SET foo bar PX -1",
            "SET foo bar EX 10000000000000000",
            "SET foo bar EX -9999999999999999",
            "SET foo bar EX 9223372036854775",
            "SET foo bar PX 9223372036854775807",
            "SET foo bar EXAT 9223372036854775807",
            "SET foo bar PXAT 0",
        ] {
            assert_eq!(run(&mut r, line), err(INVALID_SET), "{line}");
        }
        assert_eq!(run(&mut r, "SET foo bar EX abc"), err(NOT_INT));
        assert_eq!(run(&mut r, "SET foo bar EX 1.5"), err(NOT_INT));
        assert!(!exists(&r, "foo"));
        assert_eq!(
            run(&mut r, "SET foo bar PXAT 9223372036854775807"),
            Frame::ok()
        );
        // The expire time is checked before GET reads the old value.
        assert_eq!(run(&mut r, "SET foo baz GET EX 0"), err(INVALID_SET));
        assert_eq!(run(&mut r, "GET foo"), bulk("bar"));
    }

    #[test]
    fn set_counts_changes_and_get_counts_hits() {
        let mut r = runner();
        let dirty = r.server.dirty;
        run(&mut r, "SET a 1");
        run(&mut r, "SET a 2 NX");
        assert_eq!(r.server.dirty, dirty + 1);
        run(&mut r, "GET a");
        run(&mut r, "GET b");
        assert_eq!(r.server.stats.keyspace_hits, 1);
        assert_eq!(r.server.stats.keyspace_misses, 1);
    }

    // --- SETNX / SETEX / PSETEX / GETSET ---------------------------------------------------

    #[test]
    fn setnx() {
        let mut r = runner();
        assert_eq!(run(&mut r, "SETNX novar foobared"), int(1));
        assert_eq!(run(&mut r, "SETNX novar blabla"), int(0));
        assert_eq!(run(&mut r, "GET novar"), bulk("foobared"));
        run(&mut r, "SET x 10 EX 1");
        assert_eq!(run(&mut r, "SETNX x 20"), int(0));
        r.advance_ms(2000);
        assert_eq!(run(&mut r, "SETNX x 20"), int(1));
        assert_eq!(run(&mut r, "GET x"), bulk("20"));
        assert_eq!(expire_at(&r, "x"), None);
    }

    #[test]
    fn setex_and_psetex() {
        let mut r = runner();
        assert_eq!(run(&mut r, "SETEX x 12 test"), Frame::ok());
        assert_eq!(expire_at(&r, "x"), Some(NOW + 12_000));
        assert_eq!(run(&mut r, "GET x"), bulk("test"));
        assert_eq!(run(&mut r, "PSETEX y 100 v"), Frame::ok());
        assert_eq!(expire_at(&r, "y"), Some(NOW + 100));
        assert_eq!(
            run(&mut r, "SETEX z -10 foo"),
            err("ERR invalid expire time in 'setex' command")
        );
        assert_eq!(
            run(&mut r, "PSETEX z 0 foo"),
            err("ERR invalid expire time in 'psetex' command")
        );
        assert_eq!(run(&mut r, "SETEX z abc foo"), err(NOT_INT));
        assert!(!exists(&r, "z"));
        assert_eq!(run(&mut r, "SETEX w 1 123"), Frame::ok());
        assert_eq!(encoding(&r, "w"), "int");
    }

    #[test]
    fn getset() {
        let mut r = runner();
        assert_eq!(run(&mut r, "GETSET foo xyz"), Frame::Null);
        assert_eq!(run(&mut r, "GET foo"), bulk("xyz"));
        run(&mut r, "SET foo bar EX 100");
        assert_eq!(run(&mut r, "GETSET foo xyz"), bulk("bar"));
        assert_eq!(run(&mut r, "GET foo"), bulk("xyz"));
        assert_eq!(expire_at(&r, "foo"), None);
    }

    // --- MGET / MSET / MSETNX ---------------------------------------------------------------

    #[test]
    fn mget() {
        let mut r = runner();
        run(&mut r, "SET foo BAR");
        run(&mut r, "SET bar 42");
        assert_eq!(
            run(&mut r, "MGET foo baazz bar"),
            array(vec![bulk("BAR"), Frame::Null, bulk("42")])
        );
    }

    #[test]
    fn mset_and_msetnx() {
        let mut r = runner();
        assert_eq!(
            r.run(["MSET", "x", "10", "y", "foo bar", "z", "x x\n\r\n"]),
            Frame::ok()
        );
        assert_eq!(
            run(&mut r, "MGET x y z"),
            array(vec![bulk("10"), bulk("foo bar"), bulk("x x\n\r\n")])
        );
        assert_eq!(
            run(&mut r, "MSET x 10 y foo z"),
            err("ERR wrong number of arguments for 'mset' command")
        );
        assert_eq!(
            run(&mut r, "MSETNX x 20 y foo z"),
            err("ERR wrong number of arguments for 'msetnx' command")
        );
        assert_eq!(run(&mut r, "MSETNX x1 xxx y2 yyy x 20"), int(0));
        assert!(!exists(&r, "x1") && !exists(&r, "y2"));
        assert_eq!(run(&mut r, "MSETNX x1 xxx y2 yyy"), int(1));
        assert_eq!(
            run(&mut r, "MGET x1 y2"),
            array(vec![bulk("xxx"), bulk("yyy")])
        );
        assert_eq!(run(&mut r, "MSETNX n1 xxx n1 yyy"), int(1));
        assert_eq!(run(&mut r, "GET n1"), bulk("yyy"));
        assert_eq!(run(&mut r, "MSETNX n1 xxx n1 zzz"), int(0));
        assert_eq!(run(&mut r, "GET n1"), bulk("yyy"));
        // MSET clears any TTL, as SET does.
        run(&mut r, "SET t v EX 100");
        let dirty = r.server.dirty;
        run(&mut r, "MSET t w u 1");
        assert_eq!(expire_at(&r, "t"), None);
        assert_eq!(r.server.dirty, dirty + 2);
    }

    // --- APPEND / STRLEN --------------------------------------------------------------------

    #[test]
    fn append() {
        let mut r = runner();
        assert_eq!(run(&mut r, "APPEND a 123"), int(3));
        assert_eq!(encoding(&r, "a"), "int");
        assert_eq!(run(&mut r, "APPEND a 45"), int(5));
        assert_eq!(encoding(&r, "a"), "raw");
        assert_eq!(run(&mut r, "GET a"), bulk("12345"));
        assert_eq!(run(&mut r, "APPEND b hello"), int(5));
        assert_eq!(encoding(&r, "b"), "embstr");
        assert_eq!(r.run(["APPEND", "b", ""]), int(5));
        assert_eq!(encoding(&r, "b"), "raw");
        assert_eq!(r.run(["APPEND", "b", " world"]), int(11));
        assert_eq!(run(&mut r, "GET b"), bulk("hello world"));
        // The TTL survives.
        run(&mut r, "SET c x EX 100");
        run(&mut r, "APPEND c y");
        assert_eq!(expire_at(&r, "c"), Some(NOW + 100_000));
    }

    #[test]
    fn append_respects_proto_max_bulk_len() {
        let mut r = small_bulk_len(8);
        assert_eq!(run(&mut r, "APPEND a 12345"), int(5));
        assert_eq!(run(&mut r, "APPEND a 678"), int(8));
        assert_eq!(
            run(&mut r, "APPEND a 9"),
            err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        );
        assert_eq!(run(&mut r, "GET a"), bulk("12345678"));
    }

    #[test]
    fn strlen() {
        let mut r = runner();
        assert_eq!(run(&mut r, "STRLEN notakey"), int(0));
        run(&mut r, "SET myinteger -555");
        assert_eq!(run(&mut r, "STRLEN myinteger"), int(4));
        r.run(["SET", "mystring", "foozzz0123456789 baz"]);
        assert_eq!(run(&mut r, "STRLEN mystring"), int(20));
    }

    // --- INCR family ------------------------------------------------------------------------

    #[test]
    fn incr_and_decr() {
        let mut r = runner();
        assert_eq!(run(&mut r, "INCR novar"), int(1));
        assert_eq!(run(&mut r, "GET novar"), bulk("1"));
        assert_eq!(run(&mut r, "INCR novar"), int(2));
        run(&mut r, "SET novar 100");
        assert_eq!(run(&mut r, "INCR novar"), int(101));
        run(&mut r, "SET novar 17179869184");
        assert_eq!(run(&mut r, "INCR novar"), int(17_179_869_185));
        run(&mut r, "SET novar 17179869184");
        assert_eq!(run(&mut r, "INCRBY novar 17179869184"), int(34_359_738_368));
        run(&mut r, "SET novar 17179869184");
        assert_eq!(run(&mut r, "DECRBY novar 17179869185"), int(-1));
        assert_eq!(run(&mut r, "DECR novar"), int(-2));
        assert_eq!(encoding(&r, "novar"), "int");
        assert_eq!(r.server.dbs[0].entry(0).value, Value::Int(-2));
    }

    #[test]
    fn incr_errors() {
        let mut r = runner();
        for value in [
            "    11",
            "11    ",
            "    11    ",
            "abc",
            "1.5",
            "+1",
            "01",
            "",
        ] {
            r.run(["SET", "novar", value]);
            assert_eq!(run(&mut r, "INCR novar"), err(NOT_INT), "{value:?}");
        }
        run(&mut r, "SET x 0");
        assert_eq!(
            run(&mut r, "DECRBY x -9223372036854775808"),
            err("ERR decrement would overflow")
        );
        assert_eq!(run(&mut r, "INCRBY x abc"), err(NOT_INT));
        assert_eq!(run(&mut r, "INCRBY x 9223372036854775808"), err(NOT_INT));
        run(&mut r, "SET x 9223372036854775807");
        assert_eq!(
            run(&mut r, "INCR x"),
            err("ERR increment or decrement would overflow")
        );
        run(&mut r, "SET x -9223372036854775808");
        assert_eq!(
            run(&mut r, "DECR x"),
            err("ERR increment or decrement would overflow")
        );
        assert_eq!(run(&mut r, "GET x"), bulk("-9223372036854775808"));
    }

    #[test]
    fn incr_keeps_ttl_and_works_on_appended_strings() {
        let mut r = runner();
        run(&mut r, "SET n 1 EX 100");
        assert_eq!(run(&mut r, "INCR n"), int(2));
        assert_eq!(expire_at(&r, "n"), Some(NOW + 100_000));
        run(&mut r, "APPEND n 0");
        assert_eq!(encoding(&r, "n"), "raw");
        assert_eq!(run(&mut r, "INCRBY n 5"), int(25));
        assert_eq!(encoding(&r, "n"), "int");
    }

    #[test]
    fn incrbyfloat() {
        let mut r = runner();
        assert_eq!(run(&mut r, "INCRBYFLOAT novar 1"), bulk("1"));
        assert_eq!(run(&mut r, "GET novar"), bulk("1"));
        assert_eq!(run(&mut r, "INCRBYFLOAT novar 0.25"), bulk("1.25"));
        assert_eq!(run(&mut r, "GET novar"), bulk("1.25"));
        run(&mut r, "SET novar 1.5");
        assert_eq!(run(&mut r, "INCRBYFLOAT novar 1.5"), bulk("3"));
        // Never int-encoded, even when it reads as an integer.
        assert_eq!(encoding(&r, "novar"), "embstr");
        run(&mut r, "SET novar 17179869184");
        assert_eq!(run(&mut r, "INCRBYFLOAT novar 1.5"), bulk("17179869185.5"));
        run(&mut r, "SET novar 17179869184");
        assert_eq!(
            run(&mut r, "INCRBYFLOAT novar 17179869184"),
            bulk("34359738368")
        );
        run(&mut r, "SET novar 10.5");
        assert_eq!(run(&mut r, "INCRBYFLOAT novar 0.1"), bulk("10.6"));
        // Known divergence: Redis answers "-0.1" (long double, then %.17Lf); f64 shows its error.
        run(&mut r, "SET foo 1");
        assert_eq!(
            run(&mut r, "INCRBYFLOAT foo -1.1"),
            bulk("-0.10000000000000009")
        );
        run(&mut r, "SET foo 5.0e3");
        assert_eq!(run(&mut r, "INCRBYFLOAT foo 1"), bulk("5001"));
    }

    #[test]
    fn incrbyfloat_has_no_negative_zero_and_keeps_ttl() {
        let mut r = runner();
        let third = format!("{}", 1.0_f64 / 41.0);
        r.run(["INCRBYFLOAT", "foo", &third]);
        r.run(["INCRBYFLOAT", "foo", &format!("-{third}")]);
        assert_eq!(run(&mut r, "GET foo"), bulk("0"));
        run(&mut r, "SET z 0");
        assert_eq!(run(&mut r, "INCRBYFLOAT z -0.0"), bulk("0"));
        run(&mut r, "SET t 1 PX 5000");
        run(&mut r, "INCRBYFLOAT t 1");
        assert_eq!(expire_at(&r, "t"), Some(NOW + 5_000));
    }

    #[test]
    fn incrbyfloat_errors() {
        let mut r = runner();
        for value in ["    11", "11    ", " 11 ", "abc", "nan", ""] {
            r.run(["SET", "novar", value]);
            assert_eq!(
                run(&mut r, "INCRBYFLOAT novar 1.0"),
                err(NOT_FLOAT),
                "{value:?}"
            );
        }
        run(&mut r, "SET foo 0");
        assert_eq!(
            run(&mut r, "INCRBYFLOAT foo +inf"),
            err("ERR increment would produce NaN or Infinity")
        );
        // Known divergence: Redis's long double holds 2e308; our f64 overflows to infinity.
        run(&mut r, "SET foo 1e308");
        assert_eq!(
            run(&mut r, "INCRBYFLOAT foo 1e308"),
            err("ERR increment would produce NaN or Infinity")
        );
        assert_eq!(run(&mut r, "INCRBYFLOAT foo abc"), err(NOT_FLOAT));
        assert_eq!(run(&mut r, "INCRBYFLOAT foo nan"), err(NOT_FLOAT));
        // "string to double with null terminator"
        run(&mut r, "SET foo 1");
        run(&mut r, "SETRANGE foo 2 2");
        assert_eq!(run(&mut r, "INCRBYFLOAT foo 1"), err(NOT_FLOAT));
    }

    // --- GETRANGE / SETRANGE ----------------------------------------------------------------

    #[test]
    fn getrange() {
        let mut r = runner();
        assert_eq!(run(&mut r, "GETRANGE mykey 0 -1"), bulk(""));
        r.run(["SET", "mykey", "Hello World"]);
        for (start, end, expected) in [
            ("0", "3", "Hell"),
            ("0", "-1", "Hello World"),
            ("-4", "-1", "orld"),
            ("5", "3", ""),
            ("5", "5000", " World"),
            ("-5000", "10000", "Hello World"),
            ("-1", "-5", ""),
            ("0", "4294967297", "Hello World"),
            ("-9223372036854775808", "9223372036854775807", "Hello World"),
        ] {
            assert_eq!(r.run(["GETRANGE", "mykey", start, end]), bulk(expected));
        }
        run(&mut r, "SET mykey 1234");
        for (start, end, expected) in [
            ("0", "2", "123"),
            ("0", "-1", "1234"),
            ("-3", "-1", "234"),
            ("5", "3", ""),
            ("3", "5000", "4"),
            ("-5000", "10000", "1234"),
        ] {
            assert_eq!(r.run(["GETRANGE", "mykey", start, end]), bulk(expected));
        }
        assert_eq!(run(&mut r, "SUBSTR mykey 1 2"), bulk("23"));
        r.run(["SET", "empty", ""]);
        assert_eq!(run(&mut r, "GETRANGE empty 0 -1"), bulk(""));
        assert_eq!(run(&mut r, "GETRANGE mykey a 1"), err(NOT_INT));
        assert_eq!(run(&mut r, "GETRANGE missing 0 b"), err(NOT_INT));
    }

    #[test]
    fn getrange_fuzz_against_a_simple_model() {
        // Tcl's `string range` with non-negative indexes: clamp both ends to the string.
        let text: Vec<u8> = (0..200u8).map(|i| i.wrapping_mul(37)).collect();
        let mut r = runner();
        r.run([b"SET".as_slice(), b"bin", &text]);
        let mut seed = 12345u64;
        for _ in 0..500 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            let start = (seed >> 33) % 300;
            let end = (seed >> 13) % 300;
            let expected = if start > end || start >= 200 {
                &[][..]
            } else {
                &text[start as usize..=(end.min(199) as usize)]
            };
            let reply = r.run(["GETRANGE", "bin", &start.to_string(), &end.to_string()]);
            assert_eq!(reply, Frame::bulk(expected), "{start} {end}");
        }
    }

    #[test]
    fn setrange_on_missing_and_string_keys() {
        let mut r = runner();
        assert_eq!(run(&mut r, "SETRANGE mykey 0 foo"), int(3));
        assert_eq!(run(&mut r, "GET mykey"), bulk("foo"));
        assert_eq!(encoding(&r, "mykey"), "raw");
        assert_eq!(r.run(["SETRANGE", "new", "0", ""]), int(0));
        assert_eq!(r.run(["SETRANGE", "new", "999999999999", ""]), int(0));
        assert!(!exists(&r, "new"));
        assert_eq!(run(&mut r, "SETRANGE new 1 foo"), int(4));
        assert_eq!(run(&mut r, "GET new"), bulk("\0foo"));

        for (offset, patch, len, expected) in [
            ("0", "b", 3, "boo"),
            ("0", "", 3, "foo"),
            ("1", "b", 3, "fbo"),
            ("4", "bar", 7, "foo\0bar"),
        ] {
            run(&mut r, "SET mykey foo");
            assert_eq!(r.run(["SETRANGE", "mykey", offset, patch]), int(len));
            assert_eq!(run(&mut r, "GET mykey"), bulk(expected));
        }
        run(&mut r, "SET t v EX 100");
        run(&mut r, "SETRANGE t 3 x");
        assert_eq!(expire_at(&r, "t"), Some(NOW + 100_000));
    }

    #[test]
    fn setrange_on_integer_encoded_keys() {
        let mut r = runner();
        for (offset, patch, len, expected, enc) in [
            ("0", "2", 4, "2234", "raw"),
            ("0", "", 4, "1234", "int"),
            ("1", "3", 4, "1334", "raw"),
            ("5", "2", 6, "1234\x002", "raw"),
        ] {
            run(&mut r, "SET mykey 1234");
            assert_eq!(encoding(&r, "mykey"), "int");
            assert_eq!(r.run(["SETRANGE", "mykey", offset, patch]), int(len));
            assert_eq!(encoding(&r, "mykey"), enc);
            assert_eq!(run(&mut r, "GET mykey"), bulk(expected));
        }
    }

    #[test]
    fn setrange_errors() {
        let too_big = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
        let mut r = runner();
        assert_eq!(run(&mut r, "SETRANGE mykey 536870908 world"), err(too_big));
        run(&mut r, "SET mykey hello");
        assert_eq!(
            run(&mut r, "SETRANGE mykey -1 world"),
            err("ERR offset is out of range")
        );
        assert_eq!(run(&mut r, "SETRANGE mykey 536870908 world"), err(too_big));
        assert_eq!(run(&mut r, "SETRANGE mykey x world"), err(NOT_INT));
        for offset in ["9223372036854775807", "2147483647"] {
            assert_eq!(r.run(["SETRANGE", "K", offset, "A"]), err(too_big));
        }
        assert_eq!(run(&mut r, "GET mykey"), bulk("hello"));
        let mut small = small_bulk_len(10);
        assert_eq!(run(&mut small, "SETRANGE k 5 12345"), int(10));
        assert_eq!(run(&mut small, "SETRANGE k 6 12345"), err(too_big));
    }

    // --- GETDEL / GETEX ---------------------------------------------------------------------

    #[test]
    fn getdel() {
        let mut r = runner();
        run(&mut r, "SET foo bar");
        let dirty = r.server.dirty;
        assert_eq!(run(&mut r, "GETDEL foo"), bulk("bar"));
        assert_eq!(r.server.dirty, dirty + 1);
        assert_eq!(run(&mut r, "GETDEL foo"), Frame::Null);
        assert!(!exists(&r, "foo"));
    }

    #[test]
    fn getex_options() {
        let mut r = runner();
        run(&mut r, "SET foo bar");
        assert_eq!(run(&mut r, "GETEX foo ex 10"), bulk("bar"));
        assert_eq!(expire_at(&r, "foo"), Some(NOW + 10_000));
        assert_eq!(run(&mut r, "GETEX foo px 10000"), bulk("bar"));
        assert_eq!(expire_at(&r, "foo"), Some(NOW + 10_000));
        run(&mut r, "GETEX foo exat 2000");
        assert_eq!(expire_at(&r, "foo"), Some(2_000_000));
        run(&mut r, "GETEX foo PXAT 2000500");
        assert_eq!(expire_at(&r, "foo"), Some(2_000_500));
        assert_eq!(run(&mut r, "GETEX foo"), bulk("bar"));
        assert_eq!(expire_at(&r, "foo"), Some(2_000_500));
        let dirty = r.server.dirty;
        assert_eq!(run(&mut r, "GETEX foo persist"), bulk("bar"));
        assert_eq!(expire_at(&r, "foo"), None);
        assert_eq!(run(&mut r, "GETEX foo PERSIST PERSIST"), bulk("bar"));
        assert_eq!(r.server.dirty, dirty + 1);
        assert_eq!(run(&mut r, "GETEX missing EX 10"), Frame::Null);
    }

    #[test]
    fn getex_with_a_past_absolute_time_deletes_the_key() {
        let mut r = runner();
        run(&mut r, "SET foo bar EX 100");
        assert_eq!(run(&mut r, "GETEX foo EXAT 500"), bulk("bar"));
        assert!(!exists(&r, "foo"));
        run(&mut r, "SET foo bar");
        assert_eq!(run(&mut r, "GETEX foo PXAT 1000000"), bulk("bar"));
        assert!(!exists(&r, "foo"));
    }

    #[test]
    fn getex_errors() {
        let mut r = runner();
        run(&mut r, "SET foo bar");
        for line in [
            "GETEX foo non-existent-option",
            "GETEX foo EX",
            "GETEX foo PERSIST EX 10",
            "GETEX foo EX 10 PERSIST",
            "GETEX foo EX 10 PX 10",
            "GETEX foo KEEPTTL",
            "GETEX foo GET",
            "GETEX foo NX",
        ] {
            assert_eq!(run(&mut r, line), err(SYNTAX), "{line}");
        }
        assert_eq!(
            run(&mut r, "GETEX foo EX 10000000000000000"),
            err(INVALID_GETEX)
        );
        assert_eq!(
            run(&mut r, "GETEX foo EX -9999999999999999"),
            err(INVALID_GETEX)
        );
        assert_eq!(run(&mut r, "GETEX foo EX 0"), err(INVALID_GETEX));
        assert_eq!(run(&mut r, "GETEX foo EX abc"), err(NOT_INT));
        // A missing key answers nil before the expire time is looked at.
        assert_eq!(run(&mut r, "GETEX missing EX -5"), Frame::Null);
        assert_eq!(expire_at(&r, "foo"), None);
        assert_eq!(
            r.run(["GETEX"]),
            err("ERR wrong number of arguments for 'getex' command")
        );
    }

    // --- LCS --------------------------------------------------------------------------------

    const RNA1: &str = "CACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTTCGTCCGGGTGTG";
    const RNA2: &str = "ATTAAAGGTTTATACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT";
    const RNA_LCS: &str = "ACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT";

    fn range(a: (i64, i64), b: (i64, i64), len: Option<i64>) -> Frame {
        let mut item = vec![
            array(vec![int(a.0), int(a.1)]),
            array(vec![int(b.0), int(b.1)]),
        ];
        item.extend(len.map(int));
        array(item)
    }

    fn idx_reply(matches: Vec<Frame>, len: i64) -> Frame {
        Frame::Map(vec![
            (bulk("matches"), array(matches)),
            (bulk("len"), int(len)),
        ])
    }

    #[test]
    fn lcs_on_the_redis_test_strings() {
        let mut r = runner();
        r.run(["SET", "virus1", RNA1]);
        r.run(["SET", "virus2", RNA2]);
        assert_eq!(run(&mut r, "LCS virus1 virus2"), bulk(RNA_LCS));
        let len = i64::try_from(RNA_LCS.len()).unwrap();
        assert_eq!(run(&mut r, "LCS virus1 virus2 LEN"), int(len));
        let spans = [
            ((238, 238), (239, 239), 1),
            ((236, 236), (238, 238), 1),
            ((229, 230), (236, 237), 2),
            ((224, 224), (235, 235), 1),
            ((1, 222), (13, 234), 222),
        ];
        assert_eq!(
            run(&mut r, "LCS virus1 virus2 IDX"),
            idx_reply(
                spans.iter().map(|&(a, b, _)| range(a, b, None)).collect(),
                len
            )
        );
        assert_eq!(
            run(&mut r, "LCS virus1 virus2 IDX WITHMATCHLEN"),
            idx_reply(
                spans
                    .iter()
                    .map(|&(a, b, l)| range(a, b, Some(l)))
                    .collect(),
                len
            )
        );
        assert_eq!(
            run(&mut r, "LCS virus1 virus2 IDX WITHMATCHLEN MINMATCHLEN 5"),
            idx_reply(vec![range((1, 222), (13, 234), Some(222))], len)
        );
    }

    #[test]
    fn lcs_small_cases() {
        let mut r = runner();
        run(&mut r, "SET a ohmytext");
        run(&mut r, "SET b mynewtext");
        assert_eq!(run(&mut r, "LCS a b"), bulk("mytext"));
        assert_eq!(run(&mut r, "LCS a b len"), int(6));
        assert_eq!(
            run(&mut r, "LCS a b idx"),
            idx_reply(
                vec![range((4, 7), (5, 8), None), range((2, 3), (0, 1), None)],
                6
            )
        );
        assert_eq!(
            run(&mut r, "LCS a b idx minmatchlen 4 withmatchlen"),
            idx_reply(vec![range((4, 7), (5, 8), Some(4))], 6)
        );
        assert_eq!(run(&mut r, "LCS a b len len minmatchlen -5"), int(6));
        assert_eq!(run(&mut r, "LCS a missing"), bulk(""));
        assert_eq!(run(&mut r, "LCS x y idx"), idx_reply(vec![], 0));
        run(&mut r, "SET n 12345");
        run(&mut r, "SET m 2x4");
        assert_eq!(run(&mut r, "LCS n m"), bulk("24"));
    }

    #[test]
    fn lcs_errors() {
        let mut r = runner();
        run(&mut r, "SET a ohmytext");
        run(&mut r, "SET b mynewtext");
        assert_eq!(
            run(&mut r, "LCS a b len idx"),
            err("ERR If you want both the length and indexes, please just use IDX.")
        );
        assert_eq!(run(&mut r, "LCS a b len idx foo"), err(SYNTAX));
        assert_eq!(run(&mut r, "LCS a b minmatchlen"), err(SYNTAX));
        assert_eq!(run(&mut r, "LCS a b minmatchlen x"), err(NOT_INT));
        assert_eq!(run(&mut r, "LCS a b foo"), err(SYNTAX));
        let mut small = small_bulk_len(64);
        run(&mut small, "SET a ohmytext");
        run(&mut small, "SET b mynewtext");
        assert_eq!(
            run(&mut small, "LCS a b"),
            err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
        );
        assert_eq!(run(&mut small, "LCS a x"), bulk(""));
    }

    #[test]
    fn resp3_nulls_are_plain_nulls() {
        let mut r = runner();
        r.set_resp(oxidis_protocol::RespVersion::Resp3);
        assert_eq!(run(&mut r, "GET nothing"), Frame::Null);
        assert_eq!(run(&mut r, "SET k v XX"), Frame::Null);
    }
}
