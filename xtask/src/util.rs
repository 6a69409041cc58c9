//! Helpers shared by the subcommands: paths, child processes, servers, ports and `/proc`.

use std::ffi::OsStr;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

/// Environment variable that overrides the oxidis-server binary (skips the release build).
pub const OXIDIS_SERVER_BIN: &str = "OXIDIS_SERVER_BIN";
/// Environment variable that overrides the reference `redis-server` binary.
pub const REDIS_SERVER_BIN: &str = "REDIS_SERVER_BIN";

/// The workspace root (the parent of this crate's folder).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The cargo target directory (`CARGO_TARGET_DIR` or `<root>/target`).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        }
        None => workspace_root().join("target"),
    }
}

/// Prints a section header so long logs are easy to scan.
pub fn banner(text: &str) {
    println!("==> {text}");
}

/// Renders a command line for messages (the program by its file name only).
pub fn describe(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program());
    let program = program.file_name().unwrap_or(program.as_os_str());
    let mut parts = vec![program.to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|arg| {
        let arg = arg.to_string_lossy();
        if arg.is_empty() || arg.contains(' ') {
            format!("{arg:?}")
        } else {
            arg.into_owned()
        }
    }));
    parts.join(" ")
}

/// Runs a command with inherited stdio and fails unless it exits successfully.
pub fn run(cmd: &mut Command) -> Result<()> {
    let line = describe(cmd);
    println!("$ {line}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot start `{line}`"))?;
    if !status.success() {
        bail!("`{line}` failed ({status})");
    }
    Ok(())
}

/// Runs a command quietly and tells whether it could be started and exited successfully.
pub fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Runs a command and returns its stdout (stderr is inherited), failing on a non-zero exit.
pub fn output(cmd: &mut Command) -> Result<String> {
    let line = describe(cmd);
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot start `{line}`"))?;
    if !out.status.success() {
        bail!("`{line}` failed ({})", out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A `cargo` command, honouring the `CARGO` variable cargo sets for us.
pub fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root());
    cmd
}

/// Finds an executable on `PATH`.
pub fn which(name: impl AsRef<OsStr>) -> Option<PathBuf> {
    let name = name.as_ref();
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A command run as root: directly when we are root, through `sudo` otherwise.
pub fn root_command(program: &str) -> Command {
    let is_root = output(Command::new("id").arg("-u")).is_ok_and(|uid| uid.trim() == "0");
    if is_root || which("sudo").is_none() {
        Command::new(program)
    } else {
        let mut cmd = Command::new("sudo");
        cmd.arg(program);
        cmd
    }
}

/// Installs Debian packages with apt (after one `apt-get update`).
pub fn apt_install(packages: &[&str]) -> Result<()> {
    if which("apt-get").is_none() {
        bail!("apt-get not found: install {} yourself", packages.join(" "));
    }
    run(root_command("apt-get").arg("update"))?;
    run(root_command("apt-get")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(["install", "-y", "--no-install-recommends"])
        .args(packages))
}

/// Makes sure the given tools are on `PATH`, installing their Debian packages if not.
/// Each entry is `(executable, package)`.
pub fn ensure_tools(tools: &[(&str, &str)]) -> Result<()> {
    let mut missing: Vec<&str> = tools
        .iter()
        .filter(|(exe, _)| which(exe).is_none())
        .map(|(_, pkg)| *pkg)
        .collect();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    banner(&format!("installing {}", missing.join(" ")));
    apt_install(&missing)?;
    for (exe, _) in tools {
        if which(exe).is_none() {
            bail!("`{exe}` is still missing after installing its package");
        }
    }
    Ok(())
}

/// Builds the release server and CLI.
pub fn build_release() -> Result<()> {
    banner("building release oxidis-server and oxidis-cli");
    run(cargo().args([
        "build",
        "--release",
        "-p",
        "oxidis-server",
        "-p",
        "oxidis-cli",
    ]))
}

/// The oxidis-server binary: `$OXIDIS_SERVER_BIN`, or the release build (built first if
/// `build` is set).
pub fn oxidis_server_bin(build: bool) -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os(OXIDIS_SERVER_BIN) {
        let bin = PathBuf::from(bin);
        println!("using {OXIDIS_SERVER_BIN}={}", bin.display());
        return Ok(bin);
    }
    if build {
        build_release()?;
    }
    let bin = target_dir().join("release").join("oxidis-server");
    if !bin.is_file() {
        bail!(
            "{} does not exist (build it with `cargo build --release -p oxidis-server`)",
            bin.display()
        );
    }
    Ok(bin)
}

/// The reference server binary: `$REDIS_SERVER_BIN` or `redis-server` from `PATH`.
pub fn redis_server_bin() -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os(REDIS_SERVER_BIN) {
        return Ok(PathBuf::from(bin));
    }
    which("redis-server").context("redis-server not found on PATH")
}

/// A loopback port that was free a moment ago (bind port 0, read it, release it).
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind a loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// A fresh, empty directory under the system temp folder.
pub fn temp_dir(label: &str) -> Result<PathBuf> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "oxidis-xtask-{label}-{}-{nanos}",
        std::process::id()
    ));
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// A running server process on a loopback port, killed (and its data dir removed) on drop.
pub struct Server {
    /// The TCP port it listens on.
    pub port: u16,
    child: Child,
    dir: PathBuf,
    log: PathBuf,
}

/// How a server is started.
pub struct ServerOptions<'a> {
    /// Short name used for the data directory.
    pub label: &'a str,
    /// Where the server's stdout and stderr go.
    pub log: PathBuf,
    /// Config arguments beyond port, bind, dir and persistence.
    pub extra_args: &'a [&'a str],
}

impl Server {
    /// Starts `bin` with redis-server's command line on a free port and waits until it answers
    /// PING.
    pub fn start(bin: &Path, options: &ServerOptions<'_>) -> Result<Self> {
        let port = free_port()?;
        let dir = temp_dir(options.label)?;
        if let Some(parent) = options.log.parent() {
            fs::create_dir_all(parent)?;
        }
        let log = fs::File::create(&options.log)
            .with_context(|| format!("cannot create {}", options.log.display()))?;
        let mut cmd = Command::new(bin);
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .args(options.extra_args)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let mut server = Self {
            port,
            child,
            dir,
            log: options.log.clone(),
        };
        server.wait_ready(Duration::from_secs(20))?;
        Ok(server)
    }

    /// The operating-system process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "server exited ({status}) before answering PING; log {}:\n{}",
                    self.log.display(),
                    tail(&self.log, 20)
                );
            }
            if ping(self.port).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "server did not answer PING on port {} within {limit:?}",
                    self.port
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the process is still running.
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Errors here mean the process is already gone; nothing useful to do about them.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Sends an inline `PING` and expects `+PONG`.
pub fn ping(port: u16) -> Result<()> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.write_all(b"PING\r\n")?;
    let mut buf = [0u8; 64];
    let n = stream.read(&mut buf)?;
    if !buf[..n].starts_with(b"+PONG") {
        bail!(
            "unexpected PING reply {:?}",
            String::from_utf8_lossy(&buf[..n])
        );
    }
    Ok(())
}

/// The last `lines` lines of a text file (empty if it cannot be read).
pub fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Kills a whole process group with SIGKILL (`kill -9 -PGID`).
pub fn kill_process_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-9", "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
}

/// Clock ticks per second for `/proc/<pid>/stat` (`getconf CLK_TCK`, 100 if unknown).
pub fn clock_ticks_per_second() -> f64 {
    output(Command::new("getconf").arg("CLK_TCK"))
        .ok()
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|ticks| *ticks > 0.0)
        .unwrap_or(100.0)
}

/// User plus system CPU time of a process (all threads), in clock ticks.
pub fn cpu_ticks(pid: u32) -> Result<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat"))?;
    // Fields after the parenthesised command name start at field 3 (state);
    // utime and stime are fields 14 and 15.
    let after_comm = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("malformed stat")?;
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    let field = |index: usize| -> Result<u64> {
        fields
            .get(index)
            .context("short stat line")?
            .parse::<u64>()
            .context("bad stat field")
    };
    Ok(field(11)? + field(12)?)
}

/// Resident set size of a process in bytes (`VmRSS` of `/proc/<pid>/status`).
pub fn rss_bytes(pid: u32) -> Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .context("no VmRSS")?;
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .context("malformed VmRSS")?
        .parse()
        .context("malformed VmRSS")?;
    Ok(kib * 1024)
}

/// Median of a list of numbers (0 for an empty list).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Geometric mean of positive numbers (0 for an empty list).
pub fn geometric_mean(values: &[f64]) -> f64 {
    let positive: Vec<f64> = values.iter().copied().filter(|v| *v > 0.0).collect();
    if positive.is_empty() {
        return 0.0;
    }
    (positive.iter().map(|v| v.ln()).sum::<f64>() / positive.len() as f64).exp()
}
