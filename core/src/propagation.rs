//! Propagation: the stream of write commands that reproduces the dataset's changes, for the
//! append-only file and for replicas.
//!
//! # How it works
//! While commands run, the operations to propagate collect in [`Propagation`]: by default
//! dispatch adds a command's own arguments when it changed the dataset; a handler can replace
//! them with a deterministic equivalent ([`CommandContext::rewrite_propagation`], e.g. `SET ...
//! EX 10` becomes `SET ... PXAT <ms>`), add more ([`CommandContext::also_propagate`]), or
//! suppress them ([`CommandContext::prevent_propagation`]). Keys reclaimed by expiry and
//! eviction add a `DEL` (or `UNLINK`). When the outermost command completes, its operations
//! are appended to the stream as RESP, wrapped in `MULTI`/`EXEC` when there are several (so a
//! replica applies them atomically), with a `SELECT` whenever the database changes — what
//! Redis 7.0's `propagatePendingCommands` writes. The server crate drains the stream after
//! each batch into the AOF and the replicas' connections.
//!
//! Nothing is collected while nobody consumes the stream ([`Propagation::set_enabled`]).
//!
//! [`CommandContext::rewrite_propagation`]: crate::CommandContext::rewrite_propagation
//! [`CommandContext::also_propagate`]: crate::CommandContext::also_propagate
//! [`CommandContext::prevent_propagation`]: crate::CommandContext::prevent_propagation

use bytes::{BufMut, Bytes, BytesMut};

/// One operation to propagate: a command in a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    /// The database it applies to.
    pub db: usize,
    /// The command and its arguments.
    pub argv: Vec<Bytes>,
}

/// What the running command asked for about its own propagation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum OwnPropagation {
    /// Its own arguments, if it changed the dataset.
    #[default]
    AsIs,
    /// These arguments instead.
    Rewritten(Vec<Bytes>),
    /// Nothing (what it changed is propagated otherwise, or must not be).
    Prevented,
}

/// The propagation state of the server.
#[derive(Debug, Default)]
pub struct Propagation {
    enabled: bool,
    pending: Vec<Op>,
    /// Set while operations must not be wrapped in MULTI/EXEC (the active-expire cycle).
    no_multi: bool,
    stream: BytesMut,
    selected_db: Option<usize>,
    /// Bytes ever appended to the stream (the replication offset).
    offset: u64,
    /// How many commands are running inside each other (EXEC runs its queue).
    depth: u32,
}

impl Propagation {
    /// Starts or stops collecting (on while an AOF or a replica consumes the stream).
    pub fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
        if !enabled {
            self.pending.clear();
        }
    }

    /// Whether operations are being collected.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// A command starts running.
    pub fn enter(&mut self) {
        self.depth += 1;
    }

    /// A command finished; whether it was the outermost one (its unit is complete).
    pub fn leave(&mut self) -> bool {
        self.depth = self.depth.saturating_sub(1);
        self.depth == 0
    }

    /// Adds an operation to the current execution unit.
    pub fn push(&mut self, db: usize, argv: Vec<Bytes>) {
        if self.enabled {
            self.pending.push(Op { db, argv });
        }
    }

    /// Adds a key deletion (expiry, eviction): `UNLINK` when freed lazily, else `DEL`.
    pub fn push_deletion(&mut self, db: usize, key: &[u8], lazy: bool) {
        if self.enabled {
            let command: &'static [u8] = if lazy { b"UNLINK" } else { b"DEL" };
            self.push(
                db,
                vec![Bytes::from_static(command), Bytes::copy_from_slice(key)],
            );
        }
    }

    /// Runs `f` with MULTI/EXEC wrapping off (for a batch of independent deletions).
    pub fn without_multi<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        self.no_multi = true;
        let result = f(self);
        self.no_multi = false;
        result
    }

    /// Ends an execution unit: appends its operations to the stream, wrapped in MULTI/EXEC
    /// when there are several and `atomic` allows it.
    pub fn flush(&mut self, atomic: bool) {
        if self.pending.is_empty() {
            return;
        }
        let ops = std::mem::take(&mut self.pending);
        let wrap = ops.len() > 1 && atomic && !self.no_multi;
        if wrap {
            self.append(ops[0].db, &[Bytes::from_static(b"MULTI")]);
        }
        for op in &ops {
            self.append(op.db, &op.argv);
        }
        if wrap {
            let last = ops[ops.len() - 1].db;
            self.append(last, &[Bytes::from_static(b"EXEC")]);
        }
    }

    /// Makes the next operation start with a SELECT (a new consumer joined the stream).
    pub fn force_select(&mut self) {
        self.selected_db = None;
    }

    /// Takes what the stream holds, for the consumers.
    pub fn take_stream(&mut self) -> Bytes {
        self.stream.split().freeze()
    }

    /// Bytes ever appended to the stream (`master_repl_offset`).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn append(&mut self, db: usize, argv: &[Bytes]) {
        let before = self.stream.len();
        if self.selected_db != Some(db) {
            let index = db.to_string();
            encode_command(&mut self.stream, &[b"SELECT", index.as_bytes()]);
            self.selected_db = Some(db);
        }
        encode_command(&mut self.stream, argv);
        self.offset += (self.stream.len() - before) as u64;
    }
}

/// Appends `argv` as a RESP array of bulk strings.
pub fn encode_command<A: AsRef<[u8]>>(out: &mut BytesMut, argv: &[A]) {
    let mut number = itoa::Buffer::new();
    out.put_u8(b'*');
    out.put_slice(number.format(argv.len()).as_bytes());
    out.put_slice(b"\r\n");
    for arg in argv {
        let arg = arg.as_ref();
        out.put_u8(b'$');
        out.put_slice(number.format(arg.len()).as_bytes());
        out.put_slice(b"\r\n");
        out.put_slice(arg);
        out.put_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::argv_of;

    fn stream(p: &mut Propagation) -> String {
        String::from_utf8(p.take_stream().to_vec()).expect("utf-8")
    }

    #[test]
    fn one_operation_is_not_wrapped_and_select_comes_first() {
        let mut p = Propagation::default();
        p.set_enabled(true);
        p.push(0, argv_of(&["SET", "k", "v"]));
        p.flush(true);
        assert_eq!(
            stream(&mut p),
            "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
        );
        p.push(0, argv_of(&["DEL", "k"]));
        p.flush(true);
        assert_eq!(stream(&mut p), "*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n");
    }

    #[test]
    fn several_operations_are_wrapped_in_multi_exec() {
        let mut p = Propagation::default();
        p.set_enabled(true);
        p.push(1, argv_of(&["DEL", "old"]));
        p.push(1, argv_of(&["INCR", "n"]));
        p.flush(true);
        let text = stream(&mut p);
        let commands: Vec<&str> = text
            .split("\r\n")
            .filter(|l| l.chars().next().is_some_and(char::is_alphabetic))
            .collect();
        assert_eq!(
            commands,
            ["SELECT", "MULTI", "DEL", "old", "INCR", "n", "EXEC"]
        );
    }

    #[test]
    fn nothing_is_collected_while_disabled() {
        let mut p = Propagation::default();
        p.push(0, argv_of(&["SET", "k", "v"]));
        p.flush(true);
        assert!(p.take_stream().is_empty());
        assert_eq!(p.offset(), 0);
    }
}
