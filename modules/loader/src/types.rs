//! Module data types across the ABI: [`ForeignType`] implements core's
//! [`ModuleType`] by calling the module's `TypeObj`, and [`ForeignValue`] is what the keyspace
//! holds (the module's boxed value; dropping it frees it with the module's own allocator).

use std::any::Any;

use bytes::Bytes;
use oxidis_core::modules::{
    CopyError, CopyTarget, ModuleDigest, ModuleIoError, ModuleRdbReader, ModuleRdbWriter,
    ModuleType,
};
use oxidis_module_api::abi::{Field, RdbInput, RdbInput_TO, TypeObj_TO, ValueObj_TO};
use oxidis_module_api::abi_stable::sabi_trait::TD_Opaque;
use oxidis_module_api::abi_stable::sabi_types::RMut;
use oxidis_module_api::abi_stable::std_types::{RBox, RErr, ROk, RResult, RSome, RString, RVec};

/// A module's type callbacks, as core calls them.
pub struct ForeignType(pub TypeObj_TO<RBox<()>>);

/// A module's value in the keyspace.
pub struct ForeignValue(pub ValueObj_TO<RBox<()>>);

fn foreign(value: &dyn Any) -> Option<&ValueObj_TO<RBox<()>>> {
    value.downcast_ref::<ForeignValue>().map(|v| &v.0)
}

impl ModuleType for ForeignType {
    fn rdb_save(&self, value: &dyn Any, out: &mut ModuleRdbWriter) {
        let Some(value) = foreign(value) else {
            return;
        };
        for field in self.0.rdb_save(value) {
            match field {
                Field::Unsigned(n) => out.save_unsigned(n),
                Field::Signed(n) => out.save_signed(n),
                Field::Float(f) => out.save_float(f),
                Field::Double(d) => out.save_double(d),
                Field::String(s) => out.save_string(&s),
            }
        }
    }

    fn rdb_load(
        &self,
        input: &mut ModuleRdbReader<'_>,
        encver: u32,
    ) -> Result<Box<dyn Any + Send>, ModuleIoError> {
        let mut input = Input(input);
        match self.0.rdb_load(
            RdbInput_TO::from_ptr(RMut::new(&mut input), TD_Opaque),
            encver,
        ) {
            ROk(value) => Ok(Box::new(ForeignValue(value))),
            RErr(text) => Err(ModuleIoError(text.into_string())),
        }
    }

    fn aof_rewrite(&self, value: &dyn Any, key: &[u8], emit: &mut dyn FnMut(Vec<Bytes>)) {
        let Some(value) = foreign(value) else {
            return;
        };
        for argv in self.0.aof_rewrite(value, key.into()) {
            emit(
                argv.into_iter()
                    .map(|a| Bytes::from(a.into_vec()))
                    .collect(),
            );
        }
    }

    fn mem_usage(&self, value: &dyn Any) -> usize {
        foreign(value).map_or(0, |v| v.size_hint() + self.0.mem_usage(v))
    }

    fn copy(
        &self,
        value: &dyn Any,
        _target: CopyTarget<'_>,
    ) -> Result<Box<dyn Any + Send>, CopyError> {
        let value = foreign(value).ok_or(CopyError::Failed)?;
        match self.0.copy(value) {
            RSome(copy) => Ok(Box::new(ForeignValue(copy))),
            _ => Err(CopyError::NotSupported),
        }
    }

    fn digest(&self, value: &dyn Any, digest: &mut ModuleDigest) {
        let Some(value) = foreign(value) else {
            return;
        };
        for element in self.0.digest(value) {
            digest.add_bytes(&element);
        }
        digest.end_sequence();
    }

    fn free_effort(&self, key: &[u8], value: &dyn Any) -> usize {
        foreign(value).map_or(1, |v| {
            usize::try_from(self.0.free_effort(v, key.into())).unwrap_or(usize::MAX)
        })
    }

    fn unlink(&self, key: &[u8], value: &dyn Any) {
        if let Some(v) = foreign(value) {
            self.0.unlink(v, key.into());
        }
    }
}

/// The server's payload reader, as the module's `RdbInput`.
struct Input<'r, 'a>(&'r mut ModuleRdbReader<'a>);

fn io<T>(result: Result<T, ModuleIoError>) -> RResult<T, RString> {
    match result {
        Ok(v) => ROk(v),
        Err(e) => RErr(e.0.into()),
    }
}

impl RdbInput for Input<'_, '_> {
    fn load_unsigned(&mut self) -> RResult<u64, RString> {
        io(self.0.load_unsigned())
    }

    fn load_signed(&mut self) -> RResult<i64, RString> {
        io(self.0.load_signed())
    }

    fn load_float(&mut self) -> RResult<f32, RString> {
        io(self.0.load_float())
    }

    fn load_double(&mut self) -> RResult<f64, RString> {
        io(self.0.load_double())
    }

    fn load_string(&mut self) -> RResult<RVec<u8>, RString> {
        io(self.0.load_string()).map(RVec::from)
    }
}
