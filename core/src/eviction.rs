//! `maxmemory`: evicting keys when the server uses more memory than allowed, with Redis's
//! approximated LRU and LFU.
//!
//! # How it works
//! Before a command runs, dispatch calls [`perform_evictions`] when `maxmemory` is set. While
//! [`used_memory`](crate::memory::used_memory) is above the limit, it samples
//! `maxmemory-samples` keys of every database, keeps the best candidates seen so far in a small
//! pool (best = idlest for LRU, least frequently used for LFU, soonest to expire for
//! `volatile-ttl`) and evicts the best one; the random policies just pick a random key. Each
//! eviction is a keyspace event (`evicted`) and invalidates WATCH. A run stops after a time
//! budget set by `maxmemory-eviction-tenacity` and the cron carries on; if nothing can be
//! evicted (`noeviction`, or no candidate keys), commands that may grow memory are refused with
//! `-OOM`.
//!
//! # The access clock
//! Every entry carries 32 bits of access information, read as Redis reads `robj->lru`: under
//! an LRU (or no) policy the time of the last access in seconds; under an LFU policy the time of
//! the last decrement in minutes (16 bits) above a logarithmic access counter (8 bits).

use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::Rng;

use crate::config::{Config, MaxmemoryPolicy};
use crate::events::{KeyEvent, class};
use crate::server::{Server, lru_clock_at};

/// The counter a new key starts with under LFU, so it is not evicted before it is used.
pub const LFU_INIT_VAL: u8 = 5;

/// How many candidates the eviction pool remembers between runs.
const POOL_SIZE: usize = 16;

impl MaxmemoryPolicy {
    /// Whether the policy orders keys by access frequency.
    pub fn is_lfu(self) -> bool {
        matches!(
            self,
            MaxmemoryPolicy::VolatileLfu | MaxmemoryPolicy::AllkeysLfu
        )
    }

    /// Whether the policy ranks keys by their access clock (LRU or LFU).
    pub fn orders_by_access(self) -> bool {
        !matches!(
            self,
            MaxmemoryPolicy::VolatileRandom
                | MaxmemoryPolicy::AllkeysRandom
                | MaxmemoryPolicy::VolatileTtl
                | MaxmemoryPolicy::NoEviction
        )
    }

    /// Whether the policy only evicts keys with an expiry.
    fn volatile_only(self) -> bool {
        matches!(
            self,
            MaxmemoryPolicy::VolatileLru
                | MaxmemoryPolicy::VolatileLfu
                | MaxmemoryPolicy::VolatileRandom
                | MaxmemoryPolicy::VolatileTtl
        )
    }
}

/// Minutes since the epoch, in the 16 bits LFU keeps.
fn lfu_minutes(now_ms: u64) -> u32 {
    ((now_ms / 60_000) & 0xffff) as u32
}

/// The access clock a new value starts with.
pub fn initial_clock(config: &Config, now_ms: u64) -> u32 {
    if config.maxmemory_policy.is_lfu() {
        (lfu_minutes(now_ms) << 8) | u32::from(LFU_INIT_VAL)
    } else {
        lru_clock_at(now_ms)
    }
}

/// The access clock after an access at `now_ms`.
pub fn touched_clock(config: &Config, clock: u32, now_ms: u64, rng: &mut impl Rng) -> u32 {
    if !config.maxmemory_policy.is_lfu() {
        return lru_clock_at(now_ms);
    }
    let counter = lfu_counter(config, clock, now_ms);
    let counter = lfu_log_increment(counter, config.lfu_log_factor, rng);
    (lfu_minutes(now_ms) << 8) | u32::from(counter)
}

/// The LFU counter of `clock`, decayed by one for every `lfu-decay-time` minutes since it was
/// last decremented (OBJECT FREQ reports this).
pub fn lfu_counter(config: &Config, clock: u32, now_ms: u64) -> u8 {
    let counter = (clock & 0xff) as u8;
    let last = clock >> 8 & 0xffff;
    let now = lfu_minutes(now_ms);
    let elapsed = if now >= last {
        now - last
    } else {
        0xffff - last + now
    };
    let periods = match config.lfu_decay_time {
        0 => 0,
        decay => elapsed / decay,
    };
    counter.saturating_sub(u8::try_from(periods).unwrap_or(u8::MAX))
}

/// Increments an LFU counter with probability 1 / ((counter - LFU_INIT_VAL) * factor + 1), so
/// that it grows logarithmically with the number of accesses and saturates at 255.
fn lfu_log_increment(counter: u8, factor: u32, rng: &mut impl Rng) -> u8 {
    if counter == u8::MAX {
        return counter;
    }
    let base = f64::from(counter.saturating_sub(LFU_INIT_VAL));
    let p = 1.0 / (base * f64::from(factor) + 1.0);
    if rng.random::<f64>() < p {
        counter + 1
    } else {
        counter
    }
}

/// Seconds since the last access recorded in an LRU `clock` (the clock wraps at 2^32).
pub fn idle_seconds(clock: u32, now_ms: u64) -> u64 {
    u64::from(lru_clock_at(now_ms).wrapping_sub(clock))
}

/// A key considered for eviction, with its score (higher = evict first).
#[derive(Debug, Clone)]
struct Candidate {
    score: u64,
    db: usize,
    key: Bytes,
}

/// The best candidates seen so far, in ascending score order; they outlive one run, as
/// Redis's pool does, so every run refines the choice.
#[derive(Debug, Default)]
pub struct EvictionPool {
    candidates: Vec<Candidate>,
    /// Where the random policies start their next round of databases.
    next_db: usize,
    /// When the server first went over the limit in the current stretch (INFO
    /// `current_eviction_exceeded_time`), if it is over now.
    exceeded_since: Option<Instant>,
}

impl EvictionPool {
    /// Offers a candidate; keeps the `POOL_SIZE` best.
    fn offer(&mut self, candidate: Candidate) {
        if self.candidates.len() == POOL_SIZE && candidate.score <= self.candidates[0].score {
            return;
        }
        if self
            .candidates
            .iter()
            .any(|c| c.db == candidate.db && c.key == candidate.key)
        {
            return;
        }
        let at = self
            .candidates
            .partition_point(|c| c.score < candidate.score);
        self.candidates.insert(at, candidate);
        if self.candidates.len() > POOL_SIZE {
            self.candidates.remove(0);
        }
    }

    /// How long the server has been over its limit in the current stretch.
    pub fn current_exceeded_time(&self) -> Duration {
        self.exceeded_since.map_or(Duration::ZERO, |t| t.elapsed())
    }
}

/// What an eviction run achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eviction {
    /// Memory is within the limit (or there is no limit).
    Ok,
    /// Still over the limit, but evicting; the cron continues the work.
    Running,
    /// Over the limit with nothing left to evict.
    Failed,
}

/// How long one run may take, from `maxmemory-eviction-tenacity`: 10 (the default) allows
/// 500 µs; each step above 10 grows it by 15%; 100 means no limit.
fn time_limit(tenacity: u32) -> Option<Duration> {
    match tenacity {
        0..=10 => Some(Duration::from_micros(50 * u64::from(tenacity))),
        11..=99 => {
            let us = 500.0 * 1.15f64.powi(i32::try_from(tenacity - 10).unwrap_or(0));
            Some(Duration::from_micros(us as u64))
        }
        _ => None,
    }
}

/// Memory that does not count against `maxmemory`: what replicas have not read of the write
/// stream yet (Redis's `mem_not_counted_for_evict`). Evicting keys cannot shrink it, and
/// counting it would let a slow replica empty the dataset.
pub fn not_counted_for_evict(server: &Server) -> u64 {
    replica_output_memory(server)
}

/// The output buffers of replicas (`mem_clients_slaves`).
pub fn replica_output_memory(server: &Server) -> u64 {
    server
        .clients
        .iter()
        .filter(|c| c.replica)
        .filter_map(|c| c.handle.as_ref())
        .map(|handle| handle.output_memory())
        .sum()
}

/// Bytes over `maxmemory` right now; 0 when within it or unlimited.
fn excess(server: &Server) -> u64 {
    match server.config.maxmemory {
        0 => 0,
        limit => crate::memory::used_memory()
            .saturating_sub(not_counted_for_evict(server))
            .saturating_sub(limit),
    }
}

/// Evicts keys until memory is within `maxmemory` or the time budget is spent.
pub fn perform_evictions(server: &mut Server) -> Eviction {
    let to_free = excess(server);
    if to_free == 0 {
        if let Some(since) = server.eviction.exceeded_since.take() {
            server.stats.total_eviction_exceeded_time_us += since.elapsed().as_micros() as u64;
        }
        return Eviction::Ok;
    }
    server
        .eviction
        .exceeded_since
        .get_or_insert_with(Instant::now);
    if server.config.maxmemory_policy == MaxmemoryPolicy::NoEviction {
        return Eviction::Failed;
    }
    let started = Instant::now();
    let limit = time_limit(server.config.maxmemory_eviction_tenacity);
    let mut freed = 0u64;
    let mut evicted = 0u64;
    while freed < to_free {
        let Some((db, key)) = pick(server) else {
            return Eviction::Failed;
        };
        freed += evict(server, db, &key);
        evicted += 1;
        // Checking the clock costs more than an eviction: look every 16.
        if evicted.is_multiple_of(16) && limit.is_some_and(|limit| started.elapsed() > limit) {
            return if excess(server) == 0 {
                Eviction::Ok
            } else {
                Eviction::Running
            };
        }
    }
    Eviction::Ok
}

/// Removes `key` from `db` as an eviction; returns the bytes it released.
fn evict(server: &mut Server, db: usize, key: &[u8]) -> u64 {
    let before = crate::memory::allocated();
    let Some(entry) = server.dbs[db].remove(key) else {
        return 0;
    };
    let estimate = 64 + (entry.key.heap_size() + entry.value.heap_size()) as u64;
    drop(entry);
    let released = match (before, crate::memory::allocated()) {
        (Some(before), Some(after)) => before.saturating_sub(after).max(1),
        _ => estimate,
    };
    server.stats.evicted_keys += 1;
    crate::transactions::touch(server, db, key);
    crate::tracking::invalidate_key(server, None, None, key, true);
    let lazy = server.config.lazyfree_lazy_eviction;
    server.propagation.push_deletion(db, key, lazy);
    server.propagation.flush(true);
    if server
        .events
        .wanted(server.config.notify_keyspace_events, class::EVICTED)
    {
        server.events.push(KeyEvent {
            class: class::EVICTED,
            name: "evicted",
            db,
            key: Bytes::copy_from_slice(key),
        });
    }
    released
}

/// The next key to evict under the configured policy.
fn pick(server: &mut Server) -> Option<(usize, Bytes)> {
    match server.config.maxmemory_policy {
        MaxmemoryPolicy::NoEviction => None,
        MaxmemoryPolicy::AllkeysRandom | MaxmemoryPolicy::VolatileRandom => pick_random(server),
        _ => pick_from_pool(server),
    }
}

/// A random key (with an expiry, under `volatile-random`), trying each database in turn.
fn pick_random(server: &mut Server) -> Option<(usize, Bytes)> {
    let volatile = server.config.maxmemory_policy.volatile_only();
    let count = server.dbs.len();
    for _ in 0..count {
        let db = server.eviction.next_db % count;
        server.eviction.next_db = server.eviction.next_db.wrapping_add(1);
        let found = if volatile {
            sample_volatile(server, db, 1).into_iter().next()
        } else {
            let Server { dbs, rng, .. } = server;
            dbs[db].random_position(rng)
        };
        if let Some(pos) = found {
            let key = Bytes::copy_from_slice(server.dbs[db].entry(pos).key.as_slice());
            return Some((db, key));
        }
    }
    None
}

/// Refills the pool from a sample of every database and takes its best candidate that still
/// exists.
fn pick_from_pool(server: &mut Server) -> Option<(usize, Bytes)> {
    let samples = server.config.maxmemory_samples.max(1) as usize;
    let volatile = server.config.maxmemory_policy.volatile_only();
    let now = server.now_ms();
    let mut any_keys = false;
    for db in 0..server.dbs.len() {
        let positions = if volatile {
            sample_volatile(server, db, samples)
        } else {
            let Server { dbs, rng, .. } = server;
            (0..samples)
                .filter_map(|_| dbs[db].random_position(rng))
                .collect()
        };
        any_keys |= !positions.is_empty();
        for pos in positions {
            let entry = server.dbs[db].entry(pos);
            let score = score(&server.config, entry, now);
            let key = Bytes::copy_from_slice(entry.key.as_slice());
            server.eviction.offer(Candidate { score, db, key });
        }
    }
    if !any_keys {
        server.eviction.candidates.clear();
        return None;
    }
    while let Some(best) = server.eviction.candidates.pop() {
        if server.dbs[best.db].find(&best.key).is_some() {
            return Some((best.db, best.key));
        }
    }
    None
}

/// How much an entry deserves eviction under the policy: idle seconds (LRU), 255 minus the
/// access counter (LFU), or how soon it expires (`volatile-ttl`).
fn score(config: &Config, entry: &crate::db::Entry, now_ms: u64) -> u64 {
    match config.maxmemory_policy {
        MaxmemoryPolicy::VolatileTtl => u64::MAX - entry.expire_at().unwrap_or(u64::MAX),
        policy if policy.is_lfu() => {
            255 - u64::from(lfu_counter(config, entry.access_clock, now_ms))
        }
        _ => idle_seconds(entry.access_clock, now_ms),
    }
}

/// Up to `want` positions of keys with an expiry in `db`, found by walking from a random
/// position (a database holds volatile and persistent keys side by side).
fn sample_volatile(server: &mut Server, db: usize, want: usize) -> Vec<usize> {
    let Server { dbs, rng, .. } = server;
    let db = &dbs[db];
    if db.volatile_len() == 0 {
        return Vec::new();
    }
    let Some(start) = db.random_position(rng) else {
        return Vec::new();
    };
    let len = db.len();
    let mut found = Vec::with_capacity(want);
    for step in 0..len {
        let pos = (start + step) % len;
        if db.entry(pos).expire_at().is_some() {
            found.push(pos);
            if found.len() == want {
                break;
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    use super::*;

    fn lfu_config() -> Config {
        Config {
            maxmemory_policy: MaxmemoryPolicy::AllkeysLfu,
            ..Config::default()
        }
    }

    #[test]
    fn lfu_counter_starts_at_five_and_grows_logarithmically() {
        let config = lfu_config();
        let mut rng = SmallRng::seed_from_u64(1);
        let now = 1_700_000_000_000;
        let mut clock = initial_clock(&config, now);
        assert_eq!(lfu_counter(&config, clock, now), LFU_INIT_VAL);
        for _ in 0..100 {
            clock = touched_clock(&config, clock, now, &mut rng);
        }
        let after_100 = lfu_counter(&config, clock, now);
        for _ in 0..100_000 {
            clock = touched_clock(&config, clock, now, &mut rng);
        }
        let after_100k = lfu_counter(&config, clock, now);
        // With lfu-log-factor 10, Redis's table: 100 hits ≈ 10, 100k hits ≈ 140-ish.
        assert!((6..=15).contains(&after_100), "{after_100}");
        assert!((100..=200).contains(&after_100k), "{after_100k}");
    }

    #[test]
    fn lfu_counter_decays_one_per_decay_period() {
        let config = lfu_config();
        let now = 1_700_000_000_000;
        let clock = (lfu_minutes(now) << 8) | 20;
        assert_eq!(lfu_counter(&config, clock, now + 3 * 60_000), 17);
        assert_eq!(lfu_counter(&config, clock, now + 300 * 60_000), 0);
    }

    #[test]
    fn pool_keeps_the_best_candidates_in_order() {
        let mut pool = EvictionPool::default();
        for score in [5, 1, 9, 3, 7] {
            pool.offer(Candidate {
                score,
                db: 0,
                key: Bytes::from(format!("k{score}")),
            });
        }
        let scores: Vec<u64> = pool.candidates.iter().map(|c| c.score).collect();
        assert_eq!(scores, [1, 3, 5, 7, 9]);
        for score in 10..40 {
            pool.offer(Candidate {
                score,
                db: 0,
                key: Bytes::from(format!("k{score}")),
            });
        }
        assert_eq!(pool.candidates.len(), POOL_SIZE);
        assert_eq!(pool.candidates[0].score, 24);
    }

    #[test]
    fn tenacity_sets_the_time_budget() {
        assert_eq!(time_limit(10), Some(Duration::from_micros(500)));
        assert_eq!(time_limit(100), None);
        assert!(time_limit(20) > time_limit(10));
    }
}
