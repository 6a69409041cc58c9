//! Module data types: values only their module understands, stored in the keyspace like any
//! other value, saved in RDB files (with an encoding version), rewritten into the AOF, dumped
//! and restored, copied, measured and digested through the type's [`DataType`] callbacks.
//!
//! ```ignore
//! static COUNTER: TypeSlot<u64> = TypeSlot::new();
//!
//! struct CounterType;
//! impl DataType for CounterType {
//!     type Value = u64;
//!     fn rdb_save(&self, value: &u64, out: &mut RdbOut) { out.unsigned(*value) }
//!     fn rdb_load(&self, input: &mut RdbIn<'_>, _encver: u32) -> Result<u64, Error> {
//!         input.unsigned()
//!     }
//! }
//!
//! fn init(ctx: &mut LoadContext<'_>, _args: &[String]) -> Result<(), Error> {
//!     COUNTER.set(ctx.create_data_type("counter-1", 0, CounterType)?);
//!     Ok(())
//! }
//! ```

use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};

use abi_stable::sabi_trait::TD_CanDowncast;
use abi_stable::sabi_types::RMut;
use abi_stable::std_types::{
    RBox, RErr, RNone, ROk, ROption, RResult, RSlice, RSome, RString, RVec,
};

use crate::Error;
use crate::abi::{Field, RdbInput_TO, TypeObj, ValueObj, ValueObj_TO};

/// A module data type's callbacks (Redis's `RedisModuleTypeMethods`). Every callback runs on
/// the server's command thread; none may block. A panic in one is caught: saving then writes
/// what was produced so far, loading fails, the others fall back to their defaults.
pub trait DataType: Send + Sync + 'static {
    /// The value type the keyspace holds for this data type.
    type Value: Send + 'static;

    /// Writes `value` as fields, read back in the same order by [`DataType::rdb_load`] (RDB
    /// files, DUMP payloads).
    fn rdb_save(&self, value: &Self::Value, out: &mut RdbOut);

    /// Reads a value written at encoding version `encver` (possibly an older one).
    ///
    /// # Errors
    /// Anything unreadable: the load fails.
    fn rdb_load(&self, input: &mut RdbIn<'_>, encver: u32) -> Result<Self::Value, Error>;

    /// The commands (argv lists) that rebuild `value` under `key`, for AOF rewrites. None by
    /// default: the value is then lost by an AOF rewrite, as in Redis.
    fn aof_rewrite(&self, value: &Self::Value, key: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let _ = (value, key);
        Vec::new()
    }

    /// Bytes used by `value` (MEMORY USAGE, eviction).
    fn mem_usage(&self, value: &Self::Value) -> usize {
        let _ = value;
        0
    }

    /// A copy of `value` for COPY; None refuses ("not supported for this module key").
    fn copy(&self, value: &Self::Value) -> Option<Self::Value> {
        let _ = value;
        None
    }

    /// The byte strings DEBUG DIGEST mixes in for `value` (same value, same strings).
    fn digest(&self, value: &Self::Value) -> Vec<Vec<u8>> {
        let _ = value;
        Vec::new()
    }
}

/// A registered data type, for [`crate::Context::value_mut`] and [`crate::Context::set_value`].
pub struct TypeRef<V> {
    id: u64,
    _value: PhantomData<fn() -> V>,
}

impl<V> Clone for TypeRef<V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<V> Copy for TypeRef<V> {}

impl<V> TypeRef<V> {
    /// The type's 64-bit id (its name and encoding version, as RDB files store it).
    pub fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn from_id(id: u64) -> TypeRef<V> {
        TypeRef {
            id,
            _value: PhantomData,
        }
    }
}

/// A `static` home for a [`TypeRef`], set by the init function (again on every load).
pub struct TypeSlot<V> {
    id: AtomicU64,
    _value: PhantomData<fn() -> V>,
}

impl<V> Default for TypeSlot<V> {
    fn default() -> Self {
        TypeSlot::new()
    }
}

impl<V> TypeSlot<V> {
    /// An empty slot.
    pub const fn new() -> TypeSlot<V> {
        TypeSlot {
            id: AtomicU64::new(0),
            _value: PhantomData,
        }
    }

    /// Stores the type registered by this load.
    pub fn set(&self, ty: TypeRef<V>) {
        self.id.store(ty.id, Ordering::SeqCst);
    }

    /// The registered type.
    ///
    /// # Errors
    /// Before the module registered it.
    pub fn get(&self) -> Result<TypeRef<V>, Error> {
        match self.id.load(Ordering::SeqCst) {
            0 => Err(Error::new("ERR module data type not registered")),
            id => Ok(TypeRef::from_id(id)),
        }
    }
}

/// Where [`DataType::rdb_save`] writes fields (`RedisModule_Save*`).
#[derive(Debug, Default)]
pub struct RdbOut {
    fields: Vec<Field>,
}

impl RdbOut {
    /// An unsigned integer.
    pub fn unsigned(&mut self, value: u64) {
        self.fields.push(Field::Unsigned(value));
    }

    /// A signed integer.
    pub fn signed(&mut self, value: i64) {
        self.fields.push(Field::Signed(value));
    }

    /// A 32-bit float.
    pub fn float(&mut self, value: f32) {
        self.fields.push(Field::Float(value));
    }

    /// A double.
    pub fn double(&mut self, value: f64) {
        self.fields.push(Field::Double(value));
    }

    /// A byte string.
    pub fn bytes(&mut self, value: &[u8]) {
        self.fields.push(Field::String(RVec::from_slice(value)));
    }
}

/// Where [`DataType::rdb_load`] reads fields (`RedisModule_Load*`), in the order they were
/// saved; reading a field of another kind is an error.
pub struct RdbIn<'a> {
    input: RdbInput_TO<'a, RMut<'a, ()>>,
}

impl RdbIn<'_> {
    /// An unsigned integer.
    ///
    /// # Errors
    /// A short or mismatched payload.
    pub fn unsigned(&mut self) -> Result<u64, Error> {
        io(self.input.load_unsigned())
    }

    /// A signed integer.
    ///
    /// # Errors
    /// As [`RdbIn::unsigned`].
    pub fn signed(&mut self) -> Result<i64, Error> {
        io(self.input.load_signed())
    }

    /// A 32-bit float.
    ///
    /// # Errors
    /// As [`RdbIn::unsigned`].
    pub fn float(&mut self) -> Result<f32, Error> {
        io(self.input.load_float())
    }

    /// A double.
    ///
    /// # Errors
    /// As [`RdbIn::unsigned`].
    pub fn double(&mut self) -> Result<f64, Error> {
        io(self.input.load_double())
    }

    /// A byte string.
    ///
    /// # Errors
    /// As [`RdbIn::unsigned`].
    pub fn bytes(&mut self) -> Result<Vec<u8>, Error> {
        io(self.input.load_string()).map(RVec::into_vec)
    }
}

fn io<T>(result: RResult<T, RString>) -> Result<T, Error> {
    match result {
        ROk(v) => Ok(v),
        RErr(e) => Err(Error::new(e.into_string())),
    }
}

/// A value as the server holds it: the module's own value, boxed on the module's side.
pub(crate) struct Boxed<V>(pub V);

impl<V: Send + 'static> ValueObj for Boxed<V> {
    fn size_hint(&self) -> usize {
        std::mem::size_of::<V>()
    }
}

/// Wraps a value for the server.
pub(crate) fn value_obj<V: Send + 'static>(value: V) -> ValueObj_TO<RBox<()>> {
    ValueObj_TO::from_value(Boxed(value), TD_CanDowncast)
}

/// The module's value inside a server-held object, if it is a `V`.
pub(crate) fn value_ref<V: 'static>(obj: &ValueObj_TO<RBox<()>>) -> Option<&V> {
    obj.obj.downcast_as::<Boxed<V>>().ok().map(|b| &b.0)
}

/// [`value_ref`], mutably.
pub(crate) fn value_mut<V: 'static>(obj: &mut ValueObj_TO<RBox<()>>) -> Option<&mut V> {
    obj.obj.downcast_as_mut::<Boxed<V>>().ok().map(|b| &mut b.0)
}

/// The module side of the ABI's `TypeObj`: a [`DataType`] behind panic guards.
pub(crate) struct TypeAdapter<D>(pub D);

impl<D: DataType> TypeObj for TypeAdapter<D> {
    fn rdb_save(&self, value: &ValueObj_TO<RBox<()>>) -> RVec<Field> {
        let mut out = RdbOut::default();
        if let Some(v) = value_ref::<D::Value>(value) {
            let _ = catch_unwind(AssertUnwindSafe(|| self.0.rdb_save(v, &mut out)));
        }
        RVec::from(out.fields)
    }

    fn rdb_load<'a>(
        &self,
        input: RdbInput_TO<'a, RMut<'a, ()>>,
        encver: u32,
    ) -> RResult<ValueObj_TO<RBox<()>>, RString> {
        let mut input = RdbIn { input };
        match catch_unwind(AssertUnwindSafe(|| self.0.rdb_load(&mut input, encver))) {
            Ok(Ok(value)) => ROk(value_obj(value)),
            Ok(Err(e)) => RErr(e.text().into()),
            Err(_) => RErr("module data type load panicked".into()),
        }
    }

    fn aof_rewrite(
        &self,
        value: &ValueObj_TO<RBox<()>>,
        key: RSlice<'_, u8>,
    ) -> RVec<RVec<RVec<u8>>> {
        let Some(v) = value_ref::<D::Value>(value) else {
            return RVec::new();
        };
        catch_unwind(AssertUnwindSafe(|| self.0.aof_rewrite(v, key.as_slice())))
            .unwrap_or_default()
            .into_iter()
            .map(|argv| argv.into_iter().map(RVec::from).collect())
            .collect()
    }

    fn mem_usage(&self, value: &ValueObj_TO<RBox<()>>) -> usize {
        value_ref::<D::Value>(value)
            .and_then(|v| catch_unwind(AssertUnwindSafe(|| self.0.mem_usage(v))).ok())
            .unwrap_or(0)
    }

    fn copy(&self, value: &ValueObj_TO<RBox<()>>) -> ROption<ValueObj_TO<RBox<()>>> {
        let copied = value_ref::<D::Value>(value).and_then(|v| {
            catch_unwind(AssertUnwindSafe(|| self.0.copy(v)))
                .ok()
                .flatten()
        });
        match copied {
            Some(v) => RSome(value_obj(v)),
            None => RNone,
        }
    }

    fn digest(&self, value: &ValueObj_TO<RBox<()>>) -> RVec<RVec<u8>> {
        value_ref::<D::Value>(value)
            .and_then(|v| catch_unwind(AssertUnwindSafe(|| self.0.digest(v))).ok())
            .unwrap_or_default()
            .into_iter()
            .map(RVec::from)
            .collect()
    }
}
