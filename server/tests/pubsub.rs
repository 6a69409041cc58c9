//! Pub/sub against the real binary: messages across connections, RESP3 pushes, and a slow
//! subscriber cut off at its `client-output-buffer-limit` while the server carries on.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::ServerProcess;

fn read_exactly(stream: &mut TcpStream, expected: &[u8]) {
    let mut got = vec![0u8; expected.len()];
    stream.read_exact(&mut got).expect("a reply");
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(expected)
    );
}

fn numsub(con: &mut redis::Connection, channel: &str) -> redis::RedisResult<i64> {
    let reply: (String, i64) = redis::cmd("PUBSUB").arg("NUMSUB").arg(channel).query(con)?;
    Ok(reply.1)
}

#[test]
fn a_published_message_reaches_a_subscriber_on_another_connection() -> redis::RedisResult<()> {
    let server = ServerProcess::start();
    let mut subscriber = server.connect()?;
    let mut publisher = server.connect()?;
    let mut pubsub = subscriber.as_pubsub();
    pubsub.subscribe("news")?;
    pubsub.psubscribe("ne*")?;
    let receivers: i64 = redis::cmd("PUBLISH")
        .arg("news")
        .arg("hello")
        .query(&mut publisher)?;
    assert_eq!(receivers, 2);
    let message = pubsub.get_message()?;
    assert_eq!(message.get_channel_name(), "news");
    assert_eq!(message.get_payload::<String>()?, "hello");
    let pattern_message = pubsub.get_message()?;
    assert_eq!(pattern_message.get_pattern::<String>()?, "ne*");
    assert_eq!(pattern_message.get_payload::<String>()?, "hello");
    Ok(())
}

#[test]
fn resp3_subscribers_get_push_frames_and_may_run_any_command() -> redis::RedisResult<()> {
    let server = ServerProcess::start();
    let mut publisher = server.connect()?;
    let mut stream = server.raw();
    stream.write_all(b"HELLO 3\r\n").expect("write");
    // Skip the HELLO map: read until the server's reply settles.
    std::thread::sleep(Duration::from_millis(100));
    let mut scratch = [0u8; 4096];
    let _ = stream.read(&mut scratch).expect("hello reply");
    stream.write_all(b"SUBSCRIBE ch\r\n").expect("write");
    read_exactly(&mut stream, b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    // RESP3 lifts the subscribed-mode restrictions.
    stream.write_all(b"GET missing\r\n").expect("write");
    read_exactly(&mut stream, b"_\r\n");
    let receivers: i64 = redis::cmd("PUBLISH")
        .arg("ch")
        .arg("hi")
        .query(&mut publisher)?;
    assert_eq!(receivers, 1);
    read_exactly(
        &mut stream,
        b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
    );
    Ok(())
}

#[test]
fn resp2_subscribed_mode_refuses_other_commands() {
    let server = ServerProcess::start();
    let mut stream = server.raw();
    stream.write_all(b"SUBSCRIBE ch\r\n").expect("write");
    read_exactly(&mut stream, b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    stream.write_all(b"GET k\r\nPING\r\n").expect("write");
    read_exactly(
        &mut stream,
        b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n",
    );
}

#[test]
fn a_slow_subscriber_is_disconnected_at_its_limit_and_the_server_stays_up() -> redis::RedisResult<()>
{
    let server =
        ServerProcess::start_with(&["--client-output-buffer-limit", "pubsub 1mb 256kb 60"]);
    let mut publisher = server.connect()?;
    // Subscribes, then never reads again.
    let mut slow = server.raw();
    slow.write_all(b"SUBSCRIBE firehose\r\n").expect("write");
    read_exactly(
        &mut slow,
        b"*3\r\n$9\r\nsubscribe\r\n$8\r\nfirehose\r\n:1\r\n",
    );
    let payload = vec![b'x'; 64 * 1024];
    let deadline = Instant::now() + Duration::from_secs(60);
    // Far more than the limit plus what the kernel's socket buffers can absorb.
    let mut published = 0usize;
    while numsub(&mut publisher, "firehose")? > 0 {
        assert!(
            Instant::now() < deadline,
            "the slow subscriber was never disconnected ({published} messages sent)"
        );
        let _: i64 = redis::cmd("PUBLISH")
            .arg("firehose")
            .arg(&payload[..])
            .query(&mut publisher)?;
        published += 1;
    }
    // The server is fine, and the subscriber's socket was closed.
    let pong: String = redis::cmd("PING").query(&mut publisher)?;
    assert_eq!(pong, "PONG");
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut sink = vec![0u8; 1 << 20];
    loop {
        match slow.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    Ok(())
}
