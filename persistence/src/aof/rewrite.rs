//! Rewriting: a new base file from the dataset, a new incr file, the manifest replaced.
//!
//! The base is an RDB image with `aof-use-rdb-preamble yes` (the default), else commands:
//! `SET` for strings, `RESTORE ... ABSTTL`-free `RESTORE key 0 <payload>` for the other types
//! (the DUMP payload is exact for every type, and any Redis loads it), and `PEXPIREAT` for a
//! key with a TTL. The rewrite runs synchronously under the keyspace lock: the base is the
//! dataset at that instant, so nothing needs to be buffered while it is written.

use std::io::Write;
use std::time::Instant;

use bytes::BytesMut;
use oxidis_core::Server;
use oxidis_core::propagation::encode_command;
use oxidis_core::types::Value;
use tracing::{info, warn};

use super::manifest::Manifest;
use super::{
    after_batch, aof_mut, config_flag, delete_history, file_size, open_append, persist_manifest,
    sync_dir,
};
use crate::rdb::write::{SaveOptions, dump_payload, encode_dataset};

/// The dataset as a base file's contents.
fn base_contents(server: &Server, rdb: bool) -> Vec<u8> {
    let now_ms = server.now_ms();
    if rdb {
        return encode_dataset(
            server,
            &server.persistence_state.function_code,
            now_ms / 1000,
        );
    }
    let mut out = BytesMut::new();
    if config_flag(server, "aof-timestamp-enabled") {
        out.extend_from_slice(format!("#TS:{}\r\n", now_ms / 1000).as_bytes());
    }
    let options = SaveOptions::from_server(server);
    for (index, db) in server.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        encode_command(
            &mut out,
            &[b"SELECT".as_slice(), index.to_string().as_bytes()],
        );
        for entry in db.iter() {
            if entry.expire_at().is_some_and(|at| at <= now_ms) {
                continue;
            }
            let key = entry.key.as_slice();
            match entry.value.to_string_vec() {
                Some(text) => encode_command(&mut out, &[b"SET".as_slice(), key, &text]),
                // A module value is rebuilt by the commands its type emits (Redis's
                // `rewriteModuleObject`); none when the type has no `aof_rewrite`.
                None if let Value::Module(module) = &entry.value => {
                    for argv in module.rewrite(key) {
                        let args: Vec<&[u8]> = argv.iter().map(|a| a.as_ref()).collect();
                        encode_command(&mut out, &args);
                    }
                }
                None => {
                    let payload = dump_payload(&entry.value, options);
                    encode_command(&mut out, &[b"RESTORE".as_slice(), key, b"0", &payload]);
                }
            }
            if let Some(at) = entry.expire_at() {
                encode_command(
                    &mut out,
                    &[b"PEXPIREAT".as_slice(), key, at.to_string().as_bytes()],
                );
            }
        }
    }
    out.to_vec()
}

/// [`base_contents`] for the module tests of the RDB codec.
#[cfg(test)]
pub(crate) fn base_contents_for_test(server: &Server, rdb: bool) -> Vec<u8> {
    base_contents(server, rdb)
}

/// Writes a new base file from the dataset (temp file, fsync, rename into the directory) and
/// records it in `manifest` (the old base becomes history). Returns its name.
///
/// # Errors
/// The file could not be written (logged).
pub(super) fn write_base(
    server: &Server,
    dir: &str,
    prefix: &str,
    manifest: &mut Manifest,
) -> Result<String, String> {
    let rdb = config_flag(server, "aof-use-rdb-preamble");
    let bytes = base_contents(server, rdb);
    let temp = format!("temp-rewriteaof-{}.aof", std::process::id());
    let written = std::fs::File::create(&temp)
        .map_err(|e| {
            format!("Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): {e}")
        })
        .and_then(|mut file| {
            file.write_all(&bytes)
                .and_then(|()| file.sync_all())
                .map_err(|e| format!("Write error writing append only file on disk: {e}"))
        });
    if let Err(message) = written {
        warn!("{message}");
        let _ = std::fs::remove_file(&temp);
        return Err(message);
    }
    let mut next = manifest.clone();
    let name = next.new_base(prefix, rdb);
    if let Err(e) = std::fs::rename(&temp, format!("{dir}/{name}")) {
        let message = format!("Error moving temp append only file on the final destination: {e}");
        warn!("{message}");
        let _ = std::fs::remove_file(&temp);
        return Err(message);
    }
    sync_dir(dir);
    *manifest = next;
    Ok(name)
}

/// Records a successful rewrite for INFO.
pub(super) fn record_success(server: &mut Server, started: Instant) {
    let status = &mut server.aof_status;
    status.rewrites += 1;
    status.last_rewrite_failed = false;
    status.consecutive_failures = 0;
    status.last_rewrite_time_sec = i64::try_from(started.elapsed().as_secs()).unwrap_or(0);
}

fn record_failure(server: &mut Server) {
    let status = &mut server.aof_status;
    status.last_rewrite_failed = true;
    status.consecutive_failures += 1;
}

/// BGREWRITEAOF's work, done at once: the pending stream goes to the current incr file, a new
/// base is written, a new incr file opened, the manifest replaced and the old files deleted.
/// With the AOF off, only a base is written (as Redis's rewrite does when appendonly is no).
///
/// # Errors
/// Writing failed (logged); the AOF goes on with its old files.
pub fn rewrite(server: &mut Server) -> Result<(), String> {
    let started = Instant::now();
    info!("Background append only file rewriting started");
    if server.aof.is_none() {
        let dir = server.config.appenddirname.clone();
        let prefix = server.config.appendfilename.clone();
        super::create_dir(&dir)?;
        let mut manifest = super::read_manifest(&dir, &prefix).unwrap_or_default();
        // The new base holds everything: the incr files are history too.
        let result = write_base(server, &dir, &prefix, &mut manifest).and_then(|_| {
            manifest.incrs_to_history();
            if !config_flag(server, "aof-disable-auto-gc") {
                for info in manifest.history.drain(..) {
                    info!("Removing the history file {} in the background", info.name);
                    let _ = std::fs::remove_file(format!("{dir}/{}", info.name));
                }
            }
            persist_manifest(&dir, &prefix, &manifest)
        });
        return finish(server, started, result);
    }
    after_batch(server);
    let (dir, prefix, mut manifest) = match aof_mut(server) {
        Some(aof) => {
            let _ = aof.file.sync_data();
            (aof.dir.clone(), aof.prefix.clone(), aof.manifest.clone())
        }
        None => return Ok(()),
    };
    let result = write_base(server, &dir, &prefix, &mut manifest).and_then(|_| {
        manifest.incrs_to_history();
        let name = manifest.new_incr(&prefix);
        let file = open_append(&dir, &name, true)?;
        persist_manifest(&dir, &prefix, &manifest)?;
        info!("Creating AOF incr file {name} on background rewrite");
        Ok(file)
    });
    let file = match result {
        Ok(file) => file,
        Err(e) => return finish(server, started, Err(e)),
    };
    let base_size = manifest
        .base
        .as_ref()
        .map_or(0, |b| file_size(&dir, &b.name));
    let Some(aof) = aof_mut(server) else {
        return Ok(());
    };
    aof.durability.switch_file(&file);
    aof.file = file;
    aof.manifest = manifest;
    aof.older_size = base_size;
    aof.incr_size = 0;
    aof.fsynced_size = 0;
    aof.last_timestamp = 0;
    server.propagation.force_select();
    server.aof_status.base_size = base_size;
    server.aof_status.current_size = base_size;
    let result = finish(server, started, Ok(()));
    if let Some(boxed) = server.aof.take()
        && let Ok(mut aof) = boxed.downcast::<super::Aof>()
    {
        delete_history(server, &mut aof);
        server.aof = Some(aof);
    }
    result
}

fn finish(server: &mut Server, started: Instant, result: Result<(), String>) -> Result<(), String> {
    match &result {
        Ok(()) => {
            info!("Background AOF rewrite terminated with success");
            info!("Background AOF rewrite finished successfully");
            record_success(server, started);
        }
        Err(_) => {
            warn!("Background AOF rewrite terminated with error");
            record_failure(server);
        }
    }
    result
}

/// BGREWRITEAOF without blocking (the automatic trigger too): with the AOF on, what is pending
/// goes to the current incr file and a new incr file opens for the writes from now on (listed
/// in the manifest at once, as Redis's multi-part AOF does); then a background job
/// ([`crate::background`]) writes the base from a point-in-time snapshot of this instant.
/// [`background_rewrite_done`] installs it.
///
/// # Errors
/// The incr file or the job could not be started (logged; counted as a failed rewrite).
pub fn start_rewrite(server: &mut Server) -> Result<(), String> {
    let rdb = config_flag(server, "aof-use-rdb-preamble");
    if server.aof.is_some() {
        after_batch(server);
        let Some(aof) = aof_mut(server) else {
            return Ok(());
        };
        let _ = aof.file.sync_data();
        let (dir, prefix) = (aof.dir.clone(), aof.prefix.clone());
        let mut manifest = aof.manifest.clone();
        let name = manifest.new_incr(&prefix);
        let opened = open_append(&dir, &name, true)
            .and_then(|file| persist_manifest(&dir, &prefix, &manifest).map(|()| file));
        let file = match opened {
            Ok(file) => file,
            Err(e) => {
                record_failure(server);
                return Err(e);
            }
        };
        info!("Creating AOF incr file {name} on background rewrite");
        let Some(aof) = aof_mut(server) else {
            return Ok(());
        };
        aof.durability.switch_file(&file);
        aof.file = file;
        aof.manifest = manifest;
        aof.older_size += aof.incr_size;
        aof.incr_size = 0;
        aof.fsynced_size = 0;
        aof.last_timestamp = 0;
        server.propagation.force_select();
    }
    crate::background::start_job(server, crate::background::Kind::Aof { rdb }).inspect_err(|_| {
        record_failure(server);
    })
}

/// The background rewrite's writer finished `temp`: it becomes the new base, the incr files
/// it covers become history (all but the one opened when the rewrite began, or all of them
/// with the AOF off), the manifest is replaced and the history deleted.
pub(crate) fn background_rewrite_done(
    server: &mut Server,
    temp: &str,
    rdb: bool,
    started: Instant,
    outcome: Result<(), String>,
) {
    let result = outcome.and_then(|()| install_base(server, temp, rdb));
    if let Err(message) = &result {
        warn!("{message}");
        let _ = std::fs::remove_file(temp);
    }
    let _ = finish(server, started, result);
}

fn install_base(server: &mut Server, temp: &str, rdb: bool) -> Result<(), String> {
    let on = server.aof.is_some();
    let (dir, prefix, manifest) = match aof_mut(server) {
        Some(aof) => (aof.dir.clone(), aof.prefix.clone(), aof.manifest.clone()),
        None => {
            let dir = server.config.appenddirname.clone();
            let prefix = server.config.appendfilename.clone();
            super::create_dir(&dir)?;
            let manifest = super::read_manifest(&dir, &prefix).unwrap_or_default();
            (dir, prefix, manifest)
        }
    };
    let mut next = manifest;
    let name = next.new_base(&prefix, rdb);
    std::fs::rename(temp, format!("{dir}/{name}")).map_err(|e| {
        format!("Error trying to rename the temporary AOF base file {temp} into {name}: {e}")
    })?;
    sync_dir(&dir);
    let current = if on { next.incrs.pop() } else { None };
    next.incrs_to_history();
    next.incrs.extend(current);
    persist_manifest(&dir, &prefix, &next)?;
    let base_size = file_size(&dir, &name);
    server.aof_status.base_size = base_size;
    match server.aof.take() {
        Some(boxed) => match boxed.downcast::<super::Aof>() {
            Ok(mut aof) => {
                aof.manifest = next;
                aof.older_size = base_size;
                server.aof_status.current_size = base_size + aof.incr_size;
                delete_history(server, &mut aof);
                server.aof = Some(aof);
            }
            Err(other) => server.aof = Some(other),
        },
        None => {
            server.aof_status.current_size = base_size;
            if !config_flag(server, "aof-disable-auto-gc") && !next.history.is_empty() {
                for info in next.history.drain(..) {
                    info!("Removing the history file {} in the background", info.name);
                    let _ = std::fs::remove_file(format!("{dir}/{}", info.name));
                }
                persist_manifest(&dir, &prefix, &next)?;
            }
        }
    }
    Ok(())
}
