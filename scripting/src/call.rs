//! What `redis.call` and `redis.pcall` run (their Lua side is in [`crate::native`]): Redis's
//! script checks (known command, arity, `noscript`, writes in read-only scripts, OOM), then the
//! command through `oxidis_core::dispatch` for the calling client.

use std::sync::atomic::Ordering;

use bytes::{Bytes, BytesMut};
use oxidis_core::Server;
use oxidis_core::client::ClientId;
use oxidis_core::command::Flag;
use oxidis_protocol::{Frame, RespVersion};

use oxidis_core::server::ScriptBusy;

/// What a running script may do.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunFlags {
    /// EVAL_RO, FCALL_RO, or a `no-writes` script: write commands are refused.
    pub read_only: bool,
    /// `allow-oom`: deny-oom commands run even over `maxmemory`.
    pub allow_oom: bool,
    /// The script declared flags (a shebang, or a function): stricter checks apply.
    pub declared: bool,
    /// The caller is this replica's master or the AOF being loaded: its writes are never
    /// refused by the replication gates (Redis's `mustObeyClient`).
    pub obey: bool,
}

/// The argument vector `redis.call` builds, kept between calls: the arguments are copied into
/// one buffer handed out in slices (reclaimed once the commands let go of them), so a call
/// allocates nothing for its arguments in the steady state.
#[derive(Debug, Default)]
pub struct CallScratch {
    argv: Vec<Bytes>,
    buf: BytesMut,
}

/// Room the argument buffer takes at a time.
const SCRATCH_CHUNK: usize = 4096;
/// Arguments kept room for between calls, at most.
const SCRATCH_ARGS: usize = 64;

impl CallScratch {
    /// Forgets the arguments of the last call (see [`CallScratch::release`]).
    pub(crate) fn clear(&mut self) {
        self.argv.clear();
    }

    /// The arguments pushed since the last clear.
    pub(crate) fn arguments(&self) -> &[Bytes] {
        &self.argv
    }

    /// Appends one argument.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        if self.buf.capacity() < bytes.len() {
            self.buf.reserve(bytes.len().max(SCRATCH_CHUNK));
        }
        self.buf.extend_from_slice(bytes);
        self.argv.push(self.buf.split().freeze());
    }

    /// After a call: lets go of the arguments, and of the room a call with large (or many)
    /// arguments took, so it is not kept for the life of the VM.
    pub(crate) fn release(&mut self) {
        let large = self.argv.len() > SCRATCH_ARGS
            || self.argv.iter().map(Bytes::len).sum::<usize>() > SCRATCH_CHUNK;
        self.argv.clear();
        if large {
            self.argv.shrink_to(SCRATCH_ARGS);
            self.buf = BytesMut::new();
        }
    }
}

/// Who calls: the running script's client, flags, run state, and the protocol it chose
/// (`redis.setresp`).
#[derive(Clone, Copy)]
pub struct Caller<'a> {
    /// The client that runs the script.
    pub client_id: ClientId,
    /// The script's declared flags.
    pub flags: RunFlags,
    /// The run's shared state (kill request, whether it wrote).
    pub run_state: &'a ScriptBusy,
    /// The protocol replies are converted from.
    pub resp: RespVersion,
}

/// The checks, then the command: its reply, or the error to return to the script (and whether
/// it is counted in the statistics already).
pub(crate) fn run_checked(
    server: &mut Server,
    caller: Caller<'_>,
    argv: &[Bytes],
) -> Result<Frame, (&'static str, bool)> {
    let Caller {
        client_id,
        flags,
        run_state,
        resp,
    } = caller;
    if argv.is_empty() {
        return Err((
            "ERR Please specify at least one argument for this redis lib call",
            false,
        ));
    }
    let command = match check_command(server, argv, flags, run_state) {
        Ok(command) => command,
        Err((command, text)) => {
            // Counted here, as Redis counts a rejected call; the script's own error reply that
            // may follow is not counted again.
            server.stats.count_error(text.as_bytes());
            if let Some(command) = command {
                server.stats.command_mut(command.id).rejected_calls += 1;
            }
            return Err((text, true));
        }
    };
    // The command sees the script's protocol (`redis.setresp`) as the client's.
    let previous_resp = match server.clients.get_mut(client_id) {
        Some(client) if client.resp != resp => Some(std::mem::replace(&mut client.resp, resp)),
        _ => None,
    };
    let reply = oxidis_core::dispatch_resolved(server, client_id, command, argv);
    if let Some(previous) = previous_resp
        && let Some(client) = server.clients.get_mut(client_id)
    {
        client.resp = previous;
    }
    Ok(reply)
}

/// The field of an error table whose error is in the statistics already (Redis's
/// `ignore_error_stats_update`).
pub const COUNTED: &str = "ignore_error_stats_update";

type Rejection = (Option<&'static oxidis_core::command::Command>, &'static str);

/// Redis's `scriptCall` checks, in its order: the command to run when they pass.
fn check_command(
    server: &Server,
    argv: &[Bytes],
    flags: RunFlags,
    run_state: &ScriptBusy,
) -> Result<&'static oxidis_core::command::Command, Rejection> {
    let Some(mut command) = server.table.get(&argv[0]) else {
        return Err((None, "ERR Unknown Redis command called from script"));
    };
    if !command.subcommands.is_empty() && argv.len() >= 2 {
        match command.subcommand(&argv[1]) {
            Some(sub) => command = sub,
            None => return Err((None, "ERR Unknown Redis command called from script")),
        }
    }
    check_flags(server, command, argv, flags, run_state).map_err(|text| (Some(command), text))?;
    Ok(command)
}

fn check_flags(
    server: &Server,
    command: &'static oxidis_core::command::Command,
    argv: &[Bytes],
    flags: RunFlags,
    run_state: &ScriptBusy,
) -> Result<(), &'static str> {
    if !command.spec.arity.accepts(argv.len()) {
        return Err("ERR Wrong number of args calling Redis command from script");
    }
    if command.has(Flag::NoScript) && !run_state.deny_script_disabled.load(Ordering::Relaxed) {
        return Err("ERR This Redis command is not allowed from script");
    }
    let write = command.has(Flag::Write);
    // PUBLISH and other "may replicate" commands count as writes here (CLIENT PAUSE WRITE
    // lets read-only scripts through).
    if (write || command.has(Flag::MayReplicate)) && flags.read_only {
        return Err("ERR Write commands are not allowed from read-only scripts.");
    }
    if !flags.allow_oom
        && command.has(Flag::DenyOom)
        && server.config.maxmemory > 0
        && !run_state.wrote.load(Ordering::SeqCst)
        && crate::over_maxmemory(server)
    {
        return Err("OOM command not allowed when used memory > 'maxmemory'.");
    }
    if write && !flags.obey {
        // A read-only replica and `min-replicas-to-write` refuse a script's writes as they
        // refuse a client's.
        if oxidis_core::replication::is_replica(server) && server.config.replica_read_only {
            return Err(oxidis_core::errors::replication::READONLY);
        }
        if !oxidis_core::replication::is_replica(server)
            && !oxidis_core::replication::enough_good_replicas(server)
        {
            return Err(oxidis_core::errors::replication::NOREPLICAS);
        }
        run_state.wrote.store(true, Ordering::SeqCst);
    }
    Ok(())
}

/// A Lua number as `lua_tolstring` prints it (`%.14g`).
pub fn lua_number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        return format!("{}", n as i64);
    }
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if n.is_infinite() {
        return if n < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    format_g14(n)
}

/// C's `%.14g`.
fn format_g14(n: f64) -> String {
    format_g(n, 14)
}

/// C's `%.<precision>g` for a finite number: the exponent is the one of the number rounded to
/// `precision` significant digits; below -4 or from `precision` on it is printed as
/// `d.ddde+XX`, otherwise in fixed notation; trailing zeros dropped.
fn format_g(n: f64, precision: usize) -> String {
    let scientific = format!("{:.*e}", precision - 1, n);
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let limit = i64::try_from(precision).unwrap_or(17);
    if exponent < -4 || exponent >= limit {
        let mantissa = trim_zeros(mantissa);
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    } else {
        let decimals = usize::try_from(limit - 1 - exponent).unwrap_or(0);
        trim_zeros(&format!("{n:.decimals$}")).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}
