//! `cargo xtask bench`: oxidis-server against redis-server with redis-benchmark (throughput,
//! latency, server CPU per request) and memory loads (strings, hashes, sorted sets, sets, a
//! long list) compared by RSS growth. `--only bgsave` runs the BGSAVE memory row instead
//! ([`bgsave`]; left out of the full run, which it would lengthen by two 1 GB loads). The AOF
//! rows ([`aof`], `--only appendfsync`) run SET with `appendonly yes` on both servers.

mod aof;
mod bgsave;

use std::fmt::Display;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::util::{self, Server, ServerOptions, banner, geometric_mean, median};

/// Options of `cargo xtask bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Fewer rounds (2), fewer requests (50,000 per run) and 1/10-size memory loads.
    #[arg(long)]
    pub quick: bool,
    /// Number of alternating rounds (default 5, or 2 with --quick).
    #[arg(long)]
    pub rounds: Option<usize>,
    /// Only the rows whose label contains one of these words (case-insensitive; repeatable),
    /// e.g. `--only xadd --only xrange --only stream`.
    #[arg(long)]
    pub only: Vec<String>,
}

impl Args {
    /// Whether the row labelled `label` is selected by `--only`.
    fn selects(&self, label: &str) -> bool {
        let label = label.to_ascii_lowercase();
        self.only.is_empty()
            || self
                .only
                .iter()
                .any(|word| label.contains(&word.to_ascii_lowercase()))
    }
}

/// One redis-benchmark invocation shape.
struct Workload {
    label: &'static str,
    /// What redis-benchmark runs: `-t <test>`, or an arbitrary command (which goes last).
    args: &'static [&'static str],
    pipeline: usize,
    /// Connections subscribed to [`PUBLISH_CHANNEL`] (and reading) while the workload runs.
    subscribers: usize,
}

const fn test(label: &'static str, args: &'static [&'static str], pipeline: usize) -> Workload {
    Workload {
        label,
        args,
        pipeline,
        subscribers: 0,
    }
}

/// PUBLISH to [`PUBLISH_CHANNEL`] with `subscribers` connections listening.
const fn publish(label: &'static str, subscribers: usize) -> Workload {
    Workload {
        label,
        args: PUBLISH,
        pipeline: 1,
        subscribers,
    }
}

/// The channel of the PUBLISH rows.
const PUBLISH_CHANNEL: &str = "bench:channel";
const PUBLISH: &[&str] = &["publish", PUBLISH_CHANNEL, "hello-subscribers"];

/// Sorted set read by the ZRANGE rows; filled by [`populate_zset`] before the rounds.
const ZRANGE_KEY: &str = "bench:zset";
const ZRANGE_MEMBERS: usize = 100;
const ZRANGE: &[&str] = &["zrange", ZRANGE_KEY, "0", "99"];
/// HyperLogLog grown by the PFADD rows (random elements: it turns dense) and read by PFCOUNT.
const PFADD: &[&str] = &["-r", "100000", "pfadd", "bench:hll", "__rand_int__"];
/// One key: the cached cardinality; the same key twice: a union, estimated every time.
const PFCOUNT: &[&str] = &["pfcount", "bench:hll"];
const PFCOUNT_UNION: &[&str] = &["pfcount", "bench:hll", "bench:hll"];

/// Stream grown by the XADD rows (three small fields per entry).
const XADD: &[&str] = &[
    "xadd",
    "bench:stream",
    "*",
    "f1",
    "v1",
    "f2",
    "v2",
    "f3",
    "v3",
];
/// Stream read by the XRANGE rows; filled by [`populate_stream`] before the rounds.
const XRANGE_KEY: &str = "bench:xrange";
const XRANGE_ENTRIES: usize = 100;
const XRANGE: &[&str] = &["xrange", XRANGE_KEY, "-", "+", "COUNT", "10"];

/// The script of the EVALSHA rows (three commands: a GET, a SET and an INCR), loaded by
/// [`populate_scripts`]; its SHA-1.
const LUA_SCRIPT: &str = "local v = redis.call('get', KEYS[1]) redis.call('set', KEYS[1], ARGV[1]) \
redis.call('incr', KEYS[2]) return v";
const EVALSHA: &[&str] = &[
    "evalsha",
    "d9993550b7e05d4c002bbf21403ec080d79b9b60",
    "2",
    "bench:lua",
    "bench:lua:n",
    "value",
];
/// The library of the FCALL rows: the same three commands as a function.
const LUA_LIBRARY: &str = "#!lua name=benchlib
redis.register_function('bench_getset', function(keys, args)
    local v = redis.call('get', keys[1]) redis.call('set', keys[1], args[1])
    redis.call('incr', keys[2]) return v end)";
const FCALL: &[&str] = &[
    "fcall",
    "bench_getset",
    "2",
    "bench:lua",
    "bench:lua:n",
    "value",
];

/// In run order: LPOP comes after LPUSH so it pops a non-empty list.
const WORKLOADS: &[Workload] = &[
    test("SET", &["-t", "set"], 1),
    test("GET", &["-t", "get"], 1),
    test("INCR", &["-t", "incr"], 1),
    test("MSET (10 keys)", &["-t", "mset"], 1),
    test("LPUSH", &["-t", "lpush"], 1),
    test("LPOP", &["-t", "lpop"], 1),
    test("SADD", &["-t", "sadd"], 1),
    test("HSET", &["-t", "hset"], 1),
    test("ZADD", &["-t", "zadd"], 1),
    test("ZRANGE 0 99", ZRANGE, 1),
    test("PFADD", PFADD, 1),
    test("PFCOUNT", PFCOUNT, 1),
    test("PFCOUNT 2 keys", PFCOUNT_UNION, 1),
    test("XADD", XADD, 1),
    test("XRANGE COUNT 10", XRANGE, 1),
    test("EVALSHA (GET+SET+INCR)", EVALSHA, 1),
    test("FCALL (GET+SET+INCR)", FCALL, 1),
    test("SET -P 16", &["-t", "set"], 16),
    test("GET -P 16", &["-t", "get"], 16),
    test("LPUSH -P 16", &["-t", "lpush"], 16),
    test("SADD -P 16", &["-t", "sadd"], 16),
    test("HSET -P 16", &["-t", "hset"], 16),
    test("ZADD -P 16", &["-t", "zadd"], 16),
    test("ZRANGE 0 99 -P 16", ZRANGE, 16),
    test("PFADD -P 16", PFADD, 16),
    test("XADD -P 16", XADD, 16),
    test("XRANGE COUNT 10 -P 16", XRANGE, 16),
    publish("PUBLISH 1 sub", 1),
    publish("PUBLISH 10 subs", 10),
    publish("PUBLISH 100 subs", 100),
];

/// Pipelined runs get this many times more requests so they last long enough to measure.
const PIPELINE_REQUEST_FACTOR: usize = 5;
const CLIENTS: &str = "50";
/// Elements written per pipelined batch by the memory loaders.
const LOAD_BATCH: usize = 10_000;
/// `--quick` divides memory loads by this (the key count, or a single key's length).
const QUICK_MEMORY_DIVISOR: usize = 10;

/// The data type a memory load writes, and how.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// `SET key:%012d val:%012d`.
    Strings,
    /// `HSET hash:%011d field:%04d value:%04d ...`.
    Hashes,
    /// `ZADD zset:%011d <i> member:%03d ...`.
    SortedSets,
    /// `SADD set:%012d <i> ...`.
    Sets,
    /// `RPUSH list:%011d el:%07d ...`.
    List,
    /// `XADD stream:%011d * f1 v1 f2 v2 f3 v3`.
    Stream,
}

/// One memory row: `keys` keys of `elements` elements each, `per_command` elements per command.
struct MemoryLoad {
    label: &'static str,
    detail: &'static str,
    kind: Kind,
    keys: usize,
    elements: usize,
    per_command: usize,
}

const MEMORY_LOADS: &[MemoryLoad] = &[
    MemoryLoad {
        label: "strings",
        detail: "16-byte keys and values",
        kind: Kind::Strings,
        keys: 1_000_000,
        elements: 1,
        per_command: 1,
    },
    MemoryLoad {
        label: "hashes",
        detail: "50 fields each, 10-byte fields and values, one HSET per key",
        kind: Kind::Hashes,
        keys: 100_000,
        elements: 50,
        per_command: 50,
    },
    MemoryLoad {
        label: "zsets",
        detail: "50 members each, integer scores, 10-byte members, one ZADD per key",
        kind: Kind::SortedSets,
        keys: 100_000,
        elements: 50,
        per_command: 50,
    },
    MemoryLoad {
        label: "int sets",
        detail: "50 integers each (0..49), one SADD per key",
        kind: Kind::Sets,
        keys: 100_000,
        elements: 50,
        per_command: 50,
    },
    MemoryLoad {
        label: "list",
        detail: "10-byte elements, RPUSH of 100 elements per command",
        kind: Kind::List,
        keys: 1,
        elements: 1_000_000,
        per_command: 100,
    },
    MemoryLoad {
        label: "stream",
        detail: "XADD * f1 v1 f2 v2 f3 v3, one entry per command",
        kind: Kind::Stream,
        keys: 1,
        elements: 1_000_000,
        per_command: 1,
    },
];

impl MemoryLoad {
    /// (keys, elements per key), divided by [`QUICK_MEMORY_DIVISOR`] under `--quick`.
    fn size(&self, quick: bool) -> (usize, usize) {
        match (quick, self.keys >= QUICK_MEMORY_DIVISOR) {
            (false, _) => (self.keys, self.elements),
            (true, true) => (self.keys / QUICK_MEMORY_DIVISOR, self.elements),
            (true, false) => (self.keys, self.elements / QUICK_MEMORY_DIVISOR),
        }
    }
}

/// One measurement of one workload on one server.
#[derive(Debug, Clone, Copy)]
struct Sample {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_us_per_request: f64,
}

/// The two servers under test, in a fixed order: oxidis first, redis second.
const SERVERS: [&str; 2] = ["oxidis", "redis"];

/// Runs the benchmark and prints the report; returns whether it completed.
pub fn run(args: &Args) -> Result<bool> {
    util::ensure_tools(&[
        ("redis-server", "redis-server"),
        ("redis-benchmark", "redis-tools"),
    ])?;
    let oxidis_bin = util::oxidis_server_bin(true)?;
    let redis_bin = util::redis_server_bin()?;
    let bins = [oxidis_bin.as_path(), redis_bin.as_path()];
    let rounds = args.rounds.unwrap_or(if args.quick { 2 } else { 5 }).max(1);
    let requests = if args.quick { 50_000 } else { 200_000 };
    let logs = util::target_dir().join("xtask").join("bench");
    if args
        .only
        .iter()
        .any(|word| word.eq_ignore_ascii_case("bgsave"))
    {
        return bgsave::run(&bins, &logs, args.quick);
    }
    let ticks = util::clock_ticks_per_second();
    let mut throughput_ratios = Vec::new();
    let mut cpu_ratios = Vec::new();
    if WORKLOADS.iter().any(|w| args.selects(w.label)) {
        throughput(
            args,
            &bins,
            &logs,
            rounds,
            requests,
            ticks,
            &mut throughput_ratios,
            &mut cpu_ratios,
        )?;
    }
    if aof::selected(args) {
        throughput_ratios.extend(aof::run(&bins, &logs, args, rounds, requests, ticks)?);
    }
    if args.selects(MODULE_ROWS_LABEL) {
        module_overhead(oxidis_bin.as_path(), rounds, requests, &logs, ticks)?;
    }

    let mut memory_ratios = Vec::new();
    let mut memory_rows = Vec::new();
    for load in MEMORY_LOADS.iter().filter(|l| args.selects(l.label)) {
        let (keys, elements) = load.size(args.quick);
        banner(&format!(
            "memory: {} {} x {elements} ({}){}",
            keys,
            load.label,
            load.detail,
            if args.quick {
                format!(", 1/{QUICK_MEMORY_DIVISOR} size for --quick")
            } else {
                String::new()
            }
        ));
        let servers = start_pair(&bins, &logs, &format!("memory-{}", load.kind.name()))?;
        let mut per_element = [0.0; 2];
        for (index, server) in servers.iter().enumerate() {
            let before = util::rss_bytes(server.pid())?;
            load_memory(server.port, load.kind, keys, elements, load.per_command)
                .with_context(|| format!("loading {} into {}", load.label, SERVERS[index]))?;
            std::thread::sleep(Duration::from_millis(500));
            let after = util::rss_bytes(server.pid())?;
            let grown = after.saturating_sub(before) as f64;
            per_element[index] = grown / (keys * elements) as f64;
            println!(
                "{:<7} RSS {:>7.1} MiB -> {:>7.1} MiB: {:.1} bytes/key, {:.1} bytes/element",
                SERVERS[index],
                mib(before),
                mib(after),
                grown / keys as f64,
                per_element[index]
            );
        }
        drop(servers);
        let memory_ratio = ratio(per_element[0], per_element[1]);
        println!("ratio oxidis/redis {memory_ratio:.2}");
        memory_ratios.push(memory_ratio);
        memory_rows.push((load, keys, elements, per_element, memory_ratio));
    }

    println!();
    println!(
        "{:<10} {:>9} {:>9}  {:>14} {:>14} {:>6}{}",
        "memory",
        "keys",
        "elems/key",
        "oxidis B/elem",
        "redis B/elem",
        "ratio",
        if args.quick {
            "  (--quick: 1/10 sizes)"
        } else {
            ""
        }
    );
    for (load, keys, elements, [ours, theirs], memory_ratio) in &memory_rows {
        println!(
            "{:<10} {keys:>9} {elements:>9}  {ours:>14.1} {theirs:>14.1} {memory_ratio:>6.2}",
            load.label
        );
    }
    println!("(B/elem = RSS growth per element; for strings an element is a key)");

    let throughput = geometric_mean(&throughput_ratios);
    let min_throughput = throughput_ratios
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    let cpu = geometric_mean(&cpu_ratios);
    let memory = geometric_mean(&memory_ratios);
    let max_memory = memory_ratios.iter().copied().fold(0.0, f64::max);
    println!(
        "bench: throughput ratio {throughput:.2} (min over rows {min_throughput:.2}), cpu ratio {cpu:.2}, memory ratio {memory:.2} (max over rows {max_memory:.2})"
    );
    Ok(true)
}

/// The redis-benchmark rows of [`WORKLOADS`] selected by `--only`: prints their table and adds
/// their throughput and CPU ratios.
#[allow(clippy::too_many_arguments)]
fn throughput(
    args: &Args,
    bins: &[&Path; 2],
    logs: &Path,
    rounds: usize,
    requests: usize,
    ticks: f64,
    throughput_ratios: &mut Vec<f64>,
    cpu_ratios: &mut Vec<f64>,
) -> Result<()> {
    banner(&format!(
        "throughput: {rounds} rounds, {requests} requests per run, {CLIENTS} clients"
    ));
    let servers = start_pair(bins, logs, "throughput")?;
    for server in &servers {
        warm_up(server.port)?;
        populate_zset(server.port)?;
        populate_stream(server.port)?;
        populate_scripts(server.port)?;
    }
    // samples[workload][server] = one sample per round
    let mut samples = vec![[Vec::new(), Vec::new()]; WORKLOADS.len()];
    for round in 0..rounds {
        println!("round {}/{rounds}", round + 1);
        // Alternate which server goes first so neither always runs on a warmer machine.
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for (index, workload) in WORKLOADS.iter().enumerate() {
            if !args.selects(workload.label) {
                continue;
            }
            for &which in &order {
                let sample = measure(&servers[which], workload, requests, ticks)?;
                samples[index][which].push(sample);
            }
        }
    }
    drop(servers);

    println!();
    println!(
        "{:<18} {:>12} {:>12} {:>6}  {:>15} {:>15}  {:>10} {:>10} {:>6}",
        "median",
        "oxidis ops/s",
        "redis ops/s",
        "ratio",
        "oxidis p50/p99",
        "redis p50/p99",
        "oxidis cpu",
        "redis cpu",
        "ratio"
    );
    for (workload, per_server) in WORKLOADS.iter().zip(&samples) {
        if per_server[0].is_empty() {
            continue;
        }
        let [ours, theirs] = [summarize(&per_server[0]), summarize(&per_server[1])];
        let throughput_ratio = ratio(ours.rps, theirs.rps);
        let cpu_ratio = ratio(ours.cpu_us_per_request, theirs.cpu_us_per_request);
        throughput_ratios.push(throughput_ratio);
        cpu_ratios.push(cpu_ratio);
        println!(
            "{:<18} {:>12.0} {:>12.0} {:>6.2}  {:>15} {:>15}  {:>8.2}µs {:>8.2}µs {:>6.2}",
            workload.label,
            ours.rps,
            theirs.rps,
            throughput_ratio,
            format!("{:.3}/{:.3}", ours.p50_ms, ours.p99_ms),
            format!("{:.3}/{:.3}", theirs.p50_ms, theirs.p99_ms),
            ours.cpu_us_per_request,
            theirs.cpu_us_per_request,
            cpu_ratio
        );
    }
    println!("(latencies in ms; cpu = server user+system CPU per request)");
    Ok(())
}

/// `--only` word of the module overhead rows.
const MODULE_ROWS_LABEL: &str = "module";
/// Back-to-back GET/RL.GET pairs per round in the module overhead rows.
const MODULE_PAIRS_PER_ROUND: usize = 3;
/// The key the module overhead rows read.
const MODULE_KEY: &str = "bench:module";
const MODULE_ROWS: &[Workload] = &[
    test("GET", &["get", MODULE_KEY], 1),
    test("RL.GET (module)", &["rl.get", MODULE_KEY], 1),
    test("GET -P 16", &["get", MODULE_KEY], 16),
    test("RL.GET -P 16", &["rl.get", MODULE_KEY], 16),
];

/// The cost of the module ABI: the example `ratelimit` module's RL.GET (a GET through the module
/// API) against the built-in GET, in one oxidis-server that loaded the module at startup.
fn module_overhead(
    oxidis_bin: &Path,
    rounds: usize,
    requests: usize,
    logs: &Path,
    ticks: f64,
) -> Result<()> {
    banner("module overhead: RL.GET (example module) vs built-in GET, same server and key");
    util::run(util::cargo().args(["build", "--release", "-p", "oxidis-module-ratelimit"]))?;
    let module = util::target_dir().join("release").join("libratelimit.so");
    let module = module.to_string_lossy();
    let options = ServerOptions {
        label: "bench-module",
        log: logs.join("module-oxidis.log"),
        extra_args: &["--loadmodule", &module],
    };
    let server = Server::start(oxidis_bin, &options)
        .with_context(|| format!("starting {} with {module}", oxidis_bin.display()))?;
    warm_up(server.port)?;
    util::output(benchmark_command(server.port).args(["-n", "1", "set", MODULE_KEY, "xxx"]))?;
    let mut samples = vec![Vec::new(); MODULE_ROWS.len()];
    // Each round is MODULE_PAIRS_PER_ROUND short GET/RL.GET pairs (the same requests in all):
    // a load burst on the shared machine then spoils one short pair, not a whole row.
    let slice = (requests / MODULE_PAIRS_PER_ROUND).max(1);
    for round in 0..rounds {
        println!("round {}/{rounds}", round + 1);
        for (index, pair) in MODULE_ROWS.chunks(2).enumerate() {
            let offset = index * 2;
            for repeat in 0..MODULE_PAIRS_PER_ROUND {
                // Alternate GET first and RL.GET first.
                let order = if (round + repeat) % 2 == 0 {
                    [0, 1]
                } else {
                    [1, 0]
                };
                for which in order {
                    let sample = measure(&server, &pair[which], slice, ticks)?;
                    samples[offset + which].push(sample);
                }
            }
        }
    }
    drop(server);
    println!();
    println!(
        "{:<18} {:>12} {:>12} {:>6}  {:>10} {:>10} {:>6}",
        "median", "GET ops/s", "module ops/s", "paired", "GET cpu", "module cpu", "ratio"
    );
    let mut ratios = Vec::new();
    for (index, pair) in MODULE_ROWS.chunks(2).enumerate() {
        let get = summarize(&samples[index * 2]);
        let module = summarize(&samples[index * 2 + 1]);
        // Each pair measures GET and RL.GET back to back: the median of those paired ratios
        // resists the load swings of a shared machine better than a ratio of medians.
        let paired: Vec<f64> = samples[index * 2]
            .iter()
            .zip(&samples[index * 2 + 1])
            .map(|(get, module)| ratio(module.rps, get.rps))
            .collect();
        let r = median(&paired);
        ratios.push(r);
        println!(
            "{:<18} {:>12.0} {:>12.0} {:>6.2}  {:>8.2}µs {:>8.2}µs {:>6.2}",
            pair[1].label,
            get.rps,
            module.rps,
            r,
            get.cpu_us_per_request,
            module.cpu_us_per_request,
            ratio(module.cpu_us_per_request, get.cpu_us_per_request)
        );
    }
    println!(
        "bench: module RL.GET / built-in GET throughput ratio {:.2} (median of back-to-back pairs; min over rows {:.2})",
        geometric_mean(&ratios),
        ratios.iter().copied().fold(f64::INFINITY, f64::min)
    );
    Ok(())
}

fn start_pair(bins: &[&Path; 2], logs: &Path, phase: &str) -> Result<[Server; 2]> {
    start_pair_with(bins, logs, phase, &[])
}

/// Both servers, each with `extra_args`, logging to `<phase>-<name>.log` in `logs`.
fn start_pair_with(
    bins: &[&Path; 2],
    logs: &Path,
    phase: &str,
    extra_args: &[&str],
) -> Result<[Server; 2]> {
    let start = |index: usize| -> Result<Server> {
        let name = SERVERS[index];
        let options = ServerOptions {
            label: &format!("bench-{phase}-{name}"),
            log: logs.join(format!("{phase}-{name}.log")),
            extra_args,
        };
        let server = Server::start(bins[index], &options)
            .with_context(|| format!("starting {}", bins[index].display()))?;
        println!(
            "{name}: {} on port {} (pid {})",
            bins[index].display(),
            server.port,
            server.pid()
        );
        Ok(server)
    };
    Ok([start(0)?, start(1)?])
}

fn benchmark_command(port: u16) -> Command {
    let mut cmd = Command::new("redis-benchmark");
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string(), "-c", CLIENTS]);
    cmd
}

fn warm_up(port: u16) -> Result<()> {
    util::output(benchmark_command(port).args(["-n", "20000", "-t", "ping,set,get", "-q"]))?;
    Ok(())
}

/// Runs one workload once and attributes the server's CPU time to it.
fn measure(
    server: &Server,
    workload: &Workload,
    requests: usize,
    ticks_per_second: f64,
) -> Result<Sample> {
    let requests = requests
        * if workload.pipeline > 1 {
            PIPELINE_REQUEST_FACTOR
        } else {
            1
        };
    let mut cmd = benchmark_command(server.port);
    cmd.args(["-n", &requests.to_string()])
        .args(["-P", &workload.pipeline.to_string(), "-q", "--csv"])
        .args(workload.args);
    let subscribers = Subscribers::start(server.port, workload.subscribers)?;
    let before = util::cpu_ticks(server.pid())?;
    let csv = util::output(&mut cmd)?;
    let after = util::cpu_ticks(server.pid())?;
    drop(subscribers);
    let (rps, p50_ms, p99_ms) =
        parse_csv(&csv).with_context(|| format!("parsing redis-benchmark output {csv:?}"))?;
    let cpu_seconds = after.saturating_sub(before) as f64 / ticks_per_second;
    Ok(Sample {
        rps,
        p50_ms,
        p99_ms,
        cpu_us_per_request: cpu_seconds * 1e6 / requests as f64,
    })
}

/// Reads rps, p50 and p99 from redis-benchmark 7's `--csv` output (one test).
fn parse_csv(csv: &str) -> Result<(f64, f64, f64)> {
    let mut lines = csv.lines().map(str::trim).filter(|line| !line.is_empty());
    let split = |line: &str| -> Vec<String> {
        line.split(',')
            .map(|f| f.trim_matches('"').to_string())
            .collect()
    };
    let header = split(lines.next().context("empty output")?);
    let row = split(lines.next().context("no data row")?);
    let column = |name: &str| -> Result<f64> {
        let index = header
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("no column {name}"))?;
        let value = row
            .get(index)
            .with_context(|| format!("no value for {name}"))?;
        value
            .parse()
            .with_context(|| format!("bad {name} value {value:?}"))
    };
    Ok((
        column("rps")?,
        column("p50_latency_ms")?,
        column("p99_latency_ms")?,
    ))
}

/// Medians over rounds.
fn summarize(samples: &[Sample]) -> Sample {
    let pick = |f: fn(&Sample) -> f64| median(&samples.iter().map(f).collect::<Vec<_>>());
    Sample {
        rps: pick(|s| s.rps),
        p50_ms: pick(|s| s.p50_ms),
        p99_ms: pick(|s| s.p99_ms),
        cpu_us_per_request: pick(|s| s.cpu_us_per_request),
    }
}

fn ratio(ours: f64, theirs: f64) -> f64 {
    if theirs > 0.0 { ours / theirs } else { 0.0 }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Fills [`ZRANGE_KEY`] with [`ZRANGE_MEMBERS`] members in one ZADD.
fn populate_zset(port: u16) -> Result<()> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut writer = CommandWriter::default();
    writer.command(2 + 2 * ZRANGE_MEMBERS)?;
    writer.arg("ZADD")?;
    writer.arg(ZRANGE_KEY)?;
    for i in 0..ZRANGE_MEMBERS {
        writer.arg(i)?;
        writer.arg(format_args!("member:{i:03}"))?;
    }
    stream.write_all(&writer.out)?;
    let reply = ReplyReader::default().line(&mut stream)?;
    if reply != format!(":{ZRANGE_MEMBERS}") {
        bail!("ZADD {ZRANGE_KEY} returned {reply:?}");
    }
    Ok(())
}

/// Loads the script of the EVALSHA rows and the library of the FCALL rows.
fn populate_scripts(port: u16) -> Result<()> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut writer = CommandWriter::default();
    for (words, body) in [
        (["SCRIPT", "LOAD"], LUA_SCRIPT),
        (["FUNCTION", "LOAD"], LUA_LIBRARY),
    ] {
        writer.command(3)?;
        writer.arg(words[0])?;
        writer.arg(words[1])?;
        writer.arg(body)?;
    }
    stream.write_all(&writer.out)?;
    let mut reader = ReplyReader::default();
    for expected in [EVALSHA[1], "benchlib"] {
        let header = reader.line(&mut stream)?;
        if header.starts_with('-') {
            bail!("loading the bench scripts: {header}");
        }
        let reply = reader.line(&mut stream)?;
        if reply != expected {
            bail!("loading the bench scripts: {header} {reply:?}, expected {expected}");
        }
    }
    Ok(())
}

fn populate_stream(port: u16) -> Result<()> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut writer = CommandWriter::default();
    for i in 1..=XRANGE_ENTRIES {
        writer.command(9)?;
        for arg in ["XADD", XRANGE_KEY] {
            writer.arg(arg)?;
        }
        writer.arg(format_args!("{i}-0"))?;
        for arg in ["f1", "v1", "f2", "v2", "f3", "v3"] {
            writer.arg(arg)?;
        }
    }
    stream.write_all(&writer.out)?;
    let mut replies = ReplyReader::default();
    for i in 1..=XRANGE_ENTRIES {
        replies.line(&mut stream)?;
        let id = replies.line(&mut stream)?;
        if id != format!("{i}-0") {
            bail!("XADD {XRANGE_KEY} returned {id:?}");
        }
    }
    Ok(())
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Strings => "strings",
            Kind::Hashes => "hashes",
            Kind::SortedSets => "zsets",
            Kind::Sets => "sets",
            Kind::List => "list",
            Kind::Stream => "stream",
        }
    }

    /// Writes the command adding elements `first..last` to key number `key`; returns the
    /// reply it expects.
    fn write(self, w: &mut CommandWriter, key: usize, first: usize, last: usize) -> Result<String> {
        let n = last - first;
        match self {
            Kind::Strings => {
                w.command(3)?;
                w.arg("SET")?;
                w.arg(format_args!("key:{key:012}"))?;
                w.arg(format_args!("val:{key:012}"))?;
                return Ok("+OK".to_string());
            }
            Kind::Hashes => {
                w.command(2 + 2 * n)?;
                w.arg("HSET")?;
                w.arg(format_args!("hash:{key:011}"))?;
                for i in first..last {
                    w.arg(format_args!("field:{i:04}"))?;
                    w.arg(format_args!("value:{i:04}"))?;
                }
            }
            Kind::SortedSets => {
                w.command(2 + 2 * n)?;
                w.arg("ZADD")?;
                w.arg(format_args!("zset:{key:011}"))?;
                for i in first..last {
                    w.arg(i)?;
                    w.arg(format_args!("member:{i:03}"))?;
                }
            }
            Kind::Sets => {
                w.command(2 + n)?;
                w.arg("SADD")?;
                w.arg(format_args!("set:{key:012}"))?;
                for i in first..last {
                    w.arg(i)?;
                }
            }
            Kind::List => {
                w.command(2 + n)?;
                w.arg("RPUSH")?;
                w.arg(format_args!("list:{key:011}"))?;
                for i in first..last {
                    w.arg(format_args!("el:{i:07}"))?;
                }
                // RPUSH replies with the new length.
                return Ok(format!(":{last}"));
            }
            Kind::Stream => {
                w.command(9)?;
                w.arg("XADD")?;
                w.arg(format_args!("stream:{key:011}"))?;
                for arg in ["*", "f1", "v1", "f2", "v2", "f3", "v3"] {
                    w.arg(arg)?;
                }
                // The new id, as a bulk string.
                return Ok(BULK_REPLY.to_string());
            }
        }
        Ok(format!(":{n}"))
    }
}

/// Writes `keys` keys of `elements` elements each (`per_command` elements per command) in
/// pipelined batches of about [`LOAD_BATCH`] elements, checks every reply and DBSIZE.
fn load_memory(
    port: u16,
    kind: Kind,
    keys: usize,
    elements: usize,
    per_command: usize,
) -> Result<()> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let per_key = elements.div_ceil(per_command);
    let commands = keys * per_key;
    let batch = (LOAD_BATCH / per_command).max(1);
    let mut writer = CommandWriter::default();
    let mut replies = ReplyReader::default();
    let mut expected = Vec::with_capacity(batch);
    for start in (0..commands).step_by(batch) {
        writer.out.clear();
        expected.clear();
        for index in start..(start + batch).min(commands) {
            let first = (index % per_key) * per_command;
            let last = (first + per_command).min(elements);
            expected.push(kind.write(&mut writer, index / per_key, first, last)?);
        }
        stream.write_all(&writer.out)?;
        for want in &expected {
            let reply = replies.line(&mut stream)?;
            if want == BULK_REPLY && reply.starts_with('$') {
                replies.line(&mut stream)?;
                continue;
            }
            if reply != *want {
                bail!("{} returned {reply:?}, expected {want:?}", kind.name());
            }
        }
    }
    stream.write_all(b"*1\r\n$6\r\nDBSIZE\r\n")?;
    let reply = replies.line(&mut stream)?;
    if reply != format!(":{keys}") {
        bail!("DBSIZE returned {reply:?}, expected {keys}");
    }
    Ok(())
}

/// What [`Kind::write`] expects for a bulk string reply of any content.
const BULK_REPLY: &str = "$";

/// Builds RESP commands (arrays of bulk strings) into `out`.
#[derive(Default)]
struct CommandWriter {
    out: Vec<u8>,
    scratch: Vec<u8>,
}

impl CommandWriter {
    fn command(&mut self, args: usize) -> Result<()> {
        write!(self.out, "*{args}\r\n")?;
        Ok(())
    }

    fn arg(&mut self, arg: impl Display) -> Result<()> {
        self.scratch.clear();
        write!(self.scratch, "{arg}")?;
        write!(self.out, "${}\r\n", self.scratch.len())?;
        self.out.extend_from_slice(&self.scratch);
        self.out.extend_from_slice(b"\r\n");
        Ok(())
    }
}

/// Reads `\r\n`-terminated reply lines (enough for simple strings, errors and integers).
#[derive(Default)]
struct ReplyReader {
    buf: Vec<u8>,
    start: usize,
}

impl ReplyReader {
    fn line(&mut self, stream: &mut TcpStream) -> Result<String> {
        loop {
            if let Some(offset) = self.buf[self.start..].windows(2).position(|w| w == b"\r\n") {
                let end = self.start + offset;
                let line = String::from_utf8_lossy(&self.buf[self.start..end]).into_owned();
                self.start = end + 2;
                return Ok(line);
            }
            self.buf.drain(..self.start);
            self.start = 0;
            let mut chunk = [0u8; 64 * 1024];
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                bail!("server closed the connection");
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Connections subscribed to [`PUBLISH_CHANNEL`], each drained by a thread, for the PUBLISH
/// rows; dropping it closes them.
struct Subscribers {
    streams: Vec<TcpStream>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Subscribers {
    fn start(port: u16, count: usize) -> Result<Subscribers> {
        let mut subscribers = Subscribers {
            streams: Vec::with_capacity(count),
            readers: Vec::with_capacity(count),
        };
        for _ in 0..count {
            let mut stream = TcpStream::connect(("127.0.0.1", port))?;
            let channel = PUBLISH_CHANNEL.len();
            let command = format!("*2\r\n$9\r\nSUBSCRIBE\r\n${channel}\r\n{PUBLISH_CHANNEL}\r\n");
            stream.write_all(command.as_bytes())?;
            let confirmation =
                format!("*3\r\n$9\r\nsubscribe\r\n${channel}\r\n{PUBLISH_CHANNEL}\r\n:1\r\n");
            let mut reply = vec![0u8; confirmation.len()];
            stream.read_exact(&mut reply)?;
            if reply != confirmation.as_bytes() {
                bail!(
                    "unexpected SUBSCRIBE reply {:?}",
                    String::from_utf8_lossy(&reply)
                );
            }
            let mut drain = stream.try_clone()?;
            subscribers.readers.push(std::thread::spawn(move || {
                let mut sink = vec![0u8; 64 * 1024];
                while matches!(drain.read(&mut sink), Ok(n) if n > 0) {}
            }));
            subscribers.streams.push(stream);
        }
        Ok(subscribers)
    }
}

impl Drop for Subscribers {
    fn drop(&mut self) {
        for stream in &self.streams {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_redis_benchmark_csv() {
        let csv = "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\
                   \"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n\
                   \"SET\",\"98039.22\",\"0.279\",\"0.064\",\"0.263\",\"0.391\",\"0.511\",\"1.719\"\n";
        assert_eq!(parse_csv(csv).ok(), Some((98039.22, 0.263, 0.511)));
    }
}
