//! The client state shared by the one-shot and interactive modes: the connection (re-opened on
//! demand), the login and database settings replayed on every connect, and the command loop that
//! sends a command, prints its reply and follows SELECT, MULTI and friends.

use std::io::{self, Write};
use std::time::Duration;

use oxidis_protocol::Frame;

use crate::connection::{Connection, Target};
use crate::format::{Formatter, OutputMode, format_invalidate};

/// Everything needed to (re)connect and to print replies.
#[derive(Debug)]
pub struct Session {
    /// The server address.
    pub target: Target,
    /// The open connection, `None` until connected or after an I/O error.
    pub conn: Option<Connection>,
    /// `AUTH` user name (`--user`).
    pub user: Option<Vec<u8>>,
    /// `AUTH` password (`-a`).
    pub password: Option<Vec<u8>>,
    /// The database asked for with `-n` or the last successful `SELECT`.
    pub input_db: i64,
    /// The database the connection is in.
    pub db: i64,
    /// Switch to RESP3 with `HELLO 3` after connecting (`-3`).
    pub resp3: bool,
    /// Inside MULTI: the prompt shows `(TX)`.
    pub in_multi: bool,
    /// The database to return to when a transaction is discarded.
    pre_multi_db: i64,
    /// Reply rendering.
    pub formatter: Formatter,
    /// Print out-of-band RESP3 pushes that arrive before a reply.
    pub push_output: bool,
    /// Pause after each command (`-i`).
    pub interval: Option<Duration>,
    /// Exit with status 1 on an error reply (`-e`), outside the REPL.
    pub exit_on_error: bool,
    /// Whether the REPL is running (errors then never end the process).
    pub interactive: bool,
}

/// Commands whose reply is text meant to be shown as it is, as redis-cli does.
fn wants_raw_strings(argv: &[Vec<u8>]) -> bool {
    let is = |i: usize, name: &str| {
        argv.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(name.as_bytes()))
    };
    let argc = argv.len();
    is(0, "info")
        || is(0, "lolwut")
        || (is(0, "debug")
            && (is(1, "htstats") || is(1, "htstats-key") || is(1, "client-eviction")))
        || (is(0, "memory") && (is(1, "malloc-stats") || is(1, "doctor")))
        || (argc == 2 && is(0, "cluster") && (is(1, "nodes") || is(1, "info")))
        || (is(0, "client") && (is(1, "list") || is(1, "info")))
        || (argc == 3 && is(0, "latency") && is(1, "graph"))
        || (argc == 2 && is(0, "latency") && is(1, "doctor"))
}

/// Parses a leading integer as C's `atoi` does (`"3abc"` is 3, junk is 0).
pub fn atoi(bytes: &[u8]) -> i64 {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start();
    let (sign, digits) = match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    };
    let end = digits.bytes().take_while(u8::is_ascii_digit).count();
    digits[..end].parse::<i64>().map_or(0, |n| sign * n)
}

/// An I/O error's message without Rust's ` (os error N)` suffix, like C's `strerror`.
pub fn error_text(e: &io::Error) -> String {
    let text = e.to_string();
    let text = text
        .strip_prefix("failed to lookup address information: ")
        .unwrap_or(&text);
    match text.find(" (os error ") {
        Some(pos) => text[..pos].to_string(),
        None => text.to_string(),
    }
}

fn write_stdout(bytes: &[u8]) {
    let mut out = io::stdout().lock();
    // A closed stdout (`| head`) is not worth a panic; redis-cli ignores it too.
    let _ = out.write_all(bytes);
    let _ = out.flush();
}

impl Session {
    /// A session for `target` with default settings.
    pub fn new(target: Target, formatter: Formatter) -> Session {
        Session {
            target,
            conn: None,
            user: None,
            password: None,
            input_db: 0,
            db: 0,
            resp3: false,
            in_multi: false,
            pre_multi_db: 0,
            formatter,
            push_output: false,
            interval: None,
            exit_on_error: false,
            interactive: false,
        }
    }

    /// The REPL prompt: `127.0.0.1:6379[2](TX)> `, or `not connected> `.
    pub fn prompt(&self) -> String {
        if self.conn.is_none() {
            return "not connected> ".to_string();
        }
        let mut prompt = match &self.target {
            Target::Unix(path) => format!("redis {}", path.display()),
            tcp => tcp.describe(),
        };
        if self.db != 0 {
            prompt.push_str(&format!("[{}]", self.db));
        }
        if self.in_multi {
            prompt.push_str("(TX)");
        }
        prompt.push_str("> ");
        prompt
    }

    /// Connects (again, if `force`), then authenticates, selects the database and switches to
    /// RESP3 as configured. Returns false on failure; a connection whose AUTH or SELECT failed is
    /// kept, as redis-cli keeps it.
    pub fn connect(&mut self, force: bool, quiet: bool) -> bool {
        if self.conn.is_some() && !force {
            return true;
        }
        if self.conn.take().is_some() {
            self.db = 0;
            self.in_multi = false;
        }
        match Connection::connect(&self.target) {
            Ok(conn) => self.conn = Some(conn),
            Err(e) => {
                if !quiet {
                    eprintln!(
                        "Could not connect to Redis at {}: {}",
                        self.target.describe(),
                        error_text(&e)
                    );
                }
                return false;
            }
        }
        self.auth() && self.select() && self.switch_protocol()
    }

    /// Sends a setup command; prints `label failed: reason` for an error reply.
    fn setup_command(&mut self, argv: &[Vec<u8>], label: &str) -> Option<Frame> {
        let conn = self.conn.as_mut()?;
        match conn.command(argv) {
            Ok(frame) => {
                if let Frame::Error(text) | Frame::BlobError(text) = &frame {
                    eprintln!("{label} failed: {}", String::from_utf8_lossy(text));
                    return None;
                }
                Some(frame)
            }
            Err(_) => {
                eprintln!("\nI/O error");
                None
            }
        }
    }

    fn auth(&mut self) -> bool {
        let Some(password) = self.password.clone() else {
            return true;
        };
        let mut argv = vec![b"AUTH".to_vec()];
        argv.extend(self.user.clone());
        argv.push(password);
        self.setup_command(&argv, "AUTH").is_some()
    }

    fn select(&mut self) -> bool {
        if self.input_db == self.db {
            return true;
        }
        let argv = [b"SELECT".to_vec(), self.input_db.to_string().into_bytes()];
        let label = format!("SELECT {}", self.input_db);
        if self.setup_command(&argv, &label).is_none() {
            return false;
        }
        self.db = self.input_db;
        true
    }

    fn switch_protocol(&mut self) -> bool {
        if !self.resp3 {
            return true;
        }
        self.setup_command(&[b"HELLO".to_vec(), b"3".to_vec()], "HELLO 3")
            .is_some()
    }

    /// Runs `argv` `repeat` times (forever when negative), reconnecting first if needed.
    /// Prints replies and errors; returns false when the command could not be completed.
    pub fn issue(&mut self, argv: &[Vec<u8>], repeat: i64) -> bool {
        let Some(first) = argv.first() else {
            return true;
        };
        if first.eq_ignore_ascii_case(b"help") || first == b"?" {
            write_stdout(HELP.as_bytes());
            return true;
        }
        if self.conn.is_none() && !self.connect(true, false) && self.conn.is_none() {
            return false;
        }
        match self.run(argv, repeat) {
            Ok(()) => true,
            Err(e) => {
                eprintln!("Error: {}", error_text(&e));
                self.conn = None;
                false
            }
        }
    }

    /// Reads the reply to a command, showing or dropping out-of-band pushes that come first.
    fn read_reply(&mut self) -> io::Result<Frame> {
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| io::Error::other("not connected"))?;
        loop {
            let frame = conn.read_frame()?;
            if !matches!(frame, Frame::Push(_)) {
                return Ok(frame);
            }
            if self.push_output {
                let text = match (self.formatter.mode, format_invalidate(&frame)) {
                    (OutputMode::Tty, Some(text)) => text,
                    _ => self.formatter.reply(&frame, false),
                };
                write_stdout(&text);
            }
        }
    }

    fn run(&mut self, argv: &[Vec<u8>], repeat: i64) -> io::Result<()> {
        let is = |name: &str| argv[0].eq_ignore_ascii_case(name.as_bytes());
        let argc = argv.len();
        let raw_strings = wants_raw_strings(argv);
        let shutdown = is("shutdown");
        let monitor = is("monitor");
        let pubsub = is("subscribe") || is("psubscribe") || is("ssubscribe");

        let mut remaining = repeat;
        while remaining != 0 {
            if remaining > 0 {
                remaining -= 1;
            }
            let conn = self
                .conn
                .as_mut()
                .ok_or_else(|| io::Error::other("not connected"))?;
            conn.send(argv)?;

            if monitor || pubsub {
                if pubsub && self.formatter.mode != OutputMode::Raw {
                    write_stdout(b"Reading messages... (press Ctrl-C to quit)\n");
                }
                return self.stream_replies(pubsub, raw_strings);
            }

            let frame = match self.read_reply() {
                Ok(frame) => frame,
                Err(e) if shutdown && e.kind() == io::ErrorKind::UnexpectedEof => {
                    self.conn = None;
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            let failed = frame.is_error();
            if failed && self.exit_on_error && !self.interactive {
                if let Frame::Error(text) | Frame::BlobError(text) = &frame {
                    eprintln!("{}", String::from_utf8_lossy(text));
                }
                std::process::exit(1);
            }
            write_stdout(&self.formatter.reply(&frame, raw_strings));

            if is("select") && argc == 2 && !failed {
                self.db = atoi(&argv[1]);
                self.input_db = self.db;
            } else if is("auth") && (argc == 2 || argc == 3) {
                self.select();
            } else if is("multi") && argc == 1 && !failed {
                self.in_multi = true;
                self.pre_multi_db = self.db;
            } else if is("exec") && argc == 1 && self.in_multi {
                self.in_multi = false;
                if failed || matches!(frame, Frame::Null | Frame::NullArray) {
                    self.db = self.pre_multi_db;
                    self.input_db = self.db;
                }
            } else if is("discard") && argc == 1 && !failed {
                self.in_multi = false;
                self.db = self.pre_multi_db;
                self.input_db = self.db;
            } else if is("reset") && argc == 1 && !failed {
                self.in_multi = false;
                self.db = 0;
                self.input_db = 0;
                self.resp3 = false;
            }
            if let Some(pause) = self.interval {
                std::thread::sleep(pause);
            }
        }
        Ok(())
    }

    /// MONITOR and SUBSCRIBE: print every frame until an error, or until a pub/sub client has
    /// unsubscribed from everything.
    fn stream_replies(&mut self, pubsub: bool, raw_strings: bool) -> io::Result<()> {
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| io::Error::other("not connected"))?;
        loop {
            let frame = conn.read_frame()?;
            write_stdout(&self.formatter.reply(&frame, raw_strings));
            if frame.is_error() || (pubsub && unsubscribed_from_all(&frame)) {
                return Ok(());
            }
        }
    }
}

/// Whether `frame` is an unsubscribe confirmation leaving no subscriptions.
fn unsubscribed_from_all(frame: &Frame) -> bool {
    let (Frame::Array(items) | Frame::Push(items)) = frame else {
        return false;
    };
    match items.as_slice() {
        [Frame::Bulk(kind), _, Frame::Integer(0)] => {
            [&b"unsubscribe"[..], b"punsubscribe", b"sunsubscribe"]
                .iter()
                .any(|k| kind.eq_ignore_ascii_case(k))
        }
        _ => false,
    }
}

const HELP: &str = concat!(
    "oxidis-cli ",
    env!("CARGO_PKG_VERSION"),
    "\n",
    "To get help about Redis commands see https://redis.io/commands\n",
    "To set redis-cli preferences:      :set hints | :set nohints\n",
    "To quit:                           quit | exit | Ctrl-D\n",
);

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<Vec<u8>> {
        list.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn atoi_like_c() {
        assert_eq!(atoi(b"12"), 12);
        assert_eq!(atoi(b" -3x"), -3);
        assert_eq!(atoi(b"abc"), 0);
        assert_eq!(atoi(b""), 0);
    }

    #[test]
    fn raw_string_commands() {
        assert!(wants_raw_strings(&args(&["INFO"])));
        assert!(wants_raw_strings(&args(&["client", "list"])));
        assert!(wants_raw_strings(&args(&["cluster", "nodes"])));
        assert!(!wants_raw_strings(&args(&["cluster", "nodes", "x"])));
        assert!(!wants_raw_strings(&args(&["get", "info"])));
    }

    #[test]
    fn prompts() {
        let target = Target::Tcp {
            host: "127.0.0.1".into(),
            port: 6379,
        };
        let mut s = Session::new(target, Formatter::new(OutputMode::Tty));
        assert_eq!(s.prompt(), "not connected> ");
        // A connection is needed for the real prompt; build one against a throwaway listener.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        s.target = Target::Tcp {
            host: "127.0.0.1".into(),
            port,
        };
        s.conn = Some(Connection::connect(&s.target).unwrap());
        assert_eq!(s.prompt(), format!("127.0.0.1:{port}> "));
        s.db = 2;
        s.in_multi = true;
        assert_eq!(s.prompt(), format!("127.0.0.1:{port}[2](TX)> "));
    }

    #[test]
    fn unsubscribe_detection() {
        let frame = Frame::Array(vec![
            Frame::bulk("unsubscribe"),
            Frame::bulk("ch"),
            Frame::Integer(0),
        ]);
        assert!(unsubscribed_from_all(&frame));
        let frame = Frame::Push(vec![
            Frame::bulk("message"),
            Frame::bulk("ch"),
            Frame::bulk("x"),
        ]);
        assert!(!unsubscribed_from_all(&frame));
    }
}
