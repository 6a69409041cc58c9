//! End-to-end checks of `oxidis-cli` against a live server.
//!
//! The server is `redis-server` from PATH, or the binary named by `OXIDIS_CLI_TEST_SERVER`
//! (started as `<server> --port <free port> --save ''`). When it cannot be found the tests print
//! a note and pass without checking anything.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A server process on a free port, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// Starts the server, or returns `None` (after a note) when it is not installed.
fn start_server() -> Option<Server> {
    let program =
        std::env::var("OXIDIS_CLI_TEST_SERVER").unwrap_or_else(|_| "redis-server".to_string());
    let port = free_port();
    let child = match Command::new(&program)
        .args(["--port", &port.to_string(), "--save", ""])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            eprintln!("note: skipping, cannot start {program}: {e}");
            return None;
        }
    };
    let server = Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{program} did not start listening on port {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(server)
}

/// Runs the CLI against `server` with `args`, feeding `stdin`.
fn cli(server: &Server, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_oxidis-cli"))
        .args(["-p", &server.port.to_string()])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn oxidis-cli");
    let mut input = child.stdin.take().expect("stdin pipe");
    input.write_all(stdin).expect("write stdin");
    drop(input);
    child.wait_with_output().expect("wait for oxidis-cli")
}

/// Runs a one-shot command and returns its stdout, asserting success.
fn run(server: &Server, args: &[&str]) -> String {
    let out = cli(server, args, b"");
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn one_shot_raw_output_when_not_a_tty() {
    let Some(server) = start_server() else { return };
    assert_eq!(run(&server, &["set", "k", "hello world"]), "OK\n");
    assert_eq!(run(&server, &["get", "k"]), "hello world\n");
    assert_eq!(run(&server, &["get", "missing"]), "\n");
    assert_eq!(run(&server, &["incr", "n"]), "1\n");
    assert_eq!(run(&server, &["incrby", "n", "-3"]), "-2\n");
    assert_eq!(run(&server, &["rpush", "l", "a", "b c", "d"]), "3\n");
    assert_eq!(run(&server, &["lrange", "l", "0", "-1"]), "a\nb c\nd\n");
    assert_eq!(
        run(&server, &["-d", ",", "lrange", "l", "0", "-1"]),
        "a,b c,d\n"
    );
    // Errors go to stdout and do not change the exit status, unless -e is given.
    assert_eq!(
        run(&server, &["incr", "k"]),
        "ERR value is not an integer or out of range\n\n"
    );
    let out = cli(&server, &["-e", "incr", "k"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "ERR value is not an integer or out of range\n"
    );
}

#[test]
fn one_shot_formatted_output() {
    let Some(server) = start_server() else { return };
    assert_eq!(
        run(&server, &["--no-raw", "set", "k", "a\"b\n\x01"]),
        "OK\n"
    );
    assert_eq!(
        run(&server, &["--no-raw", "get", "k"]),
        "\"a\\\"b\\n\\x01\"\n"
    );
    assert_eq!(run(&server, &["--no-raw", "get", "missing"]), "(nil)\n");
    assert_eq!(run(&server, &["--no-raw", "incr", "n"]), "(integer) 1\n");
    assert_eq!(
        run(&server, &["--no-raw", "lrange", "l", "0", "-1"]),
        "(empty array)\n"
    );
    run(&server, &["rpush", "l", "a", "b"]);
    assert_eq!(
        run(&server, &["--no-raw", "lrange", "l", "0", "-1"]),
        "1) \"a\"\n2) \"b\"\n"
    );
    assert_eq!(
        run(&server, &["--no-raw", "incr", "k"]),
        "(error) ERR value is not an integer or out of range\n"
    );
    run(&server, &["hset", "h", "f", "v"]);
    assert_eq!(
        run(&server, &["-3", "--no-raw", "hgetall", "h"]),
        "1# \"f\" => \"v\"\n"
    );
    assert_eq!(
        run(&server, &["--no-raw", "-r", "3", "incr", "c"]),
        "(integer) 1\n(integer) 2\n(integer) 3\n"
    );
    assert_eq!(
        run(&server, &["-n", "2", "--no-raw", "dbsize"]),
        "(integer) 0\n"
    );
}

#[test]
fn last_argument_from_stdin() {
    let Some(server) = start_server() else { return };
    let out = cli(&server, &["-x", "set", "k"], b"from stdin\n");
    assert!(out.status.success());
    assert_eq!(run(&server, &["strlen", "k"]), "11\n");
}

#[test]
fn commands_from_piped_stdin() {
    let Some(server) = start_server() else { return };
    let out = cli(
        &server,
        &["--no-raw"],
        b"set a 1\nincr a\n\"unbalanced\nselect 2\nget a\nquit\nping\n",
    );
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "OK\n(integer) 2\nInvalid argument(s)\nOK\n(nil)\n"
    );
}

#[test]
fn pipe_mode_counts_replies_and_errors() {
    let Some(server) = start_server() else { return };
    let mut input = Vec::new();
    for i in 0..1000 {
        let key = format!("key:{i}");
        input.extend_from_slice(
            format!("*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n$1\r\nv\r\n", key.len()).as_bytes(),
        );
    }
    let out = cli(&server, &["--pipe"], &input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "All data transferred. Waiting for the last reply...\nLast reply received from server.\nerrors: 0, replies: 1000\n"
    );
    assert_eq!(run(&server, &["dbsize"]), "1000\n");

    let out = cli(
        &server,
        &["--pipe"],
        b"*2\r\n$4\r\nINCR\r\n$5\r\nkey:1\r\nPING\r\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("errors: 1, replies: 2\n"));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "ERR value is not an integer or out of range\n"
    );
}

#[test]
fn connection_refused_is_reported() {
    let port = free_port();
    let out = Command::new(env!("CARGO_BIN_EXE_oxidis-cli"))
        .args(["-p", &port.to_string(), "ping"])
        .output()
        .expect("run oxidis-cli");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("Could not connect to Redis at 127.0.0.1:{port}: Connection refused\n")
    );
}
