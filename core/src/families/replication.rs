//! Replication commands. A master's side: SYNC, PSYNC and REPLCONF, what a replica sends to
//! attach (a full snapshot made by the persistence crate's snapshot hook, or the backlog from
//! the replica's offset, then every propagated write: see [`crate::replication`]). A replica's
//! side: REPLICAOF / SLAVEOF, which only record the order (the server crate's replica task
//! makes the link), and ROLE for both.
//!
//! The family needs a snapshot, so the server crate registers it only in builds with
//! persistence; elsewhere the commands are absent, like any compiled-out command.

use bytes::{BufMut, Bytes, BytesMut};
use oxidis_protocol::Frame;
use tracing::info;

use crate::command::{
    AclCategory, Arg, Args, Arity, CommandResult, CommandSpec, Family, Flag::*, Group,
};
use crate::context::CommandContext;
use crate::errors::CommandError;
use crate::errors::replication::{INVALID_MASTER_PORT, NO_MASTER_LINK, REPLICA_CANNOT_REPLICAOF};
use crate::replication::{self as repl, LinkState};

const REPLICAOF_ARGS: &[Arg] = &[Arg::one_of(
    "args",
    &[
        Arg::block("host-port", &[Arg::string("host"), Arg::integer("port")]),
        Arg::block(
            "no-one",
            &[Arg::token("no", "NO"), Arg::token("one", "ONE")],
        ),
    ],
)];

const REPLICAOF_SUMMARY: &str =
    "Make the server a replica of another instance, or promote it as master.";

/// The replication commands.
pub static FAMILY: Family = Family {
    group: Group::Server,
    commands: &[
        CommandSpec::new("sync", Arity::Exact(1), sync)
            .flags(&[NoAsyncLoading, Admin, NoMulti, NoScript])
            .doc("Internal command used for replication", "1.0.0", "")
            .acl(&[AclCategory::Dangerous]),
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
        CommandSpec::new("replicaof", Arity::Exact(3), replicaof)
            .flags(&[NoAsyncLoading, Admin, NoScript, Stale])
            .doc(REPLICAOF_SUMMARY, "5.0.0", "O(1)")
            .args(REPLICAOF_ARGS),
        CommandSpec::new("slaveof", Arity::Exact(3), replicaof)
            .flags(&[NoAsyncLoading, Admin, NoScript, Stale])
            .doc(REPLICAOF_SUMMARY, "1.0.0", "O(1)")
            .args(REPLICAOF_ARGS)
            .deprecated("5.0.0", "`REPLICAOF`"),
        CommandSpec::new("wait", Arity::Exact(3), wait)
            .flags(&[NoScript])
            .group(Group::Generic)
            .acl_only(&[AclCategory::Connection])
            .tips(&["request_policy:all_shards", "response_policy:agg_min"])
            .doc(
                "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
                "3.0.0",
                "O(1)",
            )
            .args(&[Arg::integer("numreplicas"), Arg::integer("timeout")]),
        CommandSpec::new("role", Arity::Exact(1), role)
            .flags(&[NoScript, Loading, Stale, Fast])
            .acl(&[AclCategory::Admin, AclCategory::Dangerous])
            .doc(
                "Return the role of the instance in the context of replication",
                "2.8.12",
                "O(1)",
            ),
    ],
};

/// SYNC: the snapshot as a bulk payload without the trailing CRLF, then the stream.
fn sync(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    check_can_serve(ctx)?;
    attach(ctx, None)
}

/// PSYNC replid offset: `+CONTINUE` with the backlog from `offset` when our history (this
/// replication id, or the previous one up to where it was valid) still holds it, else a full
/// resynchronisation.
fn psync(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    check_can_serve(ctx)?;
    let replid = args.next_bytes()?;
    let offset = args.next_bytes()?;
    if ctx.client().replica {
        return Ok(Frame::Raw(Bytes::new()));
    }
    let wanted = std::str::from_utf8(offset)
        .ok()
        .and_then(|o| o.parse::<u64>().ok());
    if let Some(from) = wanted
        && let Some(backlog) = continuation(ctx, replid, from)
    {
        let id = ctx.client_id();
        ctx.client().replica = true;
        repl::attached(ctx.server, id);
        repl::state(ctx.server).sync_partial_ok += 1;
        repl::update_propagation(ctx.server);
        let mut out = BytesMut::with_capacity(backlog.len() + 64);
        out.put_slice(format!("+CONTINUE {}\r\n", ctx.server.replication_id).as_bytes());
        out.put_slice(&backlog);
        return Ok(Frame::Raw(out.freeze()));
    }
    if replid.as_ref() != b"?" {
        repl::state(ctx.server).sync_partial_err += 1;
    }
    let offset = repl::state(ctx.server).offset;
    let header = format!("+FULLRESYNC {} {offset}\r\n", ctx.server.replication_id);
    attach(ctx, Some(header))
}

/// A replica serves its own replicas only while its link with its master is up.
fn check_can_serve(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    if repl::is_replica(ctx.server) && repl::state(ctx.server).link != LinkState::Connected {
        return Err(CommandError::msg(NO_MASTER_LINK));
    }
    Ok(())
}

/// The stream from `from` on, if `replid` names our history and the backlog still has it.
fn continuation(ctx: &mut CommandContext<'_>, replid: &[u8], from: u64) -> Option<Bytes> {
    let ours = ctx.server.replication_id.as_bytes() == replid;
    let state = repl::state(ctx.server);
    let previous = state
        .replid2
        .as_deref()
        .is_some_and(|r| r.as_bytes() == replid)
        && i64::try_from(from).is_ok_and(|f| f <= state.second_offset);
    if !ours && !previous {
        return None;
    }
    state.backlog_from(from)
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
    let id = ctx.client_id();
    ctx.client().replica = true;
    repl::attached(ctx.server, id);
    let state = repl::state(ctx.server);
    state.sync_full += 1;
    // From the first replica on, the stream also goes to the backlog.
    state.ensure_backlog();
    repl::update_propagation(ctx.server);
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
    let id = ctx.client_id();
    while args.remaining() > 0 {
        let option = args.next_bytes()?.to_ascii_lowercase();
        let value = args.next_bytes()?;
        let text = String::from_utf8_lossy(value).into_owned();
        match option.as_slice() {
            b"listening-port" => {
                let Ok(port) = text.parse::<u16>() else {
                    return Err(CommandError::msg(
                        "ERR value is not an integer or out of range",
                    ));
                };
                repl::announce(ctx.server, id, Some(port), None);
            }
            b"ip-address" => repl::announce(ctx.server, id, None, Some(text)),
            b"capa" | b"rdb-only" | b"rdb-filter-only" => {}
            // Acknowledgements get no reply.
            b"ack" => {
                if let Ok(offset) = text.parse::<u64>() {
                    repl::acknowledge(ctx.server, id, offset);
                }
                return Ok(Frame::Raw(Bytes::new()));
            }
            b"getack" => return Ok(Frame::Raw(Bytes::new())),
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

/// REPLICAOF host port | NO ONE.
fn replicaof(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let host = args.next_bytes()?;
    let port = args.next_bytes()?;
    if host.eq_ignore_ascii_case(b"no") && port.eq_ignore_ascii_case(b"one") {
        if repl::is_replica(ctx.server) {
            repl::unset_master(ctx.server);
        }
        return Ok(Frame::ok());
    }
    // A replica asking would be disconnected with all the others.
    if ctx.client().replica {
        return Err(CommandError::msg(REPLICA_CANNOT_REPLICAOF));
    }
    let port = std::str::from_utf8(port)
        .ok()
        .and_then(|p| p.parse::<i64>().ok())
        .and_then(|p| u16::try_from(p).ok())
        .ok_or(CommandError::msg(INVALID_MASTER_PORT))?;
    let host = String::from_utf8_lossy(host).into_owned();
    if let Some((current, current_port)) = &ctx.server.config.replicaof
        && current.eq_ignore_ascii_case(&host)
        && *current_port == port
    {
        info!(
            "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed."
        );
        return Ok(Frame::simple_static(
            "OK Already connected to specified master",
        ));
    }
    info!("REPLICAOF {host}:{port} enabled (user request)");
    repl::set_master(ctx.server, host, port);
    Ok(Frame::ok())
}

/// WAIT numreplicas timeout (milliseconds; 0 waits forever).
fn wait(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let replicas = args.next_i64()?;
    let timeout = args.next_i64()?;
    if timeout < 0 {
        return Err(CommandError::msg("ERR timeout is negative"));
    }
    let replicas = u64::try_from(replicas).unwrap_or(0);
    let timeout = u64::try_from(timeout).unwrap_or(0);
    // Inside MULTI or a script nothing blocks: the count comes at once.
    let can_block = !ctx.in_script() && ctx.client().transaction.is_none();
    let id = ctx.client_id();
    match repl::wait(ctx.server, id, replicas, timeout, can_block)? {
        repl::WaitOutcome::Done(count) => {
            Ok(Frame::Integer(i64::try_from(count).unwrap_or(i64::MAX)))
        }
        // The replication cron answers the timeout (with the count by then).
        repl::WaitOutcome::Blocked(count) => ctx.block(
            Vec::new(),
            crate::types::ValueType::String,
            None,
            Frame::Integer(i64::try_from(count).unwrap_or(i64::MAX)),
        ),
    }
}

/// ROLE.
fn role(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    Ok(repl::role(ctx.server))
}

#[cfg(test)]
mod tests {
    use oxidis_protocol::Frame;

    use crate::testing::{CommandRunner, err, simple};

    /// Runs a command as a client's connection does (the replication gates apply).
    fn client_run<const N: usize>(r: &mut CommandRunner, argv: [&str; N]) -> Frame {
        match crate::execute(&mut r.server, r.client, &crate::testing::argv_of(&argv)) {
            crate::Outcome::Reply(reply) => reply,
            crate::Outcome::Blocked(_) => panic!("blocked"),
        }
    }

    fn runner() -> CommandRunner {
        let mut r = CommandRunner::with_builtin_commands();
        r.server
            .table
            .register_family(&super::FAMILY)
            .expect("registers");
        r
    }

    #[test]
    fn replicaof_records_the_master_and_no_one_reverts() {
        let mut r = runner();
        assert_eq!(
            client_run(&mut r, ["REPLICAOF", "localhost", "9999"]),
            Frame::ok()
        );
        assert_eq!(
            client_run(&mut r, ["REPLICAOF", "LOCALHOST", "9999"]),
            simple("OK Already connected to specified master")
        );
        assert_eq!(
            client_run(&mut r, ["SET", "k", "v"]),
            err("READONLY You can't write against a read only replica.")
        );
        assert_eq!(client_run(&mut r, ["REPLICAOF", "no", "one"]), Frame::ok());
        assert_eq!(client_run(&mut r, ["SET", "k", "v"]), Frame::ok());
        assert_eq!(client_run(&mut r, ["SLAVEOF", "NO", "ONE"]), Frame::ok());
    }

    #[test]
    fn replicaof_checks_the_port() {
        let mut r = runner();
        assert_eq!(
            client_run(&mut r, ["REPLICAOF", "localhost", "70000"]),
            err("ERR Invalid master port")
        );
        assert_eq!(
            client_run(&mut r, ["REPLICAOF", "localhost", "x"]),
            err("ERR Invalid master port")
        );
    }

    #[test]
    fn stale_replica_refuses_commands_without_the_stale_flag() {
        let mut r = runner();
        client_run(&mut r, ["CONFIG", "SET", "replica-serve-stale-data", "no"]);
        client_run(&mut r, ["REPLICAOF", "localhost", "9999"]);
        assert_eq!(
            client_run(&mut r, ["GET", "x"]),
            err("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")
        );
        client_run(&mut r, ["REPLICAOF", "no", "one"]);
        assert_eq!(client_run(&mut r, ["MULTI"]), Frame::ok());
        assert_eq!(client_run(&mut r, ["GET", "x"]), simple("QUEUED"));
        // Another client makes this server a replica before EXEC.
        crate::replication::set_master(&mut r.server, "localhost".into(), 9999);
        assert_eq!(
            client_run(&mut r, ["EXEC"]),
            err(
                "EXECABORT Transaction discarded because of: MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
            )
        );
        assert_eq!(client_run(&mut r, ["EXEC"]), err("ERR EXEC without MULTI"));
    }

    #[test]
    fn role_of_a_master_and_of_a_replica() {
        let mut r = runner();
        let Frame::Array(master) = client_run(&mut r, ["ROLE"]) else {
            panic!("array")
        };
        assert_eq!(master[0], Frame::bulk(b"master"));
        client_run(&mut r, ["REPLICAOF", "127.0.0.1", "6379"]);
        let Frame::Array(replica) = client_run(&mut r, ["ROLE"]) else {
            panic!("array")
        };
        assert_eq!(replica[0], Frame::bulk(b"slave"));
        assert_eq!(replica[2], Frame::Integer(6379));
        assert_eq!(replica[3], Frame::bulk(b"connect"));
        assert_eq!(replica[4], Frame::Integer(-1));
    }

    #[test]
    fn wait_without_replicas_and_on_a_replica() {
        let mut r = runner();
        assert_eq!(client_run(&mut r, ["WAIT", "0", "0"]), Frame::Integer(0));
        assert_eq!(
            client_run(&mut r, ["WAIT", "0", "-1"]),
            err("ERR timeout is negative")
        );
        client_run(&mut r, ["REPLICAOF", "localhost", "9999"]);
        let Frame::Error(text) = client_run(&mut r, ["WAIT", "1", "0"]) else {
            panic!("error")
        };
        assert!(text.starts_with(b"ERR WAIT cannot be used with replica instances."));
    }

    #[test]
    fn min_replicas_to_write_refuses_writes() {
        let mut r = runner();
        client_run(&mut r, ["CONFIG", "SET", "min-replicas-to-write", "1"]);
        assert_eq!(
            client_run(&mut r, ["SET", "k", "v"]),
            err("NOREPLICAS Not enough good replicas to write.")
        );
        assert_eq!(client_run(&mut r, ["GET", "k"]), Frame::Null);
    }
}
