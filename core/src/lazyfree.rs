//! Freeing big values off the serving path, as Redis's lazy free: UNLINK (and DEL with
//! `lazyfree-lazy-user-del`) hands a value whose freeing takes many steps to a background
//! thread, and INFO counts what is pending (`lazyfree_pending_objects`) and what was freed
//! (`lazyfreed_objects`).

use std::sync::atomic::Ordering;
use std::sync::mpsc::{Sender, channel};
use std::sync::{Mutex, OnceLock};

use crate::server::LazyFreeCounters;
use crate::types::Value;

/// Values whose freeing takes more steps than this are freed in the background (Redis's
/// `LAZYFREE_THRESHOLD`).
pub const THRESHOLD: usize = 64;

/// How many allocations freeing `value` takes, as Redis estimates it: one for a value in a
/// single block (strings, listpacks, intsets), one per element for a hash table or skip list,
/// one per node for a list or stream (plus, for a stream, its groups and their pending
/// entries, estimated from the first group); a module value says itself (`key` is its key).
pub fn free_effort(key: &[u8], value: &Value) -> usize {
    let packed = |encoding: &str| matches!(encoding, "listpack" | "intset" | "ziplist");
    match value {
        Value::List(list) if list.encoding_name() == "quicklist" => list.node_count(),
        Value::Hash(hash) if !packed(hash.encoding_name()) => hash.len(),
        Value::Set(set) if !packed(set.encoding_name()) => set.len(),
        Value::SortedSet(zset) if !packed(zset.encoding_name()) => zset.len(),
        Value::Stream(stream) => {
            let groups = stream.groups();
            let pending = groups.values().next().map_or(0, |g| g.pel().len());
            stream.node_count() + groups.len() * (1 + pending)
        }
        Value::Module(m) => m.module_type().methods().free_effort(key, m.data()),
        _ => 1,
    }
}

/// The background thread's inbox; started with the first value it gets.
fn worker() -> Option<&'static Mutex<Sender<Job>>> {
    static WORKER: OnceLock<Option<Mutex<Sender<Job>>>> = OnceLock::new();
    WORKER
        .get_or_init(|| {
            let (sender, receiver) = channel::<Job>();
            std::thread::Builder::new()
                .name("oxidis-lazyfree".to_string())
                .spawn(move || {
                    for job in receiver {
                        drop(job.value);
                        job.counters.pending.fetch_sub(1, Ordering::Relaxed);
                        job.counters.freed.fetch_add(1, Ordering::Relaxed);
                    }
                })
                .ok()
                .map(|_| Mutex::new(sender))
        })
        .as_ref()
}

struct Job {
    value: Value,
    counters: std::sync::Arc<LazyFreeCounters>,
}

/// Frees `value` (that was `key`'s) now when that is cheap, else on the background thread
/// (counted in `counters`). Without a thread (it could not be started) it is freed here.
pub fn free(key: &[u8], value: Value, counters: &std::sync::Arc<LazyFreeCounters>) {
    if free_effort(key, &value) <= THRESHOLD {
        return;
    }
    let Some(worker) = worker() else {
        return;
    };
    counters.pending.fetch_add(1, Ordering::Relaxed);
    let job = Job {
        value,
        counters: counters.clone(),
    };
    let sent = match worker.lock() {
        Ok(sender) => sender.send(job),
        Err(poisoned) => poisoned.into_inner().send(job),
    };
    // A closed channel hands the job back: it is dropped here, and counted as freed.
    if let Err(returned) = sent {
        drop(returned);
        counters.pending.fetch_sub(1, Ordering::Relaxed);
        counters.freed.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::CommandRunner;

    #[test]
    fn big_values_are_freed_in_the_background_small_ones_at_once() {
        let mut r = CommandRunner::with_builtin_commands();
        let members: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
        let mut sadd = vec!["SADD".to_string(), "big".to_string()];
        sadd.extend(members);
        r.run(sadd);
        r.run(["SET", "small", "v"]);
        let counters = r.server.lazyfree.clone();
        for key in ["big", "small"] {
            let db = &mut r.server.dbs[0];
            let entry = db.remove(key.as_bytes()).expect("the key exists");
            free(key.as_bytes(), entry.value, &counters);
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while counters.pending.load(Ordering::Relaxed) > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!(counters.pending.load(Ordering::Relaxed), 0);
        assert_eq!(counters.freed.load(Ordering::Relaxed), 1);
    }
}
