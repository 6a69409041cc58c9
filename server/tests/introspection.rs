//! Introspection and operations against the real binary: CLIENT KILL closes the right
//! connection, CLIENT PAUSE WRITE holds a SET back but not a GET, MONITOR sees commands, and
//! SLOWLOG records a slow one.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::{ServerProcess, info_field};

fn wait_for_blocked(con: &mut redis::Connection, count: usize) -> redis::RedisResult<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while info_field(con, "clients", "blocked_clients") != Some(count.to_string()) {
        assert!(
            Instant::now() < deadline,
            "never reached {count} blocked clients"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

fn send(stream: &mut TcpStream, args: &[&str]) {
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    stream.write_all(request.as_bytes()).expect("write");
}

fn read_line(reader: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    reader.read_line(&mut line).expect("a line");
    line
}

#[test]
fn client_kill_by_id_closes_that_connection_only() -> redis::RedisResult<()> {
    let server = ServerProcess::start();
    let mut admin = server.connect()?;
    let mut victim = server.connect()?;
    let mut bystander = server.connect()?;
    let victim_id: i64 = redis::cmd("CLIENT").arg("ID").query(&mut victim)?;
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(victim_id)
        .query(&mut admin)?;
    assert_eq!(killed, 1);
    assert!(redis::cmd("PING").query::<String>(&mut victim).is_err());
    assert_eq!(redis::cmd("PING").query::<String>(&mut bystander)?, "PONG");
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut admin)?;
    assert!(!list.contains(&format!("id={victim_id} ")));
    Ok(())
}

#[test]
fn client_pause_write_holds_a_set_but_not_a_get() -> redis::RedisResult<()> {
    let server = ServerProcess::start();
    let mut admin = server.connect()?;
    redis::cmd("SET")
        .arg("k")
        .arg("old")
        .query::<()>(&mut admin)?;
    let ok: String = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(60_000)
        .arg("WRITE")
        .query(&mut admin)?;
    assert_eq!(ok, "OK");

    let mut reader = server.connect()?;
    let value: String = redis::cmd("GET").arg("k").query(&mut reader)?;
    assert_eq!(value, "old");

    let mut writer = server.raw();
    send(&mut writer, &["SET", "k", "new"]);
    wait_for_blocked(&mut admin, 1)?;
    let value: String = redis::cmd("GET").arg("k").query(&mut reader)?;
    assert_eq!(value, "old");

    redis::cmd("CLIENT")
        .arg("UNPAUSE")
        .query::<()>(&mut admin)?;
    let mut reply = [0u8; 5];
    writer.read_exact(&mut reply).expect("the SET's reply");
    assert_eq!(&reply, b"+OK\r\n");
    let value: String = redis::cmd("GET").arg("k").query(&mut reader)?;
    assert_eq!(value, "new");
    Ok(())
}

#[test]
fn a_pause_ends_by_itself_when_its_time_is_up() -> redis::RedisResult<()> {
    let server = ServerProcess::start();
    let mut admin = server.connect()?;
    redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(200)
        .query::<()>(&mut admin)?;
    let started = Instant::now();
    let mut paused = server.raw();
    send(&mut paused, &["PING"]);
    let mut reply = [0u8; 7];
    paused.read_exact(&mut reply).expect("the PING's reply");
    assert_eq!(&reply, b"+PONG\r\n");
    assert!(started.elapsed() >= Duration::from_millis(150));
    Ok(())
}

#[test]
fn monitor_sees_commands_with_redacted_passwords() -> redis::RedisResult<()> {
    let server = ServerProcess::start();
    let mut stream = server.raw();
    send(&mut stream, &["MONITOR"]);
    let mut monitor = BufReader::new(stream);
    assert_eq!(read_line(&mut monitor), "+OK\r\n");

    let mut con = server.connect()?;
    redis::cmd("SET")
        .arg("foo")
        .arg("bar")
        .query::<()>(&mut con)?;
    let _ = redis::cmd("AUTH").arg("secret").query::<String>(&mut con);
    // Administrative commands are not shown.
    redis::cmd("CONFIG")
        .arg("GET")
        .arg("port")
        .query::<Vec<String>>(&mut con)?;
    redis::cmd("GET").arg("foo").query::<String>(&mut con)?;

    let set = read_line(&mut monitor);
    assert!(set.starts_with('+'), "{set}");
    assert!(set.ends_with("] \"SET\" \"foo\" \"bar\"\r\n"), "{set}");
    assert!(read_line(&mut monitor).ends_with("\"AUTH\" \"(redacted)\"\r\n"));
    assert!(read_line(&mut monitor).ends_with("\"GET\" \"foo\"\r\n"));
    Ok(())
}

#[test]
fn slowlog_records_a_slow_command_with_the_client_name() -> redis::RedisResult<()> {
    let server = ServerProcess::start_with(&["--enable-debug-command", "yes"]);
    let mut con = server.connect()?;
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-log-slower-than")
        .arg(50_000)
        .query::<()>(&mut con)?;
    redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("sleepy")
        .query::<()>(&mut con)?;
    redis::cmd("DEBUG")
        .arg("SLEEP")
        .arg("0.1")
        .query::<()>(&mut con)?;
    redis::cmd("PING").query::<String>(&mut con)?;
    let entries: Vec<(i64, i64, i64, Vec<String>, String, String)> =
        redis::cmd("SLOWLOG").arg("GET").query(&mut con)?;
    assert_eq!(entries.len(), 1);
    let (_, _, micros, argv, addr, name) = &entries[0];
    assert!(*micros >= 100_000);
    assert_eq!(argv, &["DEBUG", "SLEEP", "0.1"]);
    assert!(addr.starts_with("127.0.0.1:"));
    assert_eq!(name, "sleepy");
    Ok(())
}
