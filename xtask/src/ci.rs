//! `cargo xtask ci`: every check CI runs, in order, stopping at the first failure.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::conformance;
use crate::util::{self, banner, cargo};

/// Total time budget of the fuzz step, shared by all targets.
const FUZZ_SECONDS: u64 = 30;
/// No target gets less than this.
const FUZZ_MIN_SECONDS_PER_TARGET: u64 = 5;

/// Options of `cargo xtask ci`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Run only this step (rustfmt, clippy, tests, no-default-features, fuzz, release,
    /// crosscheck, interop, conformance), e.g. to retry the one that failed.
    #[arg(long)]
    pub only: Option<String>,
}

/// A CI step: runs one check, failing with a message.
type StepFn = fn() -> Result<()>;

/// The steps before conformance, by name, in order.
const STEPS: &[(&str, StepFn)] = &[
    ("rustfmt", fmt),
    ("clippy", clippy),
    ("tests", tests),
    ("no-default-features", no_default_features),
    ("fuzz", fuzz),
    ("release", util::build_release),
    ("crosscheck", crosscheck),
    ("interop", interop),
];

const CONFORMANCE_STEP: &str = "conformance";

/// Runs all steps and then the conformance suite; returns whether everything passed.
pub fn run(args: &Args) -> Result<bool> {
    if let Some(only) = &args.only {
        let known = STEPS.iter().any(|(name, _)| name == only) || only == CONFORMANCE_STEP;
        if !known {
            let names: Vec<&str> = STEPS.iter().map(|(name, _)| *name).collect();
            bail!(
                "unknown step {only:?}; steps: {}, {CONFORMANCE_STEP}",
                names.join(", ")
            );
        }
    }
    let selected = |name: &str| args.only.as_deref().is_none_or(|only| only == name);
    let total = STEPS.len() + 1;
    for (index, (name, step)) in STEPS.iter().enumerate() {
        if !selected(name) {
            continue;
        }
        banner(&format!("ci step {}/{total}: {}", index + 1, name));
        if let Err(err) = step() {
            println!("error: {err:#}");
            println!("ci: step `{}` failed", name);
            return Ok(false);
        }
    }
    if !selected(CONFORMANCE_STEP) {
        return Ok(true);
    }
    banner(&format!("ci step {total}/{total}: {CONFORMANCE_STEP}"));
    conformance::run(&conformance::Args {
        reference: false,
        compare: false,
        keep_going: true,
        no_build: true,
        unit_timeout: conformance::DEFAULT_UNIT_TIMEOUT,
        normal: false,
        units: Vec::new(),
    })
}

/// HyperLogLog and geo answers against a real redis-server (needs the release build).
fn crosscheck() -> Result<()> {
    let args = crate::crosscheck::Args {
        seed: 7,
        hlls: 1000,
        geo_sets: 200,
        no_build: true,
    };
    if !crate::crosscheck::run(&args)? {
        bail!("oxidis-server and redis-server answered differently");
    }
    Ok(())
}

fn fmt() -> Result<()> {
    util::run(cargo().args(["fmt", "--all", "--", "--check"]))
}

fn clippy() -> Result<()> {
    util::run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))
}

fn tests() -> Result<()> {
    if util::which("cargo-nextest").is_some() {
        util::run(cargo().args(["nextest", "run", "--workspace", "--no-tests=warn"]))?;
        util::run(cargo().args(["test", "--doc", "--workspace"]))
    } else {
        util::run(cargo().args(["test", "--workspace"]))
    }
}

/// RDB files and DUMP payloads against a real redis-server, both ways (`cargo xtask interop`).
fn interop() -> Result<()> {
    if crate::interop::run(&crate::interop::Args { no_build: true })? {
        Ok(())
    } else {
        bail!("interop mismatches")
    }
}

fn no_default_features() -> Result<()> {
    util::run(cargo().args(["build", "-p", "oxidis-server", "--no-default-features"]))
}

/// A bounded libFuzzer run of every target in `protocol/fuzz`, if the toolchain can build them.
fn fuzz() -> Result<()> {
    let protocol = util::workspace_root().join("protocol");
    if !protocol.join("fuzz/Cargo.toml").is_file() {
        println!("fuzz: SKIPPED (protocol/fuzz does not exist)");
        return Ok(());
    }
    if !cargo_fuzz_installed() {
        println!("cargo-fuzz is not installed; trying `cargo install cargo-fuzz --locked`");
        if let Err(err) = util::run(cargo().args(["install", "cargo-fuzz", "--locked"])) {
            println!("fuzz: SKIPPED (cargo-fuzz cannot be installed here: {err:#})");
            return Ok(());
        }
    }
    if let Err(err) = probe_sanitizer_toolchain() {
        println!(
            "fuzz: SKIPPED (this toolchain cannot build sanitizer-instrumented code: {err:#})"
        );
        return Ok(());
    }
    let listing = util::output(&mut fuzz_command(&protocol, "list"))?;
    let targets: Vec<&str> = listing
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    if targets.is_empty() {
        bail!("protocol/fuzz has no fuzz targets");
    }
    let per_target = (FUZZ_SECONDS / targets.len() as u64).max(FUZZ_MIN_SECONDS_PER_TARGET);
    for target in targets {
        util::run(
            fuzz_command(&protocol, "run")
                .args([target, "--"])
                .arg(format!("-max_total_time={per_target}")),
        )
        .with_context(|| format!("fuzz target {target} failed (see protocol/fuzz/artifacts)"))?;
    }
    Ok(())
}

fn cargo_fuzz_installed() -> bool {
    util::succeeds(cargo().args(["fuzz", "--version"]))
}

/// `cargo fuzz <subcommand>` for `protocol/fuzz`, allowed to use nightly flags on a stable
/// toolchain.
fn fuzz_command(protocol: &Path, subcommand: &str) -> Command {
    let mut cmd = cargo();
    cmd.args(["fuzz", subcommand, "--fuzz-dir"])
        .arg(protocol.join("fuzz"))
        .current_dir(protocol)
        .env("RUSTC_BOOTSTRAP", "1");
    cmd
}

/// Compiles and runs a tiny program with the flags cargo-fuzz uses, to tell "this machine cannot
/// fuzz" apart from "the fuzz targets are broken".
fn probe_sanitizer_toolchain() -> Result<()> {
    let dir = util::target_dir().join("xtask").join("fuzz-probe");
    fs::create_dir_all(&dir)?;
    let source = dir.join("probe.rs");
    fs::write(&source, "fn main() { println!(\"ok\"); }\n")?;
    let binary = dir.join("probe");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let compiled = Command::new(rustc)
        .env("RUSTC_BOOTSTRAP", "1")
        .args(["-Zsanitizer=address", "-Cpasses=sancov-module"])
        .args([
            "-Cllvm-args=-sanitizer-coverage-level=4",
            "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
        ])
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .output()
        .context("cannot start rustc")?;
    if !compiled.status.success() {
        bail!("{}", String::from_utf8_lossy(&compiled.stderr).trim());
    }
    let ran = util::output(&mut Command::new(&binary))?;
    if ran.trim() != "ok" {
        bail!("the instrumented probe printed {ran:?}");
    }
    Ok(())
}
