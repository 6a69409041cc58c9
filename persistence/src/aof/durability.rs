//! Getting a batch's writes into the AOF before its replies go out, without one syscall per
//! connection: group write and group commit.
//!
//! Under the keyspace lock a batch only appends its bytes to an in-memory buffer
//! ([`Durability::append`]). What it must wait for before replying ([`SyncWait`]) depends on
//! `appendfsync`:
//! - `everysec` / `no`: the bytes in the file (in the OS's cache). The connection first yields
//!   once, so the other connections ready on its I/O thread run their batches too; then the
//!   first of them to resume writes the whole buffer in one `write` for all — what Redis gets
//!   by writing its AOF buffer once per event-loop iteration, in `beforeSleep`;
//! - `always`: the bytes on disk. The same yield, then one write and one fsync on the serving
//!   thread cover every batch appended by then, as Redis's `beforeSleep` does (a separate fsync
//!   thread cost two cross-thread wake-ups per batch, more than the fsync saved).

use std::fs::File;
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};

use tracing::warn;

struct State {
    /// The file being appended to.
    file: Option<Arc<File>>,
    /// Bytes appended but not yet written to `file`.
    buf: Vec<u8>,
    /// Bytes ever appended (across files).
    appended: u64,
    /// Bytes ever written to the files.
    written: u64,
    /// Bytes known to be on disk.
    synced: u64,
    /// The last write failed (INFO's `aof_last_write_status:err`); the bytes stay buffered and
    /// the next write retries them.
    write_failed: bool,
    stop: bool,
}

/// The AOF's write buffer, and what was written and fsynced.
pub struct Durability {
    state: Mutex<State>,
    /// Held while writing the buffer out, so writes reach the file in append order.
    writer: Mutex<()>,
    /// Held while writing and fsyncing for `always`, so one fsync serves concurrent waiters.
    syncer: Mutex<()>,
}

/// What a batch must wait for before its replies go out.
pub struct SyncWait {
    durability: Arc<Durability>,
    target: u64,
    /// Wait for the fsync (`always`), not only the write.
    sync: bool,
}

impl SyncWait {
    /// Waits, without blocking a thread, until the batch's bytes are written (and, with
    /// `always`, on disk).
    pub async fn wait_async(self) {
        if !self.sync {
            if self.durability.written() >= self.target {
                return;
            }
            // Let the other ready connections append theirs: one write covers them all.
            tokio::task::yield_now().await;
            if self.durability.written() < self.target {
                self.durability.write_out();
            }
            return;
        }
        if self.durability.synced() >= self.target {
            return;
        }
        // As for the write: the other ready connections append theirs first, then one write
        // and one fsync, on this thread, cover them all (Redis's beforeSleep).
        tokio::task::yield_now().await;
        if self.durability.synced() < self.target {
            self.durability.sync_out();
        }
    }

    /// Blocks until the batch's bytes are written (and, with `always`, on disk); run it off the
    /// async threads.
    pub fn wait(self) {
        if !self.sync {
            if self.durability.written() < self.target {
                self.durability.write_out();
            }
            return;
        }
        if self.durability.synced() < self.target {
            self.durability.sync_out();
        }
    }
}

impl Durability {
    /// The write buffer of `file`.
    pub fn start(file: &File) -> Arc<Durability> {
        Arc::new(Durability {
            state: Mutex::new(State {
                file: file.try_clone().ok().map(Arc::new),
                buf: Vec::new(),
                appended: 0,
                written: 0,
                synced: 0,
                write_failed: false,
                stop: false,
            }),
            writer: Mutex::new(()),
            syncer: Mutex::new(()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn written(&self) -> u64 {
        self.lock().written
    }

    fn synced(&self) -> u64 {
        let state = self.lock();
        if state.stop { u64::MAX } else { state.synced }
    }

    /// Writes and fsyncs everything appended so far (`appendfsync always`), unless someone
    /// else's fsync covered it meanwhile. A failure ends the process, as in Redis.
    fn sync_out(&self) {
        let _syncer = match self.syncer.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let (upto, synced, file) = {
            let state = self.lock();
            (state.appended, state.synced, state.file.clone())
        };
        if synced >= upto {
            return;
        }
        if !self.write_out() {
            warn!(
                "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting..."
            );
            std::process::exit(1);
        }
        if let Some(file) = file
            && let Err(e) = file.sync_data()
        {
            warn!(
                "Can't persist AOF for fsync error when the AOF fsync policy is 'always': {e}. Exiting..."
            );
            std::process::exit(1);
        }
        let mut state = self.lock();
        state.synced = state.synced.max(upto);
        drop(state);
    }

    /// Whether the last write failed.
    pub fn write_failed(&self) -> bool {
        self.lock().write_failed
    }

    /// Writes everything buffered so far to the file (one `write` in the steady state).
    /// Whether it all got there.
    pub fn write_out(&self) -> bool {
        let _writer = match self.writer.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let (buf, file, upto) = {
            let mut state = self.lock();
            if state.buf.is_empty() {
                return !state.write_failed;
            }
            (
                std::mem::take(&mut state.buf),
                state.file.clone(),
                state.appended,
            )
        };
        let Some(file) = file else {
            return false;
        };
        let mut done = 0;
        let mut error = None;
        while done < buf.len() {
            match (&*file).write(&buf[done..]) {
                Ok(0) => {
                    error = Some(std::io::Error::from(std::io::ErrorKind::WriteZero));
                    break;
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        let mut state = self.lock();
        match error {
            None => {
                state.written = upto;
                state.write_failed = false;
                // Give the buffer's room back for the next appends when nobody appended since.
                if state.buf.is_empty() {
                    let mut buf = buf;
                    buf.clear();
                    if buf.capacity() <= KEEP_BUFFER {
                        state.buf = buf;
                    }
                }
                true
            }
            Some(e) => {
                if !state.write_failed {
                    warn!("Error writing to the AOF file: {e}");
                }
                state.write_failed = true;
                // What did not get there is written first next time.
                let mut rest = buf[done..].to_vec();
                rest.append(&mut state.buf);
                state.buf = rest;
                state.written = upto - u64::try_from(state.buf.len()).unwrap_or(0).min(upto);
                false
            }
        }
    }

    /// Buffers `bytes` (under the keyspace lock): returns what to wait for before replying,
    /// the fsync with `sync` (`appendfsync always`), the write otherwise.
    pub fn append(self: &Arc<Self>, bytes: &[u8], sync: bool) -> SyncWait {
        let mut state = self.lock();
        state.buf.extend_from_slice(bytes);
        state.appended += u64::try_from(bytes.len()).unwrap_or(0);
        let target = state.appended;
        drop(state);
        SyncWait {
            durability: self.clone(),
            target,
            sync,
        }
    }

    /// Writes what is buffered to the current file, then sends later bytes to `file` (the
    /// caller synced the old one).
    pub fn switch_file(&self, file: &File) {
        self.write_out();
        let _writer = match self.writer.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut state = self.lock();
        state.file = file.try_clone().ok().map(Arc::new);
        state.synced = state.written;
        drop(state);
    }

    /// Writes out what is buffered and releases every waiter (the AOF was synced, or
    /// closed).
    pub fn stop(&self) {
        self.write_out();
        let mut state = self.lock();
        state.stop = true;
        state.synced = state.appended;
        drop(state);
    }
}

/// The largest buffer kept for reuse after a write (bigger ones, after a burst, are freed).
const KEEP_BUFFER: usize = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_reach_the_file_in_order_once_waited_for() {
        let path = std::env::temp_dir().join(format!("oxidis-durability-{}", std::process::id()));
        let file = File::create(&path).expect("temp file");
        let durability = Durability::start(&file);
        let first = durability.append(b"*1\r\n$4\r\nPING\r\n", false);
        let second = durability.append(b"abc", false);
        // Nothing is written until someone waits: one write covers both.
        assert_eq!(std::fs::read(&path).expect("read").len(), 0);
        second.wait();
        first.wait();
        assert_eq!(
            std::fs::read(&path).expect("read"),
            b"*1\r\n$4\r\nPING\r\nabc"
        );
        // `always`: written and fsynced by the waiter.
        durability.append(b"def", true).wait();
        assert_eq!(
            std::fs::read(&path).expect("read"),
            b"*1\r\n$4\r\nPING\r\nabcdef"
        );
        assert!(!durability.write_failed());
        durability.append(b"ghi", false);
        durability.stop();
        assert!(std::fs::read(&path).expect("read").ends_with(b"defghi"));
        let _ = std::fs::remove_file(&path);
    }
}
