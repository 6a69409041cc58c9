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

    /// A string key's value (Redis's `GET`) appended to `out` (the module's buffer, so it
    /// owns the bytes without another copy): Ok(false) when missing, Err(WRONGTYPE text).
    fn string_get(&mut self, key: RSlice<'_, u8>, out: &mut RVec<u8>) -> RResult<bool, RString>;

    /// Raises a keyspace event of `class` (Redis's `NOTIFY_*` bits) named `event` on `key`.
    fn notify(&mut self, class: u32, event: RStr<'_>, key: RSlice<'_, u8>);

    /// Writes to the server log (0 debug, 1 verbose, 2 notice, 3 warning).
    fn log(&self, level: u32, message: RStr<'_>);

    /// The value of module data type `type_id` at `key`: Ok(None) when the key is missing,
    /// Err(WRONGTYPE text) when it holds anything else.
    fn module_value<'a>(
        &'a mut self,
        key: RSlice<'_, u8>,
        type_id: u64,
    ) -> RResult<ROption<ValueMut<'a>>, RString>;

    /// Stores a value of module data type `type_id` at `key` (replacing any value and TTL).
    fn set_module_value(
        &mut self,
        key: RSlice<'_, u8>,
        type_id: u64,
        value: ValueObj_TO<RBox<()>>,
    ) -> RResult<(), RString>;

    /// Propagates this command as it was called (to replicas and the AOF), instead of only the
    /// effects of its calls (Redis's `RedisModule_ReplicateVerbatim`).
    fn replicate_verbatim(&mut self);

    /// Blocks the calling client until the returned handle answers it (from any thread), or
    /// `timeout_ms` passes (0: never) and it gets `timeout_reply` (Redis's `RM_BlockClient`).
    /// The command's own reply is then ignored.
    fn block_client(
        &mut self,
        timeout_ms: u64,
        timeout_reply: RVec<Token>,
    ) -> RResult<Unblocker_TO<RBox<()>>, RString>;

    /// The text value of configuration parameter `name` (a module's `<module>.<name>` or a
    /// built-in one).
    #[sabi(last_prefix_field)]
    fn config_get(&self, name: RStr<'_>) -> ROption<RVec<u8>>;
}

/// Answers a blocked client, from any thread; implemented by the server.
#[abi_stable::sabi_trait]
pub trait Unblocker: Send + Sync + 'static {
    /// Whether the client stopped waiting (timeout, CLIENT UNBLOCK, disconnection).
    fn is_aborted(&self) -> bool;

    /// Sends `reply` to the client; false when it no longer waits or was answered already.
    #[sabi(last_prefix_field)]
    fn complete(&self, reply: RVec<Token>) -> bool;
}

/// A server event subscriber, implemented by the module.
#[abi_stable::sabi_trait]
pub trait ServerHook: Send + Sync + 'static {
    /// One event: its kind (`SERVER_EVENT_*` in the crate root) and a description
    /// (`flushdb 0 start`, `connected 12`, `cron 10 42`...). Must not block.
    #[sabi(last_prefix_field)]
    fn on_event(&self, kind: u32, detail: RStr<'_>);
}

/// A configuration parameter's type and default.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub enum ConfigDesc {
    /// `yes`/`no`.
    Bool(bool),
    /// An integer: default, min, max.
    Numeric(i64, i64, i64),
    /// A string (None: unset).
    String(ROption<RVec<u8>>),
}

/// Told of each new value of a module's parameter; an Err refuses it (CONFIG SET's reason).
#[abi_stable::sabi_trait]
pub trait ConfigHook: Send + Sync + 'static {
    /// `name` is the full `<module>.<name>`; `value` its new text value.
    #[sabi(last_prefix_field)]
    fn on_set(&self, name: RStr<'_>, value: RSlice<'_, u8>) -> RResult<(), RString>;
}

/// A module value lent to the module by the server.
pub type ValueMut<'a> = RMut<'a, ValueObj_TO<RBox<()>>>;

/// One field of a module value's RDB payload (`RedisModule_Save*`).
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub enum Field {
    /// An unsigned integer.
    Unsigned(u64),
    /// A signed integer.
    Signed(i64),
    /// A 32-bit float.
    Float(f32),
    /// A double.
    Double(f64),
    /// A byte string.
    String(RVec<u8>),
}

/// A module value's payload being read (`RedisModule_Load*`), implemented by the server.
#[abi_stable::sabi_trait]
pub trait RdbInput {
    /// The next field, an unsigned integer.
    fn load_unsigned(&mut self) -> RResult<u64, RString>;
    /// The next field, a signed integer.
    fn load_signed(&mut self) -> RResult<i64, RString>;
    /// The next field, a float.
    fn load_float(&mut self) -> RResult<f32, RString>;
    /// The next field, a double.
    fn load_double(&mut self) -> RResult<f64, RString>;
    /// The next field, a string.
    #[sabi(last_prefix_field)]
    fn load_string(&mut self) -> RResult<RVec<u8>, RString>;
}

/// A module value as the server holds it; created and downcast by the module.
#[abi_stable::sabi_trait]
pub trait ValueObj: Send + 'static {
    /// The size of the module's value struct (its heap use is `TypeObj::mem_usage`).
    #[sabi(last_prefix_field)]
    fn size_hint(&self) -> usize;
}

/// A module data type's callbacks, implemented by the module.
#[abi_stable::sabi_trait]
pub trait TypeObj: Send + Sync + 'static {
    /// The payload fields of `value`.
    fn rdb_save(&self, value: &ValueObj_TO<RBox<()>>) -> RVec<Field>;
    /// A value read from a payload written at encoding version `encver`.
    fn rdb_load<'a>(
        &self,
        input: RdbInput_TO<'a, RMut<'a, ()>>,
        encver: u32,
    ) -> RResult<ValueObj_TO<RBox<()>>, RString>;
    /// The commands rebuilding `value` under `key`.
    fn aof_rewrite(
        &self,
        value: &ValueObj_TO<RBox<()>>,
        key: RSlice<'_, u8>,
    ) -> RVec<RVec<RVec<u8>>>;
    /// Bytes `value` uses.
    fn mem_usage(&self, value: &ValueObj_TO<RBox<()>>) -> usize;
    /// A copy of `value`, if the type supports copies.
    fn copy(&self, value: &ValueObj_TO<RBox<()>>) -> ROption<ValueObj_TO<RBox<()>>>;
    /// The strings DEBUG DIGEST mixes in for `value`.
    #[sabi(last_prefix_field)]
    fn digest(&self, value: &ValueObj_TO<RBox<()>>) -> RVec<RVec<u8>>;
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
    fn log(&self, level: u32, message: RStr<'_>);

    /// Registers a data type (`RedisModule_CreateDataType`): a 9-character name of
    /// `A-Z a-z 0-9 - _` and an encoding version up to 1023; returns its 64-bit id.
    fn create_data_type(
        &mut self,
        name: RStr<'_>,
        encver: u32,
        methods: TypeObj_TO<RBox<()>>,
    ) -> RResult<u64, RString>;

    /// Calls `hook` for every keyspace event whose class is in `classes` (Redis's
    /// `RedisModule_SubscribeToKeyspaceEvents`), whatever `notify-keyspace-events` says.
    fn subscribe_keyspace(&mut self, classes: u32, hook: KeyspaceHook_TO<RBox<()>>);

    /// Calls `hook` for every server event of `kind` (`SERVER_EVENT_*`).
    fn subscribe_server_event(
        &mut self,
        kind: u32,
        hook: ServerHook_TO<RBox<()>>,
    ) -> RResult<(), RString>;

    /// Registers configuration parameter `<module>.<name>` (CONFIG GET/SET, config files,
    /// MODULE LOADEX CONFIG); `hook` may veto new values.
    #[sabi(last_prefix_field)]
    fn register_config(
        &mut self,
        name: RStr<'_>,
        desc: ConfigDesc,
        hook: ROption<ConfigHook_TO<RBox<()>>>,
    ) -> RResult<(), RString>;
}

/// A keyspace event subscriber, implemented by the module.
#[abi_stable::sabi_trait]
pub trait KeyspaceHook: Send + Sync + 'static {
    /// One event: its class bit, name, database and key. Must not block.
    #[sabi(last_prefix_field)]
    fn on_event(&self, class: u32, event: RStr<'_>, db: u32, key: RSlice<'_, u8>);
}

/// A module command, called by the server.
#[abi_stable::sabi_trait]
pub trait CommandHandler: Send + Sync + 'static {
    /// Runs the command: `argv[0]` is its name. Never unwinds (panics become error replies).
    #[sabi(last_prefix_field)]
    /// The reply goes into `out` (empty on entry; a buffer the server reuses).
    fn run<'a>(
        &self,
        host: Host_TO<'a, RMut<'a, ()>>,
        argv: RSlice<'a, RSlice<'a, u8>>,
        out: &mut RVec<Token>,
    );
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
