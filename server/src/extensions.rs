//! Registers every optional crate this build includes into the command table. This is the only
//! place in the workspace where `cfg(feature)` decides what the server can do; a compiled-out
//! command is simply absent and answers `ERR unknown command`, as in Redis.
//!
//! Each optional crate adds one feature in `Cargo.toml` and its lines here: persistence (#6)
//! (#6), scripting (#8) and module plugins (#9).

use oxidis_core::{CommandTable, RegistrationError, Server};

/// Adds the commands of the optional crates compiled into this build.
///
/// # Errors
/// A name clash between crates.
pub fn register_extensions(table: &mut CommandTable) -> Result<(), RegistrationError> {
    #[cfg(feature = "scripting")]
    oxidis_scripting::register(table)?;
    #[cfg(feature = "modules")]
    oxidis_modules::register(table)?;
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
        server.aof_hooks = Some(oxidis_persistence::aof::AOF_HOOKS);
    }
    #[cfg(feature = "modules")]
    {
        server.module_info = Some(oxidis_modules::info_lines);
    }
    let _ = server;
}

/// Loads the `loadmodule` modules, then the dataset from disk (when persistence is compiled
/// in), before the server accepts connections: Redis loads modules first, since the dataset
/// may hold their types.
///
/// # Errors
/// A module or the RDB file cannot be loaded (already logged): the server must not start.
///
/// An RDB file is only begun here: the returned load decodes while the server answers
/// `-LOADING` ([`finish_loading`]).
pub fn load_dataset(server: &mut Server) -> Result<Option<PendingLoad>, String> {
    #[cfg(feature = "modules")]
    oxidis_modules::load_at_startup(server)?;
    #[cfg(feature = "persistence")]
    if server.config.appendonly {
        // With the AOF on, Redis loads the AOF only; a damaged AOF ends the process with the
        // reason as the log's last line, as Redis's exit(1).
        if oxidis_persistence::aof::load_at_startup(server).is_err() {
            std::process::exit(1);
        }
    } else {
        return Ok(oxidis_persistence::begin_startup_load(server));
    }
    let _ = server;
    Ok(None)
}

/// The RDB file being loaded at startup while clients are served.
#[cfg(feature = "persistence")]
pub type PendingLoad = oxidis_persistence::PendingLoad;

/// Nothing loads without persistence.
#[cfg(not(feature = "persistence"))]
pub enum PendingLoad {}

/// Decodes `load` on a blocking thread (the keyspace lock stays free for the clients, who get
/// `-LOADING`), then puts the dataset in place.
///
/// # Errors
/// The file could not be read or is damaged (logged): the server must not start.
pub async fn finish_loading(
    shared: &std::sync::Arc<crate::shared::Shared>,
    load: PendingLoad,
) -> Result<(), String> {
    #[cfg(feature = "persistence")]
    {
        let decoded = tokio::task::spawn_blocking(move || load.decode())
            .await
            .map_err(|e| format!("Fatal error loading the DB: {e}. Exiting."))?;
        let mut server = shared.lock_async().await;
        oxidis_persistence::finish_startup_load(&mut server, decoded).map(|_| ())
    }
    #[cfg(not(feature = "persistence"))]
    {
        let _ = shared;
        match load {}
    }
}

/// The cron's persistence work: what expiry and eviction propagated, the `everysec` fsync, the
/// automatic AOF rewrite.
pub fn cron(server: &mut Server) {
    #[cfg(feature = "persistence")]
    {
        oxidis_persistence::aof::cron(server);
        oxidis_persistence::background::cron(server);
    }
    let _ = server;
}

/// Whether a background save needs [`snapshot_step`] calls (no lock needed to ask).
pub fn snapshot_active() -> bool {
    #[cfg(feature = "persistence")]
    return oxidis_persistence::background::active();
    #[cfg(not(feature = "persistence"))]
    false
}

/// One ~1 ms slice of the background save under way; whether more can be done at once.
pub fn snapshot_step(server: &mut Server) -> bool {
    #[cfg(feature = "persistence")]
    return oxidis_persistence::background::step(server);
    #[cfg(not(feature = "persistence"))]
    {
        let _ = server;
        false
    }
}

/// Registers the thread that calls [`snapshot_step`], so a new save can wake it.
pub fn register_snapshot_pump(thread: std::thread::Thread) {
    #[cfg(feature = "persistence")]
    oxidis_persistence::background::register_pump(thread);
    #[cfg(not(feature = "persistence"))]
    let _ = thread;
}

/// At shutdown: the AOF written out and fsynced.
pub fn flush_aof_on_shutdown(server: &mut Server) {
    #[cfg(feature = "persistence")]
    oxidis_persistence::aof::flush_on_shutdown(server);
    let _ = server;
}

/// Saves the dataset at shutdown when save points are configured or SHUTDOWN SAVE asked for it
/// (and SHUTDOWN NOSAVE did not).
///
/// # Errors
/// The save failed (already logged).
pub fn save_on_shutdown(server: &mut Server) -> Result<(), String> {
    #[cfg(feature = "persistence")]
    {
        // Whatever the final save, a BGSAVE under way stops and its temp file goes.
        oxidis_persistence::background::kill_bgsave(
            server,
            "There is a child saving an .rdb. Killing it!",
        );
        oxidis_persistence::background::kill_rewrite(
            server,
            "There is a child rewriting the AOF. Killing it!",
        );
        let request = server.shutdown_request.unwrap_or_default();
        if !request.nosave && (request.save || !server.config.save.is_empty()) {
            tracing::info!("Saving the final RDB snapshot before exiting.");
            let _insist = insistent_signal_watch();
            oxidis_persistence::save_to_disk(server)?;
        }
    }
    let _ = server;
    Ok(())
}

/// While the final save runs, a second SIGINT ends the process at once and removes the temp
/// file, as Redis's signal handler does ("You insist... exiting now."). Dropping the guard
/// disarms it.
#[cfg(all(unix, feature = "persistence"))]
fn insistent_signal_watch() -> InsistGuard {
    use std::sync::atomic::Ordering;
    static SAVING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    SAVING.store(true, Ordering::Release);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("oxidis-insist".to_string())
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                let _ = ready_tx.send(());
                return;
            };
            runtime.block_on(async move {
                use tokio::signal::unix::{SignalKind, signal};
                let interrupt = signal(SignalKind::interrupt());
                let _ = ready_tx.send(());
                let Ok(mut interrupt) = interrupt else {
                    return;
                };
                interrupt.recv().await;
                if SAVING.load(Ordering::Acquire) {
                    tracing::warn!("You insist... exiting now.");
                    oxidis_persistence::remove_temp_file();
                    std::process::exit(1);
                }
            });
        });
    if spawned.is_ok() {
        let _ = ready_rx.recv_timeout(std::time::Duration::from_millis(200));
    }
    InsistGuard(&SAVING)
}

/// Disarms [`insistent_signal_watch`] when dropped.
#[cfg(all(unix, feature = "persistence"))]
struct InsistGuard(&'static std::sync::atomic::AtomicBool);

#[cfg(all(unix, feature = "persistence"))]
impl Drop for InsistGuard {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::Release);
    }
}

/// Nothing to watch without unix signals.
#[cfg(all(not(unix), feature = "persistence"))]
fn insistent_signal_watch() {}

/// After a batch of commands, under the keyspace lock: sends what they propagated to the
/// replicas.
///
/// Returns, with `appendfsync always`, the wait for the AOF fsync: a blocking call to make
/// before the batch's replies are sent (after releasing the lock, so batches group-commit).
pub fn after_batch(server: &mut Server) -> Option<DurableWait> {
    if server.propagation.is_enabled() {
        let stream = oxidis_core::replication::drain(server);
        // ... and to the AOF.
        #[cfg(feature = "persistence")]
        return oxidis_persistence::aof::append(server, &stream);
        #[cfg(not(feature = "persistence"))]
        let _ = stream;
    }
    None
}

/// The wait until a batch's writes are durable (`wait()` blocks, `wait_async()` does not).
#[cfg(feature = "persistence")]
pub type DurableWait = oxidis_persistence::aof::SyncWait;

/// Nothing to wait for without persistence.
#[cfg(not(feature = "persistence"))]
pub enum DurableWait {}

#[cfg(not(feature = "persistence"))]
impl DurableWait {
    /// Never called: no value exists.
    pub fn wait(self) {}

    /// Never called: no value exists.
    pub async fn wait_async(self) {}
}
