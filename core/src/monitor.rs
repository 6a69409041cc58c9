//! MONITOR's feed: every command that runs is shown to the clients in monitor mode as one
//! status line, `+<unix seconds>.<micros> [<db> <client address>] "cmd" "arg" ...`.
//!
//! As in Redis, commands refused before running (unknown, wrong arity, not authenticated) and
//! commands queued by MULTI are not shown (EXEC shows what it ran, then itself); administrative
//! commands and those flagged `skip_monitor` are never shown, and redacted arguments (AUTH
//! passwords) read `(redacted)`.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use oxidis_protocol::Frame;

use crate::client::{ClientId, Peer};
use crate::command::{Command, Flag};
use crate::server::Server;
use crate::slowlog::REDACTED;

/// Sends the line for `argv`, run by `client_id`, to every monitor.
pub(crate) fn feed(
    server: &Server,
    client_id: ClientId,
    command: &Command,
    argv: &[Bytes],
    redacted: &[usize],
) {
    if server.monitors.is_empty() || command.has(Flag::Admin) || command.has(Flag::SkipMonitor) {
        return;
    }
    feed_line(server, client_id, argv, redacted);
}

/// Shows EVAL, EVALSHA and FCALL, which are `skip_monitor` yet shown before their script runs,
/// as Redis's scripting code feeds them itself.
pub fn feed_script_call(server: &Server, client_id: ClientId, argv: &[Bytes]) {
    if !server.monitors.is_empty() {
        feed_line(server, client_id, argv, &[]);
    }
}

fn feed_line(server: &Server, client_id: ClientId, argv: &[Bytes], redacted: &[usize]) {
    let Some(client) = server.clients.get(client_id) else {
        return;
    };
    // Commands a script runs come from Redis's "lua" client.
    let in_script = server
        .script_busy
        .running
        .load(std::sync::atomic::Ordering::Relaxed);
    let origin = match &client.peer {
        _ if in_script => "lua".to_string(),
        Peer::Tcp { peer, .. } => peer.to_string(),
        Peer::Unix(path) => format!("unix:{path}"),
        // Internal clients run scripts' commands.
        Peer::Internal => "lua".to_string(),
    };
    let line = monitor_line(unix_micros(), client.db, &origin, argv, redacted);
    let frame = Frame::Simple(Bytes::from(line));
    for id in &server.monitors {
        if let Some(handle) = server.clients.get(*id).and_then(|c| c.handle.as_ref()) {
            handle.push(frame.clone());
        }
    }
}

/// One MONITOR line (without the `+` and CRLF the encoder adds).
pub fn monitor_line(
    micros: u64,
    db: usize,
    origin: &str,
    argv: &[Bytes],
    redacted: &[usize],
) -> String {
    let mut line = format!(
        "{}.{:06} [{db} {origin}]",
        micros / 1_000_000,
        micros % 1_000_000
    );
    for (index, arg) in argv.iter().enumerate() {
        line.push(' ');
        let shown: &[u8] = if redacted.contains(&index) {
            REDACTED
        } else {
            arg
        };
        push_quoted(&mut line, shown);
    }
    line
}

/// `bytes` in double quotes with Redis's escapes (`sdscatrepr`): `\\ \" \n \r \t \a \b`,
/// other unprintable bytes as `\xhh`.
pub fn push_quoted(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
}

fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_quote_and_escape_like_redis() {
        let argv = [
            Bytes::from_static(b"set"),
            Bytes::from_static(b"k\"\n"),
            Bytes::from_static(b"\x01v"),
        ];
        assert_eq!(
            monitor_line(1_700_000_000_000_123, 3, "127.0.0.1:5000", &argv, &[]),
            r#"1700000000.000123 [3 127.0.0.1:5000] "set" "k\"\n" "\x01v""#
        );
        let auth = [Bytes::from_static(b"auth"), Bytes::from_static(b"pw")];
        assert_eq!(
            monitor_line(5, 0, "lua", &auth, &[1]),
            r#"0.000005 [0 lua] "auth" "(redacted)""#
        );
    }

    fn client_line(r: &mut crate::testing::CommandRunner) -> String {
        match r.run(["CLIENT", "INFO"]) {
            Frame::Verbatim { text, .. } => String::from_utf8_lossy(&text).into_owned(),
            other => panic!("not verbatim: {other:?}"),
        }
    }

    #[test]
    fn client_list_shows_the_monitor_flag_and_argv_mem() {
        let mut r = crate::testing::CommandRunner::with_builtin_commands();
        let line = client_line(&mut r);
        assert!(line.contains(" flags=N "), "{line}");
        assert!(line.contains(" multi=-1 "), "{line}");
        // "client" + "info".
        assert!(line.contains(" argv-mem=10 "), "{line}");
        assert_eq!(r.run(["MONITOR"]), Frame::ok());
        assert!(client_line(&mut r).contains(" flags=O "));
        assert_eq!(r.server.monitors, vec![r.client]);
        assert_eq!(r.run(["RESET"]), Frame::simple_static("RESET"));
        assert!(r.server.monitors.is_empty());
    }
}
