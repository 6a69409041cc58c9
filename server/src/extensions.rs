//! Registers every optional crate this build includes into the command table. This is the only
//! place in the workspace where `cfg(feature)` decides what the server can do; a compiled-out
//! command is simply absent and answers `ERR unknown command`, as in Redis.
//!
//! Persistence (#6) and modules (#9) each add one feature in `Cargo.toml` and one line here.

use oxidis_core::{CommandTable, RegistrationError};

/// Adds the commands of the optional crates compiled into this build.
///
/// # Errors
/// A name clash between crates.
pub fn register_extensions(table: &mut CommandTable) -> Result<(), RegistrationError> {
    #[cfg(feature = "scripting")]
    oxidis_scripting::register(table)?;
    let _ = &table;
    Ok(())
}
