//! MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP, and [`MemoryReport`], the
//! breakdown of `used_memory` that MEMORY STATS and INFO memory share.
//!
//! What is measured: `used_memory` is what the counting allocator has handed out
//! ([`crate::memory`]), the RSS comes from `/proc`. The overhead is what Redis calls overhead —
//! memory at startup, client buffers, and the keyspace's own structures (each key's 64-byte
//! entry and its slot in the index); the dataset is the rest. The system allocator reports no
//! active/resident split, so the allocator figures are `used_memory` and the RSS.

use oxidis_protocol::Frame;

use crate::server::Server;

use crate::command::{
    Arg, Args, Arity, CommandResult, CommandSpec, Flag::*, KeyFlag::*, KeySpec, parse_i64,
};
use crate::context::CommandContext;
use crate::db::Entry;
use crate::errors::CommandError;
use crate::families::{count_reply, help_reply};

/// The MEMORY container.
pub(super) const MEMORY: CommandSpec = CommandSpec::container(
    "memory",
    &[
        CommandSpec::new("usage", Arity::AtLeast(3), memory_usage)
            .flags(&[ReadOnly])
            .keys(&[KeySpec::single(2, &[Ro])])
            .doc(
                "Estimates the memory usage of a key.",
                "4.0.0",
                "O(N) where N is the number of samples.",
            )
            .args(&[
                Arg::key("key", 0),
                Arg::integer("count").with_token("SAMPLES").optional(),
            ]),
        CommandSpec::new("stats", Arity::Exact(2), memory_stats)
            .tips(&[
                "nondeterministic_output",
                "request_policy:all_shards",
                "response_policy:special",
            ])
            .doc(
                "Returns details about the server's memory usage.",
                "4.0.0",
                "O(1)",
            ),
        CommandSpec::new("doctor", Arity::Exact(2), memory_doctor)
            .tips(&[
                "nondeterministic_output",
                "request_policy:all_shards",
                "response_policy:special",
            ])
            .doc("Reports memory problems, if any.", "4.0.0", "O(1)"),
        CommandSpec::new("malloc-stats", Arity::Exact(2), memory_malloc_stats)
            .tips(&[
                "nondeterministic_output",
                "request_policy:all_shards",
                "response_policy:special",
            ])
            .doc(
                "Returns the allocator's statistics.",
                "4.0.0",
                "Depends on how much memory is allocated, could be slow",
            ),
        CommandSpec::new("purge", Arity::Exact(2), memory_purge)
            .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
            .doc(
                "Asks the allocator to release memory.",
                "4.0.0",
                "Depends on how much memory is allocated, could be slow",
            ),
        CommandSpec::new("help", Arity::Exact(2), memory_help)
            .flags(&[Loading, Stale])
            .doc("Lists MEMORY's subcommands.", "4.0.0", "O(1)"),
    ],
)
.doc(
    "A container for memory diagnostics commands.",
    "4.0.0",
    "Depends on subcommand.",
);

/// MEMORY USAGE key [SAMPLES count]: the bytes the key and its value take: the 64-byte entry,
/// the key's heap part and the value's heap size (collections are measured whole, so SAMPLES
/// is checked but not needed).
fn memory_usage(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    while !args.is_empty() {
        if args.eat_keyword("SAMPLES") && !args.is_empty() {
            parse_i64(args.next_bytes()?)?;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let Some(pos) = ctx.lookup_read_no_touch(key) else {
        return Ok(Frame::Null);
    };
    let entry = ctx.db().entry(pos);
    Ok(count_reply(
        std::mem::size_of::<Entry>() + entry.key.heap_size() + entry.value.heap_size(),
    ))
}

/// MEMORY STATS: [`MemoryReport`] with Redis's field names, in Redis's order.
fn memory_stats(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    let m = MemoryReport::measure(ctx.server);
    let int = |n: u64| count_reply(n);
    let mut fields = vec![
        ("peak.allocated", int(m.peak)),
        ("total.allocated", int(m.used)),
        ("startup.allocated", int(m.startup)),
        ("replication.backlog", int(0)),
        ("clients.slaves", int(0)),
        ("clients.normal", int(m.clients_normal)),
        ("cluster.links", int(0)),
        ("aof.buffer", int(0)),
        ("lua.caches", int(0)),
        ("functions.caches", int(0)),
    ];
    let mut reply: Vec<(Frame, Frame)> =
        fields.drain(..).map(|(k, v)| (Frame::bulk(k), v)).collect();
    for db in &m.dbs {
        reply.push((
            Frame::bulk(format!("db.{}", db.index)),
            Frame::Map(vec![
                (Frame::bulk("overhead.hashtable.main"), int(db.main)),
                (Frame::bulk("overhead.hashtable.expires"), int(db.expires)),
                (Frame::bulk("overhead.hashtable.slot-to-keys"), int(0)),
            ]),
        ));
    }
    let rest = [
        ("overhead.total", int(m.overhead)),
        ("keys.count", int(m.keys)),
        ("keys.bytes-per-key", int(m.bytes_per_key())),
        ("dataset.bytes", int(m.dataset())),
        ("dataset.percentage", Frame::Double(m.dataset_percentage())),
        (
            "peak.percentage",
            Frame::Double(ratio(m.used, m.peak) * 100.0),
        ),
        ("allocator.allocated", int(m.used)),
        ("allocator.active", int(m.used)),
        ("allocator.resident", int(m.rss)),
        ("allocator-fragmentation.ratio", Frame::Double(1.0)),
        ("allocator-fragmentation.bytes", int(0)),
        ("allocator-rss.ratio", Frame::Double(ratio(m.rss, m.used))),
        ("allocator-rss.bytes", int(m.rss.saturating_sub(m.used))),
        ("rss-overhead.ratio", Frame::Double(1.0)),
        ("rss-overhead.bytes", int(0)),
        ("fragmentation", Frame::Double(m.fragmentation())),
        ("fragmentation.bytes", int(m.rss.saturating_sub(m.used))),
    ];
    reply.extend(rest.into_iter().map(|(k, v)| (Frame::bulk(k), v)));
    Ok(Frame::Map(reply))
}

/// MEMORY DOCTOR: a short report of what looks wrong with memory use, or that all is well.
fn memory_doctor(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    let m = MemoryReport::measure(ctx.server);
    Ok(Frame::Verbatim {
        format: *b"txt",
        text: bytes::Bytes::from(doctor_report(&m)),
    })
}

/// MEMORY MALLOC-STATS: what Redis answers when its allocator has no statistics to give.
fn memory_malloc_stats(_ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    Ok(Frame::Verbatim {
        format: *b"txt",
        text: bytes::Bytes::from_static(b"Stats not supported for the current allocator"),
    })
}

/// MEMORY PURGE: the system allocator returns free pages on its own; nothing to do.
fn memory_purge(_ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    Ok(Frame::ok())
}

fn memory_help(_ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    Ok(help_reply(
        "MEMORY",
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    ))
}

/// Below this much memory in use, the doctor has nothing meaningful to say.
const DOCTOR_MIN_BYTES: u64 = 5 << 20;

fn doctor_report(m: &MemoryReport) -> String {
    if m.used < DOCTOR_MIN_BYTES {
        return "The server uses very little memory, so there is nothing to diagnose yet. \
                Ask again once it holds some data.\n"
            .to_string();
    }
    let mut findings = Vec::new();
    if m.peak > m.used.saturating_mul(3) / 2 {
        findings.push(format!(
            "* Peak memory: at its peak the server used {} bytes, more than 150% of the {} \
             bytes it uses now. RSS may stay high after such a peak, which makes the \
             fragmentation figures look worse than they are.",
            m.peak, m.used
        ));
    }
    if m.fragmentation() > 1.4 {
        findings.push(format!(
            "* High fragmentation: the process holds {:.2} times the memory it has allocated \
             ({} bytes of RSS for {} bytes used).",
            m.fragmentation(),
            m.rss,
            m.used
        ));
    }
    if m.clients_normal > m.used / 4 {
        findings.push(format!(
            "* Client buffers: connected clients hold {} bytes of query and output buffers, \
             a large share of the memory in use. Look for slow readers and big pipelines \
             with CLIENT LIST.",
            m.clients_normal
        ));
    }
    if findings.is_empty() {
        return "No memory problems found: the figures look healthy.\n".to_string();
    }
    let mut text = String::from("The following memory issues were found:\n\n");
    for finding in findings {
        text.push_str(&finding);
        text.push_str("\n\n");
    }
    text
}

/// The overhead of one database's keyspace structures.
#[derive(Debug, Clone, Copy)]
pub(super) struct DbOverhead {
    /// The database's index.
    pub(super) index: usize,
    /// The main table: each key's entry and its slot in the index.
    pub(super) main: u64,
    /// The expiry table (Oxidis keeps expiry times inside the entries: 0).
    pub(super) expires: u64,
}

/// Where `used_memory` goes, as MEMORY STATS and INFO memory report it.
#[derive(Debug, Clone)]
pub(super) struct MemoryReport {
    /// Bytes allocated now.
    pub(super) used: u64,
    /// The most ever allocated.
    pub(super) peak: u64,
    /// Bytes allocated when the server had started.
    pub(super) startup: u64,
    /// Resident set size.
    pub(super) rss: u64,
    /// Query and output buffers of normal clients.
    pub(super) clients_normal: u64,
    /// Keyspace structures, per non-empty database.
    pub(super) dbs: Vec<DbOverhead>,
    /// Startup, clients and keyspace structures together.
    pub(super) overhead: u64,
    /// Keys in all databases.
    pub(super) keys: u64,
}

/// Bytes of index per key: a 4-byte position and a control byte, at 7/8 load.
const INDEX_BYTES_PER_KEY: u64 = 6;

impl MemoryReport {
    /// Measures `server` now (and raises its recorded peak).
    pub(super) fn measure(server: &mut Server) -> MemoryReport {
        let used = crate::memory::used_memory();
        server.memory_peak = server.memory_peak.max(used);
        let entry_bytes = std::mem::size_of::<Entry>() as u64;
        let dbs: Vec<DbOverhead> = server
            .dbs
            .iter()
            .enumerate()
            .filter(|(_, db)| !db.is_empty())
            .map(|(index, db)| DbOverhead {
                index,
                main: db.len() as u64 * (entry_bytes + INDEX_BYTES_PER_KEY),
                expires: 0,
            })
            .collect();
        let clients_normal: u64 = server
            .clients
            .iter()
            .filter(|c| !c.replica)
            .map(|c| crate::client::memory_usage(server, c, c.argv_mem) as u64)
            .sum();
        let startup = server.memory_startup.min(used);
        let overhead =
            startup + clients_normal + dbs.iter().map(|d| d.main + d.expires).sum::<u64>();
        MemoryReport {
            used,
            peak: server.memory_peak,
            startup,
            rss: crate::memory::resident_bytes(),
            clients_normal,
            keys: server.dbs.iter().map(|db| db.len() as u64).sum(),
            dbs,
            overhead,
        }
    }

    /// What the data itself takes: used memory minus the overhead.
    pub(super) fn dataset(&self) -> u64 {
        self.used.saturating_sub(self.overhead)
    }

    /// The dataset's share of the memory used beyond startup, in percent.
    pub(super) fn dataset_percentage(&self) -> f64 {
        ratio(self.dataset(), self.used.saturating_sub(self.startup)) * 100.0
    }

    /// Memory used beyond startup, per key.
    pub(super) fn bytes_per_key(&self) -> u64 {
        self.used
            .saturating_sub(self.startup)
            .checked_div(self.keys)
            .unwrap_or(0)
    }

    /// RSS over used memory.
    pub(super) fn fragmentation(&self) -> f64 {
        ratio(self.rss, self.used)
    }
}

/// `part / whole`, 0 when `whole` is 0.
pub(super) fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{CommandRunner, err};
    use oxidis_protocol::Frame;

    #[test]
    fn usage_counts_entry_key_and_value() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(r.run(["MEMORY", "USAGE", "missing"]), Frame::Null);
        r.run(["SET", "k", "v"]);
        assert_eq!(r.run(["MEMORY", "USAGE", "k"]), Frame::Integer(64));
        assert_eq!(
            r.run(["MEMORY", "USAGE", "k", "SAMPLES", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            r.run(["MEMORY", "USAGE", "k", "foo"]),
            err("ERR syntax error")
        );
        r.run(["SET", "big", &"x".repeat(100)]);
        assert_eq!(r.run(["MEMORY", "USAGE", "big"]), Frame::Integer(164));
    }
}
