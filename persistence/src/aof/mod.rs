//! The append-only file, as Redis 7.0 keeps it: a directory (`appenddirname`, inside `dir`)
//! holding a base file (an RDB image, `aof-use-rdb-preamble yes`, or commands), incr files of
//! the commands since, and the manifest naming them (`appendfilename.manifest`).
//!
//! # How it works
//! While the AOF is on, the core collects the write stream ([`oxidis_core::propagation`]).
//! The server crate calls [`after_batch`] after each batch of commands, still under the
//! keyspace lock and before the replies go out: the stream is written to the current incr
//! file and, with `appendfsync always`, fsynced — so a write is on disk before it is
//! acknowledged. With `everysec` the cron ([`cron`]) hands the file to a background thread to
//! fsync once a second; with `no` the OS decides.
//!
//! Rewrites (BGREWRITEAOF, the automatic trigger: [`start_rewrite`]) run in the background:
//! a new incr file starts at once, and a forkless snapshot job ([`crate::background`]) writes
//! the base as the dataset was at that instant; then the manifest is replaced atomically (temp
//! file, fsync, rename) and the files the base superseded ("history") are deleted. CONFIG SET
//! appendonly yes still writes its first base synchronously ([`rewrite`]).
//!
//! The writer lives in `Server::aof` (a `Box<dyn Any>` the core only holds).

mod commands;
mod durability;
pub mod load;
pub mod manifest;
mod rewrite;
#[cfg(test)]
pub(crate) use rewrite::base_contents_for_test;
#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use oxidis_core::Server;
use oxidis_core::server::AofHooks;
use tracing::{info, warn};

pub use commands::FAMILY as FAMILY_AOF;
use durability::Durability;
pub use durability::SyncWait;
use load::{FileOutcome, load_file};
use manifest::{FileInfo, FileType, Manifest};
pub(crate) use rewrite::background_rewrite_done;
pub use rewrite::{rewrite, start_rewrite};

/// The hooks the core calls (CONFIG SET appendonly).
pub const AOF_HOOKS: AofHooks = AofHooks {
    set_enabled,
    load: load_for_debug,
    config_changed,
};

/// `appendfsync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FsyncPolicy {
    Always,
    EverySec,
    No,
}

/// The open AOF: the manifest and the incr file being appended to.
pub struct Aof {
    /// The directory, relative to the working directory (`dir`).
    dir: String,
    /// `appendfilename`, the prefix of every file name.
    prefix: String,
    manifest: Manifest,
    file: File,
    /// Bytes of the base file and of the incr files before the current one.
    older_size: u64,
    /// Bytes in the current incr file.
    incr_size: u64,
    /// `incr_size` when the last fsync began.
    fsynced_size: u64,
    last_fsync: Instant,
    /// Set while the background thread fsyncs.
    fsync_running: Arc<AtomicBool>,
    /// The unix second of the last `#TS:` annotation.
    last_timestamp: u64,
    /// The write buffer, written and (with `appendfsync always`) fsynced once per group.
    durability: Arc<Durability>,
    /// `appendfsync` and `aof-timestamp-enabled`, read once per CONFIG SET rather than by
    /// name after every batch.
    policy: FsyncPolicy,
    timestamps: bool,
}

impl Drop for Aof {
    fn drop(&mut self) {
        self.durability.stop();
    }
}

/// Whether a yes/no parameter is on.
pub(crate) fn config_flag(server: &Server, name: &str) -> bool {
    server.config.get(name).as_deref() == Some(b"yes".as_slice())
}

fn config_number(server: &Server, name: &str) -> u64 {
    server
        .config
        .get(name)
        .and_then(|v| std::str::from_utf8(&v).ok()?.parse().ok())
        .unwrap_or(0)
}

fn fsync_policy(server: &Server) -> FsyncPolicy {
    match server.config.get("appendfsync").as_deref() {
        Some(b"always") => FsyncPolicy::Always,
        Some(b"no") => FsyncPolicy::No,
        _ => FsyncPolicy::EverySec,
    }
}

fn aof_mut(server: &mut Server) -> Option<&mut Aof> {
    server.aof.as_mut()?.downcast_mut::<Aof>()
}

/// Reads the manifest of the AOF directory; an absent directory or manifest is an empty one.
///
/// # Errors
/// The manifest is damaged (logged as Redis logs it): the server must not start.
fn read_manifest(dir: &str, prefix: &str) -> Result<Manifest, String> {
    let path = format!("{dir}/{prefix}.manifest");
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Manifest::default()),
        Err(e) => {
            let message =
                format!("Fatal error: can't open the AOF manifest file {path} for reading: {e}");
            warn!("{message}");
            return Err(message);
        }
    };
    Manifest::parse(&text).map_err(|error| {
        warn!("\n*** FATAL AOF MANIFEST FILE ERROR ***\n");
        if let Some((number, line)) = &error.line {
            warn!("Reading the manifest file, at line {number}\n");
            warn!(">>> '{line}'\n");
        }
        warn!("{}\n", error.message);
        error.message.to_string()
    })
}

/// Writes the manifest atomically: a temp file, fsync, rename, fsync of the directory.
fn persist_manifest(dir: &str, prefix: &str, manifest: &Manifest) -> Result<(), String> {
    let temp = format!("{dir}/temp-{prefix}.manifest");
    let target = format!("{dir}/{prefix}.manifest");
    let written = File::create(&temp)
        .map_err(|e| format!("Can't open the AOF manifest file {temp}: {e}"))
        .and_then(|mut file| {
            file.write_all(manifest.render().as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| {
                    format!("Error trying to write the temporary AOF manifest file {temp}: {e}")
                })
        })
        .and_then(|()| {
            std::fs::rename(&temp, &target).map_err(|e| {
                format!("Error trying to rename the temporary AOF manifest file {temp} into {target}: {e}")
            })
        });
    if let Err(message) = written {
        warn!("{message}");
        let _ = std::fs::remove_file(&temp);
        return Err(message);
    }
    sync_dir(dir);
    Ok(())
}

fn sync_dir(dir: &str) {
    if let Ok(handle) = File::open(dir)
        && let Err(e) = handle.sync_all()
    {
        warn!("Fail to fsync AOF directory {dir}: {e}.");
    }
}

fn file_size(dir: &str, name: &str) -> u64 {
    std::fs::metadata(format!("{dir}/{name}")).map_or(0, |m| m.len())
}

fn open_append(dir: &str, name: &str, truncate: bool) -> Result<File, String> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true);
    if truncate {
        options.write(true).truncate(true);
    } else {
        options.append(true);
    }
    options.open(format!("{dir}/{name}")).map_err(|e| {
        let message = format!("Can't open the append-only file {name}: {e}");
        warn!("{message}");
        message
    })
}

fn create_dir(dir: &str) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| {
        let message = format!("Can't open or create append-only dir {dir}: {e}");
        warn!("{message}");
        message
    })
}

/// Loads the dataset from the AOF at startup (`appendonly yes`), then opens it for appending:
/// with no AOF yet, a base is written from the dataset; the last incr file is reopened, or a
/// new one created.
///
/// # Errors
/// The AOF is damaged or cannot be opened (already logged): the server must not start.
pub fn load_at_startup(server: &mut Server) -> Result<(), String> {
    let dir = server.config.appenddirname.clone();
    let prefix = server.config.appendfilename.clone();
    let mut manifest = if std::path::Path::new(&dir).is_dir() {
        read_manifest(&dir, &prefix)?
    } else {
        Manifest::default()
    };
    // An old-style single AOF in `dir`: move it into the directory as the base.
    if std::path::Path::new(&prefix).is_file()
        && (manifest.base.is_none() && manifest.incrs.is_empty()
            || manifest.incrs.is_empty()
                && manifest.base.as_ref().is_some_and(|b| b.name == prefix)
                && !std::path::Path::new(&format!("{dir}/{prefix}")).exists())
    {
        create_dir(&dir)?;
        manifest.base = Some(FileInfo {
            name: prefix.clone(),
            seq: 1,
            kind: FileType::Base,
        });
        manifest.base_seq = 1;
        persist_manifest(&dir, &prefix, &manifest)?;
        std::fs::rename(&prefix, format!("{dir}/{prefix}")).map_err(|e| {
            let message =
                format!("Error trying to move the old AOF file {prefix} into dir {dir}: {e}");
            warn!("{message}");
            message
        })?;
        info!(
            "Successfully migrated an old-style AOF file ({prefix}) into the AOF directory ({dir})."
        );
    }
    let started = Instant::now();
    server.loading = true;
    let loaded = load_files_with_events(server, &dir, &prefix, &manifest);
    server.loading = false;
    let loaded = loaded?;
    if loaded {
        info!(
            "DB loaded from append only file: {} seconds",
            load::seconds_since(started)
        );
    }
    open(server, dir, prefix, manifest, true)
}

/// Loads the files the manifest names; whether there was anything to load.
fn load_files(
    server: &mut Server,
    dir: &str,
    prefix: &str,
    manifest: &Manifest,
) -> Result<bool, String> {
    let files: Vec<&FileInfo> = manifest.base.iter().chain(&manifest.incrs).collect();
    if files.is_empty() {
        return Ok(false);
    }
    let mut total = 0;
    for info in &files {
        match std::fs::metadata(format!("{dir}/{}", info.name)) {
            Ok(meta) => total += meta.len(),
            Err(e) => {
                let message = format!(
                    "Unable to obtain the AOF file {} length. stat: {e}",
                    info.name
                );
                warn!("{message}");
                return Err(message);
            }
        }
    }
    if total == 0 {
        return Ok(false);
    }
    let count = files.len();
    for (index, info) in files.iter().enumerate() {
        let last = index + 1 == count;
        let started = Instant::now();
        let old_style = info.name == prefix;
        let outcome = load_file(server, dir, &info.name, old_style);
        let kind = if info.kind == FileType::Base {
            "base"
        } else {
            "incr"
        };
        match outcome {
            FileOutcome::Ok => info!(
                "DB loaded from {kind} file {}: {} seconds",
                info.name,
                load::seconds_since(started)
            ),
            FileOutcome::Truncated if last => info!(
                "DB loaded from {kind} file {}: {} seconds",
                info.name,
                load::seconds_since(started)
            ),
            FileOutcome::Truncated => {
                let message = "Fatal error: the truncated file is not the last file";
                warn!("{message}");
                return Err(message.into());
            }
            FileOutcome::Empty => {}
            FileOutcome::NotExist | FileOutcome::Failed => {
                return Err(format!("Failed loading the AOF file {}", info.name));
            }
        }
    }
    server.aof_status.base_size = manifest
        .base
        .as_ref()
        .map_or(0, |b| file_size(dir, &b.name));
    Ok(true)
}

/// Opens the AOF for appending and turns the propagation stream on. At startup (`on_start`)
/// an existing last incr file is reopened; with no files at all a base is written first.
fn open(
    server: &mut Server,
    dir: String,
    prefix: String,
    mut manifest: Manifest,
    on_start: bool,
) -> Result<(), String> {
    create_dir(&dir)?;
    if manifest.base.is_none() && manifest.incrs.is_empty() {
        let name = rewrite::write_base(server, &dir, &prefix, &mut manifest)?;
        info!("Creating AOF base file {name} on server start");
    }
    let reopen = on_start && !manifest.incrs.is_empty();
    let name = match manifest.incrs.last() {
        Some(last) if reopen => last.name.clone(),
        _ => manifest.new_incr(&prefix),
    };
    let file = open_append(&dir, &name, !reopen)?;
    persist_manifest(&dir, &prefix, &manifest)?;
    if reopen {
        info!("Opening AOF incr file {name} on server start");
    } else if on_start {
        info!("Creating AOF incr file {name} on server start");
    } else {
        info!("Creating AOF incr file {name} on background rewrite");
    }
    let incr_size = file_size(&dir, &name);
    let older_size = manifest
        .base
        .iter()
        .chain(manifest.incrs.iter().filter(|i| i.name != name))
        .map(|i| file_size(&dir, &i.name))
        .sum();
    let durability = Durability::start(&file);
    let mut aof = Aof {
        dir,
        prefix,
        manifest,
        file,
        older_size,
        incr_size,
        fsynced_size: incr_size,
        last_fsync: Instant::now(),
        fsync_running: Arc::new(AtomicBool::new(false)),
        last_timestamp: 0,
        durability,
        policy: fsync_policy(server),
        timestamps: config_flag(server, "aof-timestamp-enabled"),
    };
    delete_history(server, &mut aof);
    server.aof_status.enabled = true;
    server.aof_status.current_size = aof.older_size + aof.incr_size;
    if server.aof_status.base_size == 0 {
        server.aof_status.base_size = server.aof_status.current_size;
    }
    // What the stream held before went to the replicas already.
    if server.propagation.is_enabled() {
        let _ = oxidis_core::replication::drain(server);
    }
    server.aof = Some(Box::new(aof));
    server.propagation.set_enabled(true);
    server.propagation.force_select();
    Ok(())
}

/// Deletes the files a rewrite superseded, unless `aof-disable-auto-gc`.
fn delete_history(server: &Server, aof: &mut Aof) {
    if aof.manifest.history.is_empty() || config_flag(server, "aof-disable-auto-gc") {
        return;
    }
    for info in aof.manifest.history.drain(..) {
        info!("Removing the history file {} in the background", info.name);
        let _ = std::fs::remove_file(format!("{}/{}", aof.dir, info.name));
    }
    let _ = persist_manifest(&aof.dir, &aof.prefix, &aof.manifest);
}

/// Drains the propagation stream into the incr file and writes it out; with `appendfsync
/// always` fsyncs it too. For the cron, rewrites and shutdown, under the lock.
pub fn after_batch(server: &mut Server) {
    if server.aof.is_none() {
        return;
    }
    let stream = oxidis_core::replication::drain(server);
    // Internal callers (cron, rewrite, shutdown) wait for the write or fsync right here.
    if let Some(wait) = append(server, &stream) {
        wait.wait();
    }
    // And what connections appended but have not written yet.
    if let Some(aof) = aof_mut(server) {
        aof.durability.write_out();
    }
}

/// Appends `stream` (what [`oxidis_core::replication::drain`] took) to the incr file's write
/// buffer: the returned wait, before the batch's replies go out, sees it written (and fsynced
/// with `appendfsync always`) together with the other connections' batches.
pub fn append(server: &mut Server, stream: &[u8]) -> Option<SyncWait> {
    if server.aof.is_none() || stream.is_empty() {
        return None;
    }
    if server.aof_status.flush_sleep_us > 0 {
        std::thread::sleep(std::time::Duration::from_micros(
            server.aof_status.flush_sleep_us,
        ));
    }
    let now_secs = server.now_ms() / 1000;
    let aof = aof_mut(server)?;
    let always = aof.policy == FsyncPolicy::Always;
    if aof.timestamps && now_secs != aof.last_timestamp {
        aof.last_timestamp = now_secs;
        let annotation = format!("#TS:{now_secs}\r\n");
        aof.incr_size += annotation.len() as u64;
        // Waited for with the stream that follows.
        drop(aof.durability.append(annotation.as_bytes(), false));
    }
    aof.incr_size += stream.len() as u64;
    if always {
        aof.fsynced_size = aof.incr_size;
        aof.last_fsync = Instant::now();
    }
    let wait = aof.durability.append(stream, always);
    let failed = aof.durability.write_failed();
    server.aof_status.current_size = aof.older_size + aof.incr_size;
    server.aof_status.last_write_failed = failed;
    Some(wait)
}

/// The AOF's share of the cron: drains what expiry and eviction propagated, starts the
/// once-a-second fsync (`everysec`) on a background thread, and triggers the automatic
/// rewrite (`auto-aof-rewrite-percentage`, `auto-aof-rewrite-min-size`).
pub fn cron(server: &mut Server) {
    if server.aof.is_none() {
        return;
    }
    after_batch(server);
    let policy = fsync_policy(server);
    if let Some(aof) = aof_mut(server) {
        let running = aof.fsync_running.load(Ordering::Acquire);
        if policy == FsyncPolicy::EverySec
            && aof.incr_size != aof.fsynced_size
            && aof.last_fsync.elapsed().as_millis() >= 1000
            && !running
            && let Ok(handle) = aof.file.try_clone()
        {
            aof.durability.write_out();
            aof.fsynced_size = aof.incr_size;
            aof.last_fsync = Instant::now();
            let flag = aof.fsync_running.clone();
            flag.store(true, Ordering::Release);
            let spawned = std::thread::Builder::new()
                .name("aof-fsync".into())
                .spawn(move || {
                    if let Err(e) = handle.sync_data() {
                        warn!("Fail to fsync the AOF file: {e}");
                    }
                    flag.store(false, Ordering::Release);
                });
            if spawned.is_err() {
                aof.fsync_running.store(false, Ordering::Release);
            }
        }
        let running = aof.fsync_running.load(Ordering::Acquire);
        server.aof_status.pending_fsync = running;
    }
    let percentage = config_number(server, "auto-aof-rewrite-percentage");
    let min_size = config_number(server, "auto-aof-rewrite-min-size");
    let current = server.aof_status.current_size;
    if percentage > 0 && current > min_size {
        let base = server.aof_status.base_size.max(1);
        let growth = (current * 100 / base).saturating_sub(100);
        if growth >= percentage && !crate::background::job_running(server) {
            info!("Starting automatic rewriting of AOF on {growth}% growth");
            let _ = start_rewrite(server);
        }
    }
}

/// Writes out and fsyncs everything at shutdown.
pub fn flush_on_shutdown(server: &mut Server) {
    after_batch(server);
    if let Some(aof) = aof_mut(server) {
        info!("Calling fsync() on the AOF file.");
        if let Err(e) = aof.file.sync_all() {
            warn!("Fail to fsync the AOF file: {e}");
        }
    }
}

/// CONFIG SET appendonly: on writes a base from the dataset and starts a new incr file; off
/// flushes, fsyncs and closes.
///
/// # Errors
/// Turning on failed (the AOF stays off).
pub fn set_enabled(server: &mut Server, on: bool) -> Result<(), String> {
    if !on {
        // Redis kills the rewriting child when the AOF is turned off.
        crate::background::kill_rewrite(server, "Killing running AOF rewrite child");
        flush_on_shutdown(server);
        server.aof = None;
        server.aof_status.enabled = false;
        // Replicas may still want the stream.
        oxidis_core::replication::update_propagation(server);
        return Ok(());
    }
    if server.aof.is_some() {
        return Ok(());
    }
    // Turning it on writes a base of its own, here: a rewrite under way would be stale.
    crate::background::kill_rewrite(server, "Killing running AOF rewrite child");
    let dir = server.config.appenddirname.clone();
    let prefix = server.config.appendfilename.clone();
    create_dir(&dir)?;
    let mut manifest = read_manifest(&dir, &prefix).unwrap_or_default();
    let started = Instant::now();
    match rewrite::write_base(server, &dir, &prefix, &mut manifest) {
        Ok(_) => {
            manifest.incrs_to_history();
            server.aof_status.base_size = manifest
                .base
                .as_ref()
                .map_or(0, |b| file_size(&dir, &b.name));
            open(server, dir, prefix, manifest, false)?;
            rewrite::record_success(server, started);
            Ok(())
        }
        Err(e) => {
            server.aof_status.last_rewrite_failed = true;
            Err(e)
        }
    }
}

/// DEBUG LOADAOF: the AOF written out, then loaded into the (emptied) dataset.
///
/// # Errors
/// The AOF could not be loaded (logged).
pub fn load_for_debug(server: &mut Server) -> Result<(), String> {
    flush_on_shutdown(server);
    let dir = server.config.appenddirname.clone();
    let prefix = server.config.appendfilename.clone();
    let manifest = match aof_mut(server) {
        Some(aof) => aof.manifest.clone(),
        None => read_manifest(&dir, &prefix)?,
    };
    // What loading runs must not be appended again.
    let propagating = server.propagation.is_enabled();
    server.propagation.set_enabled(false);
    server.loading = true;
    let loaded = load_files_with_events(server, &dir, &prefix, &manifest);
    server.loading = false;
    server.propagation.set_enabled(propagating);
    loaded.map(|_| ())
}

/// [`load_files`] between the modules' loading events (#9).
fn load_files_with_events(
    server: &mut Server,
    dir: &str,
    prefix: &str,
    manifest: &Manifest,
) -> Result<bool, String> {
    use oxidis_core::modules::events::{LoadSource, ServerEvent, fire};
    fire(server, &ServerEvent::LoadingStart(LoadSource::Aof));
    let loaded = load_files(server, dir, prefix, manifest);
    let ok = loaded.is_ok();
    fire(
        server,
        &ServerEvent::LoadingEnd {
            source: LoadSource::Aof,
            ok,
        },
    );
    loaded
}

/// After CONFIG SET: with `aof-disable-auto-gc no`, history files go at once.
fn config_changed(server: &mut Server) {
    if let Some(boxed) = server.aof.take()
        && let Ok(mut aof) = boxed.downcast::<Aof>()
    {
        aof.policy = fsync_policy(server);
        aof.timestamps = config_flag(server, "aof-timestamp-enabled");
        delete_history(server, &mut aof);
        server.aof = Some(aof);
    }
}
