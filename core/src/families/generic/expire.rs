//! The EXPIRE and TTL groups' cores: one function sets an expiry (EXPIRE, PEXPIRE, EXPIREAT,
//! PEXPIREAT) and one reads it (TTL, PTTL, EXPIRETIME, PEXPIRETIME), with the NX/XX/GT/LT
//! conditions.

use crate::events::class;
use bytes::Bytes;
use oxidis_protocol::Frame;

use crate::command::{Args, CommandResult, parse_i64};
use crate::context::CommandContext;
use crate::errors::CommandError;
use crate::errors::generic::{EXPIRE_GT_LT_CONFLICT, EXPIRE_NX_CONFLICT, unsupported_option};

/// Where an expire time is counted from: now (EXPIRE, TTL) or the Unix epoch (EXPIREAT,
/// EXPIRETIME).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TimeBase {
    Now,
    Epoch,
}

/// The unit of an expire time a client sends or reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TimeUnit {
    Seconds,
    Milliseconds,
}

/// EXPIRE's NX / XX / GT / LT conditions (XX combines with GT or LT).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ExpireCondition {
    pub(super) if_no_expiry: bool,
    pub(super) if_has_expiry: bool,
    pub(super) if_later: bool,
    pub(super) if_earlier: bool,
}

impl ExpireCondition {
    /// Whether the new expiry `when` may replace `current` (`None`: no expiry, which GT and
    /// LT treat as infinitely far away).
    pub(super) fn allows(self, current: Option<i64>, when: i64) -> bool {
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

/// Reads an EXPIRE-family condition list; every option must be NX, XX, GT or LT.
pub(super) fn parse_expire_condition(options: &[Bytes]) -> Result<ExpireCondition, CommandError> {
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
pub(super) fn set_expiry(
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
    let Some(pos) = ctx.lookup_write(key) else {
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
    // Propagated as PEXPIREAT with the absolute time (options kept), or as the deletion.
    let mut propagate: Vec<Bytes> = args.argv().to_vec();
    match u64::try_from(when) {
        // While loading, a past time is kept as it is (the key expires once loaded).
        Ok(at) if at > now || ctx.server.loading => {
            ctx.db().set_expire_at(pos, Some(at));
            ctx.notify(class::GENERIC, "expire", key);
            propagate[0] = Bytes::from_static(b"PEXPIREAT");
            propagate[2] = Bytes::from(at.to_string());
        }
        _ => {
            ctx.db().remove_at(pos);
            ctx.notify(class::GENERIC, "del", key);
            let del: &'static [u8] = if ctx.config().lazyfree_lazy_expire {
                b"UNLINK"
            } else {
                b"DEL"
            };
            propagate = vec![Bytes::from_static(del), Bytes::copy_from_slice(key)];
        }
    }
    ctx.rewrite_propagation(propagate);
    ctx.changed(1);
    Ok(Frame::Integer(1))
}

/// The one place TTL, PTTL, EXPIRETIME and PEXPIRETIME read an expiry: -2 for a missing key,
/// -1 for a key without expiry. Seconds are rounded to the nearest, as Redis does.
pub(super) fn report_expiry(
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
