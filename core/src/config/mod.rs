//! Server configuration: every parameter Redis 7.0 has, with Redis's names, aliases, defaults,
//! value syntax and error texts. The config file, the command line and `CONFIG SET` all go
//! through the same parameter table ([`table::PARAMS`]).
//!
//! - [`table`]: the parameters, one line each.
//! - [`value`]: parsing a value from its arguments and formatting it back, as Redis does.
//! - [`load`]: `redis-server`'s command line and `redis.conf` syntax ([`Config::from_args`]).
//! - [`rewrite`]: CONFIG REWRITE.
//!
//! Parameters that the rest of Oxidis reads have typed fields on [`Config`] (`port`,
//! `maxmemory`, `save`...); the table reads and writes those fields, so they are always what
//! CONFIG GET shows. Every other parameter lives in a generic value slot. Parameters whose
//! feature Oxidis does not have yet (TLS, cluster, replication, AOF tuning, ...) are still
//! accepted, validated and stored exactly like Redis, so CONFIG GET/SET/REWRITE and config files
//! written for Redis work unchanged; they simply have no effect.
//!
//! Unlike Redis, setting `dir` does not `chdir` (tests run many servers in one process): it
//! checks the directory and stores its absolute path in `dir`, which the server crate and
//! persistence use. Side effects of a change (rebinding `port`/`bind`, ...) belong to the
//! server crate, which compares the fields before and after CONFIG SET.

pub mod load;
pub mod rewrite;
pub mod table;
pub mod value;

use std::path::PathBuf;

use crate::glob::{Case, glob_match};
pub use load::{CommandLine, ConfigLoadError, RunArgs};
use table::{PARAMS, Param};
pub use value::{OutputBufferLimit, Value, keyspace_events};

/// `enable-debug-command` and friends: who may run a protected command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtectedAccess {
    /// Nobody (`no`).
    No,
    /// Everybody (`yes`).
    Yes,
    /// Only connections from loopback or the unix socket (`local`).
    Local,
}

impl ProtectedAccess {
    fn from_enum(v: u32) -> ProtectedAccess {
        match v {
            1 => ProtectedAccess::Yes,
            2 => ProtectedAccess::Local,
            _ => ProtectedAccess::No,
        }
    }

    fn to_enum(self) -> u32 {
        match self {
            ProtectedAccess::No => 0,
            ProtectedAccess::Yes => 1,
            ProtectedAccess::Local => 2,
        }
    }

    /// Whether a client (local or not) may do the protected action.
    pub fn allows(self, is_local: bool) -> bool {
        match self {
            ProtectedAccess::No => false,
            ProtectedAccess::Yes => true,
            ProtectedAccess::Local => is_local,
        }
    }
}

/// `maxmemory-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxmemoryPolicy {
    /// `volatile-lru`.
    VolatileLru,
    /// `volatile-lfu`.
    VolatileLfu,
    /// `volatile-random`.
    VolatileRandom,
    /// `volatile-ttl`.
    VolatileTtl,
    /// `allkeys-lru`.
    AllkeysLru,
    /// `allkeys-lfu`.
    AllkeysLfu,
    /// `allkeys-random`.
    AllkeysRandom,
    /// `noeviction`.
    NoEviction,
}

impl MaxmemoryPolicy {
    const ALL: [MaxmemoryPolicy; 8] = [
        MaxmemoryPolicy::VolatileLru,
        MaxmemoryPolicy::VolatileLfu,
        MaxmemoryPolicy::VolatileRandom,
        MaxmemoryPolicy::VolatileTtl,
        MaxmemoryPolicy::AllkeysLru,
        MaxmemoryPolicy::AllkeysLfu,
        MaxmemoryPolicy::AllkeysRandom,
        MaxmemoryPolicy::NoEviction,
    ];

    /// The name CONFIG GET and INFO show.
    pub fn name(self) -> &'static str {
        table::MAXMEMORY_POLICIES[self as usize].0
    }
}

/// The current value of every parameter: typed fields named after Redis's parameters for
/// what Oxidis reads, and generic slots for the rest.
#[derive(Debug, Clone)]
pub struct Config {
    /// `port`.
    pub port: u16,
    /// `bind`.
    pub bind: Vec<String>,
    /// `unixsocket`.
    pub unixsocket: Option<String>,
    /// `unixsocketperm` (octal).
    pub unixsocketperm: u32,
    /// `databases`.
    pub databases: usize,
    /// `requirepass`; `None` when empty.
    pub requirepass: Option<Vec<u8>>,
    /// `maxclients`.
    pub maxclients: usize,
    /// `timeout`, seconds; 0 disables.
    pub timeout: u64,
    /// `tcp-keepalive`, seconds.
    pub tcp_keepalive: u64,
    /// `tcp-backlog`.
    pub tcp_backlog: u32,
    /// `proto-max-bulk-len`, bytes.
    pub proto_max_bulk_len: u64,
    /// `client-query-buffer-limit`, bytes.
    pub client_query_buffer_limit: u64,
    /// `hz` (kept within 1..=500, as Redis does).
    pub hz: u32,
    /// `active-expire-effort` (1..=10).
    pub active_expire_effort: u32,
    /// `dir`.
    pub dir: String,
    /// `dbfilename`.
    pub dbfilename: String,
    /// `logfile`; empty for standard output.
    pub logfile: String,
    /// `loglevel`.
    pub loglevel: String,
    /// `pidfile`; empty for none.
    pub pidfile: String,
    /// `enable-debug-command`.
    pub enable_debug_command: ProtectedAccess,
    /// `enable-protected-configs`.
    pub enable_protected_configs: ProtectedAccess,
    /// `enable-module-command`.
    pub enable_module_command: ProtectedAccess,
    /// `save`: (seconds, changes) save points; empty disables snapshots.
    pub save: Vec<(u64, u64)>,
    /// `maxmemory`, bytes; 0 for no limit.
    pub maxmemory: u64,
    /// `maxmemory-clients`: bytes, or a percentage of `maxmemory` when negative; 0 for none.
    pub maxmemory_clients: i128,
    /// `maxmemory-policy`.
    pub maxmemory_policy: MaxmemoryPolicy,
    /// `maxmemory-samples`.
    pub maxmemory_samples: u32,
    /// `maxmemory-eviction-tenacity` (0..=100): how long one eviction run may take.
    pub maxmemory_eviction_tenacity: u32,
    /// `lazyfree-lazy-eviction`: evicted keys are freed off the serving path (and propagated
    /// as UNLINK).
    pub lazyfree_lazy_eviction: bool,
    /// `lazyfree-lazy-expire`: expired keys likewise.
    pub lazyfree_lazy_expire: bool,
    /// `lazyfree-lazy-user-del`: DEL frees like UNLINK.
    pub lazyfree_lazy_user_del: bool,
    /// `replica-read-only`.
    pub replica_read_only: bool,
    /// `min-replicas-to-write` (0: off). Typed, like the fields above, because every write
    /// reads it.
    pub min_replicas_to_write: u64,
    /// `min-replicas-max-lag` in seconds.
    pub min_replicas_max_lag: u64,
    /// `appendonly`.
    pub appendonly: bool,
    /// `appendfilename`.
    pub appendfilename: String,
    /// `appenddirname`.
    pub appenddirname: String,
    /// `daemonize`.
    pub daemonize: bool,
    /// `protected-mode`.
    pub protected_mode: bool,
    /// `rdbcompression`.
    pub rdbcompression: bool,
    /// `rdbchecksum`.
    pub rdbchecksum: bool,
    /// `notify-keyspace-events`, as [`keyspace_events`] bits.
    pub notify_keyspace_events: u32,
    /// `replicaof`: master host and port.
    pub replicaof: Option<(String, u16)>,
    /// `client-output-buffer-limit` for normal, replica and pubsub clients.
    pub client_output_buffer_limit: [OutputBufferLimit; 3],
    /// `slowlog-log-slower-than`, microseconds (-1 disables, 0 logs everything).
    pub slowlog_log_slower_than: i64,
    /// `slowlog-max-len`.
    pub slowlog_max_len: u64,
    /// `latency-monitor-threshold`, milliseconds.
    pub latency_monitor_threshold: u64,
    /// `latency-tracking`: per-command latency histograms (INFO latencystats).
    pub latency_tracking: bool,
    /// `hash-max-listpack-entries`.
    pub hash_max_listpack_entries: u64,
    /// `hash-max-listpack-value`.
    pub hash_max_listpack_value: u64,
    /// `set-max-intset-entries`.
    pub set_max_intset_entries: u64,
    /// `zset-max-listpack-entries`.
    pub zset_max_listpack_entries: u64,
    /// `zset-max-listpack-value`.
    pub zset_max_listpack_value: u64,
    /// `hll-sparse-max-bytes`: a sparse HyperLogLog that would grow past this turns dense.
    pub hll_sparse_max_bytes: u64,
    /// `list-max-listpack-size` (negative: a size class, positive: entries).
    pub list_max_listpack_size: i64,
    /// `list-compress-depth`.
    pub list_compress_depth: u64,
    /// `stream-node-max-bytes`.
    pub stream_node_max_bytes: u64,
    /// `stream-node-max-entries`.
    pub stream_node_max_entries: u64,
    /// `lfu-log-factor`.
    pub lfu_log_factor: u32,
    /// `lfu-decay-time`, minutes.
    pub lfu_decay_time: u32,
    /// `busy-reply-threshold` (`lua-time-limit`), milliseconds.
    pub busy_reply_threshold: u64,
    /// The config file the server was started with (CONFIG REWRITE writes it).
    pub config_file: Option<PathBuf>,
    /// `rename-command` directives (old name, new name; empty new name removes), for the
    /// server to apply to its command table.
    pub rename_commands: Vec<(String, String)>,
    /// `user` directives, each the full argument list after `user`.
    pub users: Vec<Vec<String>>,
    /// `loadmodule` directives: path and arguments.
    pub load_modules: Vec<Vec<String>>,
    /// Module parameters (`name.param value`), queued until the module loads.
    pub module_configs: Vec<(String, String)>,
    /// Values of parameters without a typed field, by index in [`PARAMS`]; read and write
    /// them with [`Config::get`] and [`Config::set`].
    pub other: Vec<Value>,
}

impl Default for Config {
    fn default() -> Config {
        let mut config = Config {
            port: 6379,
            bind: vec!["*".to_string(), "-::*".to_string()],
            unixsocket: None,
            unixsocketperm: 0,
            databases: 16,
            requirepass: None,
            maxclients: 10000,
            timeout: 0,
            tcp_keepalive: 300,
            tcp_backlog: 511,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            hz: 10,
            active_expire_effort: 1,
            dir: ".".to_string(),
            dbfilename: "dump.rdb".to_string(),
            logfile: String::new(),
            loglevel: "notice".to_string(),
            pidfile: String::new(),
            enable_debug_command: ProtectedAccess::No,
            enable_protected_configs: ProtectedAccess::No,
            enable_module_command: ProtectedAccess::No,
            save: Vec::new(),
            maxmemory: 0,
            maxmemory_clients: 0,
            maxmemory_policy: MaxmemoryPolicy::NoEviction,
            maxmemory_samples: 5,
            maxmemory_eviction_tenacity: 10,
            lazyfree_lazy_eviction: false,
            lazyfree_lazy_expire: false,
            lazyfree_lazy_user_del: false,
            replica_read_only: true,
            min_replicas_to_write: 0,
            min_replicas_max_lag: 10,
            appendonly: false,
            appendfilename: String::new(),
            appenddirname: String::new(),
            daemonize: false,
            protected_mode: true,
            rdbcompression: true,
            rdbchecksum: true,
            notify_keyspace_events: 0,
            replicaof: None,
            client_output_buffer_limit: value::DEFAULT_OUTPUT_BUFFER_LIMITS,
            slowlog_log_slower_than: 10000,
            slowlog_max_len: 128,
            latency_monitor_threshold: 0,
            latency_tracking: true,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            hll_sparse_max_bytes: 3000,
            list_max_listpack_size: -2,
            list_compress_depth: 0,
            stream_node_max_bytes: 4096,
            stream_node_max_entries: 100,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            busy_reply_threshold: 5000,
            config_file: None,
            rename_commands: Vec::new(),
            users: Vec::new(),
            load_modules: Vec::new(),
            module_configs: Vec::new(),
            other: PARAMS.iter().map(value::default_value).collect(),
        };
        // One source of truth for defaults: the table.
        for (index, param) in PARAMS.iter().enumerate() {
            config.store(index, value::default_value(param));
        }
        config
    }
}

/// Why setting one parameter failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetError {
    /// No parameter has that name.
    Unknown,
    /// The value is invalid; Redis's reason text.
    Invalid(String),
}

fn to<T: TryFrom<i128>>(n: i128, fallback: T) -> T {
    T::try_from(n).unwrap_or(fallback)
}

fn text_of(bytes: Option<Vec<u8>>) -> String {
    bytes
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

impl Config {
    /// The current value of the parameter at `index` in [`PARAMS`].
    pub fn load(&self, index: usize) -> Value {
        let Some(param) = PARAMS.get(index) else {
            return Value::Bool(false);
        };
        let num = |n: u64| Value::Num(i128::from(n));
        match param.name {
            "port" => num(u64::from(self.port)),
            "bind" => Value::Bind(self.bind.clone()),
            "unixsocket" => Value::Str(self.unixsocket.clone().map(String::into_bytes)),
            "unixsocketperm" => num(u64::from(self.unixsocketperm)),
            "databases" => num(self.databases as u64),
            "requirepass" => Value::Str(self.requirepass.clone()),
            "maxclients" => num(self.maxclients as u64),
            "timeout" => num(self.timeout),
            "tcp-keepalive" => num(self.tcp_keepalive),
            "tcp-backlog" => num(u64::from(self.tcp_backlog)),
            "proto-max-bulk-len" => num(self.proto_max_bulk_len),
            "client-query-buffer-limit" => num(self.client_query_buffer_limit),
            "hz" => num(u64::from(self.hz)),
            "active-expire-effort" => num(u64::from(self.active_expire_effort)),
            "dir" => Value::Dir(self.dir.clone()),
            "dbfilename" => Value::Str(Some(self.dbfilename.clone().into_bytes())),
            "logfile" => Value::Str(Some(self.logfile.clone().into_bytes())),
            "loglevel" => Value::Enum(
                table::LOGLEVELS
                    .iter()
                    .find(|(n, _)| *n == self.loglevel)
                    .map_or(2, |(_, v)| *v),
            ),
            "pidfile" => {
                Value::Str(Some(self.pidfile.clone().into_bytes()).filter(|p| !p.is_empty()))
            }
            "enable-debug-command" => Value::Enum(self.enable_debug_command.to_enum()),
            "enable-protected-configs" => Value::Enum(self.enable_protected_configs.to_enum()),
            "enable-module-command" => Value::Enum(self.enable_module_command.to_enum()),
            "save" => Value::Save(self.save.clone()),
            "maxmemory" => num(self.maxmemory),
            "maxmemory-policy" => Value::Enum(self.maxmemory_policy as u32),
            "maxmemory-samples" => num(u64::from(self.maxmemory_samples)),
            "maxmemory-eviction-tenacity" => num(u64::from(self.maxmemory_eviction_tenacity)),
            "appendonly" => Value::Bool(self.appendonly),
            "lazyfree-lazy-eviction" => Value::Bool(self.lazyfree_lazy_eviction),
            "lazyfree-lazy-expire" => Value::Bool(self.lazyfree_lazy_expire),
            "lazyfree-lazy-user-del" => Value::Bool(self.lazyfree_lazy_user_del),
            "replica-read-only" => Value::Bool(self.replica_read_only),
            "min-replicas-to-write" => num(self.min_replicas_to_write),
            "min-replicas-max-lag" => num(self.min_replicas_max_lag),
            "appendfilename" => Value::Str(Some(self.appendfilename.clone().into_bytes())),
            "appenddirname" => Value::Str(Some(self.appenddirname.clone().into_bytes())),
            "daemonize" => Value::Bool(self.daemonize),
            "protected-mode" => Value::Bool(self.protected_mode),
            "rdbcompression" => Value::Bool(self.rdbcompression),
            "rdbchecksum" => Value::Bool(self.rdbchecksum),
            "notify-keyspace-events" => Value::KeyspaceEvents(self.notify_keyspace_events),
            "replicaof" => Value::ReplicaOf(self.replicaof.clone()),
            "client-output-buffer-limit" => {
                Value::OutputBufferLimits(self.client_output_buffer_limit)
            }
            "slowlog-log-slower-than" => Value::Num(i128::from(self.slowlog_log_slower_than)),
            "slowlog-max-len" => num(self.slowlog_max_len),
            "latency-monitor-threshold" => num(self.latency_monitor_threshold),
            "latency-tracking" => Value::Bool(self.latency_tracking),
            "hash-max-listpack-entries" => num(self.hash_max_listpack_entries),
            "hash-max-listpack-value" => num(self.hash_max_listpack_value),
            "set-max-intset-entries" => num(self.set_max_intset_entries),
            "zset-max-listpack-entries" => num(self.zset_max_listpack_entries),
            "zset-max-listpack-value" => num(self.zset_max_listpack_value),
            "hll-sparse-max-bytes" => num(self.hll_sparse_max_bytes),
            "list-max-listpack-size" => Value::Num(i128::from(self.list_max_listpack_size)),
            "list-compress-depth" => num(self.list_compress_depth),
            "stream-node-max-bytes" => num(self.stream_node_max_bytes),
            "stream-node-max-entries" => num(self.stream_node_max_entries),
            "lfu-log-factor" => num(u64::from(self.lfu_log_factor)),
            "lfu-decay-time" => num(u64::from(self.lfu_decay_time)),
            "busy-reply-threshold" => num(self.busy_reply_threshold),
            "maxmemory-clients" => Value::Num(self.maxmemory_clients),
            _ => self
                .other
                .get(index)
                .cloned()
                .unwrap_or_else(|| value::default_value(param)),
        }
    }

    /// Stores `value` (already validated by [`value::parse`]) as the parameter at `index`.
    pub fn store(&mut self, index: usize, value: Value) {
        let Some(param) = PARAMS.get(index) else {
            return;
        };
        match (param.name, value) {
            ("port", Value::Num(n)) => self.port = to(n, 6379),
            ("bind", Value::Bind(v)) => self.bind = v,
            ("unixsocket", Value::Str(s)) => self.unixsocket = s.map(|b| text_of(Some(b))),
            ("unixsocketperm", Value::Num(n)) => self.unixsocketperm = to(n, 0),
            ("databases", Value::Num(n)) => self.databases = to(n, 16),
            ("requirepass", Value::Str(s)) => self.requirepass = s,
            ("maxclients", Value::Num(n)) => self.maxclients = to(n, 10000),
            ("timeout", Value::Num(n)) => self.timeout = to(n, 0),
            ("tcp-keepalive", Value::Num(n)) => self.tcp_keepalive = to(n, 300),
            ("tcp-backlog", Value::Num(n)) => self.tcp_backlog = to(n, 511),
            ("proto-max-bulk-len", Value::Num(n)) => self.proto_max_bulk_len = to(n, 512 << 20),
            ("client-query-buffer-limit", Value::Num(n)) => {
                self.client_query_buffer_limit = to(n, 1 << 30)
            }
            // Redis accepts any hz but keeps it within 1..=500.
            ("hz", Value::Num(n)) => self.hz = to(n.clamp(1, 500), 10),
            ("active-expire-effort", Value::Num(n)) => self.active_expire_effort = to(n, 1),
            ("dir", Value::Dir(d)) => self.dir = d,
            ("dbfilename", Value::Str(s)) => self.dbfilename = text_of(s),
            ("logfile", Value::Str(s)) => self.logfile = text_of(s),
            ("loglevel", Value::Enum(v)) => {
                self.loglevel = value::enum_name(table::LOGLEVELS, v, false);
            }
            ("pidfile", Value::Str(s)) => self.pidfile = text_of(s),
            ("enable-debug-command", Value::Enum(v)) => {
                self.enable_debug_command = ProtectedAccess::from_enum(v)
            }
            ("enable-protected-configs", Value::Enum(v)) => {
                self.enable_protected_configs = ProtectedAccess::from_enum(v);
            }
            ("enable-module-command", Value::Enum(v)) => {
                self.enable_module_command = ProtectedAccess::from_enum(v)
            }
            ("save", Value::Save(v)) => self.save = v,
            ("maxmemory", Value::Num(n)) => self.maxmemory = to(n, 0),
            ("maxmemory-policy", Value::Enum(v)) => {
                self.maxmemory_policy = MaxmemoryPolicy::ALL
                    .get(v as usize)
                    .copied()
                    .unwrap_or(MaxmemoryPolicy::NoEviction);
            }
            ("maxmemory-samples", Value::Num(n)) => self.maxmemory_samples = to(n, 5),
            ("maxmemory-eviction-tenacity", Value::Num(n)) => {
                self.maxmemory_eviction_tenacity = to(n, 10)
            }
            ("appendonly", Value::Bool(b)) => self.appendonly = b,
            ("lazyfree-lazy-eviction", Value::Bool(b)) => self.lazyfree_lazy_eviction = b,
            ("lazyfree-lazy-expire", Value::Bool(b)) => self.lazyfree_lazy_expire = b,
            ("lazyfree-lazy-user-del", Value::Bool(b)) => self.lazyfree_lazy_user_del = b,
            ("replica-read-only", Value::Bool(b)) => self.replica_read_only = b,
            ("min-replicas-to-write", Value::Num(n)) => self.min_replicas_to_write = to(n, 0),
            ("min-replicas-max-lag", Value::Num(n)) => self.min_replicas_max_lag = to(n, 10),
            ("appendfilename", Value::Str(s)) => self.appendfilename = text_of(s),
            ("appenddirname", Value::Str(s)) => self.appenddirname = text_of(s),
            ("daemonize", Value::Bool(b)) => self.daemonize = b,
            ("protected-mode", Value::Bool(b)) => self.protected_mode = b,
            ("rdbcompression", Value::Bool(b)) => self.rdbcompression = b,
            ("rdbchecksum", Value::Bool(b)) => self.rdbchecksum = b,
            ("notify-keyspace-events", Value::KeyspaceEvents(f)) => self.notify_keyspace_events = f,
            ("replicaof", Value::ReplicaOf(r)) => self.replicaof = r,
            ("client-output-buffer-limit", Value::OutputBufferLimits(l)) => {
                self.client_output_buffer_limit = l
            }
            ("slowlog-log-slower-than", Value::Num(n)) => {
                self.slowlog_log_slower_than = to(n, 10000)
            }
            ("slowlog-max-len", Value::Num(n)) => self.slowlog_max_len = to(n, 128),
            ("latency-monitor-threshold", Value::Num(n)) => {
                self.latency_monitor_threshold = to(n, 0)
            }
            ("hash-max-listpack-entries", Value::Num(n)) => {
                self.hash_max_listpack_entries = to(n, 512)
            }
            ("hash-max-listpack-value", Value::Num(n)) => self.hash_max_listpack_value = to(n, 64),
            ("set-max-intset-entries", Value::Num(n)) => self.set_max_intset_entries = to(n, 512),
            ("zset-max-listpack-entries", Value::Num(n)) => {
                self.zset_max_listpack_entries = to(n, 128)
            }
            ("zset-max-listpack-value", Value::Num(n)) => self.zset_max_listpack_value = to(n, 64),
            ("hll-sparse-max-bytes", Value::Num(n)) => self.hll_sparse_max_bytes = to(n, 3000),
            ("list-max-listpack-size", Value::Num(n)) => self.list_max_listpack_size = to(n, -2),
            ("list-compress-depth", Value::Num(n)) => self.list_compress_depth = to(n, 0),
            ("stream-node-max-bytes", Value::Num(n)) => self.stream_node_max_bytes = to(n, 4096),
            ("stream-node-max-entries", Value::Num(n)) => self.stream_node_max_entries = to(n, 100),
            ("lfu-log-factor", Value::Num(n)) => self.lfu_log_factor = to(n, 10),
            ("lfu-decay-time", Value::Num(n)) => self.lfu_decay_time = to(n, 1),
            ("busy-reply-threshold", Value::Num(n)) => self.busy_reply_threshold = to(n, 5000),
            ("latency-tracking", Value::Bool(b)) => self.latency_tracking = b,
            ("maxmemory-clients", Value::Num(n)) => self.maxmemory_clients = n,
            (_, value) => {
                if let Some(slot) = self.other.get_mut(index) {
                    *slot = value;
                }
            }
        }
    }

    /// Sets one parameter from its arguments, ignoring mutability (as the config file does).
    /// The text of [`SetError::Invalid`] is Redis's reason.
    pub fn set(&mut self, name: &str, args: &[&[u8]]) -> Result<(), SetError> {
        let (index, _) = table::lookup(name).ok_or(SetError::Unknown)?;
        self.set_index(index, args, None)
    }

    /// `save_seen` is `Some` while a config file is read: there the first `save` line
    /// replaces the defaults and later ones append, so `save 900 1` + `save 300 10` keeps both.
    fn set_index(
        &mut self,
        index: usize,
        args: &[&[u8]],
        save_seen: Option<&mut bool>,
    ) -> Result<(), SetError> {
        let param: &Param = &PARAMS[index];
        let current = self.load(index);
        let mut parsed = value::parse(param, args, &current).map_err(SetError::Invalid)?;
        if let Some(seen) = save_seen
            && let (Value::Save(new), Value::Save(old)) = (&mut parsed, &current)
        {
            if *seen {
                let mut all = old.clone();
                all.append(new);
                *new = all;
            }
            *seen = true;
        }
        self.store(index, parsed);
        Ok(())
    }

    /// The value of `name` as CONFIG GET shows it, or `None` for an unknown name.
    pub fn get(&self, name: &str) -> Option<Vec<u8>> {
        let (index, _) = table::lookup(name)?;
        Some(value::format(&PARAMS[index], &self.load(index)))
    }

    /// The parameters matching `pattern` (Redis's glob, case-insensitive) with their values,
    /// aliases included, in table order. Hidden parameters only match their exact name.
    pub fn get_matching(&self, pattern: &str) -> Vec<(String, Vec<u8>)> {
        self.get_many(&[pattern.as_bytes()])
    }

    /// CONFIG GET's answer for several patterns: no name twice, exact names as given.
    pub fn get_many(&self, patterns: &[&[u8]]) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = Vec::new();
        let seen = |out: &Vec<(String, Vec<u8>)>, name: &str| {
            out.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        for pattern in patterns {
            let is_glob = pattern.iter().any(|b| matches!(b, b'[' | b'*' | b'?'));
            if !is_glob {
                let name = String::from_utf8_lossy(pattern).into_owned();
                if seen(&out, &name) {
                    continue;
                }
                if let Some((index, _)) = table::lookup(&name) {
                    out.push((name, value::format(&PARAMS[index], &self.load(index))));
                }
                continue;
            }
            for (index, param) in PARAMS.iter().enumerate() {
                if param.has(table::HIDDEN) {
                    continue;
                }
                for name in std::iter::once(param.name).chain(param.alias) {
                    if !seen(&out, name) && glob_match(pattern, name.as_bytes(), Case::Insensitive)
                    {
                        out.push((name.to_string(), value::format(param, &self.load(index))));
                    }
                }
            }
        }
        out
    }

    /// CONFIG SET: sets every (name, value) pair or none. `protected_allowed` says whether
    /// this client may change PROTECTED parameters. The error is the full reply text.
    pub fn config_set(
        &mut self,
        pairs: &[(&[u8], &[u8])],
        protected_allowed: bool,
    ) -> Result<(), String> {
        let mut indexes: Vec<(usize, &'static str)> = Vec::with_capacity(pairs.len());
        // Redis checks every name first; the first problem found decides the reply.
        let mut failure: Option<String> = None;
        for (name, _) in pairs {
            let name_text = String::from_utf8_lossy(name);
            let Some((index, registered)) = table::lookup(&name_text) else {
                failure.get_or_insert_with(|| {
                    format!(
                        "ERR Unknown option or number of arguments for CONFIG SET - '{name_text}'"
                    )
                });
                continue;
            };
            let param = &PARAMS[index];
            let refusal = if param.has(table::IMMUTABLE) {
                Some("can't set immutable config")
            } else if param.has(table::PROTECTED) && !protected_allowed {
                Some("can't set protected config")
            } else if indexes.iter().any(|(i, _)| *i == index) {
                Some("duplicate parameter")
            } else {
                None
            };
            if let Some(reason) = refusal {
                failure.get_or_insert_with(|| set_failed(&name_text, reason));
            }
            indexes.push((index, registered));
        }
        if let Some(reply) = failure {
            return Err(reply);
        }
        let backup = self.clone();
        for ((index, registered), (_, value)) in indexes.iter().zip(pairs) {
            let param = &PARAMS[*index];
            // Multi-argument values are split on single spaces ("" is no arguments).
            let args: Vec<&[u8]> = if param.has(table::MULTI_ARG) {
                if value.is_empty() {
                    Vec::new()
                } else {
                    value.split(|&b| b == b' ').collect()
                }
            } else {
                vec![value]
            };
            if let Err(SetError::Invalid(reason)) = self.set_index(*index, &args, None) {
                *self = backup;
                return Err(set_failed(registered, &reason));
            }
        }
        Ok(())
    }

    /// Whether the parameter called `name` exists.
    pub fn is_known(name: &str) -> bool {
        table::lookup(name).is_some()
    }

    pub(crate) fn set_from_file(
        &mut self,
        index: usize,
        args: &[&[u8]],
        save_seen: &mut bool,
    ) -> Result<(), SetError> {
        self.set_index(index, args, Some(save_seen))
    }
}

fn set_failed(name: &str, reason: &str) -> String {
    format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")
}

#[cfg(test)]
mod tests;
