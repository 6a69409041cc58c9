//! What crosses the boundary between the server and a module: `#[repr(C)]` types checked by
//! `abi_stable` when the module loads. Module authors do not use these directly; the safe
//! wrappers in the crate root do.
//!
//! Compatibility rules (see README.md): within major version 1, fields are only ever added at
//! the end of prefix types (the root module and the `sabi_trait` vtables), so a module built
//! against 1.x keeps loading into servers that support 1.y for y >= x.

// The sabi_trait macro expands to items it cannot document.
#![allow(missing_docs, non_local_definitions)]

use abi_stable::StableAbi;
use abi_stable::library::RootModule;
use abi_stable::sabi_types::RMut;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RBox, ROption, RResult, RSlice, RStr, RString, RVec};

/// An ABI version: a module is refused unless its major equals the server's and its minor is
/// not newer than the server's.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbiVersion {
    /// Incompatible changes bump this.
    pub major: u32,
    /// Additions bump this.
    pub minor: u32,
}

impl AbiVersion {
    /// Whether a server supporting `self` may load a module built for `module`.
    pub const fn accepts(self, module: AbiVersion) -> bool {
        self.major == module.major && module.minor <= self.minor
    }
}

impl std::fmt::Display for AbiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// One node of a reply tree, flattened in prefix order: `Array(n)`, `Map(n)` (n pairs) and
/// `Set(n)` are followed by their elements.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub enum Token {
    /// `+text`.
    Simple(RString),
    /// `-CODE text`.
    Error(RString),
    /// `:n`.
    Int(i64),
    /// `$len bytes`.
    Bulk(RVec<u8>),
    /// The null bulk string (RESP3 `_`).
    Null,
    /// The null array (RESP3 `_`).
    NullArray,
    /// An array of the next n trees.
    Array(u64),
    /// A map of the next n pairs of trees (a flat array in RESP2).
    Map(u64),
    /// A set of the next n trees (an array in RESP2).
    Set(u64),
    /// A double (a bulk string in RESP2).
    Double(f64),
    /// A boolean (an integer in RESP2).
    Bool(bool),
    /// Verbatim text with its 3-letter format (a bulk string in RESP2).
    Verbatim(RString, RVec<u8>),
}

/// A command's metadata, as `RedisModule_CreateCommand` and `RedisModule_SetCommandInfo`
/// take it: the same facts as built-in commands carry.
#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct CommandDesc {
    /// Lower- or upper-case name; stored lower case.
    pub name: RString,
    /// Redis's signed arity: N exactly, -N at least N (command name included).
    pub arity: i32,
    /// Space-separated flags, Redis module style: `write readonly admin deny-oom
    /// deny-script allow-loading pubsub random allow-stale no-monitor no-slowlog fast
    /// no-auth may-replicate no-mandatory-keys blocking allow-busy`.
    pub flags: RString,
    /// First key index (0: no keys).
    pub first_key: i32,
    /// Last key index (negative: from the end).
    pub last_key: i32,
    /// Step between keys.
    pub key_step: i32,
    /// Space-separated ACL categories without `@` (`read write string`...).
    pub acl_categories: RString,
    /// `COMMAND DOCS` summary.
    pub summary: RString,
    /// `COMMAND DOCS` since.
    pub since: RString,
    /// `COMMAND DOCS` complexity.
    pub complexity: RString,
    /// Full key specs; when not empty they replace first/last/step.
    pub key_specs: RVec<KeySpecDesc>,
}

/// A Redis 7 key spec with an index begin-search and a range find-keys (the common shape).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpecDesc {
    /// Index of the first key.
    pub begin_index: i32,
    /// Last key relative to the begin index (negative: from the end).
    pub last_key: i32,
    /// Step between keys.
    pub key_step: i32,
    /// With `last_key` -1: stop after 1/limit of the remaining arguments (0: none).
    pub limit: i32,
    /// Key-spec flags as bits: see `KEY_*` in the crate root.
    pub flags: u32,
}

/// What the server offers a running module command.
#[abi_stable::sabi_trait]
pub trait Host {
    /// Whether the calling client speaks RESP3.
    fn resp3(&self) -> bool;

    /// The selected database.
    fn db(&self) -> u32;

    /// Runs a command (name first) as the calling client and returns its reply.
    fn call(&mut self, argv: RSlice<'_, RSlice<'_, u8>>) -> RVec<Token>;

    /// A string key's value (Redis's `GET`): Ok(None) when missing, Err(WRONGTYPE text).
    fn string_get(&mut self, key: RSlice<'_, u8>) -> RResult<ROption<RVec<u8>>, RString>;

    /// Raises a keyspace event of `class` (Redis's `NOTIFY_*` bits) named `event` on `key`.
    fn notify(&mut self, class: u32, event: RStr<'_>, key: RSlice<'_, u8>);

    /// Writes to the server log (0 debug, 1 verbose, 2 notice, 3 warning).
    #[sabi(last_prefix_field)]
    fn log(&self, level: u32, message: RStr<'_>);
}

/// What the server offers a module while it loads.
#[abi_stable::sabi_trait]
pub trait Registrar {
    /// Registers a command.
    fn create_command(
        &mut self,
        desc: CommandDesc,
        handler: CommandHandler_TO<RBox<()>>,
    ) -> RResult<(), RString>;

    /// Writes to the server log (levels as [`Host::log`]).
    #[sabi(last_prefix_field)]
    fn log(&self, level: u32, message: RStr<'_>);
}

/// A module command, called by the server.
#[abi_stable::sabi_trait]
pub trait CommandHandler: Send + Sync + 'static {
    /// Runs the command: `argv[0]` is its name. Never unwinds (panics become error replies).
    #[sabi(last_prefix_field)]
    fn run<'a>(
        &self,
        host: Host_TO<'a, RMut<'a, ()>>,
        argv: RSlice<'a, RSlice<'a, u8>>,
    ) -> RVec<Token>;
}

/// The module itself: its entry point, run when it loads.
#[abi_stable::sabi_trait]
pub trait ModuleInit: Send + Sync + 'static {
    /// Registers the module's commands, given the load arguments; Err refuses the load.
    #[sabi(last_prefix_field)]
    fn on_load<'a>(
        &self,
        registrar: Registrar_TO<'a, RMut<'a, ()>>,
        args: RSlice<'a, RString>,
    ) -> RResult<(), RString>;
}

/// The root module every module exports.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = ModuleRootRef)))]
#[sabi(missing_field(panic))]
pub struct ModuleRoot {
    /// The API version the module was built against.
    pub abi: AbiVersion,
    /// The module's name (`MODULE LIST`, `MODULE UNLOAD`).
    pub name: RStr<'static>,
    /// The module's own version (`MODULE LIST` "ver").
    pub version: i32,
    /// Registers the module's commands; Err refuses the load.
    #[sabi(last_prefix_field)]
    pub init: extern "C" fn() -> ModuleInit_TO<RBox<()>>,
}

impl RootModule for ModuleRootRef {
    abi_stable::declare_root_module_statics! {ModuleRootRef}
    const BASE_NAME: &'static str = "oxidis_module";
    const NAME: &'static str = "oxidis_module";
    const VERSION_STRINGS: VersionStrings = abi_stable::package_version_strings!();
}
