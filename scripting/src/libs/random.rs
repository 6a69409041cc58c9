//! `math.random` and `math.randomseed` as Redis 7.0 replaces them: Lua's own algorithm over a
//! portable `lrand48` instead of the C library's `rand()`, so a seed gives the same sequence on
//! every platform.
//!
//! Redis 7.0 keeps one generator for the whole process, never reseeded between scripts (the
//! per-script `srand48(0)` of Redis 6 is gone: "random numbers are random now"), shared by the
//! EVAL and function VMs; `math.randomseed` reseeds it for everything that follows. A fresh
//! server starts from `lrand48`'s standard state, as Redis's does.

use std::sync::atomic::{AtomicU64, Ordering};

use mlua::{Lua, MultiValue, Table, Value};

/// `lrand48`'s multiplier and increment (POSIX).
const MULTIPLIER: u64 = 0x5_deec_e66d;
const INCREMENT: u64 = 0xb;
const MASK_48: u64 = (1 << 48) - 1;
/// The state before any seed: `srand48`'s fixed low word 0x330e under 0x1234abcd.
const INITIAL: u64 = 0x1234_abcd_330e;
/// Redis's `REDIS_LRAND48_MAX` (`INT32_MAX`).
const LRAND48_MAX: i64 = i32::MAX as i64;

/// The process's generator state (48 bits).
static STATE: AtomicU64 = AtomicU64::new(INITIAL);

/// The next number of the sequence, in `[0, 2^31)`.
fn lrand48() -> i64 {
    let step = |x: u64| (x.wrapping_mul(MULTIPLIER).wrapping_add(INCREMENT)) & MASK_48;
    let previous = STATE
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |x| Some(step(x)))
        .unwrap_or(INITIAL);
    i64::try_from(step(previous) >> 17).unwrap_or(0)
}

/// `srand48(seed)`: the seed's 32 bits above the fixed low word.
fn srand48(seed: i32) {
    let seed = u64::from(u32::from_ne_bytes(seed.to_ne_bytes()));
    STATE.store((seed << 16) | 0x330e, Ordering::Relaxed);
}

/// Replaces `math.random` and `math.randomseed` in `math` (before the table is made read-only).
///
/// # Errors
/// Lua ran out of memory.
pub fn install(lua: &Lua, math: &Table, in_script: fn(&Lua) -> bool) -> mlua::Result<()> {
    math.set(
        "random",
        lua.create_function(move |lua, args: MultiValue| {
            if !in_script(lua) {
                return Err(mlua::Error::runtime(
                    "math.random can only be called inside a script invocation",
                ));
            }
            random(lua, &args)
        })?,
    )?;
    math.set(
        "randomseed",
        lua.create_function(move |lua, args: MultiValue| {
            if !in_script(lua) {
                return Err(mlua::Error::runtime(
                    "math.randomseed can only be called inside a script invocation",
                ));
            }
            srand48(check_int(lua, args.front(), 1, "randomseed")?);
            Ok(())
        })?,
    )?;
    Ok(())
}

/// Lua 5.1's `math_random` over `lrand48`.
fn random(lua: &Lua, args: &MultiValue) -> mlua::Result<f64> {
    #[allow(clippy::cast_precision_loss)] // both below 2^31: exact
    let r = (lrand48() % LRAND48_MAX) as f64 / LRAND48_MAX as f64;
    match args.len() {
        0 => Ok(r),
        1 => {
            let upper = check_int(lua, args.front(), 1, "random")?;
            if upper < 1 {
                return Err(arg_error(1, "random", "interval is empty"));
            }
            Ok((r * f64::from(upper)).floor() + 1.0)
        }
        2 => {
            let lower = check_int(lua, args.front(), 1, "random")?;
            let upper = check_int(lua, args.get(1), 2, "random")?;
            if lower > upper {
                return Err(arg_error(2, "random", "interval is empty"));
            }
            let width = f64::from(upper) - f64::from(lower) + 1.0;
            Ok((r * width).floor() + f64::from(lower))
        }
        _ => Err(mlua::Error::runtime("wrong number of arguments")),
    }
}

/// Lua's `luaL_checkint`: a number, or a string that reads as one, truncated to a C `int`.
fn check_int(lua: &Lua, value: Option<&Value>, position: usize, name: &str) -> mlua::Result<i32> {
    let value = value.cloned().unwrap_or(Value::Nil);
    let number = match &value {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        Value::String(_) => lua.coerce_number(value.clone())?,
        _ => None,
    };
    let Some(number) = number else {
        let got = if value.is_nil() {
            "no value"
        } else {
            value.type_name()
        };
        return Err(arg_error(
            position,
            name,
            &format!("number expected, got {got}"),
        ));
    };
    // C's (int)(ptrdiff_t)d: truncation toward zero, then the low 32 bits.
    #[allow(clippy::cast_possible_truncation)]
    let wide = number as i64;
    Ok(i32::from_ne_bytes(
        u32::try_from(wide & 0xffff_ffff).unwrap_or(0).to_ne_bytes(),
    ))
}

fn arg_error(position: usize, name: &str, text: &str) -> mlua::Error {
    mlua::Error::runtime(format!("bad argument #{position} to '{name}' ({text})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lrand48_follows_posix_sequence() {
        // srand48(0) then lrand48() is 366850414 with glibc's drand48 family.
        srand48(0);
        assert_eq!(lrand48(), 366_850_414);
    }
}
