//! The text of INFO: sections, field names and their order exactly as Redis 7.0.15 prints them.
//!
//! Real values where Oxidis has them (process, clients, keyspace, statistics, CPU); for features
//! that do not exist yet (persistence, replication, modules, Lua, eviction) the value an idle
//! Redis shows, so clients and test helpers that read these fields see a consistent server.
//!
//! Measures that differ from Redis:
//! - `used_memory` counts the bytes requested from the allocator ([`crate::memory`]), not the
//!   allocator's rounded-up sizes; where the counting allocator is not installed, it is the
//!   resident set size.
//! - CPU times come from `/proc/self/stat` at clock-tick (10 ms) resolution instead of
//!   `getrusage`'s microseconds.
//! - `# Latencystats` percentiles come from log-linear histograms with the precision of Redis's
//!   HDR histograms ([`crate::latency`]), so they agree to within the bucket width.
//! - `instantaneous_*` rates are sampled by the cron ([`crate::metrics`]), so they stay 0 in a
//!   server without one (unit tests).

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::{debug, now_usec};
use crate::REDIS_VERSION;
use crate::command::Command;
use crate::context::CommandContext;

/// Sections printed by `INFO`, `INFO default` and, with "all" added, `INFO all`.
const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "module_list",
    "errorstats",
    "cluster",
    "keyspace",
];

/// Which sections a request asked for.
struct Selection {
    names: Vec<Vec<u8>>,
    all: bool,
    everything: bool,
}

impl Selection {
    fn parse(args: &[Bytes]) -> Selection {
        let mut selection = Selection {
            names: Vec::new(),
            all: false,
            everything: false,
        };
        if args.is_empty() {
            selection.add_defaults();
        }
        for arg in args {
            let name = arg.to_ascii_lowercase();
            match name.as_slice() {
                b"default" => selection.add_defaults(),
                b"all" => selection.all = true,
                b"everything" => {
                    selection.all = true;
                    selection.everything = true;
                }
                _ => selection.names.push(name),
            }
        }
        selection
    }

    fn add_defaults(&mut self) {
        self.names
            .extend(DEFAULT_SECTIONS.iter().map(|s| s.as_bytes().to_vec()));
    }

    fn wants(&self, section: &str) -> bool {
        self.all || self.names.iter().any(|n| n == section.as_bytes())
    }
}

/// Appends the sections as they are produced, separated by a blank line.
struct Report {
    text: String,
    sections: usize,
}

impl Report {
    fn section(&mut self, title: &str) {
        if self.sections > 0 {
            self.text.push_str("\r\n");
        }
        self.sections += 1;
        self.text.push_str("# ");
        self.text.push_str(title);
        self.text.push_str("\r\n");
    }

    fn field(&mut self, name: &str, value: impl std::fmt::Display) {
        // Writing to a String cannot fail.
        let _ = write!(self.text, "{name}:{value}\r\n");
    }
}

/// Builds INFO's reply for the requested section names (case-insensitive).
pub(super) fn render(ctx: &mut CommandContext<'_>, args: &[Bytes]) -> String {
    let selection = Selection::parse(args);
    let mut report = Report {
        text: String::new(),
        sections: 0,
    };
    if selection.wants("server") {
        server_section(ctx, &mut report);
    }
    if selection.wants("clients") {
        clients_section(ctx, &mut report);
    }
    if selection.wants("memory") {
        let scripting = ctx
            .server
            .extensions
            .get::<crate::server::ScriptingInfo>()
            .copied()
            .unwrap_or_default();
        memory_section(&MemoryFigures::measure(ctx), &scripting, &mut report);
    }
    if selection.wants("persistence") {
        persistence_section(ctx, &mut report);
    }
    if selection.wants("stats") {
        stats_section(ctx, &mut report);
    }
    if selection.wants("replication") {
        replication_section(ctx.server, &mut report);
    }
    if selection.wants("cpu") {
        cpu_section(&mut report);
    }
    if selection.wants("module_list") || selection.wants("modules") {
        report.section("Modules");
        if let Some(lines) = ctx.server.module_info {
            for line in lines(ctx.server) {
                report.text.push_str(&line);
                report.text.push_str("\r\n");
            }
        }
    }
    if selection.wants("commandstats") {
        commandstats_section(ctx, &mut report);
    }
    if selection.wants("errorstats") {
        report.section("Errorstats");
        for (code, count) in &ctx.server.stats.errors_by_code {
            report.field(
                &format!("errorstat_{}", safe_info_name(code)),
                format!("count={count}"),
            );
        }
    }
    if selection.wants("latencystats") {
        latencystats_section(ctx, &mut report);
    }
    if selection.wants("cluster") {
        report.section("Cluster");
        report.field("cluster_enabled", 0);
    }
    if selection.wants("keyspace") {
        report.section("Keyspace");
        for (index, db) in ctx.server.dbs.iter().enumerate() {
            if !db.is_empty() {
                report.field(
                    &format!("db{index}"),
                    format!("keys={},expires={},avg_ttl=0", db.len(), db.volatile_len()),
                );
            }
        }
    }
    report.text
}

fn server_section(ctx: &mut CommandContext<'_>, report: &mut Report) {
    let server = &*ctx.server;
    let process = &server.process;
    let uptime = server.uptime().as_secs();
    let pid = if process.pid == 0 {
        std::process::id()
    } else {
        process.pid
    };
    report.section("Server");
    report.field("redis_version", REDIS_VERSION);
    report.field("redis_git_sha1", "00000000");
    report.field("redis_git_dirty", 0);
    report.field("redis_build_id", "0");
    report.field("redis_mode", "standalone");
    report.field("os", os_name());
    report.field("arch_bits", usize::BITS);
    report.field("monotonic_clock", "POSIX clock_gettime");
    report.field("multiplexing_api", multiplexing_api());
    report.field("atomicvar_api", "c11-builtin");
    // Redis prints 0.0.0 when not built by GCC.
    report.field("gcc_version", "0.0.0");
    report.field("process_id", pid);
    report.field("process_supervised", "no");
    report.field("run_id", &process.run_id);
    report.field("tcp_port", process.tcp_port);
    report.field("server_time_usec", now_usec(ctx.now_ms()));
    report.field("uptime_in_seconds", uptime);
    report.field("uptime_in_days", uptime / (3600 * 24));
    report.field("hz", server.config.hz);
    report.field("configured_hz", server.config.hz);
    report.field("lru_clock", debug::lru_24_bits(server.lru_clock()));
    report.field("executable", &process.executable);
    report.field("config_file", &process.config_file);
    report.field("io_threads_active", 0);
}

fn clients_section(ctx: &mut CommandContext<'_>, report: &mut Report) {
    let clients = &ctx.server.clients;
    // The current largest buffers stand in for Redis's peaks of the last few seconds.
    let max_in = clients
        .iter()
        .map(|c| c.query_buffer_len)
        .max()
        .unwrap_or(0);
    let max_out = clients
        .iter()
        .map(|c| c.pending_output())
        .max()
        .unwrap_or(0);
    report.section("Clients");
    report.field("connected_clients", clients.len());
    report.field("cluster_connections", 0);
    report.field("maxclients", ctx.server.config.maxclients);
    report.field("client_recent_max_input_buffer", max_in);
    report.field("client_recent_max_output_buffer", max_out);
    report.field("blocked_clients", ctx.server.blocked.len());
    report.field("tracking_clients", ctx.server.tracking.client_count());
    report.field(
        "clients_in_timeout_table",
        ctx.server.blocked.with_timeout(),
    );
}

/// The memory figures of one INFO call (see the module docs for what they measure).
struct MemoryFigures {
    report: super::memory::MemoryReport,
    total_system: u64,
    lazyfree_pending: u64,
    lazyfreed: u64,
    maxmemory: u64,
    maxmemory_policy: &'static str,
    /// Replicas' output buffers (`mem_clients_slaves`).
    replica_buffers: u64,
    /// What `maxmemory` leaves out (`mem_not_counted_for_evict`).
    not_counted_for_evict: u64,
}

impl MemoryFigures {
    fn measure(ctx: &mut CommandContext<'_>) -> MemoryFigures {
        MemoryFigures {
            report: super::memory::MemoryReport::measure(ctx.server),
            lazyfree_pending: ctx.server.lazyfree.pending.load(Ordering::Relaxed),
            lazyfreed: ctx.server.lazyfree.freed.load(Ordering::Relaxed),
            total_system: total_system_memory(),
            maxmemory: ctx.server.config.maxmemory,
            maxmemory_policy: ctx.server.config.maxmemory_policy.name(),
            replica_buffers: crate::eviction::replica_output_memory(ctx.server),
            not_counted_for_evict: crate::eviction::not_counted_for_evict(ctx.server),
        }
    }
}

fn memory_section(
    figures: &MemoryFigures,
    scripting: &crate::server::ScriptingInfo,
    report: &mut Report,
) {
    let m = &figures.report;
    let dataset = m.dataset();
    let fragmentation_bytes = i128::from(m.rss) - i128::from(m.used);
    report.section("Memory");
    report.field("used_memory", m.used);
    report.field("used_memory_human", bytes_to_human(m.used));
    report.field("used_memory_rss", m.rss);
    report.field("used_memory_rss_human", bytes_to_human(m.rss));
    report.field("used_memory_peak", m.peak);
    report.field("used_memory_peak_human", bytes_to_human(m.peak));
    report.field("used_memory_peak_perc", percent(m.used, m.peak));
    report.field("used_memory_overhead", m.overhead);
    report.field("used_memory_startup", m.startup);
    report.field("used_memory_dataset", dataset);
    report.field(
        "used_memory_dataset_perc",
        format!("{:.2}%", m.dataset_percentage()),
    );
    // The system allocator gives no active/resident split: allocated is what was counted,
    // resident the RSS.
    report.field("allocator_allocated", m.used);
    report.field("allocator_active", m.used);
    report.field("allocator_resident", m.rss);
    report.field("total_system_memory", figures.total_system);
    report.field(
        "total_system_memory_human",
        bytes_to_human(figures.total_system),
    );
    // The scripting crate keeps these figures current in the server's extensions (#8).
    let lua = scripting.used_memory_lua;
    let vm_total = lua + scripting.used_memory_vm_functions;
    let scripts = scripting.used_memory_scripts_eval + scripting.used_memory_functions;
    report.field("used_memory_lua", lua);
    report.field("used_memory_vm_eval", lua);
    report.field("used_memory_lua_human", bytes_to_human(lua as u64));
    report.field(
        "used_memory_scripts_eval",
        scripting.used_memory_scripts_eval,
    );
    report.field(
        "number_of_cached_scripts",
        scripting.number_of_cached_scripts,
    );
    report.field("number_of_functions", scripting.number_of_functions);
    report.field("number_of_libraries", scripting.number_of_libraries);
    report.field(
        "used_memory_vm_functions",
        scripting.used_memory_vm_functions,
    );
    report.field("used_memory_vm_total", vm_total);
    report.field(
        "used_memory_vm_total_human",
        bytes_to_human(vm_total as u64),
    );
    report.field("used_memory_functions", scripting.used_memory_functions);
    report.field("used_memory_scripts", scripts);
    report.field("used_memory_scripts_human", bytes_to_human(scripts as u64));
    report.field("maxmemory", figures.maxmemory);
    report.field("maxmemory_human", bytes_to_human(figures.maxmemory));
    report.field("maxmemory_policy", figures.maxmemory_policy);
    report.field("allocator_frag_ratio", "1.00");
    report.field("allocator_frag_bytes", 0);
    report.field(
        "allocator_rss_ratio",
        format!("{:.2}", super::memory::ratio(m.rss, m.used)),
    );
    report.field("allocator_rss_bytes", fragmentation_bytes);
    report.field("rss_overhead_ratio", "1.00");
    report.field("rss_overhead_bytes", 0);
    report.field(
        "mem_fragmentation_ratio",
        format!("{:.2}", m.fragmentation()),
    );
    report.field("mem_fragmentation_bytes", fragmentation_bytes);
    report.field("mem_not_counted_for_evict", figures.not_counted_for_evict);
    report.field("mem_replication_backlog", 0);
    report.field("mem_total_replication_buffers", 0);
    report.field("mem_clients_slaves", figures.replica_buffers);
    report.field("mem_clients_normal", m.clients_normal);
    report.field("mem_cluster_links", 0);
    report.field("mem_aof_buffer", 0);
    report.field("mem_allocator", "libc");
    report.field("active_defrag_running", 0);
    report.field("lazyfree_pending_objects", figures.lazyfree_pending);
    report.field("lazyfreed_objects", figures.lazyfreed);
}

fn persistence_section(ctx: &mut CommandContext<'_>, report: &mut Report) {
    report.section("Persistence");
    report.field(
        "loading",
        u8::from(ctx.server.persistence_state.loading.is_some()),
    );
    report.field("async_loading", 0);
    let state = &ctx.server.persistence_state;
    let saving = state.bgsave_started_ms.is_some() || state.aof_rewrite_started_ms.is_some();
    let (cow, processed, total) = if saving {
        (
            state.cow_bytes,
            state.save_keys_processed,
            state.save_keys_total,
        )
    } else {
        (0, 0, 0)
    };
    report.field("current_cow_peak", cow);
    report.field("current_cow_size", cow);
    report.field("current_cow_size_age", 0);
    // Redis's progress of the saving child, here the writer's.
    let percent = if total == 0 {
        0.0
    } else {
        processed as f64 * 100.0 / total as f64
    };
    report.field("current_fork_perc", format!("{percent:.2}"));
    report.field("current_save_keys_processed", processed);
    report.field("current_save_keys_total", total);
    report.field("rdb_changes_since_last_save", ctx.server.dirty);
    let now_ms = ctx.server.now_ms();
    let state = &ctx.server.persistence_state;
    let running_secs = |started: Option<u64>| {
        started.map_or(-1, |at| {
            i64::try_from(now_ms.saturating_sub(at) / 1000).unwrap_or(i64::MAX)
        })
    };
    let bgsave_secs = running_secs(state.bgsave_started_ms);
    let rewrite_secs = running_secs(state.aof_rewrite_started_ms);
    let rewrite_scheduled = state.aof_rewrite_scheduled;
    let last_bgsave_secs = state
        .last_bgsave_secs
        .map_or(-1, |s| i64::try_from(s).unwrap_or(i64::MAX));
    report.field("rdb_bgsave_in_progress", u8::from(bgsave_secs >= 0));
    report.field("rdb_last_save_time", ctx.server.last_save_unix);
    let state = &ctx.server.persistence_state;
    let status = if state.last_save_failed { "err" } else { "ok" };
    report.field("rdb_last_bgsave_status", status);
    report.field("rdb_last_bgsave_time_sec", last_bgsave_secs);
    report.field("rdb_current_bgsave_time_sec", bgsave_secs);
    report.field("rdb_saves", state.saves);
    report.field("rdb_last_cow_size", state.last_cow_bytes);
    report.field("rdb_last_load_keys_expired", state.last_load_keys_expired);
    report.field("rdb_last_load_keys_loaded", state.last_load_keys_loaded);
    let aof = &ctx.server.aof_status;
    let ok_or_err = |failed: bool| if failed { "err" } else { "ok" };
    report.field("aof_enabled", u8::from(aof.enabled));
    report.field("aof_rewrite_in_progress", u8::from(rewrite_secs >= 0));
    report.field("aof_rewrite_scheduled", u8::from(rewrite_scheduled));
    report.field("aof_last_rewrite_time_sec", aof.last_rewrite_time_sec);
    report.field("aof_current_rewrite_time_sec", rewrite_secs);
    report.field(
        "aof_last_bgrewrite_status",
        ok_or_err(aof.last_rewrite_failed),
    );
    report.field("aof_rewrites", aof.rewrites);
    report.field(
        "aof_rewrites_consecutive_failures",
        aof.consecutive_failures,
    );
    report.field("aof_last_write_status", ok_or_err(aof.last_write_failed));
    for (name, value) in [
        ("aof_last_cow_size", "0"),
        ("module_fork_in_progress", "0"),
        ("module_fork_last_cow_size", "0"),
    ] {
        report.field(name, value);
    }
    if aof.enabled {
        report.field("aof_current_size", aof.current_size);
        report.field("aof_base_size", aof.base_size);
        report.field("aof_pending_rewrite", 0);
        report.field("aof_buffer_length", 0);
        report.field("aof_pending_bio_fsync", u8::from(aof.pending_fsync));
        report.field("aof_delayed_fsync", aof.delayed_fsync);
    }
    if let Some(loading) = &ctx.server.persistence_state.loading {
        let loaded = loading
            .loaded_bytes
            .load(std::sync::atomic::Ordering::Relaxed);
        let total = loading.total_bytes;
        let (percent, remaining) = if total > 0 {
            (
                loaded as f64 * 100.0 / total as f64,
                total.saturating_sub(loaded),
            )
        } else {
            (0.0, 1)
        };
        let elapsed = (ctx.server.now_ms() / 1000).saturating_sub(loading.start_unix_secs);
        // Redis's estimate, and its fake one second while nothing has elapsed yet.
        let eta = if elapsed == 0 {
            1
        } else {
            elapsed.saturating_mul(remaining) / loaded.saturating_add(1)
        };
        report.field("loading_start_time", loading.start_unix_secs);
        report.field("loading_total_bytes", total);
        report.field("loading_rdb_used_mem", 0);
        report.field("loading_loaded_bytes", loaded);
        report.field("loading_loaded_perc", format!("{percent:.2}"));
        report.field("loading_eta_seconds", eta);
    }
}

fn stats_section(ctx: &mut CommandContext<'_>, report: &mut Report) {
    let s = &ctx.server.stats;
    report.section("Stats");
    report.field("total_connections_received", s.total_connections_received);
    report.field("total_commands_processed", s.total_commands_processed);
    report.field(
        "instantaneous_ops_per_sec",
        ctx.server.metrics.ops_per_sec(),
    );
    report.field("total_net_input_bytes", s.total_net_input_bytes);
    report.field("total_net_output_bytes", s.total_net_output_bytes);
    report.field("total_net_repl_input_bytes", 0);
    report.field("total_net_repl_output_bytes", 0);
    let metrics = &ctx.server.metrics;
    report.field(
        "instantaneous_input_kbps",
        format!("{:.2}", metrics.input_kbps()),
    );
    report.field(
        "instantaneous_output_kbps",
        format!("{:.2}", metrics.output_kbps()),
    );
    report.field("instantaneous_input_repl_kbps", "0.00");
    report.field("instantaneous_output_repl_kbps", "0.00");
    report.field("rejected_connections", s.rejected_connections);
    let (full, partial_ok, partial_err) = crate::replication::state_ref(ctx.server)
        .map_or((0, 0, 0), |r| {
            (r.sync_full, r.sync_partial_ok, r.sync_partial_err)
        });
    report.field("sync_full", full);
    report.field("sync_partial_ok", partial_ok);
    report.field("sync_partial_err", partial_err);
    report.field("expired_keys", s.expired_keys);
    report.field(
        "expired_stale_perc",
        format!("{:.2}", s.expired_stale_perc * 100.0),
    );
    report.field(
        "expired_time_cap_reached_count",
        s.expired_time_cap_reached_count,
    );
    report.field(
        "expire_cycle_cpu_milliseconds",
        s.expire_cycle_cpu_us / 1000,
    );
    report.field("evicted_keys", s.evicted_keys);
    report.field("evicted_clients", s.evicted_clients);
    let current = ctx.server.eviction.current_exceeded_time().as_millis();
    report.field(
        "total_eviction_exceeded_time",
        s.total_eviction_exceeded_time_us / 1000 + current as u64,
    );
    report.field("current_eviction_exceeded_time", current);
    report.field("keyspace_hits", s.keyspace_hits);
    report.field("keyspace_misses", s.keyspace_misses);
    report.field(
        "pubsub_channels",
        ctx.server
            .pubsub
            .channel_count(crate::pubsub::Kind::Channel),
    );
    report.field("pubsub_patterns", ctx.server.pubsub.pattern_count());
    report.field(
        "pubsubshard_channels",
        ctx.server.pubsub.channel_count(crate::pubsub::Kind::Shard),
    );
    for zero in [
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
    ] {
        report.field(zero, 0);
    }
    report.field("tracking_total_keys", ctx.server.tracking.total_keys());
    report.field("tracking_total_items", ctx.server.tracking.total_items());
    report.field(
        "tracking_total_prefixes",
        ctx.server.tracking.total_prefixes(),
    );
    report.field("unexpected_error_replies", 0);
    report.field("total_error_replies", s.total_error_replies);
    report.field("dump_payload_sanitizations", 0);
    report.field("total_reads_processed", s.total_reads_processed);
    report.field("total_writes_processed", s.total_writes_processed);
    for zero in [
        "io_threaded_reads_processed",
        "io_threaded_writes_processed",
        "reply_buffer_shrinks",
        "reply_buffer_expands",
    ] {
        report.field(zero, 0);
    }
}

fn replication_section(server: &crate::server::Server, report: &mut Report) {
    report.section("Replication");
    for (name, value) in crate::replication::info_fields(server) {
        report.field(&name, value);
    }
}

fn cpu_section(report: &mut Report) {
    let own = cpu_times("/proc/self/stat");
    let main = cpu_times(&format!("/proc/self/task/{}/stat", std::process::id()));
    report.section("CPU");
    report.field("used_cpu_sys", seconds(own.system));
    report.field("used_cpu_user", seconds(own.user));
    report.field("used_cpu_sys_children", seconds(own.children_system));
    report.field("used_cpu_user_children", seconds(own.children_user));
    report.field("used_cpu_sys_main_thread", seconds(main.system));
    report.field("used_cpu_user_main_thread", seconds(main.user));
}

fn commandstats_section(ctx: &mut CommandContext<'_>, report: &mut Report) {
    report.section("Commandstats");
    let mut commands: Vec<&'static Command> = ctx.server.table.iter().collect();
    commands.sort_by_key(|c| c.spec.name);
    let stats = &ctx.server.stats.commands;
    for command in commands {
        for c in std::iter::once(command).chain(command.subcommands.iter().copied()) {
            let Some(s) = stats.get(c.id) else { continue };
            if s.calls == 0 && s.failed_calls == 0 && s.rejected_calls == 0 {
                continue;
            }
            let per_call = if s.calls == 0 {
                0.0
            } else {
                s.usec as f64 / s.calls as f64
            };
            report.field(
                &format!("cmdstat_{}", safe_info_name(&c.full_name)),
                format!(
                    "calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}",
                    s.calls, s.usec, s.rejected_calls, s.failed_calls
                ),
            );
        }
    }
}

/// One `latency_percentiles_usec_<command>` line per command that has run since the last
/// reset, with the percentiles of `latency-tracking-info-percentiles`.
fn latencystats_section(ctx: &mut CommandContext<'_>, report: &mut Report) {
    report.section("Latencystats");
    let percentiles: Vec<String> = ctx
        .server
        .config
        .get("latency-tracking-info-percentiles")
        .map(|v| {
            String::from_utf8_lossy(&v)
                .split_whitespace()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let mut commands: Vec<&'static Command> = ctx.server.table.iter().collect();
    commands.sort_by_key(|c| c.spec.name);
    for command in commands {
        for c in std::iter::once(command).chain(command.subcommands.iter().copied()) {
            let Some(histogram) = ctx.server.latency.histogram(c.id) else {
                continue;
            };
            let values: Vec<String> = percentiles
                .iter()
                .map(|p| {
                    let at = p.parse::<f64>().unwrap_or(0.0);
                    format!("p{p}={:.3}", histogram.value_at_percentile(at))
                })
                .collect();
            report.field(
                &format!("latency_percentiles_usec_{}", safe_info_name(&c.full_name)),
                values.join(","),
            );
        }
    }
}

/// A name made safe for an INFO line, as Redis's `getSafeInfoString` does.
fn safe_info_name(name: &str) -> String {
    name.replace(['#', ':', '\r', '\n'], "_")
}

/// `bytesToHuman`: 1023B, 1.00K, 1.50M, ...
pub(super) fn bytes_to_human(n: u64) -> String {
    const UNITS: [(u64, &str); 5] = [
        (1 << 10, "K"),
        (1 << 20, "M"),
        (1 << 30, "G"),
        (1 << 40, "T"),
        (1 << 50, "P"),
    ];
    if n < 1024 {
        return format!("{n}B");
    }
    for (i, (unit, suffix)) in UNITS.iter().enumerate() {
        let next = UNITS.get(i + 1).map_or(1 << 60, |u| u.0);
        if n < next {
            return format!("{:.2}{suffix}", n as f64 / *unit as f64);
        }
    }
    format!("{n}B")
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0.00%".to_string();
    }
    format!("{:.2}%", part as f64 * 100.0 / whole as f64)
}

/// `MemTotal` from `/proc/meminfo`, in bytes.
fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kb| kb.saturating_mul(1024))
}

/// CPU times in clock ticks.
#[derive(Default)]
struct CpuTimes {
    user: u64,
    system: u64,
    children_user: u64,
    children_system: u64,
}

/// Reads utime, stime, cutime and cstime (fields 14-17) from a `stat` file.
fn cpu_times(path: &str) -> CpuTimes {
    let Ok(text) = std::fs::read_to_string(path) else {
        return CpuTimes::default();
    };
    // The command name (field 2) may hold spaces; the fields after it start at its ')'.
    let after = text.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let at = |i: usize| fields.get(i).copied().unwrap_or(0);
    // Field 14 is the 11th after the state (field 3).
    CpuTimes {
        user: at(10),
        system: at(11),
        children_user: at(12),
        children_system: at(13),
    }
}

/// Clock ticks (100 a second on Linux) as `seconds.microseconds`.
fn seconds(ticks: u64) -> String {
    format!("{}.{:06}", ticks / 100, (ticks % 100) * 10_000)
}

fn os_name() -> String {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let sysname = match read("/proc/sys/kernel/ostype") {
        s if s.is_empty() => std::env::consts::OS.to_string(),
        s => s,
    };
    format!(
        "{sysname} {} {}",
        read("/proc/sys/kernel/osrelease"),
        std::env::consts::ARCH
    )
}

const fn multiplexing_api() -> &'static str {
    if cfg!(any(target_os = "linux", target_os = "android")) {
        "epoll"
    } else if cfg!(any(
        target_os = "macos",
        target_os = "freebsd",
        target_os = "openbsd"
    )) {
        "kqueue"
    } else {
        "poll"
    }
}
