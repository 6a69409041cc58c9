//! Lua scripting for Oxidis, with Redis 7.0's semantics: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO,
//! SCRIPT, FUNCTION, FCALL and FCALL_RO.
//!
//! # Organization
//! - [`vm`]: one Lua 5.1 VM with Redis's environment and sandbox (`prelude.lua`), the error
//!   handler, and the run of one script.
//! - [`call`]: what `redis.call`/`redis.pcall` run — the script checks, then `oxidis_core::dispatch`.
//! - [`native`]: `redis.call`/`redis.pcall` themselves, C functions on the raw Lua API.
//! - [`convert`]: replies ↔ Lua values.
//! - [`eval`]: EVAL and SCRIPT, the script cache, shebang flags.
//! - [`functions`]: FUNCTION and FCALL, libraries and their registry.
//! - [`libs`]: the libraries Redis bundles (`cjson`, `cmsgpack`, `struct`, `bit`), in Rust.
//!
//! # Where the state lives
//! [`Scripting`] (the EVAL VM and cache, the function VM and libraries) is kept in the core's
//! `Server::extensions`, created on first use; handlers take what they need from it, then run
//! the script with `&mut Server` free for `redis.call`.

pub mod call;
pub mod convert;
pub mod eval;
pub mod functions;
pub mod libs;
pub(crate) mod native;
pub mod vm;

use std::sync::Arc;

use oxidis_core::command::{
    AclCategory, Arity, BeginSearch, CommandSpec, Family, FindKeys, Flag, Group, KeyFlag, KeySpec,
};
use oxidis_core::server::ScriptingInfo;
use oxidis_core::{CommandTable, RegistrationError, Server};

use crate::vm::Vm;

/// The key spec of EVAL, EVALSHA and FCALL: `numkeys key...` after the script.
const RW_KEYS: &[KeySpec] = &[KeySpec::new(
    BeginSearch::Index(2),
    FindKeys::KeyNum {
        key_num_index: 0,
        first_key: 1,
        step: 1,
    },
    &[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update],
)];

/// The key spec of the `_RO` variants.
const RO_KEYS: &[KeySpec] = &[KeySpec::new(
    BeginSearch::Index(2),
    FindKeys::KeyNum {
        key_num_index: 0,
        first_key: 1,
        step: 1,
    },
    &[KeyFlag::Ro, KeyFlag::Access],
)];

const RUN_FLAGS: &[Flag] = &[
    Flag::NoScript,
    Flag::SkipMonitor,
    Flag::MayReplicate,
    Flag::NoMandatoryKeys,
    Flag::Stale,
];
const RUN_RO_FLAGS: &[Flag] = &[
    Flag::NoScript,
    Flag::SkipMonitor,
    Flag::NoMandatoryKeys,
    Flag::Stale,
    Flag::ReadOnly,
];

/// The scripting commands.
pub static FAMILY: Family = Family {
    group: Group::Scripting,
    commands: &[
        CommandSpec::new("eval", Arity::AtLeast(3), eval::eval)
            .flags(RUN_FLAGS)
            .flags_fn(eval_flags)
            .keys(RW_KEYS)
            .key_finder(oxidis_core::command::keys::counted_keys_at_2)
            .doc(
                "Execute a Lua script server side",
                "2.6.0",
                "Depends on the script that is executed.",
            ),
        CommandSpec::new("evalsha", Arity::AtLeast(3), eval::evalsha)
            .flags(RUN_FLAGS)
            .flags_fn(evalsha_flags)
            .keys(RW_KEYS)
            .key_finder(oxidis_core::command::keys::counted_keys_at_2)
            .doc(
                "Execute a Lua script server side",
                "2.6.0",
                "Depends on the script that is executed.",
            ),
        CommandSpec::new("eval_ro", Arity::AtLeast(3), eval::eval_ro)
            .flags(RUN_RO_FLAGS)
            .flags_fn(eval_flags)
            .keys(RO_KEYS)
            .key_finder(oxidis_core::command::keys::counted_keys_at_2)
            .doc(
                "Execute a read-only Lua script server side",
                "7.0.0",
                "Depends on the script that is executed.",
            ),
        CommandSpec::new("evalsha_ro", Arity::AtLeast(3), eval::evalsha_ro)
            .flags(RUN_RO_FLAGS)
            .flags_fn(evalsha_flags)
            .keys(RO_KEYS)
            .key_finder(oxidis_core::command::keys::counted_keys_at_2)
            .doc(
                "Execute a read-only Lua script server side",
                "7.0.0",
                "Depends on the script that is executed.",
            ),
        CommandSpec::new("fcall", Arity::AtLeast(3), functions::fcall)
            .flags(RUN_FLAGS)
            .flags_fn(fcall_flags)
            .keys(RW_KEYS)
            .key_finder(oxidis_core::command::keys::counted_keys_at_2)
            .doc(
                "Invoke a function",
                "7.0.0",
                "Depends on the function that is executed.",
            ),
        CommandSpec::new("fcall_ro", Arity::AtLeast(3), functions::fcall_ro)
            .flags(RUN_RO_FLAGS)
            .flags_fn(fcall_flags)
            .keys(RO_KEYS)
            .key_finder(oxidis_core::command::keys::counted_keys_at_2)
            .doc(
                "Invoke a read-only function",
                "7.0.0",
                "Depends on the function that is executed.",
            ),
        eval::SCRIPT,
        functions::FUNCTION,
    ],
};

/// Redis's `scriptFlagsToCmdFlags`: a script that declared flags replaces the command's
/// write, deny-oom and stale flags with its own, and is no longer "may replicate".
fn declared_to_command_flags(command_flags: u32, script: eval::ScriptFlags) -> u32 {
    if script.compat {
        return command_flags;
    }
    let mut flags = command_flags & !(Flag::Stale.bit() | Flag::DenyOom.bit() | Flag::Write.bit());
    if !script.allow_oom && !script.no_writes {
        flags |= Flag::DenyOom.bit();
    }
    if !script.no_writes {
        flags |= Flag::Write.bit();
    }
    if script.allow_stale {
        flags |= Flag::Stale.bit();
    }
    flags & !Flag::MayReplicate.bit()
}

/// EVAL's flags: from the body's shebang.
fn eval_flags(_server: &Server, argv: &[bytes::Bytes], flags: u32) -> u32 {
    match argv.get(1).map(|body| eval::parse_shebang(body)) {
        Some(Ok((script, _))) => declared_to_command_flags(flags, script),
        _ => flags,
    }
}

/// EVALSHA's flags: from the cached script's shebang.
fn evalsha_flags(server: &Server, argv: &[bytes::Bytes], flags: u32) -> u32 {
    let script = argv.get(1).and_then(|sha| {
        let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
        server
            .extensions
            .get::<Scripting>()?
            .scripts
            .get(&sha)
            .map(|s| s.flags)
    });
    script.map_or(flags, |s| declared_to_command_flags(flags, s))
}

/// FCALL's flags: from the function's registration.
fn fcall_flags(server: &Server, argv: &[bytes::Bytes], flags: u32) -> u32 {
    let script = argv.get(1).and_then(|name| {
        let name = String::from_utf8_lossy(name);
        server
            .extensions
            .get::<Scripting>()?
            .functions
            .function(&name)
            .map(|f| f.flags)
    });
    script.map_or(flags, |s| declared_to_command_flags(flags, s))
}

/// Registers the scripting commands.
///
/// # Errors
/// A name clash with a command registered earlier.
pub fn register(table: &mut CommandTable) -> Result<(), RegistrationError> {
    table.register_family(&FAMILY)
}

/// The scripting state of one server.
pub struct Scripting {
    /// The VM EVAL scripts run in (replaced by SCRIPT FLUSH).
    pub eval_vm: Arc<Vm>,
    /// The script cache: sha1 → script.
    pub scripts: std::collections::HashMap<String, eval::Script, foldhash::fast::RandomState>,
    /// Bytes of script bodies and their sha keys (`used_memory_scripts_eval`).
    pub scripts_memory: usize,
    /// The libraries of functions, and their VM.
    pub functions: functions::Registry,
    /// The library codes last exchanged with persistence (`persistence_state.function_code`).
    synced_codes: Vec<Vec<u8>>,
}

impl Scripting {
    fn new() -> Scripting {
        Scripting {
            eval_vm: Arc::new(new_vm()),
            scripts: std::collections::HashMap::default(),
            scripts_memory: 0,
            functions: functions::Registry::new(),
            synced_codes: Vec::new(),
        }
    }

    /// Refreshes the numbers INFO shows.
    pub fn publish_info(&self, server_info: &mut ScriptingInfo) {
        server_info.used_memory_lua = self.eval_vm.used_memory();
        server_info.used_memory_scripts_eval = self.scripts_memory;
        server_info.number_of_cached_scripts = self.scripts.len();
        server_info.number_of_functions = self.functions.function_count();
        server_info.number_of_libraries = self.functions.libraries.len();
        server_info.used_memory_vm_functions = self.functions.vm.used_memory();
        server_info.used_memory_functions = self.functions.memory();
    }
}

/// A fresh VM; building one only fails when memory is exhausted, which aborts like any
/// allocation failure.
fn new_vm() -> Vm {
    Vm::new().expect("a fresh Lua VM builds its environment")
}

/// The server's scripting state, created on first use.
///
/// Function libraries are part of the dataset: persistence reads and writes their codes in
/// `persistence_state.function_code`. When a load (startup, DEBUG RELOAD) changed them, the
/// libraries it brought are loaded here first, replacing those of the same name.
pub fn state(server: &mut Server) -> &mut Scripting {
    let changed = match server.extensions.get::<Scripting>() {
        Some(state) => state.synced_codes != server.persistence_state.function_code,
        None => !server.persistence_state.function_code.is_empty(),
    };
    if changed {
        adopt_loaded_libraries(server);
    }
    server.extensions.get_or_insert_with(Scripting::new)
}

/// Loads the libraries a persistence load left in `persistence_state.function_code`.
fn adopt_loaded_libraries(server: &mut Server) {
    let codes = server.persistence_state.function_code.clone();
    let state = server.extensions.get_or_insert_with(Scripting::new);
    for code in &codes {
        let already = state
            .functions
            .libraries
            .values()
            .any(|l| l.code[..] == code[..]);
        if !already
            && let Err(text) = state
                .functions
                .load(&bytes::Bytes::copy_from_slice(code), true)
        {
            tracing::warn!("function library from the RDB file failed to load: {text}");
        }
    }
    sync_function_codes(server);
}

/// Hands the current library codes to persistence (SAVE writes them as FUNCTION2 records).
pub fn sync_function_codes(server: &mut Server) {
    // A function of the same name may now be another one: forget which ran briefly.
    if let Ok(mut fast) = server.script_busy.fast.lock() {
        fast.clear();
    }
    let Some(state) = server.extensions.get_mut::<Scripting>() else {
        return;
    };
    let codes: Vec<Vec<u8>> = state
        .functions
        .libraries
        .values()
        .map(|l| l.code.to_vec())
        .collect();
    state.synced_codes.clone_from(&codes);
    server.persistence_state.function_code = codes;
}

/// Records what FUNCTION STATS shows about the script about to run (in place: a run must not
/// pay for allocations here).
fn describe_running(server: &mut Server, name: &str, command: &[bytes::Bytes]) {
    let (libraries, functions) = match server.extensions.get::<Scripting>() {
        Some(state) => (
            state.functions.libraries.len(),
            state.functions.function_count(),
        ),
        None => (0, 0),
    };
    if let Ok(mut details) = server.script_busy.details.lock() {
        details.name.clear();
        details.name.push_str(name);
        details.command.clear();
        details.command.extend_from_slice(command);
        details.libraries = libraries;
        details.functions = functions;
    }
}

/// Stores the INFO numbers after a change.
pub fn publish(server: &mut Server) {
    let mut info = ScriptingInfo::default();
    state(server).publish_info(&mut info);
    server.extensions.insert(info);
}

/// After a run, the one INFO number a script changes: the memory of its VM (`functions`: the
/// function VM, else the EVAL VM).
fn publish_vm_memory(server: &mut Server, vm: &Vm, functions: bool) {
    match server.extensions.get_mut::<ScriptingInfo>() {
        Some(info) if functions => info.used_memory_vm_functions = vm.used_memory(),
        Some(info) => info.used_memory_lua = vm.used_memory(),
        None => publish(server),
    }
}

/// Whether `used_memory` is over `maxmemory` (for deny-oom commands in scripts).
pub fn over_maxmemory(server: &Server) -> bool {
    let limit = server.config.maxmemory;
    limit > 0 && resident_bytes() > limit
}

/// 40 lower-case hex digits of the SHA-1 of `data`.
pub fn sha1_hex(data: &[u8]) -> String {
    sha1_smol::Sha1::from(data).digest().to_string()
}

/// The ACL category every scripting command has.
pub const ACL: &[AclCategory] = &[AclCategory::Scripting];

/// The process's resident set size in bytes (Linux `/proc/self/statm`), 0 when unknown.
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

pub mod dump;

/// Answers SCRIPT KILL / FUNCTION KILL when it reaches the command table, which happens only
/// when no script is running (a running script holds the keyspace; see `busy` for the path a
/// KILL takes then).
fn kill_running(_server: &mut Server, _function: bool) -> oxidis_core::command::CommandResult {
    Err(oxidis_core::CommandError::msg(
        "NOTBUSY No scripts in execution right now.",
    ))
}

/// The reply of a `<CONTAINER> HELP` subcommand, laid out as Redis's `addReplyHelp`.
fn help_reply(container: &str, lines: &[&str]) -> oxidis_protocol::Frame {
    use oxidis_protocol::Frame;
    let mut reply = Vec::with_capacity(lines.len() + 3);
    reply.push(Frame::Simple(bytes::Bytes::from(format!(
        "{container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ))));
    reply.extend(
        lines
            .iter()
            .map(|l| Frame::Simple(bytes::Bytes::copy_from_slice(l.as_bytes()))),
    );
    reply.push(Frame::simple_static("HELP"));
    reply.push(Frame::simple_static("    Prints this help."));
    Frame::Array(reply)
}

#[cfg(test)]
mod tests;

/// The code of every function library, for persistence (RDB `FUNCTION2` records, AOF): each is
/// what FUNCTION LOAD takes.
pub fn library_codes(server: &mut Server) -> Vec<bytes::Bytes> {
    state(server)
        .functions
        .libraries
        .values()
        .map(|l| l.code.clone())
        .collect()
}

/// Loads one library from persistence (replacing one of the same name).
///
/// # Errors
/// Redis's error text when the code does not load.
pub fn load_library(server: &mut Server, code: &bytes::Bytes) -> Result<String, String> {
    let result = state(server).functions.load(code, true);
    sync_function_codes(server);
    publish(server);
    result
}
