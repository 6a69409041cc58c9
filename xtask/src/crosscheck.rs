//! `cargo xtask crosscheck`: the same random commands against a real `redis-server` and
//! oxidis-server, side by side, answers compared exactly.
//!
//! - HyperLogLog: 1,000 HLLs built by PFADDs of random elements (sparse and dense, under
//!   several `hll-sparse-max-bytes`), some PFDEBUG TODENSE, then PFMERGEs. Every reply, the
//!   bytes of every value (GET), single-key and union PFCOUNTs must be identical. Then every
//!   value is copied across (GET on one server, SET on the other): the copies must count the
//!   same as the originals, and merging and adding to them must stay identical.
//! - Geo: 200 sets built by random GEOADDs, then GEOSEARCHes (FROMLONLAT/FROMMEMBER,
//!   BYRADIUS/BYBOX, ASC, COUNT, WITHDIST/WITHCOORD/WITHHASH) with identical answers. Skipped,
//!   with a notice, while oxidis-server does not know GEOADD.
//! - Lua: a few hundred deterministic scripts (EVAL, EVALSHA, FCALL; RESP2 and RESP3 clients;
//!   conversions, errors, pcall, cjson, cmsgpack, struct, bit, ...) with identical replies
//!   (see `crosscheck/scripts.rs`).
//!
//! The random stream comes from `--seed`, so a failure can be replayed.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::util::{self, Server, ServerOptions, banner};

mod scripts;

/// Options of `cargo xtask crosscheck`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Seed of the random commands.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Number of HyperLogLogs to build.
    #[arg(long, default_value_t = 1000)]
    pub hlls: usize,
    /// Number of geo sets to build.
    #[arg(long, default_value_t = 200)]
    pub geo_sets: usize,
    /// Use the existing oxidis-server binary (`$OXIDIS_SERVER_BIN` or the release build).
    #[arg(long)]
    pub no_build: bool,
}

/// Commands sent per pipelined batch.
const BATCH: usize = 500;
/// Mismatches printed in full before the rest are only counted.
const SHOWN_MISMATCHES: usize = 10;
/// The `hll-sparse-max-bytes` values the HLLs are built under (3000 is the default).
const SPARSE_LIMITS: &[&str] = &["3000", "0", "200", "1500", "8000"];
const GEO_UNITS: &[(&str, f64)] = &[("m", 1.0), ("km", 1000.0), ("mi", 1609.34), ("ft", 0.3048)];
/// Redis's latitude limits for geo (the Mercator projection's).
const MAX_LATITUDE: f64 = 85.051_128_78;

/// Runs both checks; returns whether every answer matched.
pub fn run(args: &Args) -> Result<bool> {
    let oxidis_bin = util::oxidis_server_bin(!args.no_build)?;
    let redis_bin = util::redis_server_bin()?;
    let logs = util::target_dir().join("xtask").join("crosscheck");
    let start = |bin: &std::path::Path, name: &str| -> Result<Server> {
        let options = ServerOptions {
            label: &format!("crosscheck-{name}"),
            log: logs.join(format!("{name}.log")),
            extra_args: &[],
        };
        Server::start(bin, &options).with_context(|| format!("starting {}", bin.display()))
    };
    let oxidis = start(&oxidis_bin, "oxidis")?;
    let redis = start(&redis_bin, "redis")?;
    let mut pair = Pair {
        oxidis: Client::connect(oxidis.port)?,
        redis: Client::connect(redis.port)?,
        compared: 0,
        mismatches: 0,
    };
    let mut rng = Rng(args.seed);

    banner(&format!(
        "crosscheck: {} HyperLogLogs (seed {})",
        args.hlls, args.seed
    ));
    let hll = check_hll(&mut pair, &mut rng, args.hlls)?;
    banner(&format!("crosscheck: {} geo sets", args.geo_sets));
    let geo = check_geo(&mut pair, &mut rng, args.geo_sets)?;
    banner("crosscheck: Lua scripts");
    let lua = scripts::check_scripts(&mut pair, oxidis.port, redis.port)?;

    let verdict = if pair.mismatches == 0 { "ok" } else { "FAILED" };
    println!(
        "crosscheck: {verdict}, {} answers compared, {} mismatches; {hll}; {geo}; {lua}",
        pair.compared, pair.mismatches
    );
    Ok(pair.mismatches == 0)
}

// ---------------------------------------------------------------------------------------------
// HyperLogLog.

fn check_hll(pair: &mut Pair, rng: &mut Rng, count: usize) -> Result<String> {
    let before = pair.mismatches;
    let mut script = Vec::new();
    for i in 0..count {
        if i % 100 == 0 {
            let limit = SPARSE_LIMITS[(i / 100) % SPARSE_LIMITS.len()];
            script.push(cmd(&["CONFIG", "SET", "hll-sparse-max-bytes", limit]));
        }
        let key = format!("hll:{i}");
        let size = match rng.below(10) {
            0 => 0,
            1..=4 => rng.below(100),
            5..=7 => 100 + rng.below(3000),
            _ => 3000 + rng.below(20_000),
        };
        let commands = 1 + rng.below(4);
        for c in 0..commands {
            let mut command = cmd(&["PFADD", &key]);
            for _ in 0..size / commands + usize::from(c == 0) * (size % commands) {
                command.push(random_element(rng));
            }
            script.push(command);
            if rng.below(10) == 0 {
                script.push(cmd(&["PFCOUNT", &key]));
            }
        }
        if rng.below(20) == 0 {
            script.push(cmd(&["PFDEBUG", "TODENSE", &key]));
        }
    }
    let merges = count / 4;
    for m in 0..merges {
        let dest = if rng.below(2) == 0 {
            format!("hll:{}", rng.below(count))
        } else {
            format!("merged:{m}")
        };
        let mut command = cmd(&["PFMERGE", &dest]);
        for _ in 0..1 + rng.below(4) {
            command.push(match rng.below(8) {
                0 => format!("missing:{}", rng.below(10)).into_bytes(),
                _ => format!("hll:{}", rng.below(count)).into_bytes(),
            });
        }
        script.push(command);
    }
    script.push(cmd(&["CONFIG", "SET", "hll-sparse-max-bytes", "3000"]));
    pair.run_both("building", &script)?;

    let mut keys: Vec<String> = (0..count).map(|i| format!("hll:{i}")).collect();
    keys.extend((0..merges).map(|m| format!("merged:{m}")));
    // Bytes before and after counting (PFCOUNT rewrites the cached cardinality), the counts.
    let gets: Vec<_> = keys.iter().map(|k| cmd(&["GET", k])).collect();
    let counts: Vec<_> = keys.iter().map(|k| cmd(&["PFCOUNT", k])).collect();
    pair.run_both("GET", &gets)?;
    let single = pair.run_both("PFCOUNT", &counts)?;
    pair.run_both("GET after PFCOUNT", &gets)?;
    let unions: Vec<_> = (0..count.max(1) * 3 / 10)
        .map(|_| {
            let mut command = cmd(&["PFCOUNT"]);
            for _ in 0..2 + rng.below(4) {
                command.push(keys[rng.below(keys.len())].clone().into_bytes());
            }
            command
        })
        .collect();
    pair.run_both("PFCOUNT (union)", &unions)?;

    // Copies: each server gets the other's bytes; they must count as the originals did.
    let values = pair.redis.pipeline(&gets)?;
    let theirs = pair.oxidis.pipeline(&gets)?;
    let copy_to = |values: &[Reply]| -> Vec<Vec<Vec<u8>>> {
        keys.iter()
            .zip(values)
            .filter_map(|(key, value)| match value {
                Reply::Bulk(Some(bytes)) => {
                    let mut command = cmd(&["SET", &format!("copy:{key}")]);
                    command.push(bytes.clone());
                    Some(command)
                }
                _ => None,
            })
            .collect()
    };
    pair.oxidis.pipeline(&copy_to(&values))?;
    pair.redis.pipeline(&copy_to(&theirs))?;
    let copy_counts: Vec<_> = keys
        .iter()
        .map(|k| cmd(&["PFCOUNT", &format!("copy:{k}")]))
        .collect();
    let copied = pair.run_both("PFCOUNT of copies", &copy_counts)?;
    let mut copies_agree = 0;
    for ((key, original), copy) in keys.iter().zip(&single).zip(&copied) {
        pair.compared += 1;
        if original == copy {
            copies_agree += 1;
        } else {
            pair.mismatch(&format!(
                "PFCOUNT copy:{key} = {copy:?} but the original counts {original:?}"
            ));
        }
    }
    // Values of mixed origin, merged and grown.
    let mut mixed = Vec::new();
    for i in 0..count / 2 {
        let a = &keys[rng.below(keys.len())];
        let b = &keys[rng.below(keys.len())];
        mixed.push(cmd(&[
            "PFMERGE",
            &format!("mix:{i}"),
            &format!("copy:{a}"),
            b,
        ]));
        let mut add = cmd(&["PFADD", &format!("copy:{b}")]);
        for _ in 0..rng.below(50) {
            add.push(random_element(rng));
        }
        mixed.push(add);
    }
    pair.run_both("PFMERGE/PFADD of copies", &mixed)?;
    let mixed_keys: Vec<String> = (0..count / 2)
        .map(|i| format!("mix:{i}"))
        .chain(keys.iter().map(|k| format!("copy:{k}")))
        .collect();
    let mixed_reads: Vec<_> = mixed_keys
        .iter()
        .flat_map(|k| [cmd(&["GET", k]), cmd(&["PFCOUNT", k]), cmd(&["GET", k])])
        .collect();
    pair.run_both("GET/PFCOUNT of merged copies", &mixed_reads)?;

    let ok = if pair.mismatches == before {
        "identical"
    } else {
        "DIFFERENT"
    };
    Ok(format!(
        "hll: {count} HLLs + {merges} merges {ok} (bytes, PFCOUNT, {} unions), {copies_agree}/{} \
         copies count the same across servers",
        unions.len(),
        keys.len()
    ))
}

/// An element: mostly from overlapping pools of short strings, sometimes random bytes.
fn random_element(rng: &mut Rng) -> Vec<u8> {
    match rng.below(10) {
        0 => (0..rng.below(24)).map(|_| rng.byte()).collect(),
        1..=3 => format!("{}", rng.below(5000)).into_bytes(),
        _ => format!("el:{}:{}", rng.below(4), rng.below(100_000)).into_bytes(),
    }
}

// ---------------------------------------------------------------------------------------------
// Geo.

fn check_geo(pair: &mut Pair, rng: &mut Rng, count: usize) -> Result<String> {
    let probe = cmd(&["GEOADD", "geo:probe", "0", "0", "probe"]);
    if let Reply::Error(text) = pair.oxidis.call(&probe)?
        && text.contains("unknown command")
    {
        println!("crosscheck: geo SKIPPED: oxidis-server answers GEOADD with {text:?}");
        return Ok("geo: SKIPPED (no GEOADD yet)".to_string());
    }
    let before = pair.mismatches;
    let mut build = Vec::new();
    let mut searches = Vec::new();
    for i in 0..count {
        let key = format!("geo:{i}");
        let center = (rng.uniform(-179.0, 179.0), rng.uniform(-84.0, 84.0));
        // Spreads from a city block to a continent.
        let spread = [0.001, 0.05, 1.0, 20.0][rng.below(4)];
        let members = 1 + rng.below(150);
        for chunk in 0..members.div_ceil(50) {
            let mut command = cmd(&["GEOADD", &key]);
            match rng.below(6) {
                0 => command.push(b"CH".to_vec()),
                1 if chunk > 0 => command.push(b"NX".to_vec()),
                _ => {}
            }
            for j in chunk * 50..members.min(chunk * 50 + 50) {
                let lon = (center.0 + rng.uniform(-spread, spread)).clamp(-180.0, 180.0);
                let lat =
                    (center.1 + rng.uniform(-spread, spread)).clamp(-MAX_LATITUDE, MAX_LATITUDE);
                command.push(format!("{lon:.6}").into_bytes());
                command.push(format!("{lat:.6}").into_bytes());
                command.push(format!("m{j}").into_bytes());
            }
            build.push(command);
        }
        for _ in 0..5 {
            searches.push(random_search(rng, &key, center, spread, members));
        }
    }
    pair.run_both("GEOADD", &build)?;
    let answers = pair.run_both("GEOSEARCH", &searches)?;
    let found = answers
        .iter()
        .filter(|a| matches!(a, Reply::Array(Some(items)) if !items.is_empty()))
        .count();
    let ok = if pair.mismatches == before {
        "identical"
    } else {
        "DIFFERENT"
    };
    Ok(format!(
        "geo: {count} sets, {} GEOSEARCH answers {ok} ({found} non-empty)",
        searches.len()
    ))
}

fn random_search(
    rng: &mut Rng,
    key: &str,
    center: (f64, f64),
    spread: f64,
    members: usize,
) -> Vec<Vec<u8>> {
    let mut command = cmd(&["GEOSEARCH", key]);
    if rng.below(2) == 0 {
        let member = format!("m{}", rng.below(members));
        command.extend(cmd(&["FROMMEMBER", &member]));
    } else {
        let lon = (center.0 + rng.uniform(-spread, spread)).clamp(-180.0, 180.0);
        let lat = (center.1 + rng.uniform(-spread, spread)).clamp(-MAX_LATITUDE, MAX_LATITUDE);
        command.extend(cmd(&[
            "FROMLONLAT",
            &format!("{lon:.6}"),
            &format!("{lat:.6}"),
        ]));
    }
    let (unit, metres) = GEO_UNITS[rng.below(GEO_UNITS.len())];
    // About one degree of latitude is 111 km; search a fraction to a multiple of the spread.
    let reach = spread * 111_000.0 * rng.uniform(0.05, 2.0) / metres;
    if rng.below(2) == 0 {
        command.extend(cmd(&["BYRADIUS", &format!("{reach:.3}"), unit]));
    } else {
        let height = reach * rng.uniform(0.3, 2.0);
        command.extend(cmd(&[
            "BYBOX",
            &format!("{reach:.3}"),
            &format!("{height:.3}"),
            unit,
        ]));
    }
    command.push(b"ASC".to_vec());
    if rng.below(2) == 0 {
        command.extend(cmd(&["COUNT", &(1 + rng.below(20)).to_string()]));
    }
    for option in ["WITHDIST", "WITHCOORD", "WITHHASH"] {
        if rng.below(2) == 0 {
            command.push(option.as_bytes().to_vec());
        }
    }
    command
}

// ---------------------------------------------------------------------------------------------
// The two servers, and a minimal RESP2 client.

struct Pair {
    oxidis: Client,
    redis: Client,
    compared: usize,
    mismatches: usize,
}

impl Pair {
    /// Runs `commands` on both servers and compares each pair of replies; returns Redis's.
    fn run_both(&mut self, phase: &str, commands: &[Vec<Vec<u8>>]) -> Result<Vec<Reply>> {
        let ours = self.oxidis.pipeline(commands)?;
        let theirs = self.redis.pipeline(commands)?;
        for ((command, a), b) in commands.iter().zip(&ours).zip(&theirs) {
            self.compared += 1;
            if a != b {
                self.mismatch(&format!(
                    "{phase}: {}\n    oxidis: {}\n    redis:  {}",
                    show_command(command),
                    a.show(),
                    b.show()
                ));
            }
        }
        Ok(theirs)
    }

    fn mismatch(&mut self, text: &str) {
        self.mismatches += 1;
        if self.mismatches <= SHOWN_MISMATCHES {
            println!("MISMATCH {text}");
        }
    }
}

/// A reply, as RESP2 delivers it (and the RESP3 types, after `HELLO 3`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
    /// RESP3 `_`.
    Null,
    /// RESP3 `,` (its text, compared as sent), `(` and `#`.
    Double(String),
    BigNumber(String),
    Bool(bool),
    /// RESP3 `=`: the format and the text.
    Verbatim(Vec<u8>),
    Map(Vec<(Reply, Reply)>),
    Set(Vec<Reply>),
}

impl Reply {
    /// A short rendering for mismatch reports.
    fn show(&self) -> String {
        let text = format!("{self:?}");
        match text.char_indices().nth(300) {
            Some((cut, _)) => format!("{}... ({} chars)", &text[..cut], text.len()),
            None => text,
        }
    }
}

struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(port: u16) -> Result<Client> {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .with_context(|| format!("cannot connect to port {port}"))?;
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        Ok(Client {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    fn call(&mut self, command: &[Vec<u8>]) -> Result<Reply> {
        let mut replies = self.pipeline(std::slice::from_ref(&command.to_vec()))?;
        replies.pop().context("no reply")
    }

    /// Sends the commands in batches, reading each batch's replies before the next.
    fn pipeline(&mut self, commands: &[Vec<Vec<u8>>]) -> Result<Vec<Reply>> {
        let mut replies = Vec::with_capacity(commands.len());
        for batch in commands.chunks(BATCH) {
            let mut out = Vec::new();
            for command in batch {
                out.extend_from_slice(format!("*{}\r\n", command.len()).as_bytes());
                for arg in command {
                    out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
                    out.extend_from_slice(arg);
                    out.extend_from_slice(b"\r\n");
                }
            }
            self.writer.write_all(&out)?;
            for _ in batch {
                replies.push(self.read_reply()?);
            }
        }
        Ok(replies)
    }

    fn read_reply(&mut self) -> Result<Reply> {
        let mut line = Vec::new();
        self.reader.read_until(b'\n', &mut line)?;
        if !line.ends_with(b"\r\n") {
            bail!("connection closed or malformed reply {line:?}");
        }
        line.truncate(line.len() - 2);
        let (kind, rest) = line.split_first().context("empty reply line")?;
        let text = String::from_utf8_lossy(rest).into_owned();
        let number = || -> Result<i64> { text.parse().context("bad length or integer") };
        Ok(match kind {
            b'+' => Reply::Simple(text),
            b'-' => Reply::Error(text),
            b':' => Reply::Int(number()?),
            b'$' => match usize::try_from(number()?) {
                Ok(len) => {
                    let mut data = vec![0; len + 2];
                    std::io::Read::read_exact(&mut self.reader, &mut data)?;
                    data.truncate(len);
                    Reply::Bulk(Some(data))
                }
                Err(_) => Reply::Bulk(None),
            },
            b'*' => match usize::try_from(number()?) {
                Ok(len) => {
                    let mut items = Vec::with_capacity(len);
                    for _ in 0..len {
                        items.push(self.read_reply()?);
                    }
                    Reply::Array(Some(items))
                }
                Err(_) => Reply::Array(None),
            },
            b'_' => Reply::Null,
            b',' => Reply::Double(text),
            b'(' => Reply::BigNumber(text),
            b'#' => Reply::Bool(text == "t"),
            b'=' => {
                let len = usize::try_from(number()?).context("verbatim length")?;
                let mut data = vec![0; len + 2];
                std::io::Read::read_exact(&mut self.reader, &mut data)?;
                data.truncate(len);
                Reply::Verbatim(data)
            }
            b'%' => {
                let len = usize::try_from(number()?).context("map length")?;
                let mut pairs = Vec::with_capacity(len);
                for _ in 0..len {
                    let key = self.read_reply()?;
                    pairs.push((key, self.read_reply()?));
                }
                Reply::Map(pairs)
            }
            b'~' => {
                let len = usize::try_from(number()?).context("set length")?;
                let mut items = Vec::with_capacity(len);
                for _ in 0..len {
                    items.push(self.read_reply()?);
                }
                Reply::Set(items)
            }
            other => bail!("unexpected reply type {:?}", char::from(*other)),
        })
    }
}

fn cmd(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

fn show_command(command: &[Vec<u8>]) -> String {
    let mut parts: Vec<String> = command
        .iter()
        .take(8)
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect();
    if command.len() > 8 {
        parts.push(format!("... ({} args)", command.len()));
    }
    parts.join(" ")
}

/// SplitMix64: a small seeded generator, so runs replay exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }

    fn byte(&mut self) -> u8 {
        self.next().to_le_bytes()[0]
    }

    /// Uniform in `low..high`.
    fn uniform(&mut self, low: f64, high: f64) -> f64 {
        let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        low + (high - low) * unit
    }
}
