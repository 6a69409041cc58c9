//! `cargo xtask conformance`: the Redis 7.0.15 TCL suite against our server, checked against
//! `conformance/expected-failures.txt`.
//!
//! A unit runs in one of the suite's two modes:
//! - **external** (most `unit/*`): we start a fresh server and point the suite at it.
//! - **normal** (`integration/*`, and units marked `normal` in `conformance/units.txt`): the
//!   suite starts its own servers from `src/redis-server` with its own config files. Each such
//!   run gets a scratch copy of `tests/` beside a `src/` whose `redis-server` is the binary under
//!   test (and whose `redis-cli`, `redis-benchmark`, `redis-check-*` are Redis's tools), so runs
//!   side by side never share files.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::util::{self, Server, ServerOptions, banner};

/// Upstream version of the suite, and the Debian source package that carries it.
const SUITE_DIR: &str = "redis-7.0.15";
const APT_SOURCE: &str = "redis=5:7.0.15-1~deb12u10";

/// Tests of the Debian-patched tree that fail against real Redis 7.0.15 too.
const SKIPPED_TESTS: &[&str] = &[
    "RESTORE fail with invalid payload size",
    "/Fullsync should not free scripting engine",
];

/// Config that the suite expects to be allowed to use in external mode.
const SERVER_ARGS: &[&str] = &[
    "--enable-debug-command",
    "yes",
    "--enable-protected-configs",
    "yes",
    "--enable-module-command",
    "yes",
];

/// How long test clients may outlive the suite's main process before they are killed.
const STRAGGLER_GRACE: Duration = Duration::from_secs(5);

/// Default wall-clock limit per unit, in seconds.
pub const DEFAULT_UNIT_TIMEOUT: u64 = 600;

const UNITS_FILE: &str = "conformance/units.txt";
const EXPECTED_FILE: &str = "conformance/expected-failures.txt";

/// Options of `cargo xtask conformance`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Run against `redis-server` from PATH and only report counts.
    #[arg(long, conflicts_with = "compare")]
    pub reference: bool,
    /// Run every unit under both servers and print their counts side by side.
    #[arg(long)]
    pub compare: bool,
    /// Keep running the remaining units after a unit with unexpected results.
    #[arg(long)]
    pub keep_going: bool,
    /// Wall-clock limit per unit, in seconds; a unit that exceeds it is killed and fails.
    #[arg(long, default_value_t = DEFAULT_UNIT_TIMEOUT)]
    pub unit_timeout: u64,
    /// Use the existing release binary instead of running `cargo build --release` first.
    #[arg(long)]
    pub no_build: bool,
    /// Run the named units in the suite's normal mode (the suite starts the server itself);
    /// `integration/*` units always run that way.
    #[arg(long)]
    pub normal: bool,
    /// Units to run, e.g. `unit/type/incr` (default: conformance/units.txt).
    pub units: Vec<String>,
}

/// How the suite reaches the server under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// We start the server; the suite connects to it (`--host/--port`).
    External,
    /// The suite starts its own servers from `src/redis-server`.
    Normal,
}

/// A unit and the mode it runs in.
#[derive(Debug, Clone)]
struct Unit {
    name: String,
    mode: Mode,
}

impl Unit {
    /// `name`, in normal mode when asked or when it is an integration unit.
    fn new(name: &str, normal: bool) -> Unit {
        let mode = if normal || name.starts_with("integration/") {
            Mode::Normal
        } else {
            Mode::External
        };
        Unit {
            name: name.to_string(),
            mode,
        }
    }
}

/// The parsed output of one unit.
#[derive(Debug, Default)]
struct UnitRun {
    passed: Vec<String>,
    failed: Vec<String>,
    skipped: usize,
    ignored: usize,
    /// Why the unit did not complete (exception, timeout, crash), if it did not.
    aborted: Option<String>,
}

impl UnitRun {
    fn counts(&self) -> String {
        let mut text = format!(
            "{} ok, {} err, {} skip, {} ignore",
            self.passed.len(),
            self.failed.len(),
            self.skipped,
            self.ignored
        );
        if let Some(reason) = &self.aborted {
            text.push_str(&format!(", ABORTED ({reason})"));
        }
        text
    }
}

/// Expected failures: unit -> test name -> owner.
type ExpectedFailures = BTreeMap<String, BTreeMap<String, String>>;

/// How one unit's results compare with the expected-failures list.
#[derive(Debug, Default)]
struct Verdict {
    unexpected: Vec<String>,
    expected: usize,
    fixed: Vec<String>,
    stale: Vec<String>,
}

impl Verdict {
    fn judge(run: &UnitRun, listed: Option<&BTreeMap<String, String>>) -> Self {
        let empty = BTreeMap::new();
        let listed = listed.unwrap_or(&empty);
        let failed: HashSet<&str> = run.failed.iter().map(String::as_str).collect();
        let passed: HashSet<&str> = run.passed.iter().map(String::as_str).collect();
        let mut verdict = Self::default();
        let mut seen = HashSet::new();
        for name in &run.failed {
            if !seen.insert(name.as_str()) {
                continue;
            }
            if listed.contains_key(name) {
                verdict.expected += 1;
            } else {
                verdict.unexpected.push(name.clone());
            }
        }
        for name in listed.keys() {
            if failed.contains(name.as_str()) {
                continue;
            }
            if passed.contains(name.as_str()) {
                verdict.fixed.push(name.clone());
            } else if run.aborted.is_none() {
                verdict.stale.push(name.clone());
            }
        }
        verdict
    }

    /// Number of unexpected results.
    fn problems(&self) -> usize {
        self.unexpected.len() + self.fixed.len() + self.stale.len()
    }
}

/// Runs the suite; returns whether everything matched expectations.
pub fn run(args: &Args) -> Result<bool> {
    let root = util::workspace_root();
    let units = if args.units.is_empty() {
        read_units(&root.join(UNITS_FILE))?
    } else {
        args.units
            .iter()
            .map(|name| Unit::new(name, args.normal))
            .collect()
    };
    if units.is_empty() {
        bail!("no units to run");
    }
    let expected = if args.reference {
        ExpectedFailures::new()
    } else {
        read_expected(&root.join(EXPECTED_FILE))?
    };

    let suite = ensure_suite()?;
    let oxidis = if args.reference {
        None
    } else {
        Some(util::oxidis_server_bin(!args.no_build)?)
    };
    let redis = if args.reference || args.compare {
        Some(util::redis_server_bin()?)
    } else {
        None
    };
    let logs = conformance_dir().join("logs");
    let limit = Duration::from_secs(args.unit_timeout);

    let mut totals = Totals::default();
    for (index, unit) in units.iter().enumerate() {
        let mode = match unit.mode {
            Mode::External => "",
            Mode::Normal => " (normal mode)",
        };
        banner(&format!(
            "[{}/{}] {}{mode}",
            index + 1,
            units.len(),
            unit.name
        ));
        let reference = match &redis {
            Some(bin) => Some(run_unit(&suite, bin, unit, &logs.join("reference"), limit)?),
            None => None,
        };
        let problems = match (&oxidis, reference) {
            (Some(bin), reference) => {
                let run = run_unit(&suite, bin, unit, &logs, limit)?;
                let listed = expected.get(&unit.name);
                totals.check(&unit.name, &run, reference.as_ref(), listed, &logs)
            }
            (None, Some(reference)) => {
                println!("{}: {}", unit.name, reference.counts());
                totals.passed += reference.passed.len();
                totals.failed += reference.failed.len() + usize::from(reference.aborted.is_some());
                0
            }
            (None, None) => bail!("no server to run {} against", unit.name),
        };
        if problems > 0 && !args.keep_going && index + 1 < units.len() {
            println!("stopping after the first failing unit (--keep-going runs the rest)");
            break;
        }
    }

    if !totals.new_entries.is_empty() {
        let path = conformance_dir().join("new-failures.txt");
        fs::write(&path, totals.new_entries.join("\n") + "\n")?;
        println!(
            "unexpected failures, in expected-failures format: {}",
            path.display()
        );
    }
    if totals.expected > 0 {
        println!(
            "({} expected failures listed in {EXPECTED_FILE})",
            totals.expected
        );
    }
    println!(
        "conformance: {} passed, {} failed",
        totals.passed, totals.failed
    );
    Ok(args.reference || totals.failed == 0)
}

/// Running totals over all units.
#[derive(Debug, Default)]
struct Totals {
    passed: usize,
    /// Unexpected results (or, with --reference, all failures).
    failed: usize,
    expected: usize,
    /// Unexpected failures as lines ready to paste into the expected-failures file.
    new_entries: Vec<String>,
}

impl Totals {
    /// Judges and prints one unit's run; returns its number of unexpected results.
    fn check(
        &mut self,
        unit: &str,
        run: &UnitRun,
        reference: Option<&UnitRun>,
        listed: Option<&BTreeMap<String, String>>,
        logs: &Path,
    ) -> usize {
        let verdict = Verdict::judge(run, listed);
        let mut counts = run.counts();
        if verdict.expected > 0 {
            counts.push_str(&format!(" ({} expected)", verdict.expected));
        }
        match reference {
            Some(reference) => println!("{unit}: oxidis {counts} | redis {}", reference.counts()),
            None => println!("{unit}: {counts}"),
        }
        for name in &verdict.unexpected {
            println!("  FAIL (not in {EXPECTED_FILE}): {name}");
            self.new_entries.push(format!("{unit}\t{name}\t#? owner"));
        }
        for name in &verdict.fixed {
            println!("  PASSES NOW (remove it from {EXPECTED_FILE}): {name}");
        }
        for name in &verdict.stale {
            println!("  NOT RUN (listed in {EXPECTED_FILE}; remove or rename it): {name}");
        }
        if run.aborted.is_some() {
            println!(
                "  unit did not complete; see {} and {}",
                unit_log(logs, unit).display(),
                server_log(logs, unit).display()
            );
        }
        let problems = verdict.problems() + usize::from(run.aborted.is_some());
        self.passed += run.passed.len();
        self.failed += problems;
        self.expected += verdict.expected;
        problems
    }
}

/// `<root>/.conformance`, where the suite, logs and scratch files live.
fn conformance_dir() -> PathBuf {
    util::workspace_root().join(".conformance")
}

/// The suite's output for a unit: `<logs>/<unit>.log`.
fn unit_log(logs: &Path, unit: &str) -> PathBuf {
    logs.join(format!("{unit}.log"))
}

/// The server's output while it served a unit.
fn server_log(logs: &Path, unit: &str) -> PathBuf {
    logs.join(format!("{unit}.server.log"))
}

/// Reads a list file: one entry per line, `#` comments, blank lines ignored.
fn read_list(path: &Path) -> Result<Vec<(usize, String)>> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .map(|(index, line)| (index + 1, line.trim_end_matches('\r').to_string()))
        .collect())
}

/// The units file: one unit per line, optionally followed by `normal`.
fn read_units(path: &Path) -> Result<Vec<Unit>> {
    read_list(path)?
        .into_iter()
        .map(
            |(number, line)| match line.split_whitespace().collect::<Vec<_>>()[..] {
                [name] => Ok(Unit::new(name, false)),
                [name, "normal"] => Ok(Unit::new(name, true)),
                _ => bail!(
                    "{}:{number}: expected `unit` or `unit normal`, got {line:?}",
                    path.display()
                ),
            },
        )
        .collect()
}

fn read_expected(path: &Path) -> Result<ExpectedFailures> {
    let mut expected = ExpectedFailures::new();
    if !path.exists() {
        return Ok(expected);
    }
    for (number, line) in read_list(path)? {
        let fields: Vec<&str> = line.split('\t').collect();
        let [unit, name, owner] = fields[..] else {
            bail!(
                "{}:{number}: expected `unit<TAB>test name<TAB>owner`, got {line:?}",
                path.display()
            );
        };
        if owner.trim().is_empty() {
            bail!(
                "{}:{number}: every expected failure needs an owner",
                path.display()
            );
        }
        expected
            .entry(unit.trim().to_string())
            .or_default()
            .insert(name.to_string(), owner.to_string());
    }
    Ok(expected)
}

/// Makes sure tclsh, redis-server and the suite source exist; returns the suite root.
fn ensure_suite() -> Result<PathBuf> {
    util::ensure_tools(&[
        ("tclsh", "tcl"),
        ("redis-server", "redis-server"),
        ("redis-cli", "redis-tools"),
    ])?;
    let dir = conformance_dir();
    let suite = dir.join(SUITE_DIR);
    if suite.join("tests/test_helper.tcl").is_file() {
        return Ok(suite);
    }
    banner(&format!(
        "fetching the Redis test suite into {}",
        dir.display()
    ));
    fs::create_dir_all(&dir)?;
    util::ensure_tools(&[("dpkg-source", "dpkg-dev")])?;
    if !has_deb_src()? {
        add_deb_src(&dir)?;
    }
    util::run(util::root_command("apt-get").arg("update"))?;
    let exact = util::run(
        Command::new("apt-get")
            .args(["source", APT_SOURCE])
            .current_dir(&dir),
    );
    if let Err(err) = exact {
        println!("{err:#}; falling back to the newest `redis` source package");
        util::run(
            Command::new("apt-get")
                .args(["source", "redis"])
                .current_dir(&dir),
        )?;
    }
    if suite.join("tests/test_helper.tcl").is_file() {
        return Ok(suite);
    }
    // The fallback may have unpacked another version.
    for entry in fs::read_dir(&dir)? {
        let path = entry?.path();
        let is_redis = path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with("redis-"));
        if is_redis && path.join("tests/test_helper.tcl").is_file() {
            println!("warning: using {} instead of {SUITE_DIR}", path.display());
            return Ok(path);
        }
    }
    bail!("apt-get source did not produce {}", suite.display())
}

/// Whether any apt source list has a `deb-src` entry.
fn has_deb_src() -> Result<bool> {
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(entries) = fs::read_dir("/etc/apt/sources.list.d") {
        for entry in entries {
            files.push(entry?.path());
        }
    }
    let is_source_file = |path: &Path| {
        path.extension()
            .is_some_and(|ext| ext == "list" || ext == "sources")
    };
    Ok(files
        .iter()
        .filter(|path| is_source_file(path))
        .any(|path| {
            fs::read_to_string(path)
                .unwrap_or_default()
                .lines()
                .map(str::trim)
                .any(|line| {
                    line.starts_with("deb-src ")
                        || (line.starts_with("Types:")
                            && line.split_whitespace().any(|t| t == "deb-src"))
                })
        }))
}

/// Adds `deb-src` twins of the binary apt sources.
fn add_deb_src(scratch: &Path) -> Result<()> {
    let deb822 = Path::new("/etc/apt/sources.list.d/debian.sources");
    let (name, text) = if deb822.is_file() {
        (
            "debian-src.sources",
            deb822_as_source(&fs::read_to_string(deb822)?),
        )
    } else {
        let list = fs::read_to_string("/etc/apt/sources.list")
            .context("no /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list")?;
        ("debian-src.list", one_line_as_source(&list))
    };
    let staged = scratch.join(name);
    fs::write(&staged, text)?;
    let target = Path::new("/etc/apt/sources.list.d").join(name);
    println!("adding apt source {}", target.display());
    util::run(util::root_command("cp").arg(&staged).arg(&target))
}

/// A deb822 sources file with every stanza switched to `Types: deb-src`.
fn deb822_as_source(text: &str) -> String {
    text.lines()
        .map(|line| {
            if line.trim_start().starts_with("Types:") {
                "Types: deb-src"
            } else {
                line
            }
        })
        .map(|line| format!("{line}\n"))
        .collect()
}

/// `deb-src` twins of the `deb` lines of a one-line-style sources.list.
fn one_line_as_source(text: &str) -> String {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("deb "))
        .map(|rest| format!("deb-src {rest}\n"))
        .collect()
}

/// Runs one unit against a fresh server started from `bin`.
fn run_unit(
    suite: &Path,
    bin: &Path,
    unit: &Unit,
    logs: &Path,
    limit: Duration,
) -> Result<UnitRun> {
    let name = unit.name.as_str();
    let (output, server_alive) = match unit.mode {
        Mode::External => {
            let options = ServerOptions {
                label: &name.replace('/', "-"),
                log: server_log(logs, name),
                extra_args: SERVER_ARGS,
            };
            let mut server = match Server::start(bin, &options) {
                Ok(server) => server,
                Err(err) => {
                    println!("  cannot start {}: {err:#}", bin.display());
                    let aborted = Some("the server did not start".to_string());
                    return Ok(UnitRun {
                        aborted,
                        ..UnitRun::default()
                    });
                }
            };
            let target = SuiteTarget::External { port: server.port };
            let output = run_suite(suite, target, name, &unit_log(logs, name), limit)?;
            (output, server.is_alive())
        }
        Mode::Normal => {
            let scratch = normal_mode_tree(suite, bin, name)?;
            let target = SuiteTarget::Normal {
                base_port: util::free_port()?,
            };
            let output = run_suite(&scratch, target, name, &unit_log(logs, name), limit)?;
            let completed = unit_completed(&output.lines) && !output.timed_out;
            if completed {
                // Kept when the unit did not finish: its tests/tmp holds the servers' logs.
                let _ = fs::remove_dir_all(&scratch);
            }
            (output, true)
        }
    };

    let mut run = parse_output(&output.lines);
    if run.aborted.is_none() {
        run.aborted = if output.timed_out {
            Some(format!("killed after the {}s unit limit", limit.as_secs()))
        } else if !server_alive {
            Some("the server exited during the unit".to_string())
        } else if !unit_completed(&output.lines) {
            Some(format!(
                "the suite stopped before finishing the unit ({})",
                output.status
            ))
        } else {
            None
        };
    }
    Ok(run)
}

/// Redis's tools the suite runs from `src/`, beside the server under test.
const SUITE_TOOLS: &[&str] = &[
    "redis-cli",
    "redis-benchmark",
    "redis-check-aof",
    "redis-check-rdb",
];

/// A scratch suite tree for one normal-mode run: a copy of `tests/` and a `src/` of symlinks,
/// `src/redis-server` being `bin`.
fn normal_mode_tree(suite: &Path, bin: &Path, unit: &str) -> Result<PathBuf> {
    // Under the system temp dir with a short name: the suite puts each server's unix socket in
    // tests/tmp/server.<test-name>.<pid>.<n>/socket, and a socket path must fit in 107 bytes
    // (a deep checkout made every server fail to start).
    let scratch = std::env::temp_dir().join(format!(
        "oxc-{}-{}",
        std::process::id(),
        unit.rsplit('/')
            .next()
            .unwrap_or(unit)
            .chars()
            .take(8)
            .collect::<String>()
    ));
    if scratch.exists() {
        fs::remove_dir_all(&scratch)?;
    }
    copy_tree(&suite.join("tests"), &scratch.join("tests"))?;
    let src = scratch.join("src");
    fs::create_dir_all(&src)?;
    let bin = fs::canonicalize(bin).with_context(|| format!("no binary at {}", bin.display()))?;
    std::os::unix::fs::symlink(&bin, src.join("redis-server"))?;
    for tool in SUITE_TOOLS {
        let path = util::which(tool).with_context(|| format!("{tool} not found on PATH"))?;
        std::os::unix::fs::symlink(path, src.join(tool))?;
    }
    Ok(scratch)
}

/// Copies the directory `from` to `to`, recursively (files and directories only).
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)
                .with_context(|| format!("cannot copy {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Where the suite finds the server.
#[derive(Debug, Clone, Copy)]
enum SuiteTarget {
    /// A server we started, on this port.
    External { port: u16 },
    /// The suite starts servers itself, allocating ports from near this one.
    Normal { base_port: u16 },
}

/// What the suite printed for one unit.
struct SuiteOutput {
    /// stdout and stderr lines, colour codes removed.
    lines: Vec<String>,
    /// Whether the unit's wall-clock limit killed it.
    timed_out: bool,
    status: ExitStatus,
}

/// Runs `tclsh tests/test_helper.tcl` for one unit against the server on `port`, copying its
/// output to `log_path` and echoing failures live.
fn run_suite(
    suite: &Path,
    target: SuiteTarget,
    unit: &str,
    log_path: &Path,
    limit: Duration,
) -> Result<SuiteOutput> {
    if let Some(parent) = log_path.parent() {
        fs::create_dir_all(parent)?;
    }
    let mut log = fs::File::create(log_path)
        .with_context(|| format!("cannot create {}", log_path.display()))?;
    let mut cmd = Command::new("tclsh");
    cmd.arg("tests/test_helper.tcl");
    let port = match target {
        SuiteTarget::External { port } => {
            cmd.args(["--host", "127.0.0.1", "--port", &port.to_string()]);
            port
        }
        SuiteTarget::Normal { base_port } => base_port,
    };
    cmd.args(["--single", unit])
        .args(["--clients", "1", "--tags", "-slow", "--durable"])
        .args(["--timeout", &limit.as_secs().clamp(1, 600).to_string()])
        // The suite's own coordination port sits 32 below its base port; derive the base from
        // our server's (free) port so runs side by side on one machine never collide.
        .args(["--baseport", &suite_base_port(port).to_string()]);
    for test in SKIPPED_TESTS {
        cmd.args(["--skiptest", test]);
    }
    cmd.current_dir(suite)
        .env("TERM", "dumb")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd.spawn().context("cannot start tclsh")?;
    let (sender, receiver) = mpsc::channel();
    let stdout = child.stdout.take().context("no stdout pipe")?;
    let stderr = child.stderr.take().context("no stderr pipe")?;
    let readers = [
        forward_lines(stdout, sender.clone()),
        forward_lines(stderr, sender),
    ];

    let deadline = Instant::now() + limit;
    let mut lines = Vec::new();
    let mut echo_next = false;
    let mut timed_out = false;
    let mut exited_at = None;
    loop {
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .min(Duration::from_secs(1));
        match receiver.recv_timeout(wait) {
            Ok(line) => {
                writeln!(log, "{line}")?;
                let clean = strip_ansi(&line);
                // Show failures live, with the assertion line that follows each `[err]`.
                if echo_next || is_alarming(&clean) {
                    println!("  {clean}");
                }
                echo_next = clean.starts_with("[err]:");
                lines.push(clean);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() >= deadline => {
                timed_out = true;
                writeln!(log, "[xtask] killed after {limit:?}")?;
                break;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // tclsh is gone but a straggling test client may still hold the pipes open.
                if child.try_wait()?.is_some() {
                    let since: Instant = *exited_at.get_or_insert_with(Instant::now);
                    if since.elapsed() > STRAGGLER_GRACE {
                        break;
                    }
                }
            }
        }
    }
    // The suite's test clients share tclsh's process group; make sure none outlives the unit.
    util::kill_process_group(child.id());
    let status = child.wait()?;
    for reader in readers {
        // A reader only ends at EOF; a panic there would be a bug worth ignoring here.
        let _ = reader.join();
    }
    Ok(SuiteOutput {
        lines,
        timed_out,
        status,
    })
}

/// Sends each line read from `source` into `sender` until EOF.
fn forward_lines(
    source: impl Read + Send + 'static,
    sender: mpsc::Sender<String>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(source);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf)
                        .trim_end_matches(['\r', '\n'])
                        .to_string();
                    if sender.send(line).is_err() {
                        return;
                    }
                }
            }
        }
    })
}

/// Lines worth showing live.
fn is_alarming(line: &str) -> bool {
    [
        "[err]:",
        "[exception]:",
        "[TIMEOUT]:",
        "Killing still running",
    ]
    .iter()
    .any(|p| line.starts_with(p))
}

/// Removes ANSI colour sequences, in case the suite colours its output anyway.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip `ESC [ ... letter`.
            for next in chars.by_ref() {
                if next.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether the suite reported the unit as done (`[1/1 done]: unit/x (3 seconds)`).
fn unit_completed(lines: &[String]) -> bool {
    lines
        .iter()
        .any(|line| line.starts_with('[') && line.contains(" done]: "))
}

/// Parses the suite's output into per-test results.
fn parse_output(lines: &[String]) -> UnitRun {
    let mut run = UnitRun::default();
    for line in lines {
        if let Some(rest) = line.strip_prefix("[ok]: ") {
            let name = rest.rsplit_once(" (").map_or(rest, |(name, _)| name);
            run.passed.push(name.to_string());
        } else if let Some(rest) = line.strip_prefix("[err]: ") {
            let name = rest
                .rsplit_once(" in tests/")
                .map_or(rest, |(name, _)| name);
            run.failed.push(name.to_string());
        } else if line.starts_with("[skip]: ") {
            run.skipped += 1;
        } else if line.starts_with("[ignore]: ") {
            run.ignored += 1;
        } else if let Some(rest) = line.strip_prefix("[exception]: ") {
            run.aborted
                .get_or_insert_with(|| format!("exception: {}", rest.trim()));
        } else if line.starts_with("[TIMEOUT]") {
            run.aborted
                .get_or_insert_with(|| "the suite's own timeout fired".to_string());
        }
    }
    run
}

/// A base port for the suite's helper sockets, unique per server port, between 10000 and
/// 29200: below Linux's ephemeral range (32768 and up), so no outgoing connection can hold it.
fn suite_base_port(server_port: u16) -> u16 {
    10_000 + (server_port % 300) * 64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn parses_results_and_strips_suffixes() {
        let run = parse_output(&lines(
            "[ready]: 3044\nTesting unit/x\n[ok]: INCR (fast) works (1 ms)\n\
             [err]: DECR in tests/unit/x.tcl\nExpected 1 == 2\n[skip]: A\n\
             [ignore]: B: tag slow\n[1/1 done]: unit/x (0 seconds)\n\
             *** [err]: DECR in tests/unit/x.tcl",
        ));
        assert_eq!(run.passed, vec!["INCR (fast) works"]);
        assert_eq!(run.failed, vec!["DECR"]);
        assert_eq!((run.skipped, run.ignored), (1, 1));
        assert_eq!(run.aborted, None);
    }

    #[test]
    fn exception_aborts_the_unit() {
        let run = parse_output(&lines("[exception]: Executing test client: boom.\nmore"));
        assert_eq!(
            run.aborted.as_deref(),
            Some("exception: Executing test client: boom.")
        );
    }

    #[test]
    fn verdict_flags_new_fixed_and_stale_entries() {
        let run = UnitRun {
            passed: vec!["fixed".into(), "fine".into()],
            failed: vec!["known".into(), "new".into()],
            ..UnitRun::default()
        };
        let listed: BTreeMap<String, String> = ["known", "fixed", "gone"]
            .iter()
            .map(|n| (n.to_string(), "#1".to_string()))
            .collect();
        let verdict = Verdict::judge(&run, Some(&listed));
        assert_eq!(verdict.unexpected, vec!["new"]);
        assert_eq!(verdict.expected, 1);
        assert_eq!(verdict.fixed, vec!["fixed"]);
        assert_eq!(verdict.stale, vec!["gone"]);
        assert_eq!(verdict.problems(), 3);
    }

    #[test]
    fn writes_source_twins_of_apt_lists() {
        let deb822 = "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm\n\n\
                      Types: deb\nURIs: http://deb.debian.org/debian-security\n";
        assert_eq!(
            deb822_as_source(deb822),
            "Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\n\n\
             Types: deb-src\nURIs: http://deb.debian.org/debian-security\n"
        );
        let list = "# comment\ndeb http://deb.debian.org/debian bookworm main\n";
        assert_eq!(
            one_line_as_source(list),
            "deb-src http://deb.debian.org/debian bookworm main\n"
        );
    }

    #[test]
    fn strips_colour_codes() {
        assert_eq!(
            strip_ansi("[\u{1b}[0;32mok\u{1b}[0m]: X (1 ms)"),
            "[ok]: X (1 ms)"
        );
    }
}
