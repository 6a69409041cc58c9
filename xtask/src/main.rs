//! Project automation for Oxidis (`cargo xtask <command>`).
//!
//! Every subcommand ends with one stable summary line, e.g. `conformance: 812 passed, 3 failed`
//! or `bench: throughput ratio 1.07 (min over rows 0.95), cpu ratio 0.98, memory ratio 0.92`.

mod bench;
mod ci;
mod conformance;
mod crash;
mod crosscheck;
mod interop;
mod soak;
mod util;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Oxidis project tasks.
#[derive(Debug, Parser)]
#[command(
    name = "xtask",
    bin_name = "cargo xtask",
    about = "Oxidis project tasks"
)]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// fmt, clippy -D warnings, tests, --no-default-features build, fuzz, release build, RDB
    /// interop with redis-server and the conformance units, stopping at the first failure.
    Ci(ci::Args),
    /// Run the Redis 7.0.15 TCL suite in external mode against a fresh server per unit.
    Conformance(conformance::Args),
    /// RDB files and DUMP payloads between redis-server and oxidis-server, both ways.
    Interop(interop::Args),
    /// Compare oxidis-server with redis-server using redis-benchmark and a memory load.
    Bench(bench::Args),
    /// Pub/sub and writes under maxmemory for a bounded time: replies, RSS, slow subscribers.
    Soak(soak::Args),
    /// Run the same random HyperLogLog and geo commands on redis-server and oxidis-server and
    /// compare every answer.
    Crosscheck(crosscheck::Args),
    /// SIGKILL the server at random moments under acknowledged INCRs with `appendfsync
    /// always`, restart it on its AOF, and check that no acknowledged write was lost.
    Crash(crash::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Task::Ci(args) => ci::run(args),
        Task::Conformance(args) => conformance::run(args),
        Task::Interop(args) => interop::run(args),
        Task::Bench(args) => bench::run(args),
        Task::Soak(args) => soak::run(args),
        Task::Crosscheck(args) => crosscheck::run(args),
        Task::Crash(args) => crash::run(args),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
