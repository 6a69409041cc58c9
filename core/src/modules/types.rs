//! Module data types: values whose layout only their module knows.
//!
//! A module implements [`ModuleType`] and registers it with [`ModuleTypes::register`]; the
//! registry hands back a [`ModuleTypeRef`], the handle every value of the type carries. A value
//! is a [`ModuleValue`] (the type handle plus the module's opaque, boxed data) stored in the
//! keyspace as [`Value::Module`](crate::types::Value::Module).
//!
//! # Lifetime and the live count
//! Each [`ModuleValue`] counts itself in its type's live count while it exists (creating one
//! increments it, dropping one decrements it). [`ModuleTypes::unregister`] refuses while the
//! count is not zero, so a module cannot be unloaded while the keyspace (or a lazily freed
//! database, or a DUMP being built) still holds its values. Freeing a value is dropping its
//! `Box<dyn Any + Send>`: a bridge to foreign code wraps its pointer in a type whose `Drop`
//! calls the module's free callback. That `Drop` may run on a background thread (FLUSHALL
//! ASYNC, lazy freeing), never concurrently with another callback on the same value.
//!
//! # Identity on disk
//! A type's 64-bit id, as Redis writes it before each value (RDB type 7, `MODULE_2`), is its
//! 9-character name, 6 bits per character in [`NAME_CHARSET`] order, followed by the 10-bit
//! encoding version ([`encode_id`]). Loading looks a type up by the name part only
//! ([`ModuleTypes::by_id`]) and passes the stored encoding version to
//! [`ModuleType::rdb_load`], so a module can read values written by its older versions.
//!
//! # The value payload
//! [`ModuleRdbWriter`] and [`ModuleRdbReader`] are the `RedisModule_Save*` / `Load*` of this
//! API: every field is written as an opcode ([`opcode`]) then its value, and the payload ends
//! with [`opcode::EOF`] (written by the persistence crate, not the module). DUMP/RESTORE use
//! the same payload. The reader reads through [`RdbSource`], which the persistence crate
//! implements over its own RDB reader (strings there may be LZF-compressed or int-encoded).
//!
//! A type may also keep module-wide state in RDB files ([`ModuleType::aux_save`] /
//! [`ModuleType::aux_load`], opcode `MODULE_AUX`), before or after the keys ([`aux`]).

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;

/// The 64 characters a type name may use; a character's position is its 6-bit code.
pub const NAME_CHARSET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The length every type name has.
pub const NAME_LEN: usize = 9;

/// The largest encoding version (10 bits).
pub const MAX_ENCODING_VERSION: u32 = 1023;

/// The field opcodes of a module value's payload (Redis's `RDB_MODULE_OPCODE_*`).
pub mod opcode {
    /// End of the value.
    pub const EOF: u64 = 0;
    /// A signed integer (stored as the bits of an unsigned length).
    pub const SINT: u64 = 1;
    /// An unsigned integer (an RDB length).
    pub const UINT: u64 = 2;
    /// A 32-bit float, 4 bytes little-endian.
    pub const FLOAT: u64 = 3;
    /// A 64-bit double, 8 bytes little-endian.
    pub const DOUBLE: u64 = 4;
    /// A string (an RDB string).
    pub const STRING: u64 = 5;
}

/// Where a type's auxiliary (not per-key) data goes in an RDB file: bits of
/// [`ModuleType::aux_save_triggers`] and the `when` of [`ModuleType::aux_save`] /
/// [`ModuleType::aux_load`] (Redis's `REDISMODULE_AUX_BEFORE_RDB` / `AFTER_RDB`).
pub mod aux {
    /// Before the keys (after the AUX fields).
    pub const BEFORE_RDB: u32 = 1 << 0;
    /// After the keys (before EOF).
    pub const AFTER_RDB: u32 = 1 << 1;
}

/// COPY's reply when the type has no copy callback.
pub const COPY_NOT_SUPPORTED: &str = "ERR not supported for this module key";
/// COPY's reply when the copy callback failed.
pub const COPY_FAILED: &str = "ERR module key failed to copy";

/// The 64-bit id of type `name` at encoding version `encver`; `None` when the name is not 9
/// characters of [`NAME_CHARSET`] or the version exceeds 1023 (Redis's `moduleTypeEncodeId`).
pub fn encode_id(name: &str, encver: u32) -> Option<u64> {
    if name.len() != NAME_LEN || encver > MAX_ENCODING_VERSION {
        return None;
    }
    let mut id: u64 = 0;
    for ch in name.bytes() {
        let code = NAME_CHARSET.iter().position(|&c| c == ch)?;
        id = (id << 6) | u64::try_from(code).ok()?;
    }
    Some((id << 10) | u64::from(encver))
}

/// The type name an id stands for (Redis's `moduleTypeNameByID`), for error messages about
/// types nobody registered.
pub fn name_from_id(id: u64) -> String {
    let mut name = String::with_capacity(NAME_LEN);
    let bits = id >> 10;
    for j in (0..NAME_LEN).rev() {
        let code = (bits >> (j * 6)) & 63;
        // `code` < 64 by the mask.
        name.push(char::from(NAME_CHARSET[usize::try_from(code).unwrap_or(0)]));
    }
    name
}

/// The encoding version stored in the low 10 bits of an id.
pub fn encver_from_id(id: u64) -> u32 {
    u32::try_from(id & 1023).unwrap_or(0)
}

/// Why a module's `copy` produced nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyError {
    /// The type cannot be copied (COPY answers [`COPY_NOT_SUPPORTED`]).
    NotSupported,
    /// The copy failed (COPY answers [`COPY_FAILED`]).
    Failed,
}

/// Where a key is copied from and to, for [`ModuleType::copy`] (Redis's `RedisModuleKeyOptCtx`).
#[derive(Debug, Clone, Copy)]
pub struct CopyTarget<'a> {
    /// The source key.
    pub from_key: &'a [u8],
    /// The destination key.
    pub to_key: &'a [u8],
    /// The source database.
    pub from_db: usize,
    /// The destination database.
    pub to_db: usize,
}

/// A failure while reading or writing a module value's payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ModuleIoError(pub String);

/// The data type callbacks Redis's `RedisModuleTypeMethods` has. Every callback runs on the
/// keyspace thread with the keyspace lock held; none may block for long or call back into the
/// server. Values are the module's own data behind `&dyn Any` (downcast to the module's type).
pub trait ModuleType: Send + Sync + 'static {
    /// Writes `value` as fields (the `MODULE_2` payload, before the EOF the server adds).
    fn rdb_save(&self, value: &dyn Any, out: &mut ModuleRdbWriter);

    /// Reads a value written by [`rdb_save`](Self::rdb_save) at encoding version `encver`.
    ///
    /// # Errors
    /// A read error, or any reason the module cannot load the value (the load then fails).
    fn rdb_load(
        &self,
        input: &mut ModuleRdbReader<'_>,
        encver: u32,
    ) -> Result<Box<dyn Any + Send>, ModuleIoError>;

    /// The commands that rebuild `value` under `key`, each handed to `emit` as an argv (AOF
    /// rewrite). The default emits nothing: such a type is lost by an AOF rewrite, as in Redis
    /// when a module sets no `aof_rewrite`.
    fn aof_rewrite(&self, value: &dyn Any, key: &[u8], emit: &mut dyn FnMut(Vec<Bytes>)) {
        let _ = (value, key, emit);
    }

    /// Bytes used by `value`, for MEMORY USAGE and eviction (0 by default, as Redis).
    fn mem_usage(&self, value: &dyn Any) -> usize {
        let _ = value;
        0
    }

    /// An independent copy of `value` for COPY. The default refuses, as a type without a copy
    /// callback does in Redis.
    ///
    /// # Errors
    /// [`CopyError::NotSupported`] or [`CopyError::Failed`]; COPY answers their messages.
    fn copy(
        &self,
        value: &dyn Any,
        target: CopyTarget<'_>,
    ) -> Result<Box<dyn Any + Send>, CopyError> {
        let _ = (value, target);
        Err(CopyError::NotSupported)
    }

    /// Feeds `value` to DEBUG DIGEST / DEBUG DIGEST-VALUE. The default adds nothing (the value
    /// then contributes only its type and key).
    fn digest(&self, value: &dyn Any, digest: &mut ModuleDigest) {
        let _ = (value, digest);
    }

    /// When the type writes auxiliary data into RDB files: [`aux`] bits (0, the default: never).
    fn aux_save_triggers(&self) -> u32 {
        0
    }

    /// Writes the type's auxiliary data (module-wide state, not a key's) for position `when`
    /// ([`aux::BEFORE_RDB`] or [`aux::AFTER_RDB`]); called only for positions in
    /// [`aux_save_triggers`](Self::aux_save_triggers).
    fn aux_save(&self, when: u32, out: &mut ModuleRdbWriter) {
        let _ = (when, out);
    }

    /// Reads what [`aux_save`](Self::aux_save) wrote at `when`, at encoding version `encver`.
    /// The default refuses: a file with auxiliary data for a type that cannot read it does not
    /// load, as in Redis.
    ///
    /// # Errors
    /// Any reason the module cannot load it (the load then fails).
    fn aux_load(
        &self,
        input: &mut ModuleRdbReader<'_>,
        encver: u32,
        when: u32,
    ) -> Result<(), ModuleIoError> {
        let _ = (input, encver, when);
        Err(ModuleIoError(
            "the module type does not load auxiliary data".into(),
        ))
    }

    /// The effort of freeing `value` (Redis's `free_effort`: e.g. its number of allocations).
    /// Over [`crate::lazyfree::THRESHOLD`], UNLINK (and DEL with `lazyfree-lazy-user-del`)
    /// drops the value on the lazy-free thread; FLUSHALL/FLUSHDB ASYNC drop whole databases
    /// there anyway (so a value's `Drop` may run off the keyspace thread). 1 by default.
    fn free_effort(&self, key: &[u8], value: &dyn Any) -> usize {
        let _ = (key, value);
        1
    }

    /// Called when `key` holding `value` leaves its database (DEL, UNLINK, expiry, eviction,
    /// an overwrite, and the source key of RENAME and MOVE — as Redis's `dbGenericDelete` and
    /// `dbOverwrite` call it), before the value is dropped or moved. Not for FLUSHDB/FLUSHALL,
    /// as in Redis. Nothing by default.
    fn unlink(&self, key: &[u8], value: &dyn Any) {
        let _ = (key, value);
    }
}

/// A registered type: its name, version, owner and callbacks, and how many values exist.
pub struct RegisteredType {
    name: String,
    encver: u32,
    id: u64,
    owner: String,
    methods: Box<dyn ModuleType>,
    live: AtomicUsize,
}

impl std::fmt::Debug for RegisteredType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredType")
            .field("name", &self.name)
            .field("encver", &self.encver)
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

impl RegisteredType {
    /// The 9-character name TYPE answers.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The encoding version values are written with.
    pub fn encoding_version(&self) -> u32 {
        self.encver
    }

    /// The 64-bit id written before each value ([`encode_id`]).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The name of the module that registered it.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The callbacks.
    pub fn methods(&self) -> &dyn ModuleType {
        self.methods.as_ref()
    }

    /// How many values of this type exist now.
    pub fn live_values(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }
}

/// The handle of a registered type; every value of the type holds one.
pub type ModuleTypeRef = Arc<RegisteredType>;

/// A value of a module type: the type and the module's data.
pub struct ModuleValue {
    ty: ModuleTypeRef,
    data: Box<dyn Any + Send>,
}

impl ModuleValue {
    /// Wraps the module's `data` as a value of type `ty` (counted in its live count).
    pub fn new(ty: &ModuleTypeRef, data: Box<dyn Any + Send>) -> ModuleValue {
        ty.live.fetch_add(1, Ordering::SeqCst);
        ModuleValue {
            ty: Arc::clone(ty),
            data,
        }
    }

    /// The value's type.
    pub fn module_type(&self) -> &ModuleTypeRef {
        &self.ty
    }

    /// The module's data.
    pub fn data(&self) -> &dyn Any {
        self.data.as_ref()
    }

    /// The module's data, for changing in place.
    pub fn data_mut(&mut self) -> &mut dyn Any {
        self.data.as_mut()
    }

    /// The data as the module's own type `T`, if it is one.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        self.data.downcast_ref()
    }

    /// The data as the module's own type `T`, mutably.
    pub fn downcast_mut<T: Any>(&mut self) -> Option<&mut T> {
        self.data.downcast_mut()
    }

    /// Bytes the value uses: the module's `mem_usage` plus this wrapper.
    pub fn mem_usage(&self) -> usize {
        std::mem::size_of::<ModuleValue>() + self.ty.methods.mem_usage(self.data())
    }

    /// A copy through the type's `copy` callback (COPY).
    ///
    /// # Errors
    /// As [`ModuleType::copy`].
    pub fn try_copy(&self, target: CopyTarget<'_>) -> Result<ModuleValue, CopyError> {
        let data = self.ty.methods.copy(self.data(), target)?;
        Ok(ModuleValue::new(&self.ty, data))
    }

    /// The value's payload fields ([`ModuleType::rdb_save`]), without the id and EOF.
    pub fn save(&self, out: &mut ModuleRdbWriter) {
        self.ty.methods.rdb_save(self.data(), out);
    }

    /// The commands rebuilding the value under `key` ([`ModuleType::aof_rewrite`]).
    pub fn rewrite(&self, key: &[u8]) -> Vec<Vec<Bytes>> {
        let mut commands = Vec::new();
        self.ty
            .methods
            .aof_rewrite(self.data(), key, &mut |argv| commands.push(argv));
        commands
    }

    /// What DEBUG DIGEST mixes in for this value ([`ModuleType::digest`]).
    pub fn digest(&self, key: &[u8], db: usize) -> ModuleDigest {
        let mut digest = ModuleDigest::new(key, db);
        self.ty.methods.digest(self.data(), &mut digest);
        digest
    }
}

/// Module values in the keyspace: what a module command uses with `ctx.lookup_write`,
/// `ctx.value_mut` and `ctx.set`.
impl crate::types::Value {
    /// A keyspace value of type `ty` holding `data`.
    pub fn module(ty: &ModuleTypeRef, data: Box<dyn Any + Send>) -> crate::types::Value {
        crate::types::Value::Module(Box::new(ModuleValue::new(ty, data)))
    }

    /// The module value held, if it is of type `ty`; WRONGTYPE for any other value (another
    /// module's type included), as Redis's `RM_ModuleTypeGetValue` callers check.
    ///
    /// # Errors
    /// [`CommandError::WrongType`](crate::errors::CommandError::WrongType).
    pub fn as_module(
        &self,
        ty: &ModuleTypeRef,
    ) -> Result<&ModuleValue, crate::errors::CommandError> {
        match self {
            crate::types::Value::Module(m) if Arc::ptr_eq(&m.ty, ty) => Ok(m),
            _ => Err(crate::errors::CommandError::WrongType),
        }
    }

    /// [`as_module`](Self::as_module), for changing the value in place.
    ///
    /// # Errors
    /// As [`as_module`](Self::as_module).
    pub fn as_module_mut(
        &mut self,
        ty: &ModuleTypeRef,
    ) -> Result<&mut ModuleValue, crate::errors::CommandError> {
        match self {
            crate::types::Value::Module(m) if Arc::ptr_eq(&m.ty, ty) => Ok(m),
            _ => Err(crate::errors::CommandError::WrongType),
        }
    }
}

/// Tells a module value's type that `key` no longer holds it (see [`ModuleType::unlink`]); the
/// database calls it for every value it lets go of.
#[inline]
pub(crate) fn unlinked(key: &[u8], value: &crate::types::Value) {
    if let crate::types::Value::Module(m) = value {
        m.ty.methods.unlink(key, m.data());
    }
}

impl Drop for ModuleValue {
    fn drop(&mut self) {
        self.ty.live.fetch_sub(1, Ordering::SeqCst);
    }
}

impl std::fmt::Debug for ModuleValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ModuleValue({})", self.ty.name)
    }
}

/// `Value` is `Clone` for the built-in types' sake. Cloning a module value goes through its
/// `copy` callback (COPY checks [`ModuleValue::try_copy`] first and answers its errors); a type
/// that cannot copy clones into a value sharing nothing with the original but its type — this
/// path is not reachable from commands.
impl Clone for ModuleValue {
    fn clone(&self) -> ModuleValue {
        let target = CopyTarget {
            from_key: b"",
            to_key: b"",
            from_db: 0,
            to_db: 0,
        };
        self.try_copy(target).unwrap_or_else(|_| {
            tracing::warn!(module_type = %self.ty.name, "module value cloned without a copy callback");
            ModuleValue::new(&self.ty, Box::new(()))
        })
    }
}

/// Two module values are equal only when they are the same value.
impl PartialEq for ModuleValue {
    fn eq(&self, other: &ModuleValue) -> bool {
        std::ptr::eq(self, other)
    }
}

/// Why a type could not be registered or unregistered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypeRegistryError {
    /// The name is not 9 characters of [`NAME_CHARSET`], or the version is above 1023.
    #[error("invalid module type name or encoding version")]
    InvalidName,
    /// A type of that name exists (names are compared exactly; ids by their name part).
    #[error("a module type with this name is already registered")]
    NameTaken,
    /// No type of that name is registered.
    #[error("no such module type")]
    NoSuchType,
    /// Values of the type still exist.
    #[error("values of the module type still exist")]
    InUse,
}

/// The registered module types (in [`crate::modules::Modules::types`]). Cloning it is cheap
/// (a vector of handles): the persistence crate takes a copy to load a file.
#[derive(Debug, Clone, Default)]
pub struct ModuleTypes {
    types: Vec<ModuleTypeRef>,
}

impl ModuleTypes {
    /// Registers type `name` (9 characters of [`NAME_CHARSET`]) at encoding version `encver`
    /// for module `owner` (Redis's `RM_CreateDataType`).
    ///
    /// # Errors
    /// [`TypeRegistryError::InvalidName`] or [`TypeRegistryError::NameTaken`].
    pub fn register(
        &mut self,
        owner: &str,
        name: &str,
        encver: u32,
        methods: Box<dyn ModuleType>,
    ) -> Result<ModuleTypeRef, TypeRegistryError> {
        let id = encode_id(name, encver).ok_or(TypeRegistryError::InvalidName)?;
        if self.types.iter().any(|t| t.id >> 10 == id >> 10) {
            return Err(TypeRegistryError::NameTaken);
        }
        let ty = Arc::new(RegisteredType {
            name: name.to_string(),
            encver,
            id,
            owner: owner.to_string(),
            methods,
            live: AtomicUsize::new(0),
        });
        self.types.push(Arc::clone(&ty));
        Ok(ty)
    }

    /// Removes type `name`, refusing while values of it exist.
    ///
    /// # Errors
    /// [`TypeRegistryError::NoSuchType`] or [`TypeRegistryError::InUse`].
    pub fn unregister(&mut self, name: &str) -> Result<(), TypeRegistryError> {
        let index = self
            .types
            .iter()
            .position(|t| t.name == name)
            .ok_or(TypeRegistryError::NoSuchType)?;
        if self.types[index].live_values() > 0 {
            return Err(TypeRegistryError::InUse);
        }
        self.types.remove(index);
        Ok(())
    }

    /// Whether any type registered by `owner` has values (MODULE UNLOAD refuses then).
    pub fn owner_has_values(&self, owner: &str) -> bool {
        self.types
            .iter()
            .any(|t| t.owner == owner && t.live_values() > 0)
    }

    /// Removes every type of `owner`, or none if any of them has values.
    ///
    /// # Errors
    /// [`TypeRegistryError::InUse`].
    pub fn unregister_owner(&mut self, owner: &str) -> Result<(), TypeRegistryError> {
        if self.owner_has_values(owner) {
            return Err(TypeRegistryError::InUse);
        }
        self.types.retain(|t| t.owner != owner);
        Ok(())
    }

    /// The type called `name` (exact).
    pub fn by_name(&self, name: &str) -> Option<&ModuleTypeRef> {
        self.types.iter().find(|t| t.name == name)
    }

    /// The type an RDB id names, whatever encoding version the id carries.
    pub fn by_id(&self, id: u64) -> Option<&ModuleTypeRef> {
        self.types.iter().find(|t| t.id >> 10 == id >> 10)
    }

    /// Every registered type, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &ModuleTypeRef> {
        self.types.iter()
    }

    /// Whether no type is registered.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }
}

/// Writes a module value's fields ([`ModuleType::rdb_save`]); the bytes are RDB-encoded as
/// Redis writes them (lengths in RDB length encoding, strings uncompressed).
#[derive(Debug, Default)]
pub struct ModuleRdbWriter {
    out: Vec<u8>,
}

impl ModuleRdbWriter {
    /// An empty payload.
    pub fn new() -> ModuleRdbWriter {
        ModuleRdbWriter::default()
    }

    /// `RedisModule_SaveUnsigned`.
    pub fn save_unsigned(&mut self, value: u64) {
        self.length(opcode::UINT);
        self.length(value);
    }

    /// `RedisModule_SaveSigned` (the bits of `value` as an unsigned length).
    pub fn save_signed(&mut self, value: i64) {
        self.length(opcode::SINT);
        self.length(u64::from_ne_bytes(value.to_ne_bytes()));
    }

    /// `RedisModule_SaveFloat`.
    pub fn save_float(&mut self, value: f32) {
        self.length(opcode::FLOAT);
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    /// `RedisModule_SaveDouble`.
    pub fn save_double(&mut self, value: f64) {
        self.length(opcode::DOUBLE);
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    /// `RedisModule_SaveStringBuffer`.
    pub fn save_string(&mut self, value: &[u8]) {
        self.length(opcode::STRING);
        self.length(value.len() as u64);
        self.out.extend_from_slice(value);
    }

    /// The payload written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.out
    }

    /// The payload.
    pub fn into_bytes(self) -> Vec<u8> {
        self.out
    }

    /// An RDB length: 6 bits, 14 bits, 32 bits or 64 bits big-endian by size.
    fn length(&mut self, n: u64) {
        write_rdb_length(&mut self.out, n);
    }
}

/// Appends `n` in RDB length encoding.
pub fn write_rdb_length(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if let Ok(n32) = u32::try_from(n) {
        out.push(0x80);
        out.extend_from_slice(&n32.to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// The RDB primitives a module value is read with; the persistence crate implements it over
/// its reader (and [`SliceSource`] over plain payloads written by [`ModuleRdbWriter`]).
pub trait RdbSource {
    /// An RDB length.
    ///
    /// # Errors
    /// A short or malformed input.
    fn read_length(&mut self) -> Result<u64, ModuleIoError>;

    /// An RDB string (any of its encodings).
    ///
    /// # Errors
    /// A short or malformed input.
    fn read_string(&mut self) -> Result<Vec<u8>, ModuleIoError>;

    /// `n` raw bytes.
    ///
    /// # Errors
    /// A short input.
    fn read_raw(&mut self, n: usize) -> Result<Vec<u8>, ModuleIoError>;
}

/// Reads a module value's fields ([`ModuleType::rdb_load`]): each `load_*` checks the field's
/// opcode, as Redis's `RedisModule_Load*` do, and fails on a mismatch.
pub struct ModuleRdbReader<'a> {
    source: &'a mut dyn RdbSource,
    key: &'a [u8],
    db: usize,
}

impl<'a> ModuleRdbReader<'a> {
    /// A reader of the value of `key` in database `db` over `source`.
    pub fn new(source: &'a mut dyn RdbSource, key: &'a [u8], db: usize) -> ModuleRdbReader<'a> {
        ModuleRdbReader { source, key, db }
    }

    /// The key being loaded (empty for RESTORE's payload check).
    pub fn key(&self) -> &[u8] {
        self.key
    }

    /// The database being loaded.
    pub fn db(&self) -> usize {
        self.db
    }

    fn expect(&mut self, wanted: u64, what: &str) -> Result<(), ModuleIoError> {
        let found = self.source.read_length()?;
        if found == wanted {
            Ok(())
        } else {
            Err(ModuleIoError(format!(
                "module value: expected {what} (opcode {wanted}), found opcode {found}"
            )))
        }
    }

    /// `RedisModule_LoadUnsigned`.
    ///
    /// # Errors
    /// A short input or another field in its place.
    pub fn load_unsigned(&mut self) -> Result<u64, ModuleIoError> {
        self.expect(opcode::UINT, "an unsigned integer")?;
        self.source.read_length()
    }

    /// `RedisModule_LoadSigned`.
    ///
    /// # Errors
    /// As [`load_unsigned`](Self::load_unsigned).
    pub fn load_signed(&mut self) -> Result<i64, ModuleIoError> {
        self.expect(opcode::SINT, "a signed integer")?;
        Ok(i64::from_ne_bytes(self.source.read_length()?.to_ne_bytes()))
    }

    /// `RedisModule_LoadFloat`.
    ///
    /// # Errors
    /// As [`load_unsigned`](Self::load_unsigned).
    pub fn load_float(&mut self) -> Result<f32, ModuleIoError> {
        self.expect(opcode::FLOAT, "a float")?;
        let raw = self.source.read_raw(4)?;
        let bytes: [u8; 4] = raw
            .try_into()
            .map_err(|_| ModuleIoError("short float".into()))?;
        Ok(f32::from_le_bytes(bytes))
    }

    /// `RedisModule_LoadDouble`.
    ///
    /// # Errors
    /// As [`load_unsigned`](Self::load_unsigned).
    pub fn load_double(&mut self) -> Result<f64, ModuleIoError> {
        self.expect(opcode::DOUBLE, "a double")?;
        let raw = self.source.read_raw(8)?;
        let bytes: [u8; 8] = raw
            .try_into()
            .map_err(|_| ModuleIoError("short double".into()))?;
        Ok(f64::from_le_bytes(bytes))
    }

    /// `RedisModule_LoadStringBuffer`.
    ///
    /// # Errors
    /// As [`load_unsigned`](Self::load_unsigned).
    pub fn load_string(&mut self) -> Result<Vec<u8>, ModuleIoError> {
        self.expect(opcode::STRING, "a string")?;
        self.source.read_string()
    }
}

/// An [`RdbSource`] over a payload in the plain encodings [`ModuleRdbWriter`] produces (no
/// LZF, no int-encoded strings): for tests and for bridges that keep payloads in memory.
#[derive(Debug)]
pub struct SliceSource<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> SliceSource<'a> {
    /// A source reading `data` from its start.
    pub fn new(data: &'a [u8]) -> SliceSource<'a> {
        SliceSource { data, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }
}

impl RdbSource for SliceSource<'_> {
    fn read_length(&mut self) -> Result<u64, ModuleIoError> {
        let first = *self.read_raw(1)?.first().unwrap_or(&0);
        match first >> 6 {
            0 => Ok(u64::from(first & 0x3f)),
            1 => {
                let next = self.read_raw(1)?;
                Ok((u64::from(first & 0x3f) << 8) | u64::from(next[0]))
            }
            _ if first == 0x80 => {
                let raw: [u8; 4] = self
                    .read_raw(4)?
                    .try_into()
                    .map_err(|_| ModuleIoError("short length".into()))?;
                Ok(u64::from(u32::from_be_bytes(raw)))
            }
            _ if first == 0x81 => {
                let raw: [u8; 8] = self
                    .read_raw(8)?
                    .try_into()
                    .map_err(|_| ModuleIoError("short length".into()))?;
                Ok(u64::from_be_bytes(raw))
            }
            _ => Err(ModuleIoError("unsupported length encoding".into())),
        }
    }

    fn read_string(&mut self) -> Result<Vec<u8>, ModuleIoError> {
        let len = usize::try_from(self.read_length()?)
            .map_err(|_| ModuleIoError("string too long".into()))?;
        self.read_raw(len)
    }

    fn read_raw(&mut self, n: usize) -> Result<Vec<u8>, ModuleIoError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or_else(|| ModuleIoError("short read".into()))?;
        let bytes = self.data[self.pos..end].to_vec();
        self.pos = end;
        Ok(bytes)
    }
}

/// What a type's `digest` callback feeds DEBUG DIGEST (Redis's `RedisModuleDigest`): elements
/// are added to the current sequence, which [`end_sequence`](Self::end_sequence) closes.
/// Ordered data adds elements in order then ends one sequence; unordered data (a set) ends a
/// sequence per element. Elements added after the last `end_sequence` are ignored, as in Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleDigest {
    key: Vec<u8>,
    db: usize,
    ops: Vec<DigestOp>,
}

/// One step of a [`ModuleDigest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestOp {
    /// Mix an element into the current sequence.
    Add(Vec<u8>),
    /// Close the sequence: XOR it into the value's digest and start a new one.
    EndSequence,
}

impl ModuleDigest {
    /// An empty digest of the value of `key` in database `db`.
    pub fn new(key: &[u8], db: usize) -> ModuleDigest {
        ModuleDigest {
            key: key.to_vec(),
            db,
            ops: Vec::new(),
        }
    }

    /// `RedisModule_DigestAddStringBuffer`.
    pub fn add_bytes(&mut self, element: &[u8]) {
        self.ops.push(DigestOp::Add(element.to_vec()));
    }

    /// `RedisModule_DigestAddLongLong`: the number's decimal form.
    pub fn add_i64(&mut self, n: i64) {
        self.add_bytes(itoa::Buffer::new().format(n).as_bytes());
    }

    /// `RedisModule_DigestEndSequence`.
    pub fn end_sequence(&mut self) {
        self.ops.push(DigestOp::EndSequence);
    }

    /// The key whose value is digested.
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The database of the key.
    pub fn db(&self) -> usize {
        self.db
    }

    /// The steps recorded, in order.
    pub fn ops(&self) -> &[DigestOp] {
        &self.ops
    }
}
