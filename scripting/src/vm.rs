//! One Lua 5.1 VM with Redis's environment: the `redis` table, the bundled libraries, the
//! sandbox (see `prelude.lua`), the error handler that turns any error into Redis's error table,
//! and [`Vm::run`], which calls a script with `redis.call` bound to the calling client.
//!
//! `redis.call` must reach the `Server` the script runs against, which the command handler holds
//! as `&mut Server`: each run lends it, with the calling client, to the VM's
//! [`Binding`](crate::native::Binding), where the C functions `redis.call`/`redis.pcall` find it.
//!
//! What a run costs is mostly crossings between Rust and Lua, so the hot path keeps them few:
//! `redis.call` is a C function on the raw Lua API, KEYS/ARGV are pushed as text straight onto
//! the stack, the hook is installed once, and Rust-side work is done without the memory limit
//! (with one, `mlua` makes every table write and string creation a protected call; see
//! `Unlimited`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};

use bytes::Bytes;
use mlua::{Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value, VmState};
use oxidis_core::Server;
use oxidis_core::client::ClientId;
use oxidis_core::server::ScriptBusy;
use oxidis_protocol::{Frame, RespVersion};

use crate::call::RunFlags;
use crate::convert::lua_to_frame;
use crate::native::{Binding, Pass, RunJob};

/// The prelude that builds Redis's environment.
const PRELUDE: &str = include_str!("prelude.lua");

/// How many VM instructions run between two checks of the clock and the kill flag.
const HOOK_INSTRUCTIONS: u32 = 100_000;

/// Our own safety, not Redis's: the most memory one Lua VM may hold. Redis 7.0 puts no limit
/// on its Lua heap (only `maxmemory` refusing deny-oom scripts before they start); a script
/// that allocates without bound here fails with Lua's `not enough memory` error reply
/// instead of taking the process down.
pub const VM_MEMORY_LIMIT: usize = 512 * 1024 * 1024;

/// A Lua VM set up as Redis sets up its own.
pub struct Vm {
    lua: Lua,
    ctx: Table,
    env: Table,
    /// Runs a script under the error handler (see [`crate::native::runner`]).
    runner: Function,
    set_load_mode: Function,
    /// The protocol the running script chose with `redis.setresp` (2 or 3).
    script_resp: Arc<AtomicU8>,
    /// Runs since the last explicit garbage-collection step (see [`GC_PERIOD`]).
    runs_since_gc: AtomicU32,
    /// The running script's slow-script warning was logged.
    warned: Arc<AtomicBool>,
    /// What `redis.call` runs against: the run in progress.
    binding: Arc<Binding>,
}

/// Redis's `LUA_GC_CYCLE_PERIOD`: every this many runs, one explicit step of the incremental
/// collector on top of Lua's own pacing (a step per run cost more than the script).
const GC_PERIOD: u32 = 50;

/// Lifts the VM's memory limit while Rust code works on the Lua state, restoring it on drop.
///
/// With a limit set, mlua runs every table write and string creation in a protected call (an
/// allocation may fail), which costs a C closure and a `pcall` each; without one, those are
/// plain API calls. The limit guards against scripts: Lua code always runs under it, and the
/// Rust code in between only converts values of a size the script or the command chose.
struct Unlimited<'a> {
    lua: &'a Lua,
    previous: usize,
}

impl<'a> Unlimited<'a> {
    fn new(lua: &'a Lua) -> Unlimited<'a> {
        let previous = lua.set_memory_limit(0).unwrap_or(VM_MEMORY_LIMIT);
        Unlimited { lua, previous }
    }
}

impl Drop for Unlimited<'_> {
    fn drop(&mut self) {
        let _ = self.lua.set_memory_limit(self.previous);
    }
}

impl std::fmt::Debug for Vm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vm").finish_non_exhaustive()
    }
}

/// How a script's error or result is reported.
pub struct Invocation<'a> {
    /// The compiled function.
    pub function: &'a Function,
    /// `sha` for EVAL, the function name for FCALL.
    pub name: &'a str,
    /// EVAL sets KEYS/ARGV globals; FCALL passes them as arguments.
    pub eval: bool,
    /// The keys.
    pub keys: &'a [Bytes],
    /// The other arguments.
    pub args: &'a [Bytes],
    /// What the script may do.
    pub flags: RunFlags,
}

impl Vm {
    /// A new VM with the environment built.
    ///
    /// # Errors
    /// Lua failed to build it (out of memory).
    pub fn new() -> mlua::Result<Vm> {
        let libs = StdLib::TABLE | StdLib::STRING | StdLib::MATH;
        let lua = Lua::new_with(libs, LuaOptions::default())?;
        lua.set_memory_limit(VM_MEMORY_LIMIT)?;
        crate::libs::install(&lua)?;
        let math: Table = lua.globals().get("math")?;
        crate::libs::random::install(&lua, &math, in_script)?;
        let ctx = lua.create_table()?;
        let script_resp = Arc::new(AtomicU8::new(2));
        // `redis.sha1hex`, `redis.setresp`, `redis.set_repl` and `redis.log` are Rust (C in
        // Redis) so that an error they raise from `return redis.x(...)` — a tail call — still
        // finds the script's frame for its position.
        ctx.set(
            "sha1hex",
            lua.create_function(|_, args: MultiValue| {
                if args.len() != 1 {
                    return Err(raise("ERR wrong number of arguments"));
                }
                let text = match args.front() {
                    Some(Value::String(s)) => s.as_bytes().to_vec(),
                    Some(Value::Integer(i)) => i.to_string().into_bytes(),
                    Some(Value::Number(n)) => crate::call::lua_number_text(*n).into_bytes(),
                    _ => Vec::new(),
                };
                Ok(crate::sha1_hex(&text))
            })?,
        )?;
        let resp = Arc::clone(&script_resp);
        ctx.set(
            "setresp",
            lua.create_function(move |_, args: MultiValue| {
                if args.len() != 1 {
                    return Err(raise("ERR redis.setresp() requires one argument."));
                }
                let version = match args.front() {
                    Some(Value::Integer(v)) => *v as f64,
                    Some(Value::Number(v)) => *v,
                    _ => 0.0,
                };
                if version != 2.0 && version != 3.0 {
                    return Err(raise("ERR RESP version must be 2 or 3."));
                }
                resp.store(if version == 3.0 { 3 } else { 2 }, Ordering::Relaxed);
                Ok(())
            })?,
        )?;
        ctx.set(
            "set_repl",
            lua.create_function(|_, args: MultiValue| {
                if args.len() != 1 {
                    return Err(raise("ERR redis.set_repl() requires one argument."));
                }
                let flags = match args.front() {
                    Some(Value::Integer(v)) => *v as f64,
                    Some(Value::Number(v)) => *v,
                    _ => -1.0,
                };
                if !(0.0..=3.0).contains(&flags) {
                    return Err(raise(
                        "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                    ));
                }
                Ok(())
            })?,
        )?;
        ctx.set(
            "error_text",
            lua.create_function(|lua, s: mlua::LuaString| {
                let text = error_reply_text(&s.as_bytes());
                lua.create_string(text)
            })?,
        )?;
        ctx.set(
            "log",
            lua.create_function(|_, args: MultiValue| {
                if args.len() < 2 {
                    return Err(raise("ERR redis.log() requires two arguments or more."));
                }
                let level = match args.front() {
                    Some(Value::Integer(v)) => *v as f64,
                    Some(Value::Number(v)) => *v,
                    _ => return Err(raise("ERR First argument must be a number (log level).")),
                };
                if !(0.0..=3.0).contains(&level) {
                    return Err(raise("ERR Invalid debug level."));
                }
                #[allow(clippy::cast_possible_truncation)] // 0..=3
                let level = level as i64;
                let parts: Vec<String> = args
                    .iter()
                    .skip(1)
                    .filter_map(|v| match v {
                        Value::String(s) => Some(String::from_utf8_lossy(&s_bytes(s)).into_owned()),
                        Value::Integer(i) => Some(i.to_string()),
                        Value::Number(n) => Some(crate::call::lua_number_text(*n)),
                        _ => None,
                    })
                    .collect();
                let text = parts.join(" ");
                match level {
                    0 => tracing::debug!(target: "lua", "{text}"),
                    1 | 2 => tracing::info!(target: "lua", "{text}"),
                    _ => tracing::warn!(target: "lua", "{text}"),
                }
                Ok(())
            })?,
        )?;
        ctx.set(
            "register_function",
            lua.create_function(|_, _: MultiValue| -> mlua::Result<()> {
                Err(mlua::Error::runtime(
                    "redis.register_function can only be called on FUNCTION LOAD command",
                ))
            })?,
        )?;
        let binding = Arc::new(Binding::new(Arc::clone(&script_resp)));
        let (call, pcall) = crate::native::install(&lua, &binding)?;
        ctx.set("call", call)?;
        ctx.set("pcall", pcall)?;
        ctx.set(
            "error_message",
            lua.create_function(|lua, v: Value| match v {
                Value::Error(e) => lua.create_string(error_message(&e)),
                other => lua.create_string(other.to_string().unwrap_or_default()),
            })?,
        )?;
        ctx.set(
            "killed",
            lua.create_function(|lua, ()| {
                let killed = lua
                    .app_data_ref::<Arc<ScriptBusy>>()
                    .is_some_and(|b| b.kill.load(Ordering::SeqCst));
                // A panic in `redis.call` ends the script as a kill does.
                let panicked = lua
                    .app_data_ref::<Arc<Binding>>()
                    .is_some_and(|b| b.panicked());
                Ok(killed || panicked)
            })?,
        )?;
        ctx.set("version", oxidis_core::REDIS_VERSION)?;
        ctx.set("version_num", version_num(oxidis_core::REDIS_VERSION))?;
        let prelude: Table = lua
            .load(PRELUDE)
            .set_name("=prelude")
            .set_mode(mlua::chunk::ChunkMode::Text)
            .call(ctx.clone())?;
        let handler = lua.create_function(error_handler)?;
        let vm = Vm {
            env: prelude.get("env")?,
            runner: crate::native::runner(&lua, &handler)?,
            set_load_mode: prelude.get("set_load_mode")?,
            ctx,
            lua,
            script_resp,
            runs_since_gc: AtomicU32::new(0),
            warned: Arc::new(AtomicBool::new(false)),
            binding,
        };
        vm.install_hook();
        Ok(vm)
    }

    /// The Lua state.
    pub fn lua(&self) -> &Lua {
        &self.lua
    }

    /// The hidden table of Rust primitives the prelude uses.
    pub fn ctx(&self) -> &Table {
        &self.ctx
    }

    /// The globals table scripts see.
    pub fn env(&self) -> &Table {
        &self.env
    }

    /// Switches the environment to the one a library sees while it loads, or back.
    ///
    /// # Errors
    /// Lua failed.
    pub fn set_load_mode(&self, on: bool) -> mlua::Result<()> {
        self.set_load_mode.call(on)
    }

    /// Calls `function` with no arguments under the error handler: xpcall's results.
    ///
    /// # Errors
    /// Lua failed outside the protected call.
    pub fn run_protected(&self, function: &Function) -> mlua::Result<MultiValue> {
        let job = RunJob {
            keys: &[],
            args: &[],
            pass: Pass::Nothing,
        };
        self.runner.call((job.as_light_userdata(), function))
    }

    /// Bytes of memory the VM uses.
    pub fn used_memory(&self) -> usize {
        self.lua.used_memory()
    }

    /// Compiles `body` as chunk `name` with the script environment.
    ///
    /// # Errors
    /// The compiler's message, as Lua words it.
    pub fn compile(&self, body: &[u8], name: &str) -> Result<Function, String> {
        self.lua
            .load(body)
            .set_name(name)
            .set_mode(mlua::chunk::ChunkMode::Text)
            .set_environment(self.env.clone())
            .into_function()
            .map_err(|e| match e {
                mlua::Error::SyntaxError { message, .. } => message,
                other => other.to_string(),
            })
    }

    /// Runs a script for `client_id`: the reply to send (an error reply when it failed).
    pub fn run(
        &self,
        server: &mut Server,
        client_id: ClientId,
        invocation: &Invocation<'_>,
    ) -> Frame {
        let (caller_db, caller_resp) = server
            .clients
            .get(client_id)
            .map_or((0, RespVersion::Resp2), |c| (c.db, c.resp));
        let threshold = server.config.busy_reply_threshold;
        let busy = Arc::clone(&server.script_busy);
        busy.start(!invocation.eval, threshold);
        busy.loading.store(server.loading, Ordering::SeqCst);
        let known = self
            .lua
            .app_data_ref::<Arc<ScriptBusy>>()
            .is_some_and(|b| Arc::ptr_eq(&b, &busy));
        if !known {
            self.lua.set_app_data(Arc::clone(&busy));
        }
        self.warned.store(false, Ordering::Relaxed);
        let started = server.now_ms();
        server.freeze_clock(Some(started));
        // A panic in a command the script ran still ends the run here (the clock runs again,
        // the server is no longer busy), then goes on to dispatch, which answers it.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.run_inner(server, client_id, invocation, caller_resp, &busy)
        }));
        server.freeze_clock(None);
        let elapsed = busy.elapsed_ms();
        busy.finish();
        busy.loading.store(false, Ordering::SeqCst);
        // The run's arguments are let go of (they may pin a large request buffer).
        let key = busy.details.lock().ok().and_then(|mut d| {
            let key = d.command.get(1).cloned();
            d.command.clear();
            key
        });
        if let Some(key) = key {
            busy.record_run(&key, elapsed);
        }
        self.script_resp.store(2, Ordering::Relaxed);
        // A SELECT inside the script does not change the caller's database (Redis 7.0).
        if let Some(client) = server.clients.get_mut(client_id) {
            client.db = caller_db;
            client.resp = caller_resp;
        }
        // A panic in `redis.call` was kept while Lua unwound its own frames.
        let result = match (result, self.binding.take_panic()) {
            (Err(panic), _) | (Ok(_), Some(panic)) => std::panic::resume_unwind(panic),
            (Ok(result), None) => result,
        };
        self.collect_garbage();
        match result {
            Ok((frame, counted)) => {
                if counted && let Frame::Error(text) = &frame {
                    uncount_error(server, text);
                }
                frame
            }
            Err(e) => Frame::error(format!(
                "ERR Error running script {}, {}",
                invocation.name,
                first_line(&e.to_string())
            )),
        }
    }

    /// After a run: a script that left a large heap behind (or hit [`VM_MEMORY_LIMIT`]) gives
    /// it back at once; otherwise, as Redis does, one explicit step every [`GC_PERIOD`] runs
    /// helps Lua's own incremental collector along.
    fn collect_garbage(&self) {
        if self.lua.used_memory() > VM_MEMORY_LIMIT / 8 {
            self.lua.gc_collect().ok();
            self.runs_since_gc.store(0, Ordering::Relaxed);
        } else if self.runs_since_gc.fetch_add(1, Ordering::Relaxed) + 1 >= GC_PERIOD {
            self.runs_since_gc.store(0, Ordering::Relaxed);
            self.lua.gc_step().ok();
        }
    }

    fn run_inner(
        &self,
        server: &mut Server,
        client_id: ClientId,
        invocation: &Invocation<'_>,
        caller_resp: RespVersion,
        busy: &Arc<ScriptBusy>,
    ) -> mlua::Result<(Frame, bool)> {
        let job = RunJob {
            keys: invocation.keys,
            args: invocation.args,
            pass: if invocation.eval {
                Pass::Globals
            } else {
                Pass::Arguments
            },
        };
        let results: mlua::Result<(bool, Value)> =
            self.binding
                .with_bound(server, busy, client_id, invocation.flags, || {
                    self.runner
                        .call((job.as_light_userdata(), invocation.function))
                });
        let _unlimited = Unlimited::new(&self.lua);
        let (ok, value) = results?;
        let script_resp = match self.script_resp.load(Ordering::Relaxed) {
            3 => RespVersion::Resp3,
            _ => RespVersion::Resp2,
        };
        let counted = match &value {
            Value::Table(t) => t.raw_get::<bool>(crate::call::COUNTED).unwrap_or(false),
            _ => false,
        };
        let frame = if ok {
            lua_to_frame(&value, script_resp, caller_resp)
        } else {
            script_error(&value, invocation.name)
        };
        Ok((frame, counted))
    }

    /// Every `HOOK_INSTRUCTIONS` instructions: stop when SCRIPT KILL / FUNCTION KILL asked.
    /// Once killed, the script's `pcall` re-raises the error, so it cannot be caught.
    /// The first time it finds the script past `busy-reply-threshold`, logs Redis's warning.
    ///
    /// Installed once with the VM (it reads the running script from [`ScriptBusy`], the VM's
    /// app data), and again after a library load used its own hook.
    pub fn install_hook(&self) {
        let warned = Arc::clone(&self.warned);
        let triggers = HookTriggers::new().every_nth_instruction(HOOK_INSTRUCTIONS);
        // A global hook: Lua 5.1 copies it into every coroutine a script creates, so a loop in
        // a coroutine is stopped too (a per-thread hook would be dropped there).
        let _ = self.lua.set_global_hook(triggers, move |lua, _debug| {
            let Some(state) = lua.app_data_ref::<Arc<ScriptBusy>>() else {
                return Ok(VmState::Continue);
            };
            let is_function = state.is_function.load(Ordering::SeqCst);
            if state.kill.load(Ordering::SeqCst) {
                return Err(killed_error(is_function));
            }
            if state.is_busy() && !warned.swap(true, Ordering::Relaxed) {
                let kill = if is_function {
                    "FUNCTION KILL"
                } else {
                    "SCRIPT KILL"
                };
                let name = state
                    .details
                    .lock()
                    .map(|d| d.name.clone())
                    .unwrap_or_default();
                tracing::warn!(
                    "Slow script detected: still in execution after {} milliseconds. You can try killing the script using the {kill} command. Script name is: {name}.",
                    state.elapsed_ms()
                );
            }
            Ok(VmState::Continue)
        });
    }
}

/// An error `redis.call` raises: Redis raises a table `{err=...}`; through mlua it travels as
/// this external error, which the error handler and `pcall` turn back into the message.
#[derive(Debug)]
pub struct ScriptError(pub String, pub bool);

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScriptError {}

/// Whether a script is running in `lua` (not a library being loaded): `redis.call` is bound.
fn in_script(lua: &Lua) -> bool {
    lua.app_data_ref::<Arc<Binding>>()
        .is_some_and(|binding| binding.is_bound())
}

/// Takes back one count of `text` from the error statistics, for an error reply the script
/// passes on after it was counted already (dispatch counts the script's reply again).
fn uncount_error(server: &mut Server, text: &[u8]) {
    let stats = &mut server.stats;
    stats.total_error_replies = stats.total_error_replies.saturating_sub(1);
    let code = text.split(|b| *b == b' ').next().unwrap_or_default();
    let code = String::from_utf8_lossy(code).into_owned();
    if let Some(n) = stats.errors_by_code.get_mut(&code) {
        *n = n.saturating_sub(1);
    }
}

/// The error a killed script ends with.
pub fn killed_message(is_function: bool) -> &'static str {
    &killed_text(is_function)["ERR ".len()..]
}

/// The error a killed script ends with, with its code.
pub fn killed_text(is_function: bool) -> &'static str {
    if is_function {
        "ERR Script killed by user with FUNCTION KILL..."
    } else {
        "ERR Script killed by user with SCRIPT KILL..."
    }
}

/// The error that stops a killed script: Redis raises it without a position prefix.
pub fn killed_error(is_function: bool) -> mlua::Error {
    mlua::Error::external(ScriptError(
        format!("ERR {}", killed_message(is_function)),
        false,
    ))
}

/// An error a `redis.*` helper raises: `text` (with its code) is the script's error.
fn raise(text: &str) -> mlua::Error {
    mlua::Error::external(ScriptError(text.to_string(), false))
}

/// The bytes of a Lua string.
fn s_bytes(s: &mlua::LuaString) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// `7.0.15` as Redis's `REDIS_VERSION_NUM`: 0x00MMmmpp.
fn version_num(version: &str) -> i64 {
    let mut parts = version.split('.').map(|p| p.parse::<i64>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    let patch = parts.next().unwrap_or(0);
    (major << 16) | (minor << 8) | patch
}

/// `redis.error_reply`'s text: a leading `-` is dropped, and a text without a code (no space)
/// gets `ERR`, as Redis's `luaPushErrorBuff` does.
fn error_reply_text(s: &[u8]) -> Vec<u8> {
    let with_dash: Vec<u8> = if s.first() == Some(&b'-') {
        s.to_vec()
    } else {
        let mut v = vec![b'-'];
        v.extend_from_slice(s);
        v
    };
    normalize_error(&with_dash)
}

/// Redis's `luaPushErrorBuff`: `-CODE msg` keeps its code, anything else gets `ERR`; trailing
/// CR/LF trimmed.
pub fn normalize_error(text: &[u8]) -> Vec<u8> {
    let (code, msg): (&[u8], &[u8]) = if let Some(rest) = text.strip_prefix(b"-") {
        match rest.iter().position(|&b| b == b' ') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (b"ERR", rest),
        }
    } else {
        (b"ERR", text)
    };
    let msg = trim_crlf(msg);
    let mut out = Vec::with_capacity(code.len() + 1 + msg.len());
    out.extend_from_slice(code);
    out.push(b' ');
    out.extend_from_slice(msg);
    out
}

fn trim_crlf(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., b'\r' | b'\n'] = s {
        s = rest;
    }
    while let [b'\r' | b'\n', rest @ ..] = s {
        s = rest;
    }
    s
}

/// The error handler every script runs under: any error becomes `{err=..., source=...,
/// line=...}`, with the position of the innermost user code on the stack.
fn error_handler(lua: &Lua, err: Value) -> mlua::Result<Table> {
    let table = match err {
        Value::Table(t) => t,
        other => {
            let (coded, text) = match &other {
                Value::String(s) => (None, s.as_bytes().to_vec()),
                Value::Error(e) if is_runtime_error(e) => {
                    let mut text = caller_position(lua).into_bytes();
                    text.extend_from_slice(error_message(e).as_bytes());
                    (None, text)
                }
                Value::Error(e) => (script_error_counted(e), error_message(e).into_bytes()),
                v => (None, v.to_string().unwrap_or_default().into_bytes()),
            };
            let t = lua.create_table()?;
            if coded == Some(true) {
                t.raw_set(crate::call::COUNTED, true)?;
            }
            let coded = coded.is_some();
            let mut msg = if coded { Vec::new() } else { b"ERR ".to_vec() };
            msg.extend_from_slice(&text);
            t.raw_set("err", lua.create_string(msg)?)?;
            t
        }
    };
    for level in 1..64 {
        let Some(found) = lua.inspect_stack(level, |debug| {
            let source = debug.source();
            let name = source.source.as_deref().unwrap_or("").to_string();
            (name, debug.current_line())
        }) else {
            break;
        };
        let (source, line) = found;
        if source == "@user_script" || source == "@user_function" {
            table.raw_set("source", source)?;
            table.raw_set("line", line.map_or(-1, |l| i64::try_from(l).unwrap_or(-1)))?;
            break;
        }
    }
    Ok(table)
}

/// Whether `e` is what a library function raised with a message (Lua's `luaL_error`), which
/// Lua prefixes with the position of the calling code.
fn is_runtime_error(e: &mlua::Error) -> bool {
    match e {
        mlua::Error::CallbackError { cause, .. } => is_runtime_error(cause),
        mlua::Error::RuntimeError(_) => true,
        _ => false,
    }
}

/// Lua's `luaL_where` for an error a C function raised: `source:line: ` of the Lua code that
/// called it, empty when that is not Lua code.
fn caller_position(lua: &Lua) -> String {
    for level in 1..64 {
        let Some(found) = lua.inspect_stack(level, |debug| {
            let source = debug.source();
            let src = source.short_src.as_deref().unwrap_or("").to_string();
            (source.what, src, debug.current_line())
        }) else {
            break;
        };
        match found {
            ("C", ..) => {}
            (_, src, Some(line)) if line > 0 => return format!("{src}:{line}: "),
            _ => break,
        }
    }
    String::new()
}

/// For an error `redis.call` raised (its text carries its own code): whether it is counted
/// in the statistics already. `None` for other errors.
fn script_error_counted(e: &mlua::Error) -> Option<bool> {
    match e {
        mlua::Error::CallbackError { cause, .. } => script_error_counted(cause),
        mlua::Error::ExternalError(inner) => inner.downcast_ref::<ScriptError>().map(|s| s.1),
        _ => None,
    }
}

/// An mlua error's message without mlua's decorations.
fn error_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { cause, .. } => error_message(cause),
        mlua::Error::ExternalError(inner) => match inner.downcast_ref::<ScriptError>() {
            Some(script) => script.0.clone(),
            None => inner.to_string(),
        },
        mlua::Error::RuntimeError(m) => m.clone(),
        mlua::Error::MemoryError(_) => "not enough memory".to_string(),
        other => first_line(&other.to_string()).to_string(),
    }
}

/// The reply for a script that raised `err`: `<msg> script: <name>, on <source>:<line>.`.
fn script_error(err: &Value, name: &str) -> Frame {
    let Value::Table(t) = err else {
        let text = match err {
            Value::String(s) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
            _ => "execution failure".to_string(),
        };
        return Frame::error(format!("ERR Error running script {name}, {text}"));
    };
    let msg: Vec<u8> = match t.raw_get::<Value>("err") {
        Ok(Value::String(s)) => s.as_bytes().to_vec(),
        _ => b"ERR unknown error".to_vec(),
    };
    let mut text = String::from_utf8_lossy(&msg).into_owned();
    let source: Option<String> = t.raw_get("source").ok();
    let line: Option<i64> = t.raw_get("line").ok();
    if let (Some(source), Some(line)) = (source, line) {
        text.push_str(&format!(" script: {name}, on {source}:{line}."));
    }
    Frame::error(text.replace(['\r', '\n'], " "))
}
