//! Server configuration: every parameter Oxidis accepts, with Redis's names, defaults, value
//! syntax and error texts. The config file, the command line and `CONFIG SET` all go through
//! the same parameter table.
//!
//! TODO(#3): the parameter table, file/command-line loading and CONFIG GET/SET/REWRITE land here.

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

/// The current value of every parameter, in typed fields named after Redis's parameters.
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
    /// `hz`.
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
    /// `pidfile`.
    pub pidfile: String,
    /// `enable-debug-command`.
    pub enable_debug_command: ProtectedAccess,
    /// `enable-protected-configs`.
    pub enable_protected_configs: ProtectedAccess,
    /// `enable-module-command`.
    pub enable_module_command: ProtectedAccess,
}

impl Default for Config {
    fn default() -> Config {
        Config {
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
        }
    }
}
