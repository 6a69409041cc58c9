//! `cargo xtask soak`: pub/sub and writes under `maxmemory`, for a bounded time, on loopback.
//!
//! 100 publishers and 100 subscribers exchange numbered messages on 10 channels while 50
//! writers SET 1 KiB values (each naming its key, so a GET can be verified) into a server
//! limited to `maxmemory 100mb` with `allkeys-lru`. One more subscriber never reads. Checked:
//! every reply is what Redis would answer (a GET is nil — evicted — or the value last written;
//! messages arrive in order per publisher), the server's RSS stays within 10% of `maxmemory`
//! plus a fixed overhead, and the idle subscriber is disconnected at its output-buffer limit.
//!
//! Summary line: `soak: ok, <n> publishes, <n> messages, <n> writes, <n> evicted, max RSS ...`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::util::{self, Server, ServerOptions, banner};

/// Options of `cargo xtask soak`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// How long the load runs, in seconds.
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// Use the existing release binary instead of building it first.
    #[arg(long)]
    pub no_build: bool,
}

const MAXMEMORY: u64 = 100 << 20;
/// What the process holds beyond `maxmemory` + 10%: code, thread stacks and the 251 clients'
/// buffers. A 60 s run peaked at 104.4 MiB RSS for 100 MiB of `maxmemory` (4.4 MiB over).
const FIXED_OVERHEAD: u64 = 16 << 20;
const PUBLISHERS: usize = 100;
const SUBSCRIBERS: usize = 100;
const WRITERS: usize = 50;
const CHANNELS: usize = 10;
/// The idle subscriber's limit: `client-output-buffer-limit pubsub 4mb 1mb 10`.
const PUBSUB_LIMIT: &str = "pubsub 4mb 1mb 10";

/// Runs the soak; returns whether every check held.
pub fn run(args: &Args) -> Result<bool> {
    let bin = util::oxidis_server_bin(!args.no_build)?;
    banner(&format!(
        "soak: {} s against {}",
        args.seconds,
        bin.display()
    ));
    let maxmemory = MAXMEMORY.to_string();
    let extra = [
        "--maxmemory",
        maxmemory.as_str(),
        "--maxmemory-policy",
        "allkeys-lru",
        "--client-output-buffer-limit",
        PUBSUB_LIMIT,
    ];
    let logs = util::workspace_root().join(".conformance").join("soak");
    let mut server = Server::start(
        &bin,
        &ServerOptions {
            label: "soak",
            log: logs.join("server.log"),
            extra_args: &extra,
        },
    )?;
    let port = server.port;
    let stop = Arc::new(AtomicBool::new(false));
    let counters = Arc::new(Counters::default());

    // The idle subscriber: subscribes to every channel, then never reads.
    let mut idle = Conn::open(port)?;
    for channel in 0..CHANNELS {
        idle.send(&[b"SUBSCRIBE", format!("ch:{channel}").as_bytes()])?;
    }
    idle.flush()?;

    let mut threads = Vec::new();
    for id in 0..SUBSCRIBERS {
        let (stop, counters) = (stop.clone(), counters.clone());
        threads.push(thread::spawn(move || {
            subscriber(port, id, &stop, &counters)
        }));
    }
    wait_for_subscribers(port, SUBSCRIBERS + 1)?;
    for id in 0..PUBLISHERS {
        let (stop, counters) = (stop.clone(), counters.clone());
        threads.push(thread::spawn(move || publisher(port, id, &stop, &counters)));
    }
    for id in 0..WRITERS {
        let (stop, counters) = (stop.clone(), counters.clone());
        threads.push(thread::spawn(move || writer(port, id, &stop, &counters)));
    }

    let started = Instant::now();
    let mut max_rss = 0;
    while started.elapsed() < Duration::from_secs(args.seconds) {
        thread::sleep(Duration::from_millis(250));
        max_rss = max_rss.max(util::rss_bytes(server.pid())?);
        if !server.is_alive() {
            stop.store(true, Ordering::Relaxed);
            bail!("the server exited during the soak");
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut failures = Vec::new();
    for thread in threads {
        match thread.join() {
            Ok(Ok(())) => {}
            Ok(Err(err)) => failures.push(format!("{err:#}")),
            Err(_) => failures.push("a client thread panicked".to_string()),
        }
    }
    let idle_cut_off = idle.is_closed_by_server();
    let evicted = info_field(port, "evicted_keys")?;

    let rss_bound = MAXMEMORY + MAXMEMORY / 10 + FIXED_OVERHEAD;
    println!(
        "publishes {}, messages received {}, writes {}, verified reads {}, evicted keys {evicted}",
        counters.publishes.load(Ordering::Relaxed),
        counters.messages.load(Ordering::Relaxed),
        counters.writes.load(Ordering::Relaxed),
        counters.reads.load(Ordering::Relaxed),
    );
    println!(
        "max RSS {:.1} MiB (bound: maxmemory {} MiB + 10% + {} MiB fixed = {:.1} MiB); idle subscriber cut off: {idle_cut_off}",
        mib(max_rss),
        MAXMEMORY >> 20,
        FIXED_OVERHEAD >> 20,
        mib(rss_bound)
    );
    for failure in &failures {
        println!("  wrong reply: {failure}");
    }
    let ok = failures.is_empty() && max_rss <= rss_bound && idle_cut_off && evicted > 0;
    println!(
        "soak: {}, {} publishes, {} messages, {} writes, {evicted} evicted, max RSS {:.1} MiB",
        if ok { "ok" } else { "FAILED" },
        counters.publishes.load(Ordering::Relaxed),
        counters.messages.load(Ordering::Relaxed),
        counters.writes.load(Ordering::Relaxed),
        mib(max_rss)
    );
    Ok(ok)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1u32 << 20)
}

#[derive(Debug, Default)]
struct Counters {
    publishes: AtomicU64,
    messages: AtomicU64,
    writes: AtomicU64,
    reads: AtomicU64,
}

/// Publishes `p<id>:<seq>` to the channels in turn; PUBLISH must answer an integer.
fn publisher(port: u16, id: usize, stop: &AtomicBool, counters: &Counters) -> Result<()> {
    let mut conn = Conn::open(port)?;
    let mut seq = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let channel = format!("ch:{}", (id + seq as usize) % CHANNELS);
        let payload = format!("p{id}:{seq}");
        conn.send(&[b"PUBLISH", channel.as_bytes(), payload.as_bytes()])?;
        conn.flush()?;
        match conn.read()? {
            Reply::Integer(n) if n >= 0 => {}
            Reply::Error(err) => bail!("PUBLISH answered an error: {err}"),
            other => bail!("PUBLISH answered {other:?}"),
        }
        counters.publishes.fetch_add(1, Ordering::Relaxed);
        seq += 1;
        // A steady load, not a flood: the point is duration and memory, not throughput.
        thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}

/// Subscribes to one channel and checks every message: the right shape, the right channel, and
/// each publisher's numbers increasing.
fn subscriber(port: u16, id: usize, stop: &AtomicBool, counters: &Counters) -> Result<()> {
    let mut conn = Conn::open(port)?;
    let channel = format!("ch:{}", id % CHANNELS);
    conn.send(&[b"SUBSCRIBE", channel.as_bytes()])?;
    conn.flush()?;
    conn.stream()
        .set_read_timeout(Some(Duration::from_millis(200)))?;
    let mut last_seen: HashMap<String, u64> = HashMap::new();
    let mut confirmed = false;
    while !stop.load(Ordering::Relaxed) {
        let reply = match conn.read() {
            Ok(reply) => reply,
            Err(err) if is_timeout(&err) => continue,
            Err(err) => return Err(err),
        };
        let Reply::Array(Some(items)) = reply else {
            bail!("subscriber got {reply:?}");
        };
        match &items[..] {
            [
                Reply::Bulk(Some(kind)),
                Reply::Bulk(Some(ch)),
                Reply::Integer(1),
            ] if kind == b"subscribe" && ch == channel.as_bytes() && !confirmed => {
                confirmed = true;
            }
            [
                Reply::Bulk(Some(kind)),
                Reply::Bulk(Some(ch)),
                Reply::Bulk(Some(payload)),
            ] if kind == b"message" && ch == channel.as_bytes() => {
                let text = String::from_utf8_lossy(payload);
                let (publisher, seq) = text
                    .split_once(':')
                    .and_then(|(p, s)| Some((p.to_string(), s.parse::<u64>().ok()?)))
                    .with_context(|| format!("malformed payload {text:?}"))?;
                if let Some(last) = last_seen.insert(publisher.clone(), seq)
                    && last >= seq
                {
                    bail!("{publisher} message {seq} arrived after {last} on {channel}");
                }
                counters.messages.fetch_add(1, Ordering::Relaxed);
            }
            _ => bail!("subscriber of {channel} got {items:?}"),
        }
    }
    Ok(())
}

/// SETs 1 KiB values naming their key and version, and reads back its own keys: a GET must be
/// nil (evicted) or the last value written.
fn writer(port: u16, id: usize, stop: &AtomicBool, counters: &Counters) -> Result<()> {
    let mut conn = Conn::open(port)?;
    let mut versions: HashMap<u64, u64> = HashMap::new();
    let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ id as u64;
    let mut round = 0u64;
    while !stop.load(Ordering::Relaxed) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let key_no = x % 20_000;
        let key = format!("w{id}:{key_no}");
        round += 1;
        if round.is_multiple_of(4) {
            conn.send(&[b"GET", key.as_bytes()])?;
            conn.flush()?;
            match (conn.read()?, versions.get(&key_no)) {
                (Reply::Bulk(None), _) => {}
                (Reply::Bulk(Some(value)), Some(&version)) if value == value_of(&key, version) => {}
                (reply, version) => {
                    bail!("GET {key} (last version {version:?}) answered {reply:?}")
                }
            }
            counters.reads.fetch_add(1, Ordering::Relaxed);
        } else {
            let version = versions.get(&key_no).map_or(0, |v| v + 1);
            conn.send(&[b"SET", key.as_bytes(), &value_of(&key, version)])?;
            conn.flush()?;
            match conn.read()? {
                Reply::Simple(ok) if ok == "OK" => {}
                other => bail!("SET {key} answered {other:?}"),
            }
            versions.insert(key_no, version);
            counters.writes.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(())
}

/// A 1 KiB value that names its key and version.
fn value_of(key: &str, version: u64) -> Vec<u8> {
    let mut value = format!("{key}#{version}#").into_bytes();
    value.resize(1024, b'.');
    value
}

fn is_timeout(err: &anyhow::Error) -> bool {
    err.downcast_ref::<std::io::Error>().is_some_and(|e| {
        matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        )
    })
}

/// Waits until `count` clients are subscribed (PUBSUB NUMSUB over all channels).
fn wait_for_subscribers(port: u16, count: usize) -> Result<()> {
    let mut conn = Conn::open(port)?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut args: Vec<Vec<u8>> = vec![b"PUBSUB".to_vec(), b"NUMSUB".to_vec()];
        args.extend((0..CHANNELS).map(|c| format!("ch:{c}").into_bytes()));
        let args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        conn.send(&args)?;
        conn.flush()?;
        let Reply::Array(Some(items)) = conn.read()? else {
            bail!("PUBSUB NUMSUB did not answer an array");
        };
        let subscribed: i64 = items
            .iter()
            .filter_map(|r| match r {
                Reply::Integer(n) => Some(*n),
                _ => None,
            })
            .sum();
        // The idle subscriber holds one subscription per channel.
        if subscribed as usize >= count - 1 + CHANNELS {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("only {subscribed} subscriptions after 20 s");
        }
        thread::sleep(Duration::from_millis(50));
    }
}

fn info_field(port: u16, field: &str) -> Result<u64> {
    let mut conn = Conn::open(port)?;
    conn.send(&[b"INFO", b"stats"])?;
    conn.flush()?;
    let Reply::Bulk(Some(text)) = conn.read()? else {
        bail!("INFO did not answer a bulk string");
    };
    let text = String::from_utf8_lossy(&text);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("INFO has no {field}"))
}

/// A RESP2 reply.
#[derive(Debug)]
enum Reply {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

/// A blocking RESP2 connection.
struct Conn {
    reader: BufReader<TcpStream>,
    writer: BufWriter<TcpStream>,
}

impl Conn {
    fn open(port: u16) -> Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .with_context(|| format!("cannot connect to port {port}"))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            reader: BufReader::new(stream.try_clone()?),
            writer: BufWriter::new(stream),
        })
    }

    fn stream(&self) -> &TcpStream {
        self.reader.get_ref()
    }

    fn send(&mut self, args: &[&[u8]]) -> Result<()> {
        write!(self.writer, "*{}\r\n", args.len())?;
        for arg in args {
            write!(self.writer, "${}\r\n", arg.len())?;
            self.writer.write_all(arg)?;
            self.writer.write_all(b"\r\n")?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        Ok(self.writer.flush()?)
    }

    fn line(&mut self) -> Result<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            bail!("connection closed");
        }
        Ok(line.trim_end_matches("\r\n").to_string())
    }

    fn read(&mut self) -> Result<Reply> {
        let line = self.line()?;
        let (kind, rest) = line.split_at(line.len().min(1));
        let number = || {
            rest.parse::<i64>()
                .with_context(|| format!("bad line {line:?}"))
        };
        Ok(match kind {
            "+" => Reply::Simple(rest.to_string()),
            "-" => Reply::Error(rest.to_string()),
            ":" => Reply::Integer(number()?),
            "$" => match usize::try_from(number()?) {
                Ok(len) => {
                    let mut data = vec![0; len + 2];
                    self.reader.read_exact(&mut data)?;
                    data.truncate(len);
                    Reply::Bulk(Some(data))
                }
                Err(_) => Reply::Bulk(None),
            },
            "*" => match usize::try_from(number()?) {
                Ok(len) => {
                    Reply::Array(Some((0..len).map(|_| self.read()).collect::<Result<_>>()?))
                }
                Err(_) => Reply::Array(None),
            },
            _ => bail!("unexpected reply line {line:?}"),
        })
    }

    /// Whether the server has closed this connection: reading drains what was buffered and
    /// then meets end of file or a reset.
    fn is_closed_by_server(&mut self) -> bool {
        if self
            .stream()
            .set_read_timeout(Some(Duration::from_secs(5)))
            .is_err()
        {
            return true;
        }
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match self.reader.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    }
}
