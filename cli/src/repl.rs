//! The interactive loop: read a line, split it like redis-cli, run it, print the reply.
//!
//! On a terminal the line editor keeps a history file (`~/.oxidiscli_history`, or the path in
//! `OXIDISCLI_HISTFILE`); with piped input, lines are read plainly with no prompt, as redis-cli
//! does.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::time::Instant;

use oxidis_protocol::split_args;
use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use crate::format::OutputMode;
use crate::session::{Session, atoi};

/// What the loop should do after a line.
enum Flow {
    Continue,
    Quit,
}

/// The history file, unless disabled with `/dev/null` or no home directory is known.
fn history_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("OXIDISCLI_HISTFILE") {
        if path == "/dev/null" {
            return None;
        }
        return Some(PathBuf::from(path));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".oxidiscli_history"))
}

/// Commands that carry secrets and are kept out of the history file.
fn is_sensitive(argv: &[Vec<u8>]) -> bool {
    let is = |i: usize, name: &str| {
        argv.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(name.as_bytes()))
    };
    let argc = argv.len();
    if is(0, "auth") || (argc > 1 && is(0, "acl") && is(1, "setuser")) {
        return true;
    }
    if argc > 2
        && is(0, "config")
        && is(1, "set")
        && (is(2, "masterauth") || is(2, "masteruser") || is(2, "requirepass"))
    {
        return true;
    }
    if argc > 4 && is(0, "hello") {
        // HELLO protover [AUTH user pass] [SETNAME name]
        let mut j = 2;
        while j < argc {
            let more = argc - 1 - j;
            if is(j, "auth") && more >= 2 {
                return true;
            } else if is(j, "setname") && more > 0 {
                j += 2;
            } else {
                return false;
            }
        }
    }
    if argc > 7 && is(0, "migrate") {
        for j in 6..argc {
            let more = argc - 1 - j;
            if (is(j, "auth") && more > 0) || (is(j, "auth2") && more >= 2) {
                return true;
            }
            if is(j, "keys") && more > 0 {
                return false;
            }
        }
    }
    false
}

/// Splits off a leading repeat count (`3 incr x`): `Ok(Some(n))` when present, `Err` when it is
/// not a positive number.
fn repeat_prefix(argv: &[Vec<u8>]) -> Result<Option<i64>, ()> {
    let [first, _, ..] = argv else {
        return Ok(None);
    };
    if first.is_empty() {
        // strtol consumes nothing yet stops at the terminator: a repeat count of 0.
        return Err(());
    }
    let text = String::from_utf8_lossy(first);
    let trimmed = text.trim_start();
    let body = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
    // strtol reads the whole word as a number only when it is all digits after an optional sign.
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    match trimmed.parse::<i64>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err(()),
    }
}

/// Runs one input line.
fn handle_line(session: &mut Session, line: &str, history: &mut dyn FnMut(&str)) -> Flow {
    if line.is_empty() {
        return Flow::Continue;
    }
    let Some(argv) = split_args(line.as_bytes()) else {
        println!("Invalid argument(s)");
        history(line);
        return Flow::Continue;
    };
    if argv.is_empty() {
        return Flow::Continue;
    }
    let (repeat, argv) = match repeat_prefix(&argv) {
        Ok(Some(n)) => (n, &argv[1..]),
        Ok(None) => (1, &argv[..]),
        Err(()) => {
            println!("Invalid redis-cli repeat command option value.");
            return Flow::Continue;
        }
    };
    if !is_sensitive(argv) {
        history(line);
    }
    let is = |name: &str| argv[0].eq_ignore_ascii_case(name.as_bytes());
    if is("quit") || is("exit") {
        return Flow::Quit;
    }
    if argv[0].first() == Some(&b':') {
        let name = String::from_utf8_lossy(&argv[0]);
        match argv.get(1) {
            Some(pref) if name.eq_ignore_ascii_case(":set") => {
                let pref = String::from_utf8_lossy(pref);
                if !pref.eq_ignore_ascii_case("hints") && !pref.eq_ignore_ascii_case("nohints") {
                    println!("unknown redis-cli preference '{pref}'");
                }
            }
            _ => println!("unknown redis-cli internal command '{name}'"),
        }
        return Flow::Continue;
    }
    if argv.len() == 3 && is("connect") {
        let host = String::from_utf8_lossy(&argv[1]).into_owned();
        let port = u16::try_from(atoi(&argv[2])).unwrap_or(0);
        session.target = crate::connection::Target::Tcp { host, port };
        session.connect(true, false);
        return Flow::Continue;
    }
    if argv.len() == 1 && is("clear") {
        print!("\x1b[H\x1b[2J");
        let _ = io::stdout().flush();
        return Flow::Continue;
    }
    let start = Instant::now();
    session.issue(argv, repeat);
    let elapsed = start.elapsed();
    if elapsed.as_millis() >= 500 && session.formatter.mode == OutputMode::Tty {
        println!("({:.2}s)", elapsed.as_secs_f64());
    }
    Flow::Continue
}

/// Runs the interactive loop on a terminal, with line editing and history.
pub fn run_terminal(session: &mut Session) -> anyhow::Result<()> {
    session.interactive = true;
    let mut editor = DefaultEditor::new()?;
    let path = history_path();
    if let Some(path) = &path {
        // A missing history file is normal on first use.
        let _ = editor.load_history(path);
    }
    loop {
        let line = match editor.readline(&session.prompt()) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted | ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        let mut record = |entry: &str| {
            let _ = editor.add_history_entry(entry);
            if let Some(path) = &path {
                let _ = editor.save_history(path);
            }
        };
        if let Flow::Quit = handle_line(session, &line, &mut record) {
            break;
        }
    }
    Ok(())
}

/// Runs commands read line by line from a non-terminal stdin, without prompt or history.
pub fn run_piped(session: &mut Session) -> anyhow::Result<()> {
    session.interactive = true;
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        let line = String::from_utf8_lossy(&buf);
        if let Flow::Quit = handle_line(session, &line, &mut |_| {}) {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<Vec<u8>> {
        list.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn repeat_prefixes() {
        assert_eq!(repeat_prefix(&args(&["3", "incr", "x"])), Ok(Some(3)));
        assert_eq!(repeat_prefix(&args(&["incr", "x"])), Ok(None));
        assert_eq!(repeat_prefix(&args(&["3"])), Ok(None));
        assert_eq!(repeat_prefix(&args(&["0", "ping"])), Err(()));
        assert_eq!(repeat_prefix(&args(&["-2", "ping"])), Err(()));
        assert_eq!(repeat_prefix(&args(&["3x", "ping"])), Ok(None));
    }

    #[test]
    fn sensitive_commands() {
        assert!(is_sensitive(&args(&["AUTH", "pw"])));
        assert!(is_sensitive(&args(&["config", "set", "requirepass", "x"])));
        assert!(is_sensitive(&args(&["hello", "3", "auth", "u", "p"])));
        assert!(is_sensitive(&args(&[
            "hello", "3", "setname", "n", "auth", "u", "p"
        ])));
        assert!(!is_sensitive(&args(&[
            "hello", "3", "setname", "n", "x", "y"
        ])));
        assert!(!is_sensitive(&args(&["set", "auth", "x"])));
    }
}
