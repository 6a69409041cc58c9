//! `bit`: LuaBitOp's operations on 32-bit integers. Numbers are normalized as LuaBitOp does:
//! rounded to the nearest integer (ties to even) and wrapped modulo 2^32 into a signed value.

use mlua::{Lua, MultiValue, Table, Value};

/// LuaBitOp's normalization of a Lua number to a signed 32-bit integer.
fn tobit(n: f64) -> i32 {
    // Adding 2^52 + 2^51 leaves the rounded integer in the low mantissa bits.
    let bits = (n + 6_755_399_441_055_744.0).to_bits();
    (bits & 0xffff_ffff) as u32 as i32
}

fn arg(lua: &Lua, value: &Value, position: usize, name: &str) -> mlua::Result<i32> {
    match value {
        Value::Integer(i) => Ok(tobit(*i as f64)),
        Value::Number(n) => Ok(tobit(*n)),
        Value::String(s) => match std::str::from_utf8(&s.as_bytes())
            .ok()
            .and_then(|t| t.trim().parse::<f64>().ok())
        {
            Some(n) => Ok(tobit(n)),
            None => Err(bad_arg(lua, position, name, value)),
        },
        _ => Err(bad_arg(lua, position, name, value)),
    }
}

fn bad_arg(_lua: &Lua, position: usize, name: &str, value: &Value) -> mlua::Error {
    let got = if value.is_nil() {
        "no value"
    } else {
        value.type_name()
    };
    mlua::Error::runtime(format!(
        "bad argument #{position} to '{name}' (number expected, got {got})"
    ))
}

fn num(i: i32) -> Value {
    Value::Number(f64::from(i))
}

fn fold(
    lua: &Lua,
    name: &'static str,
    args: MultiValue,
    op: fn(i32, i32) -> i32,
) -> mlua::Result<Value> {
    let values: Vec<Value> = args.into_iter().collect();
    let first = values.first().cloned().unwrap_or(Value::Nil);
    let mut acc = arg(lua, &first, 1, name)?;
    for (i, v) in values.iter().enumerate().skip(1) {
        acc = op(acc, arg(lua, v, i + 1, name)?);
    }
    Ok(num(acc))
}

fn two(lua: &Lua, name: &str, args: &MultiValue) -> mlua::Result<(i32, u32)> {
    let a = args.front().cloned().unwrap_or(Value::Nil);
    let b = args.get(1).cloned().unwrap_or(Value::Nil);
    let x = arg(lua, &a, 1, name)?;
    let n = arg(lua, &b, 2, name)? as u32 & 31;
    Ok((x, n))
}

/// The `bit` table.
///
/// # Errors
/// Lua ran out of memory.
pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "tobit",
        lua.create_function(|lua, args: MultiValue| {
            let v = args.front().cloned().unwrap_or(Value::Nil);
            Ok(num(arg(lua, &v, 1, "tobit")?))
        })?,
    )?;
    t.set(
        "bnot",
        lua.create_function(|lua, args: MultiValue| {
            let v = args.front().cloned().unwrap_or(Value::Nil);
            Ok(num(!arg(lua, &v, 1, "bnot")?))
        })?,
    )?;
    t.set(
        "band",
        lua.create_function(|lua, a: MultiValue| fold(lua, "band", a, |x, y| x & y))?,
    )?;
    t.set(
        "bor",
        lua.create_function(|lua, a: MultiValue| fold(lua, "bor", a, |x, y| x | y))?,
    )?;
    t.set(
        "bxor",
        lua.create_function(|lua, a: MultiValue| fold(lua, "bxor", a, |x, y| x ^ y))?,
    )?;
    t.set(
        "lshift",
        lua.create_function(|lua, a: MultiValue| {
            let (x, n) = two(lua, "lshift", &a)?;
            Ok(num(((x as u32) << n) as i32))
        })?,
    )?;
    t.set(
        "rshift",
        lua.create_function(|lua, a: MultiValue| {
            let (x, n) = two(lua, "rshift", &a)?;
            Ok(num(((x as u32) >> n) as i32))
        })?,
    )?;
    t.set(
        "arshift",
        lua.create_function(|lua, a: MultiValue| {
            let (x, n) = two(lua, "arshift", &a)?;
            Ok(num(x >> n))
        })?,
    )?;
    t.set(
        "rol",
        lua.create_function(|lua, a: MultiValue| {
            let (x, n) = two(lua, "rol", &a)?;
            Ok(num((x as u32).rotate_left(n) as i32))
        })?,
    )?;
    t.set(
        "ror",
        lua.create_function(|lua, a: MultiValue| {
            let (x, n) = two(lua, "ror", &a)?;
            Ok(num((x as u32).rotate_right(n) as i32))
        })?,
    )?;
    t.set(
        "bswap",
        lua.create_function(|lua, args: MultiValue| {
            let v = args.front().cloned().unwrap_or(Value::Nil);
            Ok(num(arg(lua, &v, 1, "bswap")?.swap_bytes()))
        })?,
    )?;
    t.set(
        "tohex",
        lua.create_function(|lua, args: MultiValue| {
            let v = args.front().cloned().unwrap_or(Value::Nil);
            let x = arg(lua, &v, 1, "tohex")? as u32;
            let mut n: i32 = match args.get(1) {
                None | Some(Value::Nil) => 8,
                Some(v) => arg(lua, v, 2, "tohex")?,
            };
            let upper = n < 0;
            if upper {
                n = n.saturating_neg();
            }
            let n = n.clamp(0, 8) as u32;
            let text = if upper {
                format!("{x:08X}")
            } else {
                format!("{x:08x}")
            };
            let start = usize::try_from(8 - n).unwrap_or(0);
            lua.create_string(&text[start..])
        })?,
    )?;
    Ok(t)
}
