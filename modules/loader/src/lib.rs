//! Module plugins: `MODULE LOAD/LOADEX/UNLOAD/LIST/HELP`, `loadmodule` at startup, the INFO
//! `modules` lines, and the server side of the module ABI (`oxidis-module-api`).
//!
//! Loading a module, in order: the library is opened; its `OXIDIS_MODULE_ABI_VERSION` symbol
//! (plain data) is read and checked against [`oxidis_module_api::ABI_VERSION`] (same major, minor
//! not newer) before any module code runs; `abi_stable` checks the layout of the root module and
//! every type reachable from it (against the frozen API crate of the module's minor when it is
//! older than the server's: see `init_root_module`); then the module's init function registers
//! its commands through
//! the same [`CommandTable::register`] as built-ins, each dispatching through a per-name
//! [`host::Trampoline`]. MODULE UNLOAD unregisters them; the library stays mapped (abi_stable
//! never unloads a library) and loading it again reuses the mapping and the command entries, so
//! load/unload cycles do not grow memory.

mod host;
mod intern;
mod types;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use oxidis_core::command::{
    AclCategory, Arg, Args, Arity, BeginSearch, CommandResult, CommandSpec, DynamicHandler, Family,
    FindKeys, Flag, Group, Handler, KeyFlag, KeySpec,
};
use oxidis_core::config::ProtectedAccess;
use oxidis_core::{CommandContext, CommandError, CommandTable, RegistrationError, Server};
use oxidis_module_api::abi::{
    CommandDesc, CommandHandler_TO, ConfigDesc, ConfigHook_TO, KeyspaceHook_TO, ModuleRootRef,
    Registrar, Registrar_TO, ServerHook_TO, TypeObj_TO,
};
use oxidis_module_api::abi_stable::library::{
    LibHeader, LibraryError, RawLibrary, lib_header_from_path,
};
use oxidis_module_api::abi_stable::sabi_trait::TD_Opaque;
use oxidis_module_api::abi_stable::sabi_types::RMut;
use oxidis_module_api::abi_stable::std_types::{
    RBox, RErr, ROk, ROption, RResult, RSlice, RStr, RString, RVec,
};
use oxidis_module_api::{ABI_VERSION, ABI_VERSION_SYMBOL, AbiVersion};
use oxidis_protocol::Frame;
use tracing::{info, warn};

use host::Trampoline;

/// `MODULE` and its subcommands.
pub static FAMILY: Family = Family {
    group: Group::Server,
    commands: &[CommandSpec::container("module", SUBCOMMANDS).doc(
        "A container for module commands",
        "4.0.0",
        "Depends on subcommand.",
    )],
};

const ADMIN: &[Flag] = &[
    Flag::NoAsyncLoading,
    Flag::Admin,
    Flag::NoScript,
    Flag::Protected,
];

static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("help", Arity::Exact(2), module_help)
        .flags(&[Flag::Loading, Flag::Stale])
        .doc(
            "Show helpful text about the different subcommands",
            "5.0.0",
            "O(1)",
        ),
    CommandSpec::new("list", Arity::Exact(2), module_list)
        .flags(&[Flag::Admin, Flag::NoScript])
        .doc(
            "List all modules loaded by the server",
            "4.0.0",
            "O(N) where N is the number of loaded modules.",
        ),
    CommandSpec::new("load", Arity::AtLeast(3), module_load)
        .flags(ADMIN)
        .doc("Load a module", "4.0.0", "O(1)")
        .args(&[
            Arg::string("path"),
            Arg::string("arg").optional().multiple(),
        ]),
    CommandSpec::new("loadex", Arity::AtLeast(3), module_loadex)
        .flags(ADMIN)
        .doc("Load a module with extended parameters", "7.0.0", "O(1)")
        .args(&[
            Arg::string("path"),
            Arg::block("configs", &[Arg::string("name"), Arg::string("value")])
                .with_token("CONFIG")
                .optional()
                .multiple_token(),
            Arg::block("args", &[Arg::string("arg")])
                .with_token("ARGS")
                .optional()
                .multiple(),
        ]),
    CommandSpec::new("unload", Arity::Exact(3), module_unload)
        .flags(ADMIN)
        .doc("Unload a module", "4.0.0", "O(1)")
        .args(&[Arg::string("name")]),
];

/// Redis's reply when a module cannot be loaded (the reason goes to the log).
pub const LOAD_FAILED: &str = "ERR Error loading the extension. Please check the server logs.";
/// MODULE commands refused by `enable-module-command`.
pub const MODULE_DISABLED: &str = "ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

/// Adds `MODULE` to the table.
///
/// # Errors
/// A name clash.
pub fn register(table: &mut CommandTable) -> Result<(), RegistrationError> {
    table.register_family(&FAMILY)
}

pub use oxidis_core::modules::LoadedModule;

/// The INFO `modules` section's lines, as Redis prints them.
pub fn info_lines(server: &Server) -> Vec<String> {
    server
        .modules
        .loaded
        .iter()
        .map(|m| {
            format!(
                "module:name={},ver={},api=1,filters=0,usedby=[],using=[],options=[]",
                m.name, m.version
            )
        })
        .collect()
}

/// Loads the `loadmodule` directives of the configuration, before the server accepts clients.
///
/// # Errors
/// A module failed to load (logged): Redis exits then.
pub fn load_at_startup(server: &mut Server) -> Result<(), String> {
    let directives = server.config.load_modules.clone();
    for directive in directives {
        let Some((path, args)) = directive.split_first() else {
            continue;
        };
        let args: Vec<Bytes> = args.iter().map(|a| Bytes::from(a.clone())).collect();
        if let Err(reason) = load(server, path, args) {
            warn!("Module {path} failed to load: {reason}");
            return Err(format!("Can't load module from {path}: server aborting"));
        }
    }
    Ok(())
}

// Handlers, in table order.

fn module_help(_ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    let lines = [
        "LIST",
        "    Return a list of loaded modules.",
        "LOAD <path> [<arg> ...]",
        "    Load a module library from <path>, passing to it any optional arguments.",
        "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
        "    Load a module library from <path>, while passing it module configurations and optional arguments.",
        "UNLOAD <name>",
        "    Unload a module.",
    ];
    let mut reply = Vec::with_capacity(lines.len() + 3);
    reply.push(Frame::simple_static(
        "MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    ));
    reply.extend(lines.iter().map(|l| Frame::simple_static(l)));
    reply.push(Frame::simple_static("HELP"));
    reply.push(Frame::simple_static("    Prints this help."));
    Ok(Frame::Array(reply))
}

fn module_list(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    Ok(ctx.server.modules.list_reply())
}

fn module_load(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    check_access(ctx)?;
    let path = String::from_utf8_lossy(args.next_bytes()?).into_owned();
    let module_args = args.rest().to_vec();
    load_reply(ctx, &path, module_args)
}

fn module_loadex(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    check_access(ctx)?;
    let path = String::from_utf8_lossy(args.next_bytes()?).into_owned();
    // [CONFIG name value]... [ARGS arg...]
    let mut configs = Vec::new();
    let mut module_args = Vec::new();
    while let Some(word) = args.peek() {
        if word.eq_ignore_ascii_case(b"CONFIG") && args.remaining() >= 3 {
            args.next_bytes()?;
            let name = String::from_utf8_lossy(args.next_bytes()?).into_owned();
            configs.push((name, args.next_bytes()?.clone()));
        } else if word.eq_ignore_ascii_case(b"ARGS") {
            args.next_bytes()?;
            module_args = args.rest().to_vec();
        } else {
            return Err(CommandError::msg(LOAD_FAILED));
        }
    }
    match load_with_configs(ctx.server, &path, module_args, &configs) {
        Ok(()) => Ok(Frame::ok()),
        Err(reason) => load_failed(&path, reason),
    }
}

fn module_unload(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    check_access(ctx)?;
    let name = String::from_utf8_lossy(args.next_bytes()?).into_owned();
    match unload(ctx.server, &name) {
        Ok(()) => Ok(Frame::ok()),
        Err(e) => Err(CommandError::msg(e.reply())),
    }
}

// Helpers.

fn check_access(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let allowed = match ctx.config().enable_module_command {
        ProtectedAccess::Yes => true,
        ProtectedAccess::No => false,
        ProtectedAccess::Local => ctx.client().peer.is_local(),
    };
    if allowed {
        Ok(())
    } else {
        Err(CommandError::msg(MODULE_DISABLED))
    }
}

fn load_reply(ctx: &mut CommandContext<'_>, path: &str, args: Vec<Bytes>) -> CommandResult {
    match load(ctx.server, path, args) {
        Ok(()) => Ok(Frame::ok()),
        Err(reason) => load_failed(path, reason),
    }
}

fn load_failed(path: &str, reason: LoadError) -> CommandResult {
    match reason {
        LoadError::Abi(reason) => {
            warn!("Module {path} failed to load: {reason}");
            Err(CommandError::custom(format!(
                "ERR Error loading the extension: {reason}"
            )))
        }
        reason => {
            warn!("Module {path} failed to load: {reason}");
            Err(CommandError::msg(LOAD_FAILED))
        }
    }
}

/// Why a module was not loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The library could not be opened or is not an Oxidis module.
    Open(String),
    /// Built for an ABI this server does not support.
    Abi(String),
    /// Its init function refused, or a command could not be registered.
    Init(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Open(s) | LoadError::Abi(s) => f.write_str(s),
            LoadError::Init(s) => write!(f, "initialization failed ({s}). Module not loaded"),
        }
    }
}

/// Loads the module at `path` with `args`, registering its commands.
///
/// # Errors
/// See [`LoadError`]; nothing is left registered.
pub fn load(server: &mut Server, path: &str, args: Vec<Bytes>) -> Result<(), LoadError> {
    load_with_configs(server, path, args, &[])
}

/// [`load`], then sets the module's configuration parameters `configs` (MODULE LOADEX
/// CONFIG); a refused value unloads the module again.
///
/// # Errors
/// As [`load`], or [`LoadError::Init`] for a refused parameter.
pub fn load_with_configs(
    server: &mut Server,
    path: &str,
    args: Vec<Bytes>,
    configs: &[(String, Bytes)],
) -> Result<(), LoadError> {
    let name = load_module(server, path, args)?;
    for (param, value) in configs {
        if let Err(reason) = server.modules.configs.set_from_text(param, value) {
            warn!(
                "Loadex configurations were not applied, likely due to invalid arguments. Unloading the module."
            );
            let _ = unload(server, &name);
            return Err(LoadError::Init(format!("config '{param}': {reason}")));
        }
    }
    Ok(())
}

fn load_module(server: &mut Server, path: &str, args: Vec<Bytes>) -> Result<String, LoadError> {
    let module_abi = read_abi_version(Path::new(path))?;
    if !ABI_VERSION.accepts(module_abi) {
        return Err(LoadError::Abi(format!(
            "module ABI version {module_abi} is not supported by this server (module ABI {ABI_VERSION}: same major, minor up to {})",
            ABI_VERSION.minor
        )));
    }
    let header =
        lib_header_from_path(Path::new(path)).map_err(|e| LoadError::Open(e.to_string()))?;
    let root = init_root_module(header, module_abi).map_err(|e| LoadError::Open(e.to_string()))?;
    let declared = root.abi();
    if !ABI_VERSION.accepts(declared) {
        return Err(LoadError::Abi(format!(
            "module ABI version {declared} is not supported by this server (module ABI {ABI_VERSION})"
        )));
    }
    let name = root.name().as_str().to_string();
    if server
        .modules
        .loaded
        .iter()
        .any(|l| l.name.eq_ignore_ascii_case(&name))
    {
        return Err(LoadError::Init(format!(
            "a module named '{name}' is already loaded"
        )));
    }
    let init = (root.init())();
    let string_args: Vec<RString> = args
        .iter()
        .map(|a| RString::from(String::from_utf8_lossy(a).into_owned()))
        .collect();
    let mut registrar = ServerRegistrar {
        server,
        owner: &name,
        commands: Vec::new(),
    };
    let outcome = init.on_load(
        Registrar_TO::from_ptr(RMut::new(&mut registrar), TD_Opaque),
        RSlice::from_slice(&string_args),
    );
    let commands = std::mem::take(&mut registrar.commands);
    if let RErr(reason) = outcome {
        for command in &commands {
            unregister_command(&mut server.table, command);
        }
        // Types without values, subscriptions and configs of the refused module.
        let _ = oxidis_core::modules::forget_owner(server, &name);
        return Err(LoadError::Init(reason.into_string()));
    }
    info!("Module '{name}' loaded from {path}");
    server.modules.loaded.push(LoadedModule {
        name: name.clone(),
        version: root.version(),
        path: path.to_string(),
        args,
        commands,
    });
    Ok(name)
}

/// Why a module was not unloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnloadError {
    /// No module has that name.
    NoSuchModule,
    /// Values of its data types exist.
    TypesInUse,
    /// Clients it blocked are not answered yet.
    BlockedClients,
}

impl UnloadError {
    /// Redis's reply text.
    pub fn reply(self) -> &'static str {
        match self {
            UnloadError::NoSuchModule => {
                "ERR Error unloading module: no such module with that name"
            }
            UnloadError::TypesInUse => {
                "ERR Error unloading module: the module exports one or more module-side data types, can't unload"
            }
            UnloadError::BlockedClients => {
                "ERR Error unloading module: the module has blocked clients. Please wait them unblocked and try again"
            }
        }
    }
}

/// Unloads the module named `name`: its commands, data types, subscriptions and configs.
///
/// # Errors
/// See [`UnloadError`]; nothing changes then.
pub fn unload(server: &mut Server, name: &str) -> Result<(), UnloadError> {
    // Module names compare case-insensitively, as in Redis.
    let Some(index) = server
        .modules
        .loaded
        .iter()
        .position(|m| m.name.eq_ignore_ascii_case(name))
    else {
        return Err(UnloadError::NoSuchModule);
    };
    // Everything below is keyed by the module's own spelling of its name.
    let name = server.modules.loaded[index].name.clone();
    if host::blocked_clients(&name).load(std::sync::atomic::Ordering::SeqCst) > 0 {
        return Err(UnloadError::BlockedClients);
    }
    if oxidis_core::modules::forget_owner(server, &name).is_err() {
        return Err(UnloadError::TypesInUse);
    }
    let module = server.modules.loaded.remove(index);
    for command in &module.commands {
        unregister_command(&mut server.table, command);
    }
    info!("Module {name} unloaded");
    Ok(())
}

fn unregister_command(table: &mut CommandTable, name: &str) {
    table.unregister(name);
    let _ = trampoline(name).0.set(None);
}

/// The module's root, its layout checked by `abi_stable` against the API version it declares.
///
/// `abi_stable` accepts a prefix type (a vtable, the root module) only when the library's has
/// at least the host's fields: a module built for an older minor, whose vtables end where that
/// minor's did, fails the check against the current types. So such a module is checked against
/// its own minor's API crate, kept frozen as released (`modules/api-1.0`), then used through
/// the current types: within a major, prefix types only grow at the end, and each instance
/// carries its own field count, so the server never calls a method the module's vtables lack
/// (the ones added to module-implemented traits have defaults).
#[allow(unsafe_code)]
fn init_root_module(
    header: &'static LibHeader,
    declared: AbiVersion,
) -> Result<ModuleRootRef, LibraryError> {
    match declared.minor {
        0 if ABI_VERSION.minor > 0 => {
            header.ensure_layout::<oxidis_module_api_1_0::abi::ModuleRootRef>()?;
            // SAFETY: the layout was checked just above against API 1.0's root module, of
            // which the current one is an extension by appended prefix fields only (the 1.x
            // promise in modules/api/README.md; `a_module_built_for_api_1_0_loads_and_runs`
            // in server/tests/modules loads such a module).
            unsafe { header.init_root_module_with_unchecked_layout::<ModuleRootRef>() }
        }
        _ => header.init_root_module::<ModuleRootRef>(),
    }
}

/// Reads the module's ABI version symbol: plain data, so no module code runs.
#[allow(unsafe_code)]
fn read_abi_version(path: &Path) -> Result<AbiVersion, LoadError> {
    let library = RawLibrary::load_at(path).map_err(|e| match e {
        // The dlopen error alone, as Redis logs `dlerror()`.
        LibraryError::OpenError { err, .. } => LoadError::Open(err.to_string()),
        other => LoadError::Open(other.to_string()),
    })?;
    // SAFETY: `declare_module!` exports this symbol as a `static AbiVersion` (two `u32`s in a
    // `#[repr(C)]` struct), so the symbol's address points at one; a library without it is
    // refused. Reading it runs no module code.
    let version = unsafe { library.get::<*const AbiVersion>(ABI_VERSION_SYMBOL) }
        .map(|symbol| unsafe { std::ptr::read(*symbol) })
        .map_err(|_| {
            LoadError::Open(
                "it does not export the OXIDIS_MODULE_ABI_VERSION symbol (not an Oxidis module)"
                    .to_string(),
            )
        })?;
    Ok(version)
}

/// The per-name trampoline and the handler registered for it, made once per command name.
fn trampoline(name: &str) -> (&'static Trampoline, &'static DynamicHandler) {
    static TRAMPOLINES: Mutex<
        Option<HashMap<String, (&'static Trampoline, &'static DynamicHandler)>>,
    > = Mutex::new(None);
    let mut guard = TRAMPOLINES.lock().unwrap_or_else(|e| e.into_inner());
    let map = guard.get_or_insert_with(HashMap::new);
    *map.entry(name.to_string()).or_insert_with(|| {
        let trampoline: &'static Trampoline = Box::leak(Box::new(Trampoline::default()));
        let handler: &'static DynamicHandler = Box::leak(Box::new(
            move |ctx: &mut CommandContext<'_>, args: &mut Args<'_>| trampoline.run(ctx, args),
        ));
        (trampoline, handler)
    })
}

/// The registrar a module's init function talks to.
struct ServerRegistrar<'s> {
    server: &'s mut Server,
    owner: &'s str,
    commands: Vec<String>,
}

impl Registrar for ServerRegistrar<'_> {
    fn create_command(
        &mut self,
        desc: CommandDesc,
        handler: CommandHandler_TO<RBox<()>>,
    ) -> RResult<(), RString> {
        match self.create(desc, handler) {
            Ok(()) => ROk(()),
            Err(text) => RErr(text.into()),
        }
    }

    fn log(&self, level: u32, message: RStr<'_>) {
        host::log(level, message.as_str());
    }

    fn create_data_type(
        &mut self,
        name: RStr<'_>,
        encver: u32,
        methods: TypeObj_TO<RBox<()>>,
    ) -> RResult<u64, RString> {
        match self.server.modules.types.register(
            self.owner,
            name.as_str(),
            encver,
            Box::new(types::ForeignType(methods)),
        ) {
            Ok(ty) => ROk(ty.id()),
            Err(e) => RErr(format!("ERR data type '{name}': {e}").into()),
        }
    }

    fn subscribe_server_event(
        &mut self,
        kind: u32,
        hook: ServerHook_TO<RBox<()>>,
    ) -> RResult<(), RString> {
        self.subscribe_server(kind, hook)
            .map_err(RString::from)
            .into()
    }

    fn register_config(
        &mut self,
        name: RStr<'_>,
        desc: ConfigDesc,
        hook: ROption<ConfigHook_TO<RBox<()>>>,
    ) -> RResult<(), RString> {
        self.config(name.as_str(), desc, hook.into_option())
            .map_err(RString::from)
            .into()
    }

    fn subscribe_keyspace(&mut self, classes: u32, hook: KeyspaceHook_TO<RBox<()>>) {
        oxidis_core::modules::events::subscribe_keyspace(
            self.server,
            self.owner,
            classes,
            Box::new(move |_server, event| {
                hook.on_event(
                    event.class,
                    RStr::from_str(event.name),
                    u32::try_from(event.db).unwrap_or(u32::MAX),
                    RSlice::from_slice(&event.key),
                );
            }),
        );
    }
}

impl ServerRegistrar<'_> {
    fn subscribe_server(&mut self, kind: u32, hook: ServerHook_TO<RBox<()>>) -> Result<(), String> {
        use oxidis_core::modules::events::{LoadSource, Phase, subscribe_server_event};
        use oxidis_core::modules::{ServerEvent, ServerEventKind};
        use oxidis_module_api::server_event as k;
        let kind = match kind {
            k::FLUSH => ServerEventKind::Flush,
            k::LOADING => ServerEventKind::Loading,
            k::CLIENT_CHANGE => ServerEventKind::ClientChange,
            k::SHUTDOWN => ServerEventKind::Shutdown,
            k::CRON_TICK => ServerEventKind::CronTick,
            other => return Err(format!("ERR unknown server event kind {other}")),
        };
        let code = |kind: ServerEventKind| match kind {
            ServerEventKind::Flush => k::FLUSH,
            ServerEventKind::Loading => k::LOADING,
            ServerEventKind::ClientChange => k::CLIENT_CHANGE,
            ServerEventKind::Shutdown => k::SHUTDOWN,
            ServerEventKind::CronTick => k::CRON_TICK,
        };
        let source = |s: &LoadSource| match s {
            LoadSource::Rdb => "rdb",
            LoadSource::Aof => "aof",
            LoadSource::Replication => "replication",
        };
        subscribe_server_event(
            self.server,
            self.owner,
            kind,
            Box::new(move |_server, event| {
                let detail = match event {
                    ServerEvent::Flush { phase, db } => format!(
                        "{} {}",
                        db.map_or_else(|| "flushall".to_string(), |d| format!("flushdb {d}")),
                        if *phase == Phase::Start {
                            "start"
                        } else {
                            "end"
                        }
                    ),
                    ServerEvent::LoadingStart(s) => format!("start {}", source(s)),
                    ServerEvent::LoadingEnd { source: s, ok } => {
                        format!("end {} {}", source(s), if *ok { "ok" } else { "failed" })
                    }
                    ServerEvent::ClientConnected(id) => format!("connected {id}"),
                    ServerEvent::ClientDisconnected(id) => format!("disconnected {id}"),
                    ServerEvent::Shutdown => "shutdown".to_string(),
                    ServerEvent::CronTick { hz, cycle } => format!("cron {hz} {cycle}"),
                };
                hook.on_event(code(event.kind()), RStr::from_str(&detail));
            }),
        );
        Ok(())
    }

    fn config(
        &mut self,
        name: &str,
        desc: ConfigDesc,
        hook: Option<ConfigHook_TO<RBox<()>>>,
    ) -> Result<(), String> {
        use oxidis_core::modules::{ConfigKind, ConfigSpec, ConfigValue};
        let kind = match desc {
            ConfigDesc::Bool(default) => ConfigKind::Bool { default },
            ConfigDesc::Numeric(default, min, max) => ConfigKind::Numeric { default, min, max },
            ConfigDesc::String(default) => ConfigKind::String {
                default: default.into_option().map(RVec::into_vec),
            },
        };
        let on_set = hook.map(|hook| {
            Box::new(move |name: &str, value: &ConfigValue| {
                let text = match value {
                    ConfigValue::Bool(b) => if *b { "yes" } else { "no" }.as_bytes().to_vec(),
                    ConfigValue::Numeric(n) => n.to_string().into_bytes(),
                    ConfigValue::String(s) => s.clone().unwrap_or_default(),
                    ConfigValue::Enum(n) => n.to_string().into_bytes(),
                };
                match hook.on_set(RStr::from_str(name), RSlice::from_slice(&text)) {
                    ROk(()) => Ok(()),
                    RErr(reason) => Err(reason.into_string()),
                }
            }) as oxidis_core::modules::config::OnSet
        });
        self.server
            .modules
            .configs
            .register(ConfigSpec {
                module: self.owner.to_string(),
                name: name.to_string(),
                kind,
                flags: 0,
                on_set,
                on_apply: None,
            })
            .map(drop)
            .map_err(|e| format!("ERR config '{name}': {e}"))
    }

    fn create(
        &mut self,
        desc: CommandDesc,
        handler: CommandHandler_TO<RBox<()>>,
    ) -> Result<(), String> {
        let name = desc.name.as_str().to_ascii_lowercase();
        if self.server.table.get(name.as_bytes()).is_some() {
            return Err(format!("ERR command '{name}' already exists"));
        }
        let arity = if desc.arity >= 0 {
            Arity::Exact(u16::try_from(desc.arity).map_err(|_| "ERR invalid arity")?)
        } else {
            Arity::AtLeast(u16::try_from(-i64::from(desc.arity)).map_err(|_| "ERR invalid arity")?)
        };
        let mut flags = Flag::Module.bit();
        for word in desc.flags.as_str().split_whitespace() {
            flags |=
                command_flag(word).ok_or_else(|| format!("ERR invalid command flag '{word}'"))?;
        }
        let mut acl = 0;
        for word in desc.acl_categories.as_str().split_whitespace() {
            let word = word.trim_start_matches('@');
            let category = AclCategory::ALL
                .iter()
                .find(|c| c.name().eq_ignore_ascii_case(word))
                .ok_or_else(|| format!("ERR invalid ACL category '{word}'"))?;
            acl |= category.bit();
        }
        let key_specs = key_specs(&desc)?;
        let (trampoline, dynamic) = trampoline(&name);
        let name: &'static str = intern::str(&name);
        let mut spec = CommandSpec::with_handler(name, arity, Handler::Dynamic(dynamic));
        spec.flags = flags;
        spec.acl_extra = acl;
        spec.key_specs = key_specs;
        spec.group = Group::Module;
        spec.docs.summary = intern::str(desc.summary.as_str());
        spec.docs.since = intern::str(desc.since.as_str());
        spec.docs.complexity = intern::str(desc.complexity.as_str());
        if !trampoline.set(Some((Arc::new(handler), self.owner))) {
            return Err(format!("ERR command '{name}' is running"));
        }
        if let Err(e) = self.server.table.register(spec) {
            let _ = trampoline.set(None);
            return Err(format!("ERR {e}"));
        }
        self.commands.push(name.to_string());
        Ok(())
    }
}

/// A module command flag (RedisModule_CreateCommand's words) as [`Flag`] bits.
fn command_flag(word: &str) -> Option<u32> {
    let flag = match word.to_ascii_lowercase().as_str() {
        "write" => Flag::Write,
        "readonly" => Flag::ReadOnly,
        "admin" => Flag::Admin,
        "deny-oom" => Flag::DenyOom,
        "deny-script" => Flag::NoScript,
        "allow-loading" => Flag::Loading,
        "pubsub" => Flag::PubSub,
        // Deprecated in Redis 7 and ignored.
        "random" => return Some(0),
        "blocking" => Flag::Blocking,
        "allow-stale" => Flag::Stale,
        "no-monitor" => Flag::SkipMonitor,
        "no-slowlog" => Flag::SkipSlowlog,
        "fast" => Flag::Fast,
        "no-auth" => Flag::NoAuth,
        "may-replicate" => Flag::MayReplicate,
        "no-mandatory-keys" => Flag::NoMandatoryKeys,
        "allow-busy" => Flag::AllowBusy,
        "no-multi" => Flag::NoMulti,
        _ => return None,
    };
    Some(flag.bit())
}

/// The command's key specs: the full ones given, or the legacy first/last/step as one range
/// spec with Redis's module default flags (RW access update).
fn key_specs(desc: &CommandDesc) -> Result<&'static [KeySpec], String> {
    const KEY_FLAGS: [(u32, KeyFlag); 8] = [
        (oxidis_module_api::key_flags::RO, KeyFlag::Ro),
        (oxidis_module_api::key_flags::RW, KeyFlag::Rw),
        (oxidis_module_api::key_flags::OW, KeyFlag::Ow),
        (oxidis_module_api::key_flags::RM, KeyFlag::Rm),
        (oxidis_module_api::key_flags::ACCESS, KeyFlag::Access),
        (oxidis_module_api::key_flags::UPDATE, KeyFlag::Update),
        (oxidis_module_api::key_flags::INSERT, KeyFlag::Insert),
        (oxidis_module_api::key_flags::DELETE, KeyFlag::Delete),
    ];
    let mut specs = Vec::new();
    if !desc.key_specs.is_empty() {
        for k in desc.key_specs.iter() {
            let mut flags = 0u16;
            for (bit, flag) in KEY_FLAGS {
                if k.flags & bit != 0 {
                    flags |= flag.bit();
                }
            }
            specs.push(KeySpec {
                flags,
                begin: BeginSearch::Index(k.begin_index),
                find: FindKeys::Range {
                    last_key: k.last_key,
                    step: k.key_step,
                    limit: k.limit,
                },
            });
        }
    } else if desc.first_key > 0 {
        if desc.key_step <= 0 || (desc.last_key > 0 && desc.last_key < desc.first_key) {
            return Err("ERR invalid key positions".to_string());
        }
        let last = if desc.last_key < 0 {
            desc.last_key
        } else {
            desc.last_key - desc.first_key
        };
        specs.push(KeySpec::range(
            desc.first_key,
            last,
            desc.key_step,
            &[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update],
        ));
    }
    Ok(intern::key_specs(specs))
}

#[cfg(test)]
mod tests;
