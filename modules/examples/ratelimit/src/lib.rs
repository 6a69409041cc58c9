//! A fixed-window rate limiter: the shortest module that adds commands.
//!
//! - `RL.ALLOW key max period-ms` → 1 when the caller may go on (and counts the call), 0 once
//!   `max` calls were counted in the current window of `period-ms`.
//! - `RL.GET key` → the key's string value (a GET-equivalent, for the overhead benchmark).
//! - `RL.PANIC` → panics, to show that a module panic becomes an error reply.

use oxidis_module_api::{
    Args, Command, Context, Error, LoadContext, Reply, declare_module, notify,
};

fn allow(ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
    let key = args.bytes(1)?;
    let max = args.i64(2)?;
    let period = args.i64(3)?;
    if max < 0 || period <= 0 {
        return Err(Error::new("ERR max must be >= 0 and period > 0"));
    }
    let count = match ctx.call_ok(&[b"INCR".as_slice(), key])? {
        Reply::Int(n) => n,
        _ => return Err(Error::new("ERR unexpected INCR reply")),
    };
    if count == 1 {
        ctx.expire(key, period)?;
    }
    if count > max {
        ctx.notify(notify::MODULE, "ratelimit.denied", key);
        return Ok(Reply::Int(0));
    }
    Ok(Reply::Int(1))
}

fn get(ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
    // The server replies with the value straight from the keyspace: nothing is copied into
    // the module (`ctx.get` would return an owned copy, `ctx.with_string` lends the bytes).
    ctx.reply_string(args.bytes(1)?)
}

fn panic(_ctx: &mut Context<'_>, _args: &Args<'_>) -> Result<Reply, Error> {
    panic!("RL.PANIC was called")
}

fn init(ctx: &mut LoadContext<'_>, _args: &[String]) -> Result<(), Error> {
    ctx.create_command(
        Command::new("rl.allow", 4, allow)
            .flags("write deny-oom")
            .keys(1, 1, 1)
            .acl("write string")
            .docs(
                "Counts a call against a rate limit; 1 if allowed, 0 if not",
                "1.0.0",
                "O(1)",
            ),
    )?;
    ctx.create_command(
        Command::new("rl.get", 2, get)
            .flags("readonly fast")
            .keys(1, 1, 1)
            .acl("read string")
            .docs(
                "Returns a string key's value (GET through the module API)",
                "1.0.0",
                "O(1)",
            ),
    )?;
    ctx.create_command(Command::new("rl.panic", 1, panic).flags("readonly"))?;
    Ok(())
}

declare_module!(name: "ratelimit", version: 1, init: init);
