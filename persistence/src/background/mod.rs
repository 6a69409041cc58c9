//! Forkless background saves: BGSAVE, the `save` points, the background AOF rewrite, and the
//! walk that drives them.
//!
//! Redis forks and writes from the child. We snapshot in place (see `oxidis_core::db::snapshot`):
//! starting a save opens a snapshot epoch in every non-empty database and sends the file header
//! to a writer thread. A pump thread of the server crate then calls [`step`] under the keyspace
//! lock, about a millisecond at a time: it walks the databases in index order (as they were
//! numbered when the save began), handing each slice of keys, together with what writes saved
//! before changing entries (copy-before-write), to the writer. Under the lock a key is only
//! cloned ([`deferring_saver`]); the writer serializes it (LZF included), checksums, writes and
//! fsyncs the temp file and renames it into place, sleeping `rdb-key-save-delay` per key, all
//! off the keyspace thread. When the writer is more than [`MAX_QUEUED`] bytes
//! behind, the walk pauses, so memory stays bounded by the keys written to during the save.
//!
//! Emptying a database before the walk saved it (FLUSHALL, FLUSHDB, DEBUG RELOAD) aborts the
//! save, as Redis's FLUSHALL kills its saving child; SWAPDB is harmless (each database keeps
//! the index it had).

mod format;
mod writer;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::Thread;
use std::time::{Duration, Instant};

use oxidis_core::Server;
use oxidis_core::db::{Entry, EntrySaver};
use oxidis_core::types::Value;
use tracing::{info, warn};

use format::FileFormat;
use writer::Chunk;

/// The walk pauses while the writer has this many bytes queued: it keeps just ahead of the
/// writer, so the file's bytes are never all in memory at once.
const MAX_QUEUED: usize = 1 << 20;
/// The time one [`step`] may hold the keyspace lock.
const SLICE: Duration = Duration::from_millis(1);
/// Positions visited between two looks at the clock.
const BATCH: usize = 64;
/// Redis retries a failed automatic save after this many seconds.
const RETRY_DELAY_SECS: u64 = 5;

/// `rdb-key-save-delay`, for the writer thread (Redis reads it for every key it saves).
static KEY_SAVE_DELAY: AtomicI64 = AtomicI64::new(0);
/// Whether a save is under way (the pump thread sleeps otherwise).
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// The walk waits for the writer (it is [`MAX_QUEUED`] bytes behind, or only the writer is
/// left): the pump sleeps without taking the keyspace lock until the writer wakes it.
static WAITING_FOR_WRITER: AtomicBool = AtomicBool::new(false);
/// The pump thread, woken when a save starts.
static PUMP: OnceLock<Thread> = OnceLock::new();

/// The save under way and what waits for it, kept in `Server::extensions`.
#[derive(Default)]
pub(crate) struct Background {
    job: Option<Job>,
    /// BGSAVE SCHEDULE: start a save as soon as nothing else runs.
    pub(crate) bgsave_scheduled: bool,
    /// Unix seconds of the last automatic or scheduled save attempt.
    last_try_secs: u64,
}

/// What a job produces.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// BGSAVE: `dbfilename`.
    Rdb,
    /// The background AOF rewrite: a new base file, installed by [`crate::aof`] when written.
    Aof {
        /// `aof-use-rdb-preamble`: the base is an RDB image, else commands.
        rdb: bool,
    },
}

/// One save being written.
struct Job {
    kind: Kind,
    format: FileFormat,
    /// What follows the last database, made when the save began.
    trailer: Vec<u8>,
    started: Instant,
    started_ms: u64,
    /// `dirty` when the save began: what the save covers.
    dirty_at_start: u64,
    /// The databases to write, by the index they had at the start: (index, keys, volatile),
    /// and the entries cloned for the writer to serialize.
    plan: Vec<(usize, usize, usize, Deferred)>,
    /// The entry of `plan` being walked.
    next: usize,
    /// Its SELECTDB header was sent.
    section_open: bool,
    /// Everything was handed to the writer.
    walk_done: bool,
    tx: Option<Sender<Chunk>>,
    queued: Arc<AtomicUsize>,
    cancel: Arc<AtomicBool>,
    outcome: Arc<Mutex<Option<Result<(), String>>>>,
    temp: String,
    thread: std::thread::JoinHandle<()>,
    /// Keys the writer has written.
    written: Arc<AtomicUsize>,
    /// Copy-before-write bytes of the databases already walked.
    cow_walked: usize,
}

/// The writer made room in its queue (or ended): the pump may walk again.
pub(super) fn writer_progressed(queued: usize, ended: bool) {
    if (ended || queued <= MAX_QUEUED / 2)
        && WAITING_FOR_WRITER.swap(false, Ordering::SeqCst)
        && let Some(pump) = PUMP.get()
    {
        pump.unpark();
    }
}

/// Lets the pump thread know it exists; [`start_bgsave`] wakes it.
pub fn register_pump(thread: Thread) {
    let _ = PUMP.set(thread);
}

/// Whether a background save needs the pump (cheap, no lock).
pub fn active() -> bool {
    ACTIVE.load(Ordering::Acquire)
        && !WAITING_FOR_WRITER.load(Ordering::Acquire)
        && clock_ms().saturating_sub(BATCH_STEPPED_AT.load(Ordering::Relaxed)) > PUMP_BACKOFF_MS
}

/// Whether a BGSAVE is under way.
pub fn bgsave_in_progress(server: &Server) -> bool {
    server.persistence_state.bgsave_started_ms.is_some()
}

/// Starts a background save of the whole dataset to `dbfilename`.
///
/// # Errors
/// The temp file could not be created or the writer thread not started (logged).
pub fn start_bgsave(server: &mut Server) -> Result<(), String> {
    start_job(server, Kind::Rdb)
}

/// The temp file a job of `kind` writes, in the working directory (Redis's child names).
pub(crate) fn temp_name(kind: &Kind) -> String {
    let pid = std::process::id();
    match kind {
        Kind::Rdb => crate::temp_file_name(),
        Kind::Aof { .. } => format!("temp-rewriteaof-bg-{pid}.aof"),
    }
}

/// Starts a job: the snapshot opens in every non-empty database and the writer starts.
///
/// # Errors
/// The temp file could not be created or the writer thread not started (logged).
pub(crate) fn start_job(server: &mut Server, kind: Kind) -> Result<(), String> {
    let pid = std::process::id();
    let temp = temp_name(&kind);
    let file = std::fs::File::create(&temp).map_err(|e| {
        let dir = std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        let message = match kind {
            Kind::Rdb => format!(
                "Failed opening the temp RDB file {temp} (in server root dir {dir}) for saving: {e}"
            ),
            Kind::Aof { .. } => {
                format!("Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): {e}")
            }
        };
        warn!("{message}");
        message
    })?;
    let format = match kind {
        Kind::Rdb => FileFormat::Rdb { aof_base: false },
        Kind::Aof { rdb: true } => FileFormat::Rdb { aof_base: true },
        Kind::Aof { rdb: false } => FileFormat::Commands,
    };
    let header = format.header(server);
    let trailer = format.trailer(server);
    let saver = format.saver(server);
    let queued = Arc::new(AtomicUsize::new(0));
    let written = Arc::new(AtomicUsize::new(0));
    let cancel = Arc::new(AtomicBool::new(false));
    let outcome = Arc::new(Mutex::new(None));
    let (tx, rx) = std::sync::mpsc::channel();
    let rdb_target = matches!(kind, Kind::Rdb);
    let spawned = writer::spawn(writer::Target {
        file,
        saver: saver.clone(),
        rx,
        queued: queued.clone(),
        written: written.clone(),
        cancel: cancel.clone(),
        outcome: outcome.clone(),
        temp: temp.clone(),
        rename_to: rdb_target.then(|| server.config.dbfilename.clone()),
        crc: format.has_checksum().then_some(server.config.rdbchecksum),
        // Redis sleeps in AOF rewrites too, but the suite only slows rewrites down to kill
        // the child meanwhile; a rewrite nobody can kill would then stall every later test.
        key_delay: rdb_target,
    });
    let thread = match spawned {
        Ok(thread) => thread,
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            let message = format!("Can't save in background: {e}");
            warn!("{message}");
            return Err(message);
        }
    };
    KEY_SAVE_DELAY.store(key_save_delay(server), Ordering::Relaxed);
    let mut plan = Vec::new();
    for (index, db) in server.dbs.iter_mut().enumerate() {
        if db.is_empty() {
            continue;
        }
        let deferred = Deferred::default();
        plan.push((index, db.len(), db.volatile_len(), deferred.clone()));
        db.snapshot_begin(index, deferring_saver(saver.clone(), deferred));
    }
    queued.fetch_add(header.len(), Ordering::Relaxed);
    let _ = tx.send(Chunk::Data {
        bytes: header,
        entries: Vec::new(),
        estimate: 0,
        keys: 0,
    });
    let now_ms = server.now_ms();
    match kind {
        Kind::Rdb => info!("Background saving started by pid {pid}"),
        Kind::Aof { .. } => {
            info!("Background append only file rewriting started by pid {pid}");
        }
    }
    let total: usize = server.dbs.iter().map(|db| db.len()).sum();
    let state = &mut server.persistence_state;
    match kind {
        Kind::Rdb => {
            state.bgsave_started_ms = Some(now_ms);
            // Redis counts a BGSAVE in `rdb_saves` when it starts.
            state.saves += 1;
        }
        Kind::Aof { .. } => {
            state.aof_rewrite_started_ms = Some(now_ms);
            state.aof_rewrite_scheduled = false;
        }
    }
    state.save_keys_total = total as u64;
    state.save_keys_processed = 0;
    state.cow_bytes = 0;
    let background = server.extensions.get_or_insert_with(Background::default);
    background.last_try_secs = now_ms / 1000;
    background.job = Some(Job {
        kind,
        format,
        trailer,
        started: Instant::now(),
        started_ms: now_ms,
        dirty_at_start: server.dirty,
        plan,
        next: 0,
        section_open: false,
        walk_done: false,
        tx: Some(tx),
        queued,
        cancel,
        outcome,
        temp,
        thread,
        written,
        cow_walked: 0,
    });
    WAITING_FOR_WRITER.store(false, Ordering::Release);
    ACTIVE.store(true, Ordering::Release);
    if let Some(pump) = PUMP.get() {
        pump.unpark();
    }
    Ok(())
}

/// Whether a job of either kind runs (Redis's `hasActiveChildProcess`).
pub fn job_running(server: &Server) -> bool {
    let state = &server.persistence_state;
    state.bgsave_started_ms.is_some() || state.aof_rewrite_started_ms.is_some()
}

/// `rdb-key-save-delay`, microseconds.
pub(crate) fn key_save_delay(server: &Server) -> i64 {
    server
        .config
        .get("rdb-key-save-delay")
        .and_then(|v| std::str::from_utf8(&v).ok()?.parse().ok())
        .unwrap_or(0)
}

/// One slice of the save under way, under the keyspace lock. Returns whether there is more
/// walking to do at once (otherwise the pump may sleep a little: the writer is behind, or only
/// the writer is left).
pub fn step(server: &mut Server) -> bool {
    KEY_SAVE_DELAY.store(key_save_delay(server), Ordering::Relaxed);
    step_within(server, SLICE, BATCH)
}

/// A small slice of the walk at the end of a batch of commands, under the lock the batch
/// holds already: while clients keep the server busy, the walk advances with their batches
/// instead of through lock hand-offs to the pump thread (each of which can cost the serving
/// thread its CPU on a busy machine), and the pump stands back.
pub fn step_after_batch(server: &mut Server) {
    if !ACTIVE.load(Ordering::Acquire) || WAITING_FOR_WRITER.load(Ordering::Acquire) {
        return;
    }
    BATCH_STEPPED_AT.store(clock_ms(), Ordering::Relaxed);
    step_within(server, Duration::ZERO, AFTER_BATCH_ENTRIES);
}

/// Entries the walk visits after each batch of commands.
const AFTER_BATCH_ENTRIES: usize = 16;
/// The pump stands back while batches advanced the walk within this many milliseconds.
const PUMP_BACKOFF_MS: u64 = 5;
/// When a batch last advanced the walk ([`clock_ms`]).
static BATCH_STEPPED_AT: AtomicU64 = AtomicU64::new(0);

/// Milliseconds since the first call, monotonic.
fn clock_ms() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    u64::try_from(BASE.get_or_init(Instant::now).elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// [`step`] for at most `slice` (at least one round of `entries` positions).
fn step_within(server: &mut Server, slice: Duration, entries: usize) -> bool {
    let Some(mut job) = server
        .extensions
        .get_mut::<Background>()
        .and_then(|state| state.job.take())
    else {
        ACTIVE.store(false, Ordering::Release);
        return false;
    };
    let cow: usize = server.dbs.iter().map(|db| db.snapshot_cow_bytes()).sum();
    let state = &mut server.persistence_state;
    state.cow_bytes = (job.cow_walked + cow) as u64;
    state.save_keys_processed = job.written.load(Ordering::Relaxed) as u64;
    let outcome = job.outcome.lock().ok().and_then(|mut o| o.take());
    if let Some(outcome) = outcome {
        finish(server, job, outcome);
        return false;
    }
    let more = if job.walk_done || job.queued.load(Ordering::Relaxed) > MAX_QUEUED {
        // Nothing to do until the writer catches up or ends: stop taking the lock meanwhile
        // (it wakes the pump; a wake-up missed in between costs one park timeout).
        WAITING_FOR_WRITER.store(true, Ordering::SeqCst);
        let resume = if job.walk_done {
            job.outcome.lock().map_or(true, |outcome| outcome.is_some())
        } else {
            job.queued.load(Ordering::SeqCst) <= MAX_QUEUED / 2
        };
        if resume {
            WAITING_FOR_WRITER.store(false, Ordering::SeqCst);
        }
        false
    } else {
        match walk(server, &mut job, slice, entries) {
            Ok(more) => more,
            Err(reason) => {
                let rewrite = matches!(job.kind, Kind::Aof { .. });
                abort_job(server, job, &reason);
                // The rewrite's incr file keeps everything; a new rewrite picks up from there.
                server.persistence_state.aof_rewrite_scheduled |= rewrite;
                return false;
            }
        }
    };
    if let Some(state) = server.extensions.get_mut::<Background>() {
        state.job = Some(job);
    }
    more
}

/// Entries of one database cloned under the lock for the writer to serialize.
type Deferred = Arc<Mutex<Vec<Entry>>>;

/// The snapshot's saver: a clone of the entry is kept for the writer thread, which serializes
/// it, instead of serializing (and LZF-compressing) under the keyspace lock. Module values,
/// whose copies may share state with the original, are serialized at once.
fn deferring_saver(saver: EntrySaver, deferred: Deferred) -> EntrySaver {
    Arc::new(move |entry: &Entry, out: &mut Vec<u8>| {
        if matches!(entry.value, Value::Module(_)) {
            saver(entry, out);
            return;
        }
        match deferred.lock() {
            Ok(mut entries) => entries.push(entry.clone()),
            Err(_) => saver(entry, out),
        }
    })
}

/// What a cloned entry weighs in the writer's queue.
fn estimate(entry: &Entry) -> usize {
    ENTRY_OVERHEAD + entry.key.as_slice().len() + entry.value.heap_size()
}

/// The fixed part of [`estimate`]: the entry itself and its serialization's framing.
const ENTRY_OVERHEAD: usize = 64;

/// Walks for about [`SLICE`]; returns whether the walk has more to do.
fn walk(
    server: &mut Server,
    job: &mut Job,
    slice: Duration,
    entries_per_round: usize,
) -> Result<bool, String> {
    let deadline = Instant::now() + slice;
    while let Some((origin, keys, volatile, deferred)) = job.plan.get(job.next).cloned() {
        let Some(db) = server
            .dbs
            .iter_mut()
            .find(|db| db.snapshot_origin() == Some(origin))
        else {
            return Err(format!("database {origin} is gone"));
        };
        if db.snapshot_abandoned() {
            return Err(format!("database {origin} was emptied"));
        }
        let mut bytes = Vec::new();
        if !job.section_open {
            job.format.db_header(&mut bytes, origin, keys, volatile);
            job.section_open = true;
        }
        let mut entries = Vec::new();
        let mut weight = 0;
        let mut count = 0;
        let mut done = false;
        let mut rounds = 0;
        while !done
            && (rounds == 0 || Instant::now() < deadline && bytes.len() + weight < MAX_QUEUED / 4)
        {
            rounds += 1;
            done = db.snapshot_step(entries_per_round);
            let (out, n) = db.snapshot_take_output();
            bytes.extend_from_slice(&out);
            count += n;
            if let Ok(mut cloned) = deferred.lock() {
                weight += cloned.iter().map(estimate).sum::<usize>();
                if entries.is_empty() {
                    entries = std::mem::take(&mut *cloned);
                } else {
                    entries.append(&mut cloned);
                }
            }
        }
        send(job, bytes, entries, weight, count);
        if !done {
            return Ok(true);
        }
        job.cow_walked += db.snapshot_cow_bytes();
        db.snapshot_end();
        job.next += 1;
        job.section_open = false;
        if Instant::now() >= deadline && job.next < job.plan.len() {
            return Ok(true);
        }
    }
    let trailer = std::mem::take(&mut job.trailer);
    send(job, trailer, Vec::new(), 0, 0);
    if let Some(tx) = job.tx.take() {
        let _ = tx.send(Chunk::Finish);
    }
    job.walk_done = true;
    Ok(false)
}

fn send(job: &Job, bytes: Vec<u8>, entries: Vec<Entry>, estimate: usize, keys: usize) {
    if bytes.is_empty() && entries.is_empty() && keys == 0 {
        return;
    }
    if let Some(tx) = &job.tx {
        job.queued
            .fetch_add(bytes.len() + estimate, Ordering::Relaxed);
        let _ = tx.send(Chunk::Data {
            bytes,
            entries,
            estimate,
            keys,
        });
    }
}

/// The writer is done: record the outcome as Redis's parent does when its child exits.
fn finish(server: &mut Server, job: Job, outcome: Result<(), String>) {
    end_snapshots(server);
    ACTIVE.store(false, Ordering::Release);
    let state = &mut server.persistence_state;
    state.last_cow_bytes = state.cow_bytes;
    if let Kind::Aof { rdb } = job.kind {
        state.aof_rewrite_started_ms = None;
        crate::aof::background_rewrite_done(server, &job.temp, rdb, job.started, outcome);
        return;
    }
    state.bgsave_started_ms = None;
    state.last_bgsave_secs = Some(job.started.elapsed().as_secs());
    match outcome {
        Ok(()) => {
            info!("Background saving terminated with success");
            server.dirty = server.dirty.saturating_sub(job.dirty_at_start);
            server.last_save_unix = job.started_ms / 1000;
            state.last_save_failed = false;
        }
        Err(message) => {
            warn!("{message}");
            warn!("Background saving error");
            state.last_save_failed = true;
        }
    }
}

fn end_snapshots(server: &mut Server) {
    for db in &mut server.dbs {
        db.snapshot_end();
    }
}

/// Stops the job under way: the writer gives up and the temp file is removed. A rewrite
/// stopped because a database was emptied under it runs again afterwards.
fn abort_job(server: &mut Server, job: Job, reason: &str) {
    job.cancel.store(true, Ordering::Release);
    drop(job.tx);
    // The writer notices within ~10 ms; waiting for it means it can no longer rename anything.
    let _ = job.thread.join();
    let _ = std::fs::remove_file(&job.temp);
    end_snapshots(server);
    ACTIVE.store(false, Ordering::Release);
    let state = &mut server.persistence_state;
    match job.kind {
        Kind::Rdb => {
            state.bgsave_started_ms = None;
            // Like a child killed on purpose (SIGUSR1): not counted as a failed save.
            warn!("Background saving terminated: {reason}");
        }
        Kind::Aof { .. } => {
            state.aof_rewrite_started_ms = None;
            warn!("Background AOF rewrite terminated: {reason}");
        }
    }
}

/// Takes the job under way if `wanted` says so.
fn take_job(server: &mut Server, wanted: impl Fn(&Kind) -> bool) -> Option<Job> {
    let state = server.extensions.get_mut::<Background>()?;
    if !state.job.as_ref().is_some_and(|job| wanted(&job.kind)) {
        return None;
    }
    state.job.take()
}

/// Kills the BGSAVE under way, if any (SHUTDOWN, FLUSHALL's and DEBUG RELOAD's saves), and
/// removes its temp file, as Redis does with its child.
pub fn kill_bgsave(server: &mut Server, why: &str) {
    if let Some(job) = take_job(server, |kind| matches!(kind, Kind::Rdb)) {
        warn!("{why}");
        abort_job(server, job, "killed");
    }
}

/// [`kill_bgsave`] without a log line of its own (FLUSHALL).
pub fn kill_quietly(server: &mut Server) {
    if let Some(job) = take_job(server, |kind| matches!(kind, Kind::Rdb)) {
        abort_job(server, job, "killed by FLUSHALL");
    }
}

/// Kills the AOF rewrite under way, if any (the AOF turned off or on again, SHUTDOWN).
pub fn kill_rewrite(server: &mut Server, why: &str) {
    if let Some(job) = take_job(server, |kind| matches!(kind, Kind::Aof { .. })) {
        warn!("{why}");
        abort_job(server, job, "killed");
    }
}

/// The cron's part: BGSAVE SCHEDULE, a rewrite waiting for a save, the `save` points
/// (serverCron's checks, in its order).
pub fn cron(server: &mut Server) {
    if job_running(server) {
        return;
    }
    let now_secs = server.now_ms() / 1000;
    if server.persistence_state.aof_rewrite_scheduled {
        let _ = crate::aof::start_rewrite(server);
        return;
    }
    let state = server.extensions.get_or_insert_with(Background::default);
    let last_try = state.last_try_secs;
    let scheduled = std::mem::take(&mut state.bgsave_scheduled);
    let since_save = now_secs.saturating_sub(server.last_save_unix);
    let may_retry = now_secs.saturating_sub(last_try) > RETRY_DELAY_SECS
        || !server.persistence_state.last_save_failed;
    let due = server
        .config
        .save
        .iter()
        .find(|&&(seconds, changes)| server.dirty >= changes && since_save > seconds);
    if let Some(&(seconds, _)) = due
        && may_retry
    {
        info!("{} changes in {seconds} seconds. Saving...", server.dirty);
        let _ = start_bgsave(server);
    } else if scheduled {
        let _ = start_bgsave(server);
    }
}
