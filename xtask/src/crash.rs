//! `cargo xtask crash`: no acknowledged write is lost with `appendfsync always`.
//!
//! A server runs with `appendonly yes` and `appendfsync always` in a directory kept across
//! restarts. A writer pipelines `INCR counter` and counts the replies it gets (each one an
//! acknowledged write); meanwhile the server is SIGKILLed at a random moment, restarted on the
//! same directory, and the counter read back: it must be at least the number of INCRs ever
//! acknowledged (and at most the number ever sent). 20 kills, 100,000 acknowledged INCRs in
//! all by default.
//!
//! Summary line: `crash: ok, <n> kills, <n> acknowledged, <n> sent, final value <n>`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use crate::util::{self, banner};

/// Options of `cargo xtask crash`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// How many times the server is killed.
    #[arg(long, default_value_t = 20)]
    pub kills: u64,
    /// Acknowledged INCRs to reach in all.
    #[arg(long, default_value_t = 100_000)]
    pub writes: u64,
    /// INCRs in flight per round trip.
    #[arg(long, default_value_t = 16)]
    pub pipeline: u64,
    /// Use the existing release binary instead of building it first.
    #[arg(long)]
    pub no_build: bool,
}

/// A small xorshift generator: the kill moments need no cryptographic quality.
struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Rng(u64::try_from(nanos & u128::from(u64::MAX)).unwrap_or(1) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in `lo..hi` (`lo` when the range is empty).
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            lo + self.next() % (hi - lo)
        }
    }
}

fn start(bin: &Path, dir: &Path, port: u16, log: &Path) -> Result<Child> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("cannot open {}", log.display()))?;
    let mut child = Command::new(bin)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args([
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ])
        .arg("--dir")
        .arg(dir)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait()? {
            bail!("server exited ({status}) at startup");
        }
        if util::ping(port).is_ok() {
            return Ok(child);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            bail!("server did not answer PING within 30 s");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn get_counter(port: u16) -> Result<u64> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(b"*2\r\n$3\r\nGET\r\n$7\r\ncounter\r\n")?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    if line.starts_with("$-1") {
        return Ok(0);
    }
    if !line.starts_with('$') {
        bail!("unexpected GET reply {line:?}");
    }
    line.clear();
    reader.read_line(&mut line)?;
    line.trim_end()
        .parse()
        .with_context(|| format!("counter is not a number: {line:?}"))
}

/// Pipelines INCRs until the connection breaks (the kill) or `stop` is set; counts every
/// integer reply in `acked` and every INCR written in `sent`.
fn write_until_killed(
    port: u16,
    pipeline: u64,
    acked: &AtomicU64,
    sent: &AtomicU64,
    stop: &AtomicBool,
) {
    let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let batch =
        b"*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n".repeat(usize::try_from(pipeline).unwrap_or(1));
    let mut line = String::new();
    while !stop.load(Ordering::Relaxed) {
        if writer.write_all(&batch).is_err() {
            return;
        }
        sent.fetch_add(pipeline, Ordering::SeqCst);
        for _ in 0..pipeline {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(n) if n > 0 && line.starts_with(':') && line.ends_with("\r\n") => {
                    acked.fetch_add(1, Ordering::SeqCst);
                }
                _ => return,
            }
        }
    }
}

/// Runs the crash test; returns whether no acknowledged write was lost.
pub fn run(args: &Args) -> Result<bool> {
    let bin = util::oxidis_server_bin(!args.no_build)?;
    banner(&format!(
        "crash: {} kills, {} acknowledged INCRs, appendfsync always, against {}",
        args.kills,
        args.writes,
        bin.display()
    ));
    let dir = util::temp_dir("crash")?;
    let log: PathBuf = dir.join("server.log");
    let port = util::free_port()?;
    let mut rng = Rng::seeded();
    let acked = Arc::new(AtomicU64::new(0));
    let sent = Arc::new(AtomicU64::new(0));
    let mut ok = true;
    let started = Instant::now();
    for round in 1..=args.kills {
        let mut child = start(&bin, &dir, port, &log)?;
        let value = get_counter(port)?;
        let (a, s) = (acked.load(Ordering::SeqCst), sent.load(Ordering::SeqCst));
        if value < a || value > s {
            println!("round {round}: counter {value} outside [acknowledged {a}, sent {s}]");
            ok = false;
        }
        // This round's share of the writes left, give or take half, then a random pause so
        // the kill lands anywhere in a round trip.
        let left = args.writes.saturating_sub(a);
        let rounds_left = args.kills - round + 1;
        let share = left / rounds_left;
        let target = if round == args.kills {
            args.writes
        } else {
            a + rng.range(share / 2, share + share / 2 + 1)
        };
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (acked, sent, stop) = (acked.clone(), sent.clone(), stop.clone());
            let pipeline = args.pipeline.max(1);
            thread::spawn(move || write_until_killed(port, pipeline, &acked, &sent, &stop))
        };
        while acked.load(Ordering::SeqCst) < target && !writer.is_finished() {
            thread::sleep(Duration::from_micros(200));
        }
        thread::sleep(Duration::from_micros(rng.range(0, 3000)));
        child.kill().context("cannot SIGKILL the server")?;
        let _ = child.wait();
        stop.store(true, Ordering::Relaxed);
        let _ = writer.join();
        println!(
            "round {round}: killed; {} acknowledged, {} sent so far",
            acked.load(Ordering::SeqCst),
            sent.load(Ordering::SeqCst)
        );
    }
    let mut child = start(&bin, &dir, port, &log)?;
    let value = get_counter(port)?;
    let _ = child.kill();
    let _ = child.wait();
    let (a, s) = (acked.load(Ordering::SeqCst), sent.load(Ordering::SeqCst));
    if value < a || value > s {
        ok = false;
    }
    println!(
        "crash: {}, {} kills, {a} acknowledged, {s} sent, final value {value}, lost acknowledged {}, {:.1} s",
        if ok { "ok" } else { "FAILED" },
        args.kills,
        a.saturating_sub(value),
        started.elapsed().as_secs_f64()
    );
    if ok {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        println!("data and log kept in {}", dir.display());
    }
    Ok(ok)
}
