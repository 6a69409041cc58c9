//! The libraries Redis bundles with its Lua, written in Rust as tables of functions: `bit`
//! (LuaBitOp), `cjson`, `cmsgpack` and `struct`; and Redis's `math.random`.

use mlua::Lua;

pub mod bit;
pub mod cjson;
pub mod cmsgpack;
pub mod random;
pub mod structs;

/// Adds the bundled libraries to `lua`'s globals.
///
/// # Errors
/// Lua ran out of memory.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let globals = lua.globals();
    globals.set("bit", bit::table(lua)?)?;
    globals.set("cjson", cjson::table(lua)?)?;
    globals.set("cmsgpack", cmsgpack::table(lua)?)?;
    globals.set("struct", structs::table(lua)?)?;
    Ok(())
}
