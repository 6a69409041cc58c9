//! Blocking list commands against the real binary: arrival order, timeouts, and a waiter whose
//! connection drops.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::ServerProcess;

fn blocked_clients(con: &mut redis::Connection) -> redis::RedisResult<usize> {
    let info: String = redis::cmd("INFO").arg("clients").query(con)?;
    Ok(info
        .lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0))
}

fn wait_for_blocked(con: &mut redis::Connection, count: usize) -> redis::RedisResult<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while blocked_clients(con)? != count {
        assert!(
            Instant::now() < deadline,
            "never reached {count} blocked clients"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

fn read_reply(stream: &mut TcpStream, expected_len: usize) -> Vec<u8> {
    let mut reply = vec![0u8; expected_len];
    stream.read_exact(&mut reply).expect("a reply");
    reply
}

#[test]
fn a_thousand_clients_blocked_on_one_list_are_served_in_arrival_order() -> redis::RedisResult<()> {
    let server = ServerProcess::start();
    let mut admin = server.connect()?;
    let mut waiters = Vec::new();
    for i in 0..1000 {
        let mut stream = server.raw();
        stream
            .write_all(b"*3\r\n$5\r\nBLPOP\r\n$5\r\nqueue\r\n$1\r\n0\r\n")
            .expect("write");
        waiters.push(stream);
        // Each client must be queued before the next one arrives for the order to be defined.
        wait_for_blocked(&mut admin, i + 1)?;
    }
    let mut push = redis::cmd("RPUSH");
    push.arg("queue");
    for i in 0..1000 {
        push.arg(format!("{i:04}"));
    }
    let pushed: usize = push.query(&mut admin)?;
    assert_eq!(pushed, 1000);
    for (i, stream) in waiters.iter_mut().enumerate() {
        let expected = format!("*2\r\n$5\r\nqueue\r\n$4\r\n{i:04}\r\n");
        assert_eq!(read_reply(stream, expected.len()), expected.as_bytes());
    }
    assert_eq!(blocked_clients(&mut admin)?, 0);
    let left: usize = redis::cmd("EXISTS").arg("queue").query(&mut admin)?;
    assert_eq!(left, 0);
    Ok(())
}

#[test]
fn a_waiter_that_disconnects_is_forgotten_and_the_element_stays() -> redis::RedisResult<()> {
    let server = ServerProcess::start();
    let mut admin = server.connect()?;
    {
        let mut gone = server.raw();
        gone.write_all(b"*3\r\n$5\r\nBLPOP\r\n$4\r\nlist\r\n$1\r\n0\r\n")
            .expect("write");
        wait_for_blocked(&mut admin, 1)?;
    }
    wait_for_blocked(&mut admin, 0)?;
    let _: usize = redis::cmd("RPUSH")
        .arg("list")
        .arg("kept")
        .query(&mut admin)?;
    let items: Vec<String> = redis::cmd("LRANGE")
        .arg("list")
        .arg(0)
        .arg(-1)
        .query(&mut admin)?;
    assert_eq!(items, ["kept"]);
    Ok(())
}

#[test]
fn a_timeout_answers_a_null_array_and_later_commands_still_run() {
    let server = ServerProcess::start();
    let mut stream = server.raw();
    let started = Instant::now();
    // The PING pipelined behind the blocked command runs once the wait ends.
    stream
        .write_all(b"*3\r\n$5\r\nBLPOP\r\n$4\r\nnone\r\n$3\r\n0.2\r\n*1\r\n$4\r\nPING\r\n")
        .expect("write");
    assert_eq!(read_reply(&mut stream, 5), b"*-1\r\n");
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(read_reply(&mut stream, 7), b"+PONG\r\n");
}
