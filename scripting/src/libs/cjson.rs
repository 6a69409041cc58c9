//! `cjson`: JSON encoding and decoding with lua-cjson 2.1's rules, as Redis bundles it.
//!
//! Encoding: tables whose keys are all positive integers are arrays (nil holes become `null`;
//! an excessively sparse one is an error), others objects with string or number keys; numbers
//! print as `%.14g`; `cjson.null` is `null`. Decoding gives Lua values, `null` as `cjson.null`.

use std::sync::Arc;

use mlua::{LightUserData, Lua, MultiValue, Table, Value};
use parking_lot::Mutex;

/// The settings the `encode_*`/`decode_*` functions change.
#[derive(Debug, Clone, Copy)]
struct Settings {
    encode_max_depth: usize,
    decode_max_depth: usize,
    encode_invalid_numbers: bool,
    decode_invalid_numbers: bool,
    sparse_convert: bool,
    sparse_ratio: usize,
    sparse_safe: usize,
    precision: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: false,
            decode_invalid_numbers: true,
            sparse_convert: false,
            sparse_ratio: 2,
            sparse_safe: 10,
            precision: 14,
        }
    }
}

fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

fn runtime(text: impl Into<String>) -> mlua::Error {
    mlua::Error::runtime(text.into())
}

/// The `cjson` table.
///
/// # Errors
/// Lua ran out of memory.
pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let settings = Arc::new(Mutex::new(Settings::default()));
    let t = lua.create_table()?;
    let s = Arc::clone(&settings);
    t.set(
        "encode",
        lua.create_function(move |lua, args: MultiValue| {
            if args.len() != 1 {
                return Err(runtime("bad argument #1 to 'encode' (expected 1 argument)"));
            }
            let settings = *s.lock();
            let mut out = Vec::new();
            let value = args.front().cloned().unwrap_or(Value::Nil);
            encode(&value, &settings, 0, &mut out)?;
            lua.create_string(out)
        })?,
    )?;
    let s = Arc::clone(&settings);
    t.set(
        "decode",
        lua.create_function(move |lua, args: MultiValue| {
            if args.len() != 1 {
                return Err(runtime("bad argument #1 to 'decode' (expected 1 argument)"));
            }
            let text = match args.front() {
                Some(Value::String(s)) => s.as_bytes().to_vec(),
                Some(Value::Integer(i)) => i.to_string().into_bytes(),
                Some(Value::Number(n)) => crate::call::lua_number_text(*n).into_bytes(),
                _ => {
                    return Err(runtime(
                        "bad argument #1 to 'decode' (string expected, got no value)",
                    ));
                }
            };
            let settings = *s.lock();
            let mut parser = Parser {
                lua,
                text: &text,
                pos: 0,
                settings,
            };
            parser.skip_ws();
            let value = parser.value(0)?;
            parser.skip_ws();
            if parser.pos < text.len() {
                return Err(parser.error("the end"));
            }
            Ok(value)
        })?,
    )?;
    t.set("null", null())?;
    t.set("_NAME", "cjson")?;
    t.set("_VERSION", "2.1.0")?;
    let s = Arc::clone(&settings);
    t.set(
        "encode_max_depth",
        lua.create_function(move |_, n: Option<i64>| {
            let mut st = s.lock();
            if let Some(n) = n {
                st.encode_max_depth = depth_arg(n)?;
            }
            Ok(st.encode_max_depth)
        })?,
    )?;
    let s = Arc::clone(&settings);
    t.set(
        "decode_max_depth",
        lua.create_function(move |_, n: Option<i64>| {
            let mut st = s.lock();
            if let Some(n) = n {
                st.decode_max_depth = depth_arg(n)?;
            }
            Ok(st.decode_max_depth)
        })?,
    )?;
    let s = Arc::clone(&settings);
    t.set(
        "encode_invalid_numbers",
        lua.create_function(move |_, v: Option<Value>| {
            let mut st = s.lock();
            if let Some(v) = v {
                st.encode_invalid_numbers = truthy(&v);
            }
            Ok(st.encode_invalid_numbers)
        })?,
    )?;
    let s = Arc::clone(&settings);
    t.set(
        "decode_invalid_numbers",
        lua.create_function(move |_, v: Option<Value>| {
            let mut st = s.lock();
            if let Some(v) = v {
                st.decode_invalid_numbers = truthy(&v);
            }
            Ok(st.decode_invalid_numbers)
        })?,
    )?;
    t.set(
        "encode_keep_buffer",
        lua.create_function(|_, v: Option<Value>| Ok(v.as_ref().is_none_or(truthy)))?,
    )?;
    let s = Arc::clone(&settings);
    t.set(
        "encode_number_precision",
        lua.create_function(move |_, n: Option<i64>| {
            let mut st = s.lock();
            if let Some(n) = n {
                if !(1..=14).contains(&n) {
                    return Err(runtime(
                        "bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)",
                    ));
                }
                st.precision = usize::try_from(n).unwrap_or(14);
            }
            Ok(st.precision)
        })?,
    )?;
    let s = Arc::clone(&settings);
    t.set(
        "encode_sparse_array",
        lua.create_function(
            move |_, (convert, ratio, safe): (Option<Value>, Option<i64>, Option<i64>)| {
                let mut st = s.lock();
                if let Some(c) = convert {
                    st.sparse_convert = truthy(&c);
                }
                if let Some(r) = ratio {
                    st.sparse_ratio = usize::try_from(r).unwrap_or(0);
                }
                if let Some(v) = safe {
                    st.sparse_safe = usize::try_from(v).unwrap_or(0);
                }
                Ok((st.sparse_convert, st.sparse_ratio, st.sparse_safe))
            },
        )?,
    )?;
    Ok(t)
}

fn truthy(v: &Value) -> bool {
    !matches!(v, Value::Nil | Value::Boolean(false))
        && !matches!(v, Value::String(s) if &*s.as_bytes() == b"off")
}

fn depth_arg(n: i64) -> mlua::Result<usize> {
    usize::try_from(n).ok().filter(|&d| d >= 1).ok_or_else(|| {
        runtime("bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)")
    })
}

fn encode(value: &Value, settings: &Settings, depth: usize, out: &mut Vec<u8>) -> mlua::Result<()> {
    match value {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Number(n) => encode_number(*n, settings, out)?,
        Value::String(s) => encode_string(&s.as_bytes(), out),
        Value::Table(t) => {
            let depth = depth + 1;
            if depth > settings.encode_max_depth {
                return Err(runtime(format!(
                    "Cannot serialise, excessive nesting ({depth})"
                )));
            }
            match array_length(t, settings)? {
                Some(len) => {
                    out.push(b'[');
                    for i in 1..=len {
                        if i > 1 {
                            out.push(b',');
                        }
                        let v: Value = t.raw_get(i)?;
                        encode(&v, settings, depth, out)?;
                    }
                    out.push(b']');
                }
                None => {
                    out.push(b'{');
                    let mut first = true;
                    for pair in t.pairs::<Value, Value>() {
                        let (k, v) = pair?;
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        match &k {
                            Value::String(s) => encode_string(&s.as_bytes(), out),
                            Value::Integer(i) => {
                                encode_string(i.to_string().as_bytes(), out);
                            }
                            Value::Number(n) => {
                                let mut text = Vec::new();
                                encode_number(*n, settings, &mut text)?;
                                encode_string(&text, out);
                            }
                            other => {
                                return Err(runtime(format!(
                                    "Cannot serialise {}: table key must be a number or string",
                                    other.type_name()
                                )));
                            }
                        }
                        out.push(b':');
                        encode(&v, settings, depth, out)?;
                    }
                    out.push(b'}');
                }
            }
        }
        other => {
            return Err(runtime(format!(
                "Cannot serialise {}: type not supported",
                other.type_name()
            )));
        }
    }
    Ok(())
}

fn encode_number(n: f64, settings: &Settings, out: &mut Vec<u8>) -> mlua::Result<()> {
    if n.is_nan() || n.is_infinite() {
        if !settings.encode_invalid_numbers {
            return Err(runtime("Cannot serialise number: must not be NaN or Inf"));
        }
        let text: &[u8] = if n.is_nan() {
            b"nan"
        } else if n > 0.0 {
            b"inf"
        } else {
            b"-inf"
        };
        out.extend_from_slice(text);
        return Ok(());
    }
    // lua-cjson prints with `%.14g`, which keeps the sign of -0.
    if n == 0.0 && n.is_sign_negative() {
        out.extend_from_slice(b"-0");
    } else {
        out.extend_from_slice(crate::call::lua_number_text(n).as_bytes());
    }
    Ok(())
}

fn encode_string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b if b < 0x20 || b == 0x7f => {
                out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
            }
            b => out.push(b),
        }
    }
    out.push(b'"');
}

/// `Some(n)` when the table is an array of length n, per lua-cjson's rules.
fn array_length(t: &Table, settings: &Settings) -> mlua::Result<Option<usize>> {
    let mut max = 0usize;
    let mut items = 0usize;
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        let index = match k {
            Value::Integer(i) => usize::try_from(i).ok().filter(|&i| i >= 1),
            Value::Number(n) if n.fract() == 0.0 && (1.0..1e15).contains(&n) => {
                usize::try_from(n as i64).ok()
            }
            _ => None,
        };
        let Some(index) = index else {
            return Ok(None);
        };
        max = max.max(index);
        items += 1;
    }
    if items == 0 {
        return Ok(None);
    }
    if settings.sparse_ratio > 0
        && max > items * settings.sparse_ratio
        && max > settings.sparse_safe
    {
        if !settings.sparse_convert {
            return Err(runtime("Cannot serialise table: excessively sparse array"));
        }
        return Ok(None);
    }
    Ok(Some(max))
}

struct Parser<'a> {
    lua: &'a Lua,
    text: &'a [u8],
    pos: usize,
    settings: Settings,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self
            .text
            .get(self.pos)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.pos += 1;
        }
    }

    fn error(&self, expected: &str) -> mlua::Error {
        // lua-cjson names the token its lexer read there.
        let rest = &self.text[self.pos.min(self.text.len())..];
        let found = match rest.first() {
            None => "T_END",
            Some(b'{') => "T_OBJ_BEGIN",
            Some(b'}') => "T_OBJ_END",
            Some(b'[') => "T_ARR_BEGIN",
            Some(b']') => "T_ARR_END",
            Some(b',') => "T_COMMA",
            Some(b':') => "T_COLON",
            Some(b'"') => "T_STRING",
            Some(b'-' | b'0'..=b'9') => "T_NUMBER",
            Some(_) if rest.starts_with(b"true") || rest.starts_with(b"false") => "T_BOOLEAN",
            Some(_) if rest.starts_with(b"null") => "T_NULL",
            Some(_) => "invalid token",
        };
        runtime(format!(
            "Expected {expected} but found {found} at character {}",
            self.pos + 1
        ))
    }

    fn value(&mut self, depth: usize) -> mlua::Result<Value> {
        match self.text.get(self.pos) {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => {
                let s = self.string("value")?;
                Ok(Value::String(self.lua.create_string(s)?))
            }
            Some(b't') if self.text[self.pos..].starts_with(b"true") => {
                self.pos += 4;
                Ok(Value::Boolean(true))
            }
            Some(b'f') if self.text[self.pos..].starts_with(b"false") => {
                self.pos += 5;
                Ok(Value::Boolean(false))
            }
            Some(b'n') if self.text[self.pos..].starts_with(b"null") => {
                self.pos += 4;
                Ok(null())
            }
            Some(b'-' | b'0'..=b'9' | b'.' | b'I' | b'N' | b'i' | b'n' | b'+') => self.number(),
            _ => Err(self.error("value")),
        }
    }

    fn nesting(&self, depth: usize) -> mlua::Result<()> {
        if depth > self.settings.decode_max_depth {
            return Err(runtime(format!(
                "Found too many nested data structures ({depth}) at character {}",
                self.pos + 1
            )));
        }
        Ok(())
    }

    fn object(&mut self, depth: usize) -> mlua::Result<Value> {
        self.nesting(depth)?;
        self.pos += 1;
        let t = self.lua.create_table()?;
        self.skip_ws();
        if self.text.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Value::Table(t));
        }
        loop {
            self.skip_ws();
            if self.text.get(self.pos) != Some(&b'"') {
                return Err(self.error("object key string"));
            }
            let key = self.string("object key string")?;
            self.skip_ws();
            if self.text.get(self.pos) != Some(&b':') {
                return Err(self.error("colon"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth)?;
            t.raw_set(self.lua.create_string(key)?, value)?;
            self.skip_ws();
            match self.text.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Table(t));
                }
                _ => return Err(self.error("comma or object end")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> mlua::Result<Value> {
        self.nesting(depth)?;
        self.pos += 1;
        let t = self.lua.create_table()?;
        self.skip_ws();
        if self.text.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Value::Table(t));
        }
        let mut i = 1;
        loop {
            self.skip_ws();
            let value = self.value(depth)?;
            t.raw_set(i, value)?;
            i += 1;
            self.skip_ws();
            match self.text.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Table(t));
                }
                _ => return Err(self.error("comma or array end")),
            }
        }
    }

    fn string(&mut self, expected: &str) -> mlua::Result<Vec<u8>> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(&b) = self.text.get(self.pos) else {
                let _ = start;
                return Err(runtime(format!(
                    "Expected {expected} but found unexpected end of string at character {}",
                    self.text.len() + 1
                )));
            };
            self.pos += 1;
            match b {
                b'"' => return Ok(out),
                b'\\' => {
                    let Some(&e) = self.text.get(self.pos) else {
                        return Err(self.error("escape"));
                    };
                    self.pos += 1;
                    match e {
                        b'"' => out.push(b'"'),
                        b'\\' => out.push(b'\\'),
                        b'/' => out.push(b'/'),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let code = self.hex4()?;
                            let code = if (0xd800..0xdc00).contains(&code)
                                && self.text[self.pos..].starts_with(b"\\u")
                            {
                                self.pos += 2;
                                let low = self.hex4()?;
                                0x10000
                                    + ((code - 0xd800) << 10)
                                    + (low.wrapping_sub(0xdc00) & 0x3ff)
                            } else {
                                code
                            };
                            let c = char::from_u32(code).unwrap_or('\u{fffd}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return Err(self.error("valid escape")),
                    }
                }
                b => out.push(b),
            }
        }
    }

    fn hex4(&mut self) -> mlua::Result<u32> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.error("unicode escape"))?;
        let text = std::str::from_utf8(digits).map_err(|_| self.error("unicode escape"))?;
        let code = u32::from_str_radix(text, 16).map_err(|_| self.error("unicode escape"))?;
        self.pos += 4;
        Ok(code)
    }

    fn number(&mut self) -> mlua::Result<Value> {
        let start = self.pos;
        while self
            .text
            .get(self.pos)
            .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.'))
        {
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.text[start..self.pos]).unwrap_or("");
        let lower = text.to_ascii_lowercase();
        let parsed = if lower.starts_with("0x") || lower.starts_with("-0x") {
            None
        } else if matches!(
            lower.trim_start_matches(['-', '+']),
            "inf" | "infinity" | "nan"
        ) {
            if self.settings.decode_invalid_numbers {
                lower.parse::<f64>().ok()
            } else {
                None
            }
        } else {
            text.parse::<f64>().ok()
        };
        match parsed {
            Some(n) => Ok(Value::Number(n)),
            None => {
                self.pos = start;
                Err(self.error("value"))
            }
        }
    }
}
