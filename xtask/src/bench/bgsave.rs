//! The `bgsave` row of `cargo xtask bench --only bgsave`: peak memory while a BGSAVE of a
//! ~1 GB dataset runs under a 50-client write load, oxidis (forkless snapshot) against
//! redis-server (fork), and the latency of writes meanwhile.
//!
//! Memory is the proportional set size (PSS, `/proc/<pid>/smaps_rollup`) of the server plus
//! its children, sampled every 20 ms: a forked child's shared pages count once between the
//! two, and the pages copy-on-write duplicates count twice, as they cost. The write load is
//! redis-benchmark `SET` of 1000-byte values over the populated key space; a separate
//! connection measures the round trip of one `SET` at a time while the save runs.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::{CLIENTS, SERVERS, benchmark_command, mib, ratio};
use crate::util::{self, Server, ServerOptions, banner, median};

/// What one server did.
struct Outcome {
    keys: u64,
    baseline: u64,
    peak: u64,
    save_secs: f64,
    /// SET round trips under the same load before the save.
    idle_latencies_ms: Vec<f64>,
    latencies_ms: Vec<f64>,
    writes_per_sec: f64,
}

/// Runs the row for both servers and prints it.
pub fn run(bins: &[&Path; 2], logs: &Path, quick: bool) -> Result<bool> {
    let keyspace: u64 = if quick { 100_000 } else { 1_000_000 };
    banner(&format!(
        "bgsave: {keyspace} keys of 1000 bytes (~{} MB), BGSAVE under a {CLIENTS}-client SET load",
        keyspace * 1_100 / 1_000_000
    ));
    let mut outcomes = Vec::new();
    for (index, bin) in bins.iter().enumerate() {
        let name = SERVERS[index];
        let options = ServerOptions {
            label: &format!("bench-bgsave-{name}"),
            log: logs.join(format!("bgsave-{name}.log")),
            extra_args: &[],
        };
        let server =
            Server::start(bin, &options).with_context(|| format!("starting {}", bin.display()))?;
        println!("{name}: pid {} port {}", server.pid(), server.port);
        let outcome = measure(&server, keyspace)?;
        println!(
            "{name:<7} {} keys, PSS {:.1} MiB before, peak {:.1} MiB during BGSAVE (+{:.1}%), save {:.1} s, {:.0} writes/s, SET p50/p99/max {:.2}/{:.2}/{:.2} ms (before the save {:.2}/{:.2}/{:.2})",
            outcome.keys,
            mib(outcome.baseline),
            mib(outcome.peak),
            (outcome.peak as f64 / outcome.baseline.max(1) as f64 - 1.0) * 100.0,
            outcome.save_secs,
            outcome.writes_per_sec,
            median(&outcome.latencies_ms),
            percentile(&outcome.latencies_ms, 0.99),
            outcome.latencies_ms.iter().copied().fold(0.0, f64::max),
            median(&outcome.idle_latencies_ms),
            percentile(&outcome.idle_latencies_ms, 0.99),
            outcome
                .idle_latencies_ms
                .iter()
                .copied()
                .fold(0.0, f64::max),
        );
        outcomes.push(outcome);
    }
    let [ours, theirs] = [&outcomes[0], &outcomes[1]];
    println!();
    println!(
        "bgsave: peak memory ratio oxidis/redis {:.2} (target <= 0.80); overhead over the dataset {:.1}% vs {:.1}%; SET p99 during the save {:.2} ms vs {:.2} ms",
        ratio(ours.peak as f64, theirs.peak as f64),
        (ours.peak as f64 / ours.baseline.max(1) as f64 - 1.0) * 100.0,
        (theirs.peak as f64 / theirs.baseline.max(1) as f64 - 1.0) * 100.0,
        percentile(&ours.latencies_ms, 0.99),
        percentile(&theirs.latencies_ms, 0.99),
    );
    Ok(true)
}

fn measure(server: &Server, keyspace: u64) -> Result<Outcome> {
    let port = server.port;
    let keyspace_arg = keyspace.to_string();
    // Random keys over the key space, twice its size in requests: ~86% of it exists.
    let populate = (keyspace * 2).to_string();
    util::output(benchmark_command(port).args([
        "-t",
        "set",
        "-d",
        "1000",
        "-r",
        &keyspace_arg,
        "-n",
        &populate,
        "-P",
        "32",
        "-q",
    ]))?;
    std::thread::sleep(Duration::from_secs(1));
    let keys: u64 = query(port, "DBSIZE")?
        .trim_start_matches(':')
        .parse()
        .unwrap_or(0);
    let baseline = pss_with_children(server.pid())?;
    let mut load = benchmark_command(port)
        .args(["-t", "set", "-d", "1000", "-r", &keyspace_arg])
        .args(["-n", "1000000000", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the write load")?;
    std::thread::sleep(Duration::from_millis(500));
    let idle_latencies_ms = {
        let stop = Arc::new(AtomicBool::new(false));
        let probe = {
            let stop = stop.clone();
            std::thread::spawn(move || probe_latency(port, &stop))
        };
        std::thread::sleep(Duration::from_secs(3));
        stop.store(true, Ordering::Relaxed);
        probe.join().unwrap_or_default()
    };
    let stop = Arc::new(AtomicBool::new(false));
    let probe = {
        let stop = stop.clone();
        std::thread::spawn(move || probe_latency(port, &stop))
    };
    let commands_before = commands_processed(port)?;
    let started = Instant::now();
    let reply = query(port, "BGSAVE")?;
    if !reply.contains("Background saving started") {
        bail!("BGSAVE answered {reply}");
    }
    let mut peak = baseline;
    loop {
        peak = peak.max(pss_with_children(server.pid())?);
        let info = util::output(
            Command::new("redis-cli")
                .args(["-p", &port.to_string(), "info", "persistence"])
                .stderr(Stdio::null()),
        )?;
        if info.contains("rdb_bgsave_in_progress:0") {
            if !info.contains("rdb_last_bgsave_status:ok") {
                bail!("the BGSAVE failed");
            }
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            bail!("the BGSAVE took over 10 minutes");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let save_secs = started.elapsed().as_secs_f64();
    let commands = commands_processed(port)?.saturating_sub(commands_before);
    stop.store(true, Ordering::Relaxed);
    let latencies_ms = probe.join().unwrap_or_default();
    let _ = load.kill();
    let _ = load.wait();
    Ok(Outcome {
        keys,
        baseline,
        peak,
        save_secs,
        idle_latencies_ms,
        latencies_ms,
        writes_per_sec: commands as f64 / save_secs.max(1e-9),
    })
}

/// PSS of `pid` and of its children, bytes.
fn pss_with_children(pid: u32) -> Result<u64> {
    let mut total = pss(pid)?;
    let children =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    for child in children.split_whitespace() {
        if let Ok(child) = child.parse::<u32>() {
            // A child that just exited has nothing left to count.
            total += pss(child).unwrap_or(0);
        }
    }
    Ok(total)
}

fn pss(pid: u32) -> Result<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .with_context(|| format!("cannot read /proc/{pid}/smaps_rollup"))?;
    let kib: u64 = text
        .lines()
        .find(|line| line.starts_with("Pss:"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .context("no Pss line")?;
    Ok(kib * 1024)
}

fn commands_processed(port: u16) -> Result<u64> {
    let info = util::output(
        Command::new("redis-cli")
            .args(["-p", &port.to_string(), "info", "stats"])
            .stderr(Stdio::null()),
    )?;
    Ok(info
        .lines()
        .find_map(|l| l.strip_prefix("total_commands_processed:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0))
}

/// One inline command, one reply line.
fn query(port: u16, command: &str) -> Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.write_all(format!("{command}\r\n").as_bytes())?;
    let mut buf = [0u8; 256];
    let n = stream.read(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..n]).trim_end().to_string())
}

/// Round trips of one `SET` at a time until `stop`, in milliseconds.
fn probe_latency(port: u16, stop: &AtomicBool) -> Vec<f64> {
    let mut samples = Vec::new();
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return samples;
    };
    let _ = stream.set_nodelay(true);
    let command = b"*3\r\n$3\r\nSET\r\n$5\r\nprobe\r\n$1\r\nx\r\n";
    let mut reply = [0u8; 5];
    while !stop.load(Ordering::Relaxed) {
        let sent = Instant::now();
        if stream.write_all(command).is_err() || stream.read_exact(&mut reply).is_err() {
            break;
        }
        samples.push(sent.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(1));
    }
    samples
}

fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
