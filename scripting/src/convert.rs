//! Conversions between replies and Lua values, as Redis documents them.
//!
//! Reply → Lua (what `redis.call` returns), by the script's protocol (`redis.setresp`):
//! integer → number, bulk → string, nil bulk/array → `false` (RESP2) or `nil` (RESP3), status →
//! `{ok=...}`, error → `{err=...}`, array → table; RESP3 only: map → `{map={...}}`, set →
//! `{set={...}}`, double → `{double=n}`, big number → `{big_number="..."}`, verbatim →
//! `{verbatim_string={format=..., string=...}}`, boolean → boolean. Under RESP2 these take
//! their RESP2 shapes (flat arrays, bulk strings, 1/0).
//!
//! Lua → reply (what a script returns): number → integer (truncated), string → bulk, boolean →
//! 1/nil (RESP2 script) or boolean (RESP3), tables by their `err`, `ok`, `double`,
//! `big_number`, `verbatim_string`, `map`, `set` fields, else an array up to the first nil.

use mlua::{Lua, Table, Value};
use oxidis_protocol::{Frame, RespVersion};

/// Deeper nesting than this is answered with an error instead of exhausting the stack.
const MAX_DEPTH: usize = 200;

/// A reply as `redis.call` returns it to a script using `resp`.
///
/// # Errors
/// Lua ran out of memory.
pub fn frame_to_lua(lua: &Lua, frame: &Frame, resp: RespVersion) -> mlua::Result<Value> {
    let resp3 = resp == RespVersion::Resp3;
    Ok(match frame {
        // Text (`+OK`) goes into the table straight, without a string handle.
        Frame::Simple(s) => match std::str::from_utf8(s) {
            Ok(text) => Value::Table(lua.create_table_from([("ok", text)])?),
            Err(_) => {
                let t = lua.create_table()?;
                t.raw_set("ok", lua.create_string(s)?)?;
                Value::Table(t)
            }
        },
        Frame::Error(s) | Frame::BlobError(s) => {
            // The command's error reply was counted when it was sent to the script.
            let t = lua.create_table()?;
            t.raw_set("err", lua.create_string(s)?)?;
            t.raw_set(crate::call::COUNTED, true)?;
            Value::Table(t)
        }
        Frame::Integer(i) => Value::Number(*i as f64),
        Frame::Bulk(b) => Value::String(lua.create_string(b)?),
        Frame::Null | Frame::NullArray => {
            if resp3 {
                Value::Nil
            } else {
                Value::Boolean(false)
            }
        }
        Frame::Array(items) | Frame::Push(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, frame_to_lua(lua, item, resp)?)?;
            }
            Value::Table(t)
        }
        Frame::BulkArray(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, lua.create_string(item)?)?;
            }
            Value::Table(t)
        }
        Frame::Set(items) => {
            if resp3 {
                let inner = lua.create_table()?;
                for item in items {
                    inner.raw_set(frame_to_lua(lua, item, resp)?, true)?;
                }
                let t = lua.create_table()?;
                t.raw_set("set", inner)?;
                Value::Table(t)
            } else {
                let t = lua.create_table_with_capacity(items.len(), 0)?;
                for (i, item) in items.iter().enumerate() {
                    t.raw_set(i + 1, frame_to_lua(lua, item, resp)?)?;
                }
                Value::Table(t)
            }
        }
        Frame::Map(pairs) | Frame::Attribute(pairs) => {
            if resp3 {
                let inner = lua.create_table()?;
                for (k, v) in pairs {
                    inner.raw_set(frame_to_lua(lua, k, resp)?, frame_to_lua(lua, v, resp)?)?;
                }
                let t = lua.create_table()?;
                t.raw_set("map", inner)?;
                Value::Table(t)
            } else {
                let t = lua.create_table_with_capacity(pairs.len() * 2, 0)?;
                let mut i = 1;
                for (k, v) in pairs {
                    t.raw_set(i, frame_to_lua(lua, k, resp)?)?;
                    t.raw_set(i + 1, frame_to_lua(lua, v, resp)?)?;
                    i += 2;
                }
                Value::Table(t)
            }
        }
        Frame::Double(d) => {
            if resp3 {
                let t = lua.create_table()?;
                t.raw_set("double", *d)?;
                Value::Table(t)
            } else {
                let mut text = Vec::new();
                oxidis_protocol::format_double(*d, &mut text);
                Value::String(lua.create_string(text)?)
            }
        }
        Frame::Boolean(b) => {
            if resp3 {
                Value::Boolean(*b)
            } else {
                Value::Number(if *b { 1.0 } else { 0.0 })
            }
        }
        Frame::BigNumber(n) => {
            if resp3 {
                let t = lua.create_table()?;
                t.raw_set("big_number", lua.create_string(n)?)?;
                Value::Table(t)
            } else {
                Value::String(lua.create_string(n)?)
            }
        }
        Frame::Verbatim { format, text } => {
            if resp3 {
                let inner = lua.create_table()?;
                inner.raw_set("format", lua.create_string(format)?)?;
                inner.raw_set("string", lua.create_string(text)?)?;
                let t = lua.create_table()?;
                t.raw_set("verbatim_string", inner)?;
                Value::Table(t)
            } else {
                Value::String(lua.create_string(text)?)
            }
        }
        Frame::Raw(raw) => Value::String(lua.create_string(raw)?),
        Frame::Sequence(frames) => match frames.last() {
            Some(last) => frame_to_lua(lua, last, resp)?,
            None => Value::Nil,
        },
    })
}

/// The reply for a script's return value. `script_resp` is the script's protocol (booleans),
/// `caller_resp` the caller's (not needed for shapes: the encoder adapts them).
pub fn lua_to_frame(value: &Value, script_resp: RespVersion, caller_resp: RespVersion) -> Frame {
    let _ = caller_resp;
    to_frame(value, script_resp, 0)
}

fn to_frame(value: &Value, resp: RespVersion, depth: usize) -> Frame {
    if depth > MAX_DEPTH {
        return Frame::error("ERR reached lua stack limit");
    }
    match value {
        Value::String(s) => Frame::Bulk(bytes::Bytes::copy_from_slice(&s.as_bytes())),
        Value::Boolean(b) => {
            if resp == RespVersion::Resp3 {
                Frame::Boolean(*b)
            } else if *b {
                Frame::Integer(1)
            } else {
                Frame::Null
            }
        }
        Value::Integer(i) => Frame::Integer(*i),
        Value::Number(n) => Frame::Integer(truncate(*n)),
        Value::Table(t) => table_to_frame(t, resp, depth),
        _ => Frame::Null,
    }
}

/// C's `(long long)` cast of a double as x86-64 performs it: truncation, and the "integer
/// indefinite" value `i64::MIN` for NaN and anything out of range (Redis returns `1e20` as
/// -9223372036854775808).
fn truncate(n: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if n.is_nan() || !(-LIMIT..LIMIT).contains(&n) {
        return i64::MIN;
    }
    n as i64
}

fn table_to_frame(t: &Table, resp: RespVersion, depth: usize) -> Frame {
    if let Ok(Value::String(err)) = t.raw_get::<Value>("err") {
        let text = String::from_utf8_lossy(&err.as_bytes()).replace(['\r', '\n'], " ");
        return Frame::error(text);
    }
    if let Ok(Value::String(ok)) = t.raw_get::<Value>("ok") {
        let text = String::from_utf8_lossy(&ok.as_bytes()).replace(['\r', '\n'], " ");
        return Frame::Simple(bytes::Bytes::from(text));
    }
    match t.raw_get::<Value>("double") {
        Ok(Value::Number(n)) => return Frame::Double(n),
        Ok(Value::Integer(n)) => return Frame::Double(n as f64),
        _ => {}
    }
    if let Ok(Value::String(n)) = t.raw_get::<Value>("big_number") {
        let text = String::from_utf8_lossy(&n.as_bytes()).replace(['\r', '\n'], " ");
        return Frame::BigNumber(bytes::Bytes::from(text));
    }
    if let Ok(Value::Table(v)) = t.raw_get::<Value>("verbatim_string")
        && let (Ok(Value::String(format)), Ok(Value::String(text))) =
            (v.raw_get::<Value>("format"), v.raw_get::<Value>("string"))
    {
        let f = format.as_bytes();
        let mut fmt = *b"txt";
        for (i, b) in f.iter().take(3).enumerate() {
            fmt[i] = *b;
        }
        return Frame::Verbatim {
            format: fmt,
            text: bytes::Bytes::copy_from_slice(&text.as_bytes()),
        };
    }
    if let Ok(Value::Table(map)) = t.raw_get::<Value>("map") {
        let mut pairs = Vec::new();
        for (k, v) in map.pairs::<Value, Value>().flatten() {
            pairs.push((to_frame(&k, resp, depth + 1), to_frame(&v, resp, depth + 1)));
        }
        return Frame::Map(pairs);
    }
    if let Ok(Value::Table(set)) = t.raw_get::<Value>("set") {
        let mut items = Vec::new();
        for (k, _) in set.pairs::<Value, Value>().flatten() {
            items.push(to_frame(&k, resp, depth + 1));
        }
        return Frame::Set(items);
    }
    let mut items = Vec::new();
    let mut i = 1;
    loop {
        match t.raw_get::<Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(to_frame(&v, resp, depth + 1)),
        }
        i += 1;
    }
    Frame::Array(items)
}
