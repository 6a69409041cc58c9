//! Counters INFO reports: server-wide statistics, per-command statistics and error counts.

use std::collections::BTreeMap;

/// Per-command counters (`INFO commandstats`).
#[derive(Debug, Clone, Copy, Default)]
pub struct CommandStats {
    /// Times called.
    pub calls: u64,
    /// Total microseconds spent.
    pub usec: u64,
    /// Refused before running (arity, auth, ...).
    pub rejected_calls: u64,
    /// Ran and answered an error.
    pub failed_calls: u64,
}

/// Server-wide counters (`INFO stats`).
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Connections accepted.
    pub total_connections_received: u64,
    /// Commands run.
    pub total_commands_processed: u64,
    /// Connections refused for `maxclients`.
    pub rejected_connections: u64,
    /// Keys reclaimed by expiry, lazily or actively.
    pub expired_keys: u64,
    /// Keys evicted for `maxmemory`.
    pub evicted_keys: u64,
    /// Clients closed for `maxmemory-clients`.
    pub evicted_clients: u64,
    /// Microseconds spent over `maxmemory` in past stretches.
    pub total_eviction_exceeded_time_us: u64,
    /// Smoothed share of expired keys in active-expire samples (0..1).
    pub expired_stale_perc: f64,
    /// Active-expire cycles stopped by their time budget.
    pub expired_time_cap_reached_count: u64,
    /// Microseconds spent in active expiry.
    pub expire_cycle_cpu_us: u64,
    /// Successful key lookups by read commands.
    pub keyspace_hits: u64,
    /// Failed key lookups by read commands.
    pub keyspace_misses: u64,
    /// Bytes read from clients.
    pub total_net_input_bytes: u64,
    /// Bytes written to clients.
    pub total_net_output_bytes: u64,
    /// Error replies sent.
    pub total_error_replies: u64,
    /// Socket reads that returned data (`total_reads_processed`).
    pub total_reads_processed: u64,
    /// Socket writes (`total_writes_processed`).
    pub total_writes_processed: u64,
    /// Error replies by code (`ERR`, `WRONGTYPE`), for `INFO errorstats`.
    pub errors_by_code: BTreeMap<String, u64>,
    /// Per-command counters, indexed by command id.
    pub commands: Vec<CommandStats>,
}

impl Stats {
    /// Counters for a table with `command_ids` ids.
    pub fn new(command_ids: usize) -> Stats {
        Stats {
            commands: vec![CommandStats::default(); command_ids],
            ..Stats::default()
        }
    }

    /// Counts one error reply by its code (the first word of its text).
    pub fn count_error(&mut self, text: &[u8]) {
        self.total_error_replies += 1;
        let code = text.split(|b| *b == b' ').next().unwrap_or_default();
        let code = String::from_utf8_lossy(code).into_owned();
        // Redis stops tracking new codes after 128 distinct ones.
        if self.errors_by_code.len() < 128 || self.errors_by_code.contains_key(&code) {
            *self.errors_by_code.entry(code).or_default() += 1;
        }
    }

    /// The per-command counters for `id`, growing the table for commands added at run time.
    pub fn command_mut(&mut self, id: usize) -> &mut CommandStats {
        if id >= self.commands.len() {
            self.commands.resize(id + 1, CommandStats::default());
        }
        &mut self.commands[id]
    }

    /// Clears what CONFIG RESETSTAT clears.
    pub fn reset(&mut self) {
        let ids = self.commands.len();
        *self = Stats::new(ids);
    }
}
