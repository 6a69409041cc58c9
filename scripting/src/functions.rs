//! FUNCTION and FCALL: libraries of functions (`#!lua name=lib` plus `redis.register_function`
//! calls), kept in their own VM as Redis keeps them.
//!
//! Loading a library runs its code once with a restricted environment: only `redis` (with
//! `register_function`, `log`, the log levels and the version) is reachable, as in Redis 7.0,
//! whose loader swaps the globals' `__index` the same way.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use mlua::{Function, Lua, MultiValue, Table, Value};
use oxidis_core::CommandContext;
use oxidis_core::command::{Args, Arity, CommandResult, CommandSpec, Flag};
use oxidis_core::errors::CommandError;
use oxidis_protocol::Frame;

use crate::call::RunFlags;
use crate::eval::{ScriptFlags, refuse_to_run, split_keys};
use crate::vm::{Invocation, Vm};

/// How long a library's code may run while it loads.
const LOAD_TIMEOUT_MS: u64 = 500;

/// One registered function.
#[derive(Clone)]
pub struct FunctionInfo {
    /// Its name.
    pub name: String,
    /// The Lua callback (shared: a run takes it without copying the Lua handle).
    pub callback: Arc<Function>,
    /// Its description, if given.
    pub description: Option<Bytes>,
    /// Its flags.
    pub flags: ScriptFlags,
}

/// One library.
#[derive(Clone)]
pub struct Library {
    /// Its name.
    pub name: String,
    /// The full code, shebang included.
    pub code: Bytes,
    /// Its functions, by name.
    pub functions: BTreeMap<String, FunctionInfo>,
}

/// Every library, and the VM they live in.
pub struct Registry {
    /// The VM (replaced by FUNCTION FLUSH).
    pub vm: Arc<Vm>,
    /// Libraries by name.
    pub libraries: BTreeMap<String, Library>,
    /// Function name → library name.
    pub index: BTreeMap<String, String>,
}

impl Default for Registry {
    fn default() -> Registry {
        Registry::new()
    }
}

impl Registry {
    /// An empty registry with a fresh VM.
    pub fn new() -> Registry {
        Registry {
            vm: Arc::new(crate::new_vm()),
            libraries: BTreeMap::new(),
            index: BTreeMap::new(),
        }
    }

    /// How many functions are registered.
    pub fn function_count(&self) -> usize {
        self.index.len()
    }

    /// Bytes of library code and names.
    pub fn memory(&self) -> usize {
        self.libraries
            .values()
            .map(|l| l.code.len() + l.name.len() + l.functions.len() * 64)
            .sum()
    }

    /// Loads `code`: the library's name, or Redis's error text.
    pub fn load(&mut self, code: &Bytes, replace: bool) -> Result<String, String> {
        let (name, body_start) = parse_metadata(code)?;
        if !valid_name(&name) {
            return Err("ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long".into());
        }
        let key = name.to_ascii_lowercase();
        if self.libraries.contains_key(&key) && !replace {
            return Err(format!("ERR Library '{name}' already exists"));
        }
        let functions = load_library(&self.vm, &code[body_start..])?;
        if functions.is_empty() {
            return Err("ERR No functions registered".into());
        }
        for (f, info) in &functions {
            if let Some(owner) = self.index.get(f)
                && owner != &key
            {
                return Err(format!("ERR Function {} already exists", info.name));
            }
        }
        self.remove(&key);
        for f in functions.keys() {
            self.index.insert(f.clone(), key.clone());
        }
        self.libraries.insert(
            key,
            Library {
                name: name.clone(),
                code: code.clone(),
                functions,
            },
        );
        Ok(name)
    }

    /// Removes a library; whether it existed.
    pub fn remove(&mut self, name: &str) -> bool {
        let Some(library) = self.libraries.remove(&name.to_ascii_lowercase()) else {
            return false;
        };
        for f in library.functions.keys() {
            self.index.remove(f);
        }
        true
    }

    /// The function named `name` (in any case).
    pub fn function(&self, name: &str) -> Option<&FunctionInfo> {
        let name: std::borrow::Cow<'_, str> = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            std::borrow::Cow::Owned(name.to_ascii_lowercase())
        } else {
            std::borrow::Cow::Borrowed(name)
        };
        let library = self.index.get(name.as_ref())?;
        self.libraries.get(library)?.functions.get(name.as_ref())
    }
}

/// `#!<engine> name=<lib>` first line: the library name and where the code starts (at the
/// newline, so line numbers stay the user's).
fn parse_metadata(code: &[u8]) -> Result<(String, usize), String> {
    if !code.starts_with(b"#!") {
        return Err("ERR Missing library metadata".into());
    }
    let Some(end) = code.iter().position(|&b| b == b'\n') else {
        return Err("ERR Invalid library metadata".into());
    };
    let line = String::from_utf8_lossy(&code[..end]).into_owned();
    let mut parts = line.split_whitespace();
    let Some(engine) = parts.next() else {
        return Err("ERR Invalid library metadata".into());
    };
    let engine = &engine[2..];
    let mut name = None;
    for part in parts {
        // Redis splits the line as `sdssplitargs` does: quotes group, and are dropped.
        let unquoted = part.replace('"', "");
        let part = unquoted.as_str();
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case("name=") {
            if name.is_some() {
                return Err(
                    "ERR Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(part[5..].to_string());
            continue;
        }
        return Err(format!("ERR Invalid metadata value given: {part}"));
    }
    let Some(name) = name else {
        return Err("ERR Library name was not given".into());
    };
    if !valid_name(&name) {
        return Err("ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long".into());
    }
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(format!("ERR Engine '{engine}' not found"));
    }
    Ok((name, end))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Runs a library's code with `redis.register_function` collecting its functions.
fn load_library(vm: &Vm, body: &[u8]) -> Result<BTreeMap<String, FunctionInfo>, String> {
    let function = vm
        .compile(body, "@user_function")
        .map_err(|e| format!("ERR Error compiling function: {e}"))?;
    let lua = vm.lua();
    let mut registered: BTreeMap<String, FunctionInfo> = BTreeMap::new();
    let mut failure: Option<String> = None;
    let outcome = lua.scope(|scope| {
        let register = scope.create_function_mut(|lua, args: MultiValue| {
            match read_registration(lua, args) {
                Ok(info) => {
                    if !valid_name(&info.name) {
                        return Err(lua_error(lua, "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"));
                    }
                    let key = info.name.to_ascii_lowercase();
                    if registered.contains_key(&key) {
                        return Err(lua_error(lua, "Function already exists in the library"));
                    }
                    registered.insert(key, info);
                    Ok(())
                }
                Err(text) => Err(lua_error(lua, &text)),
            }
        })?;
        let ctx = vm.ctx();
        let previous: Value = ctx.raw_get("register_function")?;
        ctx.raw_set("register_function", register)?;
        vm.set_load_mode(true)?;
        // Redis stops a library whose loading runs past 500 ms.
        let started = std::time::Instant::now();
        let triggers = mlua::HookTriggers::new().every_nth_instruction(100_000);
        lua.set_global_hook(triggers, move |_lua, _debug| {
            if started.elapsed() > std::time::Duration::from_millis(LOAD_TIMEOUT_MS) {
                return Err(mlua::Error::runtime("FUNCTION LOAD timeout"));
            }
            Ok(mlua::VmState::Continue)
        })?;
        let result = vm.run_protected(&function);
        lua.remove_global_hook();
        vm.set_load_mode(false)?;
        let result: MultiValue = result?;
        ctx.raw_set("register_function", previous)?;
        let mut values = result.into_iter();
        if !matches!(values.next(), Some(Value::Boolean(true))) {
            let err = values.next().unwrap_or(Value::Nil);
            failure = Some(error_text(&err));
        }
        Ok(())
    });
    // Back to the hook scripts run under (whatever happened to the load's own).
    vm.install_hook();
    if let Err(e) = outcome {
        let _ = vm.set_load_mode(false);
        return Err(format!("ERR Error registering functions: {e}"));
    }
    if let Some(text) = failure {
        return Err(format!("ERR Error registering functions: {text}"));
    }
    Ok(registered)
}

/// An error raised as Redis's error table, through mlua: the message travels as text and the
/// error handler wraps it.
fn lua_error(_lua: &Lua, text: &str) -> mlua::Error {
    mlua::Error::external(crate::vm::ScriptError(format!("ERR {text}"), false))
}

fn error_text(err: &Value) -> String {
    match err {
        Value::Table(t) => match t.raw_get::<Value>("err") {
            Ok(Value::String(s)) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
            _ => "unknown error".into(),
        },
        Value::String(s) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
        _ => "unknown error".into(),
    }
}

/// `redis.register_function(name, callback)` or `redis.register_function{function_name=...,
/// callback=..., flags={...}, description=...}`.
fn read_registration(_lua: &Lua, args: MultiValue) -> Result<FunctionInfo, String> {
    let args: Vec<Value> = args.into_iter().collect();
    if args.is_empty() || args.len() > 2 {
        return Err("wrong number of arguments to redis.register_function".into());
    }
    if args.len() == 1 {
        let Value::Table(t) = &args[0] else {
            return Err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).".into());
        };
        return read_named(t);
    }
    let Value::String(name) = &args[0] else {
        return Err("first argument to redis.register_function must be a string".into());
    };
    let Value::Function(callback) = &args[1] else {
        return Err("second argument to redis.register_function must be a function".into());
    };
    Ok(FunctionInfo {
        name: String::from_utf8_lossy(&name.as_bytes()).into_owned(),
        callback: Arc::new(callback.clone()),
        description: None,
        flags: ScriptFlags::default(),
    })
}

fn read_named(t: &Table) -> Result<FunctionInfo, String> {
    let mut name = None;
    let mut callback = None;
    let mut description = None;
    let mut flags = ScriptFlags::default();
    for pair in t.pairs::<Value, Value>() {
        let (k, v) = pair.map_err(|e| e.to_string())?;
        let Value::String(key) = k else {
            return Err(
                "named argument key given to redis.register_function is not a string".into(),
            );
        };
        match &*key.as_bytes() {
            b"function_name" => {
                let Value::String(s) = v else {
                    return Err(
                        "function_name argument given to redis.register_function must be a string"
                            .into(),
                    );
                };
                name = Some(String::from_utf8_lossy(&s.as_bytes()).into_owned());
            }
            b"description" => {
                let Value::String(s) = v else {
                    return Err(
                        "description argument given to redis.register_function must be a string"
                            .into(),
                    );
                };
                description = Some(Bytes::copy_from_slice(&s.as_bytes()));
            }
            b"callback" => {
                let Value::Function(f) = v else {
                    return Err(
                        "callback argument given to redis.register_function must be a function"
                            .into(),
                    );
                };
                callback = Some(f);
            }
            b"flags" => {
                let Value::Table(list) = v else {
                    return Err("flags argument to redis.register_function must be a table representing function flags".into());
                };
                for item in list.sequence_values::<Value>() {
                    let ok = match item {
                        Ok(Value::String(s)) => flags.set(&s.as_bytes()),
                        _ => false,
                    };
                    if !ok {
                        return Err("unknown flag given".into());
                    }
                }
            }
            _ => return Err("unknown argument given to redis.register_function".into()),
        }
    }
    let Some(name) = name else {
        return Err("redis.register_function must get a function name argument".into());
    };
    let Some(callback) = callback else {
        return Err("redis.register_function must get a callback argument".into());
    };
    Ok(FunctionInfo {
        name,
        callback: Arc::new(callback),
        description,
        flags,
    })
}

/// FUNCTION and its subcommands.
pub const FUNCTION: CommandSpec = CommandSpec::container(
    "function",
    &[
        CommandSpec::new("load", Arity::AtLeast(3), function_load)
            .flags(&[Flag::NoScript, Flag::Write, Flag::DenyOom])
            .acl(crate::ACL)
            .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
            .doc(
                "Create a function with the given arguments (name, code, description)",
                "7.0.0",
                "O(1) (considering compilation time is redundant)",
            ),
        CommandSpec::new("delete", Arity::Exact(3), function_delete)
            .flags(&[Flag::NoScript, Flag::Write])
            .acl(crate::ACL)
            .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
            .doc("Delete a function by name", "7.0.0", "O(1)"),
        CommandSpec::new("flush", Arity::AtLeast(2), function_flush)
            .flags(&[Flag::NoScript, Flag::Write])
            .acl(crate::ACL)
            .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
            .doc(
                "Deleting all functions",
                "7.0.0",
                "O(N) where N is the number of functions deleted",
            ),
        CommandSpec::new("list", Arity::AtLeast(2), function_list)
            .flags(&[Flag::NoScript])
            .acl(crate::ACL)
            .tips(&["nondeterministic_output_order"])
            .doc(
                "List information about all the functions",
                "7.0.0",
                "O(N) where N is the number of functions",
            ),
        CommandSpec::new("dump", Arity::Exact(2), function_dump)
            .flags(&[Flag::NoScript])
            .acl(crate::ACL)
            .doc(
                "Dump all functions into a serialized binary payload",
                "7.0.0",
                "O(N) where N is the number of functions",
            ),
        CommandSpec::new("restore", Arity::AtLeast(3), function_restore)
            .flags(&[Flag::NoScript, Flag::Write, Flag::DenyOom])
            .acl(crate::ACL)
            .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
            .doc(
                "Restore all the functions on the given payload",
                "7.0.0",
                "O(N) where N is the number of functions on the payload",
            ),
        CommandSpec::new("stats", Arity::Exact(2), function_stats)
            .flags(&[Flag::NoScript, Flag::AllowBusy])
            .acl(crate::ACL)
            .tips(&[
                "nondeterministic_output",
                "request_policy:all_shards",
                "response_policy:special",
            ])
            .doc(
                "Return information about the function currently running (name, description, duration)",
                "7.0.0",
                "O(1)",
            ),
        CommandSpec::new("kill", Arity::Exact(2), function_kill)
            .flags(&[Flag::NoScript, Flag::AllowBusy])
            .acl(crate::ACL)
            .tips(&["request_policy:all_shards", "response_policy:one_succeeded"])
            .doc("Kill the function currently in execution.", "7.0.0", "O(1)"),
        CommandSpec::new("help", Arity::Exact(2), function_help)
            .flags(&[Flag::Loading, Flag::Stale])
            .acl(crate::ACL)
            .doc(
                "Show helpful text about the different subcommands",
                "7.0.0",
                "O(1)",
            ),
    ],
)
.doc(
    "A container for function commands",
    "7.0.0",
    "Depends on subcommand.",
);

/// FCALL function numkeys key... arg...
pub fn fcall(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    run_function(ctx, args, false)
}

/// FCALL_RO function numkeys key... arg...
pub fn fcall_ro(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    run_function(ctx, args, true)
}

fn run_function(
    ctx: &mut CommandContext<'_>,
    args: &mut Args<'_>,
    read_only: bool,
) -> CommandResult {
    // A function propagates its effects (the write commands it ran), never itself.
    ctx.prevent_propagation();
    let name = String::from_utf8_lossy(args.next_bytes()?).into_owned();
    let state = crate::state(ctx.server);
    let Some((callback, flags)) = state
        .functions
        .function(&name)
        .map(|f| (Arc::clone(&f.callback), f.flags))
    else {
        return Err(CommandError::msg("ERR Function not found"));
    };
    let vm = Arc::clone(&state.functions.vm);
    if args
        .peek()
        .is_some_and(|n| oxidis_core::command::parse_i64(n).is_err())
    {
        return Err(CommandError::msg("ERR Bad number of keys provided"));
    }
    let (keys, argv) = split_keys(args)?;
    if let Some(refusal) = refuse_to_run(ctx.server, flags, read_only) {
        return Ok(Frame::error(refusal));
    }
    let invocation = Invocation {
        function: &callback,
        name: &name,
        eval: false,
        keys,
        args: argv,
        flags: RunFlags {
            read_only: read_only || flags.no_writes,
            allow_oom: flags.allow_oom,
            declared: true,
            obey: oxidis_core::replication::must_obey(ctx.server, ctx.client_id()),
        },
    };
    let client_id = ctx.client_id();
    crate::describe_running(ctx.server, &name, args.argv());
    oxidis_core::monitor::feed_script_call(ctx.server, client_id, args.argv());
    let reply = vm.run(ctx.server, client_id, &invocation);
    crate::publish_vm_memory(ctx.server, &vm, true);
    Ok(reply)
}

/// FUNCTION LOAD and RESTORE are deny-oom.
fn refuse_over_maxmemory(ctx: &CommandContext<'_>) -> Result<(), CommandError> {
    if crate::over_maxmemory(ctx.server) {
        return Err(CommandError::msg(
            "OOM command not allowed when used memory > 'maxmemory'.",
        ));
    }
    Ok(())
}

fn function_load(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    refuse_over_maxmemory(ctx)?;
    let mut replace = false;
    while args.remaining() > 1 {
        let arg = args.next_bytes()?;
        if arg.eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else {
            return Err(CommandError::custom(format!(
                "ERR Unknown option given: {}",
                String::from_utf8_lossy(arg)
            )));
        }
    }
    let Ok(code) = args.next_bytes().cloned() else {
        return Err(CommandError::msg("ERR Function code is missing"));
    };
    let result = crate::state(ctx.server).functions.load(&code, replace);
    crate::sync_function_codes(ctx.server);
    crate::publish(ctx.server);
    match result {
        Ok(name) => {
            ctx.changed(1);
            Ok(Frame::Bulk(Bytes::from(name)))
        }
        Err(text) => Ok(Frame::error(text)),
    }
}

fn function_delete(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let name = String::from_utf8_lossy(args.next_bytes()?).into_owned();
    if !crate::state(ctx.server).functions.remove(&name) {
        return Err(CommandError::msg("ERR Library not found"));
    }
    crate::sync_function_codes(ctx.server);
    crate::publish(ctx.server);
    ctx.changed(1);
    Ok(Frame::ok())
}

fn function_flush(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    if args.remaining() > 1 {
        let sub = String::from_utf8_lossy(&args.argv()[1]).into_owned();
        return Err(CommandError::custom(
            oxidis_core::errors::subcommand_syntax("FUNCTION", &sub),
        ));
    }
    if let Some(mode) = args.peek()
        && !mode.eq_ignore_ascii_case(b"sync")
        && !mode.eq_ignore_ascii_case(b"async")
    {
        return Err(CommandError::msg(
            oxidis_core::errors::server::FUNCTION_FLUSH_MODE,
        ));
    }
    let state = crate::state(ctx.server);
    state.functions = Registry::new();
    crate::sync_function_codes(ctx.server);
    crate::publish(ctx.server);
    ctx.changed(1);
    Ok(Frame::ok())
}

fn function_list(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let mut with_code = false;
    let mut pattern: Option<Bytes> = None;
    while let Ok(arg) = args.next_bytes() {
        if !with_code && arg.eq_ignore_ascii_case(b"withcode") {
            with_code = true;
            continue;
        }
        if pattern.is_none() && arg.eq_ignore_ascii_case(b"libraryname") {
            let Ok(p) = args.next_bytes() else {
                return Err(CommandError::msg("ERR library name argument was not given"));
            };
            pattern = Some(p.clone());
            continue;
        }
        return Err(CommandError::custom(
            format!("ERR Unknown argument {}", String::from_utf8_lossy(arg))
                .replace(['\r', '\n'], " "),
        ));
    }
    let state = crate::state(ctx.server);
    let mut reply = Vec::new();
    for library in state.functions.libraries.values() {
        if let Some(p) = &pattern
            && !oxidis_core::glob::glob_match(
                p,
                library.name.as_bytes(),
                oxidis_core::glob::Case::Sensitive,
            )
        {
            continue;
        }
        let functions = library
            .functions
            .values()
            .map(|f| {
                Frame::Map(vec![
                    (Frame::bulk("name"), Frame::bulk(&f.name)),
                    (
                        Frame::bulk("description"),
                        f.description.clone().map_or(Frame::Null, Frame::Bulk),
                    ),
                    (
                        Frame::bulk("flags"),
                        Frame::Set(
                            f.flags
                                .names()
                                .into_iter()
                                .map(Frame::simple_static)
                                .collect(),
                        ),
                    ),
                ])
            })
            .collect();
        let mut entry = vec![
            (Frame::bulk("library_name"), Frame::bulk(&library.name)),
            (Frame::bulk("engine"), Frame::bulk("LUA")),
            (Frame::bulk("functions"), Frame::Array(functions)),
        ];
        if with_code {
            entry.push((
                Frame::bulk("library_code"),
                Frame::Bulk(library.code.clone()),
            ));
        }
        reply.push(Frame::Map(entry));
    }
    Ok(Frame::Array(reply))
}

fn function_dump(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    let state = crate::state(ctx.server);
    let codes: Vec<&[u8]> = state
        .functions
        .libraries
        .values()
        .map(|l| &l.code[..])
        .collect();
    Ok(Frame::Bulk(Bytes::from(crate::dump::dump(&codes))))
}

fn function_restore(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    if args.remaining() > 2 {
        return Err(CommandError::custom(
            oxidis_core::errors::subcommand_syntax("FUNCTION", "restore"),
        ));
    }
    refuse_over_maxmemory(ctx)?;
    let payload = args.next_bytes()?.clone();
    let policy = match args.next_bytes() {
        Err(_) => Policy::Append,
        Ok(p) if p.eq_ignore_ascii_case(b"append") => Policy::Append,
        Ok(p) if p.eq_ignore_ascii_case(b"replace") => Policy::Replace,
        Ok(p) if p.eq_ignore_ascii_case(b"flush") => Policy::Flush,
        Ok(_) => {
            return Err(CommandError::msg(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            ));
        }
    };
    args.finish()?;
    let Some(codes) = crate::dump::parse(&payload) else {
        return Err(CommandError::msg(
            "ERR DUMP payload version or checksum are wrong",
        ));
    };
    let state = crate::state(ctx.server);
    // Load into a scratch registry first: a failure leaves the current libraries untouched.
    let mut scratch = Registry::new();
    for code in &codes {
        if let Err(text) = scratch.load(&Bytes::copy_from_slice(code), false) {
            return Ok(Frame::error(text));
        }
    }
    if policy == Policy::Append
        && let Some(name) = scratch.libraries.values().map(|l| &l.name).find(|n| {
            state
                .functions
                .libraries
                .contains_key(&n.to_ascii_lowercase())
        })
    {
        return Ok(Frame::error(format!("ERR Library {name} already exists")));
    }
    let mut target = Registry::new();
    if policy != Policy::Flush {
        for library in state.functions.libraries.values() {
            if policy == Policy::Replace
                && scratch
                    .libraries
                    .contains_key(&library.name.to_ascii_lowercase())
            {
                continue;
            }
            if let Err(text) = target.load(&library.code, false) {
                return Ok(Frame::error(text));
            }
        }
    }
    for code in &codes {
        if let Err(text) = target.load(&Bytes::copy_from_slice(code), false) {
            return Ok(Frame::error(text));
        }
    }
    state.functions = target;
    crate::sync_function_codes(ctx.server);
    crate::publish(ctx.server);
    ctx.changed(1);
    Ok(Frame::ok())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    Append,
    Replace,
    Flush,
}

fn function_stats(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    let state = crate::state(ctx.server);
    let libraries = state.functions.libraries.len();
    let functions = state.functions.function_count();
    Ok(Frame::Map(vec![
        (Frame::bulk("running_script"), Frame::Null),
        (
            Frame::bulk("engines"),
            Frame::Map(vec![(
                Frame::bulk("LUA"),
                Frame::Map(vec![
                    (
                        Frame::bulk("libraries_count"),
                        Frame::Integer(i64::try_from(libraries).unwrap_or(i64::MAX)),
                    ),
                    (
                        Frame::bulk("functions_count"),
                        Frame::Integer(i64::try_from(functions).unwrap_or(i64::MAX)),
                    ),
                ]),
            )]),
        ),
    ]))
}

fn function_kill(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    crate::kill_running(ctx.server, true)
}

fn function_help(_ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    Ok(crate::help_reply(
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    ))
}
