//! Registers every optional crate this build includes into the command table. This is the only
//! place in the workspace where `cfg(feature)` decides what the server can do; a compiled-out
//! command is simply absent and answers `ERR unknown command`, as in Redis.
//!
//! Each optional crate adds one feature in `Cargo.toml` and its lines here: persistence (#6)
//! is in; scripting (#8) and modules (#9) follow the same pattern.

use oxidis_core::{CommandTable, RegistrationError, Server};

/// Adds the commands of the optional crates compiled into this build.
///
/// # Errors
/// A name clash between crates.
pub fn register_extensions(table: &mut CommandTable) -> Result<(), RegistrationError> {
    #[cfg(feature = "persistence")]
    {
        oxidis_persistence::register(table)?;
        // Serving replicas needs the snapshot persistence makes.
        table.register_family(&oxidis_core::families::replication::FAMILY)?;
    }
    let _ = table;
    Ok(())
}

/// Installs the hooks the core calls into optional crates (DEBUG RELOAD, FLUSHALL's save).
pub fn install_hooks(server: &mut Server) {
    #[cfg(feature = "persistence")]
    {
        server.persistence = Some(oxidis_persistence::HOOKS);
    }
    let _ = server;
}

/// Loads the dataset from disk before the server accepts connections, when persistence is
/// compiled in.
///
/// # Errors
/// The RDB file exists but cannot be loaded (already logged): the server must not start.
pub fn load_dataset(server: &mut Server) -> Result<(), String> {
    #[cfg(feature = "persistence")]
    oxidis_persistence::load_at_startup(server)?;
    let _ = server;
    Ok(())
}

/// Saves the dataset at shutdown when save points are configured or SHUTDOWN SAVE asked for it
/// (and SHUTDOWN NOSAVE did not).
///
/// # Errors
/// The save failed (already logged).
pub fn save_on_shutdown(server: &mut Server) -> Result<(), String> {
    #[cfg(feature = "persistence")]
    {
        let request = server.shutdown_request.unwrap_or_default();
        if !request.nosave && (request.save || !server.config.save.is_empty()) {
            tracing::info!("Saving the final RDB snapshot before exiting.");
            oxidis_persistence::save_to_disk(server)?;
        }
    }
    let _ = server;
    Ok(())
}

/// After a batch of commands, under the keyspace lock: sends what they propagated to the
/// replicas.
pub fn after_batch(server: &mut Server) {
    if server.propagation.is_enabled() {
        oxidis_core::replication::drain(server);
    }
}
