//! `HELLO.OUTSIDE [name]` → "hello, <name>": a module from outside the server's workspace.

use oxidis_module_api::{Args, Command, Context, Error, LoadContext, Reply, declare_module};

fn hello(_ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
    let name = args.get(1).unwrap_or(b"world");
    Ok(Reply::Bulk([b"hello, ".as_slice(), name].concat()))
}

fn init(ctx: &mut LoadContext<'_>, _args: &[String]) -> Result<(), Error> {
    ctx.create_command(
        Command::new("hello.outside", -1, hello)
            .flags("readonly fast")
            .docs("Greets", "0.1.0", "O(1)"),
    )
}

declare_module!(name: "outside", version: 1, init: init);
