//! Module data types: the registry, ids, payloads and the keyspace commands.

use super::*;

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
    // The payload: a 9-byte id, 27 bytes of fields, the EOF opcode.
    let Frame::Simple(object) = r.run(["DEBUG", "OBJECT", "n"]) else {
        panic!("DEBUG OBJECT answers a status line");
    };
    let object = String::from_utf8_lossy(&object).into_owned();
    assert!(
        object.contains("encoding:raw serializedlength:37 "),
        "{object}"
    );
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

/// A type that logs the keys it is unlinked from.
struct UnlinkLog(Seen);

impl ModuleType for UnlinkLog {
    fn rdb_save(&self, _value: &dyn Any, _out: &mut ModuleRdbWriter) {}

    fn rdb_load(
        &self,
        _input: &mut ModuleRdbReader<'_>,
        _encver: u32,
    ) -> Result<Box<dyn Any + Send>, ModuleIoError> {
        Ok(Box::new(()))
    }

    fn unlink(&self, key: &[u8], _value: &dyn Any) {
        self.0
            .lock()
            .expect("lock")
            .push(String::from_utf8_lossy(key).into_owned());
    }
}

#[test]
fn unlink_is_called_where_redis_calls_it() {
    let mut r = CommandRunner::with_builtin_commands();
    let log: Seen = Arc::default();
    let ty = r
        .server
        .modules
        .types
        .register("u", "unlinklg", 0, Box::new(UnlinkLog(Arc::clone(&log))))
        .err();
    // Names are 9 characters.
    assert_eq!(ty, Some(types::TypeRegistryError::InvalidName));
    let ty = r
        .server
        .modules
        .types
        .register("u", "unlinklog", 0, Box::new(UnlinkLog(Arc::clone(&log))))
        .expect("registers");
    for key in ["a", "b", "c", "d"] {
        put(&mut r, 0, key, Value::module(&ty, Box::new(())));
    }
    r.run(["DEL", "a"]);
    r.run(["SET", "b", "string now"]);
    r.run(["RENAME", "c", "c2"]);
    r.run(["PEXPIRE", "d", "1"]);
    r.advance_ms(10);
    r.run(["GET", "d"]);
    r.run(["FLUSHALL"]);
    assert_eq!(*log.lock().expect("lock"), vec!["a", "b", "c", "d"]);
    assert_eq!(ty.live_values(), 0);
}
