//! End-to-end tests of the scripting commands on an in-memory server; replies compared with
//! what redis-server 7.0.15 answers.

use oxidis_core::testing::{CommandRunner, bulk, err, simple};
use oxidis_protocol::{Frame, RespVersion};

fn runner() -> CommandRunner {
    let mut r = CommandRunner::with_builtin_commands();
    crate::register(&mut r.server.table).expect("scripting registers once");
    r
}

#[test]
fn eval_converts_replies_both_ways() {
    let mut r = runner();
    assert_eq!(r.run(["EVAL", "return 'hello'", "0"]), bulk("hello"));
    assert_eq!(r.run(["EVAL", "return 3.99", "0"]), Frame::Integer(3));
    assert_eq!(
        r.run(["EVAL", "return {1,'x',false,{ok='fine'}}", "0"]),
        Frame::Array(vec![
            Frame::Integer(1),
            bulk("x"),
            Frame::Null,
            simple("fine")
        ])
    );
    assert_eq!(
        r.run([
            "EVAL",
            "return redis.call('set',KEYS[1],ARGV[1])",
            "1",
            "k",
            "v"
        ]),
        simple("OK")
    );
    assert_eq!(
        r.run(["EVAL", "return redis.call('get',KEYS[1])", "1", "k"]),
        bulk("v")
    );
    assert_eq!(
        r.run(["EVAL", "return redis.call('get','nokey')", "0"]),
        Frame::Null
    );
}

#[test]
fn errors_carry_the_script_position() {
    let mut r = runner();
    assert_eq!(
        r.run(["EVAL", "return redis.call('nosuch')", "0"]),
        err(
            "ERR Unknown Redis command called from script script: 206396248e12c6e742fd7296250433c8d7343b74, on @user_script:1."
        )
    );
    assert_eq!(
        r.run(["EVAL", "return a", "0"]),
        err(
            "ERR user_script:1: Script attempted to access nonexistent global variable 'a' script: bbfcd1ececc90deec823f7fb730e4bfb2a4ba625, on @user_script:1."
        )
    );
    assert_eq!(
        r.run(["EVAL", "a=1", "0"]),
        err(
            "ERR user_script:1: Attempt to modify a readonly table script: 86eda770a6060824b090dd4df091e3bd4121279c, on @user_script:1."
        )
    );
    assert_eq!(
        r.run(["EVAL", "return redis.pcall('nosuch')", "0"]),
        err("ERR Unknown Redis command called from script")
    );
    assert_eq!(
        r.run(["EVAL_RO", "return redis.call('set','x',1)", "0"]),
        err(
            "ERR Write commands are not allowed from read-only scripts. script: 4cb91861d207e5689edc816618ab68f9d6de3b44, on @user_script:1."
        )
    );
    assert_eq!(
        r.run(["EVAL", "syntax error here", "0"]),
        err("ERR Error compiling script (new function): user_script:1: '=' expected near 'error'")
    );
}

#[test]
fn script_cache_and_evalsha() {
    let mut r = runner();
    let sha = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db";
    assert_eq!(r.run(["SCRIPT", "LOAD", "return 1"]), bulk(sha));
    assert_eq!(r.run(["EVALSHA", sha, "0"]), Frame::Integer(1));
    assert_eq!(
        r.run(["SCRIPT", "EXISTS", sha, "ffff"]),
        Frame::Array(vec![Frame::Integer(1), Frame::Integer(0)])
    );
    assert_eq!(r.run(["SCRIPT", "FLUSH"]), simple("OK"));
    assert_eq!(
        r.run(["EVALSHA", sha, "0"]),
        err("NOSCRIPT No matching script. Please use EVAL.")
    );
    assert_eq!(
        r.run(["EVAL", "return 1", "2", "a"]),
        err("ERR Number of keys can't be greater than number of args")
    );
}

#[test]
fn resp3_conversions_under_setresp() {
    let mut r = runner();
    r.set_resp(RespVersion::Resp3);
    r.run(["HSET", "h", "f", "v"]);
    assert_eq!(
        r.run([
            "EVAL",
            "redis.setresp(3); return redis.call('hgetall', KEYS[1])",
            "1",
            "h"
        ]),
        Frame::Map(vec![(bulk("f"), bulk("v"))])
    );
    assert_eq!(
        r.run(["EVAL", "redis.setresp(3); return {double=1.5}", "0"]),
        Frame::Double(1.5)
    );
    assert_eq!(
        r.run(["EVAL", "redis.setresp(3); return true", "0"]),
        Frame::Boolean(true)
    );
}

#[test]
fn functions_load_call_and_list() {
    let mut r = runner();
    let code =
        "#!lua name=mylib\nredis.register_function('f', function(keys, args) return args[1] end)";
    assert_eq!(r.run(["FUNCTION", "LOAD", code]), bulk("mylib"));
    assert_eq!(r.run(["FCALL", "F", "0", "x"]), bulk("x"));
    assert_eq!(
        r.run(["FUNCTION", "LOAD", code]),
        err("ERR Library 'mylib' already exists")
    );
    let dump = r.run(["FUNCTION", "DUMP"]);
    assert_eq!(r.run(["FUNCTION", "FLUSH"]), simple("OK"));
    assert_eq!(r.run(["FCALL", "f", "0"]), err("ERR Function not found"));
    let Frame::Bulk(payload) = dump else {
        panic!("DUMP is a bulk string")
    };
    assert_eq!(
        r.run([&b"FUNCTION"[..], b"RESTORE", &payload]),
        simple("OK")
    );
    assert_eq!(r.run(["FCALL", "f", "0", "y"]), bulk("y"));
    assert_eq!(
        r.run(["FUNCTION", "LOAD", "#!lua name=x\nreturn 1"]),
        err("ERR No functions registered")
    );
}

#[test]
fn bundled_libraries() {
    let mut r = runner();
    assert_eq!(
        r.run(["EVAL", "return cjson.encode({1,2,'x'})", "0"]),
        bulk("[1,2,\"x\"]")
    );
    assert_eq!(
        r.run(["EVAL", "return cjson.decode('{\"a\":[1,2]}').a[2]", "0"]),
        Frame::Integer(2)
    );
    assert_eq!(
        r.run([
            "EVAL",
            "return cmsgpack.unpack(cmsgpack.pack({1,2,3}))[3]",
            "0"
        ]),
        Frame::Integer(3)
    );
    assert_eq!(
        r.run(["EVAL", "return bit.tohex(65535, -2147483648)", "0"]),
        bulk("0000FFFF")
    );
    assert_eq!(
        r.run([
            "EVAL",
            "return struct.unpack('>I2', struct.pack('>I2', 258))",
            "0"
        ]),
        Frame::Integer(258)
    );
}

#[test]
fn unpack_refuses_ranges_too_wide_to_count() {
    let mut r = runner();
    let Frame::Error(e) = r.run(["EVAL", "return {unpack({1,2,3}, -2, 2147483647)}", "0"]) else {
        panic!("expected an error");
    };
    assert!(
        String::from_utf8_lossy(&e).contains("too many results to unpack"),
        "{e:?}"
    );
    assert_eq!(
        r.run(["EVAL", "return {unpack({1,2,3}, 2)}", "0"]),
        Frame::Array(vec![Frame::Integer(2), Frame::Integer(3)])
    );
}

#[test]
fn xread_block_is_refused_from_scripts() {
    let mut r = runner();
    assert_eq!(
        r.run([
            "EVAL",
            "return redis.pcall('xread','BLOCK',0,'STREAMS','s','$')",
            "1",
            "s"
        ]),
        err("ERR xread command is not allowed with BLOCK option from scripts")
    );
}

#[test]
fn keys_and_arguments_keep_any_bytes() {
    let mut r = runner();
    let key: &[u8] = b"k\xff\x00";
    let value: &[u8] = b"\xfe\xc0v";
    let eval: [&[u8]; 7] = [
        b"EVAL",
        b"redis.call('set', KEYS[1], ARGV[1]) return {KEYS[1], ARGV[1], ARGV[2], #KEYS, #ARGV}",
        b"2",
        key,
        b"plain",
        value,
        b"text",
    ];
    assert_eq!(
        r.run(eval),
        Frame::Array(vec![
            Frame::Bulk(bytes::Bytes::copy_from_slice(key)),
            Frame::Bulk(bytes::Bytes::copy_from_slice(value)),
            bulk("text"),
            Frame::Integer(2),
            Frame::Integer(2),
        ])
    );
    let get: [&[u8]; 2] = [b"GET", key];
    assert_eq!(
        r.run(get),
        Frame::Bulk(bytes::Bytes::copy_from_slice(value))
    );
}

#[test]
fn redis_call_arguments_of_any_size() {
    let mut r = runner();
    let script = "redis.call('set', KEYS[1], string.rep('x', 10000)) \
        local t = {} for i = 1, 100 do t[i] = 'e' .. i end \
        redis.call('rpush', KEYS[2], unpack(t)) \
        redis.call('set', KEYS[3], 'small') \
        return {redis.call('strlen', KEYS[1]), redis.call('llen', KEYS[2]), \
            redis.call('lindex', KEYS[2], 99), redis.call('get', KEYS[3])}";
    assert_eq!(
        r.run(["EVAL", script, "3", "big", "list", "small"]),
        Frame::Array(vec![
            Frame::Integer(10000),
            Frame::Integer(100),
            bulk("e100"),
            bulk("small"),
        ])
    );
}

#[test]
fn redis_call_reads_numbers_as_redis_prints_them() {
    let mut r = runner();
    let script = "redis.call('set','a',1e17) redis.call('set','b',3.7) redis.call('set','c',-0.0) \
                  return {redis.call('get','a'),redis.call('get','b'),redis.call('get','c')}";
    assert_eq!(
        r.run(["EVAL", script, "0"]),
        Frame::Array(vec![bulk("1e+17"), bulk("3.7000000000000002"), bulk("-0")])
    );
}

#[test]
fn redis_call_errors_are_tables_that_pcall_reduces_to_their_message() {
    let mut r = runner();
    r.run(["SET", "s", "text"]);
    let caught = "local ok, e = pcall(redis.call, 'incr', 's') return {tostring(ok), e}";
    assert_eq!(
        r.run(["EVAL", caught, "0"]),
        Frame::Array(vec![
            bulk("false"),
            bulk("ERR value is not an integer or out of range")
        ])
    );
    assert_eq!(
        r.run(["EVAL", "return redis.pcall('incr','s')", "0"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        r.run(["EVAL", "return type(redis.pcall('incr','s'))", "0"]),
        bulk("table")
    );
    assert_eq!(
        r.run(["EVAL", "return redis.call('set','a',{})", "0"]),
        err(
            "ERR Lua redis lib command arguments must be strings or integers script: f852c2a3a94e72447f50c0bcf1c270021162ffaf, on @user_script:1."
        )
    );
}

#[test]
fn redis_call_works_from_a_coroutine_and_sees_keys_and_argv() {
    let mut r = runner();
    r.run(["SET", "a", "1"]);
    let script = "return coroutine.wrap(function() return redis.call('get','a') end)()";
    assert_eq!(r.run(["EVAL", script, "0"]), bulk("1"));
    assert_eq!(
        r.run(["EVAL", "return #KEYS + #ARGV", "2", "a", "b", "c"]),
        Frame::Integer(3)
    );
}

#[test]
fn redis_call_converts_resp3_replies_under_setresp_3() {
    let mut r = runner();
    r.run(["HSET", "h", "f", "v"]);
    let script = "redis.setresp(3) local m = redis.call('hgetall','h').map \
                  local d = redis.call('zincrby','z','1.5','m').double return {m.f, tostring(d)}";
    assert_eq!(
        r.run(["EVAL", script, "0"]),
        Frame::Array(vec![bulk("v"), bulk("1.5")])
    );
}
