//! What a background job writes around and for each key: an RDB file (BGSAVE, or an AOF base
//! with the RDB preamble) or an AOF base of commands.

use std::sync::Arc;

use oxidis_core::Server;
use oxidis_core::db::{Entry, EntrySaver};

use crate::aof::config_flag;
use crate::rdb::opcode;
use crate::rdb::write::{EntryFormat, SaveOptions, Writer, dump_payload, file_header};

/// The shape of a job's file.
#[derive(Debug, Clone, Copy)]
pub(super) enum FileFormat {
    /// An RDB file; `aof_base` marks an AOF's preamble.
    Rdb { aof_base: bool },
    /// Commands: `SET` for strings, `RESTORE key 0 <payload>` for the rest, `PEXPIREAT`.
    Commands,
}

impl FileFormat {
    /// The bytes before the first database.
    pub(super) fn header(self, server: &Server) -> Vec<u8> {
        let now_ms = server.now_ms();
        match self {
            FileFormat::Rdb { aof_base } => {
                let functions = &server.persistence_state.function_code;
                file_header(server, functions, now_ms / 1000, aof_base).buf
            }
            FileFormat::Commands if config_flag(server, "aof-timestamp-enabled") => {
                format!("#TS:{}\r\n", now_ms / 1000).into_bytes()
            }
            FileFormat::Commands => Vec::new(),
        }
    }

    /// How each key is serialized, as of now (idle times, the expiry cut-off).
    pub(super) fn saver(self, server: &Server) -> EntrySaver {
        let options = SaveOptions::from_server(server);
        match self {
            FileFormat::Rdb { .. } => {
                let format = EntryFormat::from_server(server);
                Arc::new(move |entry, out| {
                    let mut w = Writer::with_buf(std::mem::take(out), options);
                    format.write(&mut w, entry);
                    *out = w.buf;
                })
            }
            FileFormat::Commands => {
                let now_ms = server.now_ms();
                Arc::new(move |entry, out| write_commands(entry, out, options, now_ms))
            }
        }
    }

    /// The opening of database `index`.
    pub(super) fn db_header(self, out: &mut Vec<u8>, index: usize, keys: usize, volatile: usize) {
        match self {
            FileFormat::Rdb { .. } => {
                let mut w = Writer::with_buf(std::mem::take(out), plain_options());
                crate::rdb::write::db_header(&mut w, index, keys, volatile);
                *out = w.buf;
            }
            FileFormat::Commands => {
                command(out, &[b"SELECT".as_slice(), index.to_string().as_bytes()]);
            }
        }
    }

    /// The bytes after the last database, as of now (the writer adds an RDB's checksum).
    pub(super) fn trailer(self, server: &Server) -> Vec<u8> {
        match self {
            FileFormat::Rdb { .. } => {
                let mut bytes = crate::rdb::write::file_trailer(server);
                bytes.push(opcode::EOF);
                bytes
            }
            FileFormat::Commands => Vec::new(),
        }
    }

    /// Whether the file ends with a CRC-64.
    pub(super) fn has_checksum(self) -> bool {
        matches!(self, FileFormat::Rdb { .. })
    }
}

fn plain_options() -> SaveOptions {
    SaveOptions {
        compress: false,
        list_fill: 0,
        packed_threshold: 0,
    }
}

/// One key as the commands that recreate it; a key already expired is left out.
fn write_commands(entry: &Entry, out: &mut Vec<u8>, options: SaveOptions, now_ms: u64) {
    if entry.expire_at().is_some_and(|at| at <= now_ms) {
        return;
    }
    let key = entry.key.as_slice();
    match entry.value.to_string_vec() {
        Some(text) => command(out, &[b"SET".as_slice(), key, &text]),
        None => {
            let payload = dump_payload(&entry.value, options);
            command(out, &[b"RESTORE".as_slice(), key, b"0", &payload]);
        }
    }
    if let Some(at) = entry.expire_at() {
        command(
            out,
            &[b"PEXPIREAT".as_slice(), key, at.to_string().as_bytes()],
        );
    }
}

/// A command in RESP, as the AOF holds it.
fn command(out: &mut Vec<u8>, argv: &[&[u8]]) {
    let mut number = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(number.format(argv.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for arg in argv {
        out.push(b'$');
        out.extend_from_slice(number.format(arg.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}
