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

/// BGREWRITEAOF while a rewrite runs.
pub const REWRITE_IN_PROGRESS: &str =
    "ERR Background append only file rewriting already in progress";

/// Starts the rewrite in the background, or schedules it after the BGSAVE under way.
fn bgrewriteaof(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    let state = &mut ctx.server.persistence_state;
    if state.aof_rewrite_started_ms.is_some() {
        return Err(CommandError::msg(REWRITE_IN_PROGRESS));
    }
    if state.bgsave_started_ms.is_some() {
        state.aof_rewrite_scheduled = true;
        return Ok(Frame::Simple(
            "Background append only file rewriting scheduled".into(),
        ));
    }
    match super::start_rewrite(ctx.server) {
        Ok(()) => Ok(Frame::Simple(
            "Background append only file rewriting started".into(),
        )),
        Err(_) => Err(CommandError::msg(REWRITE_FAILED)),
    }
}
