//! The RDB file on disk: SAVE writes `dbfilename` (relative to the working directory, which the
//! server sets to `dir`) through a temp file, fsync and rename, so a crash mid-save never leaves
//! a broken file; loading reads it whole and swaps it in only when everything decoded.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use oxidis_core::Server;
use oxidis_core::config::Config;
use oxidis_core::server::LoadingState;
use tracing::{info, warn};

use crate::rdb::LoadError;
use crate::rdb::read::{LoadOptions, Loaded, decode_dataset, decode_dataset_with_progress};
use crate::rdb::write::encode_dataset;

/// Saves the whole dataset to `dbfilename`, logging as Redis does.
///
/// # Errors
/// The reason the file could not be written (also logged).
pub fn save_to_disk(server: &mut Server) -> Result<(), String> {
    // Redis kills its saving child before a foreground save (FLUSHALL, SHUTDOWN, DEBUG RELOAD).
    crate::background::kill_bgsave(server, "There is a child saving an .rdb. Killing it!");
    let now_ms = server.now_ms();
    let target = server.config.dbfilename.clone();
    let temp = temp_file_name();
    let keys: usize = server.dbs.iter().map(|db| db.len()).sum();
    let delay_us = crate::background::key_save_delay(server);
    let written = std::fs::File::create(&temp)
        .map_err(|e| {
            let dir = std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default();
            format!(
                "Failed opening the temp RDB file {temp} (in server root dir {dir}) for saving: {e}"
            )
        })
        .and_then(|mut file| {
            // `rdb-key-save-delay` (a test knob) slows the save down key by key, as Redis's.
            if let Ok(per_key) = u64::try_from(delay_us)
                && per_key > 0
            {
                let total = per_key.saturating_mul(u64::try_from(keys).unwrap_or(u64::MAX));
                std::thread::sleep(std::time::Duration::from_micros(total));
            }
            let bytes = encode_dataset(
                server,
                &server.persistence_state.function_code,
                now_ms / 1000,
            );
            file.write_all(&bytes)
                .and_then(|()| file.sync_all())
                .map_err(|e| format!("Write error saving DB on disk: {e}"))
        })
        .and_then(|()| {
            std::fs::rename(&temp, &target).map_err(|e| {
                format!("Error moving temp DB file {temp} on the final destination {target}: {e}")
            })
        });
    match written {
        Ok(()) => {
            info!("DB saved on disk");
            server.dirty = 0;
            server.last_save_unix = now_ms / 1000;
            server.persistence_state.saves += 1;
            server.persistence_state.last_save_failed = false;
            Ok(())
        }
        Err(message) => {
            warn!("{message}");
            let _ = std::fs::remove_file(&temp);
            server.persistence_state.last_save_failed = true;
            Err(message)
        }
    }
}

/// The temp file SAVE writes (and BGSAVE: Redis's child names it after its own pid).
pub fn temp_file_name() -> String {
    format!("temp-{}.rdb", std::process::id())
}

/// Removes [`temp_file_name`], when a save is cut short (a second SIGINT during the final save).
pub fn remove_temp_file() {
    let _ = std::fs::remove_file(temp_file_name());
}

/// What loading at startup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadOutcome {
    /// There was no file: the server starts empty.
    NoFile,
    /// The file was loaded.
    Loaded,
}

/// Loads `dbfilename` into `server` (whose databases are empty at startup), logging as Redis
/// does.
///
/// # Errors
/// The file exists but cannot be read or is damaged: the caller must not start serving (the
/// reason is already logged).
pub fn load_at_startup(server: &mut Server) -> Result<LoadOutcome, String> {
    let started = Instant::now();
    match std::fs::metadata(&server.config.dbfilename) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(LoadOutcome::NoFile),
        _ => {}
    }
    load_from_disk(server, false)?;
    info!(
        "DB loaded from disk: {:.3} seconds",
        started.elapsed().as_secs_f64()
    );
    Ok(LoadOutcome::Loaded)
}

/// A startup load of `dbfilename` decoded off the keyspace lock, while the server answers
/// clients (`-LOADING` to commands without the `loading` flag; INFO shows `loading:1` and the
/// progress), as Redis serves events every `loading-process-events-interval-bytes` during its
/// load. [`begin_startup_load`] marks the server as loading, [`PendingLoad::decode`] runs on any
/// thread, [`finish_startup_load`] puts the result in place under the lock.
pub struct PendingLoad {
    path: String,
    config: Config,
    options: LoadOptions,
    now_ms: u64,
    lru_clock: u32,
    /// `loading-process-events-interval-bytes`: how often the progress is published.
    interval: u64,
    /// `key-load-delay`: microseconds slept after each key (negative: Redis's nanosecond-ish
    /// delay, one microsecond once in that many keys).
    key_load_delay: i64,
    loaded_bytes: Arc<AtomicU64>,
    started: Instant,
}

/// What [`PendingLoad::decode`] produced.
pub struct DecodedLoad {
    started: Instant,
    decoded: Result<Result<Loaded, LoadError>, String>,
}

/// Starts loading `dbfilename` at startup: `None` when there is no file (the server starts
/// empty). Otherwise the server is loading until [`finish_startup_load`].
pub fn begin_startup_load(server: &mut Server) -> Option<PendingLoad> {
    use oxidis_core::modules::events::{LoadSource, ServerEvent, fire};
    let path = server.config.dbfilename.clone();
    let size = match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Ok(meta) => meta.len(),
        Err(_) => 0,
    };
    let number = |name: &str| -> i64 {
        server
            .config
            .get(name)
            .and_then(|v| std::str::from_utf8(&v).ok()?.parse().ok())
            .unwrap_or(0)
    };
    let interval = u64::try_from(number("loading-process-events-interval-bytes")).unwrap_or(0);
    let key_load_delay = number("key-load-delay");
    let loaded_bytes = Arc::new(AtomicU64::new(0));
    server.persistence_state.loading = Some(LoadingState {
        start_unix_secs: server.now_ms() / 1000,
        total_bytes: size,
        loaded_bytes: loaded_bytes.clone(),
    });
    fire(server, &ServerEvent::LoadingStart(LoadSource::Rdb));
    Some(PendingLoad {
        path,
        options: LoadOptions::from_config(&server.config, server.list_packed_threshold)
            .with_module_types(&server.modules.types),
        config: server.config.clone(),
        now_ms: server.now_ms(),
        lru_clock: server.lru_clock(),
        interval,
        key_load_delay,
        loaded_bytes,
        started: Instant::now(),
    })
}

impl PendingLoad {
    /// Reads and decodes the file (slow: run it off the keyspace lock and off the I/O threads).
    #[must_use]
    pub fn decode(self) -> DecodedLoad {
        let decoded = std::fs::read(&self.path)
            .map_err(|e| format!("Fatal error loading the DB: {e}. Exiting."))
            .map(|data| {
                let mut published = 0u64;
                let mut keys = 0u64;
                let mut progress = |position: usize| {
                    let position = u64::try_from(position).unwrap_or(u64::MAX);
                    if self.interval == 0 || position / self.interval > published / self.interval {
                        published = position;
                        self.loaded_bytes.store(position, Ordering::Relaxed);
                    }
                    keys += 1;
                    key_load_delay(self.key_load_delay, keys);
                };
                decode_dataset_with_progress(
                    &data,
                    &self.config,
                    &self.options,
                    self.now_ms,
                    self.lru_clock,
                    &mut progress,
                )
            });
        DecodedLoad {
            started: self.started,
            decoded,
        }
    }
}

/// Redis's `debugDelay` after each loaded key: `delay` microseconds, or when negative one
/// microsecond every `-delay` keys (Redis picks those keys at random).
fn key_load_delay(delay: i64, keys: u64) {
    match u64::try_from(delay) {
        Ok(0) => {}
        Ok(micros) => std::thread::sleep(Duration::from_micros(micros)),
        Err(_) => {
            if keys.is_multiple_of(delay.unsigned_abs()) {
                std::thread::sleep(Duration::from_micros(1));
            }
        }
    }
}

/// Ends a startup load: the decoded dataset goes in place (or the failure is logged) and the
/// server stops answering `-LOADING`.
///
/// # Errors
/// The file could not be read or is damaged: the server must not go on (already logged).
pub fn finish_startup_load(server: &mut Server, load: DecodedLoad) -> Result<LoadOutcome, String> {
    use oxidis_core::modules::events::{LoadSource, ServerEvent, fire};
    let result = load
        .decoded
        .and_then(|decoded| install_loaded(server, decoded, false));
    server.persistence_state.loading = None;
    fire(
        server,
        &ServerEvent::LoadingEnd {
            source: LoadSource::Rdb,
            ok: result.is_ok(),
        },
    );
    result?;
    info!(
        "DB loaded from disk: {:.3} seconds",
        load.started.elapsed().as_secs_f64()
    );
    Ok(LoadOutcome::Loaded)
}

/// Reads `dbfilename` and adds its keys to the dataset; with `merge` a loaded key replaces one
/// already in memory, otherwise a duplicate is an error. Nothing changes unless the whole file
/// decodes.
///
/// # Errors
/// The file cannot be read or is damaged. What was wrong is logged the way Redis logs it; the
/// returned text is the last line Redis logs before exiting, for the caller to log.
pub fn load_from_disk(server: &mut Server, merge: bool) -> Result<(), String> {
    use oxidis_core::modules::events::{LoadSource, ServerEvent, fire};
    fire(server, &ServerEvent::LoadingStart(LoadSource::Rdb));
    let result = load_rdb_file(server, merge);
    let ok = result.is_ok();
    fire(
        server,
        &ServerEvent::LoadingEnd {
            source: LoadSource::Rdb,
            ok,
        },
    );
    result
}

/// [`load_from_disk`] between its loading events.
fn load_rdb_file(server: &mut Server, merge: bool) -> Result<(), String> {
    let data = std::fs::read(&server.config.dbfilename)
        .map_err(|e| format!("Fatal error loading the DB: {e}. Exiting."))?;
    let options = LoadOptions::from_config(&server.config, server.list_packed_threshold)
        .with_module_types(&server.modules.types);
    let now_ms = server.now_ms();
    let clock = server.lru_clock();
    let decoded = decode_dataset(&data, &server.config, &options, now_ms, clock);
    install_loaded(server, decoded, merge)
}

/// Puts what decoding a file produced into the dataset, or logs why it could not be decoded.
fn install_loaded(
    server: &mut Server,
    decoded: Result<Loaded, LoadError>,
    merge: bool,
) -> Result<(), String> {
    let loaded = match decoded {
        Ok(loaded) => loaded,
        Err(error) => {
            match &error {
                LoadError::ShortRead => {
                    warn!("Short read or OOM loading DB. Unrecoverable error, aborting now.");
                    warn!(
                        "Internal error in RDB reading offset 0, function at rdb.c:0 -> Unexpected EOF reading RDB file"
                    );
                }
                LoadError::Checksum { .. } => {
                    warn!("{error}");
                    warn!(
                        "Internal error in RDB reading offset 0, function at rdb.c:0 -> RDB CRC error"
                    );
                }
                LoadError::Corrupt(what) => {
                    warn!("{error}");
                    // Redis then runs its RDB check on the file, which reports the error again.
                    warn!("--- RDB ERROR DETECTED --- [offset 0] {what}");
                }
                LoadError::EmptyKey => warn!("{error}"),
            }
            return Err("Terminating server after rdb file reading failure.".to_string());
        }
    };
    if let Some(version) = &loaded.producer_version {
        info!("Loading RDB produced by version {version}");
    }
    for key in &loaded.empty_keys {
        warn!("rdbLoadObject skipping empty key: {key}");
    }
    // Check duplicates before changing anything, so a refused load leaves the dataset as it was.
    if !merge {
        for (index, db) in loaded.dbs.iter().enumerate() {
            let current = &server.dbs[index];
            if let Some(entry) = db.iter().find(|e| current.find(&e.key).is_some()) {
                let message = format!(
                    "RDB has duplicated key '{}' in DB {index}",
                    String::from_utf8_lossy(&entry.key)
                );
                return Err(message);
            }
        }
    }
    // Without MERGE a library that exists already fails the load, as in Redis (DEBUG RELOAD
    // NOFLUSH keeps the libraries).
    if !merge {
        let current = &server.persistence_state.function_code;
        if let Some(name) = loaded
            .functions
            .iter()
            .filter_map(|code| library_name(code))
            .find(|name| current.iter().any(|c| library_name(c) == Some(*name)))
        {
            let name = String::from_utf8_lossy(name);
            return Err(format!("Library '{name}' already exists"));
        }
    }
    let mut dbs = loaded.dbs;
    // Modules subscribed to `loaded` hear of every key the file brought (Redis's
    // NOTIFY_LOADED), before the loading-end event.
    if server.events.module_mask & oxidis_core::events::class::LOADED != 0 {
        for (index, db) in dbs.iter().enumerate() {
            for entry in db.iter() {
                server.events.push(oxidis_core::events::KeyEvent {
                    class: oxidis_core::events::class::LOADED,
                    name: "loaded",
                    db: index,
                    key: bytes::Bytes::copy_from_slice(entry.key.as_slice()),
                });
            }
        }
    }
    for (index, db) in dbs.iter_mut().enumerate() {
        let current = &mut server.dbs[index];
        if current.is_empty() {
            std::mem::swap(current, db);
            continue;
        }
        let mut entries = db.take_entries();
        while !entries.is_empty() {
            let entry = entries.swap_remove(entries.len() - 1);
            current.remove(&entry.key);
            let expire = entry.expire_at();
            current.insert_new(entry.key, entry.value, expire, entry.access_clock);
        }
    }
    if !server.events.is_empty() {
        oxidis_core::events::deliver(server);
    }
    let state = &mut server.persistence_state;
    state.last_load_keys_loaded = loaded.keys_loaded;
    state.last_load_keys_expired = loaded.keys_expired;
    state.function_code = loaded.functions;
    if loaded.empty_keys_skipped > 0 {
        warn!(
            "Done loading RDB, keys loaded: {}, keys expired: {}, empty keys skipped: {}.",
            loaded.keys_loaded, loaded.keys_expired, loaded.empty_keys_skipped
        );
    } else {
        info!(
            "Done loading RDB, keys loaded: {}, keys expired: {}.",
            loaded.keys_loaded, loaded.keys_expired
        );
    }
    Ok(())
}

/// [`load_from_disk`] for DEBUG RELOAD, logging the final line itself.
pub(crate) fn reload_from_disk(server: &mut Server, merge: bool) -> Result<(), String> {
    load_from_disk(server, merge).inspect_err(|message| warn!("{message}"))
}

/// The library name a function library's code declares (`#!lua name=<name>` on its first line).
fn library_name(code: &[u8]) -> Option<&[u8]> {
    let first_line = code.split(|&b| b == b'\n').next()?;
    first_line
        .split(|&b| b == b' ')
        .find_map(|word| word.strip_prefix(b"name="))
}
