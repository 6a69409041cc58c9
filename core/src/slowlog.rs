//! The slow log: the most recent commands that took at least `slowlog-log-slower-than`
//! microseconds, newest first, at most `slowlog-max-len` of them (SLOWLOG GET/LEN/RESET).
//!
//! Dispatch records every command that ran to completion through [`record`]; a command that
//! blocked is recorded when it is served (its re-run), EXEC is never recorded (its flag
//! `skip_slowlog`) but the commands it ran are. Arguments are stored trimmed as Redis trims
//! them, so a huge command costs the log little memory.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::client::ClientId;
use crate::command::{Command, Flag};
use crate::server::Server;

/// At most this many arguments are kept; the last kept one says how many were dropped.
const MAX_ARGS: usize = 32;

/// Longer arguments are cut to this many bytes, followed by how many were dropped.
const MAX_ARG_BYTES: usize = 128;

/// What a redacted argument shows (AUTH passwords, sensitive CONFIG SET values).
pub const REDACTED: &[u8] = b"(redacted)";

/// One slow command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlowlogEntry {
    /// Increasing id, never reused (RESET keeps counting).
    pub id: u64,
    /// Unix seconds when it was logged.
    pub time_unix: u64,
    /// How long it ran, microseconds.
    pub duration_us: u64,
    /// Its arguments, trimmed and redacted.
    pub argv: Vec<Bytes>,
    /// The client's `ip:port` (`addr=` of CLIENT LIST).
    pub peer: String,
    /// The client's name, empty when it has none.
    pub client_name: Bytes,
}

/// The log itself, newest entry first.
#[derive(Debug, Default)]
pub struct Slowlog {
    entries: VecDeque<SlowlogEntry>,
    next_id: u64,
}

impl Slowlog {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries, newest first.
    pub fn iter(&self) -> impl Iterator<Item = &SlowlogEntry> {
        self.entries.iter()
    }

    /// Forgets every entry (ids keep increasing).
    pub fn reset(&mut self) {
        self.entries.clear();
    }

    /// Adds an entry as the newest, then trims the log to `max_len`.
    pub fn push(&mut self, mut entry: SlowlogEntry, max_len: usize) {
        entry.id = self.next_id;
        self.next_id += 1;
        self.entries.push_front(entry);
        self.entries.truncate(max_len);
    }

    /// Trims the log to `max_len` entries, dropping the oldest.
    pub fn truncate(&mut self, max_len: usize) {
        self.entries.truncate(max_len);
    }
}

/// Logs a command that ran for `duration_us` if it is slow enough and may be logged.
/// `redacted` lists argument positions whose value must not be shown.
pub(crate) fn record(
    server: &mut Server,
    client_id: ClientId,
    command: &Command,
    argv: &[Bytes],
    redacted: &[usize],
    duration_us: u64,
) {
    let threshold = server.config.slowlog_log_slower_than;
    if threshold < 0 || command.has(Flag::SkipSlowlog) {
        return;
    }
    let max_len = usize::try_from(server.config.slowlog_max_len).unwrap_or(usize::MAX);
    if duration_us < threshold.unsigned_abs() {
        // Nothing to add, but a lowered slowlog-max-len still trims on the next command.
        server.slowlog.truncate(max_len);
        return;
    }
    let (peer, client_name) = server.clients.get(client_id).map_or_else(
        || (String::new(), Bytes::new()),
        |c| {
            let name = c.name.as_deref().map(Bytes::copy_from_slice);
            (c.peer.addr(), name.unwrap_or_default())
        },
    );
    let entry = SlowlogEntry {
        id: 0,
        time_unix: server.now_ms() / 1000,
        duration_us,
        argv: trimmed_argv(argv, redacted),
        peer,
        client_name,
    };
    server.slowlog.push(entry, max_len);
}

/// `argv` as the log keeps it: at most [`MAX_ARGS`] arguments (the last one replaced by
/// "... (N more arguments)"), each cut at [`MAX_ARG_BYTES`] with "... (N more bytes)".
pub fn trimmed_argv(argv: &[Bytes], redacted: &[usize]) -> Vec<Bytes> {
    let kept = argv.len().min(MAX_ARGS);
    let mut out = Vec::with_capacity(kept);
    for (index, arg) in argv.iter().take(kept).enumerate() {
        if kept != argv.len() && index == kept - 1 {
            let more = argv.len() - kept + 1;
            out.push(Bytes::from(format!("... ({more} more arguments)")));
        } else if redacted.contains(&index) {
            out.push(Bytes::from_static(REDACTED));
        } else if arg.len() > MAX_ARG_BYTES {
            let mut cut = arg[..MAX_ARG_BYTES].to_vec();
            cut.extend_from_slice(
                format!("... ({} more bytes)", arg.len() - MAX_ARG_BYTES).as_bytes(),
            );
            out.push(Bytes::from(cut));
        } else {
            // A copy, not a slice: an argument shares the whole buffer its request was read
            // into, which a log entry would otherwise keep alive (megabytes for a big command).
            out.push(Bytes::copy_from_slice(arg));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::argv_of as args;

    #[test]
    fn more_than_32_arguments_keep_31_and_a_count() {
        let many: Vec<String> = (0..35).map(|i| i.to_string()).collect();
        let argv: Vec<Bytes> = many.iter().map(|s| Bytes::from(s.clone())).collect();
        let kept = trimmed_argv(&argv, &[]);
        assert_eq!(kept.len(), 32);
        assert_eq!(kept[30], Bytes::from("30"));
        assert_eq!(kept[31], Bytes::from("... (4 more arguments)"));
    }

    #[test]
    fn long_arguments_are_cut_and_redacted_ones_hidden() {
        let long = "A".repeat(130);
        let kept = trimmed_argv(&args(&["auth", "secret", &long]), &[1]);
        assert_eq!(kept[1], Bytes::from_static(REDACTED));
        assert_eq!(
            kept[2],
            Bytes::from(format!("{}... (2 more bytes)", "A".repeat(128)))
        );
    }

    #[test]
    fn the_log_keeps_the_newest_entries_and_ids_keep_counting() {
        let mut log = Slowlog::default();
        let entry = SlowlogEntry {
            id: 0,
            time_unix: 1,
            duration_us: 5,
            argv: args(&["ping"]),
            peer: String::new(),
            client_name: Bytes::new(),
        };
        for _ in 0..5 {
            log.push(entry.clone(), 3);
        }
        assert_eq!(log.len(), 3);
        assert_eq!(log.iter().map(|e| e.id).collect::<Vec<_>>(), [4, 3, 2]);
        log.reset();
        log.push(entry, 3);
        assert_eq!(log.iter().next().map(|e| e.id), Some(5));
    }
}
