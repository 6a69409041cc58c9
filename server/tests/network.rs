//! The connection layer against the real binary: pipelining, protocol errors, limits, many
//! clients, and active expiry with no client access.

mod support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use support::{ServerProcess, read_to_close};

#[test]
fn ten_thousand_pipelined_commands_in_one_write_are_answered_in_order() {
    let server = ServerProcess::start();
    let mut stream = server.raw();
    let mut request = Vec::new();
    for i in 0..10_000 {
        let value = i.to_string();
        request.extend_from_slice(
            format!(
                "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n{value}\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
                value.len()
            )
            .as_bytes(),
        );
    }
    stream.write_all(&request).expect("write");
    let mut expected = Vec::new();
    for i in 0..10_000 {
        let value = i.to_string();
        expected.extend_from_slice(format!("+OK\r\n${}\r\n{value}\r\n", value.len()).as_bytes());
    }
    let mut received = vec![0u8; expected.len()];
    stream.read_exact(&mut received).expect("all replies");
    assert_eq!(received, expected);
}

#[test]
fn garbage_gets_a_protocol_error_and_closes_only_that_connection() -> redis::RedisResult<()> {
    let server = ServerProcess::start();
    let mut bystander = server.connect()?;
    redis::cmd("SET")
        .arg("kept")
        .arg("1")
        .query::<()>(&mut bystander)?;

    let mut stream = server.raw();
    stream.write_all(b"*1\r\nx\r\n").expect("write");
    assert_eq!(
        read_to_close(&mut stream),
        b"-ERR Protocol error: expected '$', got 'x'\r\n"
    );
    let mut stream = server.raw();
    stream.write_all(b"*abc\r\n").expect("write");
    assert_eq!(
        read_to_close(&mut stream),
        b"-ERR Protocol error: invalid multibulk length\r\n"
    );
    let mut stream = server.raw();
    stream.write_all(b"SET \"unbalanced\r\n").expect("write");
    assert_eq!(
        read_to_close(&mut stream),
        b"-ERR Protocol error: unbalanced quotes in request\r\n"
    );

    let value: String = redis::cmd("GET").arg("kept").query(&mut bystander)?;
    assert_eq!(value, "1");
    Ok(())
}

#[test]
fn a_bulk_longer_than_proto_max_bulk_len_is_refused() {
    let server = ServerProcess::start_with(&["--proto-max-bulk-len", "1mb"]);
    let mut stream = server.raw();
    stream
        .write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n")
        .expect("write");
    assert_eq!(
        read_to_close(&mut stream),
        b"-ERR Protocol error: invalid bulk length\r\n"
    );
    // Exactly the limit is fine.
    let mut stream = server.raw();
    let mut request = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048576\r\n".to_vec();
    request.extend(std::iter::repeat_n(b'v', 1_048_576));
    request.extend_from_slice(b"\r\n");
    stream.write_all(&request).expect("write");
    let mut reply = [0u8; 5];
    stream.read_exact(&mut reply).expect("reply");
    assert_eq!(&reply, b"+OK\r\n");
}

#[test]
fn a_thousand_concurrent_clients_are_served() -> redis::RedisResult<()> {
    let server = ServerProcess::start();
    let mut connections = Vec::new();
    for _ in 0..1000 {
        connections.push(server.connect()?);
    }
    for (i, con) in connections.iter_mut().enumerate() {
        redis::cmd("SET")
            .arg(format!("client:{i}"))
            .arg(i)
            .query::<()>(con)?;
    }
    for (i, con) in connections.iter_mut().enumerate().rev() {
        let value: usize = redis::cmd("GET").arg(format!("client:{i}")).query(con)?;
        assert_eq!(value, i);
    }
    let mut con = server.connect()?;
    let size: usize = redis::cmd("DBSIZE").query(&mut con)?;
    assert_eq!(size, 1000);
    Ok(())
}

#[test]
fn active_expiry_reclaims_a_hundred_thousand_keys_without_access() -> redis::RedisResult<()> {
    let server = ServerProcess::start();
    let mut con = server.connect()?;
    let mut pipe = redis::pipe();
    for i in 0..100_000 {
        pipe.cmd("SET")
            .arg(format!("volatile:{i}"))
            .arg("v")
            .arg("PX")
            .arg(100)
            .ignore();
    }
    pipe.cmd("SET").arg("persistent").arg("v").ignore();
    pipe.query::<()>(&mut con)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // DBSIZE counts expired keys that have not been reclaimed yet, so it only drops as the
        // active cycle frees them.
        let size: usize = redis::cmd("DBSIZE").query(&mut con)?;
        if size == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "{size} keys left after 10 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    let expired: String = redis::cmd("INFO").arg("stats").query(&mut con)?;
    assert!(expired.contains("expired_keys:100000"), "{expired}");
    Ok(())
}

#[test]
fn config_set_port_moves_the_listener_or_fails_and_rolls_back() -> redis::RedisResult<()> {
    let server = ServerProcess::start();
    let mut con = server.connect()?;
    // A port someone else listens on: the whole command is refused and nothing changes.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let taken_port = taken.local_addr().expect("bound").port().to_string();
    let err = redis::cmd("CONFIG")
        .arg(&["SET", "maxmemory", "10000001", "port", &taken_port])
        .query::<()>(&mut con)
        .expect_err("the port is in use");
    assert!(
        err.to_string()
            .contains("CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port"),
        "{err}"
    );
    let maxmemory: Vec<String> = redis::cmd("CONFIG")
        .arg(&["GET", "maxmemory"])
        .query(&mut con)?;
    assert_eq!(maxmemory, ["maxmemory", "0"]);
    drop(taken);

    // A free port: the server answers there, and no longer on the old one.
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let new_port = free.local_addr().expect("bound").port();
    drop(free);
    let _: () = redis::cmd("CONFIG")
        .arg(&["SET", "port", &new_port.to_string()])
        .query(&mut con)?;
    let mut moved =
        redis::Client::open(format!("redis://127.0.0.1:{new_port}/"))?.get_connection()?;
    assert_eq!(redis::cmd("PING").query::<String>(&mut moved)?, "PONG");
    assert!(std::net::TcpStream::connect(("127.0.0.1", server.port)).is_err());
    // The connection that asked is still served.
    assert_eq!(redis::cmd("PING").query::<String>(&mut con)?, "PONG");
    Ok(())
}
