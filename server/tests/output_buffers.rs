//! Output and query buffers against the real binary: a client that does not read its replies
//! keeps being served while its output is queued and counted, `client-output-buffer-limit`
//! closes a normal client, and `maxmemory-clients` evicts a client holding a big query buffer.

mod support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use support::ServerProcess;

/// The CLIENT LIST line of the client called `name`, if it is connected.
fn client_line(con: &mut redis::Connection, name: &str) -> redis::RedisResult<Option<String>> {
    let list: String = redis::cmd("CLIENT").arg("LIST").query(con)?;
    let needle = format!(" name={name} ");
    Ok(list.lines().find(|l| l.contains(&needle)).map(String::from))
}

/// The numeric field `field` of a CLIENT LIST line.
fn field(line: &str, field: &str) -> u64 {
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(&format!("{field}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn set_config(con: &mut redis::Connection, name: &str, value: &str) -> redis::RedisResult<()> {
    redis::cmd("CONFIG")
        .arg("SET")
        .arg(name)
        .arg(value)
        .query(con)
}

/// Polls `check` for up to 10 seconds.
fn eventually(
    mut check: impl FnMut() -> redis::RedisResult<bool>,
    what: &str,
) -> redis::RedisResult<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check()? {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

#[test]
fn a_client_that_does_not_read_is_still_served_and_its_output_counted() -> redis::RedisResult<()> {
    let server = ServerProcess::start();
    let mut con = server.connect()?;
    let value = "v".repeat(1 << 20);
    redis::cmd("SET")
        .arg("k")
        .arg(&value)
        .query::<()>(&mut con)?;
    let mut slow = server.raw();
    slow.write_all(b"CLIENT SETNAME slow\r\n").expect("write");
    let mut ok = [0u8; 5];
    slow.read_exact(&mut ok).expect("read");
    assert_eq!(&ok, b"+OK\r\n");
    // Far more than the socket buffers hold, sent without reading a byte.
    let requests = 32;
    for _ in 0..requests {
        slow.write_all(b"GET k\r\n").expect("write");
    }
    eventually(
        || {
            Ok(client_line(&mut con, "slow")?.is_some_and(|line| {
                field(&line, "omem") > 1 << 20 && field(&line, "tot-mem") > 1 << 20
            }))
        },
        "the unread replies show in omem",
    )?;
    // Everyone else is served meanwhile.
    let pong: String = redis::cmd("PING").query(&mut con)?;
    assert_eq!(pong, "PONG");
    // And every reply arrives, in full, once the client reads.
    let reply_len = format!("${}\r\n", value.len()).len() + value.len() + 2;
    let mut left = reply_len * requests;
    let mut sink = vec![0u8; 1 << 16];
    while left > 0 {
        let n = slow.read(&mut sink).expect("read");
        assert!(n > 0, "connection closed with {left} bytes to go");
        left = left.checked_sub(n).expect("more bytes than the replies");
    }
    eventually(
        || Ok(client_line(&mut con, "slow")?.is_some_and(|line| field(&line, "omem") == 0)),
        "omem is back to 0",
    )
}

#[test]
fn a_normal_client_past_its_output_limit_is_closed() -> redis::RedisResult<()> {
    let server = ServerProcess::start();
    let mut con = server.connect()?;
    set_config(&mut con, "client-output-buffer-limit", "normal 1mb 0 0")?;
    redis::cmd("SET")
        .arg("k")
        .arg("v".repeat(300 << 10))
        .query::<()>(&mut con)?;
    let mut slow = server.raw();
    slow.write_all(b"CLIENT SETNAME slow\r\n").expect("write");
    let mut ok = [0u8; 5];
    slow.read_exact(&mut ok).expect("read");
    for _ in 0..64 {
        if slow.write_all(b"GET k\r\n").is_err() {
            break;
        }
    }
    eventually(
        || Ok(client_line(&mut con, "slow")?.is_none()),
        "the client is closed",
    )?;
    let pong: String = redis::cmd("PING").query(&mut con)?;
    assert_eq!(pong, "PONG");
    Ok(())
}

#[test]
fn maxmemory_clients_evicts_a_big_query_buffer_but_not_no_evict_clients() -> redis::RedisResult<()>
{
    let server = ServerProcess::start();
    let mut con = server.connect()?;
    // The test's own connection must stay, as the suite's does.
    redis::cmd("CLIENT")
        .arg("NO-EVICT")
        .arg("on")
        .query::<()>(&mut con)?;
    set_config(&mut con, "maxmemory-clients", "1mb")?;
    let mut clients = Vec::new();
    for (name, no_evict) in [("kept", "on"), ("evicted", "off")] {
        let mut raw = server.raw();
        let setup = format!("CLIENT SETNAME {name}\r\nCLIENT NO-EVICT {no_evict}\r\n");
        raw.write_all(setup.as_bytes()).expect("write");
        let mut ok = [0u8; 10];
        raw.read_exact(&mut ok).expect("read");
        clients.push(raw);
    }
    // Arguments announced at 2 MB, of which part arrives: 500 KB (under the limit), then
    // 1.5 MB from the other client (over it).
    for (raw, sent) in clients.iter_mut().zip([500_000, 1_500_000]) {
        raw.write_all(b"*2\r\n$3\r\nGET\r\n$2000000\r\n")
            .expect("write");
        // The second client may be evicted before all of it is written.
        let written = raw.write_all(&vec![b'x'; sent]);
        assert!(written.is_ok() || sent > 1_000_000);
        if sent == 500_000 {
            eventually(
                || {
                    Ok(client_line(&mut con, "kept")?
                        .is_some_and(|line| field(&line, "qbuf") == 500_000))
                },
                "the partial argument shows in qbuf",
            )?;
        }
    }
    eventually(
        || Ok(client_line(&mut con, "evicted")?.is_none()),
        "the client is evicted",
    )?;
    assert!(client_line(&mut con, "kept")?.is_some());
    let info: String = redis::cmd("INFO").arg("stats").query(&mut con)?;
    assert!(info.contains("evicted_clients:1\r\n"), "{info}");
    Ok(())
}
