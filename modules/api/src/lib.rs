//! The Oxidis module API: everything a module author needs, in safe Rust.
//!
//! A module is a `cdylib` crate that depends on this crate alone and declares itself with
//! [`declare_module!`]:
//!
//! ```ignore
//! use oxidis_module_api::{declare_module, Args, Command, Context, Error, LoadContext, Reply};
//!
//! fn hello(_ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
//!     Ok(Reply::Bulk(args.get(1).unwrap_or(b"world").to_vec()))
//! }
//!
//! fn init(ctx: &mut LoadContext<'_>, _args: &[String]) -> Result<(), Error> {
//!     ctx.create_command(Command::new("hello.world", -1, hello).flags("readonly fast"))
//! }
//!
//! declare_module!(name: "hello", version: 1, init: init);
//! ```
//!
//! The server checks the module's ABI version ([`ABI_VERSION`]) before running any of its code,
//! and `abi_stable` checks the layout of every type that crosses the boundary. A panic in a
//! command becomes an error reply; the server stays up.

pub mod abi;
mod context;
mod reply;
pub mod types;

use std::panic::{AssertUnwindSafe, catch_unwind};

pub use abi::AbiVersion;
use abi::{CommandDesc, CommandHandler, CommandHandler_TO, Host_TO, KeySpecDesc, Registrar_TO};
pub use abi_stable;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::sabi_types::RMut;
use abi_stable::std_types::{RBox, ROk, RResult, RSlice, RStr, RString, RVec};
pub use context::{BlockedClient, Context, StreamEntry};
pub use reply::Reply;
pub use types::{DataType, RdbIn, RdbOut, TypeRef, TypeSlot};

/// The ABI version this crate implements. Servers accept modules of the same major and an
/// equal or older minor.
pub const ABI_VERSION: AbiVersion = AbiVersion { major: 1, minor: 1 };

/// The symbol under which a module exports its [`AbiVersion`], read before any module code runs.
pub const ABI_VERSION_SYMBOL: &[u8] = b"OXIDIS_MODULE_ABI_VERSION\0";

/// Keyspace event classes for [`Context::notify`] (Redis's `REDISMODULE_NOTIFY_*`).
pub mod notify {
    /// Generic commands (`DEL`, `EXPIRE`, `RENAME`...).
    pub const GENERIC: u32 = 1 << 2;
    /// String commands.
    pub const STRING: u32 = 1 << 3;
    /// List commands.
    pub const LIST: u32 = 1 << 4;
    /// Set commands.
    pub const SET: u32 = 1 << 5;
    /// Hash commands.
    pub const HASH: u32 = 1 << 6;
    /// Sorted set commands.
    pub const ZSET: u32 = 1 << 7;
    /// Expired keys.
    pub const EXPIRED: u32 = 1 << 8;
    /// Evicted keys.
    pub const EVICTED: u32 = 1 << 9;
    /// Stream commands.
    pub const STREAM: u32 = 1 << 10;
    /// Module events (`d` in `notify-keyspace-events`).
    pub const MODULE: u32 = 1 << 13;
}

/// Server event kinds for [`LoadContext::subscribe_server_event`].
pub mod server_event {
    /// FLUSHDB / FLUSHALL, before and after (`flushdb <db>|flushall start|end`).
    pub const FLUSH: u32 = 1;
    /// Loading a dataset (`start rdb|aof|replication`, `end <source> ok|failed`).
    pub const LOADING: u32 = 2;
    /// A client connected or disconnected (`connected <id>`, `disconnected <id>`).
    pub const CLIENT_CHANGE: u32 = 3;
    /// Shutdown (`shutdown`).
    pub const SHUTDOWN: u32 = 4;
    /// The cron tick (`cron <hz> <cycle>`).
    pub const CRON_TICK: u32 = 5;
}

/// Key-spec flag bits for [`Command::key_spec`].
pub mod key_flags {
    /// Read-only access.
    pub const RO: u32 = 1 << 0;
    /// Read and write.
    pub const RW: u32 = 1 << 1;
    /// Overwrite.
    pub const OW: u32 = 1 << 2;
    /// Removes the key.
    pub const RM: u32 = 1 << 3;
    /// Returns user data.
    pub const ACCESS: u32 = 1 << 4;
    /// Updates data.
    pub const UPDATE: u32 = 1 << 5;
    /// Inserts data.
    pub const INSERT: u32 = 1 << 6;
    /// Deletes data.
    pub const DELETE: u32 = 1 << 7;
}

/// An error reply. The text is sent as is, so it should start with an error code
/// (`ERR ...`, `WRONGTYPE ...`); [`Error::new`] adds `ERR ` when it does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub(crate) String);

impl Error {
    /// An error reply; `ERR ` is prepended unless `text` starts with an upper-case code.
    pub fn new(text: impl Into<String>) -> Error {
        let text = text.into();
        let has_code = text
            .split(' ')
            .next()
            .is_some_and(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_uppercase()));
        if has_code {
            Error(text)
        } else {
            Error(format!("ERR {text}"))
        }
    }

    /// Redis's `WRONGTYPE` error.
    pub fn wrong_type() -> Error {
        Error("WRONGTYPE Operation against a key holding the wrong kind of value".into())
    }

    /// Redis's "wrong number of arguments" error for `command`.
    pub fn wrong_arity(command: &str) -> Error {
        Error(format!(
            "ERR wrong number of arguments for '{}' command",
            command.to_ascii_lowercase()
        ))
    }

    /// The full error text.
    pub fn text(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Error {
    fn from(text: &str) -> Error {
        Error::new(text)
    }
}

impl From<String> for Error {
    fn from(text: String) -> Error {
        Error::new(text)
    }
}

/// A command's arguments, the command name first.
#[derive(Clone, Copy)]
pub struct Args<'a>(RSlice<'a, RSlice<'a, u8>>);

impl<'a> Args<'a> {
    /// Number of arguments, the command name included.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none (never true for a command).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Argument `i` (0 is the command name).
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        self.0.as_slice().get(i).map(|s| s.as_slice())
    }

    /// Argument `i`, or the wrong-arity error.
    pub fn bytes(&self, i: usize) -> Result<&'a [u8], Error> {
        self.get(i).ok_or_else(|| {
            Error::wrong_arity(&String::from_utf8_lossy(self.get(0).unwrap_or_default()))
        })
    }

    /// Argument `i` as an integer, read as Redis reads one (`string2ll`: an optional `-`, then
    /// digits without a leading zero or `+`), with Redis's error text.
    pub fn i64(&self, i: usize) -> Result<i64, Error> {
        parse_i64(self.bytes(i)?)
            .ok_or_else(|| Error::new("ERR value is not an integer or out of range"))
    }

    /// Every argument.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let slice: &'a [RSlice<'a, u8>] = self.0.as_slice();
        slice.iter().map(|s| s.as_slice())
    }
}

/// A decimal integer as Redis's `string2ll` accepts it: `0`, or an optional `-` and digits not
/// starting with `0`, within `i64`.
fn parse_i64(bytes: &[u8]) -> Option<i64> {
    let (negative, digits) = match bytes {
        [b'0'] => return Some(0),
        [b'-', rest @ ..] => (true, rest),
        _ => (false, bytes),
    };
    if !matches!(digits.first(), Some(b'1'..=b'9')) {
        return None;
    }
    // Accumulated negatively, so that i64::MIN fits.
    let mut value: i64 = 0;
    for &b in digits {
        let digit = match b {
            b'0'..=b'9' => i64::from(b - b'0'),
            _ => return None,
        };
        value = value.checked_mul(10)?.checked_sub(digit)?;
    }
    if negative {
        Some(value)
    } else {
        value.checked_neg()
    }
}

/// Log levels for [`Context::log`] and [`LoadContext::log`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Debug.
    Debug = 0,
    /// Verbose.
    Verbose = 1,
    /// Notice.
    Notice = 2,
    /// Warning.
    Warning = 3,
}

/// A command handler.
pub type CommandFn = fn(&mut Context<'_>, &Args<'_>) -> Result<Reply, Error>;

/// A command to register: name, arity, handler, and the metadata `COMMAND INFO/DOCS` show.
#[derive(Debug, Clone)]
pub struct Command {
    desc: CommandDesc,
    handler: CommandFn,
}

impl Command {
    /// A command: `arity` is Redis's (N exactly, -N at least N, the name included).
    pub fn new(name: &str, arity: i32, handler: CommandFn) -> Command {
        Command {
            desc: CommandDesc {
                name: name.into(),
                arity,
                flags: RString::new(),
                first_key: 0,
                last_key: 0,
                key_step: 0,
                acl_categories: RString::new(),
                summary: RString::new(),
                since: RString::new(),
                complexity: RString::new(),
                key_specs: RVec::new(),
            },
            handler,
        }
    }

    /// Changes the arity (N exactly, -N at least N, the name included).
    pub fn arity(mut self, arity: i32) -> Command {
        self.desc.arity = arity;
        self
    }

    /// Space-separated flags (`write deny-oom`, `readonly fast`...), as `RedisModule_CreateCommand`.
    pub fn flags(mut self, flags: &str) -> Command {
        self.desc.flags = flags.into();
        self
    }

    /// Legacy key positions: first, last (negative from the end), step.
    pub fn keys(mut self, first: i32, last: i32, step: i32) -> Command {
        self.desc.first_key = first;
        self.desc.last_key = last;
        self.desc.key_step = step;
        self
    }

    /// Adds a full key spec: keys from `begin_index`, up to `last_key` relative to it (negative
    /// from the end), every `step`, with [`key_flags`] bits.
    pub fn key_spec(mut self, begin_index: i32, last_key: i32, step: i32, flags: u32) -> Command {
        self.desc.key_specs.push(KeySpecDesc {
            begin_index,
            last_key,
            key_step: step,
            limit: 0,
            flags,
        });
        self
    }

    /// Space-separated ACL categories without `@` (`read string`).
    pub fn acl(mut self, categories: &str) -> Command {
        self.desc.acl_categories = categories.into();
        self
    }

    /// `COMMAND DOCS` summary, since and complexity.
    pub fn docs(mut self, summary: &str, since: &str, complexity: &str) -> Command {
        self.desc.summary = summary.into();
        self.desc.since = since.into();
        self.desc.complexity = complexity.into();
        self
    }
}

/// What a module can do while it loads.
pub struct LoadContext<'a> {
    registrar: Registrar_TO<'a, RMut<'a, ()>>,
}

impl LoadContext<'_> {
    /// Registers a command; fails on a taken or invalid name.
    pub fn create_command(&mut self, command: Command) -> Result<(), Error> {
        let handler = CommandHandler_TO::from_value(FnCommand(command.handler), TD_Opaque);
        match self.registrar.create_command(command.desc, handler) {
            ROk(()) => Ok(()),
            RResult::RErr(text) => Err(Error(text.into_string())),
        }
    }

    /// Writes to the server log.
    pub fn log(&self, level: LogLevel, message: &str) {
        self.registrar.log(level as u32, RStr::from_str(message));
    }

    /// Registers a data type: `name` is 9 characters of `A-Z a-z 0-9 - _` (unique across
    /// modules: RDB files store it), `encver` (0..=1023) the encoding version values are saved
    /// with. Keep the result in a [`TypeSlot`].
    pub fn create_data_type<D: DataType>(
        &mut self,
        name: &str,
        encver: u32,
        methods: D,
    ) -> Result<TypeRef<D::Value>, Error> {
        let methods = abi::TypeObj_TO::from_value(types::TypeAdapter(methods), TD_Opaque);
        match self
            .registrar
            .create_data_type(RStr::from_str(name), encver, methods)
        {
            ROk(id) => Ok(TypeRef::from_id(id)),
            RResult::RErr(text) => Err(Error(text.into_string())),
        }
    }

    /// Calls `hook` for every keyspace event of the [`notify`] classes in `classes` (whatever
    /// `notify-keyspace-events` says). The hook must not block.
    pub fn subscribe_keyspace(&mut self, classes: u32, hook: KeyspaceHookFn) {
        let hook = abi::KeyspaceHook_TO::from_value(FnHook(hook), TD_Opaque);
        self.registrar.subscribe_keyspace(classes, hook);
    }
}

impl LoadContext<'_> {
    /// Calls `hook(kind, detail)` for every server event of `kind` ([`server_event`]).
    pub fn subscribe_server_event(&mut self, kind: u32, hook: ServerHookFn) -> Result<(), Error> {
        let hook = abi::ServerHook_TO::from_value(FnServerHook(hook), TD_Opaque);
        match self.registrar.subscribe_server_event(kind, hook) {
            ROk(()) => Ok(()),
            RResult::RErr(text) => Err(Error(text.into_string())),
        }
    }

    /// Registers the configuration parameter `<module>.<name>` with its default; `validate`
    /// may refuse new values (its error is CONFIG SET's reason). Values given with
    /// `MODULE LOADEX ... CONFIG name value` apply once init returns.
    pub fn register_config(
        &mut self,
        name: &str,
        default: ConfigDefault,
        validate: Option<ConfigValidator>,
    ) -> Result<(), Error> {
        let desc = match default {
            ConfigDefault::Bool(b) => abi::ConfigDesc::Bool(b),
            ConfigDefault::Numeric { default, min, max } => {
                abi::ConfigDesc::Numeric(default, min, max)
            }
            ConfigDefault::String(s) => abi::ConfigDesc::String(s.map(RVec::from).into()),
        };
        let hook = validate
            .map(|f| abi::ConfigHook_TO::from_value(FnConfigHook(f), TD_Opaque))
            .into();
        match self
            .registrar
            .register_config(RStr::from_str(name), desc, hook)
        {
            ROk(()) => Ok(()),
            RResult::RErr(text) => Err(Error(text.into_string())),
        }
    }
}

/// A configuration parameter's type and default, for [`LoadContext::register_config`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigDefault {
    /// `yes`/`no`.
    Bool(bool),
    /// An integer in `min..=max`.
    Numeric {
        /// The default.
        default: i64,
        /// The smallest value.
        min: i64,
        /// The largest value.
        max: i64,
    },
    /// A string (None: unset).
    String(Option<Vec<u8>>),
}

/// Vets a new value of a module parameter: `(full name, new text value)`.
pub type ConfigValidator = fn(&str, &[u8]) -> Result<(), String>;

struct FnConfigHook(ConfigValidator);

impl abi::ConfigHook for FnConfigHook {
    fn on_set(&self, name: RStr<'_>, value: RSlice<'_, u8>) -> RResult<(), RString> {
        match catch_unwind(AssertUnwindSafe(|| {
            (self.0)(name.as_str(), value.as_slice())
        })) {
            Ok(Ok(())) => ROk(()),
            Ok(Err(reason)) => RResult::RErr(reason.into()),
            Err(_) => RResult::RErr("module config hook panicked".into()),
        }
    }
}

/// A server event hook: `(kind, detail)`.
pub type ServerHookFn = fn(u32, &str);

struct FnServerHook(ServerHookFn);

impl abi::ServerHook for FnServerHook {
    fn on_event(&self, kind: u32, detail: RStr<'_>) {
        let _ = catch_unwind(AssertUnwindSafe(|| (self.0)(kind, detail.as_str())));
    }
}

/// A keyspace event, as [`LoadContext::subscribe_keyspace`] hooks see it.
#[derive(Debug, Clone, Copy)]
pub struct KeyEvent<'a> {
    /// The event's class ([`notify`] bit).
    pub class: u32,
    /// Its name (`set`, `lpush`, `expired`...).
    pub event: &'a str,
    /// The database.
    pub db: u32,
    /// The key.
    pub key: &'a [u8],
}

/// A keyspace event hook.
pub type KeyspaceHookFn = fn(&KeyEvent<'_>);

struct FnHook(KeyspaceHookFn);

impl abi::KeyspaceHook for FnHook {
    fn on_event(&self, class: u32, event: RStr<'_>, db: u32, key: RSlice<'_, u8>) {
        let event = KeyEvent {
            class,
            event: event.as_str(),
            db,
            key: key.as_slice(),
        };
        let _ = catch_unwind(AssertUnwindSafe(|| (self.0)(&event)));
    }
}

/// A plain function behind the ABI's `CommandHandler`.
struct FnCommand(CommandFn);

impl CommandHandler for FnCommand {
    fn run<'a>(
        &self,
        host: Host_TO<'a, RMut<'a, ()>>,
        argv: RSlice<'a, RSlice<'a, u8>>,
        out: &mut RVec<Token>,
    ) {
        let args = Args(argv);
        let mut ctx = Context {
            host,
            replied: false,
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| (self.0)(&mut ctx, &args)));
        match outcome {
            // The server holds the reply (`Context::reply_string`): `out` stays empty.
            Ok(Ok(_)) if ctx.replied => {}
            Ok(Ok(reply)) => reply.push_tokens(out),
            Ok(Err(error)) => out.push(Token::Error(error.0.into())),
            Err(panic) => {
                let name = String::from_utf8_lossy(args.get(0).unwrap_or_default()).into_owned();
                let what = panic_text(&*panic);
                ctx.log(
                    LogLevel::Warning,
                    &format!("module command '{name}' panicked: {what}"),
                );
                out.clear();
                out.push(Token::Error(
                    format!("ERR module command '{name}' panicked: {what}").into(),
                ));
            }
        }
    }
}

use abi::Token;

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// A module's init function.
pub type InitFn = fn(&mut LoadContext<'_>, &[String]) -> Result<(), Error>;

/// The module side of the ABI's `ModuleInit`: runs the author's init function.
struct FnInit(InitFn);

impl abi::ModuleInit for FnInit {
    fn on_load<'a>(
        &self,
        registrar: Registrar_TO<'a, RMut<'a, ()>>,
        args: RSlice<'a, RString>,
    ) -> RResult<(), RString> {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let mut ctx = LoadContext { registrar };
        match catch_unwind(AssertUnwindSafe(|| (self.0)(&mut ctx, &args))) {
            Ok(Ok(())) => ROk(()),
            Ok(Err(error)) => RResult::RErr(error.0.into()),
            Err(panic) => {
                RResult::RErr(format!("module init panicked: {}", panic_text(&*panic)).into())
            }
        }
    }
}

/// The init object behind a module's entry point, for [`declare_module!`].
#[doc(hidden)]
pub fn __init_object(init: InitFn) -> abi::ModuleInit_TO<RBox<()>> {
    abi::ModuleInit_TO::from_value(FnInit(init), TD_Opaque)
}

/// Builds the root module for [`declare_module!`].
#[doc(hidden)]
pub fn __root_module(
    abi: AbiVersion,
    name: &'static str,
    version: i32,
    init: extern "C" fn() -> abi::ModuleInit_TO<RBox<()>>,
) -> abi::ModuleRootRef {
    use abi_stable::prefix_type::PrefixTypeTrait;
    abi::ModuleRoot {
        abi,
        name: RStr::from_str(name),
        version,
        init,
    }
    .leak_into_prefix()
}

#[doc(hidden)]
pub use abi_stable::library::{
    __call_root_module_loader, CheckTypeLayout as __CheckTypeLayout, LibHeader as __LibHeader,
    RootModuleResult as __RootModuleResult,
};

/// Declares a module: its name, version (`MODULE LIST` "ver") and init function
/// (`fn(&mut LoadContext, &[String]) -> Result<(), Error>`, given the load arguments).
///
/// Exports the ABI version symbol and the `abi_stable` root module the server loads.
#[macro_export]
macro_rules! declare_module {
    (name: $name:expr, version: $version:expr, init: $init:path $(,)?) => {
        $crate::declare_module!(@abi $crate::ABI_VERSION, $name, $version, $init);
    };
    // Builds a module claiming another ABI version (tests of the server's refusal).
    (name: $name:expr, version: $version:expr, init: $init:path, abi: $abi:expr $(,)?) => {
        $crate::declare_module!(@abi $abi, $name, $version, $init);
    };
    (@abi $abi:expr, $name:expr, $version:expr, $init:path) => {
        /// The ABI version this module was built for, read by the server before loading.
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        pub static OXIDIS_MODULE_ABI_VERSION: $crate::AbiVersion = $abi;

        extern "C" fn __oxidis_init()
        -> $crate::abi::ModuleInit_TO<$crate::abi_stable::std_types::RBox<()>> {
            $crate::__init_object($init)
        }

        fn __oxidis_root_module() -> $crate::abi::ModuleRootRef {
            $crate::__root_module($abi, $name, $version, __oxidis_init)
        }

        /// The `abi_stable` library header (what `#[export_root_module]` generates).
        #[allow(unsafe_code, non_upper_case_globals)]
        #[unsafe(no_mangle)]
        pub static _1as_0lib_1header_0root_bmodule_bloader: $crate::__LibHeader = {
            extern "C" fn erased() -> $crate::__RootModuleResult {
                $crate::__call_root_module_loader(__oxidis_root_module)
            }
            // SAFETY: `erased` returns the root module type named here, as abi_stable's own
            // `export_root_module` attribute would arrange.
            unsafe {
                $crate::__LibHeader::from_constructor::<$crate::abi::ModuleRootRef>(
                    erased,
                    $crate::__CheckTypeLayout::Yes,
                )
            }
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exported_header_symbol_is_abi_stables() {
        assert_eq!(
            abi_stable::library::ROOT_MODULE_LOADER_NAME,
            "_1as_0lib_1header_0root_bmodule_bloader"
        );
    }

    #[test]
    fn versions_accept_same_major_older_minor() {
        let server = AbiVersion { major: 1, minor: 2 };
        assert!(server.accepts(AbiVersion { major: 1, minor: 0 }));
        assert!(server.accepts(AbiVersion { major: 1, minor: 2 }));
        assert!(!server.accepts(AbiVersion { major: 1, minor: 3 }));
        assert!(!server.accepts(AbiVersion { major: 2, minor: 0 }));
    }

    #[test]
    fn integers_parse_as_redis_reads_them() {
        for (text, value) in [
            ("0", Some(0)),
            ("42", Some(42)),
            ("-7", Some(-7)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("-0", None),
            ("01", None),
            ("+1", None),
            ("", None),
            ("-", None),
            (" 1", None),
            ("1x", None),
        ] {
            assert_eq!(parse_i64(text.as_bytes()), value, "{text:?}");
        }
    }

    #[test]
    fn errors_get_a_code() {
        assert_eq!(Error::new("boom").text(), "ERR boom");
        assert_eq!(Error::new("WRONGTYPE x").text(), "WRONGTYPE x");
    }

    #[test]
    fn replies_round_trip_through_tokens() {
        let reply = Reply::Array(vec![
            Reply::Int(1),
            Reply::Map(vec![(
                Reply::Simple("a".into()),
                Reply::Bulk(b"b".to_vec()),
            )]),
            Reply::Set(vec![Reply::Double(1.5), Reply::Bool(true)]),
            Reply::Null,
        ]);
        let tokens = reply.clone().into_tokens();
        assert_eq!(Reply::from_tokens(&tokens), reply);
    }
}
