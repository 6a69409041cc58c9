//! The Lua part of the crosscheck: deterministic scripts run on both servers, each through a
//! RESP2 and a RESP3 client, whose replies must be byte-identical — Lua ↔ reply conversions
//! both ways, errors and their texts, `pcall`, the sandbox, cjson, cmsgpack, struct, bit,
//! `redis.*` helpers, `math.random` after a seed. Then some of them again through SCRIPT LOAD +
//! EVALSHA, and a library of functions through FCALL.

use anyhow::Result;

use super::{Client, Pair, cmd};

/// One script: its body, keys and arguments.
struct Script {
    body: &'static str,
    keys: &'static [&'static str],
    args: &'static [&'static str],
}

const fn s(body: &'static str) -> Script {
    Script {
        body,
        keys: &[],
        args: &[],
    }
}

const fn ka(
    body: &'static str,
    keys: &'static [&'static str],
    args: &'static [&'static str],
) -> Script {
    Script { body, keys, args }
}

/// The scripts, run in this order on both servers.
const SCRIPTS: &[Script] = &[
    // Lua values to replies.
    s("return 1"),
    s("return -1"),
    s("return 1.5"),
    s("return -1.9"),
    s("return 3.99999"),
    s("return 2^53"),
    s("return 1e20"),
    s("return -0.0"),
    s("return 'hello'"),
    s("return ''"),
    s("return true"),
    s("return false"),
    s("return nil"),
    s("return {}"),
    s("return {1,2,3}"),
    s("return {1,nil,3}"),
    s("return {1,2,nil}"),
    s("return {[1]=1,[2]=2,[4]=4}"),
    s("return {a=1,b=2}"),
    s("return {1,'two',{3,{4,{5}}},true,false}"),
    s("return {1.5,2.5,-3.7}"),
    s("return {ok='fine'}"),
    s("return {err='bad thing'}"),
    s("return {err='MYCODE custom error'}"),
    s("return {ok='x', err='y'}"),
    s("return {{ok='inner'},{err='inner err'}}"),
    s("return redis.status_reply('STATUS')"),
    s("return redis.error_reply('MY error')"),
    s("return redis.error_reply('noerrcode')"),
    s("return redis.error_reply('-ERR with dash')"),
    s("return redis.error_reply(42)"),
    s("return redis.status_reply(12)"),
    s("return {redis.status_reply('a'), redis.error_reply('B b')}"),
    s("return 'multi\\nline'"),
    s("return tostring(1/3)"),
    s("return tostring(0/0 ~= 0/0)"),
    s("return tostring(math.huge)"),
    s("return tostring(-math.huge)"),
    s("return tostring(123456789012345)"),
    s("return tostring(1e15)"),
    s("return tostring(1e100)"),
    s("return string.format('%.17g %5.2f %d %s %q', 0.1, 3.14159, 42, 'x', 'a\\nb')"),
    s("return {string.byte('ABC', 1, 3)}"),
    s("return string.rep('ab', 5, '-')"),
    s("return {string.find('hello world', 'o w')}"),
    s("return {string.match('key:123', '(%a+):(%d+)')}"),
    s("return string.gsub('hello', 'l', 'L')"),
    s("return {string.gsub('hello', 'l', 'L')}"),
    s("local t = {5,2,8,1} table.sort(t) return t"),
    s("local t = {'b','a','c'} table.sort(t, function(x,y) return x > y end) return t"),
    s("return table.concat({1,2,3}, ',')"),
    s("local t = {} table.insert(t, 'a') table.insert(t, 1, 'b') return t"),
    s("return select('#', unpack({1,2,3}))"),
    s("return type(cjson) .. type(cmsgpack) .. type(struct) .. type(bit)"),
    s("return redis.sha1hex('')"),
    s("return redis.sha1hex('Pizza & Mandolino')"),
    s("return redis.REDIS_VERSION"),
    s("return redis.REDIS_VERSION_NUM"),
    s("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}"),
    s(
        "return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}",
    ),
    s("redis.log(redis.LOG_DEBUG, 'hello from the crosscheck') return 'logged'"),
    // Replies to Lua values.
    ka(
        "return redis.call('set', KEYS[1], ARGV[1])",
        &["cc:str"],
        &["value"],
    ),
    ka("return redis.call('get', KEYS[1])", &["cc:str"], &[]),
    ka("return redis.call('get', KEYS[1])", &["cc:missing"], &[]),
    ka(
        "return type(redis.call('get', KEYS[1]))",
        &["cc:missing"],
        &[],
    ),
    ka("return redis.call('incrby', KEYS[1], 5)", &["cc:n"], &[]),
    ka(
        "return redis.call('incrbyfloat', KEYS[1], '1.5')",
        &["cc:f"],
        &[],
    ),
    ka("return type(redis.call('incr', KEYS[1]))", &["cc:n"], &[]),
    ka(
        "redis.call('rpush', KEYS[1], 'a', 'b', 'c') return redis.call('lrange', KEYS[1], 0, -1)",
        &["cc:list"],
        &[],
    ),
    ka(
        "redis.call('hset', KEYS[1], 'f1', 'v1', 'f2', 'v2') return redis.call('hgetall', KEYS[1])",
        &["cc:hash"],
        &[],
    ),
    ka(
        "redis.call('sadd', KEYS[1], 3, 1, 2) return redis.call('smembers', KEYS[1])",
        &["cc:set"],
        &[],
    ),
    ka(
        "redis.call('zadd', KEYS[1], 1.5, 'a', 2, 'b') return redis.call('zrange', KEYS[1], 0, -1, 'withscores')",
        &["cc:zset"],
        &[],
    ),
    ka(
        "return redis.call('zscore', KEYS[1], 'a')",
        &["cc:zset"],
        &[],
    ),
    ka("return redis.call('type', KEYS[1])", &["cc:zset"], &[]),
    ka("return redis.call('type', KEYS[1]).ok", &["cc:hash"], &[]),
    ka(
        "return redis.call('exists', KEYS[1], KEYS[2])",
        &["cc:str", "cc:nope"],
        &[],
    ),
    ka(
        "return redis.call('mget', KEYS[1], KEYS[2], KEYS[3])",
        &["cc:str", "cc:nope", "cc:n"],
        &[],
    ),
    ka(
        "return redis.call('hmget', KEYS[1], 'f1', 'nope')",
        &["cc:hash"],
        &[],
    ),
    s("return redis.call('ping')"),
    s("return redis.call('echo', 'x')"),
    ka(
        "local r = redis.call('ping') return type(r) .. ':' .. r.ok",
        &[],
        &[],
    ),
    ka(
        "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}",
        &["k1", "k2"],
        &["a1", "a2"],
    ),
    ka("return redis.call('set', KEYS[1], 3.7)", &["cc:float"], &[]),
    ka("return redis.call('get', KEYS[1])", &["cc:float"], &[]),
    ka(
        "return redis.call('del', KEYS[1], KEYS[2])",
        &["cc:float", "cc:nope"],
        &[],
    ),
    ka(
        "redis.call('set', KEYS[1], 'x', 'ex', 100) return redis.call('ttl', KEYS[1])",
        &["cc:ttl"],
        &[],
    ),
    ka(
        "return redis.call('object', 'encoding', KEYS[1])",
        &["cc:list"],
        &[],
    ),
    ka("return redis.call('lpop', KEYS[1], 10)", &["cc:empty"], &[]),
    ka("return redis.call('scan', 0, 'match', 'cc:str*')", &[], &[]),
    // Errors.
    ka("return redis.call('lpush', KEYS[1], 'x')", &["cc:str"], &[]),
    ka(
        "return redis.pcall('lpush', KEYS[1], 'x')",
        &["cc:str"],
        &[],
    ),
    ka(
        "local r = redis.pcall('lpush', KEYS[1], 'x') return r.err",
        &["cc:str"],
        &[],
    ),
    ka(
        "local r = redis.pcall('lpush', KEYS[1], 'x') return type(r)",
        &["cc:str"],
        &[],
    ),
    s("return redis.call('nosuchcommand')"),
    s("return redis.pcall('nosuchcommand')"),
    s("return redis.call()"),
    s("return redis.call({})"),
    s("return redis.call('set', 'x')"),
    s("return redis.pcall('set', 'x')"),
    s("return redis.call('incr', 'cc:str2', 'extra')"),
    s("return redis.call('get', {})"),
    s("return redis.call('get', nil)"),
    s("return redis.call('set', 'cc:b', true)"),
    s("return redis.call('eval', 'return 1', 0)"),
    s("return redis.call('multi')"),
    s("return redis.call('subscribe', 'ch')"),
    s("error('plain string error')"),
    s("error({err='TABLE error table'})"),
    // (not `error({})`: redis-server 7.0.15 crashes on it)
    s("error(42)"),
    s("local x = nil return x.field"),
    s("return 1 + {}"),
    s("return #nil"),
    s("return nosuchglobal"),
    s("newglobal = 1 return 1"),
    s("redis.call = nil return 1"),
    s("string.len = nil return 1"),
    s("cjson.encode = nil return 1"),
    s("return pcall(function() error('inside') end)"),
    s("return {pcall(function() error('inside') end)}"),
    s("return {pcall(function() error({err='X y'}) end)}"),
    s("return {pcall(redis.call, 'nosuch')}"),
    s("return {pcall(function() return redis.call('lpush', 'cc:str', 1) end)}"),
    s("local ok, e = pcall(error) return {tostring(ok), type(e)}"),
    s("return {xpcall(function() error('x') end, function(e) return 'handled: ' .. e end)}"),
    s("return loadstring('return 1+1')()"),
    s("return loadstring(string.dump(function() return 1 end))"),
    s("return {loadstring('syntax error here')}"),
    s("return type(os)"),
    s("return os.clock() >= 0"),
    s("return type(io)"),
    s("return type(print)"),
    s("return type(dofile)"),
    s("return type(setfenv)"),
    s("return type(getmetatable(''))"),
    s("return (string.sub('abc', 2))"),
    s("return syntax error"),
    s("retur 1"),
    // (not `return unpack({}, 1, 1e9)`: the range check is Lua code here, so its error, raised
    // from a tail call, has no script position)
    s("local r = {pcall(unpack, {1,2,3}, 1, 1e9)} return r[1]"),
    s("return redis.sha1hex()"),
    s("return redis.error_reply()"),
    s("return redis.status_reply({})"),
    s("return redis.setresp(4)"),
    s("return redis.setresp()"),
    s("return redis.set_repl(99)"),
    s("return redis.log()"),
    s("return redis.log('x', 'y')"),
    s("return redis.log(99, 'y')"),
    s("return redis.register_function('f', function() end)"),
    s("return redis.breakpoint and 'present' or 'absent'"),
    // math.random after a seed.
    s("math.randomseed(42) return {math.random(100), math.random(5, 10), tostring(math.random())}"),
    ka(
        "math.randomseed(ARGV[1]) return tostring(math.random())",
        &[],
        &["123"],
    ),
    s("return math.random(0)"),
    s("return math.random(5, 1)"),
    s("return math.random(1, 2, 3)"),
    s("return math.randomseed('x')"),
    s("return {math.floor(3.7), math.ceil(3.2), math.abs(-4), math.max(1, 9, 3), math.fmod(7, 3)}"),
    // cjson.
    s("return cjson.encode({1,2,3})"),
    s("return cjson.encode({a=1})"),
    s("return cjson.encode({})"),
    s("return cjson.encode({1,'two',true,false,{nested={1.5}}})"),
    s("return cjson.encode('quote\"back\\\\slash/\\n\\t\\1')"),
    s("return cjson.encode(0.1)"),
    s("return cjson.encode(1e300)"),
    s("return cjson.encode(3.0)"),
    s("return cjson.encode(-0)"),
    s("return cjson.encode(123456789012)"),
    s("return cjson.encode(cjson.null)"),
    s("return cjson.encode({[1]=1,[3]=3})"),
    s("return cjson.encode({[1]=1,[20]=20})"),
    s("return cjson.encode(function() end)"),
    s("return cjson.encode(0/0)"),
    s("return cjson.encode(math.huge)"),
    s("local t = cjson.decode('[1,2,3]') return t"),
    s("local t = cjson.decode('{\"a\":[1,{\"b\":\"c\"}]}') return t.a[2].b"),
    s("return cjson.decode('\"\\\\u00e9\\\\u4e2d\"')"),
    s("return cjson.decode('12.5e1')"),
    s("return type(cjson.decode('null'))"),
    s("return cjson.decode('[1,null,3]')[2] == cjson.null"),
    s("return cjson.decode('{')"),
    s("return cjson.decode('[1,2,]')"),
    s("return cjson.decode('nul')"),
    s("return cjson.decode('\"abc')"),
    s("return cjson.decode('{\"a\":1} x')"),
    s("return cjson.decode('  true ')"),
    s("return cjson.decode('[\"\\\\ud83d\\\\ude00\"]')[1]"),
    s("return cjson.encode(cjson.decode('{\"n\":-1.25e-3}'))"),
    s("local d = {} for i=1,1100 do d = {d} end return cjson.encode(d)"),
    s("return pcall(cjson.decode, string.rep('[', 1100))"),
    // cmsgpack.
    s("return cmsgpack.pack(1, -1, 127, 128, 255, 256, 65535, 65536, -32, -33, -129, -32769)"),
    s("return cmsgpack.pack(2^32, -2^31 - 1, 2^53, 1.5, -0.25)"),
    s("return cmsgpack.pack('', 'abc', string.rep('x', 40), string.rep('y', 300))"),
    s("return cmsgpack.pack({1,2,3}, {a=1}, {}, true, false, nil)"),
    s("return cmsgpack.pack({1,{2,{3}},{x={y='z'}}})"),
    s("return {cmsgpack.unpack(cmsgpack.pack(1, 'two', {3}, 4.5))}"),
    s("local t = cmsgpack.unpack(cmsgpack.pack({a=1,b={1,2}})) return {t.a, t.b[2]}"),
    s("return {cmsgpack.unpack('\\147\\1\\2\\3')}"),
    s("return {cmsgpack.unpack('\\205\\1\\0')}"),
    s("return {cmsgpack.unpack_one('\\1\\2\\3')}"),
    s("return {cmsgpack.unpack_limit('\\1\\2\\3', 2)}"),
    s("return {cmsgpack.unpack_one('\\1\\2\\3', 2)}"),
    s("return {pcall(cmsgpack.unpack, '\\217')}"),
    s("return cmsgpack.pack()"),
    // struct.
    s("return struct.pack('>I2', 258)"),
    s("return struct.pack('<i4', -2)"),
    s("return struct.pack('bBhHlL', -1, 255, -2, 65535, -3, 7)"),
    s("return struct.pack('>d', 1.5)"),
    s("return struct.pack('s', 'abc')"),
    s("return struct.pack('c5', 'ab')"),
    s("return {struct.unpack('>I2', '\\1\\2')}"),
    s("return {struct.unpack('<i4', '\\254\\255\\255\\255')}"),
    s("return {struct.unpack('bB', '\\255\\255')}"),
    s("return {struct.unpack('s', 'abc\\0rest')}"),
    s("return {struct.unpack('c3', 'abcdef')}"),
    s("return {struct.unpack('>I2', '\\1')}"),
    s("return struct.size('>iId')"),
    s("return struct.pack('z', 'zero')"),
    s("return {struct.unpack('!4 b i', struct.pack('!4 b i', 1, 2))}"),
    s("return struct.pack('q', 1)"),
    // bit.
    s("return {bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(5, 3), bit.bnot(0)}"),
    s("return {bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4)}"),
    s("return {bit.rol(0x12345678, 8), bit.ror(0x12345678, 8), bit.bswap(0x12345678)}"),
    s("return {bit.tohex(255), bit.tohex(-1), bit.tohex(255, -4), bit.tohex(0x1234, 2)}"),
    s("return {bit.tobit(2^32 + 5), bit.tobit(-1.5), bit.tobit(0xffffffff)}"),
    s("return bit.band('12', 10)"),
    s("return bit.band({})"),
    // The sandbox: readonly tables.
    s("cjson.x = 1 return 1"),
    s("local t = cjson return pcall(function() t.encode = nil end)"),
    s("return {pcall(setmetatable, _G, {})}"),
    s("return {pcall(rawset, redis, 'call', nil)}"),
    s("local mt = getmetatable('') return {pcall(function() mt.__index = nil end)}"),
    s("return rawget(_G, 'nosuch') == nil"),
    // RESP3 under redis.setresp(3).
    ka(
        "redis.setresp(3) local t = redis.call('hgetall', KEYS[1]) return {t.map.f1, t.map.f2}",
        &["cc:hash"],
        &[],
    ),
    ka(
        "redis.setresp(3) return redis.call('hgetall', KEYS[1])",
        &["cc:hash"],
        &[],
    ),
    ka(
        "redis.setresp(3) return redis.call('smembers', KEYS[1])",
        &["cc:set"],
        &[],
    ),
    ka(
        "redis.setresp(3) local s = redis.call('smembers', KEYS[1]) return type(s.set)",
        &["cc:set"],
        &[],
    ),
    ka(
        "redis.setresp(3) return redis.call('zscore', KEYS[1], 'a')",
        &["cc:zset"],
        &[],
    ),
    ka(
        "redis.setresp(3) local d = redis.call('zscore', KEYS[1], 'a') return tostring(d.double)",
        &["cc:zset"],
        &[],
    ),
    ka(
        "redis.setresp(3) return redis.call('get', KEYS[1])",
        &["cc:missing"],
        &[],
    ),
    ka(
        "redis.setresp(3) return type(redis.call('get', KEYS[1]))",
        &["cc:missing"],
        &[],
    ),
    ka(
        "redis.setresp(3) return redis.call('zrange', KEYS[1], 0, -1, 'withscores')",
        &["cc:zset"],
        &[],
    ),
    s("redis.setresp(3) return redis.call('debug', 'protocol', 'attrib')"),
    s("redis.setresp(3) return redis.call('debug', 'protocol', 'bignum')"),
    s("redis.setresp(3) return redis.call('debug', 'protocol', 'true')"),
    s("redis.setresp(3) return redis.call('debug', 'protocol', 'false')"),
    s("redis.setresp(3) return redis.call('debug', 'protocol', 'verbatim')"),
    s("redis.setresp(3) return redis.call('debug', 'protocol', 'null')"),
    s("redis.setresp(3) return redis.call('debug', 'protocol', 'double')"),
    s("redis.setresp(2) return redis.call('debug', 'protocol', 'double')"),
    s("redis.setresp(2) return redis.call('debug', 'protocol', 'map')"),
    s("return {map={a=1}}"),
    s("return {set={a=true}}"),
    s("return {double=3.14}"),
    s("return {double='2.5'}"),
    s("return {big_number='123456789012345678901234567890'}"),
    s("return {verbatim_string={format='txt', string='hello'}}"),
    s("return {map={a={1,2}, b={set={x=true}}}}"),
    s("return {{double=1.5}, {map={k='v'}}}"),
    s("return {map={[1]='one'}}"),
    s("return {double=0/0}"),
    s("return {double=1/0}"),
];

/// Scripts loaded once (SCRIPT LOAD), then run through EVALSHA.
const SHA_SCRIPTS: &[&str] = &[
    "return {KEYS[1], ARGV[1]}",
    "return redis.call('incr', KEYS[1])",
    "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])",
    "#!lua flags=no-writes\nreturn redis.call('set', KEYS[1], 'x')",
    "#!lua\nreturn redis.call('get', KEYS[1])",
    "#!lua flags=nosuchflag\nreturn 1",
    "#!lua name=x\nreturn 1",
];

/// A library for FCALL.
const LIBRARY: &str = "#!lua name=cclib
redis.register_function('cc_echo', function(keys, args) return {keys[1], args[1]} end)
redis.register_function('cc_incr', function(keys, args) return redis.call('incr', keys[1]) end)
redis.register_function{function_name='cc_ro', callback=function(keys, args)
    return redis.call('get', keys[1]) end, flags={'no-writes'}}
redis.register_function{function_name='cc_bad', callback=function(keys, args)
    return redis.call('set', keys[1], 'x') end, flags={'no-writes'}}
redis.register_function('cc_err', function() error('library error') end)
redis.register_function('cc_resp3', function(keys)
    redis.setresp(3) return redis.call('hgetall', keys[1]) end)
";

/// Libraries FUNCTION LOAD must refuse with the same error.
const BAD_LIBRARIES: &[&str] = &[
    "#!lua name=cclib\nredis.register_function('cc_echo', function() return 1 end)",
    "#!lua\nreturn 1",
    "#!lua name=bad1\nreturn 1",
    "#!lua name=bad2\nredis.register_function('f', 'notafunction')",
    "#!lua name=bad3\nredis.call('ping')",
    "#!lua name=bad4\nredis.register_function('1bad-name', function() end)",
    "#!lua name=bad5\nredis.register_function{function_name='f', callback=function() end, flags={'nope'}}",
    "#!lua name=bad6\nsyntax error",
    "#!lua name=bad7\nmath.random()",
    "#!lua name=bad8 foo=bar\nredis.register_function('f', function() end)",
    "#!nolua name=bad9\n",
];

/// Runs the scripts on both servers through RESP2 and RESP3 clients; returns a summary.
pub(super) fn check_scripts(pair: &mut Pair, oxidis_port: u16, redis_port: u16) -> Result<String> {
    let before = pair.mismatches;
    let compared_before = pair.compared;
    let reset = vec![
        cmd(&["FLUSHALL"]),
        cmd(&["SCRIPT", "FLUSH"]),
        cmd(&["FUNCTION", "FLUSH"]),
    ];
    pair.run_both("lua reset", &reset)?;
    let evals: Vec<Vec<Vec<u8>>> = SCRIPTS.iter().map(eval_command).collect();
    pair.run_both("lua eval (RESP2)", &evals)?;

    // The same scripts through RESP3 clients (the data they wrote is in place: same state).
    let mut resp3_oxidis = Client::connect(oxidis_port)?;
    let mut resp3_redis = Client::connect(redis_port)?;
    resp3_oxidis.call(&cmd(&["HELLO", "3"]))?;
    resp3_redis.call(&cmd(&["HELLO", "3"]))?;
    std::mem::swap(&mut pair.oxidis, &mut resp3_oxidis);
    std::mem::swap(&mut pair.redis, &mut resp3_redis);
    let result = pair.run_both("lua eval (RESP3)", &evals);
    std::mem::swap(&mut pair.oxidis, &mut resp3_oxidis);
    std::mem::swap(&mut pair.redis, &mut resp3_redis);
    result?;

    let mut commands = Vec::new();
    for body in SHA_SCRIPTS {
        commands.push(cmd(&["SCRIPT", "LOAD", body]));
    }
    for body in SHA_SCRIPTS {
        let sha = sha1_hex(body.as_bytes());
        commands.push(cmd(&["EVALSHA", &sha, "1", "cc:sha", "arg"]));
        commands.push(cmd(&["EVALSHA_RO", &sha, "1", "cc:sha", "arg"]));
        commands.push(cmd(&["SCRIPT", "EXISTS", &sha, "0000"]));
    }
    commands.push(cmd(&[
        "EVALSHA",
        "ffffffffffffffffffffffffffffffffffffffff",
        "0",
    ]));
    commands.push(cmd(&["EVAL", "return 1", "-1"]));
    commands.push(cmd(&["EVAL", "return 1", "2", "k"]));
    commands.push(cmd(&["EVAL", "return 1", "x"]));
    commands.push(cmd(&[
        "EVAL_RO",
        "return redis.call('set', 'cc:ro', 1)",
        "0",
    ]));
    commands.push(cmd(&["EVAL_RO", "return redis.call('get', 'cc:ro')", "0"]));
    commands.push(cmd(&["FUNCTION", "LOAD", LIBRARY]));
    for library in BAD_LIBRARIES {
        commands.push(cmd(&["FUNCTION", "LOAD", library]));
    }
    for function in [
        "cc_echo", "cc_incr", "cc_ro", "cc_bad", "cc_err", "cc_resp3",
    ] {
        commands.push(cmd(&["FCALL", function, "1", "cc:hash", "arg"]));
        commands.push(cmd(&["FCALL_RO", function, "1", "cc:hash", "arg"]));
    }
    commands.push(cmd(&["FCALL", "nosuchfunction", "0"]));
    // (not FUNCTION LIST: Redis lists a library's functions in its dict's order, which a random
    // hash seed decides per process)
    commands.push(cmd(&["FUNCTION", "LIST", "LIBRARYNAME", "nosuchlib"]));
    commands.push(cmd(&["FUNCTION", "DELETE", "cclib"]));
    commands.push(cmd(&["FUNCTION", "DELETE", "cclib"]));
    pair.run_both("lua evalsha/fcall", &commands)?;

    let compared = pair.compared - compared_before;
    let mismatches = pair.mismatches - before;
    Ok(format!(
        "lua: {} scripts, {compared} replies, {mismatches} mismatches",
        SCRIPTS.len() + SHA_SCRIPTS.len()
    ))
}

fn eval_command(script: &Script) -> Vec<Vec<u8>> {
    let mut command = cmd(&["EVAL", script.body, &script.keys.len().to_string()]);
    command.extend(script.keys.iter().map(|k| k.as_bytes().to_vec()));
    command.extend(script.args.iter().map(|a| a.as_bytes().to_vec()));
    command
}

/// SHA-1 in hex (for EVALSHA), written out here to keep xtask free of a hashing crate.
fn sha1_hex(data: &[u8]) -> String {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xefcd_ab89,
        0x98ba_dcfe,
        0x1032_5476,
        0xc3d2_e1f0,
    ];
    let mut message = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bit_len.to_be_bytes());
    for block in message.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, word) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5a82_7999),
                20..=39 => (b ^ c ^ d, 0x6ed9_eba1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8f1b_bcdc),
                _ => (b ^ c ^ d, 0xca62_c1d6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*word);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (slot, v) in h.iter_mut().zip([a, b, c, d, e]) {
            *slot = slot.wrapping_add(v);
        }
    }
    h.iter().map(|v| format!("{v:08x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha1_known_values() {
        assert_eq!(
            super::sha1_hex(b""),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert_eq!(
            super::sha1_hex(b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }
}
