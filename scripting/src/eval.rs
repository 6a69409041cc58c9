//! EVAL, EVALSHA, their `_RO` variants and SCRIPT: the script cache (sha1 → compiled function)
//! and shebang flags (`#!lua flags=no-writes,allow-oom,...`).

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;
use mlua::Function;
use oxidis_core::command::{Args, Arity, CommandResult, CommandSpec, Flag};
use oxidis_core::errors::CommandError;
use oxidis_core::{CommandContext, Server};
use oxidis_protocol::Frame;

use crate::call::RunFlags;
use crate::vm::{Invocation, Vm};

/// A script in the cache.
#[derive(Clone)]
pub struct Script {
    /// Its source.
    pub body: Bytes,
    /// The compiled chunk (shared: a run takes it without copying the Lua handle).
    pub function: Arc<Function>,
    /// Its shebang flags.
    pub flags: ScriptFlags,
}

/// Flags a script or function declares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScriptFlags {
    /// No shebang: Redis's backwards-compatible mode.
    pub compat: bool,
    /// `no-writes`.
    pub no_writes: bool,
    /// `allow-oom`.
    pub allow_oom: bool,
    /// `allow-stale`.
    pub allow_stale: bool,
    /// `no-cluster`.
    pub no_cluster: bool,
    /// `allow-cross-slot-keys`.
    pub allow_cross_slot: bool,
}

impl ScriptFlags {
    /// Sets the flag named `name`; false for an unknown name.
    pub fn set(&mut self, name: &[u8]) -> bool {
        match name {
            b"no-writes" => self.no_writes = true,
            b"allow-oom" => self.allow_oom = true,
            b"allow-stale" => self.allow_stale = true,
            b"no-cluster" => self.no_cluster = true,
            b"allow-cross-slot-keys" => self.allow_cross_slot = true,
            _ => return false,
        }
        true
    }

    /// The names of the flags set, in Redis's order.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.no_writes {
            names.push("no-writes");
        }
        if self.allow_oom {
            names.push("allow-oom");
        }
        if self.allow_stale {
            names.push("allow-stale");
        }
        if self.no_cluster {
            names.push("no-cluster");
        }
        if self.allow_cross_slot {
            names.push("allow-cross-slot-keys");
        }
        names
    }
}

/// SCRIPT and its subcommands.
pub const SCRIPT: CommandSpec = CommandSpec::container(
    "script",
    &[
        CommandSpec::new("load", Arity::Exact(3), script_load)
            .flags(&[Flag::NoScript, Flag::Stale])
            .acl(crate::ACL)
            .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
            .doc(
                "Load the specified Lua script into the script cache.",
                "2.6.0",
                "O(N) with N being the length in bytes of the script body.",
            ),
        CommandSpec::new("exists", Arity::AtLeast(3), script_exists)
            .flags(&[Flag::NoScript])
            .acl(crate::ACL)
            .tips(&["request_policy:all_shards", "response_policy:agg_logical_and"])
            .doc(
                "Check existence of scripts in the script cache.",
                "2.6.0",
                "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
            ),
        CommandSpec::new("flush", Arity::AtLeast(2), script_flush)
            .flags(&[Flag::NoScript])
            .acl(crate::ACL)
            .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
            .doc(
                "Remove all the scripts from the script cache.",
                "2.6.0",
                "O(N) with N being the number of scripts in cache",
            ),
        CommandSpec::new("kill", Arity::Exact(2), script_kill)
            .flags(&[Flag::NoScript, Flag::AllowBusy])
            .acl(crate::ACL)
            .tips(&["request_policy:all_shards", "response_policy:one_succeeded"])
            .doc("Kill the script currently in execution.", "2.6.0", "O(1)"),
        CommandSpec::new("debug", Arity::Exact(3), script_debug)
            .flags(&[Flag::NoScript])
            .acl(crate::ACL)
            .doc("Set the debug mode for executed scripts.", "3.2.0", "O(1)"),
        CommandSpec::new("help", Arity::Exact(2), script_help)
            .flags(&[Flag::Loading, Flag::Stale])
            .acl(crate::ACL)
            .doc(
                "Show helpful text about the different subcommands",
                "5.0.0",
                "O(1)",
            ),
    ],
)
.doc(
    "A container for Lua scripts management commands",
    "2.6.0",
    "Depends on subcommand.",
);

/// EVAL script numkeys key... arg...
pub fn eval(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    run_eval(ctx, args, false, false)
}

/// EVALSHA sha1 numkeys key... arg...
pub fn evalsha(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    run_eval(ctx, args, true, false)
}

/// EVAL_RO script numkeys key... arg...
pub fn eval_ro(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    run_eval(ctx, args, false, true)
}

/// EVALSHA_RO sha1 numkeys key... arg...
pub fn evalsha_ro(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    run_eval(ctx, args, true, true)
}

/// Splits `numkeys key... arg...` after the script or function name.
pub fn split_keys<'a>(args: &mut Args<'a>) -> Result<(&'a [Bytes], &'a [Bytes]), CommandError> {
    let numkeys = args.next_i64()?;
    let rest = args.rest();
    let Ok(n) = usize::try_from(numkeys) else {
        return Err(CommandError::msg("ERR Number of keys can't be negative"));
    };
    if n > rest.len() {
        return Err(CommandError::msg(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    Ok(rest.split_at(n))
}

fn run_eval(
    ctx: &mut CommandContext<'_>,
    args: &mut Args<'_>,
    by_sha: bool,
    read_only: bool,
) -> CommandResult {
    // A script propagates its effects (the write commands it ran), never itself.
    ctx.prevent_propagation();
    let source = args.next_bytes()?.clone();
    let (keys, argv) = split_keys(args)?;
    let (vm, script, sha) = if by_sha {
        // The sha as given when it is already lower-case hex (as SCRIPT LOAD returns it).
        let sha: Cow<'_, str> = match std::str::from_utf8(&source) {
            Ok(text) if text.bytes().all(|b| !b.is_ascii_uppercase()) => Cow::Borrowed(text),
            _ => Cow::Owned(String::from_utf8_lossy(&source).to_ascii_lowercase()),
        };
        let state = crate::state(ctx.server);
        match state.scripts.get(sha.as_ref()) {
            Some(script) if sha.len() == 40 => (Arc::clone(&state.eval_vm), script.clone(), sha),
            _ => {
                return Err(CommandError::msg(
                    "NOSCRIPT No matching script. Please use EVAL.",
                ));
            }
        }
    } else {
        match load_script(ctx.server, &source) {
            Ok((vm, script, sha)) => (vm, script, Cow::Owned(sha)),
            Err(text) => return Ok(Frame::error(text)),
        }
    };
    let flags = script.flags;
    if let Some(refusal) = refuse_to_run(ctx.server, flags, read_only) {
        return Ok(Frame::error(refusal));
    }
    let run_flags = RunFlags {
        read_only: read_only || (!flags.compat && flags.no_writes),
        allow_oom: !flags.compat && flags.allow_oom,
        declared: !flags.compat,
        obey: oxidis_core::replication::must_obey(ctx.server, ctx.client_id()),
    };
    let invocation = Invocation {
        function: &script.function,
        name: &sha,
        eval: true,
        keys,
        args: argv,
        flags: run_flags,
    };
    let client_id = ctx.client_id();
    crate::describe_running(ctx.server, &sha, args.argv());
    oxidis_core::monitor::feed_script_call(ctx.server, client_id, args.argv());
    let reply = vm.run(ctx.server, client_id, &invocation);
    if by_sha {
        crate::publish_vm_memory(ctx.server, &vm, false);
    } else {
        // EVAL may have added the script to the cache.
        crate::publish(ctx.server);
    }
    Ok(reply)
}

/// Redis's `scriptPrepareForRun` checks for a script that declared flags.
pub fn refuse_to_run(server: &Server, flags: ScriptFlags, read_only: bool) -> Option<String> {
    if flags.compat {
        return None;
    }
    if !flags.no_writes {
        if read_only {
            return Some("ERR Can not execute a script with write flag using *_ro command.".into());
        }
        if !flags.allow_oom && crate::over_maxmemory(server) {
            return Some(
                "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'"
                    .into(),
            );
        }
        if !oxidis_core::replication::is_replica(server)
            && !oxidis_core::replication::enough_good_replicas(server)
        {
            return Some(oxidis_core::errors::replication::NOREPLICAS.into());
        }
    }
    None
}

/// Finds or compiles `body`: the VM, the script and its sha.
fn load_script(server: &mut Server, body: &Bytes) -> Result<(Arc<Vm>, Script, String), String> {
    let sha = crate::sha1_hex(body);
    let state = crate::state(server);
    if let Some(script) = state.scripts.get(&sha) {
        return Ok((Arc::clone(&state.eval_vm), script.clone(), sha));
    }
    let (flags, shebang_len) = parse_shebang(body)?;
    // The shebang line is skipped but its newline kept, so line numbers stay the user's.
    let function = state
        .eval_vm
        .compile(&body[shebang_len..], "@user_script")
        .map_err(|e| format!("ERR Error compiling script (new function): {e}"))?;
    let script = Script {
        body: body.clone(),
        function: Arc::new(function),
        flags,
    };
    state.scripts_memory += body.len() + 40;
    state.scripts.insert(sha.clone(), script.clone());
    Ok((Arc::clone(&state.eval_vm), script, sha))
}

/// Parses a `#!lua flags=...` first line: the flags and the line's length (without its newline).
pub fn parse_shebang(body: &[u8]) -> Result<(ScriptFlags, usize), String> {
    let mut flags = ScriptFlags {
        compat: true,
        ..ScriptFlags::default()
    };
    if !body.starts_with(b"#!") {
        return Ok((flags, 0));
    }
    let Some(end) = body.iter().position(|&b| b == b'\n') else {
        return Err("ERR Invalid script shebang".into());
    };
    let line = &body[..end];
    let mut parts = line
        .split(|&b| b == b' ' || b == b'\t')
        .filter(|p| !p.is_empty());
    let Some(engine) = parts.next() else {
        return Err("ERR Invalid engine in script shebang".into());
    };
    if engine != b"#!lua" {
        return Err(format!(
            "ERR Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(engine)
        ));
    }
    flags.compat = false;
    for part in parts {
        if let Some(list) = part.strip_prefix(b"flags=") {
            for flag in list.split(|&b| b == b',') {
                if flag.is_empty() && list.is_empty() {
                    continue;
                }
                if !flags.set(flag) {
                    return Err(format!(
                        "ERR Unexpected flag in script shebang: {}",
                        String::from_utf8_lossy(flag)
                    ));
                }
            }
        } else {
            return Err(format!(
                "ERR Unknown lua shebang option: {}",
                String::from_utf8_lossy(part)
            ));
        }
    }
    Ok((flags, end))
}

fn script_load(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let body = args.next_bytes()?.clone();
    let reply = match load_script(ctx.server, &body) {
        Ok((_, _, sha)) => Frame::Bulk(Bytes::from(sha)),
        Err(text) => Frame::error(text),
    };
    crate::publish(ctx.server);
    Ok(reply)
}

fn script_exists(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let state = crate::state(ctx.server);
    let replies = args
        .rest()
        .iter()
        .map(|sha| {
            let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
            Frame::Integer(i64::from(state.scripts.contains_key(&sha)))
        })
        .collect();
    Ok(Frame::Array(replies))
}

fn script_flush(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    if args.remaining() > 1 {
        return Err(CommandError::Syntax);
    }
    if let Some(mode) = args.peek()
        && !mode.eq_ignore_ascii_case(b"sync")
        && !mode.eq_ignore_ascii_case(b"async")
    {
        return Err(CommandError::msg(
            "ERR SCRIPT FLUSH only support SYNC|ASYNC option",
        ));
    }
    let state = crate::state(ctx.server);
    state.scripts.clear();
    state.scripts_memory = 0;
    state.eval_vm = Arc::new(crate::new_vm());
    crate::publish(ctx.server);
    Ok(Frame::ok())
}

fn script_kill(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    crate::kill_running(ctx.server, false)
}

fn script_debug(_ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let mode = args.next_bytes()?;
    if mode.eq_ignore_ascii_case(b"no") {
        return Ok(Frame::ok());
    }
    if mode.eq_ignore_ascii_case(b"yes") || mode.eq_ignore_ascii_case(b"sync") {
        return Err(CommandError::msg(
            "ERR SCRIPT DEBUG is not supported by this server",
        ));
    }
    Err(CommandError::msg("ERR Use SCRIPT DEBUG YES/SYNC/NO"))
}

fn script_help(_ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    Ok(crate::help_reply(
        "SCRIPT",
        &[
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    ))
}
