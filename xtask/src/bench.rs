//! `cargo xtask bench`: oxidis-server against redis-server with redis-benchmark (throughput,
//! latency, server CPU per request) and a 1,000,000-key memory load.

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
    /// Fewer rounds (2) and fewer requests (50,000 per run).
    #[arg(long)]
    pub quick: bool,
    /// Number of alternating rounds (default 5, or 2 with --quick).
    #[arg(long)]
    pub rounds: Option<usize>,
}

/// One redis-benchmark invocation shape.
struct Workload {
    label: &'static str,
    test: &'static str,
    pipeline: usize,
}

const WORKLOADS: &[Workload] = &[
    Workload {
        label: "SET",
        test: "set",
        pipeline: 1,
    },
    Workload {
        label: "GET",
        test: "get",
        pipeline: 1,
    },
    Workload {
        label: "INCR",
        test: "incr",
        pipeline: 1,
    },
    Workload {
        label: "MSET (10 keys)",
        test: "mset",
        pipeline: 1,
    },
    Workload {
        label: "SET -P 16",
        test: "set",
        pipeline: 16,
    },
    Workload {
        label: "GET -P 16",
        test: "get",
        pipeline: 16,
    },
];

/// Pipelined runs get this many times more requests so they last long enough to measure.
const PIPELINE_REQUEST_FACTOR: usize = 5;
const CLIENTS: &str = "50";
const MEMORY_KEYS: usize = 1_000_000;
const LOAD_BATCH: usize = 10_000;

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
    let ticks = util::clock_ticks_per_second();

    banner(&format!(
        "throughput: {rounds} rounds, {requests} requests per run, {CLIENTS} clients"
    ));
    let servers = start_pair(&bins, &logs, "throughput")?;
    for server in &servers {
        warm_up(server.port)?;
    }
    // samples[workload][server] = one sample per round
    let mut samples = vec![[Vec::new(), Vec::new()]; WORKLOADS.len()];
    for round in 0..rounds {
        println!("round {}/{rounds}", round + 1);
        // Alternate which server goes first so neither always runs on a warmer machine.
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for (index, workload) in WORKLOADS.iter().enumerate() {
            for &which in &order {
                let sample = measure(&servers[which], workload, requests, ticks)?;
                samples[index][which].push(sample);
            }
        }
    }
    drop(servers);

    println!();
    println!(
        "{:<15} {:>12} {:>12} {:>6}  {:>15} {:>15}  {:>10} {:>10} {:>6}",
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
    let mut throughput_ratios = Vec::new();
    let mut cpu_ratios = Vec::new();
    for (workload, per_server) in WORKLOADS.iter().zip(&samples) {
        let [ours, theirs] = [summarize(&per_server[0]), summarize(&per_server[1])];
        let throughput_ratio = ratio(ours.rps, theirs.rps);
        let cpu_ratio = ratio(ours.cpu_us_per_request, theirs.cpu_us_per_request);
        throughput_ratios.push(throughput_ratio);
        cpu_ratios.push(cpu_ratio);
        println!(
            "{:<15} {:>12.0} {:>12.0} {:>6.2}  {:>15} {:>15}  {:>8.2}µs {:>8.2}µs {:>6.2}",
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

    banner(&format!(
        "memory: {MEMORY_KEYS} keys, 16-byte keys and values"
    ));
    let servers = start_pair(&bins, &logs, "memory")?;
    let mut per_key = [0.0; 2];
    for (index, server) in servers.iter().enumerate() {
        let before = util::rss_bytes(server.pid())?;
        load_keys(server.port)?;
        std::thread::sleep(Duration::from_millis(500));
        let after = util::rss_bytes(server.pid())?;
        per_key[index] = after.saturating_sub(before) as f64 / MEMORY_KEYS as f64;
        println!(
            "{:<7} RSS {:>7.1} MiB -> {:>7.1} MiB: {:.1} bytes/key",
            SERVERS[index],
            mib(before),
            mib(after),
            per_key[index]
        );
    }
    drop(servers);
    let memory_ratio = ratio(per_key[0], per_key[1]);

    let throughput = geometric_mean(&throughput_ratios);
    let min_throughput = throughput_ratios
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    let cpu = geometric_mean(&cpu_ratios);
    println!(
        "bench: throughput ratio {throughput:.2} (min over rows {min_throughput:.2}), cpu ratio {cpu:.2}, memory ratio {memory_ratio:.2}"
    );
    Ok(true)
}

fn start_pair(bins: &[&Path; 2], logs: &Path, phase: &str) -> Result<[Server; 2]> {
    let start = |index: usize| -> Result<Server> {
        let name = SERVERS[index];
        let options = ServerOptions {
            label: &format!("bench-{name}"),
            log: logs.join(format!("{phase}-{name}.log")),
            extra_args: &[],
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
    cmd.args(["-n", &requests.to_string(), "-t", workload.test])
        .args(["-P", &workload.pipeline.to_string(), "-q", "--csv"]);
    let before = util::cpu_ticks(server.pid())?;
    let csv = util::output(&mut cmd)?;
    let after = util::cpu_ticks(server.pid())?;
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

/// Writes `SET key:%012d val:%012d` for every key in pipelined batches and checks DBSIZE.
fn load_keys(port: u16) -> Result<()> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut batch = Vec::with_capacity(LOAD_BATCH * 64);
    let mut replies = ReplyReader::default();
    for start in (0..MEMORY_KEYS).step_by(LOAD_BATCH) {
        batch.clear();
        let end = (start + LOAD_BATCH).min(MEMORY_KEYS);
        for key in start..end {
            write!(
                batch,
                "*3\r\n$3\r\nSET\r\n$16\r\nkey:{key:012}\r\n$16\r\nval:{key:012}\r\n"
            )?;
        }
        stream.write_all(&batch)?;
        for _ in start..end {
            let reply = replies.line(&mut stream)?;
            if !reply.starts_with('+') {
                bail!("SET failed: {reply}");
            }
        }
    }
    stream.write_all(b"*1\r\n$6\r\nDBSIZE\r\n")?;
    let reply = replies.line(&mut stream)?;
    if reply != format!(":{MEMORY_KEYS}") {
        bail!("DBSIZE returned {reply:?}, expected {MEMORY_KEYS}");
    }
    Ok(())
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
