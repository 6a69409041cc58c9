//! An event hook: counts keyspace events by name, whatever `notify-keyspace-events` says.
//!
//! - `EVCOUNT.GET [event]`: the count of one event (`set`, `del`, `expired`, `evicted`...), or a
//!   map of every event seen.
//! - `EVCOUNT.RESET`: forgets the counts.

use std::collections::BTreeMap;
use std::sync::Mutex;

use oxidis_module_api::{
    Args, Command, Context, Error, KeyEvent, LoadContext, Reply, declare_module, notify,
};

static COUNTS: Mutex<BTreeMap<String, i64>> = Mutex::new(BTreeMap::new());

fn counts() -> std::sync::MutexGuard<'static, BTreeMap<String, i64>> {
    COUNTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn on_event(event: &KeyEvent<'_>) {
    *counts().entry(event.event.to_string()).or_default() += 1;
}

fn get(_ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
    let counts = counts();
    Ok(match args.get(1) {
        Some(name) => Reply::Int(
            counts
                .get(String::from_utf8_lossy(name).as_ref())
                .copied()
                .unwrap_or(0),
        ),
        None => Reply::Map(
            counts
                .iter()
                .map(|(k, v)| (Reply::Bulk(k.clone().into_bytes()), Reply::Int(*v)))
                .collect(),
        ),
    })
}

fn reset(_ctx: &mut Context<'_>, _args: &Args<'_>) -> Result<Reply, Error> {
    counts().clear();
    Ok(Reply::ok())
}

fn init(ctx: &mut LoadContext<'_>, _args: &[String]) -> Result<(), Error> {
    // Statics outlive an unload (the library stays mapped): start from zero on every load.
    counts().clear();
    let all = notify::GENERIC
        | notify::STRING
        | notify::LIST
        | notify::SET
        | notify::HASH
        | notify::ZSET
        | notify::EXPIRED
        | notify::EVICTED
        | notify::STREAM
        | notify::MODULE;
    ctx.subscribe_keyspace(all, on_event);
    ctx.create_command(
        Command::new("evcount.get", -1, get)
            .flags("readonly fast")
            .docs("Counts of keyspace events seen, by name", "1.0.0", "O(1)"),
    )?;
    ctx.create_command(
        Command::new("evcount.reset", 1, reset)
            .flags("readonly fast")
            .docs("Forgets the counts", "1.0.0", "O(1)"),
    )?;
    Ok(())
}

declare_module!(name: "evcount", version: 1, init: init);
