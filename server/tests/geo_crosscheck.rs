//! Geo against the reference: 200 geo sets built by the same random GEOADDs on oxidis-server
//! and on a real `redis-server` (started by the test; `$REDIS_SERVER_BIN` or `redis-server` on
//! the PATH, skipped when there is none) answer GEOSEARCH, GEORADIUS, GEOPOS, GEOHASH and
//! GEODIST identically, byte for byte: same members, order, distances and coordinates.

mod support;

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::ServerProcess;

/// A real redis-server on a free port, killed on drop.
struct Reference {
    child: Child,
    port: u16,
}

impl Reference {
    fn start() -> Option<Reference> {
        let bin = std::env::var("REDIS_SERVER_BIN").unwrap_or_else(|_| "redis-server".into());
        for _ in 0..20 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .ok()?;
            let child = Command::new(&bin)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .ok()?;
            let mut server = Reference { child, port };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = server.child.try_wait() {
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(server);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = server.child.kill();
        }
        None
    }

    fn connect(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .and_then(|c| c.get_connection())
            .expect("connect to redis-server")
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// xorshift64*: reproducible randomness without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const LAT_LIMIT: f64 = 85.051_128_78;

/// A random point, often near the poles, the antimeridian or a cluster centre.
fn point(rng: &mut Rng, centre: (f64, f64)) -> (f64, f64) {
    match rng.below(10) {
        0 => (
            rng.range(170.0, 180.0) * if rng.below(2) == 0 { 1.0 } else { -1.0 },
            rng.range(-LAT_LIMIT, LAT_LIMIT),
        ),
        1 => (
            rng.range(-180.0, 180.0),
            rng.range(75.0, LAT_LIMIT) * if rng.below(2) == 0 { 1.0 } else { -1.0 },
        ),
        2..=5 => {
            let spread = [0.01, 0.5, 5.0][rng.below(3)];
            (
                (centre.0 + rng.range(-spread, spread)).clamp(-180.0, 180.0),
                (centre.1 + rng.range(-spread, spread)).clamp(-LAT_LIMIT, LAT_LIMIT),
            )
        }
        _ => (rng.range(-180.0, 180.0), rng.range(-LAT_LIMIT, LAT_LIMIT)),
    }
}

fn query(con: &mut redis::Connection, cmd: &redis::Cmd) -> redis::Value {
    match cmd.query::<redis::Value>(con) {
        Ok(value) => value,
        Err(e) => redis::Value::SimpleString(format!("error: {e}")),
    }
}

#[test]
fn geo_sets_answer_like_redis_server() {
    let Some(reference) = Reference::start() else {
        eprintln!("skipped: no redis-server to compare with");
        return;
    };
    let server = ServerProcess::start();
    let mut ours = server.connect().expect("connect to oxidis-server");
    let mut theirs = reference.connect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut compared = 0;
    for set in 0..200 {
        let key = format!("geo:{set}");
        let centre = point(&mut rng, (0.0, 0.0));
        let members = [3, 20, 150, 400][rng.below(4)];
        let mut add = redis::cmd("GEOADD");
        add.arg(&key);
        for m in 0..members {
            let (lon, lat) = point(&mut rng, centre);
            add.arg(lon).arg(lat).arg(format!("m{m}"));
        }
        assert_eq!(query(&mut ours, &add), query(&mut theirs, &add), "{key}");
        for _ in 0..8 {
            let (lon, lat) = if rng.below(2) == 0 {
                centre
            } else {
                point(&mut rng, centre)
            };
            let unit = rng.pick(&["m", "km", "ft", "mi"]);
            let per_unit = match unit {
                "km" => 1000.0,
                "ft" => 0.3048,
                "mi" => 1609.34,
                _ => 1.0,
            };
            let radius = [100.0, 1e4, 1e5, 1e6, 5e6][rng.below(5)] * rng.unit() / per_unit;
            let mut search = redis::cmd("GEOSEARCH");
            search.arg(&key);
            if rng.below(4) == 0 {
                search
                    .arg("FROMMEMBER")
                    .arg(format!("m{}", rng.below(members)));
            } else {
                search.arg("FROMLONLAT").arg(lon).arg(lat);
            }
            if rng.below(2) == 0 {
                search.arg("BYRADIUS").arg(radius).arg(unit);
            } else {
                search
                    .arg("BYBOX")
                    .arg(radius * rng.range(0.2, 3.0))
                    .arg(radius * rng.range(0.2, 3.0))
                    .arg(unit);
            }
            for option in ["WITHDIST", "WITHHASH", "WITHCOORD"] {
                if rng.below(2) == 0 {
                    search.arg(option);
                }
            }
            if rng.below(2) == 0 {
                search.arg(rng.pick(&["ASC", "DESC"]));
            }
            if rng.below(3) == 0 {
                search.arg("COUNT").arg(1 + rng.below(20));
                if rng.below(3) == 0 {
                    search.arg("ANY");
                }
            }
            assert_eq!(
                query(&mut ours, &search),
                query(&mut theirs, &search),
                "{search:?}"
            );
            let mut radius_cmd = redis::cmd("GEORADIUS");
            radius_cmd
                .arg(&key)
                .arg(lon)
                .arg(lat)
                .arg(radius)
                .arg(unit)
                .arg("WITHDIST")
                .arg("ASC");
            assert_eq!(
                query(&mut ours, &radius_cmd),
                query(&mut theirs, &radius_cmd)
            );
            compared += 2;
        }
        let mut reads = Vec::new();
        for name in ["GEOPOS", "GEOHASH"] {
            let mut cmd = redis::cmd(name);
            cmd.arg(&key);
            for m in (0..members).step_by(3) {
                cmd.arg(format!("m{m}"));
            }
            reads.push(cmd);
        }
        let mut dist = redis::cmd("GEODIST");
        dist.arg(&key)
            .arg("m0")
            .arg(format!("m{}", members - 1))
            .arg(rng.pick(&["m", "km", "ft", "mi"]));
        reads.push(dist);
        for cmd in &reads {
            assert_eq!(query(&mut ours, cmd), query(&mut theirs, cmd), "{cmd:?}");
        }
    }
    assert_eq!(compared, 200 * 8 * 2);
}
