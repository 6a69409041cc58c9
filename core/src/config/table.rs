//! The parameter table: every configuration parameter of Redis 7.0, one line each, with its
//! name, alias, flags, value type, bounds and default. Everything else in `config` (loading,
//! CONFIG GET/SET, REWRITE) is driven by this table.

/// Only settable at startup (config file or command line).
pub const IMMUTABLE: u16 = 1 << 0;
/// Hidden from logs (CONFIG SET arguments are redacted).
pub const SENSITIVE: u16 = 1 << 1;
/// Listed by DEBUG CONFIG-REWRITE-FORCE-ALL style debug dumps.
pub const DEBUG: u16 = 1 << 2;
/// Takes several arguments (`save 900 1 300 10`).
pub const MULTI_ARG: u16 = 1 << 3;
/// Only returned by CONFIG GET when asked for by exact name.
pub const HIDDEN: u16 = 1 << 4;
/// Settable at run time only when `enable-protected-configs` allows it.
pub const PROTECTED: u16 = 1 << 5;
/// Refused by CONFIG SET while the dataset loads.
pub const DENY_LOADING: u16 = 1 << 6;
/// Re-set even when unchanged (TLS files are re-read).
pub const VOLATILE: u16 = 1 << 9;
/// Settable at run time (no flag).
pub const MODIFIABLE: u16 = 0;

const INT_MAX: i128 = i32::MAX as i128;
const INT_MIN: i128 = i32::MIN as i128;
const UINT_MAX: i128 = u32::MAX as i128;
const LONG_MAX: i128 = i64::MAX as i128;
const ULLONG_MAX: i128 = u64::MAX as i128;
const MB: i128 = 1024 * 1024;

/// How a numeric parameter is written and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A plain integer.
    Plain,
    /// Bytes, accepting `1k`, `1kb`, `1mb`, `1gb`...; shown as plain bytes.
    Memory,
    /// Bytes, or a percentage (`10%`) stored as a negative number.
    MemoryOrPercent,
    /// An octal number (`unixsocketperm 700`).
    Octal,
}

/// The multi-argument parameters with their own syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// `dir`: the working directory.
    Dir,
    /// `save`: pairs of seconds and changes.
    Save,
    /// `client-output-buffer-limit`: class hard soft seconds, per class.
    ClientOutputBufferLimit,
    /// `oom-score-adj-values`: three integers.
    OomScoreAdjValues,
    /// `notify-keyspace-events`: event class letters.
    NotifyKeyspaceEvents,
    /// `bind`: listen addresses.
    Bind,
    /// `replicaof`: host and port, or `no one`.
    ReplicaOf,
    /// `latency-tracking-info-percentiles`: floats between 0 and 100.
    LatencyTrackingInfoPercentiles,
}

/// A validity check on a string value, returning Redis's error text.
pub type StrCheck = fn(&[u8]) -> Result<(), &'static str>;

/// The type of a parameter, with its bounds and default.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// `yes`/`no`.
    Bool {
        /// The default.
        default: bool,
        /// Refuses `yes` with this text (`activedefrag` in builds without defrag).
        refuse_yes: Option<&'static str>,
    },
    /// An integer between `min` and `max`.
    Num {
        /// Lowest value.
        min: i128,
        /// Highest value.
        max: i128,
        /// The default.
        default: i128,
        /// Syntax.
        unit: Unit,
    },
    /// One of named values; a set of them for [`MULTI_ARG`] parameters (bit flags).
    Enum {
        /// Names and values, in the order Redis lists them.
        names: &'static [(&'static str, u32)],
        /// The default value.
        default: u32,
    },
    /// A string; `None` is Redis's NULL (shown as "").
    Str {
        /// The default.
        default: Option<&'static str>,
        /// Whether an empty string is stored as NULL.
        empty_is_null: bool,
        /// Validity check.
        check: Option<StrCheck>,
    },
    /// Its own syntax.
    Special(Special),
}

/// One configuration parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// The primary name.
    pub name: &'static str,
    /// A second name (`slaveof` for `replicaof`), also shown by CONFIG GET.
    pub alias: Option<&'static str>,
    /// `IMMUTABLE`, `PROTECTED`, ... bits.
    pub flags: u16,
    /// Type, bounds and default.
    pub kind: Kind,
}

impl Param {
    /// Whether `flag` is set.
    pub const fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }

    const fn alias(mut self, alias: &'static str) -> Param {
        self.alias = Some(alias);
        self
    }
}

const fn param(name: &'static str, flags: u16, kind: Kind) -> Param {
    Param {
        name,
        alias: None,
        flags,
        kind,
    }
}

const fn yes_no(name: &'static str, flags: u16, default: bool) -> Param {
    param(
        name,
        flags,
        Kind::Bool {
            default,
            refuse_yes: None,
        },
    )
}

const fn num(name: &'static str, flags: u16, min: i128, max: i128, default: i128) -> Param {
    param(
        name,
        flags,
        Kind::Num {
            min,
            max,
            default,
            unit: Unit::Plain,
        },
    )
}

const fn bytes(name: &'static str, flags: u16, min: i128, max: i128, default: i128) -> Param {
    param(
        name,
        flags,
        Kind::Num {
            min,
            max,
            default,
            unit: Unit::Memory,
        },
    )
}

const fn one_of(
    name: &'static str,
    flags: u16,
    names: &'static [(&'static str, u32)],
    default: u32,
) -> Param {
    param(name, flags, Kind::Enum { names, default })
}

/// A string parameter whose empty value means "not set".
const fn text(name: &'static str, flags: u16, default: Option<&'static str>) -> Param {
    param(
        name,
        flags,
        Kind::Str {
            default,
            empty_is_null: true,
            check: None,
        },
    )
}

/// A string parameter where the empty string is a value of its own.
const fn text_or_empty(name: &'static str, flags: u16, default: &'static str) -> Param {
    param(
        name,
        flags,
        Kind::Str {
            default: Some(default),
            empty_is_null: false,
            check: None,
        },
    )
}

const fn checked(name: &'static str, flags: u16, default: &'static str, check: StrCheck) -> Param {
    param(
        name,
        flags,
        Kind::Str {
            default: Some(default),
            empty_is_null: false,
            check: Some(check),
        },
    )
}

const fn special(name: &'static str, flags: u16, which: Special) -> Param {
    param(name, flags, Kind::Special(which))
}

/// `maxmemory-policy` values.
pub const MAXMEMORY_POLICIES: &[(&str, u32)] = &[
    ("volatile-lru", 0),
    ("volatile-lfu", 1),
    ("volatile-random", 2),
    ("volatile-ttl", 3),
    ("allkeys-lru", 4),
    ("allkeys-lfu", 5),
    ("allkeys-random", 6),
    ("noeviction", 7),
];
const SYSLOG_FACILITIES: &[(&str, u32)] = &[
    ("user", 8),
    ("local0", 128),
    ("local1", 136),
    ("local2", 144),
    ("local3", 152),
    ("local4", 160),
    ("local5", 168),
    ("local6", 176),
    ("local7", 184),
];
/// `loglevel` values.
pub const LOGLEVELS: &[(&str, u32)] =
    &[("debug", 0), ("verbose", 1), ("notice", 2), ("warning", 3)];
const SUPERVISED: &[(&str, u32)] = &[("upstart", 1), ("systemd", 2), ("auto", 3), ("no", 0)];
const AOF_FSYNC: &[(&str, u32)] = &[("everysec", 2), ("always", 1), ("no", 0)];
/// `shutdown-on-sigint`/`shutdown-on-sigterm` flags (combinable).
pub const SHUTDOWN_FLAGS: &[(&str, u32)] = &[
    ("default", 0),
    ("save", 1),
    ("nosave", 2),
    ("now", 4),
    ("force", 8),
];
const DISKLESS_LOAD: &[(&str, u32)] = &[("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)];
const TLS_AUTH_CLIENTS: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("optional", 2)];
const OOM_SCORE_ADJ: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)];
const ACL_PUBSUB_DEFAULT: &[(&str, u32)] = &[("allchannels", 1), ("resetchannels", 0)];
const SANITIZE_DUMP: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("clients", 2)];
/// `enable-*-command` / `enable-protected-configs` values.
pub const PROTECTED_ACTION: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("local", 2)];
const ENDPOINT_TYPE: &[(&str, u32)] = &[("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)];
const PROPAGATION_ERROR: &[(&str, u32)] = &[("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)];

/// Every parameter, in Redis's `configs[]` order.
#[rustfmt::skip]
pub static PARAMS: &[Param] = &[
    // Booleans: name, flags, default.
    yes_no("rdbchecksum", IMMUTABLE, true),
    yes_no("daemonize", IMMUTABLE, false),
    yes_no("io-threads-do-reads", DEBUG | IMMUTABLE, false),
    yes_no("always-show-logo", IMMUTABLE, false),
    yes_no("protected-mode", MODIFIABLE, true),
    yes_no("rdbcompression", MODIFIABLE, true),
    yes_no("rdb-del-sync-files", MODIFIABLE, false),
    yes_no("activerehashing", MODIFIABLE, true),
    yes_no("stop-writes-on-bgsave-error", MODIFIABLE, true),
    yes_no("set-proc-title", IMMUTABLE, true),
    yes_no("dynamic-hz", MODIFIABLE, true),
    yes_no("lazyfree-lazy-eviction", DEBUG, false),
    yes_no("lazyfree-lazy-expire", DEBUG, false),
    yes_no("lazyfree-lazy-server-del", DEBUG, false),
    yes_no("lazyfree-lazy-user-del", DEBUG, false),
    yes_no("lazyfree-lazy-user-flush", DEBUG, false),
    yes_no("repl-disable-tcp-nodelay", MODIFIABLE, false),
    yes_no("repl-diskless-sync", DEBUG, true),
    yes_no("aof-rewrite-incremental-fsync", MODIFIABLE, true),
    yes_no("no-appendfsync-on-rewrite", MODIFIABLE, false),
    yes_no("cluster-require-full-coverage", MODIFIABLE, true),
    yes_no("rdb-save-incremental-fsync", MODIFIABLE, true),
    yes_no("aof-load-truncated", MODIFIABLE, true),
    yes_no("aof-use-rdb-preamble", MODIFIABLE, true),
    yes_no("aof-timestamp-enabled", MODIFIABLE, false),
    yes_no("cluster-replica-no-failover", MODIFIABLE, false).alias("cluster-slave-no-failover"),
    yes_no("replica-lazy-flush", MODIFIABLE, false).alias("slave-lazy-flush"),
    yes_no("replica-serve-stale-data", MODIFIABLE, true).alias("slave-serve-stale-data"),
    yes_no("replica-read-only", DEBUG, true).alias("slave-read-only"),
    yes_no("replica-ignore-maxmemory", MODIFIABLE, true).alias("slave-ignore-maxmemory"),
    yes_no("jemalloc-bg-thread", MODIFIABLE, true),
    param("activedefrag", DEBUG, Kind::Bool { default: false, refuse_yes: Some(NO_DEFRAG) }),
    yes_no("syslog-enabled", IMMUTABLE, false),
    yes_no("cluster-enabled", IMMUTABLE, false),
    yes_no("appendonly", DENY_LOADING, false),
    yes_no("cluster-allow-reads-when-down", MODIFIABLE, false),
    yes_no("cluster-allow-pubsubshard-when-down", MODIFIABLE, true),
    yes_no("crash-log-enabled", MODIFIABLE, true),
    yes_no("crash-memcheck-enabled", MODIFIABLE, true),
    yes_no("use-exit-on-panic", HIDDEN, false),
    yes_no("disable-thp", IMMUTABLE, true),
    yes_no("cluster-allow-replica-migration", MODIFIABLE, true),
    yes_no("replica-announced", MODIFIABLE, true),
    yes_no("latency-tracking", MODIFIABLE, true),
    yes_no("aof-disable-auto-gc", MODIFIABLE, false),
    yes_no("replica-ignore-disk-write-errors", MODIFIABLE, false),
    yes_no("lua-enable-deprecated-api", IMMUTABLE | HIDDEN, false),

    // Strings: name, flags, default (None: NULL, shown as "").
    text_or_empty("aclfile", IMMUTABLE, ""),
    text("unixsocket", IMMUTABLE, None),
    text("pidfile", IMMUTABLE, None),
    text("replica-announce-ip", MODIFIABLE, None).alias("slave-announce-ip"),
    text("masteruser", SENSITIVE, None),
    text("cluster-announce-ip", MODIFIABLE, None),
    text_or_empty("cluster-config-file", IMMUTABLE, "nodes.conf"),
    param("cluster-announce-hostname", MODIFIABLE, Kind::Str { default: None, empty_is_null: true, check: Some(check_hostname) }),
    text_or_empty("syslog-ident", IMMUTABLE, "redis"),
    checked("dbfilename", PROTECTED, "dump.rdb", check_dbfilename),
    checked("appendfilename", IMMUTABLE, "appendonly.aof", check_appendfilename),
    checked("appenddirname", IMMUTABLE, "appendonlydir", check_appenddirname),
    text("server_cpulist", IMMUTABLE, None),
    text("bio_cpulist", IMMUTABLE, None),
    text("aof_rewrite_cpulist", IMMUTABLE, None),
    text("bgsave_cpulist", IMMUTABLE, None),
    text_or_empty("ignore-warnings", MODIFIABLE, ""),
    checked("proc-title-template", MODIFIABLE, "{title} {listen-addr} {server-mode}", check_proc_title_template),
    text("bind-source-addr", MODIFIABLE, None),
    text_or_empty("logfile", IMMUTABLE, ""),
    text("masterauth", SENSITIVE, None),
    text("requirepass", SENSITIVE, None),

    // Enums: name, flags, values, default.
    one_of("supervised", IMMUTABLE, SUPERVISED, 0),
    one_of("syslog-facility", IMMUTABLE, SYSLOG_FACILITIES, 128),
    one_of("repl-diskless-load", DEBUG | DENY_LOADING, DISKLESS_LOAD, 0),
    one_of("loglevel", MODIFIABLE, LOGLEVELS, 2),
    one_of("maxmemory-policy", MODIFIABLE, MAXMEMORY_POLICIES, 7),
    one_of("appendfsync", MODIFIABLE, AOF_FSYNC, 2),
    one_of("oom-score-adj", MODIFIABLE, OOM_SCORE_ADJ, 0),
    one_of("acl-pubsub-default", MODIFIABLE, ACL_PUBSUB_DEFAULT, 0),
    one_of("sanitize-dump-payload", DEBUG, SANITIZE_DUMP, 0),
    one_of("enable-protected-configs", IMMUTABLE, PROTECTED_ACTION, 0),
    one_of("enable-debug-command", IMMUTABLE, PROTECTED_ACTION, 0),
    one_of("enable-module-command", IMMUTABLE, PROTECTED_ACTION, 0),
    one_of("cluster-preferred-endpoint-type", MODIFIABLE, ENDPOINT_TYPE, 0),
    one_of("propagation-error-behavior", MODIFIABLE, PROPAGATION_ERROR, 0),
    one_of("shutdown-on-sigint", MULTI_ARG, SHUTDOWN_FLAGS, 0),
    one_of("shutdown-on-sigterm", MULTI_ARG, SHUTDOWN_FLAGS, 0),

    // Integers: name, flags, min, max, default.
    num("databases", IMMUTABLE, 1, INT_MAX, 16),
    num("port", MODIFIABLE, 0, 65535, 6379),
    num("io-threads", DEBUG | IMMUTABLE, 1, 128, 1),
    num("auto-aof-rewrite-percentage", MODIFIABLE, 0, INT_MAX, 100),
    num("cluster-replica-validity-factor", MODIFIABLE, 0, INT_MAX, 10).alias("cluster-slave-validity-factor"),
    num("list-max-listpack-size", MODIFIABLE, INT_MIN, INT_MAX, -2).alias("list-max-ziplist-size"),
    num("tcp-keepalive", MODIFIABLE, 0, INT_MAX, 300),
    num("cluster-migration-barrier", MODIFIABLE, 0, INT_MAX, 1),
    num("active-defrag-cycle-min", MODIFIABLE, 1, 99, 1),
    num("active-defrag-cycle-max", MODIFIABLE, 1, 99, 25),
    num("active-defrag-threshold-lower", MODIFIABLE, 0, 1000, 10),
    num("active-defrag-threshold-upper", MODIFIABLE, 0, 1000, 100),
    num("lfu-log-factor", MODIFIABLE, 0, INT_MAX, 10),
    num("lfu-decay-time", MODIFIABLE, 0, INT_MAX, 1),
    num("replica-priority", MODIFIABLE, 0, INT_MAX, 100).alias("slave-priority"),
    num("repl-diskless-sync-delay", MODIFIABLE, 0, INT_MAX, 5),
    num("maxmemory-samples", MODIFIABLE, 1, INT_MAX, 5),
    num("maxmemory-eviction-tenacity", MODIFIABLE, 0, 100, 10),
    num("timeout", MODIFIABLE, 0, INT_MAX, 0),
    num("replica-announce-port", MODIFIABLE, 0, 65535, 0).alias("slave-announce-port"),
    num("tcp-backlog", IMMUTABLE, 0, INT_MAX, 511),
    num("cluster-port", IMMUTABLE, 0, 65535, 0),
    num("cluster-announce-bus-port", MODIFIABLE, 0, 65535, 0),
    num("cluster-announce-port", MODIFIABLE, 0, 65535, 0),
    num("cluster-announce-tls-port", MODIFIABLE, 0, 65535, 0),
    num("repl-timeout", MODIFIABLE, 1, INT_MAX, 60),
    num("repl-ping-replica-period", MODIFIABLE, 1, INT_MAX, 10).alias("repl-ping-slave-period"),
    num("list-compress-depth", DEBUG, 0, INT_MAX, 0),
    num("rdb-key-save-delay", HIDDEN, INT_MIN, INT_MAX, 0),
    num("key-load-delay", HIDDEN, INT_MIN, INT_MAX, 0),
    num("active-expire-effort", MODIFIABLE, 1, 10, 1),
    num("hz", MODIFIABLE, 0, INT_MAX, 10),
    num("min-replicas-to-write", MODIFIABLE, 0, INT_MAX, 0).alias("min-slaves-to-write"),
    num("min-replicas-max-lag", MODIFIABLE, 0, INT_MAX, 10).alias("min-slaves-max-lag"),
    num("watchdog-period", HIDDEN, 0, INT_MAX, 0),
    num("shutdown-timeout", MODIFIABLE, 0, INT_MAX, 10),
    num("repl-diskless-sync-max-replicas", MODIFIABLE, 0, INT_MAX, 0),
    num("maxclients", MODIFIABLE, 1, UINT_MAX, 10000),
    param("unixsocketperm", IMMUTABLE, Kind::Num { min: 0, max: 0o777, default: 0, unit: Unit::Octal }),
    num("socket-mark-id", IMMUTABLE, 0, UINT_MAX, 0),
    num("active-defrag-max-scan-fields", MODIFIABLE, 1, LONG_MAX, 1000),
    num("slowlog-max-len", MODIFIABLE, 0, LONG_MAX, 128),
    num("acllog-max-len", MODIFIABLE, 0, LONG_MAX, 128),
    num("busy-reply-threshold", MODIFIABLE, 0, LONG_MAX, 5000).alias("lua-time-limit"),
    num("cluster-node-timeout", MODIFIABLE, 0, LONG_MAX, 15000),
    num("slowlog-log-slower-than", MODIFIABLE, -1, LONG_MAX, 10000),
    num("latency-monitor-threshold", MODIFIABLE, 0, LONG_MAX, 0),
    bytes("proto-max-bulk-len", DEBUG, MB, LONG_MAX, 512 * MB),
    num("stream-node-max-entries", MODIFIABLE, 0, LONG_MAX, 100),
    bytes("repl-backlog-size", MODIFIABLE, 1, LONG_MAX, MB),
    bytes("maxmemory", MODIFIABLE, 0, ULLONG_MAX, 0),
    bytes("cluster-link-sendbuf-limit", MODIFIABLE, 0, ULLONG_MAX, 0),
    num("hash-max-listpack-entries", MODIFIABLE, 0, LONG_MAX, 512).alias("hash-max-ziplist-entries"),
    num("set-max-intset-entries", MODIFIABLE, 0, LONG_MAX, 512),
    num("zset-max-listpack-entries", MODIFIABLE, 0, LONG_MAX, 128).alias("zset-max-ziplist-entries"),
    bytes("active-defrag-ignore-bytes", MODIFIABLE, 1, LONG_MAX, 100 * MB),
    bytes("hash-max-listpack-value", MODIFIABLE, 0, LONG_MAX, 64).alias("hash-max-ziplist-value"),
    bytes("stream-node-max-bytes", MODIFIABLE, 0, LONG_MAX, 4096),
    bytes("zset-max-listpack-value", MODIFIABLE, 0, LONG_MAX, 64).alias("zset-max-ziplist-value"),
    bytes("hll-sparse-max-bytes", MODIFIABLE, 0, LONG_MAX, 3000),
    num("tracking-table-max-keys", MODIFIABLE, 0, LONG_MAX, 1_000_000),
    bytes("client-query-buffer-limit", DEBUG, MB, LONG_MAX, 1024 * MB),
    param("maxmemory-clients", MODIFIABLE, Kind::Num { min: -100, max: LONG_MAX, default: 0, unit: Unit::MemoryOrPercent }),
    num("repl-backlog-ttl", MODIFIABLE, 0, LONG_MAX, 3600),
    bytes("auto-aof-rewrite-min-size", MODIFIABLE, 0, LONG_MAX, 64 * MB),
    num("loading-process-events-interval-bytes", HIDDEN, 1024, INT_MAX, 2 * MB),

    // TLS: accepted and stored; Oxidis does not speak TLS yet.
    num("tls-port", MODIFIABLE, 0, 65535, 0),
    num("tls-session-cache-size", MODIFIABLE, 0, INT_MAX, 20 * 1024),
    num("tls-session-cache-timeout", MODIFIABLE, 0, INT_MAX, 300),
    yes_no("tls-cluster", MODIFIABLE, false),
    yes_no("tls-replication", MODIFIABLE, false),
    one_of("tls-auth-clients", MODIFIABLE, TLS_AUTH_CLIENTS, 1),
    yes_no("tls-prefer-server-ciphers", MODIFIABLE, false),
    yes_no("tls-session-caching", MODIFIABLE, true),
    text("tls-cert-file", VOLATILE, None),
    text("tls-key-file", VOLATILE, None),
    text("tls-key-file-pass", MODIFIABLE, None),
    text("tls-client-cert-file", VOLATILE, None),
    text("tls-client-key-file", VOLATILE, None),
    text("tls-client-key-file-pass", MODIFIABLE, None),
    text("tls-dh-params-file", VOLATILE, None),
    text("tls-ca-cert-file", VOLATILE, None),
    text("tls-ca-cert-dir", VOLATILE, None),
    text("tls-protocols", MODIFIABLE, None),
    text("tls-ciphers", MODIFIABLE, None),
    text("tls-ciphersuites", MODIFIABLE, None),

    // Special syntax.
    special("dir", PROTECTED | DENY_LOADING, Special::Dir),
    special("save", MULTI_ARG, Special::Save),
    special("client-output-buffer-limit", MULTI_ARG, Special::ClientOutputBufferLimit),
    special("oom-score-adj-values", MULTI_ARG, Special::OomScoreAdjValues),
    special("notify-keyspace-events", MODIFIABLE, Special::NotifyKeyspaceEvents),
    special("bind", MULTI_ARG, Special::Bind),
    special("replicaof", IMMUTABLE | MULTI_ARG, Special::ReplicaOf).alias("slaveof"),
    special("latency-tracking-info-percentiles", MULTI_ARG, Special::LatencyTrackingInfoPercentiles),
];

/// Oxidis has no active defragmenter, so like a Redis built without jemalloc it refuses it.
const NO_DEFRAG: &str = "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution";

fn is_base_name(value: &[u8]) -> bool {
    !value.iter().any(|&b| b == b'/' || b == b'\\')
}

fn check_dbfilename(value: &[u8]) -> Result<(), &'static str> {
    if is_base_name(value) {
        Ok(())
    } else {
        Err("dbfilename can't be a path, just a filename")
    }
}

fn check_appendfilename(value: &[u8]) -> Result<(), &'static str> {
    match value {
        [] => Err("appendfilename can't be empty"),
        v if !is_base_name(v) => Err("appendfilename can't be a path, just a filename"),
        _ => Ok(()),
    }
}

fn check_appenddirname(value: &[u8]) -> Result<(), &'static str> {
    match value {
        [] => Err("appenddirname can't be empty"),
        v if !is_base_name(v) => Err("appenddirname can't be a path, just a dirname"),
        _ => Ok(()),
    }
}

fn check_hostname(value: &[u8]) -> Result<(), &'static str> {
    if value.len() >= 256 {
        return Err("Hostnames must be less than 256 characters");
    }
    if value
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
    {
        Ok(())
    } else {
        Err("Hostnames may only contain alphanumeric characters, hyphens or dots")
    }
}

/// A template is valid when its `{variables}` are known, its braces balance (`{{`/`}}`
/// escape them), and it does not expand to nothing.
fn check_proc_title_template(value: &[u8]) -> Result<(), &'static str> {
    const INVALID: &str = "template format is invalid or contains unknown variables";
    let mut expanded_len = 0usize;
    let mut i = 0;
    while i < value.len() {
        match (value[i], value.get(i + 1)) {
            (b'{', Some(b'{')) | (b'}', Some(b'}')) => {
                expanded_len += 1;
                i += 2;
            }
            (b'{', _) => {
                let rest = &value[i + 1..];
                let end = rest.iter().position(|&b| b == b'}').ok_or(INVALID)?;
                expanded_len += match &rest[..end] {
                    b"title" | b"server-mode" | b"unixsocket" => 0,
                    b"listen-addr" | b"config-file" | b"port" | b"tls-port" => 1,
                    _ => return Err(INVALID),
                };
                i += end + 2;
            }
            (b'}', _) => return Err(INVALID),
            _ => {
                expanded_len += 1;
                i += 1;
            }
        }
    }
    if expanded_len == 0 {
        Err(INVALID)
    } else {
        Ok(())
    }
}

/// The parameter called `name` (or aliased so), case-insensitively, and the name as registered.
pub fn lookup(name: &str) -> Option<(usize, &'static str)> {
    PARAMS.iter().enumerate().find_map(|(i, p)| {
        if p.name.eq_ignore_ascii_case(name) {
            Some((i, p.name))
        } else {
            p.alias
                .filter(|a| a.eq_ignore_ascii_case(name))
                .map(|a| (i, a))
        }
    })
}
