//! Exercises every area of the module API for the integration tests: replies of every type,
//! keys of every built-in type, borrowed reads, `call`, keyspace and server events, a data type
//! with `unlink` and `free_effort`, panics and refused loads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use oxidis_module_api::{
    Args, Command, ConfigDefault, Context, DataType, Error, LoadContext, RdbIn, RdbOut, Reply,
    TypeSlot, declare_module, key_flags, notify, server_event,
};

static FLUSHES: AtomicU64 = AtomicU64::new(0);
/// Server events seen, by kind: connected, disconnected, cron ticks, loading starts/ends.
static CONNECTED: AtomicU64 = AtomicU64::new(0);
static DISCONNECTED: AtomicU64 = AtomicU64::new(0);
static CRON_TICKS: AtomicU64 = AtomicU64::new(0);
static LOADINGS: AtomicU64 = AtomicU64::new(0);

/// Where the shutdown event is recorded (the `shutdown-file=<path>` load argument).
static SHUTDOWN_FILE: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

fn on_server_event(kind: u32, detail: &str) {
    if kind == server_event::SHUTDOWN {
        let path = SHUTDOWN_FILE.lock().map(|p| p.clone()).unwrap_or_default();
        if let Some(path) = path {
            let _ = std::fs::write(path, detail);
        }
        return;
    }
    let counter = match kind {
        server_event::FLUSH if detail.ends_with("start") => &FLUSHES,
        server_event::CLIENT_CHANGE if detail.starts_with("connected") => &CONNECTED,
        server_event::CLIENT_CHANGE => &DISCONNECTED,
        server_event::CRON_TICK => &CRON_TICKS,
        server_event::LOADING if detail.starts_with("end") && detail.ends_with("ok") => &LOADINGS,
        _ => return,
    };
    counter.fetch_add(1, Ordering::SeqCst);
}

fn count(counter: &AtomicU64) -> Reply {
    Reply::Int(i64::try_from(counter.load(Ordering::SeqCst)).unwrap_or(i64::MAX))
}

/// `TEST.EVENTS` → [connected, disconnected, cron ticks, loadings ended ok].
fn events(_ctx: &mut Context<'_>, _args: &Args<'_>) -> Result<Reply, Error> {
    Ok(Reply::Array(
        [&CONNECTED, &DISCONNECTED, &CRON_TICKS, &LOADINGS]
            .into_iter()
            .map(count)
            .collect(),
    ))
}

/// The `testlist` type: one allocation per item, so freeing a long one is real work.
static ITEMS: TypeSlot<Items> = TypeSlot::new();
/// `unlink` callbacks seen, and values dropped (in total, and on another thread than the
/// one running commands).
static UNLINKS: AtomicU64 = AtomicU64::new(0);
static DROPS: AtomicU64 = AtomicU64::new(0);
static DROPS_ELSEWHERE: AtomicU64 = AtomicU64::new(0);

struct Items(Vec<Vec<u8>>);

impl Drop for Items {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Ordering::SeqCst);
        // The OS thread name: the module's `std` does not know the server's thread names.
        let name = std::fs::read_to_string("/proc/thread-self/comm").unwrap_or_default();
        if name.trim_end() == "oxidis-lazyfree" {
            DROPS_ELSEWHERE.fetch_add(1, Ordering::SeqCst);
        }
    }
}

struct ItemsType;

impl DataType for ItemsType {
    type Value = Items;

    fn rdb_save(&self, value: &Items, out: &mut RdbOut) {
        out.unsigned(value.0.len() as u64);
        value.0.iter().for_each(|item| out.bytes(item));
    }

    fn rdb_load(&self, input: &mut RdbIn<'_>, _encver: u32) -> Result<Items, Error> {
        let len = input.unsigned()?;
        (0..len)
            .map(|_| input.bytes())
            .collect::<Result<_, _>>()
            .map(Items)
    }

    fn free_effort(&self, value: &Items, _key: &[u8]) -> usize {
        value.0.len()
    }

    fn unlink(&self, _value: &Items, _key: &[u8]) {
        UNLINKS.fetch_add(1, Ordering::SeqCst);
    }
}

/// `TEST.PUSH key item...`: appends items to a `testlist` value; its new length.
fn push(ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
    let key = args.bytes(1)?;
    let ty = ITEMS.get()?;
    let items = args.iter().skip(2).map(<[u8]>::to_vec);
    let len = match ctx.value_mut(key, ty)? {
        Some(value) => {
            value.0.extend(items);
            value.0.len()
        }
        None => {
            let value = Items(items.collect());
            let len = value.0.len();
            ctx.set_value(key, ty, value)?;
            len
        }
    };
    ctx.replicate_verbatim();
    Ok(Reply::Int(i64::try_from(len).unwrap_or(i64::MAX)))
}

/// `TEST.FREES` → [unlink callbacks, values dropped, values dropped on the lazy-free thread].
fn frees(_ctx: &mut Context<'_>, _args: &Args<'_>) -> Result<Reply, Error> {
    Ok(Reply::Array(
        [&UNLINKS, &DROPS, &DROPS_ELSEWHERE]
            .into_iter()
            .map(count)
            .collect(),
    ))
}

/// `TEST.READ how key`: a string key read without copying it into the module — `ref`
/// (`get_ref`, then copied into the reply), `len` (`with_string`), `reply` (`reply_string`:
/// the server answers with the value) — or `copy` (`get`, the owned read).
fn read(ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
    let key = args.bytes(2)?;
    let bulk_or_null = |value: Option<Vec<u8>>| value.map_or(Reply::Null, Reply::Bulk);
    Ok(match args.bytes(1)? {
        b"ref" => bulk_or_null(ctx.get_ref(key)?.map(<[u8]>::to_vec)),
        b"len" => ctx
            .with_string(key, |bytes| {
                Reply::Int(i64::try_from(bytes.len()).unwrap_or(-1))
            })?
            .unwrap_or(Reply::Int(-1)),
        b"copy" => bulk_or_null(ctx.get(key)?),
        // The module's own reply is not sent once the server holds one.
        b"reply" => {
            ctx.reply_string(key)?;
            Reply::Simple("not sent".into())
        }
        _ => return Err(Error::new("unknown read kind")),
    })
}

fn flushes(_ctx: &mut Context<'_>, _args: &Args<'_>) -> Result<Reply, Error> {
    Ok(Reply::Int(
        i64::try_from(FLUSHES.load(Ordering::SeqCst)).unwrap_or(i64::MAX),
    ))
}

/// `TEST.BLOCK ms [timeout-ms]`: blocks the client; a thread answers it after `ms` (0: never,
/// so the timeout, 200 ms by default, answers).
fn block(ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
    let ms = u64::try_from(args.i64(1)?).map_err(|_| Error::new("negative delay"))?;
    let timeout = match args.get(2) {
        Some(_) => u64::try_from(args.i64(2)?).map_err(|_| Error::new("negative timeout"))?,
        None => 200,
    };
    let blocked = ctx.block(
        Some(Duration::from_millis(timeout)),
        Reply::Simple("timed out".into()),
    )?;
    if ms > 0 {
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(ms));
            blocked.reply(Reply::Bulk(format!("answered after {ms} ms").into_bytes()));
        });
    }
    Ok(Reply::Null)
}

/// `TEST.CONFIG [name]`: the value of `testmod.<name>` (`limit` by default) as the module reads
/// it.
fn config(ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
    let name = String::from_utf8_lossy(args.get(1).unwrap_or(b"limit")).into_owned();
    Ok(ctx
        .config(&format!("testmod.{name}"))
        .map_or(Reply::Null, Reply::Bulk))
}

fn refuse_13(_name: &str, value: &[u8]) -> Result<(), String> {
    if value == b"13" {
        Err("13 is unlucky".into())
    } else {
        Ok(())
    }
}

fn reply(ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
    Ok(match args.bytes(1)? {
        b"simple" => Reply::Simple("fine".into()),
        b"error" => Reply::Error("ERR custom failure".into()),
        b"int" => Reply::Int(-42),
        b"bulk" => Reply::Bulk(b"bytes\x00here".to_vec()),
        b"null" => Reply::Null,
        b"nullarray" => Reply::NullArray,
        b"array" => Reply::Array(vec![Reply::Int(1), Reply::Bulk(b"two".to_vec())]),
        b"map" => Reply::Map(vec![(Reply::Bulk(b"k".to_vec()), Reply::Int(1))]),
        b"set" => Reply::Set(vec![Reply::Bulk(b"m".to_vec())]),
        b"double" => Reply::Double(3.5),
        b"bool" => Reply::Bool(true),
        b"verbatim" => Reply::Verbatim("txt".into(), b"some text".to_vec()),
        b"resp3" => Reply::Bool(ctx.resp3()),
        _ => return Err(Error::new("unknown reply kind")),
    })
}

fn keys(ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
    let prefix = args.bytes(1)?;
    let key = |suffix: &str| [prefix, suffix.as_bytes()].concat();
    let (s, l, h, st, z) = (key(":s"), key(":l"), key(":h"), key(":set"), key(":z"));
    let mut out = Vec::new();
    ctx.set(&s, b"v1")?;
    out.push(Reply::Bulk(ctx.get(&s)?.unwrap_or_default()));
    out.push(Reply::Int(i64::from(ctx.expire(&s, 100_000)?)));
    out.push(Reply::Int(i64::from(ctx.ttl_ms(&s)? > 0)));
    out.push(Reply::Int(ctx.list_push(&l, false, &[b"a", b"b", b"c"])?));
    out.push(Reply::Bulk(ctx.list_pop(&l, true)?.unwrap_or_default()));
    out.push(Reply::Array(
        ctx.list_range(&l, 0, -1)?
            .into_iter()
            .map(Reply::Bulk)
            .collect(),
    ));
    out.push(Reply::Int(i64::from(ctx.hash_set(&h, b"f", b"x")?)));
    out.push(Reply::Bulk(ctx.hash_get(&h, b"f")?.unwrap_or_default()));
    out.push(Reply::Int(ctx.set_add(&st, &[b"m1", b"m1"])?));
    out.push(Reply::Array(
        ctx.set_members(&st)?.into_iter().map(Reply::Bulk).collect(),
    ));
    out.push(Reply::Int(i64::from(ctx.zset_add(&z, 2.5, b"zm")?)));
    out.push(Reply::Double(
        ctx.zset_score(&z, b"zm")?.unwrap_or(f64::NAN),
    ));
    out.push(Reply::Array(
        ctx.zset_range(&z, 0, -1)?
            .into_iter()
            .map(Reply::Bulk)
            .collect(),
    ));
    out.push(Reply::Simple(ctx.key_type(&l)?));
    out.push(Reply::Int(i64::from(ctx.exists(&h)?)));
    out.push(Reply::Int(i64::from(ctx.delete(&h)?)));
    out.push(Reply::Int(i64::from(ctx.exists(&h)?)));
    match ctx.get(&l) {
        Err(e) => out.push(Reply::Error(e.text().to_string())),
        Ok(_) => out.push(Reply::Null),
    }
    Ok(Reply::Array(out))
}

/// `TEST.STREAM key`: adds two entries to the stream at `key` through the typed helpers and
/// reads them back: [id, id, [[id, [name, value]...]...], type].
fn stream(ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
    let key = args.bytes(1)?;
    let first = ctx.stream_add(key, b"1-1", &[(b"f", b"v"), (b"g", b"w")])?;
    let second = ctx.stream_add(key, b"*", &[(b"h", b"x")])?;
    let entries = ctx
        .stream_range(key, b"-", b"+")?
        .into_iter()
        .map(|(id, fields)| {
            let flat = fields
                .into_iter()
                .flat_map(|(name, value)| [Reply::Bulk(name), Reply::Bulk(value)])
                .collect();
            Reply::Array(vec![Reply::Bulk(id), Reply::Array(flat)])
        })
        .collect();
    Ok(Reply::Array(vec![
        Reply::Bulk(first),
        Reply::Bulk(second),
        Reply::Array(entries),
        Reply::Simple(ctx.key_type(key)?),
    ]))
}

fn call(ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
    let argv: Vec<&[u8]> = args.iter().skip(1).collect();
    Ok(ctx.call(&argv))
}

fn event(ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
    ctx.notify(notify::MODULE, "test.event", args.bytes(1)?);
    Ok(Reply::ok())
}

fn panic(_ctx: &mut Context<'_>, _args: &Args<'_>) -> Result<Reply, Error> {
    panic!("deliberate test panic")
}

fn init(ctx: &mut LoadContext<'_>, args: &[String]) -> Result<(), Error> {
    if args.iter().any(|a| a == "refuse") {
        return Err(Error::new("refused by its arguments"));
    }
    if args.iter().any(|a| a == "panic") {
        panic!("init panic");
    }
    ctx.create_command(
        Command::new("test.reply", 2, reply)
            .flags("readonly fast")
            .docs(
                "Replies with one value of the given RESP type",
                "1.0.0",
                "O(1)",
            ),
    )?;
    ctx.create_command(
        Command::new("test.keys", 2, keys)
            .flags("write deny-oom")
            .acl("keyspace write")
            .docs("Touches keys of every built-in type", "1.0.0", "O(1)"),
    )?;
    ctx.create_command(Command::new("test.call", -2, call).flags("write").docs(
        "Runs a command through the module API",
        "1.0.0",
        "Depends on the command.",
    ))?;
    ctx.create_command(
        Command::new("test.event", 2, event)
            .flags("write")
            .key_spec(1, 0, 1, key_flags::RW | key_flags::UPDATE),
    )?;
    ctx.create_command(Command::new("test.panic", 1, panic).flags("readonly"))?;
    ctx.create_command(Command::new("test.block", -2, block).flags("readonly"))?;
    ctx.create_command(Command::new("test.flushes", 1, flushes).flags("readonly fast"))?;
    ctx.create_command(Command::new("test.config", -1, config).flags("readonly fast"))?;
    ctx.create_command(Command::new("test.events", 1, events).flags("readonly fast"))?;
    ctx.create_command(
        Command::new("test.stream", 2, stream)
            .flags("write deny-oom")
            .keys(1, 1, 1),
    )?;
    ctx.create_command(
        Command::new("test.push", -3, push)
            .flags("write deny-oom")
            .keys(1, 1, 1),
    )?;
    ctx.create_command(Command::new("test.frees", 1, frees).flags("readonly fast"))?;
    ctx.create_command(
        Command::new("test.read", 3, read)
            .flags("readonly fast")
            .key_spec(2, 0, 1, key_flags::RO | key_flags::ACCESS),
    )?;
    ITEMS.set(ctx.create_data_type("testlist0", 0, ItemsType)?);
    let shutdown_file = args
        .iter()
        .find_map(|a| a.strip_prefix("shutdown-file="))
        .map(str::to_string);
    if let Ok(mut slot) = SHUTDOWN_FILE.lock() {
        *slot = shutdown_file;
    }
    for kind in [
        server_event::SHUTDOWN,
        server_event::FLUSH,
        server_event::CLIENT_CHANGE,
        server_event::CRON_TICK,
        server_event::LOADING,
    ] {
        ctx.subscribe_server_event(kind, on_server_event)?;
    }
    ctx.register_config(
        "limit",
        ConfigDefault::Numeric {
            default: 10,
            min: 0,
            max: 100,
        },
        Some(refuse_13),
    )?;
    ctx.register_config("verbose", ConfigDefault::Bool(false), None)?;
    ctx.register_config("label", ConfigDefault::String(Some(b"none".to_vec())), None)?;
    // A second command of the same name is refused.
    if ctx
        .create_command(Command::new("test.panic", 1, panic))
        .is_ok()
    {
        return Err(Error::new("a duplicate command was accepted"));
    }
    Ok(())
}

declare_module!(name: "testmod", version: 7, init: init);
