//! `cargo xtask interop`: RDB files and DUMP payloads move between `redis-server` 7.0 and
//! `oxidis-server` both ways without changing a value.
//!
//! One dataset covers every type in every encoding Redis 7.0 writes (int/embstr/raw strings,
//! compressible and binary strings, small and multi-node lists, listpack and hashtable hashes,
//! intset and hashtable sets, listpack and skiplist sorted sets with awkward scores), expiring
//! keys and several databases. It is written to each server in turn, then:
//! 1. Redis SAVEs, Oxidis starts on that file: `DEBUG DIGEST`, and per key `DEBUG DIGEST-VALUE`,
//!    `OBJECT ENCODING` and whether it expires, must match Redis's;
//! 2. Oxidis SAVEs, `redis-check-rdb` accepts the file, Redis starts on it: the same checks;
//! 3. every key is DUMPed on one server and RESTOREd on the other, both ways: digests match.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::util::{self, Server, ServerOptions, banner};

/// Options of `cargo xtask interop`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Use the existing release binary instead of running `cargo build --release` first.
    #[arg(long)]
    pub no_build: bool,
}

/// One RESP reply.
#[derive(Debug, Clone, PartialEq)]
enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

impl Reply {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Reply::Simple(s) | Reply::Error(s) => s.as_bytes().to_vec(),
            Reply::Int(n) => n.to_string().into_bytes(),
            Reply::Bulk(Some(b)) => b.clone(),
            Reply::Bulk(None) | Reply::Array(_) => Vec::new(),
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }
}

/// A blocking RESP2 connection.
struct Conn {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(port: u16) -> Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        Ok(Conn {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    fn call(&mut self, args: &[&[u8]]) -> Result<Reply> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            out.extend_from_slice(arg);
            out.extend_from_slice(b"\r\n");
        }
        self.writer.write_all(&out)?;
        self.read()
    }

    /// Calls and fails on an error reply.
    fn ok(&mut self, args: &[&[u8]]) -> Result<Reply> {
        match self.call(args)? {
            Reply::Error(e) => bail!(
                "{} -> {e}",
                args.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            reply => Ok(reply),
        }
    }

    fn text(&mut self, args: &[&str]) -> Result<String> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        Ok(self.ok(&args)?.text())
    }

    fn read(&mut self) -> Result<Reply> {
        let mut line = Vec::new();
        self.reader.read_until(b'\n', &mut line)?;
        if line.len() < 3 {
            bail!("connection closed");
        }
        let body = String::from_utf8_lossy(&line[1..line.len() - 2]).into_owned();
        Ok(match line[0] {
            b'+' => Reply::Simple(body),
            b'-' => Reply::Error(body),
            b':' => Reply::Int(body.parse()?),
            b'$' => {
                let len: i64 = body.parse()?;
                if len < 0 {
                    Reply::Bulk(None)
                } else {
                    let mut data = vec![0u8; usize::try_from(len)? + 2];
                    self.reader.read_exact(&mut data)?;
                    data.truncate(data.len() - 2);
                    Reply::Bulk(Some(data))
                }
            }
            b'*' => {
                let len: i64 = body.parse()?;
                if len < 0 {
                    Reply::Array(None)
                } else {
                    let mut items = Vec::new();
                    for _ in 0..len {
                        items.push(self.read()?);
                    }
                    Reply::Array(Some(items))
                }
            }
            other => bail!("unexpected reply type {:?}", char::from(other)),
        })
    }
}

/// Databases the dataset uses.
const DATABASES: &[usize] = &[0, 1, 9];

/// The dataset, as commands (each a list of arguments) per database.
fn dataset() -> Vec<(usize, Vec<Vec<Vec<u8>>>)> {
    let c =
        |parts: &[&str]| -> Vec<Vec<u8>> { parts.iter().map(|p| p.as_bytes().to_vec()).collect() };
    let mut db0 = vec![
        c(&["SET", "str:small", "hello"]),
        c(&["SET", "str:int", "12345"]),
        c(&["SET", "str:negative", "-7"]),
        c(&["SET", "str:bigint", "99999999999"]),
        c(&["SET", "str:empty", ""]),
        c(&["SET", "str:embstr44", &"e".repeat(44)]),
        c(&["SET", "str:compressible", &"abc".repeat(100)]),
        c(&["SET", "str:leading-zero", "007"]),
        c(&["APPEND", "str:appended", "grown in place"]),
        c(&[
            "RPUSH",
            "list:small",
            "a",
            "b",
            "c",
            "1",
            "2",
            "300",
            "-5",
            "70000",
            "9999999999",
        ]),
        c(&[
            "RPUSH",
            "list:bigvalues",
            &"x".repeat(10_000),
            &"y".repeat(20_000),
            "z",
        ]),
        c(&["HSET", "hash:small", "f1", "v1", "f2", "22", "num", "-100"]),
        c(&["HSET", "hash:longvalue", "f", &"v".repeat(100)]),
        c(&["SADD", "set:ints", "1", "2", "3", "-40000", "5000000000"]),
        c(&["SADD", "set:strings", "a", "b", "c"]),
        c(&[
            "ZADD",
            "zset:small",
            "1",
            "a",
            "2.5",
            "b",
            "-3",
            "c",
            "0.1",
            "d",
            "inf",
            "e",
            "-inf",
            "f",
            "1e20",
            "g",
        ]),
        c(&["ZADD", "zset:longmember", "1", &"m".repeat(100)]),
        c(&["SET", "ttl:string", "expiring", "EX", "100000"]),
        c(&["HSET", "ttl:hash", "a", "1"]),
        c(&["PEXPIRE", "ttl:hash", "90000000"]),
    ];
    let binary: Vec<u8> = (0..=255u8).cycle().take(700).collect();
    db0.push(vec![b"SET".to_vec(), b"str:binary".to_vec(), binary]);
    let mut big_list = c(&["RPUSH", "list:big"]);
    let mut big_hash = c(&["HSET", "hash:big"]);
    let mut big_ints = c(&["SADD", "set:bigints"]);
    let mut big_strs = c(&["SADD", "set:bigstrings"]);
    let mut big_zset = c(&["ZADD", "zset:big"]);
    for i in 0..1000 {
        big_list.push(format!("element-{i}").into_bytes());
        big_hash.push(format!("field{i}").into_bytes());
        big_hash.push(format!("value{i}").into_bytes());
        big_ints.push(format!("{}", i * 7 - 300).into_bytes());
        big_strs.push(format!("member{i}").into_bytes());
        big_zset.push(format!("{}", f64::from(i) / 3.0).into_bytes());
        big_zset.push(format!("m{i}").into_bytes());
    }
    db0.extend([big_list, big_hash, big_ints, big_strs, big_zset]);
    let db1 = vec![
        c(&["SET", "same-name", "in db 1"]),
        c(&["RPUSH", "list", "one"]),
        c(&["SET", "ttl:px", "v", "PX", "50000000"]),
    ];
    let db9 = vec![
        c(&["SET", "same-name", "in db 9"]),
        c(&["SADD", "set", "x"]),
    ];
    vec![(0, db0), (1, db1), (9, db9)]
}

fn load_dataset(conn: &mut Conn) -> Result<()> {
    conn.ok(&[b"FLUSHALL"])?;
    for (db, commands) in dataset() {
        conn.ok(&[b"SELECT", db.to_string().as_bytes()])?;
        for command in commands {
            let args: Vec<&[u8]> = command.iter().map(Vec::as_slice).collect();
            conn.ok(&args)?;
        }
    }
    conn.ok(&[b"SELECT", b"0"])?;
    Ok(())
}

/// What is compared per key.
#[derive(Debug, PartialEq)]
struct KeyState {
    digest: String,
    encoding: String,
    expires: bool,
}

/// Every key of the dataset's databases with its digest, encoding and whether it expires.
fn snapshot(conn: &mut Conn) -> Result<Vec<(usize, String, KeyState)>> {
    let mut out = Vec::new();
    for &db in DATABASES {
        conn.ok(&[b"SELECT", db.to_string().as_bytes()])?;
        let Reply::Array(Some(keys)) = conn.ok(&[b"KEYS", b"*"])? else {
            bail!("KEYS did not answer an array");
        };
        let mut keys: Vec<String> = keys.iter().map(Reply::text).collect();
        keys.sort();
        for key in keys {
            let digest = match conn.ok(&[b"DEBUG", b"DIGEST-VALUE", key.as_bytes()])? {
                Reply::Array(Some(items)) => items.first().map(Reply::text).unwrap_or_default(),
                other => other.text(),
            };
            let encoding = conn.text(&["OBJECT", "ENCODING", &key])?;
            let ttl = conn.text(&["PTTL", &key])?;
            out.push((
                db,
                key,
                KeyState {
                    digest,
                    encoding,
                    expires: ttl != "-1",
                },
            ));
        }
    }
    conn.ok(&[b"SELECT", b"0"])?;
    Ok(out)
}

/// Compares two snapshots; returns the differences as lines.
fn differences(
    from: &str,
    expected: &[(usize, String, KeyState)],
    to: &str,
    actual: &[(usize, String, KeyState)],
) -> Vec<String> {
    let mut diffs = Vec::new();
    if expected.len() != actual.len() {
        diffs.push(format!(
            "{from} has {} keys, {to} {}",
            expected.len(),
            actual.len()
        ));
    }
    for (db, key, state) in expected {
        match actual.iter().find(|(d, k, _)| d == db && k == key) {
            None => diffs.push(format!("db {db} key {key}: missing in {to}")),
            Some((_, _, other)) if other != state => diffs.push(format!(
                "db {db} key {key}: {from} {state:?}, {to} {other:?}"
            )),
            Some(_) => {}
        }
    }
    diffs
}

fn config_dir(conn: &mut Conn) -> Result<PathBuf> {
    match conn.ok(&[b"CONFIG", b"GET", b"dir"])? {
        Reply::Array(Some(items)) if items.len() == 2 => Ok(PathBuf::from(items[1].text())),
        other => bail!("CONFIG GET dir answered {other:?}"),
    }
}

/// SAVEs on `conn` and copies the file into a fresh directory.
fn save_copy(conn: &mut Conn, label: &str) -> Result<PathBuf> {
    conn.ok(&[b"SAVE"])?;
    let file = config_dir(conn)?.join("dump.rdb");
    let dir = util::temp_dir(label)?;
    fs::copy(&file, dir.join("dump.rdb"))
        .with_context(|| format!("cannot copy {}", file.display()))?;
    Ok(dir)
}

fn start(bin: &Path, label: &str, logs: &Path, dir: Option<&Path>) -> Result<Server> {
    let dir_arg = dir.map(|d| d.display().to_string());
    let mut args = vec!["--enable-debug-command", "yes"];
    if let Some(d) = &dir_arg {
        // A later --dir wins over the one Server::start passes.
        args.extend(["--dir", d.as_str()]);
    }
    Server::start(
        bin,
        &ServerOptions {
            label,
            log: logs.join(format!("{label}.log")),
            extra_args: &args,
        },
    )
}

/// DUMPs every key on `from` and RESTOREs it on `to` (replacing, with its time to live), then
/// compares digests.
fn dump_across(from: &mut Conn, to: &mut Conn, direction: &str) -> Result<Vec<String>> {
    let mut diffs = Vec::new();
    for &db in DATABASES {
        for conn in [&mut *from, &mut *to] {
            conn.ok(&[b"SELECT", db.to_string().as_bytes()])?;
        }
        let Reply::Array(Some(keys)) = from.ok(&[b"KEYS", b"*"])? else {
            bail!("KEYS did not answer an array");
        };
        for key in keys.iter().map(Reply::bytes) {
            let Reply::Bulk(Some(payload)) = from.ok(&[b"DUMP", &key])? else {
                bail!("DUMP answered no payload");
            };
            // Keep the key's time to live, which the digest covers.
            let ttl = match from.ok(&[b"PTTL", &key])? {
                Reply::Int(ms) if ms > 0 => ms.to_string(),
                _ => "0".to_string(),
            };
            let restored = to.call(&[b"RESTORE", &key, ttl.as_bytes(), &payload, b"REPLACE"])?;
            let digest = |c: &mut Conn| c.ok(&[b"DEBUG", b"DIGEST-VALUE", &key]);
            let name = String::from_utf8_lossy(&key).into_owned();
            if restored != Reply::Simple("OK".into()) {
                diffs.push(format!(
                    "{direction} db {db} key {name}: RESTORE said {restored:?}"
                ));
            } else if digest(from)? != digest(to)? {
                diffs.push(format!("{direction} db {db} key {name}: digests differ"));
            }
        }
    }
    for conn in [from, to] {
        conn.ok(&[b"SELECT", b"0"])?;
    }
    Ok(diffs)
}

/// Runs the interop checks; returns whether everything matched.
pub fn run(args: &Args) -> Result<bool> {
    let oxidis = util::oxidis_server_bin(!args.no_build)?;
    let redis = util::redis_server_bin()?;
    let logs = util::target_dir().join("interop");
    fs::create_dir_all(&logs)?;
    let mut failures = Vec::new();

    banner("interop: Redis writes an RDB file, Oxidis loads it");
    let redis_a = start(&redis, "interop-redis", &logs, None)?;
    let mut r = Conn::open(redis_a.port)?;
    load_dataset(&mut r)?;
    let expected = snapshot(&mut r)?;
    let redis_digest = r.text(&["DEBUG", "DIGEST"])?;
    let redis_file = save_copy(&mut r, "interop-redis-rdb")?;
    let oxidis_a = start(&oxidis, "interop-oxidis-load", &logs, Some(&redis_file))?;
    let mut o = Conn::open(oxidis_a.port)?;
    let loaded = snapshot(&mut o)?;
    failures.extend(differences("redis", &expected, "oxidis", &loaded));
    let oxidis_digest = o.text(&["DEBUG", "DIGEST"])?;
    if oxidis_digest != redis_digest {
        failures.push(format!(
            "DEBUG DIGEST after loading Redis's file: redis {redis_digest}, oxidis {oxidis_digest}"
        ));
    }
    let keys = expected.len();
    println!("{keys} keys compared after Oxidis loaded Redis's file");

    banner("interop: Oxidis writes an RDB file, Redis loads it");
    let oxidis_b = start(&oxidis, "interop-oxidis", &logs, None)?;
    let mut o2 = Conn::open(oxidis_b.port)?;
    load_dataset(&mut o2)?;
    let written = snapshot(&mut o2)?;
    failures.extend(differences("redis", &expected, "oxidis", &written));
    let oxidis_file = save_copy(&mut o2, "interop-oxidis-rdb")?;
    if let Some(check) = util::which("redis-check-rdb") {
        let out = Command::new(check)
            .arg(oxidis_file.join("dump.rdb"))
            .output()
            .context("cannot run redis-check-rdb")?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() || !text.contains("RDB looks OK") {
            failures.push(format!("redis-check-rdb refused Oxidis's file:\n{text}"));
        } else {
            println!("redis-check-rdb: RDB looks OK");
        }
    } else {
        println!("redis-check-rdb not found; skipped");
    }
    let redis_b = start(&redis, "interop-redis-load", &logs, Some(&oxidis_file))?;
    let mut r2 = Conn::open(redis_b.port)?;
    let reloaded = snapshot(&mut r2)?;
    failures.extend(differences("oxidis", &written, "redis", &reloaded));
    let digest_back = r2.text(&["DEBUG", "DIGEST"])?;
    let digest_written = o2.text(&["DEBUG", "DIGEST"])?;
    if digest_back != digest_written {
        failures.push(format!(
            "DEBUG DIGEST after Redis loaded Oxidis's file: oxidis {digest_written}, redis {digest_back}"
        ));
    }
    println!(
        "{} keys compared after Redis loaded Oxidis's file",
        written.len()
    );

    banner("interop: DUMP payloads both ways");
    failures.extend(dump_across(&mut r, &mut o2, "redis->oxidis")?);
    failures.extend(dump_across(&mut o2, &mut r, "oxidis->redis")?);

    for dir in [redis_file, oxidis_file] {
        let _ = fs::remove_dir_all(dir);
    }
    for failure in &failures {
        println!("  MISMATCH {failure}");
    }
    println!(
        "interop: {keys} keys, rdb redis->oxidis and oxidis->redis, dump both ways: {} mismatches",
        failures.len()
    );
    Ok(failures.is_empty())
}
