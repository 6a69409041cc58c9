//! `cmsgpack`: MessagePack with lua-cmsgpack's rules, as Redis bundles it: `pack(...)` packs
//! each argument, `unpack(s)` returns every object, `unpack_one(s, offset)` and
//! `unpack_limit(s, limit, offset)` return the next offset (-1 at the end) then the objects.
//! Integral numbers pack as the smallest integer type, others as float when exact, else double;
//! tables nested deeper than 16 pack as nil.

use mlua::{Lua, MultiValue, Table, Value};

/// lua-cmsgpack's nesting limit.
const MAX_NESTING: usize = 16;

fn runtime(text: impl Into<String>) -> mlua::Error {
    mlua::Error::runtime(text.into())
}

/// The `cmsgpack` table.
///
/// # Errors
/// Lua ran out of memory.
pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "pack",
        lua.create_function(|lua, args: MultiValue| {
            if args.is_empty() {
                return Err(runtime(
                    "bad argument #0 to 'pack' (MessagePack pack needs input.)",
                ));
            }
            let mut out = Vec::new();
            for value in &args {
                pack(value, 0, &mut out)?;
            }
            lua.create_string(out)
        })?,
    )?;
    t.set(
        "unpack",
        lua.create_function(|lua, s: mlua::LuaString| {
            let data = s.as_bytes().to_vec();
            let (_, values) = unpack(lua, &data, 0, 0)?;
            Ok(MultiValue::from_vec(values))
        })?,
    )?;
    t.set(
        "unpack_one",
        lua.create_function(|lua, (s, offset): (mlua::LuaString, Option<i64>)| {
            let data = s.as_bytes().to_vec();
            let offset = offset_arg(offset, data.len())?;
            let (next, mut values) = unpack(lua, &data, 1, offset)?;
            values.insert(0, Value::Integer(next));
            Ok(MultiValue::from_vec(values))
        })?,
    )?;
    t.set(
        "unpack_limit",
        lua.create_function(
            |lua, (s, limit, offset): (mlua::LuaString, i64, Option<i64>)| {
                let data = s.as_bytes().to_vec();
                let offset = offset_arg(offset, data.len())?;
                let limit = usize::try_from(limit).unwrap_or(0);
                let (next, mut values) = unpack(lua, &data, limit, offset)?;
                values.insert(0, Value::Integer(next));
                Ok(MultiValue::from_vec(values))
            },
        )?,
    )?;
    t.set("_NAME", "cmsgpack")?;
    t.set("_VERSION", "lua-cmsgpack 0.4.0")?;
    Ok(t)
}

fn offset_arg(offset: Option<i64>, len: usize) -> mlua::Result<usize> {
    let offset = offset.unwrap_or(0);
    let Ok(offset) = usize::try_from(offset) else {
        return Err(runtime("Offset can't be negative"));
    };
    if offset > len {
        return Err(runtime(format!(
            "Start offset {offset} greater than input length {len}."
        )));
    }
    Ok(offset)
}

fn pack(value: &Value, depth: usize, out: &mut Vec<u8>) -> mlua::Result<()> {
    match value {
        Value::Nil => out.push(0xc0),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => pack_int(*i, out),
        Value::Number(n) => {
            if n.fract() == 0.0 && n.is_finite() && n.abs() < 9.2e18 {
                pack_int(*n as i64, out);
            } else if f64::from(*n as f32) == *n {
                out.push(0xca);
                out.extend_from_slice(&(*n as f32).to_be_bytes());
            } else {
                out.push(0xcb);
                out.extend_from_slice(&n.to_be_bytes());
            }
        }
        Value::String(s) => {
            let bytes = s.as_bytes();
            let len = bytes.len();
            if len < 32 {
                out.push(0xa0 | len as u8);
            } else if len <= 0xff {
                out.push(0xd9);
                out.push(len as u8);
            } else if len <= 0xffff {
                out.push(0xda);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            } else {
                out.push(0xdb);
                out.extend_from_slice(&(len as u32).to_be_bytes());
            }
            out.extend_from_slice(&bytes);
        }
        Value::Table(t) => {
            if depth >= MAX_NESTING {
                out.push(0xc0);
                return Ok(());
            }
            match array_length(t)? {
                Some(len) => {
                    if len < 16 {
                        out.push(0x90 | len as u8);
                    } else if len <= 0xffff {
                        out.push(0xdc);
                        out.extend_from_slice(&(len as u16).to_be_bytes());
                    } else {
                        out.push(0xdd);
                        out.extend_from_slice(&(len as u32).to_be_bytes());
                    }
                    for i in 1..=len {
                        let v: Value = t.raw_get(i)?;
                        pack(&v, depth + 1, out)?;
                    }
                }
                None => {
                    // Streamed twice (count, then encode): holding every key at once would
                    // exhaust mlua's reference stack on big tables.
                    let mut len = 0usize;
                    t.for_each::<Value, Value>(|_, _| {
                        len += 1;
                        Ok(())
                    })?;
                    if len < 16 {
                        out.push(0x80 | len as u8);
                    } else if len <= 0xffff {
                        out.push(0xde);
                        out.extend_from_slice(&(len as u16).to_be_bytes());
                    } else {
                        out.push(0xdf);
                        out.extend_from_slice(&(len as u32).to_be_bytes());
                    }
                    t.for_each::<Value, Value>(|k, v| {
                        pack(&k, depth + 1, out)?;
                        pack(&v, depth + 1, out)
                    })?;
                }
            }
        }
        // Functions, userdata, threads: lua-cmsgpack packs them as nil.
        _ => out.push(0xc0),
    }
    Ok(())
}

fn pack_int(n: i64, out: &mut Vec<u8>) {
    if n >= 0 {
        if n < 128 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.push(0xcc);
            out.push(n as u8);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.push(0xd0);
        out.push(n as i8 as u8);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// lua-cmsgpack's array test: every key a positive integer and no holes.
fn array_length(t: &Table) -> mlua::Result<Option<usize>> {
    let mut max = 0usize;
    let mut count = 0usize;
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
        count += 1;
    }
    if count == 0 {
        // An empty table packs as an empty array.
        return Ok(Some(0));
    }
    Ok((max == count).then_some(max))
}

/// Unpacks up to `limit` objects (0: all) from `offset`: the next offset (-1 at the end) and
/// the objects.
fn unpack(lua: &Lua, data: &[u8], limit: usize, offset: usize) -> mlua::Result<(i64, Vec<Value>)> {
    let mut reader = Reader { data, pos: offset };
    let mut values = Vec::new();
    while reader.pos < data.len() && (limit == 0 || values.len() < limit) {
        values.push(reader.object(lua)?);
    }
    let next = if reader.pos >= data.len() {
        -1
    } else {
        i64::try_from(reader.pos).unwrap_or(-1)
    };
    Ok((next, values))
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> mlua::Result<&[u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let Some(end) = end else {
            return Err(runtime("Missing bytes in input."));
        };
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn uint(&mut self, n: usize) -> mlua::Result<u64> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    fn object(&mut self, lua: &Lua) -> mlua::Result<Value> {
        let tag = self.take(1)?[0];
        Ok(match tag {
            0x00..=0x7f => Value::Number(f64::from(tag)),
            0x80..=0x8f => self.map(lua, usize::from(tag & 0x0f))?,
            0x90..=0x9f => self.array(lua, usize::from(tag & 0x0f))?,
            0xa0..=0xbf => self.string(lua, usize::from(tag & 0x1f))?,
            0xc0 => Value::Nil,
            0xc2 => Value::Boolean(false),
            0xc3 => Value::Boolean(true),
            0xc4 | 0xd9 => {
                let n = self.uint(1)?;
                self.string(lua, to_usize(n))?
            }
            0xc5 | 0xda => {
                let n = self.uint(2)?;
                self.string(lua, to_usize(n))?
            }
            0xc6 | 0xdb => {
                let n = self.uint(4)?;
                self.string(lua, to_usize(n))?
            }
            0xca => {
                let bits = u32::try_from(self.uint(4)?).unwrap_or(0);
                Value::Number(f64::from(f32::from_bits(bits)))
            }
            0xcb => Value::Number(f64::from_bits(self.uint(8)?)),
            0xcc => Value::Number(self.uint(1)? as f64),
            0xcd => Value::Number(self.uint(2)? as f64),
            0xce => Value::Number(self.uint(4)? as f64),
            0xcf => Value::Number(self.uint(8)? as f64),
            0xd0 => Value::Number(f64::from(self.uint(1)? as u8 as i8)),
            0xd1 => Value::Number(f64::from(self.uint(2)? as u16 as i16)),
            0xd2 => Value::Number(f64::from(self.uint(4)? as u32 as i32)),
            0xd3 => Value::Number(self.uint(8)? as i64 as f64),
            0xdc => {
                let n = self.uint(2)?;
                self.array(lua, to_usize(n))?
            }
            0xdd => {
                let n = self.uint(4)?;
                self.array(lua, to_usize(n))?
            }
            0xde => {
                let n = self.uint(2)?;
                self.map(lua, to_usize(n))?
            }
            0xdf => {
                let n = self.uint(4)?;
                self.map(lua, to_usize(n))?
            }
            0xe0..=0xff => Value::Number(f64::from(tag as i8)),
            _ => return Err(runtime("Bad data format in input.")),
        })
    }

    fn string(&mut self, lua: &Lua, n: usize) -> mlua::Result<Value> {
        let bytes = self.take(n)?.to_vec();
        Ok(Value::String(lua.create_string(bytes)?))
    }

    fn array(&mut self, lua: &Lua, n: usize) -> mlua::Result<Value> {
        let t = lua.create_table()?;
        for i in 1..=n {
            let v = self.object(lua)?;
            t.raw_set(i, v)?;
        }
        Ok(Value::Table(t))
    }

    fn map(&mut self, lua: &Lua, n: usize) -> mlua::Result<Value> {
        let t = lua.create_table()?;
        for _ in 0..n {
            let k = self.object(lua)?;
            let v = self.object(lua)?;
            if !k.is_nil() {
                t.raw_set(k, v)?;
            }
        }
        Ok(Value::Table(t))
    }
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
