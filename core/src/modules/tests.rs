//! The module extension points, driven by a Rust test module: a `testtype0` type holding a
//! list of integers, commands that create and read it, event subscribers and a blocking
//! command answered from another thread.

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

#[test]
fn event_names_are_interned_once() {
    let a = events::intern_event_name("bf.add");
    let b = events::intern_event_name(&String::from("bf.add"));
    assert!(std::ptr::eq(a, b));
}

#[test]
fn ids_pack_the_name_and_version_as_redis() {
    assert_eq!(encode_id("AAAAAAAAA", 0), Some(0));
    // 'B' is code 1 in the last position: 1 << 10, plus the version.
    assert_eq!(encode_id("AAAAAAAAB", 3), Some((1 << 10) | 3));
    assert_eq!(encode_id("short", 0), None);
    assert_eq!(encode_id("bad.name!", 0), None);
    assert_eq!(encode_id("testtype0", 1024), None);
    let id = encode_id("testtype0", 7).expect("valid");
    assert_eq!(name_from_id(id), "testtype0");
    assert_eq!(encver_from_id(id), 7);
}

#[test]
fn registry_refuses_bad_and_duplicate_names_and_busy_unregister() {
    let mut types = ModuleTypes::default();
    assert_eq!(
        types
            .register("m", "too-long-name", 0, Box::new(BareType))
            .err(),
        Some(types::TypeRegistryError::InvalidName)
    );
    let ty = types
        .register("m", "baretype1", 0, Box::new(BareType))
        .expect("registers");
    // Same name, other version: the same type on disk.
    assert_eq!(
        types
            .register("other", "baretype1", 5, Box::new(BareType))
            .err(),
        Some(types::TypeRegistryError::NameTaken)
    );
    assert!(
        types
            .by_id(encode_id("baretype1", 9).expect("id"))
            .is_some()
    );
    let value = ModuleValue::new(&ty, Box::new(()));
    assert_eq!(ty.live_values(), 1);
    assert!(types.owner_has_values("m"));
    assert_eq!(
        types.unregister("baretype1"),
        Err(types::TypeRegistryError::InUse)
    );
    let copy = value.clone();
    assert_eq!(ty.live_values(), 2);
    drop(value);
    drop(copy);
    assert_eq!(ty.live_values(), 0);
    assert_eq!(types.unregister_owner("m"), Ok(()));
    assert!(types.is_empty());
}

#[test]
fn payload_round_trips_through_writer_and_reader() {
    let (_r, ty) = runner_with_type();
    let value = ModuleValue::new(&ty, Box::new(Numbers(vec![1, -2, 300, i64::MIN])));
    let mut out = ModuleRdbWriter::new();
    value.save(&mut out);
    let bytes = out.into_bytes();
    let mut source = SliceSource::new(&bytes);
    let mut reader = ModuleRdbReader::new(&mut source, b"k", 0);
    let loaded = ty
        .methods()
        .rdb_load(&mut reader, ty.encoding_version())
        .expect("loads");
    assert_eq!(
        loaded.downcast_ref::<Numbers>(),
        Some(&Numbers(vec![1, -2, 300, i64::MIN]))
    );
    assert!(source.remaining().is_empty());
    // A field read as the wrong kind fails instead of misreading.
    let mut source = SliceSource::new(&bytes);
    let mut reader = ModuleRdbReader::new(&mut source, b"k", 0);
    assert!(reader.load_string().is_err());
}

#[test]
fn keyspace_commands_see_module_values() {
    let (mut r, ty) = runner_with_type();
    put(&mut r, 0, "n", numbers_value(&ty, &[1, 2, 3]));
    assert_eq!(r.run(["TYPE", "n"]), simple("testtype0"));
    assert_eq!(r.run(["OBJECT", "ENCODING", "n"]), bulk("raw"));
    assert_eq!(r.run(["EXISTS", "n"]), Frame::Integer(1));
    assert_eq!(r.run(["GET", "n"]), err(crate::errors::WRONG_TYPE));
    assert_eq!(r.run(["LPUSH", "n", "x"]), err(crate::errors::WRONG_TYPE));
    assert_eq!(
        r.run(["SCAN", "0", "TYPE", "testtype0"]),
        Frame::Array(vec![bulk("0"), Frame::Array(vec![bulk("n")])])
    );
    assert_eq!(
        r.run(["SCAN", "0", "TYPE", "string"]),
        Frame::Array(vec![bulk("0"), Frame::Array(vec![])])
    );
    // MEMORY USAGE counts the module's own figure.
    let Frame::Integer(usage) = r.run(["MEMORY", "USAGE", "n"]) else {
        panic!("integer expected");
    };
    assert!(usage >= 24, "{usage}");
    // COPY goes through the copy callback; the copy is independent.
    assert_eq!(r.run(["COPY", "n", "m"]), Frame::Integer(1));
    assert_eq!(numbers_at(&r, 0, "m"), Some(vec![1, 2, 3]));
    assert_eq!(ty.live_values(), 2);
    assert_eq!(r.run(["RENAME", "m", "o"]), Frame::ok());
    assert_eq!(numbers_at(&r, 0, "o"), Some(vec![1, 2, 3]));
    assert_eq!(r.run(["MOVE", "o", "1"]), Frame::Integer(1));
    assert_eq!(numbers_at(&r, 1, "o"), Some(vec![1, 2, 3]));
    assert_eq!(r.run(["SWAPDB", "0", "1"]), Frame::ok());
    assert_eq!(numbers_at(&r, 0, "o"), Some(vec![1, 2, 3]));
    assert_eq!(r.run(["DEL", "o"]), Frame::Integer(1));
    assert_eq!(ty.live_values(), 1);
    assert_eq!(r.run(["FLUSHALL"]), Frame::ok());
    assert_eq!(ty.live_values(), 0);
    assert_eq!(r.server.modules.types.unregister("testtype0"), Ok(()));
}

/// `NUM.PUSH key n`: appends to a `testtype0` value through the context, as a module command.
fn num_push(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let n = args.next_i64()?;
    let ty = ctx
        .server
        .modules
        .types
        .by_name("testtype0")
        .cloned()
        .ok_or(crate::errors::CommandError::msg("ERR no type"))?;
    let len = match ctx.value_mut(key) {
        Some(value) => {
            let numbers = value
                .as_module_mut(&ty)?
                .downcast_mut::<Numbers>()
                .ok_or(crate::errors::CommandError::WrongType)?;
            numbers.0.push(n);
            numbers.0.len()
        }
        None => {
            ctx.set(
                key,
                Value::module(&ty, Box::new(Numbers(vec![n]))),
                crate::db::Ttl::Keep,
            );
            1
        }
    };
    ctx.notify(class::MODULE, events::intern_event_name("num.push"), key);
    ctx.changed(1);
    Ok(Frame::Integer(i64::try_from(len).unwrap_or(i64::MAX)))
}

#[test]
fn a_command_creates_and_changes_module_values() {
    let (mut r, ty) = runner_with_type();
    r.server
        .table
        .register(CommandSpec::new("num.push", Arity::Exact(3), num_push).flags(&[Flag::Write]))
        .expect("registers");
    let (seen, _) = record_keyspace(&mut r, class::MODULE);
    assert_eq!(r.run(["NUM.PUSH", "k", "5"]), Frame::Integer(1));
    assert_eq!(r.run(["NUM.PUSH", "k", "6"]), Frame::Integer(2));
    assert_eq!(numbers_at(&r, 0, "k"), Some(vec![5, 6]));
    r.run(["SET", "s", "x"]);
    assert_eq!(
        r.run(["NUM.PUSH", "s", "1"]),
        err(crate::errors::WRONG_TYPE)
    );
    assert_eq!(ty.live_values(), 1);
    assert_eq!(
        *seen.lock().expect("lock"),
        vec!["0:num.push:k", "0:num.push:k"]
    );
}

#[test]
fn copy_without_callback_is_refused_with_redis_text() {
    let mut r = CommandRunner::with_builtin_commands();
    let ty = r
        .server
        .modules
        .types
        .register("bare", "baretype1", 0, Box::new(BareType))
        .expect("registers");
    put(
        &mut r,
        0,
        "b",
        Value::Module(Box::new(ModuleValue::new(&ty, Box::new(())))),
    );
    assert_eq!(
        r.run(["COPY", "b", "c"]),
        err("ERR not supported for this module key")
    );
    assert_eq!(r.run(["EXISTS", "c"]), Frame::Integer(0));
}

#[test]
fn digest_uses_the_module_callback() {
    let (mut r, ty) = runner_with_type();
    put(&mut r, 0, "a", numbers_value(&ty, &[1, 2]));
    put(&mut r, 0, "b", numbers_value(&ty, &[1, 2]));
    put(&mut r, 0, "c", numbers_value(&ty, &[2, 1]));
    let digest = |r: &mut CommandRunner, key: &str| r.run(["DEBUG", "DIGEST-VALUE", key]);
    let a = digest(&mut r, "a");
    assert_eq!(a, digest(&mut r, "b"));
    assert_ne!(a, digest(&mut r, "c"));
    assert_ne!(a, Frame::Array(vec![simple(&"0".repeat(40))]));
    let before = r.run(["DEBUG", "DIGEST"]);
    assert_eq!(r.run(["DEL", "c"]), Frame::Integer(1));
    assert_ne!(before, r.run(["DEBUG", "DIGEST"]));
    let steps = ModuleValue::new(&ty, Box::new(Numbers(vec![7]))).digest(b"k", 0);
    assert_eq!(
        steps.ops(),
        &[DigestOp::Add(b"7".to_vec()), DigestOp::EndSequence]
    );
}

#[test]
fn aof_rewrite_and_mem_usage_come_from_the_type() {
    let (_r, ty) = runner_with_type();
    let value = ModuleValue::new(&ty, Box::new(Numbers(vec![4, 5])));
    assert_eq!(
        value.rewrite(b"key"),
        vec![vec![
            Bytes::from_static(b"NUM.PUSH"),
            Bytes::from_static(b"key"),
            Bytes::from_static(b"4"),
            Bytes::from_static(b"5"),
        ]]
    );
    assert!(value.mem_usage() >= 16);
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

#[test]
fn keyspace_subscribers_hear_their_classes_without_notify_keyspace_events() {
    let mut r = CommandRunner::with_builtin_commands();
    assert!(r.server.config.notify_keyspace_events == 0);
    let (seen, id) = record_keyspace(&mut r, class::LIST | class::GENERIC);
    r.run(["SET", "s", "1"]);
    r.run(["RPUSH", "l", "a"]);
    r.run(["LPOP", "l"]);
    r.run(["SELECT", "2"]);
    r.run(["RPUSH", "m", "b"]);
    r.run(["EXPIRE", "m", "100"]);
    assert_eq!(
        *seen.lock().expect("lock"),
        vec![
            "0:rpush:l",
            "0:lpop:l",
            "0:del:l",
            "2:rpush:m",
            "2:expire:m"
        ]
    );
    assert!(events::unsubscribe(&mut r.server, id));
    r.run(["RPUSH", "m", "c"]);
    assert_eq!(seen.lock().expect("lock").len(), 5);
    assert_eq!(r.server.events.module_mask, 0);
}

#[test]
fn events_raised_by_a_callback_are_delivered_in_a_later_round() {
    let mut r = CommandRunner::with_builtin_commands();
    // A subscriber to string events that records a `touched` GENERIC event of its own.
    events::subscribe_keyspace(
        &mut r.server,
        "writer",
        class::STRING,
        Box::new(|server, event| {
            server.events.push(crate::events::KeyEvent {
                class: class::GENERIC,
                name: "touched",
                db: event.db,
                key: event.key.clone(),
            });
        }),
    );
    let (seen, _) = record_keyspace(&mut r, class::GENERIC);
    r.run(["SET", "k", "v"]);
    assert_eq!(*seen.lock().expect("lock"), vec!["0:touched:k"]);
}

#[test]
fn server_events_reach_their_subscribers() {
    let mut r = CommandRunner::with_builtin_commands();
    let seen: Arc<Mutex<Vec<ServerEvent>>> = Arc::default();
    for kind in [
        ServerEventKind::Flush,
        ServerEventKind::ClientChange,
        ServerEventKind::CronTick,
    ] {
        let log = Arc::clone(&seen);
        events::subscribe_server_event(
            &mut r.server,
            "ev",
            kind,
            Box::new(move |_server, event| log.lock().expect("lock").push(event.clone())),
        );
    }
    r.run(["SELECT", "3"]);
    r.run(["FLUSHDB"]);
    r.run(["FLUSHALL"]);
    let now = r.server.now_ms();
    // An internal client (no connection) is not an event; a connection is.
    let internal = r
        .server
        .connect_client(|id| Client::new(id, Peer::Internal, true, now));
    r.server.disconnect_client(internal);
    let inbox: Arc<dyn ConnectionHandle> = Arc::new(Inbox::default());
    let id = r.server.connect_client(|id| {
        let mut client = Client::new(id, Peer::Internal, true, now);
        client.handle = Some(inbox);
        client
    });
    r.server.disconnect_client(id);
    events::cron_tick(&mut r.server);
    let hz = r.server.config.hz;
    assert_eq!(
        *seen.lock().expect("lock"),
        vec![
            ServerEvent::Flush {
                phase: Phase::Start,
                db: Some(3)
            },
            ServerEvent::Flush {
                phase: Phase::End,
                db: Some(3)
            },
            ServerEvent::Flush {
                phase: Phase::Start,
                db: None
            },
            ServerEvent::Flush {
                phase: Phase::End,
                db: None
            },
            ServerEvent::ClientConnected(id),
            ServerEvent::ClientDisconnected(id),
            ServerEvent::CronTick { hz, cycle: 1 },
        ]
    );
    forget_owner(&mut r.server, "ev").expect("no types");
    r.run(["FLUSHALL"]);
    assert_eq!(seen.lock().expect("lock").len(), 7);
}

#[test]
fn a_callback_may_unsubscribe_itself() {
    let mut r = CommandRunner::with_builtin_commands();
    let calls = Arc::new(Mutex::new(0));
    let count = Arc::clone(&calls);
    let id = Arc::new(Mutex::new(0));
    let own_id = Arc::clone(&id);
    let subscription = events::subscribe_keyspace(
        &mut r.server,
        "once",
        class::STRING,
        Box::new(move |server, _event| {
            *count.lock().expect("lock") += 1;
            let me = *own_id.lock().expect("lock");
            events::unsubscribe(server, me);
        }),
    );
    *id.lock().expect("lock") = subscription;
    r.run(["SET", "a", "1"]);
    r.run(["SET", "b", "1"]);
    assert_eq!(*calls.lock().expect("lock"), 1);
    assert_eq!(r.server.modules.subscriptions.counts(), (0, 0));
}

#[test]
fn module_configs_in_config_get_and_set() {
    let mut r = CommandRunner::with_builtin_commands();
    let applied: Seen = Arc::default();
    let log = Arc::clone(&applied);
    let configs = &mut r.server.modules.configs;
    configs
        .register(ConfigSpec {
            module: "mymod".into(),
            name: "enabled".into(),
            kind: ConfigKind::Bool { default: true },
            flags: 0,
            on_set: Some(Box::new(move |name, value| {
                log.lock().expect("lock").push(format!("{name}={value:?}"));
                Ok(())
            })),
            on_apply: None,
        })
        .expect("registers");
    configs
        .register(ConfigSpec {
            module: "mymod".into(),
            name: "limit".into(),
            kind: ConfigKind::Numeric {
                default: 10,
                min: 0,
                max: 100,
            },
            flags: 0,
            on_set: None,
            on_apply: None,
        })
        .expect("registers");
    configs
        .register(ConfigSpec {
            module: "mymod".into(),
            name: "mode".into(),
            kind: ConfigKind::Enum {
                default: 1,
                names: vec![("fast".into(), 1), ("safe".into(), 2)],
            },
            flags: 0,
            on_set: None,
            on_apply: None,
        })
        .expect("registers");
    configs
        .register(ConfigSpec {
            module: "mymod".into(),
            name: "fixed".into(),
            kind: ConfigKind::String { default: None },
            flags: flags::IMMUTABLE,
            on_set: None,
            on_apply: None,
        })
        .expect("registers");
    assert_eq!(
        configs.register(ConfigSpec {
            module: "mymod".into(),
            name: "limit".into(),
            kind: ConfigKind::Bool { default: true },
            flags: 0,
            on_set: None,
            on_apply: None,
        }),
        Err(config::ConfigRegistryError::Exists)
    );
    let pairs =
        |items: &[&str]| Frame::Map(items.chunks(2).map(|p| (bulk(p[0]), bulk(p[1]))).collect());
    assert_eq!(
        r.run(["CONFIG", "GET", "mymod.*"]),
        pairs(&[
            "mymod.enabled",
            "yes",
            "mymod.limit",
            "10",
            "mymod.mode",
            "fast",
            "mymod.fixed",
            ""
        ])
    );
    assert_eq!(
        r.run([
            "CONFIG",
            "SET",
            "mymod.limit",
            "50",
            "maxmemory",
            "1mb",
            "mymod.mode",
            "safe"
        ]),
        Frame::ok()
    );
    assert_eq!(
        r.run(["CONFIG", "GET", "mymod.limit", "mymod.mode", "maxmemory"]),
        pairs(&[
            "maxmemory",
            "1048576",
            "mymod.limit",
            "50",
            "mymod.mode",
            "safe"
        ])
    );
    // All or nothing: a bad module value leaves the built-in one unchanged.
    assert_eq!(
        r.run(["CONFIG", "SET", "maxmemory", "2mb", "mymod.limit", "500"]),
        err(
            "ERR CONFIG SET failed (possibly related to argument 'mymod.limit') - argument must be between 0 and 100 inclusive"
        )
    );
    assert_eq!(r.server.config.maxmemory, 1_048_576);
    assert_eq!(
        r.run(["CONFIG", "SET", "mymod.enabled", "maybe"]),
        err(
            "ERR CONFIG SET failed (possibly related to argument 'mymod.enabled') - argument must be 'yes' or 'no'"
        )
    );
    assert_eq!(
        r.run(["CONFIG", "SET", "mymod.fixed", "x"]),
        err(
            "ERR CONFIG SET failed (possibly related to argument 'mymod.fixed') - can't set immutable config"
        )
    );
    assert_eq!(
        r.run(["CONFIG", "SET", "mymod.mode", "other"]),
        err(
            "ERR CONFIG SET failed (possibly related to argument 'mymod.mode') - argument(s) must be one of the following: fast, safe"
        )
    );
    assert_eq!(r.run(["CONFIG", "SET", "mymod.enabled", "no"]), Frame::ok());
    assert_eq!(
        *applied.lock().expect("lock"),
        vec!["mymod.enabled=Bool(false)"]
    );
    assert_eq!(
        r.server.modules.configs.rewrite_lines(),
        vec![
            ("mymod.enabled".to_string(), "no".to_string(), true),
            ("mymod.limit".to_string(), "50".to_string(), true),
            ("mymod.mode".to_string(), "safe".to_string(), true),
            ("mymod.fixed".to_string(), "\"\"".to_string(), false),
        ]
    );
    let rewritten = r.server.config.rewrite_content_with(
        "port 6379\nmymod.limit 20\nmymod.fixed abc\n",
        false,
        &r.server.modules.configs.rewrite_lines(),
    );
    assert!(rewritten.contains("mymod.limit 50\n"), "{rewritten}");
    assert!(rewritten.contains("mymod.enabled no\n"), "{rewritten}");
    assert!(!rewritten.contains("???"), "{rewritten}");
    forget_owner(&mut r.server, "mymod").expect("no types");
    assert_eq!(r.run(["CONFIG", "GET", "mymod.*"]), Frame::Map(vec![]));
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

static HANDLES: Mutex<Vec<BlockedHandle>> = Mutex::new(Vec::new());

fn block_cmd(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let timeout_ms = args.next_i64()?;
    let timeout = u64::try_from(timeout_ms)
        .ok()
        .filter(|&ms| ms > 0)
        .map(std::time::Duration::from_millis);
    let (handle, reply) = block_client(ctx, timeout, Frame::Null)?;
    HANDLES.lock().expect("lock").push(handle);
    Ok(reply)
}

fn blocking_server() -> (crate::Server, u64, Arc<Inbox>) {
    let mut server = crate::Server::new(crate::config::Config::default());
    server
        .table
        .register(
            CommandSpec::new("test.block", Arity::Exact(2), block_cmd).flags(&[Flag::NoScript]),
        )
        .ok();
    let inbox = Arc::new(Inbox::default());
    let now = server.now_ms();
    let handle: Arc<dyn ConnectionHandle> = Arc::clone(&inbox) as Arc<dyn ConnectionHandle>;
    let id = server.connect_client(|id| {
        let mut client = Client::new(id, Peer::Internal, true, now);
        client.handle = Some(handle);
        client
    });
    (server, id, inbox)
}

fn argv(items: &[&str]) -> Vec<Bytes> {
    items
        .iter()
        .map(|s| Bytes::copy_from_slice(s.as_bytes()))
        .collect()
}

/// The handles test.block made, taken (tests run in parallel: each takes only its own
/// client's).
fn take_handle(client: u64) -> BlockedHandle {
    let mut handles = HANDLES.lock().expect("lock");
    let index = handles
        .iter()
        .position(|h| h.client_id() == client)
        .expect("a handle");
    handles.remove(index)
}

#[test]
fn a_blocked_client_is_answered_from_another_thread() {
    let (mut server, id, inbox) = blocking_server();
    let outcome = execute(&mut server, id, &argv(&["test.block", "0"]));
    assert!(matches!(outcome, Outcome::Blocked(_)));
    assert!(server.blocked.is_blocked(id));
    assert_eq!(server.blocked.len(), 1);
    let handle = take_handle(id);
    std::thread::spawn(move || handle.complete(bulk("done")))
        .join()
        .expect("thread")
        .expect("client waits");
    assert_eq!(*inbox.0.lock().expect("lock"), vec![bulk("done")]);
    // Answered: not blocked any more, and a late timeout does not answer again.
    assert!(!server.blocked.is_blocked(id));
    assert_eq!(server.blocked.len(), 0);
    assert!(server.blocked.unblock(id).is_none());
}

#[test]
fn a_timed_out_client_refuses_the_late_reply() {
    let (mut server, id, inbox) = blocking_server();
    let outcome = execute(&mut server, id, &argv(&["test.block", "50"]));
    assert!(matches!(outcome, Outcome::Blocked(_)));
    let handle = take_handle(id);
    // The connection's timer fires: it takes the record and answers the timeout reply.
    let record = server.blocked.unblock(id).expect("still blocked");
    assert_eq!(record.timeout_reply, Frame::Null);
    assert!(handle.is_aborted());
    assert_eq!(handle.complete(bulk("late")), Err(bulk("late")));
    assert!(inbox.0.lock().expect("lock").is_empty());
}

#[test]
fn a_completion_before_the_block_is_recorded_is_delivered() {
    let (mut server, id, inbox) = blocking_server();
    // The handler runs (through `dispatch`, which records nothing), another thread completes
    // the handle, and only then is the block recorded: the reply goes out at once.
    let reply = crate::dispatch::dispatch(&mut server, id, &argv(&["test.block", "0"]));
    assert_eq!(reply, Frame::Null);
    let handle = take_handle(id);
    assert!(handle.complete(bulk("early")).is_ok());
    assert!(inbox.0.lock().expect("lock").is_empty());
    server.blocked.block(
        id,
        crate::blocking::BlockedClient {
            db: 0,
            keys: Vec::new(),
            wants: crate::types::ValueType::Module,
            argv: argv(&["test.block", "0"]),
            timeout_reply: Frame::Null,
            key_gone_reply: None,
            deadline: None,
        },
    );
    assert_eq!(*inbox.0.lock().expect("lock"), vec![bulk("early")]);
    assert!(!server.blocked.is_blocked(id));
    // A later BLPOP of the same client blocks normally.
    let outcome = execute(&mut server, id, &argv(&["BLPOP", "list", "0"]));
    assert!(matches!(outcome, Outcome::Blocked(_)));
    assert!(server.blocked.is_blocked(id));
}

#[test]
fn blocking_inside_exec_answers_at_once() {
    let (mut server, id, _inbox) = blocking_server();
    execute(&mut server, id, &argv(&["MULTI"]));
    execute(&mut server, id, &argv(&["test.block", "0"]));
    let Outcome::Reply(reply) = execute(&mut server, id, &argv(&["EXEC"])) else {
        panic!("EXEC replies");
    };
    assert_eq!(reply, Frame::Array(vec![Frame::Null]));
    // The stray handle is refused once another command blocks the client.
    let handle = take_handle(id);
    let outcome = execute(&mut server, id, &argv(&["BLPOP", "list", "0"]));
    assert!(matches!(outcome, Outcome::Blocked(_)));
    assert!(handle.complete(bulk("nobody")).is_err());
}
