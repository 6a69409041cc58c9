//! Loading the AOF at startup: the base (an RDB file, or commands) and then each incr file,
//! whose commands run through `oxidis_core::dispatch` as a loading client.
//!
//! A file that ends inside a command, or inside MULTI without its EXEC, is "truncated": with
//! `aof-load-truncated yes` the last file is cut back to its last complete command (before the
//! unfinished MULTI) and loading goes on, as Redis does; otherwise startup fails. A line that
//! is not RESP is a format error. `#` lines are annotations (`#TS:` timestamps) and skipped.

use std::time::Instant;

use bytes::Bytes;
use oxidis_core::Server;
use oxidis_core::client::{Client, Peer};
use tracing::{info, warn};

use crate::rdb::LoadError;
use crate::rdb::read::{LoadOptions, decode_dataset};

/// How loading one file ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileOutcome {
    /// Every command loaded.
    Ok,
    /// The file is empty.
    Empty,
    /// The file was cut back to its last complete command (aof-load-truncated).
    Truncated,
    /// The file does not exist.
    NotExist,
    /// Loading must stop (already logged).
    Failed,
}

/// Redis reads lines of the AOF into a buffer of this size (`AOF_ANNOTATION_LINE_MAX_LEN`).
const LINE_MAX: usize = 1024;

/// Loads one file of the AOF directory `dir` into `server`. `old_style` marks a single-file
/// AOF (`appendfilename` itself) for the log lines about an RDB preamble.
pub fn load_file(server: &mut Server, dir: &str, name: &str, old_style: bool) -> FileOutcome {
    let path = format!("{dir}/{name}");
    let data = match std::fs::read(&path) {
        Ok(data) => data,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            warn!("The append log file {name} doesn't exist: {e}");
            return FileOutcome::NotExist;
        }
        Err(e) => {
            warn!("Fatal error: can't open the append log file {name} for reading: {e}");
            return FileOutcome::Failed;
        }
    };
    if data.is_empty() {
        return FileOutcome::Empty;
    }
    let mut start = 0;
    if data.starts_with(b"REDIS") {
        if old_style {
            info!("Reading RDB preamble from AOF file...");
        } else {
            info!("Reading RDB base file on AOF loading...");
        }
        match load_rdb(server, &data) {
            Ok(consumed) => start = consumed,
            Err(()) => {
                if old_style {
                    warn!(
                        "Error reading the RDB preamble of the AOF file {name}, AOF loading aborted"
                    );
                } else {
                    warn!("Error reading the RDB base file {name}, AOF loading aborted");
                }
                return FileOutcome::Failed;
            }
        }
        if old_style {
            info!("Reading the remaining AOF tail...");
        }
    }
    let now = server.now_ms();
    let client = server.connect_client(|id| Client::new(id, Peer::Internal, true, now));
    let outcome = replay(server, client, &data, start, name, &path);
    server.disconnect_client(client);
    outcome
}

/// What reading the command stream found.
enum Stop {
    /// Clean end of the data.
    End,
    /// The data ends inside a command.
    ShortRead,
    /// Not RESP.
    Format,
    /// A command the table does not know.
    Unknown(String),
}

fn replay(
    server: &mut Server,
    client: oxidis_core::client::ClientId,
    data: &[u8],
    start: usize,
    name: &str,
    path: &str,
) -> FileOutcome {
    let mut pos = start;
    let mut valid_up_to = start;
    let mut valid_before_multi = start;
    let mut in_multi = false;
    let stop = loop {
        match next_command(data, &mut pos) {
            Ok(None) => break Stop::End,
            Ok(Some(argv)) => {
                let Some(command) = server.table.get(&argv[0]) else {
                    break Stop::Unknown(String::from_utf8_lossy(&argv[0]).into_owned());
                };
                match command.spec.name {
                    "multi" => {
                        valid_before_multi = valid_up_to;
                        in_multi = true;
                    }
                    "exec" | "discard" => in_multi = false,
                    _ => {}
                }
                let _ = oxidis_core::dispatch(server, client, &argv);
                valid_up_to = pos;
            }
            Err(stop) => break stop,
        }
    };
    let truncate_at = match stop {
        Stop::End if in_multi => {
            warn!("Revert incomplete MULTI/EXEC transaction in AOF file {name}");
            // Drop the half transaction queued in the loading client.
            let _ = oxidis_core::dispatch(server, client, &[Bytes::from_static(b"DISCARD")]);
            valid_before_multi
        }
        Stop::End => return FileOutcome::Ok,
        Stop::ShortRead => {
            if in_multi {
                let _ = oxidis_core::dispatch(server, client, &[Bytes::from_static(b"DISCARD")]);
            }
            valid_up_to
        }
        Stop::Format => {
            warn!(
                "Bad file format reading the append only file {name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>"
            );
            return FileOutcome::Failed;
        }
        Stop::Unknown(command) => {
            warn!("Unknown command '{command}' reading the append only file {name}");
            return FileOutcome::Failed;
        }
    };
    if super::config_flag(server, "aof-load-truncated") {
        warn!("!!! Warning: short read while loading the AOF file {name}!!!");
        warn!("!!! Truncating the AOF {name} at offset {truncate_at} !!!");
        let truncated = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(truncate_at as u64));
        match truncated {
            Ok(()) => {
                warn!("AOF {name} loaded anyway because aof-load-truncated is enabled");
                return FileOutcome::Truncated;
            }
            Err(e) => warn!("Error truncating the AOF file {name}: {e}"),
        }
    }
    warn!(
        "Unexpected end of file reading the append only file {name}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."
    );
    FileOutcome::Failed
}

/// Reads a line as `fgets` with Redis's buffer: up to the newline or `LINE_MAX - 1` bytes.
/// None at the end of the data.
fn line<'a>(data: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    if *pos >= data.len() {
        return None;
    }
    let rest = &data[*pos..];
    let limit = rest.len().min(LINE_MAX - 1);
    let take = rest[..limit]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(limit, |p| p + 1);
    *pos += take;
    Some(&rest[..take])
}

/// The leading integer of a header line (`atoi`/`strtol`), 0 when there is none.
fn leading_number(text: &[u8]) -> i64 {
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        _ => (false, text),
    };
    let mut n: i64 = 0;
    for &b in digits.iter().take_while(|b| b.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if negative { -n } else { n }
}

/// Reads the next command at `pos`, skipping annotations. `Ok(None)` at a clean end.
fn next_command(data: &[u8], pos: &mut usize) -> Result<Option<Vec<Bytes>>, Stop> {
    let header = loop {
        let Some(header) = line(data, pos) else {
            return Ok(None);
        };
        if header.first() != Some(&b'#') {
            break header;
        }
    };
    if header.first() != Some(&b'*') {
        return Err(Stop::Format);
    }
    if header.len() == 1 {
        return Err(Stop::ShortRead);
    }
    let argc = leading_number(&header[1..]);
    if argc < 1 {
        return Err(Stop::Format);
    }
    let mut argv = Vec::new();
    for _ in 0..argc {
        let Some(length) = line(data, pos) else {
            return Err(Stop::ShortRead);
        };
        if length.first() != Some(&b'$') {
            return Err(Stop::Format);
        }
        let len = usize::try_from(leading_number(&length[1..])).map_err(|_| Stop::Format)?;
        let end = pos.checked_add(len).ok_or(Stop::Format)?;
        if end > data.len() {
            return Err(Stop::ShortRead);
        }
        argv.push(Bytes::copy_from_slice(&data[*pos..end]));
        // The CRLF after the argument.
        if end + 2 > data.len() {
            return Err(Stop::ShortRead);
        }
        *pos = end + 2;
    }
    Ok(Some(argv))
}

/// [`next_command`] for the tests of other modules: the parsed command, or nothing at the end.
#[cfg(test)]
pub(crate) fn next_command_for_tests(
    data: &[u8],
    pos: &mut usize,
) -> Result<Option<Vec<Bytes>>, ()> {
    next_command(data, pos).map_err(|_| ())
}

/// Loads an RDB image (a base file or a preamble) into `server`; returns the bytes it took.
fn load_rdb(server: &mut Server, data: &[u8]) -> Result<usize, ()> {
    let options = LoadOptions::from_config(&server.config, server.list_packed_threshold)
        .with_module_types(&server.modules.types);
    let now_ms = server.now_ms();
    let clock = server.lru_clock();
    let loaded = match decode_dataset(data, &server.config, &options, now_ms, clock) {
        Ok(loaded) => loaded,
        Err(error) => {
            match &error {
                LoadError::ShortRead => {
                    warn!("Short read or OOM loading DB. Unrecoverable error, aborting now.");
                }
                _ => warn!("{error}"),
            }
            return Err(());
        }
    };
    let consumed = loaded.consumed;
    let mut dbs = loaded.dbs;
    for (index, db) in dbs.iter_mut().enumerate() {
        let current = &mut server.dbs[index];
        if current.is_empty() {
            std::mem::swap(current, db);
            continue;
        }
        let mut entries = db.take_entries();
        while !entries.is_empty() {
            let entry = entries.swap_remove(entries.len() - 1);
            current.remove(&entry.key);
            let expire = entry.expire_at();
            current.insert_new(entry.key, entry.value, expire, entry.access_clock);
        }
    }
    let state = &mut server.persistence_state;
    state.last_load_keys_loaded = loaded.keys_loaded;
    state.last_load_keys_expired = loaded.keys_expired;
    if !loaded.functions.is_empty() {
        state.function_code = loaded.functions;
    }
    info!(
        "Done loading RDB, keys loaded: {}, keys expired: {}.",
        loaded.keys_loaded, loaded.keys_expired
    );
    Ok(consumed)
}

/// Timing helper for the "DB loaded from ... file" lines.
pub fn seconds_since(started: Instant) -> String {
    format!("{:.3}", started.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commands(data: &[u8]) -> Vec<Vec<String>> {
        let mut pos = 0;
        let mut out = Vec::new();
        while let Ok(Some(argv)) = next_command(data, &mut pos) {
            out.push(
                argv.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect(),
            );
        }
        out
    }

    #[test]
    fn reads_commands_and_skips_annotations() {
        let data = b"#TS:1628217470\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$3\r\nfoo\r\n$1\r\n5\r\n";
        assert_eq!(
            commands(data),
            vec![vec!["SELECT", "0"], vec!["set", "foo", "5"]]
        );
    }

    #[test]
    fn classifies_short_reads_and_format_errors() {
        let mut pos = 0;
        assert!(matches!(
            next_command(b"*3\r\n$3\r\nset\r\n$3\r\nfo", &mut pos),
            Err(Stop::ShortRead)
        ));
        let mut pos = 0;
        assert!(matches!(
            next_command(b"!!!\r\n", &mut pos),
            Err(Stop::Format)
        ));
        let mut pos = 0;
        assert!(matches!(next_command(b"*", &mut pos), Err(Stop::ShortRead)));
    }
}
