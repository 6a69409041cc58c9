//! BGREWRITEAOF.

use oxidis_core::command::{Args, Arity, CommandResult, CommandSpec, Family, Flag::*, Group};
use oxidis_core::context::CommandContext;
use oxidis_core::errors::CommandError;
use oxidis_protocol::Frame;

/// The rewrite failed (Redis's text; the log says why).
pub const REWRITE_FAILED: &str = "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.";

/// BGREWRITEAOF (Redis's `server` group).
pub static FAMILY: Family = Family {
    group: Group::Server,
    commands: &[
        CommandSpec::new("bgrewriteaof", Arity::Exact(1), bgrewriteaof)
            .flags(&[NoAsyncLoading, Admin, NoScript])
            .doc(
                "Asynchronously rewrite the append-only file",
                "1.0.0",
                "O(1)",
            ),
    ],
};

/// Runs the rewrite at once (under the lock) and answers as Redis does when it starts one.
fn bgrewriteaof(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    match super::rewrite(ctx.server) {
        Ok(()) => Ok(Frame::Simple(
            "Background append only file rewriting started".into(),
        )),
        Err(_) => Err(CommandError::msg(REWRITE_FAILED)),
    }
}
