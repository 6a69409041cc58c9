//! Unit tests of the server family, with replies and error texts checked against Redis 7.0.15.

use bytes::Bytes;
use oxidis_protocol::{Frame, RespVersion};

use crate::config::{Config, ProtectedAccess};
use crate::db::Ttl;
use crate::errors::DEBUG_DISABLED;
use crate::testing::{CommandRunner, bulk, err, simple};
use crate::types::Value;

/// Stores a string directly: at this fork the string family may not be registered yet.
fn put(r: &mut CommandRunner, key: &str, value: &str) {
    let clock = r.server.lru_clock();
    r.server.dbs[0].set(
        key.as_bytes(),
        Value::string(value.as_bytes()),
        Ttl::Clear,
        clock,
    );
}

fn put_volatile(r: &mut CommandRunner, key: &str, value: &str, at_ms: u64) {
    r.server.dbs[0].set(
        key.as_bytes(),
        Value::string(value.as_bytes()),
        Ttl::At(at_ms),
        0,
    );
}

fn get(r: &mut CommandRunner, key: &str) -> Option<Vec<u8>> {
    let db = &r.server.dbs[0];
    let pos = db.find(key.as_bytes())?;
    db.entry(pos).value.to_string_vec()
}

fn debug_runner() -> CommandRunner {
    CommandRunner::with_config({
        Config {
            enable_debug_command: ProtectedAccess::Yes,
            ..Config::default()
        }
    })
}

fn info_text(r: &mut CommandRunner, sections: &[&str]) -> String {
    let mut argv = vec!["INFO"];
    argv.extend_from_slice(sections);
    match r.run(argv) {
        Frame::Verbatim { format, text } => {
            assert_eq!(&format, b"txt");
            String::from_utf8(text.to_vec()).unwrap()
        }
        other => panic!("INFO answered {other:?}"),
    }
}

fn headers(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with('#')).collect()
}

fn field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.split("\r\n")
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
}

#[test]
fn info_default_sections_in_redis_order() {
    let mut r = CommandRunner::with_builtin_commands();
    let expected = [
        "# Server",
        "# Clients",
        "# Memory",
        "# Persistence",
        "# Stats",
        "# Replication",
        "# CPU",
        "# Modules",
        "# Errorstats",
        "# Cluster",
        "# Keyspace",
    ];
    assert_eq!(headers(&info_text(&mut r, &[])), expected);
    assert_eq!(headers(&info_text(&mut r, &["default"])), expected);
    let everything = info_text(&mut r, &["everything"]);
    assert_eq!(
        headers(&everything),
        [
            "# Server",
            "# Clients",
            "# Memory",
            "# Persistence",
            "# Stats",
            "# Replication",
            "# CPU",
            "# Modules",
            "# Commandstats",
            "# Errorstats",
            "# Latencystats",
            "# Cluster",
            "# Keyspace",
        ]
    );
    assert_eq!(headers(&info_text(&mut r, &["all"])), headers(&everything));
}

#[test]
fn info_sections_are_case_insensitive_and_not_repeated() {
    let mut r = CommandRunner::with_builtin_commands();
    r.run(["DBSIZE"]);
    let text = info_text(&mut r, &["commandSTATS"]);
    assert!(text.starts_with("# Commandstats\r\ncmdstat_dbsize:calls=1,usec="));
    assert!(text.contains(",rejected_calls=0,failed_calls=0\r\n"));
    let text = info_text(&mut r, &["cpu", "CPU", "default"]);
    assert_eq!(text.matches("used_cpu_user_children").count(), 1);
    assert!(text.contains("master_repl_offset:0"));
    assert!(!text.contains("rejected_calls"));
    assert_eq!(info_text(&mut r, &["sentinel"]), "");
    let cpu = info_text(&mut r, &["cpu"]);
    assert!(cpu.starts_with("# CPU\r\nused_cpu_sys:"));
    assert!(!cpu.contains("used_memory"));
}

const REDIS_IDLE_FIELDS: &[&str] = &[
    "redis_version",
    "redis_git_sha1",
    "redis_git_dirty",
    "redis_build_id",
    "redis_mode",
    "os",
    "arch_bits",
    "monotonic_clock",
    "multiplexing_api",
    "atomicvar_api",
    "gcc_version",
    "process_id",
    "process_supervised",
    "run_id",
    "tcp_port",
    "server_time_usec",
    "uptime_in_seconds",
    "uptime_in_days",
    "hz",
    "configured_hz",
    "lru_clock",
    "executable",
    "config_file",
    "io_threads_active",
    "connected_clients",
    "cluster_connections",
    "maxclients",
    "client_recent_max_input_buffer",
    "client_recent_max_output_buffer",
    "blocked_clients",
    "tracking_clients",
    "clients_in_timeout_table",
    "used_memory",
    "used_memory_human",
    "used_memory_rss",
    "used_memory_rss_human",
    "used_memory_peak",
    "used_memory_peak_human",
    "used_memory_peak_perc",
    "used_memory_overhead",
    "used_memory_startup",
    "used_memory_dataset",
    "used_memory_dataset_perc",
    "allocator_allocated",
    "allocator_active",
    "allocator_resident",
    "total_system_memory",
    "total_system_memory_human",
    "used_memory_lua",
    "used_memory_vm_eval",
    "used_memory_lua_human",
    "used_memory_scripts_eval",
    "number_of_cached_scripts",
    "number_of_functions",
    "number_of_libraries",
    "used_memory_vm_functions",
    "used_memory_vm_total",
    "used_memory_vm_total_human",
    "used_memory_functions",
    "used_memory_scripts",
    "used_memory_scripts_human",
    "maxmemory",
    "maxmemory_human",
    "maxmemory_policy",
    "allocator_frag_ratio",
    "allocator_frag_bytes",
    "allocator_rss_ratio",
    "allocator_rss_bytes",
    "rss_overhead_ratio",
    "rss_overhead_bytes",
    "mem_fragmentation_ratio",
    "mem_fragmentation_bytes",
    "mem_not_counted_for_evict",
    "mem_replication_backlog",
    "mem_total_replication_buffers",
    "mem_clients_slaves",
    "mem_clients_normal",
    "mem_cluster_links",
    "mem_aof_buffer",
    "mem_allocator",
    "active_defrag_running",
    "lazyfree_pending_objects",
    "lazyfreed_objects",
    "loading",
    "async_loading",
    "current_cow_peak",
    "current_cow_size",
    "current_cow_size_age",
    "current_fork_perc",
    "current_save_keys_processed",
    "current_save_keys_total",
    "rdb_changes_since_last_save",
    "rdb_bgsave_in_progress",
    "rdb_last_save_time",
    "rdb_last_bgsave_status",
    "rdb_last_bgsave_time_sec",
    "rdb_current_bgsave_time_sec",
    "rdb_saves",
    "rdb_last_cow_size",
    "rdb_last_load_keys_expired",
    "rdb_last_load_keys_loaded",
    "aof_enabled",
    "aof_rewrite_in_progress",
    "aof_rewrite_scheduled",
    "aof_last_rewrite_time_sec",
    "aof_current_rewrite_time_sec",
    "aof_last_bgrewrite_status",
    "aof_rewrites",
    "aof_rewrites_consecutive_failures",
    "aof_last_write_status",
    "aof_last_cow_size",
    "module_fork_in_progress",
    "module_fork_last_cow_size",
    "total_connections_received",
    "total_commands_processed",
    "instantaneous_ops_per_sec",
    "total_net_input_bytes",
    "total_net_output_bytes",
    "total_net_repl_input_bytes",
    "total_net_repl_output_bytes",
    "instantaneous_input_kbps",
    "instantaneous_output_kbps",
    "instantaneous_input_repl_kbps",
    "instantaneous_output_repl_kbps",
    "rejected_connections",
    "sync_full",
    "sync_partial_ok",
    "sync_partial_err",
    "expired_keys",
    "expired_stale_perc",
    "expired_time_cap_reached_count",
    "expire_cycle_cpu_milliseconds",
    "evicted_keys",
    "evicted_clients",
    "total_eviction_exceeded_time",
    "current_eviction_exceeded_time",
    "keyspace_hits",
    "keyspace_misses",
    "pubsub_channels",
    "pubsub_patterns",
    "pubsubshard_channels",
    "latest_fork_usec",
    "total_forks",
    "migrate_cached_sockets",
    "slave_expires_tracked_keys",
    "active_defrag_hits",
    "active_defrag_misses",
    "active_defrag_key_hits",
    "active_defrag_key_misses",
    "total_active_defrag_time",
    "current_active_defrag_time",
    "tracking_total_keys",
    "tracking_total_items",
    "tracking_total_prefixes",
    "unexpected_error_replies",
    "total_error_replies",
    "dump_payload_sanitizations",
    "total_reads_processed",
    "total_writes_processed",
    "io_threaded_reads_processed",
    "io_threaded_writes_processed",
    "reply_buffer_shrinks",
    "reply_buffer_expands",
    "role",
    "connected_slaves",
    "master_failover_state",
    "master_replid",
    "master_replid2",
    "master_repl_offset",
    "second_repl_offset",
    "repl_backlog_active",
    "repl_backlog_size",
    "repl_backlog_first_byte_offset",
    "repl_backlog_histlen",
    "used_cpu_sys",
    "used_cpu_user",
    "used_cpu_sys_children",
    "used_cpu_user_children",
    "used_cpu_sys_main_thread",
    "used_cpu_user_main_thread",
    "cluster_enabled",
];

#[test]
fn info_field_names_and_order_match_redis() {
    let mut r = CommandRunner::with_builtin_commands();
    let text = info_text(&mut r, &["everything"]);
    let names: Vec<&str> = text
        .split("\r\n")
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split(':').next().unwrap())
        .collect();
    // `redis-cli info everything` of an idle Redis 7.0.15, before any command ran.
    assert_eq!(names, REDIS_IDLE_FIELDS);
    assert_eq!(names.last(), Some(&"cluster_enabled"));
    assert!(text.ends_with("# Keyspace\r\n"));
    assert_eq!(field(&text, "redis_version"), Some("7.0.15"));
    assert_eq!(field(&text, "role"), Some("master"));
    assert_eq!(field(&text, "aof_enabled"), Some("0"));
    assert_eq!(field(&text, "rdb_bgsave_in_progress"), Some("0"));
    assert_eq!(field(&text, "connected_clients"), Some("1"));
    assert_eq!(field(&text, "master_replid").map(str::len), Some(40));
}

#[test]
fn info_reports_keyspace_stats_and_errors() {
    let mut r = CommandRunner::with_builtin_commands();
    put(&mut r, "a", "1");
    put_volatile(&mut r, "b", "2", 1_100_000);
    r.server.stats.keyspace_hits = 3;
    r.server.stats.keyspace_misses = 4;
    r.run(["DBSIZE"]);
    r.run(["DBSIZE"]);
    r.run(["NOSUCHCOMMAND"]);
    r.run(["DBSIZE", "x"]);
    let text = info_text(&mut r, &["keyspace", "stats", "errorstats", "commandstats"]);
    assert!(text.contains("# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\n"));
    assert_eq!(field(&text, "keyspace_hits"), Some("3"));
    assert_eq!(field(&text, "keyspace_misses"), Some("4"));
    assert_eq!(field(&text, "total_error_replies"), Some("2"));
    assert_eq!(field(&text, "errorstat_ERR"), Some("count=2"));
    let dbsize = field(&text, "cmdstat_dbsize").unwrap();
    assert!(dbsize.starts_with("calls=2,usec="), "{dbsize}");
    // Redis counts the arity error as `rejected_calls=1`; dispatch does not yet (see report).
    assert!(dbsize.ends_with(",failed_calls=0"), "{dbsize}");
    assert_eq!(field(&text, "total_commands_processed"), Some("2"));
    assert_eq!(field(&text, "expired_stale_perc"), Some("0.00"));
}

#[test]
fn human_sizes_follow_bytes_to_human() {
    use super::info::bytes_to_human;
    assert_eq!(bytes_to_human(1023), "1023B");
    assert_eq!(bytes_to_human(916_280), "894.80K");
    assert_eq!(bytes_to_human(6_807_552), "6.49M");
    assert_eq!(bytes_to_human(25_276_502_016), "23.54G");
}

#[test]
fn time_returns_seconds_and_microseconds() {
    let mut r = CommandRunner::with_builtin_commands();
    // The runner's clock is hand-moved, starting at 1,000,000 ms.
    assert_eq!(r.run(["TIME"]), Frame::Array(vec![bulk("1000"), bulk("0")]));
    r.advance_ms(1500);
    assert_eq!(
        r.run(["TIME"]),
        Frame::Array(vec![bulk("1001"), bulk("500000")])
    );
    assert_eq!(
        r.run(["TIME", "x"]),
        err("ERR wrong number of arguments for 'time' command")
    );
}

#[test]
fn dbsize_and_lastsave() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(r.run(["DBSIZE"]), Frame::Integer(0));
    put(&mut r, "a", "1");
    put(&mut r, "b", "1");
    assert_eq!(r.run(["DBSIZE"]), Frame::Integer(2));
    let last_save = i64::try_from(r.server.last_save_unix).unwrap();
    assert_eq!(r.run(["LASTSAVE"]), Frame::Integer(last_save));
}

#[test]
fn flushdb_empties_only_the_selected_database() {
    let mut r = CommandRunner::with_builtin_commands();
    put(&mut r, "a", "1");
    r.server.dbs[1].set(b"other", Value::string(b"x"), Ttl::Clear, 0);
    let dirty = r.server.dirty;
    assert_eq!(r.run(["FLUSHDB"]), Frame::ok());
    assert_eq!(r.server.dirty, dirty + 1);
    assert_eq!(r.run(["DBSIZE"]), Frame::Integer(0));
    assert_eq!(r.server.dbs[1].len(), 1);
    assert_eq!(r.run(["FLUSHDB", "sync"]), Frame::ok());
    assert_eq!(r.run(["FLUSHDB", "ASYNC"]), Frame::ok());
    assert_eq!(r.run(["FLUSHDB", "lazy"]), err("ERR syntax error"));
    assert_eq!(r.run(["FLUSHDB", "sync", "async"]), err("ERR syntax error"));
}

#[test]
fn flushall_async_frees_in_the_background() {
    let mut r = CommandRunner::with_builtin_commands();
    for i in 0..100 {
        put(&mut r, &format!("k{i}"), "v");
    }
    r.server.dbs[3].set(b"x", Value::string(b"x"), Ttl::Clear, 0);
    assert_eq!(r.run(["FLUSHALL", "ASYNC"]), Frame::ok());
    assert!(r.server.dbs.iter().all(crate::db::Db::is_empty));
    assert_eq!(r.run(["FLUSHALL"]), Frame::ok());
    assert_eq!(r.run(["FLUSHALL", "x"]), err("ERR syntax error"));
}

#[test]
fn swapdb_exchanges_databases() {
    let mut r = CommandRunner::with_builtin_commands();
    put(&mut r, "a", "1");
    assert_eq!(r.run(["SWAPDB", "0", "1"]), Frame::ok());
    assert_eq!(r.run(["DBSIZE"]), Frame::Integer(0));
    assert_eq!(r.server.dbs[1].len(), 1);
    assert_eq!(r.run(["SWAPDB", "1", "1"]), Frame::ok());
    assert_eq!(
        r.run(["SWAPDB", "x", "1"]),
        err("ERR invalid first DB index")
    );
    assert_eq!(
        r.run(["SWAPDB", "0", "1.5"]),
        err("ERR invalid second DB index")
    );
    assert_eq!(
        r.run(["SWAPDB", "0", "4294967296"]),
        err("ERR invalid second DB index")
    );
    assert_eq!(
        r.run(["SWAPDB", "0", "16"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        r.run(["SWAPDB", "-1", "0"]),
        err("ERR DB index is out of range")
    );
}

#[test]
fn shutdown_records_the_request() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(
        r.run(["SHUTDOWN", "ABORT"]),
        err("ERR No shutdown in progress.")
    );
    assert_eq!(
        r.run(["SHUTDOWN", "NOSAVE", "SAVE"]),
        err("ERR syntax error")
    );
    assert_eq!(r.run(["SHUTDOWN", "ABORT", "NOW"]), err("ERR syntax error"));
    assert_eq!(r.run(["SHUTDOWN", "later"]), err("ERR syntax error"));
    assert_eq!(r.server.shutdown_request, None);
    r.run(["SHUTDOWN", "nosave", "NOW"]);
    let request = r.server.shutdown_request.unwrap();
    assert!(request.nosave && request.now && !request.save && !request.force);
    assert_eq!(r.run(["SHUTDOWN", "ABORT"]), Frame::ok());
    assert_eq!(r.server.shutdown_request, None);
}

#[test]
fn shutdown_abort_calls_off_a_signal_s_shutdown_the_cron_has_not_run() {
    let mut r = debug_runner();
    assert_eq!(r.run(["DEBUG", "PAUSE-CRON", "1"]), Frame::ok());
    assert!(r.server.cron_paused);
    r.server.shutdown_asap = true;
    assert_eq!(r.run(["SHUTDOWN", "ABORT"]), Frame::ok());
    assert!(!r.server.shutdown_asap);
    assert_eq!(
        r.run(["SHUTDOWN", "ABORT"]),
        err("ERR No shutdown in progress.")
    );
    assert_eq!(r.run(["DEBUG", "PAUSE-CRON", "0"]), Frame::ok());
    assert!(!r.server.cron_paused);
}

#[test]
fn debug_is_refused_unless_enabled() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(r.run(["DEBUG", "SLEEP", "0"]), err(DEBUG_DISABLED));
    let mut local = CommandRunner::with_config({
        Config {
            enable_debug_command: ProtectedAccess::Local,
            ..Config::default()
        }
    });
    assert_eq!(local.run(["DEBUG", "SLEEP", "0"]), Frame::ok());
}

#[test]
fn debug_unknown_subcommands_and_arities() {
    let mut r = debug_runner();
    assert_eq!(
        r.run(["DEBUG", "foo"]),
        err("ERR unknown subcommand or wrong number of arguments for 'foo'. Try DEBUG HELP.")
    );
    assert_eq!(
        r.run(["DEBUG", "sleep"]),
        err("ERR unknown subcommand or wrong number of arguments for 'sleep'. Try DEBUG HELP.")
    );
    assert_eq!(
        r.run(["DEBUG", "OBJECT", "a", "b"]),
        err("ERR unknown subcommand or wrong number of arguments for 'OBJECT'. Try DEBUG HELP.")
    );
    assert_eq!(
        r.run(["DEBUG"]),
        err("ERR wrong number of arguments for 'debug' command")
    );
}

#[test]
fn debug_set_active_expire_and_sleep() {
    let mut r = debug_runner();
    assert_eq!(r.run(["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), Frame::ok());
    assert!(!r.server.active_expire_enabled);
    assert_eq!(r.run(["debug", "set-active-expire", "1"]), Frame::ok());
    assert!(r.server.active_expire_enabled);
    assert_eq!(r.run(["DEBUG", "SLEEP", "0.001"]), Frame::ok());
    assert_eq!(r.run(["DEBUG", "SLEEP", "-1"]), Frame::ok());
}

#[test]
fn debug_pause_cron_and_replybuffer() {
    let mut r = debug_runner();
    assert_eq!(r.run(["DEBUG", "PAUSE-CRON", "1"]), Frame::ok());
    assert!(r.server.cron_paused);
    assert_eq!(r.run(["DEBUG", "PAUSE-CRON", "0"]), Frame::ok());
    assert!(!r.server.cron_paused);
    assert_eq!(
        r.run(["DEBUG", "REPLYBUFFER", "RESIZING", "0"]),
        Frame::ok()
    );
    for value in ["never", "reset", "100"] {
        assert_eq!(
            r.run(["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", value]),
            Frame::ok()
        );
    }
    assert_eq!(
        r.run(["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        r.run(["DEBUG", "REPLYBUFFER", "SIZE", "1"]),
        err(
            "ERR unknown subcommand or wrong number of arguments for 'replybuffer'. Try DEBUG HELP."
        )
    );
}

#[test]
fn debug_object_prints_redis_line() {
    let mut r = debug_runner();
    put(&mut r, "foo", "20000");
    put(&mut r, "small", "1");
    put(&mut r, "s", "hello");
    let Frame::Simple(line) = r.run(["DEBUG", "OBJECT", "foo"]) else {
        panic!("DEBUG OBJECT is a status line")
    };
    let line = String::from_utf8(line.to_vec()).unwrap();
    let words: Vec<&str> = line.split(' ').collect();
    assert_eq!(words[0], "Value");
    assert!(words[1].starts_with("at:0x"));
    assert_eq!(
        &words[2..5],
        ["refcount:1", "encoding:int", "serializedlength:3"]
    );
    assert!(words[5].starts_with("lru:"));
    assert_eq!(words[6], "lru_seconds_idle:0");
    // A value replaced in place (as INCR does) keeps its address.
    put(&mut r, "foo", "20001");
    let Frame::Simple(again) = r.run(["DEBUG", "OBJECT", "foo"]) else {
        panic!()
    };
    assert_eq!(
        again.split(|b| *b == b' ').nth(1).unwrap(),
        words[1].as_bytes()
    );
    let Frame::Simple(small) = r.run(["DEBUG", "OBJECT", "small"]) else {
        panic!()
    };
    assert!(String::from_utf8_lossy(&small).contains(" refcount:2147483647 encoding:int "));
    let Frame::Simple(s) = r.run(["DEBUG", "OBJECT", "s"]) else {
        panic!()
    };
    assert!(String::from_utf8_lossy(&s).contains(" encoding:embstr serializedlength:6 "));
    assert_eq!(r.run(["DEBUG", "OBJECT", "nokey"]), err("ERR no such key"));
}

#[test]
fn debug_digest_is_stable_and_order_independent() {
    let mut r = debug_runner();
    let zeros = simple(&"0".repeat(40));
    assert_eq!(r.run(["DEBUG", "DIGEST"]), zeros);
    put(&mut r, "a", "1");
    put(&mut r, "b", "hello");
    let first = r.run(["DEBUG", "DIGEST"]);
    assert_ne!(first, zeros);
    let mut other = debug_runner();
    put(&mut other, "b", "hello");
    put(&mut other, "a", "1");
    assert_eq!(other.run(["DEBUG", "DIGEST"]), first);
    let value_a = other.run(["DEBUG", "DIGEST-VALUE", "a"]).clone_first();
    assert_eq!(
        r.run(["DEBUG", "DIGEST-VALUE", "a", "nokey"]),
        Frame::Array(vec![value_a.clone(), zeros.clone()])
    );
    put_volatile(&mut other, "a", "1", 1_100_000);
    assert_ne!(other.run(["DEBUG", "DIGEST"]), first);
    assert_ne!(
        other.run(["DEBUG", "DIGEST-VALUE", "a"]).clone_first(),
        value_a
    );
    assert_eq!(r.run(["DEBUG", "DIGEST-VALUE"]), Frame::Array(vec![]));
}

#[test]
fn debug_digest_matches_redis_for_the_same_data() {
    // `redis-cli set a 1; set b 2 ex 100; debug digest` on Redis 7.0.15.
    let mut r = debug_runner();
    put(&mut r, "a", "1");
    put_volatile(&mut r, "b", "2", 1_100_000);
    assert_eq!(
        r.run(["DEBUG", "DIGEST"]),
        simple("2a565ed44c86ad1d3853f38b8cbf0a4f8a0a14b5")
    );
}

trait FirstElement {
    fn clone_first(&self) -> Frame;
}

impl FirstElement for Frame {
    fn clone_first(&self) -> Frame {
        match self {
            Frame::Array(items) => items[0].clone(),
            other => panic!("not an array: {other:?}"),
        }
    }
}

#[test]
#[allow(clippy::approx_constant)]
fn debug_protocol_samples() {
    let mut r = debug_runner();
    assert_eq!(r.run(["DEBUG", "PROTOCOL", "string"]), bulk("Hello World"));
    assert_eq!(
        r.run(["DEBUG", "PROTOCOL", "integer"]),
        Frame::Integer(12345)
    );
    assert_eq!(r.run(["DEBUG", "PROTOCOL", "double"]), Frame::Double(3.141));
    assert_eq!(
        r.run(["DEBUG", "PROTOCOL", "bignum"]),
        Frame::BigNumber(Bytes::from_static(b"1234567999999999999999999999999999999"))
    );
    assert_eq!(r.run(["DEBUG", "PROTOCOL", "null"]), Frame::Null);
    assert_eq!(
        r.run(["DEBUG", "PROTOCOL", "map"]),
        Frame::Map(vec![
            (Frame::Integer(0), Frame::Boolean(false)),
            (Frame::Integer(1), Frame::Boolean(true)),
            (Frame::Integer(2), Frame::Boolean(false)),
        ])
    );
    assert_eq!(r.run(["DEBUG", "PROTOCOL", "TRUE"]), Frame::Boolean(true));
    assert_eq!(
        r.run(["DEBUG", "PROTOCOL", "attrib"]),
        Frame::Sequence(vec![
            Frame::Attribute(vec![(
                bulk("key-popularity"),
                Frame::Array(vec![bulk("key:123"), Frame::Integer(90)]),
            )]),
            bulk("Some real reply following the attribute"),
        ])
    );
    assert_eq!(
        r.run(["DEBUG", "PROTOCOL", "push"]),
        err("ERR RESP2 is not supported by this command")
    );
    r.set_resp(RespVersion::Resp3);
    assert_eq!(
        r.run(["DEBUG", "PROTOCOL", "push"]),
        Frame::Sequence(vec![
            Frame::Push(vec![bulk("server-cpu-usage"), Frame::Integer(42)]),
            bulk("Some real reply following the push reply"),
        ])
    );
    assert_eq!(
        r.run(["DEBUG", "PROTOCOL", "verbatim"]),
        Frame::Verbatim {
            format: *b"txt",
            text: Bytes::from_static(b"This is a verbatim\nstring")
        }
    );
    assert_eq!(
        r.run(["DEBUG", "PROTOCOL", "nope"]),
        err(
            "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"
        )
    );
}

#[test]
fn debug_populate_error_log_and_repl_id() {
    let mut r = debug_runner();
    put(&mut r, "key:1", "mine");
    assert_eq!(r.run(["DEBUG", "POPULATE", "3"]), Frame::ok());
    assert_eq!(r.run(["DBSIZE"]), Frame::Integer(3));
    assert_eq!(get(&mut r, "key:2").unwrap(), b"value:2");
    assert_eq!(get(&mut r, "key:1").unwrap(), b"mine");
    assert_eq!(r.run(["DEBUG", "POPULATE", "2", "p", "8"]), Frame::ok());
    assert_eq!(get(&mut r, "p:1").unwrap(), b"value:1\0");
    assert_eq!(
        r.run(["DEBUG", "POPULATE", "-1"]),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(
        r.run(["DEBUG", "POPULATE", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        r.run(["DEBUG", "ERROR", "CUSTOM bad\nthing"]),
        err("CUSTOM bad thing")
    );
    assert_eq!(r.run(["DEBUG", "LOG", "hello"]), Frame::ok());
    let before = r.server.replication_id.clone();
    assert_eq!(r.run(["DEBUG", "CHANGE-REPL-ID"]), Frame::ok());
    assert_ne!(r.server.replication_id, before);
    let Frame::Array(help) = r.run(["DEBUG", "HELP"]) else {
        panic!()
    };
    assert_eq!(
        help[0],
        simple("DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
    );
}
