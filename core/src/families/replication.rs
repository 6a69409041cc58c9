//! SYNC, PSYNC and REPLCONF: what a replica sends to attach to this server. A replica receives
//! a full snapshot (an RDB payload made by the persistence crate's snapshot hook), then every
//! propagated write (see [`crate::replication`]). Partial resynchronisation is not offered:
//! PSYNC always answers `+FULLRESYNC`.
//!
//! The family needs a snapshot, so the server crate registers it only in builds with
//! persistence; elsewhere the commands are absent, like any compiled-out command.

use bytes::{BufMut, Bytes, BytesMut};
use oxidis_protocol::Frame;

use crate::command::{Arg, Args, Arity, CommandResult, CommandSpec, Family, Flag::*, Group};
use crate::context::CommandContext;
use crate::errors::CommandError;

/// The replication commands.
pub static FAMILY: Family = Family {
    group: Group::Server,
    commands: &[
        CommandSpec::new("sync", Arity::Exact(1), sync)
            .flags(&[NoAsyncLoading, Admin, NoMulti, NoScript])
            .doc("Internal command used for replication", "1.0.0", "")
            .acl(&[crate::command::AclCategory::Dangerous]),
        CommandSpec::new("psync", Arity::AtLeast(3), psync)
            .flags(&[NoAsyncLoading, Admin, NoMulti, NoScript])
            .doc("Internal command used for replication", "2.8.0", "")
            .args(&[Arg::string("replicationid"), Arg::integer("offset")]),
        CommandSpec::new("replconf", Arity::AtLeast(1), replconf)
            .flags(&[Admin, NoScript, Loading, Stale, AllowBusy])
            .doc(
                "An internal command for configuring the replication stream",
                "3.0.0",
                "O(1)",
            ),
    ],
};

/// SYNC: the snapshot as a bulk payload without the trailing CRLF, then the stream.
fn sync(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    attach(ctx, None)
}

/// PSYNC replid offset: always a full resynchronisation.
fn psync(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    let header = format!(
        "+FULLRESYNC {} {}\r\n",
        ctx.server.replication_id,
        ctx.server.propagation.offset()
    );
    attach(ctx, Some(header))
}

/// Makes the caller a replica: snapshot now, stream from now on.
fn attach(ctx: &mut CommandContext<'_>, header: Option<String>) -> CommandResult {
    // A replica asking again is ignored, as Redis does.
    if ctx.client().replica {
        return Ok(Frame::Raw(Bytes::new()));
    }
    let Some(hooks) = ctx.server.persistence else {
        return Err(CommandError::custom(
            "ERR this server was built without persistence and cannot serve replicas".to_string(),
        ));
    };
    let snapshot = (hooks.snapshot)(ctx.server);
    ctx.client().replica = true;
    crate::replication::update_propagation(ctx.server);
    // Whatever comes next starts with a SELECT, as for a replica Redis has just attached.
    ctx.server.propagation.force_select();
    let mut out = BytesMut::with_capacity(snapshot.len() + 64);
    if let Some(header) = header {
        out.put_slice(header.as_bytes());
    }
    out.put_slice(format!("${}\r\n", snapshot.len()).as_bytes());
    out.put_slice(&snapshot);
    Ok(Frame::Raw(out.freeze()))
}

/// REPLCONF option value ...: what a replica tells its master about itself.
fn replconf(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    if !args.remaining().is_multiple_of(2) {
        return Err(CommandError::Syntax);
    }
    while args.remaining() > 0 {
        let option = args.next_bytes()?.to_ascii_lowercase();
        let _value = args.next_bytes()?;
        match option.as_slice() {
            b"listening-port" | b"ip-address" | b"capa" | b"rdb-only" | b"rdb-filter-only" => {}
            // Acknowledgements get no reply.
            b"ack" | b"getack" if ctx.client().replica => return Ok(Frame::Raw(Bytes::new())),
            b"ack" | b"getack" => {}
            _ => {
                return Err(CommandError::custom(format!(
                    "ERR Unrecognized REPLCONF option: {}",
                    String::from_utf8_lossy(&option)
                )));
            }
        }
    }
    Ok(Frame::ok())
}
