//! The CONFIG container: GET, SET, RESETSTAT, REWRITE and HELP over the parameter table in
//! [`crate::config`], which owns parsing, formatting and rewriting; this file only maps
//! replies and errors.

use bytes::Bytes;
use oxidis_protocol::Frame;

use crate::command::{Arg, Args, Arity, CommandResult, CommandSpec, Family, Flag, Group};
use crate::context::CommandContext;
use crate::errors::CommandError;
use crate::errors::config::{NO_CONFIG_FILE, REWRITE_FAILED};
use crate::families::help_reply;

const ADMIN: &[Flag] = &[Flag::Admin, Flag::NoScript, Flag::Loading, Flag::Stale];

/// The config family.
pub static FAMILY: Family = Family {
    group: Group::Server,
    commands: &[CommandSpec::container(
        "config",
        &[
            CommandSpec::new("get", Arity::AtLeast(3), config_get)
                .flags(ADMIN)
                .group(Group::Server)
                .doc(
                    "Read configuration parameters matching glob patterns",
                    "2.0.0",
                    "O(N) when N is the number of configuration parameters provided",
                )
                .args(&[Arg::block("parameter", &[Arg::string("parameter")]).multiple()]),
            CommandSpec::new("set", Arity::AtLeast(4), config_set)
                .flags(ADMIN)
                .group(Group::Server)
                .doc(
                    "Change configuration parameters, all or none",
                    "2.0.0",
                    "O(N) when N is the number of configuration parameters provided",
                )
                .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
                .args(&[Arg::block(
                    "parameter_value",
                    &[Arg::string("parameter"), Arg::string("value")],
                )
                .multiple()]),
            CommandSpec::new("resetstat", Arity::Exact(2), config_resetstat)
                .flags(ADMIN)
                .group(Group::Server)
                .doc("Zero the statistics INFO reports", "2.0.0", "O(1)"),
            CommandSpec::new("rewrite", Arity::Exact(2), config_rewrite)
                .flags(ADMIN)
                .group(Group::Server)
                .doc(
                    "Write the running configuration back into the config file",
                    "2.8.0",
                    "O(1)",
                ),
            CommandSpec::new("help", Arity::Exact(2), config_help)
                .flags(&[Flag::Loading, Flag::Stale])
                .group(Group::Server)
                .doc("List the CONFIG subcommands", "5.0.0", "O(1)"),
        ],
    )
    .group(Group::Server)
    .doc(
        "Server configuration subcommands",
        "2.0.0",
        "Depends on subcommand.",
    )],
};

/// CONFIG GET pattern [pattern ...]: a map of matching names to values (a flat array in RESP2).
fn config_get(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let patterns: Vec<&[u8]> = args.rest().iter().map(|p| p.as_ref()).collect();
    let mut found = ctx.server.config.get_many(&patterns);
    // Module parameters (`<module>.<name>`) after the built-in ones.
    for pattern in &patterns {
        for (name, value) in ctx.server.modules.configs.get_matching(pattern) {
            if !found.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                found.push((name, value));
            }
        }
    }
    Ok(Frame::Map(
        found
            .into_iter()
            .map(|(name, value)| {
                (
                    Frame::Bulk(Bytes::from(name)),
                    Frame::Bulk(Bytes::from(value)),
                )
            })
            .collect(),
    ))
}

/// CONFIG SET name value [name value ...]: all or nothing.
fn config_set(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let rest = args.rest();
    if !rest.len().is_multiple_of(2) {
        return Err(CommandError::Syntax);
    }
    let all_pairs: Vec<(&[u8], &[u8])> = rest
        .chunks(2)
        .map(|p| (p[0].as_ref(), p[1].as_ref()))
        .collect();
    // Values of sensitive parameters never reach the slow log or MONITOR, even on failure.
    for (i, (name, _)) in all_pairs.iter().enumerate() {
        if SENSITIVE_PARAMS
            .iter()
            .any(|p| name.eq_ignore_ascii_case(p))
            || ctx.server.modules.configs.is_sensitive(name)
        {
            ctx.redact_argument(2 + i * 2 + 1);
        }
    }
    let is_local = ctx.client().peer.is_local();
    let protected_allowed = ctx.server.config.enable_protected_configs.allows(is_local);
    let appendonly_was = ctx.server.config.appendonly;
    // Module parameters (#9) are set after the built-in ones, which are restored if a module
    // parameter is refused: all or nothing.
    let (module_pairs, pairs): (Vec<_>, Vec<_>) = all_pairs
        .into_iter()
        .partition(|(name, _)| ctx.server.modules.configs.contains(name));
    let before = ctx.server.config.clone();
    ctx.server
        .config
        .config_set(&pairs, protected_allowed)
        .map_err(CommandError::custom)?;
    if !module_pairs.is_empty() {
        let loading = ctx.server.loading;
        if let Err(reply) =
            ctx.server
                .modules
                .configs
                .config_set(&module_pairs, protected_allowed, loading)
        {
            ctx.server.config = before.clone();
            return Err(CommandError::custom(reply));
        }
    }
    // A new port is bound before the command answers; when it cannot be, every parameter of
    // the command goes back to its old value, as Redis's apply-and-roll-back does.
    // Either OOM score setting re-applies the score; a failure undoes the whole command.
    let oom_changed = ["oom-score-adj", "oom-score-adj-values"]
        .into_iter()
        .find(|name| ctx.server.config.get(name) != before.get(name));
    if let Some(name) = oom_changed {
        let server = &mut *ctx.server;
        let class = crate::oom_score::ProcessClass::Master;
        if server.oom_score.apply(&server.config, class).is_err() {
            server.config = before;
            return Err(CommandError::custom(format!(
                "ERR CONFIG SET failed (possibly related to argument '{name}') - Failed to set \
                 current oom_score_adj. Check server logs."
            )));
        }
    }
    let port_changed = ctx.server.config.port != before.port;
    if (port_changed || ctx.server.config.bind != before.bind)
        && let Some(hooks) = ctx.server.listener_hooks
        && let Err(reason) = (hooks.rebind_tcp)(ctx.server, ctx.server.config.port)
    {
        ctx.server.config = before;
        return Err(CommandError::custom(if port_changed {
            format!("ERR CONFIG SET failed (possibly related to argument 'port') - {reason}")
        } else {
            "ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to \
             specified addresses."
                .to_string()
        }));
    }
    // Turning the AOF on writes a base from the dataset first, as Redis's startAppendOnly.
    if ctx.server.config.appendonly != appendonly_was
        && let Some(hooks) = ctx.server.aof_hooks
        && let Err(reason) = (hooks.set_enabled)(ctx.server, !appendonly_was)
    {
        ctx.server.config.appendonly = appendonly_was;
        return Err(CommandError::custom(format!(
            "ERR CONFIG SET failed (possibly related to argument 'appendonly') - {reason}"
        )));
    }
    if let Some(hooks) = ctx.server.aof_hooks {
        (hooks.config_changed)(ctx.server);
    }
    Ok(Frame::ok())
}

/// Parameters whose values CONFIG SET hides from the slow log and MONITOR.
const SENSITIVE_PARAMS: &[&[u8]] = &[b"masteruser", b"masterauth", b"requirepass"];

/// CONFIG RESETSTAT: zeroes the INFO counters.
fn config_resetstat(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    ctx.server.stats.reset();
    ctx.server
        .lazyfree
        .freed
        .store(0, std::sync::atomic::Ordering::Relaxed);
    ctx.server.latency.reset_histograms();
    Ok(Frame::ok())
}

/// CONFIG REWRITE: writes the running configuration into the file the server started with.
fn config_rewrite(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    let config = &ctx.server.config;
    let Some(path) = config.config_file.as_deref() else {
        return Err(CommandError::msg(NO_CONFIG_FILE));
    };
    let module_params = ctx.server.modules.configs.rewrite_lines();
    match config.rewrite_file_with(path, false, &module_params) {
        Ok(()) => {
            tracing::warn!("CONFIG REWRITE executed with success.");
            Ok(Frame::ok())
        }
        Err(e) => {
            let reason = crate::config::value::io_error_text(&e);
            tracing::warn!(%reason, "CONFIG REWRITE failed");
            Err(CommandError::custom(format!("{REWRITE_FAILED}{reason}")))
        }
    }
}

/// CONFIG HELP.
fn config_help(_ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    const LINES: &[&str] = &[
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
    ];
    Ok(help_reply("CONFIG", LINES))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::testing::{CommandRunner, bulk, err};
    use oxidis_protocol::RespVersion;

    fn pairs(items: &[&str]) -> Frame {
        Frame::Map(items.chunks(2).map(|p| (bulk(p[0]), bulk(p[1]))).collect())
    }

    #[test]
    fn get_returns_name_value_pairs_without_duplicates() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(
            r.run(["CONFIG", "GET", "maxmemory"]),
            pairs(&["maxmemory", "0"])
        );
        assert_eq!(
            r.run(["CONFIG", "GET", "MAXMEMORY", "maxmemory"]),
            pairs(&["MAXMEMORY", "0"])
        );
        assert_eq!(r.run(["CONFIG", "GET", "nosuch"]), pairs(&[]));
        assert_eq!(
            r.run(["CONFIG", "GET", "maxmemory", "maxmemory*"]),
            pairs(&[
                "maxmemory",
                "0",
                "maxmemory-policy",
                "noeviction",
                "maxmemory-samples",
                "5",
                "maxmemory-eviction-tenacity",
                "10",
                "maxmemory-clients",
                "0",
            ])
        );
        assert_eq!(
            r.run(["CONFIG", "GET", "*of"]),
            pairs(&["replicaof", "", "slaveof", ""])
        );
    }

    #[test]
    fn get_hides_hidden_parameters_from_patterns() {
        let mut r = CommandRunner::with_builtin_commands();
        let Frame::Map(all) = r.run(["CONFIG", "GET", "*"]) else {
            panic!("map")
        };
        assert!(!all.iter().any(|(k, _)| *k == bulk("key-load-delay")));
        assert!(
            all.iter()
                .any(|(k, _)| *k == bulk("hash-max-ziplist-entries"))
        );
        assert_eq!(
            r.run(["CONFIG", "GET", "key-load-delay"]),
            pairs(&["key-load-delay", "0"])
        );
    }

    #[test]
    fn get_is_a_map_in_resp3() {
        let mut r = CommandRunner::with_builtin_commands();
        r.set_resp(RespVersion::Resp3);
        assert_eq!(r.run(["CONFIG", "GET", "hz"]), pairs(&["hz", "10"]));
    }

    #[test]
    fn set_round_trips_every_type() {
        let mut r = CommandRunner::with_builtin_commands();
        for (name, value, shown) in [
            ("maxmemory", "1mb", "1048576"),
            ("maxmemory", "1k", "1000"),
            ("appendonly", "YES", "yes"),
            ("maxmemory-policy", "ALLKEYS-LRU", "allkeys-lru"),
            ("shutdown-on-sigint", "nosave force now", "nosave now force"),
            ("save", "900 1 300 10", "900 1 300 10"),
            ("save", "", ""),
            ("notify-keyspace-events", "KEA", "AKE"),
            ("notify-keyspace-events", "Egx$lshzetdnm", "AEm"),
            ("notify-keyspace-events", "Kgxn", "gxnK"),
            (
                "client-output-buffer-limit",
                "replica 1mb 2mb 30 pubsub 0 0 0",
                "normal 0 0 0 slave 1048576 2097152 30 pubsub 0 0 0",
            ),
            ("oom-score-adj-values", "1 2 3", "1 2 3"),
            ("bind", "127.0.0.1 ::1", "127.0.0.1 ::1"),
            ("maxmemory-clients", "10%", "10%"),
            (
                "latency-tracking-info-percentiles",
                "50 99.99 100",
                "50 99.99 100",
            ),
            ("requirepass", "secret", "secret"),
            ("list-max-ziplist-size", "-3", "-3"),
            ("hz", "1000", "500"),
            ("replica-announce-ip", "10.0.0.1", "10.0.0.1"),
            ("slowlog-log-slower-than", "-1", "-1"),
        ] {
            assert_eq!(
                r.run(["CONFIG", "SET", name, value]),
                Frame::ok(),
                "{name} {value}"
            );
            assert_eq!(
                r.run(["CONFIG", "GET", name]),
                pairs(&[name, shown]),
                "{name}"
            );
        }
        assert_eq!(
            r.server.config.maxmemory_policy,
            crate::config::MaxmemoryPolicy::AllkeysLru
        );
        assert_eq!(r.server.config.requirepass.as_deref(), Some(&b"secret"[..]));
        assert_eq!(r.server.config.hz, 500);
        assert_eq!(r.server.config.list_max_listpack_size, -3);
        assert_eq!(r.run(["CONFIG", "SET", "requirepass", ""]), Frame::ok());
        assert_eq!(r.server.config.requirepass, None);
    }

    #[test]
    fn set_errors_match_redis() {
        let mut r = CommandRunner::with_builtin_commands();
        let failed = |arg: &str, reason: &str| {
            err(&format!(
                "ERR CONFIG SET failed (possibly related to argument '{arg}') - {reason}"
            ))
        };
        assert_eq!(
            r.run(["CONFIG", "SET", "a", "b", "c"]),
            err("ERR syntax error")
        );
        assert_eq!(
            r.run(["CONFIG", "SET", "foo", "bar"]),
            err("ERR Unknown option or number of arguments for CONFIG SET - 'foo'")
        );
        assert_eq!(
            r.run(["CONFIG", "SET", "daemonize", "yes", "foo", "bar"]),
            failed("daemonize", "can't set immutable config")
        );
        assert_eq!(
            r.run(["CONFIG", "SET", "maxmemory", "1", "maxmemory", "2"]),
            failed("maxmemory", "duplicate parameter")
        );
        assert_eq!(
            r.run(["CONFIG", "SET", "dir", "/tmp"]),
            failed("dir", "can't set protected config")
        );
        assert_eq!(
            r.run(["CONFIG", "SET", "hash-max-ziplist-entries", "-1"]),
            failed(
                "hash-max-ziplist-entries",
                "argument must be between 0 and 9223372036854775807 inclusive"
            )
        );
        assert_eq!(
            r.run(["CONFIG", "SET", "appendfsync", "bad"]),
            failed(
                "appendfsync",
                "argument(s) must be one of the following: everysec, always, no"
            )
        );
        assert_eq!(
            r.run(["CONFIG", "SET", "appendonly", "maybe"]),
            failed("appendonly", "argument must be 'yes' or 'no'")
        );
        assert_eq!(
            r.run(["CONFIG", "SET", "hz", "x"]),
            failed("hz", "argument couldn't be parsed into an integer")
        );
        assert_eq!(
            r.run(["CONFIG", "SET", "maxmemory", "1xb"]),
            failed("maxmemory", "argument must be a memory value")
        );
        assert_eq!(
            r.run(["CONFIG", "SET", "save", "1 2 3"]),
            failed("save", "Invalid save parameters")
        );
        assert_eq!(
            r.run(["CONFIG", "SET", "dbfilename", "a/b"]),
            failed("dbfilename", "can't set protected config")
        );
        assert_eq!(
            r.run(["CONFIG", "SET", "proc-title-template", "{foo}"]),
            failed(
                "proc-title-template",
                "template format is invalid or contains unknown variables"
            )
        );
    }

    #[test]
    fn set_is_all_or_nothing() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(
            r.run(["CONFIG", "SET", "maxmemory", "10000002"]),
            Frame::ok()
        );
        assert_eq!(
            r.run([
                "CONFIG",
                "SET",
                "maxmemory",
                "10000001",
                "maxmemory-clients",
                "200%",
                "client-query-buffer-limit",
                "invalid"
            ]),
            err(
                "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100"
            )
        );
        assert_eq!(
            r.run(["CONFIG", "GET", "maxmemory"]),
            pairs(&["maxmemory", "10000002"])
        );
        assert_eq!(
            r.run([
                "CONFIG",
                "SET",
                "maxmemory",
                "10000001",
                "repl-backlog-size",
                "10000002",
                "save",
                "3000 5"
            ]),
            Frame::ok()
        );
        assert_eq!(r.run(["CONFIG", "GET", "save"]), pairs(&["save", "3000 5"]));
        assert_eq!(r.server.config.save, vec![(3000, 5)]);
    }

    #[test]
    fn protected_configs_follow_enable_protected_configs() {
        let config = Config {
            enable_protected_configs: crate::config::ProtectedAccess::Local,
            ..Config::default()
        };
        let mut r = CommandRunner::with_config(config);
        assert_eq!(
            r.run(["CONFIG", "SET", "dbfilename", "somename"]),
            Frame::ok()
        );
        assert_eq!(
            r.run(["CONFIG", "SET", "dbfilename", "a/b"]),
            err(
                "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be a path, just a filename"
            )
        );
        assert_eq!(r.server.config.dbfilename, "somename");
    }

    #[test]
    fn resetstat_help_and_rewrite_without_file() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(r.run(["CONFIG", "RESETSTAT"]), Frame::ok());
        assert_eq!(
            r.run(["CONFIG", "REWRITE"]),
            err("ERR The server is running without a config file")
        );
        let Frame::Array(lines) = r.run(["CONFIG", "HELP"]) else {
            panic!("array")
        };
        assert_eq!(lines.len(), 11);
        assert_eq!(lines[10], Frame::simple_static("    Prints this help."));
    }

    #[test]
    fn rewrite_updates_the_config_file() {
        let dir =
            std::env::temp_dir().join(format!("oxidis-config-rewrite-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("redis.conf");
        std::fs::write(
            &path,
            "# my comment\nport 7000\nmaxmemory 1mb\nslaveof-nonsense x\nsave 900 1\nsave 300 10\n",
        )
        .unwrap();
        let config = Config {
            config_file: Some(path.clone()),
            ..Config::default()
        };
        let mut r = CommandRunner::with_config(config);
        assert_eq!(
            r.run([
                "CONFIG",
                "SET",
                "maxmemory",
                "0",
                "appendonly",
                "yes",
                "save",
                "60 5"
            ]),
            Frame::ok()
        );
        assert_eq!(r.run(["CONFIG", "REWRITE"]), Frame::ok());
        let text = std::fs::read_to_string(&path).unwrap();
        // Like Redis: `dir` and the percentiles are always written.
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            text,
            format!(
                "# my comment\nport 6379\nmaxmemory 0\n# ??? slaveof-nonsense x\nsave 60 5\n\n\
                 # Generated by CONFIG REWRITE\nappendonly yes\ndir \"{}\"\n\
                 latency-tracking-info-percentiles 50 99 99.9\n",
                cwd.display()
            )
        );
        // Like Redis, a second rewrite keeps everything but adds the empty last line.
        assert_eq!(r.run(["CONFIG", "REWRITE"]), Frame::ok());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), format!("{text}\n"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
