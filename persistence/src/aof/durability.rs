//! `appendfsync always` without one fsync per connection: group commit.
//!
//! A batch's bytes are written to the incr file under the keyspace lock, but fsynced outside
//! it: the batch asks for everything up to its end offset to be synced and waits (before its
//! replies are sent) until a dedicated thread has fsynced at least that far. While the thread
//! syncs, other connections keep running and writing; its next fsync covers all of them at
//! once — what Redis gets by fsyncing once per event-loop iteration.

use std::fs::File;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use tracing::warn;

struct State {
    /// The file being appended to.
    file: Option<Arc<File>>,
    /// Bytes ever written (across files).
    written: u64,
    /// The highest offset someone waits for.
    requested: u64,
    /// Bytes known to be on disk.
    synced: u64,
    stop: bool,
}

/// The fsync thread and what it has done.
pub struct Durability {
    state: Mutex<State>,
    /// Wakes the thread.
    work: Condvar,
    /// Wakes the waiters.
    done: Condvar,
    /// The synced offset, for waiters on the async threads.
    synced_watch: tokio::sync::watch::Sender<u64>,
}

/// What a batch must wait for before its replies go out.
pub struct SyncWait {
    durability: Arc<Durability>,
    target: u64,
}

impl SyncWait {
    /// Waits, without blocking a thread, until the batch's bytes are on disk.
    pub async fn wait_async(self) {
        let mut synced = self.durability.synced_watch.subscribe();
        while *synced.borrow_and_update() < self.target {
            if synced.changed().await.is_err() || self.durability.lock().stop {
                return;
            }
        }
    }

    /// Blocks until the batch's bytes are on disk (run it off the async threads).
    pub fn wait(self) {
        let mut state = self.durability.lock();
        while state.synced < self.target && !state.stop {
            state = match self.durability.done.wait(state) {
                Ok(state) => state,
                Err(poisoned) => poisoned.into_inner(),
            };
        }
    }
}

impl Durability {
    /// Starts the fsync thread for `file`.
    pub fn start(file: &File) -> Arc<Durability> {
        let durability = Arc::new(Durability {
            state: Mutex::new(State {
                file: file.try_clone().ok().map(Arc::new),
                written: 0,
                requested: 0,
                synced: 0,
                stop: false,
            }),
            work: Condvar::new(),
            done: Condvar::new(),
            synced_watch: tokio::sync::watch::Sender::new(0),
        });
        let worker = durability.clone();
        let spawned = std::thread::Builder::new()
            .name("aof-fsync-always".into())
            .spawn(move || worker.run());
        if spawned.is_err() {
            warn!("Can't start the AOF fsync thread");
            durability.lock().stop = true;
        }
        durability
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn run(&self) {
        let mut state = self.lock();
        loop {
            while state.requested <= state.synced && !state.stop {
                state = match self.work.wait(state) {
                    Ok(state) => state,
                    Err(poisoned) => poisoned.into_inner(),
                };
            }
            if state.stop {
                self.done.notify_all();
                return;
            }
            let upto = state.written;
            let file = state.file.clone();
            drop(state);
            if let Some(file) = file
                && let Err(e) = file.sync_data()
            {
                warn!(
                    "Can't persist AOF for fsync error when the AOF fsync policy is 'always': {e}. Exiting..."
                );
                std::process::exit(1);
            }
            state = self.lock();
            state.synced = state.synced.max(upto);
            self.synced_watch.send_replace(state.synced);
            self.done.notify_all();
        }
    }

    /// `len` bytes were written: returns what to wait for before replying.
    pub fn written(self: &Arc<Self>, len: u64) -> SyncWait {
        let mut state = self.lock();
        state.written += len;
        state.requested = state.written;
        let target = state.written;
        drop(state);
        self.work.notify_one();
        SyncWait {
            durability: self.clone(),
            target,
        }
    }

    /// Everything written so far was synced by the caller; later bytes go to `file`.
    pub fn switch_file(&self, file: &File) {
        let mut state = self.lock();
        state.file = file.try_clone().ok().map(Arc::new);
        state.synced = state.written;
        self.synced_watch.send_replace(state.synced);
        drop(state);
        self.done.notify_all();
    }

    /// Stops the thread and releases every waiter (the AOF was synced or closed).
    pub fn stop(&self) {
        let mut state = self.lock();
        state.stop = true;
        state.synced = state.written;
        self.synced_watch.send_replace(u64::MAX);
        drop(state);
        self.work.notify_one();
        self.done.notify_all();
    }
}
