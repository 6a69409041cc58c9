//! `Server`: everything the commands of one keyspace can touch — the databases, the command
//! table, configuration, clients and statistics. One `Server` executes commands in one order;
//! the server crate wraps it in a lock and feeds it batches, so parsing and encoding happen in
//! parallel outside it.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::SeedableRng;
use rand::rngs::SmallRng;

use crate::client::{ClientId, Clients};
use crate::command::CommandTable;
use crate::config::Config;
use crate::db::Db;
use crate::stats::Stats;

/// The LRU clock reading at `unix_ms`: seconds, wrapping at 2^32.
pub fn lru_clock_at(unix_ms: u64) -> u32 {
    (unix_ms / 1000) as u32
}

/// Objects freed off the serving path: shared with the freeing threads, hence atomics.
#[derive(Debug, Default)]
pub struct LazyFreeCounters {
    /// Handed over, not freed yet (`lazyfree_pending_objects`).
    pub pending: std::sync::atomic::AtomicU64,
    /// Freed so far (`lazyfreed_objects`).
    pub freed: std::sync::atomic::AtomicU64,
}

/// 40 random hex digits, as Redis's run and replication ids.
pub fn random_hex_id(rng: &mut impl rand::Rng) -> String {
    (0..40)
        .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
        .collect()
}

/// The system clock in Unix milliseconds.
fn system_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The time of a batch of commands (see [`Server::begin_batch`]).
#[derive(Debug, Clone, Copy)]
struct BatchClock {
    unix_ms_at_start: u64,
    started: Instant,
    mark: Instant,
    /// `now_ms` at `mark`, computed when the mark moves (it is read several times per
    /// command).
    now_ms: u64,
}

impl BatchClock {
    fn new(unix_ms: u64, now: Instant) -> BatchClock {
        BatchClock {
            unix_ms_at_start: unix_ms,
            started: now,
            mark: now,
            now_ms: unix_ms,
        }
    }

    fn now_ms(&self) -> u64 {
        self.now_ms
    }

    fn set_mark(&mut self, at: Instant) {
        self.mark = at;
        let elapsed = at.saturating_duration_since(self.started).as_millis();
        self.now_ms = self
            .unix_ms_at_start
            .saturating_add(u64::try_from(elapsed).unwrap_or(u64::MAX));
    }
}

/// Where time comes from: the system clock, or a clock tests move by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The real time.
    System,
    /// A fixed Unix millisecond, moved only by [`Server::advance_clock`].
    Manual(u64),
}

/// What the process is, for INFO server (filled in by the binary).
#[derive(Debug, Clone, Default)]
pub struct ProcessInfo {
    /// A random 40-hex-digit id, new at every start.
    pub run_id: String,
    /// The process id.
    pub pid: u32,
    /// The TCP port actually listened on (0 when TCP is off).
    pub tcp_port: u16,
    /// Absolute path of the executable.
    pub executable: String,
    /// Absolute path of the config file, if one was given.
    pub config_file: String,
}

/// What SHUTDOWN asked for; the server crate carries it out after the current batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShutdownRequest {
    /// NOSAVE: skip the save even when save points are configured.
    pub nosave: bool,
    /// SAVE: save even without save points.
    pub save: bool,
    /// NOW: do not wait for lagging replicas.
    pub now: bool,
    /// FORCE: exit even if the save fails.
    pub force: bool,
}

/// The network side's entry points, installed by the server binary (absent in tests that run
/// commands without sockets).
#[derive(Debug, Clone, Copy)]
pub struct ListenerHooks {
    /// Listens on this TCP port instead (0: no TCP), binding it before returning; on failure
    /// (the reason, as Redis words it) nothing changed.
    pub rebind_tcp: fn(&mut Server, u16) -> Result<(), String>,
}

/// State that optional crates keep in the [`Server`], one value per Rust type: the scripting
/// crate keeps its Lua engine here, so command handlers reach it through `ctx.server`.
#[derive(Default)]
pub struct Extensions {
    /// Type ids are not chosen by clients: the fixed-seed hasher is enough (SipHash cost more
    /// than the lookups of a script run).
    values: std::collections::HashMap<
        std::any::TypeId,
        Box<dyn std::any::Any + Send>,
        foldhash::fast::FixedState,
    >,
}

impl Extensions {
    /// The value of type `T`, if one was inserted.
    pub fn get<T: std::any::Any + Send>(&self) -> Option<&T> {
        self.values
            .get(&std::any::TypeId::of::<T>())
            .and_then(|v| v.downcast_ref())
    }

    /// The value of type `T`, mutably.
    pub fn get_mut<T: std::any::Any + Send>(&mut self) -> Option<&mut T> {
        self.values
            .get_mut(&std::any::TypeId::of::<T>())
            .and_then(|v| v.downcast_mut())
    }

    /// The value of type `T`, inserting `make()` first when there is none.
    pub fn get_or_insert_with<T: std::any::Any + Send>(
        &mut self,
        make: impl FnOnce() -> T,
    ) -> &mut T {
        self.values
            .entry(std::any::TypeId::of::<T>())
            .or_insert_with(|| Box::new(make()))
            .downcast_mut()
            .expect("values are stored under their own type id")
    }

    /// Stores `value`, returning the previous value of its type.
    pub fn insert<T: std::any::Any + Send>(&mut self, value: T) -> Option<T> {
        self.values
            .insert(std::any::TypeId::of::<T>(), Box::new(value))
            .and_then(|v| v.downcast().ok())
            .map(|v| *v)
    }
}

/// The script running now, as connections see it without the keyspace lock: past
/// `busy-reply-threshold` they answer `BUSY` instead of waiting, and SCRIPT KILL / FUNCTION KILL
/// reach the script through [`ScriptBusy::kill`], which the script's instruction hook checks.
#[derive(Debug, Default)]
pub struct ScriptBusy {
    /// A script is running.
    pub running: std::sync::atomic::AtomicBool,
    /// The running script is a function (FCALL) rather than EVAL.
    pub is_function: std::sync::atomic::AtomicBool,
    /// Unix ms when it started.
    pub started_ms: std::sync::atomic::AtomicU64,
    /// `busy-reply-threshold` when it started, ms (0: never busy).
    pub threshold_ms: std::sync::atomic::AtomicU64,
    /// It has written: it cannot be killed.
    pub wrote: std::sync::atomic::AtomicBool,
    /// SCRIPT KILL / FUNCTION KILL asked it to stop.
    pub kill: std::sync::atomic::AtomicBool,
    /// What FUNCTION STATS shows while it runs.
    pub details: std::sync::Mutex<RunningScript>,
    /// DEBUG SET-DISABLE-DENY-SCRIPTS: scripts may run `noscript` commands (tests only).
    pub deny_script_disabled: std::sync::atomic::AtomicBool,
    /// The running script is replayed from the AOF: other clients get `LOADING`, not `BUSY`.
    pub loading: std::sync::atomic::AtomicBool,
    /// Scripts whose last run was short, by the command's second argument (EVAL's body,
    /// EVALSHA's sha, FCALL's function name): the I/O thread runs those itself instead of
    /// handing the batch to another thread (see the server crate's connection).
    pub fast:
        std::sync::Mutex<std::collections::HashSet<bytes::Bytes, foldhash::fast::RandomState>>,
}

/// The running script as FUNCTION STATS describes it.
#[derive(Debug, Clone, Default)]
pub struct RunningScript {
    /// The function's name (the sha for EVAL).
    pub name: String,
    /// The command that runs it.
    pub command: Vec<bytes::Bytes>,
    /// Libraries loaded.
    pub libraries: usize,
    /// Functions registered.
    pub functions: usize,
}

impl ScriptBusy {
    /// Records that a script starts now.
    pub fn start(&self, is_function: bool, threshold_ms: u64) {
        use std::sync::atomic::Ordering::SeqCst;
        self.kill.store(false, SeqCst);
        self.wrote.store(false, SeqCst);
        self.is_function.store(is_function, SeqCst);
        self.threshold_ms.store(threshold_ms, SeqCst);
        self.started_ms.store(system_now_ms(), SeqCst);
        self.running.store(true, SeqCst);
    }

    /// Records that the script ended.
    pub fn finish(&self) {
        self.running
            .store(false, std::sync::atomic::Ordering::SeqCst);
        self.kill.store(false, std::sync::atomic::Ordering::SeqCst);
    }

    /// Milliseconds the running script has run.
    pub fn elapsed_ms(&self) -> u64 {
        system_now_ms().saturating_sub(self.started_ms.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// Whether the script `key` names (see [`ScriptBusy::fast`]) ran briefly last time.
    pub fn is_fast(&self, key: &[u8]) -> bool {
        self.fast.lock().is_ok_and(|fast| fast.contains(key))
    }

    /// Records how long the script `key` names took (ms).
    pub fn record_run(&self, key: &bytes::Bytes, elapsed_ms: u64) {
        /// Scripts remembered at most; the set starts over when full.
        const MAX_FAST: usize = 4096;
        if let Ok(mut fast) = self.fast.lock() {
            if elapsed_ms < 2 {
                if fast.len() >= MAX_FAST {
                    fast.clear();
                }
                if !fast.contains(key) {
                    fast.insert(key.clone());
                }
            } else {
                fast.remove(key);
            }
        }
    }

    /// Whether a script has run past the threshold: other clients get `BUSY`.
    pub fn is_busy(&self) -> bool {
        use std::sync::atomic::Ordering::SeqCst;
        if !self.running.load(SeqCst) {
            return false;
        }
        let threshold = self.threshold_ms.load(SeqCst);
        threshold > 0 && system_now_ms().saturating_sub(self.started_ms.load(SeqCst)) >= threshold
    }
}

/// The scripting figures INFO memory shows; the scripting crate keeps an up-to-date copy in
/// [`Server::extensions`] (absent: no scripting, all zero).
#[derive(Debug, Clone, Copy, Default)]
pub struct ScriptingInfo {
    /// Bytes used by the EVAL Lua VM.
    pub used_memory_lua: usize,
    /// Bytes of cached EVAL scripts.
    pub used_memory_scripts_eval: usize,
    /// Scripts in the EVAL cache.
    pub number_of_cached_scripts: usize,
    /// Registered functions.
    pub number_of_functions: usize,
    /// Loaded libraries.
    pub number_of_libraries: usize,
    /// Bytes used by the functions' Lua VM.
    pub used_memory_vm_functions: usize,
    /// Bytes of library code and function metadata.
    pub used_memory_functions: usize,
}

/// What the persistence crate (#6) lends the core, installed by the server crate at startup:
/// plain function pointers, so the core needs no dependency on it. DEBUG RELOAD and FLUSHALL
/// call them; a build without persistence leaves [`Server::persistence`] at `None`.
#[derive(Debug, Clone, Copy)]
pub struct PersistenceHooks {
    /// Writes the dataset to `dir/dbfilename` (SAVE's work); the error is for the log.
    pub save: fn(&mut Server) -> Result<(), String>,
    /// Adds the keys of `dir/dbfilename` to the dataset (the caller empties it first for a
    /// plain reload). With `merge`, a key of the file replaces the same key in memory; without
    /// it a duplicate is an error. Nothing is added when the file is damaged.
    pub load: fn(&mut Server, merge: bool) -> Result<(), String>,
    /// The dataset as an RDB payload, in memory (what a replica receives on SYNC).
    pub snapshot: fn(&Server) -> Vec<u8>,
    /// Stops a BGSAVE under way (FLUSHALL, as Redis kills its saving child).
    pub kill_bgsave: fn(&mut Server),
}

/// Persistence state INFO reports and SAVE keeps.
#[derive(Debug, Clone, Default)]
pub struct PersistenceState {
    /// Successful saves since startup (`rdb_saves`).
    pub saves: u64,
    /// Whether the last save failed (`rdb_last_bgsave_status:err`).
    pub last_save_failed: bool,
    /// Keys the last load added (`rdb_last_load_keys_loaded`).
    pub last_load_keys_loaded: u64,
    /// Keys the last load dropped as expired (`rdb_last_load_keys_expired`).
    pub last_load_keys_expired: u64,
    /// DEBUG SET-SKIP-CHECKSUM-VALIDATION: RESTORE skips the payload's CRC check.
    pub skip_checksum_validation: bool,
    /// Function library code, read from an RDB file (FUNCTION2) and written on save. The
    /// scripting crate keeps it equal to its libraries, and loads what a load brought.
    pub function_code: Vec<Vec<u8>>,
    /// When the BGSAVE under way started, Unix milliseconds (`rdb_bgsave_in_progress`).
    pub bgsave_started_ms: Option<u64>,
    /// Seconds the last BGSAVE took (`rdb_last_bgsave_time_sec`, -1 before the first).
    pub last_bgsave_secs: Option<u64>,
    /// When the background AOF rewrite under way started (`aof_rewrite_in_progress`).
    pub aof_rewrite_started_ms: Option<u64>,
    /// A rewrite waits for the BGSAVE under way to end (`aof_rewrite_scheduled`).
    pub aof_rewrite_scheduled: bool,
    /// Keys the save under way started with (`current_save_keys_total`).
    pub save_keys_total: u64,
    /// Keys it has written so far (`current_save_keys_processed`).
    pub save_keys_processed: u64,
    /// Bytes of the entries writes saved before changing them while the save still needed
    /// them: the forkless analogue of copy-on-write memory (`current_cow_size`).
    pub cow_bytes: u64,
    /// `cow_bytes` of the last finished BGSAVE (`rdb_last_cow_size`).
    pub last_cow_bytes: u64,
    /// The startup load under way: commands without the `loading` flag get `-LOADING`.
    pub loading: Option<LoadingState>,
}

/// A dataset being loaded while the server answers clients (INFO's `loading_*` fields).
#[derive(Debug, Clone, Default)]
pub struct LoadingState {
    /// When it began, Unix seconds (`loading_start_time`).
    pub start_unix_secs: u64,
    /// The file's size (`loading_total_bytes`).
    pub total_bytes: u64,
    /// Bytes decoded so far, updated by the loading thread (`loading_loaded_bytes`).
    pub loaded_bytes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// What the AOF (#6) lends the core: CONFIG SET appendonly turns it on and off through it.
#[derive(Debug, Clone, Copy)]
pub struct AofHooks {
    /// Starts (`true`: writes a base from the dataset first) or stops the append-only file.
    pub set_enabled: fn(&mut Server, bool) -> Result<(), String>,
    /// DEBUG LOADAOF: the dataset replaced by what the AOF holds.
    pub load: fn(&mut Server) -> Result<(), String>,
    /// After any CONFIG SET (`aof-disable-auto-gc no` deletes history files at once).
    pub config_changed: fn(&mut Server),
}

/// What INFO reports about the append-only file; the persistence crate keeps it current.
#[derive(Debug, Clone, Default)]
pub struct AofStatus {
    /// `aof_enabled`.
    pub enabled: bool,
    /// `aof_rewrites`: rewrites since startup.
    pub rewrites: u64,
    /// `aof_last_rewrite_time_sec`, -1 before the first.
    pub last_rewrite_time_sec: i64,
    /// `aof_last_bgrewrite_status:err`.
    pub last_rewrite_failed: bool,
    /// `aof_rewrites_consecutive_failures`.
    pub consecutive_failures: u64,
    /// `aof_last_write_status:err`.
    pub last_write_failed: bool,
    /// `aof_current_size`: bytes of the base and incr files.
    pub current_size: u64,
    /// `aof_base_size`: the size when the last rewrite ended.
    pub base_size: u64,
    /// `aof_pending_bio_fsync`.
    pub pending_fsync: bool,
    /// `aof_delayed_fsync`.
    pub delayed_fsync: u64,
    /// DEBUG AOF-FLUSH-SLEEP: microseconds to sleep before each write to the AOF (tests).
    pub flush_sleep_us: u64,
}

/// The state one keyspace's commands run against.
pub struct Server {
    /// The numbered databases (`databases` of them).
    pub dbs: Vec<Db>,
    /// Every command.
    pub table: CommandTable,
    /// The configuration.
    pub config: Config,
    /// Connected clients.
    pub clients: Clients,
    /// Clients blocked on keys.
    pub blocked: crate::blocking::Blocked,
    /// Keys watched by clients (WATCH).
    pub watched: crate::transactions::Watched,
    /// Counters for INFO.
    pub stats: Stats,
    /// The write commands to propagate to the AOF and replicas.
    pub propagation: crate::propagation::Propagation,
    /// Eviction candidates and state for `maxmemory`.
    pub eviction: crate::eviction::EvictionPool,
    /// Keyspace events raised by the running command, delivered after it.
    pub events: crate::events::Events,
    /// Pub/sub subscriptions.
    pub pubsub: crate::pubsub::PubSub,
    /// Client-side caching (CLIENT TRACKING).
    pub tracking: crate::tracking::Tracking,
    /// Facts about the process.
    pub process: ProcessInfo,
    /// Whether the active-expire cycle runs (DEBUG SET-ACTIVE-EXPIRE).
    pub active_expire_enabled: bool,
    /// DEBUG PAUSE-CRON: the periodic work (expiry, eviction, a signal's shutdown...) waits.
    pub cron_paused: bool,
    /// A signal asked for a shutdown: the next cron tick carries it out, unless SHUTDOWN ABORT
    /// calls it off first.
    pub shutdown_asap: bool,
    /// List elements this big get a node of their own (DEBUG QUICKLIST-PACKED-THRESHOLD).
    pub list_packed_threshold: usize,
    /// Changes since the last save (`rdb_changes_since_last_save`).
    pub dirty: u64,
    /// Unix seconds of the last successful save (LASTSAVE); start time until then.
    pub last_save_unix: u64,
    /// Set by SHUTDOWN; the server crate acts on it.
    pub shutdown_request: Option<ShutdownRequest>,
    /// Random numbers for RANDOMKEY and friends.
    pub rng: SmallRng,
    /// Keys handed to background threads by FLUSH* ASYNC: pending and freed (INFO).
    pub lazyfree: std::sync::Arc<LazyFreeCounters>,
    /// The highest `used_memory` INFO has reported (`used_memory_peak`).
    pub memory_peak: u64,
    /// `used_memory` when the server was created (`used_memory_startup`).
    pub memory_startup: u64,
    /// The replication id INFO reports and DEBUG CHANGE-REPL-ID renews.
    pub replication_id: String,
    /// State of the optional crates (scripting, modules), one value per type.
    pub extensions: Extensions,
    /// The running script, shared with the connections (see [`ScriptBusy`]).
    pub script_busy: std::sync::Arc<ScriptBusy>,
    /// Saving and loading, when the persistence crate is compiled in.
    pub persistence: Option<PersistenceHooks>,
    /// What saves and loads left behind.
    pub persistence_state: PersistenceState,
    /// The append-only file's writer, owned by the persistence crate; the core only holds it.
    pub aof: Option<Box<dyn std::any::Any + Send>>,
    /// The AOF's entry points, when the persistence crate is compiled in.
    pub aof_hooks: Option<AofHooks>,
    /// The INFO `modules` section's lines, when the modules crate is compiled in.
    pub module_info: Option<fn(&Server) -> Vec<String>>,
    /// What the server crate does when CONFIG SET changes where it listens.
    pub listener_hooks: Option<ListenerHooks>,
    /// `oom-score-adj`: whether the process's OOM score was changed, and from what.
    pub oom_score: crate::oom_score::OomScore,
    /// What INFO reports about the AOF.
    pub aof_status: AofStatus,
    /// Set while the AOF is being loaded: keys do not expire then (an expiry time in the past
    /// is kept, as Redis's loading does), so commands replay exactly as they first ran.
    pub loading: bool,
    /// The slow log (SLOWLOG).
    pub slowlog: crate::slowlog::Slowlog,
    /// Latency events and per-command histograms (LATENCY, INFO latencystats).
    pub latency: crate::latency::Latency,
    /// Clients in MONITOR mode, in the order they asked.
    pub monitors: Vec<ClientId>,
    /// CLIENT PAUSE and the commands waiting for it to end.
    pub pause: crate::pause::Pauses,
    /// Sampled rates for INFO (`instantaneous_ops_per_sec`, ...).
    pub metrics: crate::metrics::Metrics,
    /// Module data types, event subscriptions and configuration parameters (#9).
    pub modules: crate::modules::Modules,
    clock: Clock,
    frozen_ms: Option<u64>,
    batch: Option<BatchClock>,
    started: Instant,
    expire_next_db: usize,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("dbs", &self.dbs.len())
            .finish()
    }
}

impl Server {
    /// A server with the built-in commands and `config`.
    pub fn new(config: Config) -> Server {
        Server::with_table(config, CommandTable::with_builtins())
    }

    /// A server with the given table (extension crates register into it first).
    pub fn with_table(config: Config, table: CommandTable) -> Server {
        let dbs = (0..config.databases.max(1)).map(|_| Db::new()).collect();
        let stats = Stats::new(table.id_count());
        let mut server = Server {
            dbs,
            table,
            config,
            clients: Clients::default(),
            blocked: crate::blocking::Blocked::default(),
            watched: crate::transactions::Watched::default(),
            stats,
            eviction: crate::eviction::EvictionPool::default(),
            propagation: crate::propagation::Propagation::default(),
            events: crate::events::Events::default(),
            pubsub: crate::pubsub::PubSub::default(),
            tracking: crate::tracking::Tracking::default(),
            process: ProcessInfo::default(),
            active_expire_enabled: true,
            cron_paused: false,
            shutdown_asap: false,
            list_packed_threshold: crate::types::DEFAULT_PACKED_THRESHOLD,
            dirty: 0,
            last_save_unix: 0,
            shutdown_request: None,
            rng: SmallRng::from_os_rng(),
            lazyfree: std::sync::Arc::default(),
            memory_peak: 0,
            memory_startup: crate::memory::used_memory(),
            replication_id: String::new(),
            extensions: Extensions::default(),
            script_busy: std::sync::Arc::default(),
            persistence: None,
            persistence_state: PersistenceState::default(),
            aof: None,
            aof_hooks: None,
            module_info: None,
            listener_hooks: None,
            oom_score: crate::oom_score::OomScore::default(),
            aof_status: AofStatus {
                last_rewrite_time_sec: -1,
                ..AofStatus::default()
            },
            loading: false,
            slowlog: crate::slowlog::Slowlog::default(),
            latency: crate::latency::Latency::default(),
            monitors: Vec::new(),
            pause: crate::pause::Pauses::default(),
            metrics: crate::metrics::Metrics::default(),
            modules: crate::modules::Modules::default(),
            clock: Clock::System,
            frozen_ms: None,
            batch: None,
            started: Instant::now(),
            expire_next_db: 0,
        };
        server.last_save_unix = server.now_ms() / 1000;
        server.replication_id = random_hex_id(&mut server.rng);
        server
    }

    /// Switches to a hand-moved clock starting at `unix_ms` (tests).
    pub fn use_manual_clock(&mut self, unix_ms: u64) {
        self.clock = Clock::Manual(unix_ms);
    }

    /// Moves a manual clock forward.
    pub fn advance_clock(&mut self, by: Duration) {
        if let Clock::Manual(ms) = &mut self.clock {
            *ms += u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        }
    }

    /// Stops time at `at` (Unix ms) until called with `None`: a script's commands all see the
    /// time it started, as in Redis, so a key cannot expire in the middle of a script.
    pub fn freeze_clock(&mut self, at: Option<u64>) {
        self.frozen_ms = at;
    }

    /// The current Unix time in milliseconds.
    pub fn now_ms(&self) -> u64 {
        if let Some(ms) = self.frozen_ms {
            return ms;
        }
        match (self.clock, &self.batch) {
            (Clock::Manual(ms), _) => ms,
            (Clock::System, Some(batch)) => batch.now_ms(),
            (Clock::System, None) => system_now_ms(),
        }
    }

    /// Starts a batch of commands: the wall clock is read once here, and each command's end
    /// time (which dispatch measures anyway for its statistics) moves it forward. Reading the
    /// clock costs more than many commands, so a batch reads it once per command, not three times.
    pub fn begin_batch(&mut self) {
        self.batch = Some(BatchClock::new(system_now_ms(), Instant::now()));
    }

    /// Ends the batch begun by [`Server::begin_batch`].
    pub fn end_batch(&mut self) {
        self.batch = None;
    }

    /// When the command about to run starts: the end of the previous one in this batch.
    pub fn command_start(&self) -> Instant {
        self.batch.as_ref().map_or_else(Instant::now, |b| b.mark)
    }

    /// Records when a command ended; the next command of the batch starts there.
    pub fn command_end(&mut self, at: Instant) {
        if let Some(batch) = &mut self.batch {
            batch.set_mark(at);
        }
    }

    /// The LRU clock: Unix seconds, wrapping (OBJECT IDLETIME subtracts two readings).
    pub fn lru_clock(&self) -> u32 {
        lru_clock_at(self.now_ms())
    }

    /// Time since start.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Adds a client and returns its id.
    pub fn connect_client(
        &mut self,
        make: impl FnOnce(ClientId) -> crate::client::Client,
    ) -> ClientId {
        let id = self.clients.next_id();
        self.clients.insert(make(id));
        self.stats.total_connections_received += 1;
        // Modules hear of connections only (not of internal clients such as the AOF loader's).
        if self.clients.get(id).is_some_and(|c| c.handle.is_some()) {
            crate::modules::events::fire(self, &crate::modules::ServerEvent::ClientConnected(id));
        }
        id
    }

    /// Forgets a client whose connection is gone, including any keys it was blocked on.
    pub fn disconnect_client(&mut self, id: ClientId) {
        if self.clients.get(id).is_some_and(|c| c.handle.is_some()) {
            crate::modules::events::fire(
                self,
                &crate::modules::ServerEvent::ClientDisconnected(id),
            );
        }
        self.blocked.unblock(id);
        self.watched.unwatch_all(id);
        self.pubsub.unsubscribe_all(id);
        self.tracking.disable(id);
        self.monitors.retain(|&m| m != id);
        if self.clients.remove(id).is_some_and(|c| c.replica) {
            crate::replication::update_propagation(self);
        }
    }

    /// Whether a new client must authenticate first.
    pub fn requires_auth(&self) -> bool {
        self.config.requirepass.is_some()
    }

    /// One run of Redis's adaptive "slow" active-expire cycle, called `hz` times a second.
    ///
    /// Each database is sampled 20 volatile keys at a time (more with `active-expire-effort`);
    /// a database is left once fewer than 10% of a sample had expired, and the whole cycle
    /// stops after 25% of the time between two calls, so memory held by expired keys is
    /// reclaimed without any access while the cost stays bounded.
    pub fn active_expire_cycle(&mut self) {
        // A slow cycle (a big key freed) is a latency event of its own, as in Redis.
        let started = std::time::Instant::now();
        self.run_active_expire_cycle();
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        crate::latency::add_sample_if_needed(self, "expire-cycle", elapsed_ms);
        // Each reclaimed key was propagated as its own DEL; they are independent, not a unit.
        self.propagation.without_multi(|p| p.flush(true));
        if !self.events.is_empty() {
            crate::events::deliver(self);
        }
    }

    /// What follows a key's reclamation by expiry, beyond its DEL: the `expired` keyspace
    /// event and WATCH invalidation.
    pub(crate) fn key_expired(&mut self, db: usize, key: &[u8]) {
        crate::transactions::touch(self, db, key);
        if self.events.wanted(
            self.config.notify_keyspace_events,
            crate::events::class::EXPIRED,
        ) {
            self.events.push(crate::events::KeyEvent {
                class: crate::events::class::EXPIRED,
                name: "expired",
                db,
                key: bytes::Bytes::copy_from_slice(key),
            });
        }
    }

    fn run_active_expire_cycle(&mut self) {
        // A paused server expires nothing (CLIENT PAUSE).
        if !self.active_expire_enabled || crate::pause::check_expired(self) {
            return;
        }
        let effort = u64::from(self.config.active_expire_effort.clamp(1, 10) - 1);
        let keys_per_loop = 20 + 20 / 4 * effort as usize;
        let acceptable_stale = 10u64.saturating_sub(effort);
        let hz = u64::from(self.config.hz.max(1));
        let budget = Duration::from_micros((25 + 2 * effort) * 1_000_000 / hz / 100);
        let started = Instant::now();
        let now = self.now_ms();
        let db_count = self.dbs.len();
        let (mut sampled_total, mut expired_total) = (0u64, 0u64);
        for _ in 0..db_count {
            let db_index = self.expire_next_db % db_count;
            self.expire_next_db = self.expire_next_db.wrapping_add(1);
            let mut iterations = 0u32;
            loop {
                let Server {
                    dbs,
                    propagation,
                    config,
                    ..
                } = self;
                let lazy = config.lazyfree_lazy_expire;
                let mut reclaimed = Vec::new();
                let (sampled, expired) = dbs[db_index].expire_step(now, keys_per_loop, |entry| {
                    propagation.push_deletion(db_index, entry.key.as_slice(), lazy);
                    reclaimed.push(entry.key);
                });
                for key in reclaimed {
                    self.key_expired(db_index, key.as_slice());
                    crate::tracking::invalidate_key(self, None, None, key.as_slice(), true);
                }
                sampled_total += sampled as u64;
                expired_total += expired as u64;
                self.stats.expired_keys += expired as u64;
                iterations += 1;
                if iterations.is_multiple_of(16) && started.elapsed() > budget {
                    self.stats.expired_time_cap_reached_count += 1;
                    break;
                }
                if sampled == 0 || (expired as u64) * 100 / (sampled as u64) <= acceptable_stale {
                    break;
                }
            }
            if started.elapsed() > budget {
                break;
            }
        }
        let elapsed = started.elapsed();
        self.stats.expire_cycle_cpu_us += u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let current = if sampled_total == 0 {
            0.0
        } else {
            expired_total as f64 / sampled_total as f64
        };
        self.stats.expired_stale_perc = current * 0.05 + self.stats.expired_stale_perc * 0.95;
        let elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        crate::latency::add_sample_if_needed(self, "expire-cycle", elapsed_ms);
        crate::tracking::after_command(self, None);
    }
}
