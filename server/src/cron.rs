//! The periodic work Redis does in `serverCron`, `hz` times a second: active expiry, eviction
//! under `maxmemory`, and closing clients idle past `timeout`.

use std::sync::Arc;
use std::time::Duration;

use crate::shared::Shared;

/// Runs forever; each tick takes the keyspace lock once.
pub async fn run(shared: Arc<Shared>) {
    let pump = shared.clone();
    if let Ok(thread) = std::thread::Builder::new()
        .name("oxidis-snapshot".to_string())
        .spawn(move || snapshot_pump(&pump))
    {
        crate::extensions::register_snapshot_pump(thread.thread().clone());
    }
    loop {
        let hz = shared
            .server
            .try_lock_for(Duration::from_millis(5))
            .map_or(10, |s| s.config.hz.clamp(1, 500));
        tokio::time::sleep(Duration::from_millis(1000 / u64::from(hz))).await;
        // A running script holds the lock for as long as it runs: skip the tick rather than
        // block this runtime's thread (and the listeners on it) behind it.
        let Some(mut server) = shared.server.try_lock_for(Duration::from_millis(5)) else {
            continue;
        };
        if server.cron_paused {
            continue;
        }
        if std::mem::take(&mut server.shutdown_asap) {
            server.shutdown_request.get_or_insert_default();
            shared.shutdown.notify_one();
        }
        // A replica leaves expiry to its master, which sends the DELs.
        if !oxidis_core::replication::is_replica(&server) {
            server.active_expire_cycle();
        }
        oxidis_core::metrics::track(&mut server);
        // Finish what the last command's eviction run left over the limit.
        if server.config.maxmemory > 0 {
            oxidis_core::eviction::perform_evictions(&mut server);
            if !server.events.is_empty() {
                oxidis_core::events::deliver(&mut server);
            }
        }
        // Expiry and eviction propagate DELs like commands do.
        if let Some(wait) = crate::extensions::after_batch(&mut server) {
            wait.wait();
        }
        oxidis_core::replication::cron(&mut server);
        close_idle_clients(&mut server);
        oxidis_core::client::trim_idle_query_buffers(&mut server);
        oxidis_core::pubsub::enforce_output_limits(&mut server);
        // `maxmemory-clients`: recount every client (output drains, idle buffers).
        oxidis_core::client::update_memory_and_evict(&mut server, None);
        crate::extensions::cron(&mut server);
        oxidis_core::modules::events::cron_tick(&mut server);
    }
}

/// Drives background saves (BGSAVE, the AOF rewrite) forward: ~1 ms slices under the
/// keyspace lock, handed back fairly so commands interleave; asleep when no save runs.
fn snapshot_pump(shared: &Shared) {
    loop {
        if !crate::extensions::snapshot_active() {
            std::thread::park_timeout(Duration::from_millis(100));
            continue;
        }
        let mut server = shared.server.lock();
        let more = crate::extensions::snapshot_step(&mut server);
        parking_lot::MutexGuard::unlock_fair(server);
        // Handed straight to a waiting connection: commands are queueing, so let them have
        // the keyspace for as long as the slice took (at most half the time goes to the save).
        if !more || shared.server.is_locked() {
            std::thread::sleep(Duration::from_millis(1));
        } else {
            std::thread::yield_now();
        }
    }
}

/// Closes normal clients idle for longer than `timeout` seconds.
fn close_idle_clients(server: &mut oxidis_core::Server) {
    let timeout_ms = server.config.timeout.saturating_mul(1000);
    if timeout_ms == 0 {
        return;
    }
    let now = server.now_ms();
    for client in server.clients.iter() {
        if now.saturating_sub(client.last_interaction_ms) > timeout_ms
            && let Some(handle) = &client.handle
        {
            handle.close();
        }
    }
}
