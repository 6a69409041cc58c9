//! Module values (#9) through DUMP/RESTORE, whole files and the AOF rewrite, with a Rust test
//! type `testmod-1` holding a list of integers.

use std::any::Any;

use bytes::Bytes;
use oxidis_core::modules::{
    CopyError, CopyTarget, ModuleIoError, ModuleRdbReader, ModuleRdbWriter, ModuleType,
    ModuleTypeRef, ModuleValue,
};
use oxidis_core::testing::CommandRunner;
use oxidis_core::types::{CompactBytes, Value};

use crate::rdb::read::{LoadOptions, PayloadError, decode_dataset, restore_payload};
use crate::rdb::write::{SaveOptions, dump_payload, encode_dataset};

#[derive(Debug, Clone, PartialEq)]
struct Numbers(Vec<i64>, String);

struct NumbersType;

impl ModuleType for NumbersType {
    fn rdb_save(&self, value: &dyn Any, out: &mut ModuleRdbWriter) {
        if let Some(n) = value.downcast_ref::<Numbers>() {
            out.save_unsigned(n.0.len() as u64);
            n.0.iter().for_each(|v| out.save_signed(*v));
            out.save_string(n.1.as_bytes());
            out.save_double(2.5);
        }
    }

    fn rdb_load(
        &self,
        input: &mut ModuleRdbReader<'_>,
        encver: u32,
    ) -> Result<Box<dyn Any + Send>, ModuleIoError> {
        if encver != 3 {
            return Err(ModuleIoError(format!("encver {encver}")));
        }
        let len = input.load_unsigned()?;
        let mut values = Vec::new();
        for _ in 0..len {
            values.push(input.load_signed()?);
        }
        let label = String::from_utf8_lossy(&input.load_string()?).into_owned();
        if input.load_double()? != 2.5 {
            return Err(ModuleIoError("bad double".into()));
        }
        Ok(Box::new(Numbers(values, label)))
    }

    fn aof_rewrite(&self, value: &dyn Any, key: &[u8], emit: &mut dyn FnMut(Vec<Bytes>)) {
        if let Some(n) = value.downcast_ref::<Numbers>() {
            let mut argv = vec![Bytes::from_static(b"NUM.ADD"), Bytes::copy_from_slice(key)];
            argv.extend(n.0.iter().map(|v| Bytes::from(v.to_string())));
            emit(argv);
        }
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
}

fn runner() -> (CommandRunner, ModuleTypeRef) {
    let mut r = CommandRunner::with_builtin_commands();
    let ty = r
        .server
        .modules
        .types
        .register("nums", "testmod-1", 3, Box::new(NumbersType))
        .expect("registers");
    (r, ty)
}

fn numbers(ty: &ModuleTypeRef, values: &[i64], label: &str) -> Value {
    Value::Module(Box::new(ModuleValue::new(
        ty,
        Box::new(Numbers(values.to_vec(), label.to_string())),
    )))
}

fn as_numbers(value: &Value) -> Option<&Numbers> {
    match value {
        Value::Module(m) => m.downcast_ref::<Numbers>(),
        _ => None,
    }
}

fn save_options() -> SaveOptions {
    SaveOptions {
        compress: true,
        list_fill: -2,
        packed_threshold: 1 << 30,
    }
}

#[test]
fn a_module_value_round_trips_through_dump_and_restore() {
    let (r, ty) = runner();
    let value = numbers(&ty, &[1, -5, 1 << 40], &"long label ".repeat(5));
    let payload = dump_payload(&value, save_options());
    // Type 7, then the id: 9 name characters and version 3.
    assert_eq!(payload[0], 7);
    let load = LoadOptions::from_config(&r.server.config, 1 << 30)
        .with_module_types(&r.server.modules.types);
    let back = restore_payload(&payload, &load, false).expect("loads");
    assert_eq!(as_numbers(&back), as_numbers(&value));
    assert_eq!(ty.live_values(), 2);
    // Without the type registered, the payload is refused.
    let bare = LoadOptions::from_config(&r.server.config, 1 << 30);
    assert!(matches!(
        restore_payload(&payload, &bare, false),
        Err(PayloadError::Body(_))
    ));
    // Cut or damaged payloads are refused, never a panic.
    for cut in 1..payload.len() - 10 {
        let mut short = payload[..cut].to_vec();
        short.extend_from_slice(&payload[payload.len() - 10..]);
        assert!(restore_payload(&short, &load, true).is_err());
    }
}

#[test]
fn a_file_with_module_values_round_trips_and_names_a_missing_type() {
    let (mut r, ty) = runner();
    let clock = r.server.lru_clock();
    r.server.dbs[0].insert_new(
        CompactBytes::new(b"n"),
        numbers(&ty, &[7, 8], "a"),
        None,
        clock,
    );
    r.run(["SET", "s", "v"]);
    let bytes = encode_dataset(&r.server, &[], 1);
    let now = r.server.now_ms();
    let load = LoadOptions::from_config(&r.server.config, 1 << 30)
        .with_module_types(&r.server.modules.types);
    let loaded = decode_dataset(&bytes, &r.server.config, &load, now, 0).expect("loads");
    let db = &loaded.dbs[0];
    let pos = db.find(b"n").expect("key");
    assert_eq!(
        as_numbers(&db.entry(pos).value),
        Some(&Numbers(vec![7, 8], "a".into()))
    );
    let bare = LoadOptions::from_config(&r.server.config, 1 << 30);
    let Err(error) = decode_dataset(&bytes, &r.server.config, &bare, now, 0) else {
        panic!("a file with an unknown module type is refused");
    };
    assert!(
        error.to_string().contains(
            "The RDB file contains module data I can't load: no matching module type 'testmod-1'"
        ),
        "{error}"
    );
}

#[test]
fn aof_rewrite_without_preamble_uses_the_type_commands() {
    let (mut r, ty) = runner();
    let clock = r.server.lru_clock();
    r.server.dbs[0].insert_new(
        CompactBytes::new(b"n"),
        numbers(&ty, &[3, 4], "x"),
        None,
        clock,
    );
    let text = crate::aof::base_contents_for_test(&r.server, false);
    let text = String::from_utf8_lossy(&text);
    assert!(
        text.contains("*4\r\n$7\r\nNUM.ADD\r\n$1\r\nn\r\n$1\r\n3\r\n$1\r\n4\r\n"),
        "{text}"
    );
}

#[test]
fn dump_and_restore_commands_carry_module_values() {
    let (mut r, ty) = runner();
    crate::register(&mut r.server.table).expect("registers");
    let clock = r.server.lru_clock();
    r.server.dbs[0].insert_new(
        CompactBytes::new(b"n"),
        numbers(&ty, &[9, 10], "dumped"),
        None,
        clock,
    );
    let oxidis_protocol::Frame::Bulk(payload) = r.run(["DUMP", "n"]) else {
        panic!("DUMP answers a bulk string");
    };
    assert_eq!(
        r.run([b"RESTORE".as_slice(), b"m", b"0", &payload]),
        oxidis_protocol::Frame::ok()
    );
    let db = &r.server.dbs[0];
    let pos = db.find(b"m").expect("restored");
    assert_eq!(
        as_numbers(&db.entry(pos).value),
        Some(&Numbers(vec![9, 10], "dumped".into()))
    );
    assert_eq!(ty.live_values(), 2);
    // Once the type is gone (its values deleted first), the payload is refused.
    r.run(["DEL", "n", "m"]);
    r.server
        .modules
        .types
        .unregister("testmod-1")
        .expect("no values left");
    assert_eq!(
        r.run([b"RESTORE".as_slice(), b"m", b"0", &payload]),
        oxidis_protocol::Frame::Error("ERR Bad data format".into())
    );
}

/// A type whose module-wide state (a counter) travels as auxiliary data after the keys.
struct CounterType(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl ModuleType for CounterType {
    fn rdb_save(&self, _value: &dyn Any, _out: &mut ModuleRdbWriter) {}

    fn rdb_load(
        &self,
        _input: &mut ModuleRdbReader<'_>,
        _encver: u32,
    ) -> Result<Box<dyn Any + Send>, ModuleIoError> {
        Ok(Box::new(()))
    }

    fn aux_save_triggers(&self) -> u32 {
        oxidis_core::modules::types::aux::AFTER_RDB
    }

    fn aux_save(&self, when: u32, out: &mut ModuleRdbWriter) {
        out.save_unsigned(u64::from(when));
        out.save_unsigned(self.0.load(std::sync::atomic::Ordering::SeqCst));
    }

    fn aux_load(
        &self,
        input: &mut ModuleRdbReader<'_>,
        _encver: u32,
        when: u32,
    ) -> Result<(), ModuleIoError> {
        assert_eq!(input.load_unsigned()?, u64::from(when));
        self.0
            .store(input.load_unsigned()?, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn module_aux_data_round_trips_and_needs_its_type() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let mut r = CommandRunner::with_builtin_commands();
    let counter = std::sync::Arc::new(AtomicU64::new(42));
    r.server
        .modules
        .types
        .register(
            "ctr",
            "counter-1",
            0,
            Box::new(CounterType(std::sync::Arc::clone(&counter))),
        )
        .expect("registers");
    r.run(["SET", "k", "v"]);
    let bytes = encode_dataset(&r.server, &[], 1);
    counter.store(0, Ordering::SeqCst);
    let now = r.server.now_ms();
    let load = LoadOptions::from_config(&r.server.config, 1 << 30)
        .with_module_types(&r.server.modules.types);
    let loaded = decode_dataset(&bytes, &r.server.config, &load, now, 0).expect("loads");
    assert_eq!(loaded.keys_loaded, 1);
    assert_eq!(counter.load(Ordering::SeqCst), 42);
    let bare = LoadOptions::from_config(&r.server.config, 1 << 30);
    let Err(error) = decode_dataset(&bytes, &r.server.config, &bare, now, 0) else {
        panic!("AUX data of an unknown type is refused");
    };
    assert!(
        error
            .to_string()
            .contains("AUX module data I can't load: no matching module 'counter-1'"),
        "{error}"
    );
}

#[test]
fn loading_a_file_tells_modules_loading_and_loaded_keys() {
    use oxidis_core::modules::events::{
        LoadSource, ServerEvent, ServerEventKind, subscribe_keyspace, subscribe_server_event,
    };
    use std::sync::{Arc, Mutex};
    let (mut r, ty) = runner();
    let clock = r.server.lru_clock();
    r.server.dbs[2].insert_new(
        CompactBytes::new(b"n"),
        numbers(&ty, &[1], "file"),
        None,
        clock,
    );
    let path = std::env::temp_dir().join(format!(
        "oxidis-module-load-{}-{:?}.rdb",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, encode_dataset(&r.server, &[], 1)).expect("writes");
    r.run(["FLUSHALL"]);
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let keys = Arc::clone(&log);
    subscribe_keyspace(
        &mut r.server,
        "nums",
        oxidis_core::events::class::LOADED,
        Box::new(move |_server, event| {
            let line = format!(
                "{}:{}:{}",
                event.db,
                event.name,
                String::from_utf8_lossy(&event.key)
            );
            keys.lock().expect("lock").push(line);
        }),
    );
    let phases = Arc::clone(&log);
    subscribe_server_event(
        &mut r.server,
        "nums",
        ServerEventKind::Loading,
        Box::new(move |_server, event| {
            let line = match event {
                ServerEvent::LoadingStart(LoadSource::Rdb) => "start".to_string(),
                ServerEvent::LoadingEnd { ok, .. } => format!("end ok={ok}"),
                other => format!("{other:?}"),
            };
            phases.lock().expect("lock").push(line);
        }),
    );
    r.server.config.dbfilename = path.display().to_string();
    crate::load_from_disk(&mut r.server, false).expect("loads");
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        *log.lock().expect("lock"),
        vec!["start", "2:loaded:n", "end ok=true"]
    );
    let db = &r.server.dbs[2];
    let pos = db.find(b"n").expect("loaded");
    assert_eq!(
        as_numbers(&db.entry(pos).value),
        Some(&Numbers(vec![1], "file".into()))
    );
}

#[test]
fn debug_reload_keeps_module_values() {
    let mut r = CommandRunner::with_config(oxidis_core::config::Config {
        enable_debug_command: oxidis_core::config::ProtectedAccess::Yes,
        ..oxidis_core::config::Config::default()
    });
    let ty = r
        .server
        .modules
        .types
        .register("nums", "testmod-1", 3, Box::new(NumbersType))
        .expect("registers");
    r.server.persistence = Some(crate::HOOKS);
    // Relative to the working directory, where the save writes its temp file too.
    let file = format!("oxidis-module-reload-{}.rdb", std::process::id());
    r.server.config.dbfilename = file.clone();
    let clock = r.server.lru_clock();
    let expire_at = r.server.now_ms() + 100_000;
    r.server.dbs[0].insert_new(
        CompactBytes::new(b"n"),
        numbers(&ty, &[5, 6, 7], "reloaded"),
        Some(expire_at),
        clock,
    );
    let before = r.run(["DEBUG", "DIGEST"]);
    assert_eq!(r.run(["DEBUG", "RELOAD"]), oxidis_protocol::Frame::ok());
    let _ = std::fs::remove_file(&file);
    assert_eq!(r.run(["DEBUG", "DIGEST"]), before);
    let db = &r.server.dbs[0];
    let pos = db.find(b"n").expect("reloaded");
    assert_eq!(
        as_numbers(&db.entry(pos).value),
        Some(&Numbers(vec![5, 6, 7], "reloaded".into()))
    );
    assert!(db.entry(pos).expire_at().is_some());
    assert_eq!(ty.live_values(), 1);
}
