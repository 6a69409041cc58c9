//! The module extension points, driven by a Rust test module: a `testtype0` type holding a
//! list of integers, commands that create and read it, event subscribers and a blocking
//! command answered from another thread. Shared helpers here; the tests by area below.

use std::any::Any;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use oxidis_protocol::Frame;

use super::config::flags;
use super::events::{Phase, ServerEvent, ServerEventKind};
use super::types::{DigestOp, SliceSource, encode_id, encver_from_id, name_from_id};
use super::*;
use crate::client::{Client, ConnectionHandle, Peer};
use crate::command::{Args, Arity, CommandResult, CommandSpec, Flag};
use crate::context::CommandContext;
use crate::dispatch::{Outcome, execute};
use crate::events::class;
use crate::testing::{CommandRunner, bulk, err, simple};
use crate::types::Value;

/// The test type's data: integers in order.
#[derive(Debug, Clone, PartialEq)]
struct Numbers(Vec<i64>);

struct NumbersType;

impl ModuleType for NumbersType {
    fn rdb_save(&self, value: &dyn Any, out: &mut ModuleRdbWriter) {
        let Some(numbers) = value.downcast_ref::<Numbers>() else {
            return;
        };
        out.save_unsigned(numbers.0.len() as u64);
        for n in &numbers.0 {
            out.save_signed(*n);
        }
        out.save_string(b"end");
        out.save_double(1.5);
        out.save_float(0.25);
    }

    fn rdb_load(
        &self,
        input: &mut ModuleRdbReader<'_>,
        encver: u32,
    ) -> Result<Box<dyn Any + Send>, ModuleIoError> {
        if encver > 1 {
            return Err(ModuleIoError("unknown encoding version".into()));
        }
        let len = input.load_unsigned()?;
        let mut numbers = Vec::new();
        for _ in 0..len {
            numbers.push(input.load_signed()?);
        }
        assert_eq!(input.load_string()?, b"end");
        assert_eq!(input.load_double()?, 1.5);
        assert_eq!(input.load_float()?, 0.25);
        Ok(Box::new(Numbers(numbers)))
    }

    fn aof_rewrite(&self, value: &dyn Any, key: &[u8], emit: &mut dyn FnMut(Vec<Bytes>)) {
        if let Some(numbers) = value.downcast_ref::<Numbers>() {
            let mut argv = vec![Bytes::from_static(b"NUM.PUSH"), Bytes::copy_from_slice(key)];
            argv.extend(numbers.0.iter().map(|n| Bytes::from(n.to_string())));
            emit(argv);
        }
    }

    fn mem_usage(&self, value: &dyn Any) -> usize {
        value
            .downcast_ref::<Numbers>()
            .map_or(0, |n| n.0.capacity() * 8)
    }

    fn copy(
        &self,
        value: &dyn Any,
        _target: CopyTarget<'_>,
    ) -> Result<Box<dyn Any + Send>, CopyError> {
        value
            .downcast_ref::<Numbers>()
            .map(|n| Box::new(n.clone()) as Box<dyn Any + Send>)
            .ok_or(CopyError::Failed)
    }

    fn digest(&self, value: &dyn Any, digest: &mut ModuleDigest) {
        if let Some(numbers) = value.downcast_ref::<Numbers>() {
            for n in &numbers.0 {
                digest.add_i64(*n);
            }
            digest.end_sequence();
        }
    }
}

/// A type with no optional callbacks.
struct BareType;

impl ModuleType for BareType {
    fn rdb_save(&self, _value: &dyn Any, _out: &mut ModuleRdbWriter) {}

    fn rdb_load(
        &self,
        _input: &mut ModuleRdbReader<'_>,
        _encver: u32,
    ) -> Result<Box<dyn Any + Send>, ModuleIoError> {
        Ok(Box::new(()))
    }
}

fn numbers_value(ty: &ModuleTypeRef, numbers: &[i64]) -> Value {
    Value::Module(Box::new(ModuleValue::new(
        ty,
        Box::new(Numbers(numbers.to_vec())),
    )))
}

fn runner_with_type() -> (CommandRunner, ModuleTypeRef) {
    let mut r = CommandRunner::with_config(crate::config::Config {
        enable_debug_command: crate::config::ProtectedAccess::Yes,
        ..crate::config::Config::default()
    });
    let ty = r
        .server
        .modules
        .types
        .register("numbers", "testtype0", 1, Box::new(NumbersType))
        .expect("registers");
    (r, ty)
}

fn put(r: &mut CommandRunner, db: usize, key: &str, value: Value) {
    let clock = r.server.lru_clock();
    r.server.dbs[db].insert_new(
        crate::types::CompactBytes::new(key.as_bytes()),
        value,
        None,
        clock,
    );
}

fn numbers_at(r: &CommandRunner, db: usize, key: &str) -> Option<Vec<i64>> {
    let database = &r.server.dbs[db];
    let pos = database.find(key.as_bytes())?;
    match &database.entry(pos).value {
        Value::Module(m) => m.downcast_ref::<Numbers>().map(|n| n.0.clone()),
        _ => None,
    }
}

type Seen = Arc<Mutex<Vec<String>>>;

fn record_keyspace(r: &mut CommandRunner, mask: u32) -> (Seen, events::SubscriptionId) {
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    let id = events::subscribe_keyspace(
        &mut r.server,
        "ev",
        mask,
        Box::new(move |_server, event| {
            let line = format!(
                "{}:{}:{}",
                event.db,
                event.name,
                String::from_utf8_lossy(&event.key)
            );
            log.lock().expect("lock").push(line);
        }),
    );
    (seen, id)
}

/// A connection that records what is delivered to it.
#[derive(Default)]
struct Inbox(Mutex<Vec<Frame>>);

impl ConnectionHandle for Inbox {
    fn close(&self) {}

    fn deliver(&self, reply: Frame) {
        self.0.lock().expect("lock").push(reply);
    }

    fn push(&self, _message: Frame) {}
}

mod blocking;
mod data_types;
mod listing;
mod parameters;
mod subscriptions;
