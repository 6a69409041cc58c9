-- The environment Redis 7.0 gives scripts, built once per VM on top of Lua 5.1's base, table,
-- string and math libraries and the Rust-made cjson, cmsgpack, struct and bit tables.
-- `ctx` carries the Rust primitives; this chunk returns the tables Rust drives scripts with
-- (scripts themselves are run by a C function, `native::run_job`).
local ctx = ...
local G = _G
local rawset, rawget, setmetatable, getmetatable = rawset, rawget, setmetatable, getmetatable
local type, tostring, error, select, unpack = type, tostring, error, select, unpack
local rawpcall, xpcall, loadstring_raw = pcall, xpcall, loadstring

-- Tables scripts can read but never change: Redis patches Lua with a readonly flag; plain Lua
-- 5.1 gets the same errors from an empty proxy whose metatable forwards reads.
local protected = setmetatable({}, { __mode = 'k' })
local function readonly_error()
    error('Attempt to modify a readonly table', 2)
end
local function protect_metatable(mt)
    local view = {}
    setmetatable(view, { __index = mt, __newindex = readonly_error, __metatable = false })
    protected[view] = true
    mt.__metatable = view
    protected[mt] = true
end
local function readonly(t)
    local proxy = {}
    local mt = { __index = t, __newindex = readonly_error }
    setmetatable(proxy, mt)
    protect_metatable(mt)
    protected[proxy] = true
    return proxy
end

-- Redis's pcall: a table error (what redis.call raises) is reduced to its message.
local function pack(...)
    return { n = select('#', ...), ... }
end
local function script_pcall(f, ...)
    local r = pack(rawpcall(f, ...))
    if not r[1] and ctx.killed() then
        error(r[2], 0)
    end
    if not r[1] then
        if type(r[2]) == 'table' and type(r[2].err) == 'string' then
            r[2] = r[2].err
        elseif type(r[2]) == 'userdata' then
            r[2] = ctx.error_message(r[2])
        end
    end
    return unpack(r, 1, r.n)
end

local function error_table(msg)
    return { err = msg }
end

local redis = {}
ctx.resp = 2
-- A Rust function, so a tail call `return redis.call(...)` keeps the script's frame for the
-- error position, as Redis's C function does.
redis.call = ctx.call
redis.pcall = ctx.pcall
redis.sha1hex = ctx.sha1hex
-- Redis returns (does not raise) this error for a bad argument.
redis.error_reply = function(...)
    local s = ...
    if select('#', ...) ~= 1 or type(s) ~= 'string' then
        return error_table('ERR wrong number or type of arguments')
    end
    return error_table(ctx.error_text(s))
end
redis.status_reply = function(...)
    local s = ...
    if select('#', ...) ~= 1 or type(s) ~= 'string' then
        return error_table('ERR wrong number or type of arguments')
    end
    return { ok = s }
end
redis.LOG_DEBUG = 0
redis.LOG_VERBOSE = 1
redis.LOG_NOTICE = 2
redis.LOG_WARNING = 3
redis.log = ctx.log
redis.setresp = ctx.setresp
redis.REPL_NONE = 0
redis.REPL_AOF = 1
redis.REPL_SLAVE = 2
redis.REPL_REPLICA = 2
redis.REPL_ALL = 3
redis.set_repl = ctx.set_repl
redis.replicate_commands = function()
    return true
end
redis.breakpoint = function()
    return false
end
redis.debug = function() end
redis.acl_check_cmd = function(...)
    if select('#', ...) < 1 then
        error(error_table('ERR Please specify at least one argument for this redis lib call'))
    end
    local ok = ctx.command_exists(...)
    if not ok then
        error(error_table('ERR Invalid command passed to redis.acl_check_cmd()'))
    end
    return true
end
redis.REDIS_VERSION = ctx.version
redis.REDIS_VERSION_NUM = ctx.version_num


-- Bytecode is refused: `loadstring` of a dumped function yields nil, as in Redis.
local function safe_loadstring(s, name)
    if type(s) == 'string' and s:sub(1, 1) == '\27' then
        return nil, 'bytecode is not allowed'
    end
    return loadstring_raw(s, name)
end

G.pcall = script_pcall
G.xpcall = function(f, h)
    local r = pack(xpcall(f, h))
    if not r[1] and ctx.killed() then
        error(r[2], 0)
    end
    return unpack(r, 1, r.n)
end
G.loadstring = safe_loadstring
-- Lua 5.1's unpack counts its results with a signed overflow that optimised C code turns into
-- a crash; a range too wide to count is refused first, as Redis's patched Lua does.
-- The original gets exactly the arguments given: Lua counts them against the 8000 stack
-- slots a C function may use, so `unpack(t)` reaches 7999 results as in Redis.
G.unpack = function(...)
    local t, i, j = ...
    local first = i or 1
    local last = j
    if last == nil and type(t) == 'table' then
        last = #t
    end
    if type(first) == 'number' and type(last) == 'number' and last - first >= 2147483647 then
        error('too many results to unpack', 2)
    end
    return unpack(...)
end
G.load = nil
G.dofile = nil
G.loadfile = nil
G.print = nil
G.getfenv = nil
G.setfenv = nil
G.newproxy = nil
G.module = nil
G.require = nil
G.os = nil
G.io = nil
G.package = nil
G.debug = nil
G.gcinfo = gcinfo
G.redis = readonly(redis)
for _, name in ipairs({ 'string', 'math', 'table', 'coroutine', 'cjson', 'cmsgpack', 'struct', 'bit' }) do
    if rawget(G, name) ~= nil then
        rawset(G, name, readonly(rawget(G, name)))
    end
end
protect_metatable(getmetatable(''))

-- setmetatable and rawset refuse protected tables with Redis's words.
G.setmetatable = function(t, mt)
    if protected[t] then
        error('Attempt to modify a readonly table', 2)
    end
    return setmetatable(t, mt)
end
G.rawset = function(t, k, v)
    if protected[t] then
        error('Attempt to modify a readonly table', 2)
    end
    return rawset(t, k, v)
end

-- The globals scripts see: reads fall through to G, a missing name is an error, writes fail.
local function missing_global(_, name)
    error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
end
setmetatable(G, { __index = missing_global })
local env = {}
local env_mt = { __index = G, __newindex = readonly_error }
setmetatable(env, env_mt)
protect_metatable(env_mt)
protected[env] = true
rawset(G, '_G', env)

-- While a library loads, only a reduced `redis` is reachable (Redis 7.0's load environment).
local load_redis_real = {
    -- Functions register through this while their library loads (see FUNCTION LOAD).
    register_function = function(...)
        return ctx.register_function(...)
    end,
    log = redis.log,
    LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
    REDIS_VERSION = redis.REDIS_VERSION,
    REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
}
setmetatable(load_redis_real, { __index = missing_global })
local load_api = { redis = readonly(load_redis_real) }
setmetatable(load_api, { __index = missing_global })
local function set_load_mode(on)
    if on then
        rawset(env_mt, '__index', load_api)
    else
        rawset(env_mt, '__index', G)
    end
end

return { env = env, set_load_mode = set_load_mode }
