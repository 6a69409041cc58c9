//! Exercises every area of the module API for the integration tests: replies of every type,
//! keys of every built-in type, `call`, keyspace events, panics and refused loads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use oxidis_module_api::{
    Args, Command, ConfigDefault, Context, Error, LoadContext, Reply, declare_module, key_flags,
    notify, server_event,
};

static FLUSHES: AtomicU64 = AtomicU64::new(0);

fn on_server_event(kind: u32, detail: &str) {
    if kind == server_event::FLUSH && detail.ends_with("start") {
        FLUSHES.fetch_add(1, Ordering::SeqCst);
    }
}

fn flushes(_ctx: &mut Context<'_>, _args: &Args<'_>) -> Result<Reply, Error> {
    Ok(Reply::Int(
        i64::try_from(FLUSHES.load(Ordering::SeqCst)).unwrap_or(i64::MAX),
    ))
}

/// `TEST.BLOCK ms`: blocks the client; a thread answers it after `ms` (0: never, so the
/// 200 ms timeout answers).
fn block(ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
    let ms = u64::try_from(args.i64(1)?).map_err(|_| Error::new("negative delay"))?;
    let blocked = ctx.block(
        Some(Duration::from_millis(200)),
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

fn config(ctx: &mut Context<'_>, _args: &Args<'_>) -> Result<Reply, Error> {
    Ok(ctx.config("testmod.limit").map_or(Reply::Null, Reply::Bulk))
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
    ctx.create_command(Command::new("test.block", 2, block).flags("readonly"))?;
    ctx.create_command(Command::new("test.flushes", 1, flushes).flags("readonly fast"))?;
    ctx.create_command(Command::new("test.config", 1, config).flags("readonly fast"))?;
    ctx.subscribe_server_event(server_event::FLUSH, on_server_event)?;
    ctx.register_config(
        "limit",
        ConfigDefault::Numeric {
            default: 10,
            min: 0,
            max: 100,
        },
        Some(refuse_13),
    )?;
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
