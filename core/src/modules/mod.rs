//! The core's extension points for run-time modules (#9): what the module loader and its ABI
//! bridge (the `modules/` crates) build on. Everything here is plain Rust; nothing knows of
//! dynamic loading.
//!
//! - [`types`]: module data types — the [`ModuleType`] callbacks (RDB save/load with encoding
//!   versions, auxiliary module-wide RDB data, AOF rewrite, memory usage, copy, digest,
//!   unlink, free through `Drop`), the registry
//!   [`ModuleTypes`] with a live-value count per type, and [`ModuleValue`], stored in the
//!   keyspace as [`Value::Module`](crate::types::Value::Module). TYPE answers the type's name,
//!   OBJECT ENCODING `raw`; COPY, MEMORY USAGE, DEBUG DIGEST(-VALUE), SCAN TYPE, RENAME, MOVE
//!   and SWAPDB work on them; the persistence crate writes them as RDB type 7 (`MODULE_2`).
//! - [`events`]: subscriptions to keyspace notifications (by class mask, whatever
//!   `notify-keyspace-events` says) and server events (flush, loading, client connect and
//!   disconnect, shutdown, cron tick); keys loaded from an RDB file raise `loaded`
//!   ([`crate::events::class::LOADED`], for modules only); read its re-entrancy rule.
//! - [`blocked`]: blocking the calling client and answering it from another thread.
//! - [`config`]: parameters registered at run time as `<module>.<name>`, seen by CONFIG
//!   GET/SET/REWRITE; values from the config file or MODULE LOADEX are applied by
//!   [`config::load_queued`].
//!
//! - [`LoadedModule`]s: what the loader loaded (name, version, path, arguments, commands), as
//!   MODULE LIST, HELLO's `modules`, COMMAND LIST FILTERBY MODULE and COMMAND DOCS see it.
//!
//! All of it lives in [`Server::modules`](crate::Server::modules) ([`Modules`]), except the
//! blocked-client bookkeeping, which sits with the other blocked clients in
//! [`crate::blocking::Blocked`].
//!
//! # The path of a module data type, in short
//! ```ignore
//! // At load: register the type (9-character name, encoding version 0..=1023).
//! let ty = server.modules.types.register("bloom", "oxbloom-1", 1, Box::new(BloomType))?;
//! // In a command handler: create or change a value of it.
//! match ctx.value_mut(key) {
//!     Some(value) => value.as_module_mut(&ty)?.downcast_mut::<Bloom>().unwrap().add(item),
//!     None => ctx.set(key, Value::module(&ty, Box::new(Bloom::new())), Ttl::Keep),
//! }
//! ctx.notify(class::MODULE, events::intern_event_name("bf.add"), key);
//! // A blocking command answered from a worker thread:
//! let (handle, reply) = modules::block_client(ctx, Some(timeout), Frame::Null)?;
//! std::thread::spawn(move || { let _ = handle.complete(Frame::ok()); });
//! return Ok(reply);
//! ```
//!
//! # Unloading a module
//! [`Modules::unload_check`] says whether a module's types still hold values; the loader then
//! calls [`forget_owner`] (types, subscriptions, configs). Commands are removed from
//! the command table by the loader.

pub mod blocked;
pub mod config;
pub mod events;
pub mod types;

pub use blocked::{BlockedHandle, block_client};
pub use config::{ConfigKind, ConfigSpec, ConfigValue, ModuleConfigs};
pub use events::{ServerEvent, ServerEventKind, Subscriptions};
pub use types::{
    CopyError, CopyTarget, ModuleDigest, ModuleIoError, ModuleRdbReader, ModuleRdbWriter,
    ModuleType, ModuleTypeRef, ModuleTypes, ModuleValue, RdbSource,
};

use bytes::Bytes;
use oxidis_protocol::Frame;

use crate::server::Server;

/// A loaded module, as MODULE LIST, HELLO and COMMAND LIST FILTERBY MODULE see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedModule {
    /// Its name (`MODULE LIST`, `MODULE UNLOAD`).
    pub name: String,
    /// Its own version.
    pub version: i32,
    /// The path it was loaded from.
    pub path: String,
    /// The arguments it was loaded with.
    pub args: Vec<Bytes>,
    /// The commands it registered (lower case).
    pub commands: Vec<String>,
}

/// The modules' state in the server.
#[derive(Debug, Default)]
pub struct Modules {
    /// Loaded modules, in load order (the loader adds and removes them).
    pub loaded: Vec<LoadedModule>,
    /// Registered data types.
    pub types: ModuleTypes,
    /// Event subscriptions.
    pub subscriptions: Subscriptions,
    /// Module configuration parameters.
    pub configs: ModuleConfigs,
}

impl Modules {
    /// The loaded modules as MODULE LIST and HELLO's `modules` field answer them (Redis's
    /// `addReplyLoadedModules`): one map per module of `name`, `ver`, `path` and `args`.
    pub fn list_reply(&self) -> Frame {
        let entry = |m: &LoadedModule| {
            Frame::Map(vec![
                (Frame::bulk("name"), Frame::bulk(m.name.as_str())),
                (Frame::bulk("ver"), Frame::Integer(i64::from(m.version))),
                (Frame::bulk("path"), Frame::bulk(m.path.as_str())),
                (
                    Frame::bulk("args"),
                    Frame::Array(m.args.iter().cloned().map(Frame::Bulk).collect()),
                ),
            ])
        };
        Frame::Array(self.loaded.iter().map(entry).collect())
    }

    /// The commands module `name` registered (names compare case-insensitively, as Redis's
    /// module dictionary does); None when no such module is loaded.
    pub fn commands_of(&self, name: &[u8]) -> Option<&[String]> {
        self.loaded
            .iter()
            .find(|m| m.name.as_bytes().eq_ignore_ascii_case(name))
            .map(|m| m.commands.as_slice())
    }

    /// The name of the loaded module that registered `command` (lower case).
    pub fn owner_of(&self, command: &str) -> Option<&str> {
        self.loaded
            .iter()
            .find(|m| m.commands.iter().any(|c| c == command))
            .map(|m| m.name.as_str())
    }

    /// Whether module `owner` can be unloaded: none of its types has values.
    ///
    /// # Errors
    /// [`types::TypeRegistryError::InUse`] when values of its types exist.
    pub fn unload_check(&self, owner: &str) -> Result<(), types::TypeRegistryError> {
        if self.types.owner_has_values(owner) {
            Err(types::TypeRegistryError::InUse)
        } else {
            Ok(())
        }
    }
}

/// Forgets everything module `owner` registered here (types, subscriptions, configs), or
/// nothing if its types still hold values.
///
/// # Errors
/// [`types::TypeRegistryError::InUse`].
pub fn forget_owner(server: &mut Server, owner: &str) -> Result<(), types::TypeRegistryError> {
    server.modules.types.unregister_owner(owner)?;
    events::unsubscribe_owner(server, owner);
    server.modules.configs.unregister_owner(owner);
    Ok(())
}

#[cfg(test)]
mod tests;
