//! The AOF rows of `cargo xtask bench` (`--only appendfsync`): SET throughput with the
//! append-only file on, `appendfsync everysec` and `appendfsync always`, oxidis against
//! redis-server started with the same configuration (each in its own temp `dir`).
//!
//! With `always` every acknowledged write is fsynced first, so throughput is bound by the
//! disk's fsync latency and by how many clients' writes one fsync covers (group commit); those
//! rows run a quarter of the requests.

use std::path::Path;

use anyhow::Result;

use super::{Args, Sample, Workload, measure, ratio, summarize, test, warm_up};
use crate::util::{Server, banner, geometric_mean};

/// One AOF row: a workload under one `appendfsync` policy.
struct AofRow {
    workload: Workload,
    policy: &'static str,
    /// The share of the run's requests this row sends (fsync-bound rows are slow).
    request_divisor: usize,
}

const ROWS: &[AofRow] = &[
    AofRow {
        workload: test("SET appendfsync everysec", &["-t", "set"], 1),
        policy: "everysec",
        request_divisor: 1,
    },
    AofRow {
        workload: test("SET -P 16 appendfsync everysec", &["-t", "set"], 16),
        policy: "everysec",
        request_divisor: 1,
    },
    AofRow {
        workload: test("SET appendfsync always", &["-t", "set"], 1),
        policy: "always",
        request_divisor: 4,
    },
    AofRow {
        workload: test("SET -P 16 appendfsync always", &["-t", "set"], 16),
        policy: "always",
        request_divisor: 4,
    },
];

/// Whether `--only` selects any AOF row.
pub fn selected(args: &Args) -> bool {
    ROWS.iter().any(|row| args.selects(row.workload.label))
}

/// Runs the selected AOF rows, `rounds` alternating rounds each, and prints them; returns the
/// throughput ratios (oxidis / redis).
pub fn run(
    bins: &[&Path; 2],
    logs: &Path,
    args: &Args,
    rounds: usize,
    requests: usize,
    ticks: f64,
) -> Result<Vec<f64>> {
    let rows: Vec<&AofRow> = ROWS
        .iter()
        .filter(|row| args.selects(row.workload.label))
        .collect();
    let mut samples: Vec<[Vec<Sample>; 2]> =
        rows.iter().map(|_| [Vec::new(), Vec::new()]).collect();
    for policy in ["everysec", "always"] {
        if !rows.iter().any(|row| row.policy == policy) {
            continue;
        }
        banner(&format!(
            "AOF: appendonly yes, appendfsync {policy}: {rounds} rounds, {CLIENTS_NOTE}"
        ));
        let servers = start_pair(bins, logs, policy)?;
        for server in &servers {
            warm_up(server.port)?;
        }
        for round in 0..rounds {
            println!("round {}/{rounds}", round + 1);
            let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for (index, row) in rows.iter().enumerate() {
                if row.policy != policy {
                    continue;
                }
                let requests = (requests / row.request_divisor).max(1);
                for &which in &order {
                    let sample = measure(&servers[which], &row.workload, requests, ticks)?;
                    samples[index][which].push(sample);
                }
            }
        }
    }

    println!();
    println!(
        "{:<30} {:>12} {:>12} {:>6}  {:>15} {:>15}  {:>10} {:>10}",
        "median",
        "oxidis ops/s",
        "redis ops/s",
        "ratio",
        "oxidis p50/p99",
        "redis p50/p99",
        "oxidis cpu",
        "redis cpu"
    );
    let mut ratios = Vec::new();
    for (row, per_server) in rows.iter().zip(&samples) {
        let [ours, theirs] = [summarize(&per_server[0]), summarize(&per_server[1])];
        let throughput_ratio = ratio(ours.rps, theirs.rps);
        ratios.push(throughput_ratio);
        println!(
            "{:<30} {:>12.0} {:>12.0} {:>6.2}  {:>15} {:>15}  {:>8.2}µs {:>8.2}µs",
            row.workload.label,
            ours.rps,
            theirs.rps,
            throughput_ratio,
            format!("{:.3}/{:.3}", ours.p50_ms, ours.p99_ms),
            format!("{:.3}/{:.3}", theirs.p50_ms, theirs.p99_ms),
            ours.cpu_us_per_request,
            theirs.cpu_us_per_request,
        );
    }
    println!(
        "bench: AOF SET throughput ratio {:.2} (min over rows {:.2}; target >= 1.0)",
        geometric_mean(&ratios),
        ratios.iter().copied().fold(f64::INFINITY, f64::min)
    );
    Ok(ratios)
}

/// What the banner says about the load.
const CLIENTS_NOTE: &str = "50 clients, redis-benchmark -t set";

/// Both servers with the AOF on under `policy`, each in its own fresh `dir`.
fn start_pair(bins: &[&Path; 2], logs: &Path, policy: &str) -> Result<[Server; 2]> {
    super::start_pair_with(
        bins,
        logs,
        &format!("aof-{policy}"),
        &["--appendonly", "yes", "--appendfsync", policy],
    )
}
