//! SLOWLOG GET, LEN, RESET and HELP over the log in [`crate::slowlog`].

use oxidis_protocol::Frame;

use crate::command::{Arg, Args, Arity, CommandResult, CommandSpec, Flag::*, parse_i64};
use crate::context::CommandContext;
use crate::errors::server::SLOWLOG_COUNT;
use crate::errors::{CommandError, subcommand_syntax};
use crate::families::{count_reply, help_reply};

/// The SLOWLOG container.
pub(super) const SLOWLOG: CommandSpec = CommandSpec::container(
    "slowlog",
    &[
        CommandSpec::new("get", Arity::AtLeast(2), slowlog_get)
            .flags(&[Admin, Loading, Stale])
            .tips(&["request_policy:all_nodes", "nondeterministic_output"])
            .doc(
                "Returns the slow log's entries.",
                "2.2.12",
                "O(N) where N is the number of entries returned",
            )
            .args(&[Arg::integer("count").optional()]),
        CommandSpec::new("len", Arity::Exact(2), slowlog_len)
            .flags(&[Admin, Loading, Stale])
            .tips(&[
                "request_policy:all_nodes",
                "response_policy:agg_sum",
                "nondeterministic_output",
            ])
            .doc(
                "Returns the number of entries in the slow log.",
                "2.2.12",
                "O(1)",
            ),
        CommandSpec::new("reset", Arity::Exact(2), slowlog_reset)
            .flags(&[Admin, Loading, Stale])
            .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
            .doc(
                "Clears all entries from the slow log.",
                "2.2.12",
                "O(N) where N is the number of entries in the slowlog",
            ),
        CommandSpec::new("help", Arity::Exact(2), slowlog_help)
            .flags(&[Loading, Stale])
            .doc("Lists SLOWLOG's subcommands.", "6.2.0", "O(1)"),
    ],
)
.doc(
    "A container for slow log commands.",
    "2.2.12",
    "Depends on subcommand.",
);

/// SLOWLOG GET [count]: the newest `count` entries (10 by default, -1 for all), each as
/// [id, unix time, microseconds, arguments, client address, client name].
fn slowlog_get(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let count = match args.rest() {
        [] => 10,
        [count] => {
            let count = parse_i64(count)
                .ok()
                .filter(|&n| n >= -1)
                .ok_or(CommandError::msg(SLOWLOG_COUNT))?;
            usize::try_from(count).unwrap_or(usize::MAX)
        }
        _ => return Err(CommandError::custom(subcommand_syntax("SLOWLOG", "get"))),
    };
    let entries = ctx
        .server
        .slowlog
        .iter()
        .take(count)
        .map(|e| {
            Frame::Array(vec![
                count_reply(e.id),
                count_reply(e.time_unix),
                count_reply(e.duration_us),
                Frame::Array(e.argv.iter().cloned().map(Frame::Bulk).collect()),
                Frame::bulk(e.peer.as_bytes()),
                Frame::Bulk(e.client_name.clone()),
            ])
        })
        .collect();
    Ok(Frame::Array(entries))
}

fn slowlog_len(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    Ok(count_reply(ctx.server.slowlog.len()))
}

fn slowlog_reset(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    ctx.server.slowlog.reset();
    Ok(Frame::ok())
}

fn slowlog_help(_ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    Ok(help_reply(
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    ))
}

#[cfg(test)]
mod tests {
    use crate::testing::{CommandRunner, bulk, err, simple};
    use oxidis_protocol::Frame;

    fn logging_everything() -> CommandRunner {
        let mut r = CommandRunner::with_builtin_commands();
        r.run(["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
        r.run(["SLOWLOG", "RESET"]);
        r
    }

    #[test]
    fn get_returns_newest_first_with_six_fields() {
        let mut r = logging_everything();
        r.run(["CLIENT", "SETNAME", "me"]);
        r.run(["SET", "k", "v"]);
        let Frame::Array(entries) = r.run(["SLOWLOG", "GET", "1"]) else {
            panic!("not an array");
        };
        assert_eq!(entries.len(), 1);
        let Frame::Array(fields) = &entries[0] else {
            panic!("entry not an array");
        };
        assert_eq!(fields.len(), 6);
        assert_eq!(fields[0], Frame::Integer(3));
        assert_eq!(
            fields[3],
            Frame::Array(vec![bulk("SET"), bulk("k"), bulk("v")])
        );
        assert_eq!(fields[5], bulk("me"));
        // RESET is logged itself, after clearing.
        assert_eq!(r.run(["SLOWLOG", "LEN"]), Frame::Integer(4));
    }

    #[test]
    fn count_is_checked_and_minus_one_means_all() {
        let mut r = logging_everything();
        assert_eq!(
            r.run(["SLOWLOG", "GET", "-2"]),
            err("ERR count should be greater than or equal to -1")
        );
        assert_eq!(
            r.run(["SLOWLOG", "GET", "x"]),
            err("ERR count should be greater than or equal to -1")
        );
        assert_eq!(
            r.run(["SLOWLOG", "GET", "1", "2"]),
            err("ERR unknown subcommand or wrong number of arguments for 'get'. Try SLOWLOG HELP.")
        );
        r.run(["PING"]);
        assert_eq!(r.run(["SLOWLOG", "GET", "0"]), Frame::Array(vec![]));
        let Frame::Array(all) = r.run(["SLOWLOG", "GET", "-1"]) else {
            panic!("not an array");
        };
        assert_eq!(all.len(), 6);
    }

    #[test]
    fn max_len_trims_and_negative_threshold_disables() {
        let mut r = logging_everything();
        r.run(["CONFIG", "SET", "slowlog-max-len", "2"]);
        for _ in 0..5 {
            r.run(["PING"]);
        }
        assert_eq!(r.run(["SLOWLOG", "LEN"]), Frame::Integer(2));
        r.run(["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
        assert_eq!(r.run(["SLOWLOG", "RESET"]), simple("OK"));
        r.run(["PING"]);
        assert_eq!(r.run(["SLOWLOG", "LEN"]), Frame::Integer(0));
    }

    #[test]
    fn exec_is_not_logged_but_its_commands_are() {
        let mut r = logging_everything();
        r.run(["MULTI"]);
        r.run(["SET", "a", "1"]);
        r.run(["SLOWLOG", "RESET"]);
        r.run(["EXEC"]);
        assert_eq!(r.run(["SLOWLOG", "LEN"]), Frame::Integer(1));
    }

    #[test]
    fn auth_arguments_are_redacted() {
        let mut r = logging_everything();
        r.run(["AUTH", "secret"]);
        let Frame::Array(entries) = r.run(["SLOWLOG", "GET", "1"]) else {
            panic!("not an array");
        };
        let Frame::Array(fields) = &entries[0] else {
            panic!("entry not an array");
        };
        assert_eq!(
            fields[3],
            Frame::Array(vec![bulk("AUTH"), bulk("(redacted)")])
        );
    }

    #[test]
    fn a_served_blocked_command_is_logged_and_counted_once() {
        use crate::client::{Client, Peer};
        use crate::dispatch::{Outcome, execute};
        let mut r = logging_everything();
        let waiter = r
            .server
            .connect_client(|id| Client::new(id, Peer::Internal, true, 0));
        let argv = |a: &[&str]| -> Vec<bytes::Bytes> {
            a.iter()
                .map(|s| bytes::Bytes::copy_from_slice(s.as_bytes()))
                .collect()
        };
        let blocked = execute(&mut r.server, waiter, &argv(&["BLPOP", "l", "0"]));
        assert!(matches!(blocked, Outcome::Blocked(_)));
        r.run(["SLOWLOG", "RESET"]);
        r.run(["LPUSH", "l", "x"]);
        let Frame::Array(entries) = r.run(["SLOWLOG", "GET"]) else {
            panic!("not an array");
        };
        let commands: Vec<Frame> = entries
            .iter()
            .filter_map(|e| match e {
                Frame::Array(fields) => fields.get(3).cloned(),
                _ => None,
            })
            .collect();
        let blpop = Frame::Array(vec![bulk("BLPOP"), bulk("l"), bulk("0")]);
        assert_eq!(commands.iter().filter(|c| **c == blpop).count(), 1);
        let id = r.server.table.get(b"blpop").map(|c| c.id).unwrap();
        assert_eq!(r.server.stats.commands[id].calls, 1);
    }
}
