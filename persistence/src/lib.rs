//! `oxidis-persistence`: RDB snapshots, file-compatible with Redis 7.0 both ways.
//!
//! - [`rdb`]: the format — value codec, whole-file encoding and decoding;
//! - [`listpack`], [`ziplist`], [`lzf`], [`crc64`]: Redis's packed encodings, compression and
//!   checksum, written fresh;
//! - `file`: SAVE's temp-file-fsync-rename, and loading `dir/dbfilename`;
//! - [`background`]: BGSAVE without fork (snapshot epochs, a writer thread) and `save` points;
//! - `commands`: DUMP, RESTORE, SAVE and BGSAVE, registered through [`register`] like any family.
//!
//! The core reaches saving and loading (DEBUG RELOAD, FLUSHALL) through the function pointers
//! of [`HOOKS`], which the server crate installs in `Server::persistence`.

pub mod aof;
pub mod background;
mod commands;
pub mod crc64;
mod file;
pub mod listpack;
pub mod lzf;
pub mod rdb;
pub mod ziplist;

#[cfg(test)]
mod tests;

use oxidis_core::server::PersistenceHooks;
use oxidis_core::{CommandTable, RegistrationError};

pub use file::{
    DecodedLoad, LoadOutcome, PendingLoad, begin_startup_load, finish_startup_load,
    load_at_startup, load_from_disk, remove_temp_file, save_to_disk, temp_file_name,
};

/// The hooks the core calls for DEBUG RELOAD and FLUSHALL's save.
pub const HOOKS: PersistenceHooks = PersistenceHooks {
    save: save_to_disk,
    load: file::reload_from_disk,
    snapshot,
    kill_bgsave: background::kill_quietly,
};

/// The whole dataset as an RDB payload, for a replica's SYNC.
fn snapshot(server: &oxidis_core::Server) -> Vec<u8> {
    let now_secs = server.now_ms() / 1000;
    rdb::write::encode_dataset(server, &server.persistence_state.function_code, now_secs)
}

/// Registers DUMP, RESTORE and SAVE.
///
/// # Errors
/// A name clash with a command already registered.
pub fn register(table: &mut CommandTable) -> Result<(), RegistrationError> {
    table.register_family(&commands::FAMILY_GENERIC)?;
    table.register_family(&aof::FAMILY_AOF)?;
    table.register_family(&commands::FAMILY_SERVER)
}
