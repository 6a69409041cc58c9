//! `struct`: Roberto Ierusalimschy's binary packing library, as Redis bundles it:
//! `struct.pack(fmt, ...)`, `struct.unpack(fmt, s [, pos])` (values, then the next position)
//! and `struct.size(fmt)`. Formats: `<` `>` `!` `=` set endianness, `b`/`B` `h`/`H` `l`/`L`
//! `T` `i`/`I`[n] integers, `f` `d` floats, `s` zero-terminated string, `c`[n] fixed string
//! (`c0`: length from the previous integer), `x` a zero byte, ` ` ignored.

use mlua::{Lua, MultiValue, Table, Value};

fn runtime(text: impl Into<String>) -> mlua::Error {
    mlua::Error::runtime(text.into())
}

/// One item of a format.
enum Item {
    Int { size: usize, signed: bool },
    Float,
    Double,
    Cstr,
    Chars(usize),
    Pad,
}

/// The largest alignment `!` allows (and what a bare `!` sets): C's 8 on x86-64.
const MAX_ALIGN: usize = 8;

/// Bytes of padding before an item of `size` bytes at `pos` under alignment `align` (lua_struct's
/// `gettoalign`; `c` items are never aligned).
fn padding(pos: usize, align: usize, item: &Item) -> usize {
    let size = match item {
        Item::Int { size, .. } => *size,
        Item::Float => 4,
        Item::Double => 8,
        Item::Pad => 1,
        Item::Cstr | Item::Chars(_) => return 0,
    };
    let size = size.min(align);
    (size - (pos & (size - 1))) & (size - 1)
}

/// Parses `fmt` into (little-endian?, alignment, item) steps; `name` is the Lua function's,
/// for errors.
fn parse(fmt: &[u8], name: &str) -> mlua::Result<Vec<(bool, usize, Item)>> {
    let mut little = cfg!(target_endian = "little");
    let mut align = 1;
    let mut items = Vec::new();
    let mut i = 0;
    let number = |i: &mut usize| -> Option<usize> {
        let start = *i;
        while fmt.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        std::str::from_utf8(&fmt[start..*i]).ok()?.parse().ok()
    };
    while i < fmt.len() {
        let c = fmt[i];
        i += 1;
        let item = match c {
            b'<' => {
                little = true;
                continue;
            }
            b'>' => {
                little = false;
                continue;
            }
            b'=' => {
                little = cfg!(target_endian = "little");
                continue;
            }
            b'!' => {
                let a = number(&mut i).unwrap_or(MAX_ALIGN);
                if !a.is_power_of_two() {
                    return Err(runtime(format!("alignment {a} is not a power of 2")));
                }
                align = a;
                continue;
            }
            b' ' => continue,
            b'b' => Item::Int {
                size: 1,
                signed: true,
            },
            b'B' => Item::Int {
                size: 1,
                signed: false,
            },
            b'h' => Item::Int {
                size: 2,
                signed: true,
            },
            b'H' => Item::Int {
                size: 2,
                signed: false,
            },
            b'l' => Item::Int {
                size: 8,
                signed: true,
            },
            b'L' | b'T' => Item::Int {
                size: 8,
                signed: false,
            },
            b'i' | b'I' => {
                let size = number(&mut i).unwrap_or(4);
                if size == 0 || size > 8 {
                    return Err(runtime(format!(
                        "integral size {size} is larger than limit of 8"
                    )));
                }
                Item::Int {
                    size,
                    signed: c == b'i',
                }
            }
            b'f' => Item::Float,
            b'd' => Item::Double,
            b's' => Item::Cstr,
            b'c' => Item::Chars(number(&mut i).unwrap_or(1)),
            b'x' => Item::Pad,
            other => {
                return Err(runtime(format!(
                    "bad argument #1 to '{name}' (invalid format option '{}')",
                    char::from(other)
                )));
            }
        };
        items.push((little, align, item));
    }
    Ok(items)
}

fn to_number(v: Option<&Value>, n: usize) -> mlua::Result<f64> {
    match v {
        Some(Value::Integer(i)) => Ok(*i as f64),
        Some(Value::Number(x)) => Ok(*x),
        Some(Value::String(s)) => std::str::from_utf8(&s.as_bytes())
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .ok_or_else(|| {
                runtime(format!(
                    "bad argument #{n} to 'pack' (number expected, got string)"
                ))
            }),
        other => Err(runtime(format!(
            "bad argument #{n} to 'pack' (number expected, got {})",
            other.map_or("no value", Value::type_name)
        ))),
    }
}

/// The `struct` table.
///
/// # Errors
/// Lua ran out of memory.
pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "pack",
        lua.create_function(|lua, (fmt, args): (mlua::LuaString, MultiValue)| {
            let items = parse(&fmt.as_bytes(), "pack")?;
            let args: Vec<Value> = args.into_iter().collect();
            let mut next = 0;
            let mut out = Vec::new();
            for (little, align, item) in items {
                out.resize(out.len() + padding(out.len(), align, &item), 0);
                match item {
                    Item::Int { size, .. } => {
                        let n = to_number(args.get(next), next + 2)?;
                        next += 1;
                        let v = n as i64 as u64;
                        let bytes = v.to_le_bytes();
                        let mut chunk = bytes[..size].to_vec();
                        if !little {
                            chunk.reverse();
                        }
                        out.extend_from_slice(&chunk);
                    }
                    Item::Float => {
                        let n = to_number(args.get(next), next + 2)? as f32;
                        next += 1;
                        out.extend_from_slice(&if little {
                            n.to_le_bytes()
                        } else {
                            n.to_be_bytes()
                        });
                    }
                    Item::Double => {
                        let n = to_number(args.get(next), next + 2)?;
                        next += 1;
                        out.extend_from_slice(&if little {
                            n.to_le_bytes()
                        } else {
                            n.to_be_bytes()
                        });
                    }
                    Item::Cstr | Item::Chars(_) => {
                        let s = match args.get(next) {
                            Some(Value::String(s)) => s.as_bytes().to_vec(),
                            Some(Value::Integer(i)) => i.to_string().into_bytes(),
                            Some(Value::Number(n)) => crate::call::lua_number_text(*n).into_bytes(),
                            _ => {
                                return Err(runtime(format!(
                                    "bad argument #{} to 'pack' (string expected, got no value)",
                                    next + 2
                                )));
                            }
                        };
                        next += 1;
                        match item {
                            Item::Chars(n) if n > 0 => {
                                if s.len() < n {
                                    return Err(runtime(format!(
                                        "bad argument #{} to 'pack' (string too short)",
                                        next + 2
                                    )));
                                }
                                out.extend_from_slice(&s[..n]);
                            }
                            Item::Chars(_) => out.extend_from_slice(&s),
                            _ => {
                                out.extend_from_slice(&s);
                                out.push(0);
                            }
                        }
                    }
                    Item::Pad => out.push(0),
                }
            }
            lua.create_string(out)
        })?,
    )?;
    t.set(
        "unpack",
        lua.create_function(
            |lua, (fmt, data, pos): (mlua::LuaString, mlua::LuaString, Option<i64>)| {
                let items = parse(&fmt.as_bytes(), "unpack")?;
                let data = data.as_bytes().to_vec();
                let mut pos = usize::try_from(pos.unwrap_or(1).max(1) - 1).unwrap_or(0);
                let mut values = Vec::new();
                let mut last_int: Option<f64> = None;
                let short = || runtime("bad argument #2 to 'unpack' (data string too short)");
                for (little, align, item) in items {
                    pos += padding(pos, align, &item);
                    match item {
                        Item::Int { size, signed } => {
                            let bytes = data.get(pos..pos + size).ok_or_else(short)?;
                            pos += size;
                            let mut v: u64 = 0;
                            for i in 0..size {
                                let b = if little {
                                    bytes[size - 1 - i]
                                } else {
                                    bytes[i]
                                };
                                v = (v << 8) | u64::from(b);
                            }
                            let n = if signed && size < 8 && v & (1 << (size * 8 - 1)) != 0 {
                                (v as i64 - (1i64 << (size * 8))) as f64
                            } else if signed {
                                v as i64 as f64
                            } else {
                                v as f64
                            };
                            last_int = Some(n);
                            values.push(Value::Number(n));
                        }
                        Item::Float => {
                            let b: [u8; 4] = data
                                .get(pos..pos + 4)
                                .ok_or_else(short)?
                                .try_into()
                                .map_err(|_| short())?;
                            pos += 4;
                            let f = if little {
                                f32::from_le_bytes(b)
                            } else {
                                f32::from_be_bytes(b)
                            };
                            values.push(Value::Number(f64::from(f)));
                        }
                        Item::Double => {
                            let b: [u8; 8] = data
                                .get(pos..pos + 8)
                                .ok_or_else(short)?
                                .try_into()
                                .map_err(|_| short())?;
                            pos += 8;
                            let f = if little {
                                f64::from_le_bytes(b)
                            } else {
                                f64::from_be_bytes(b)
                            };
                            values.push(Value::Number(f));
                        }
                        Item::Cstr => {
                            let rest = data.get(pos..).ok_or_else(short)?;
                            let end = rest
                                .iter()
                                .position(|&b| b == 0)
                                .ok_or_else(|| runtime("unfinished string in data"))?;
                            values.push(Value::String(lua.create_string(&rest[..end])?));
                            pos += end + 1;
                        }
                        Item::Chars(n) => {
                            let n = if n == 0 {
                                let len = last_int
                                    .ok_or_else(|| runtime("format 'c0' needs a previous size"))?;
                                values.pop();
                                len as usize
                            } else {
                                n
                            };
                            let bytes = data.get(pos..pos + n).ok_or_else(short)?;
                            values.push(Value::String(lua.create_string(bytes)?));
                            pos += n;
                        }
                        Item::Pad => pos += 1,
                    }
                }
                values.push(Value::Integer(i64::try_from(pos + 1).unwrap_or(i64::MAX)));
                Ok(MultiValue::from_vec(values))
            },
        )?,
    )?;
    t.set(
        "size",
        lua.create_function(|_, fmt: mlua::LuaString| {
            let items = parse(&fmt.as_bytes(), "size")?;
            let mut size = 0;
            for (_, align, item) in items {
                size += padding(size, align, &item);
                size += match item {
                    Item::Int { size, .. } => size,
                    Item::Float => 4,
                    Item::Double => 8,
                    Item::Chars(n) => n,
                    Item::Pad => 1,
                    Item::Cstr => return Err(runtime("options 's' and 'c0' have variable size")),
                };
            }
            Ok(size)
        })?,
    )?;
    Ok(t)
}
