//! The SET core: the options SET and GETEX parse, the write conditions (NX/XX), expire times,
//! and the one function every SET-like command stores through.

use crate::events::class;
use oxidis_protocol::Frame;

use super::string_reply;
use crate::command::{Args, CommandResult, parse_i64};
use crate::context::CommandContext;
use crate::db::Ttl;
use crate::errors::CommandError;
use crate::types::Value;

/// When a SET-like command may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Condition {
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
pub(super) enum ExpireKind {
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
    pub(super) fn from_token(token: &[u8]) -> Option<ExpireKind> {
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

    pub(super) fn is_absolute(self) -> bool {
        matches!(self, ExpireKind::ExAt | ExpireKind::PxAt)
    }

    pub(super) fn is_seconds(self) -> bool {
        matches!(self, ExpireKind::Ex | ExpireKind::ExAt)
    }
}

/// An expire time as given; its number is read only after every option parsed, as in Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ExpireArg<'a> {
    pub(super) kind: ExpireKind,
    pub(super) raw: &'a [u8],
}

/// What a command does to the key's time to live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Expiry<'a> {
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
pub(super) struct SetOptions<'a> {
    pub(super) condition: Condition,
    /// GET: reply the old value instead of OK.
    pub(super) return_old: bool,
    pub(super) expiry: Expiry<'a>,
}

/// Which command's options are being parsed: each accepts a different subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OptionsOf {
    Set,
    GetEx,
}

/// What [`set_string`] did.
pub(super) struct SetOutcome {
    /// Whether the value was stored (false when NX/XX vetoed it).
    pub(super) written: bool,
    /// With GET: the old value's reply (nil when there was none).
    pub(super) old: Option<Frame>,
}

/// Parses SET's (or GETEX's) options. Any option may repeat; conflicting ones (NX with XX, two
/// different expiry forms, KEEPTTL or PERSIST with an expiry) and an expiry missing its value
/// are all `ERR syntax error`, as Redis answers them.
pub(super) fn parse_set_options<'a>(
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
pub(super) fn set_string(
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
        ctx.notify(class::STRING, "set", key);
        // Any expiry propagates as an absolute one, so the AOF and replicas agree.
        if let Ttl::At(ms) = ttl {
            ctx.notify(class::GENERIC, "expire", key);
            ctx.rewrite_propagation(propagation_argv(&[
                b"SET",
                key,
                value,
                b"PXAT",
                ms.to_string().as_bytes(),
            ]));
        }
    }
    Ok(SetOutcome {
        written: allowed,
        old,
    })
}

/// SETEX and PSETEX: `key ttl value`, always written.
pub(super) fn set_with_relative_expiry(
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
pub(super) fn expire_at_ms(
    ctx: &CommandContext<'_>,
    arg: ExpireArg<'_>,
) -> Result<u64, CommandError> {
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
pub(super) fn set_pairs(
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
        ctx.notify(class::STRING, "set", &pair[0]);
    }
    Ok(match condition {
        Condition::IfAbsent => Frame::Integer(1),
        Condition::Always | Condition::IfPresent => Frame::ok(),
    })
}

/// An argument vector to propagate.
pub(super) fn propagation_argv(parts: &[&[u8]]) -> Vec<bytes::Bytes> {
    parts
        .iter()
        .map(|p| bytes::Bytes::copy_from_slice(p))
        .collect()
}
