//! `redis.call` and `redis.pcall` as Lua C functions, and how a run lends them the server.
//!
//! These two functions are the hot path of every script. Redis's are C functions that read
//! their arguments off the Lua stack and push the reply back onto it; these do the same.
//! Going through `mlua` callbacks instead (a protected call per callback, a `MultiValue` of
//! registry references, a scoped userdata for the server, app-data lookups) cost more than the
//! commands the script ran.
//!
//! # Safety
//! Lua 5.1 raises errors with `longjmp`, which must never cross a Rust frame that still owns
//! something to drop. So:
//! - reading the arguments uses only calls that cannot raise (`lua_type`, `lua_tonumber`, and
//!   `lua_tolstring` on values that already are strings);
//! - everything that may raise (pushing a value allocates, and an allocation may fail under
//!   the VM's memory limit) runs in [`push_protected`], a `lua_pcall` of [`push_job`], whose
//!   frames hold only references and numbers;
//! - `lua_error` is called last, by the C function itself, after every Rust value of the call
//!   is dropped;
//! - the frame of the C function owns nothing while it calls into Lua: the command's reply
//!   waits in the [`Binding`] while it is pushed;
//! - a panic never unwinds into Lua: it is caught, kept in the [`Binding`], raised as a Lua
//!   error (and again by every later `redis.call` of the run, which `pcall` cannot swallow),
//!   and resumed by the run once Lua has returned (see [`Binding::take_panic`]).
//!
//! The server is lent as a raw pointer for exactly the length of a run:
//! [`Binding::with_bound`] borrows the `&mut Server` for the closure that runs the script,
//! holding the binding's run lock, and takes the pointer back when it returns or unwinds.

#![allow(unsafe_code)]

use std::any::Any;
use std::ffi::{c_int, c_void};
use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use bytes::Bytes;
use mlua::ffi::{self, lua_State};
use mlua::{Function, LightUserData, Lua};
use oxidis_core::Server;
use oxidis_core::client::ClientId;
use oxidis_core::server::ScriptBusy;
use oxidis_protocol::{DoubleText, Frame, RespVersion};
use parking_lot::{Mutex, ReentrantMutex};

use crate::call::{COUNTED, CallScratch, Caller, RunFlags, run_checked};

/// Deeper reply nesting than this is refused with Lua's stack-limit error.
const MAX_DEPTH: usize = 200;

/// The error of `redis.call` outside a running script.
const NOT_IN_SCRIPT: &str = "ERR redis.call/pcall can only be called inside a script invocation";
/// The error of an argument that is neither a string nor a number.
const BAD_ARGUMENT: &str = "ERR Lua redis lib command arguments must be strings or integers";
/// The error a panic in `redis.call` raises (the panic itself resumes once Lua returns).
const PANICKED: &str = "ERR internal error in redis.call";

/// What ties a VM's `redis.call` to the run in progress: set by [`Binding::bind`] for a run,
/// read by the C functions through their first upvalue.
#[derive(Default)]
pub(crate) struct Binding {
    /// Held for a whole run: one thread at a time runs scripts with this binding (a nested
    /// run on the same thread re-enters).
    run_lock: ReentrantMutex<()>,
    bound: Mutex<Option<Bound>>,
    /// The reply being pushed (kept here, not in the C function's frame; see the module).
    reply: Mutex<Option<Frame>>,
    /// The argument vector, reused from call to call.
    scratch: Mutex<CallScratch>,
    /// The protocol the running script chose with `redis.setresp` (2 or 3).
    resp: Arc<AtomicU8>,
    /// A panic caught in `redis.call`, to resume once the run is back in Rust.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

impl std::fmt::Debug for Binding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Binding").finish_non_exhaustive()
    }
}

/// The run `redis.call` serves.
#[derive(Clone, Copy)]
struct Bound {
    server: NonNull<Server>,
    busy: NonNull<ScriptBusy>,
    client_id: ClientId,
    flags: RunFlags,
}

// SAFETY: the pointers are dereferenced only by `redis.call`, on the thread that runs the
// script, while the run that lent them is in progress: `with_bound` holds the exclusive
// borrow of the server, the shared borrow of the busy state and the run lock until it takes
// them back.
unsafe impl Send for Bound {}

/// Takes the server back when a run ends, however it ends.
struct Unbind<'a> {
    binding: &'a Binding,
    previous: Option<Bound>,
    _server: PhantomData<&'a mut Server>,
}

impl Drop for Unbind<'_> {
    fn drop(&mut self) {
        *self.binding.bound.lock() = self.previous.take();
        self.binding.reply.lock().take();
    }
}

impl Binding {
    /// A binding whose scripts' protocol is kept in `resp`.
    pub(crate) fn new(resp: Arc<AtomicU8>) -> Binding {
        Binding {
            resp,
            ..Binding::default()
        }
    }

    /// Runs `run` (the script) with `server` lent to `redis.call` for `client_id`.
    pub(crate) fn with_bound<R>(
        &self,
        server: &mut Server,
        busy: &ScriptBusy,
        client_id: ClientId,
        flags: RunFlags,
        run: impl FnOnce() -> R,
    ) -> R {
        let _running = self.run_lock.lock();
        let bound = Bound {
            server: NonNull::from(server),
            busy: NonNull::from(busy),
            client_id,
            flags,
        };
        let previous = self.bound.lock().replace(bound);
        let _unbind = Unbind {
            binding: self,
            previous,
            _server: PhantomData,
        };
        run()
    }

    /// Whether a run is bound (a script, not a library being loaded, is running).
    pub(crate) fn is_bound(&self) -> bool {
        self.bound.lock().is_some()
    }

    /// Whether `redis.call` caught a panic this run (the script must end).
    pub(crate) fn panicked(&self) -> bool {
        self.panic.lock().is_some()
    }

    /// The panic `redis.call` caught during the run, if any.
    pub(crate) fn take_panic(&self) -> Option<Box<dyn Any + Send>> {
        self.panic.lock().take()
    }

    /// The command of one `redis.call`: the arguments at `1..=top` of `state`'s stack, the
    /// script checks, then dispatch.
    ///
    /// # Safety
    /// `state` is the Lua state calling `redis.call`, inside a C function.
    unsafe fn run_call(&self, state: *mut lua_State) -> Result<Frame, Failure> {
        let Some(bound) = *self.bound.lock() else {
            return Err(Failure::raised(NOT_IN_SCRIPT));
        };
        if self.panicked() {
            return Err(Failure::raised(PANICKED));
        }
        // SAFETY: a bound run keeps the busy state alive (see `Bound`).
        let busy = unsafe { bound.busy.as_ref() };
        if busy.kill.load(Ordering::SeqCst) {
            let text = crate::vm::killed_text(busy.is_function.load(Ordering::SeqCst));
            return Err(Failure::raised(text));
        }
        // A nested run (never from a script's own commands) gets a scratch of its own.
        let mut spare = CallScratch::default();
        let mut shared = self.scratch.try_lock();
        let scratch = match shared.as_deref_mut() {
            Some(scratch) => scratch,
            None => &mut spare,
        };
        scratch.clear();
        // SAFETY: reading the arguments raises no error (see the module's safety notes).
        let read = unsafe { read_arguments(state, scratch) };
        if !read {
            scratch.release();
            return Err(Failure::returned(BAD_ARGUMENT, false));
        }
        let resp = match self.resp.load(Ordering::Relaxed) {
            3 => RespVersion::Resp3,
            _ => RespVersion::Resp2,
        };
        let caller = Caller {
            client_id: bound.client_id,
            flags: bound.flags,
            run_state: busy,
            resp,
        };
        // SAFETY: the bound run lent its exclusive borrow of the server, and nothing else
        // uses it while the script runs on this thread.
        let server = unsafe { &mut *bound.server.as_ptr() };
        let reply = run_checked(server, caller, scratch.arguments());
        // The commands are done with the arguments: the buffer can be reused.
        scratch.release();
        reply.map_err(|(text, counted)| Failure::returned(text, counted))
    }
}

/// A `redis.call` that produced no reply: the error text, whether the statistics counted it
/// already, and whether it is raised even by `redis.pcall`.
#[derive(Clone, Copy)]
struct Failure {
    text: &'static str,
    counted: bool,
    always_raised: bool,
}

impl Failure {
    fn returned(text: &'static str, counted: bool) -> Failure {
        Failure {
            text,
            counted,
            always_raised: false,
        }
    }

    fn raised(text: &'static str) -> Failure {
        Failure {
            text,
            counted: false,
            always_raised: true,
        }
    }
}

/// How a run hands the script its keys and arguments.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pass {
    /// As the globals `KEYS` and `ARGV` (EVAL).
    Globals,
    /// As the function's two arguments (FCALL).
    Arguments,
    /// Not at all (a library's body).
    Nothing,
}

/// One run for the [`runner`]: the keys and arguments, and how they are passed.
#[derive(Debug)]
pub(crate) struct RunJob<'a> {
    /// The keys.
    pub keys: &'a [Bytes],
    /// The other arguments.
    pub args: &'a [Bytes],
    /// How the script gets them.
    pub pass: Pass,
}

impl RunJob<'_> {
    /// The job's address as the runner's first argument (the job must outlive the call).
    pub(crate) fn as_light_userdata(&self) -> LightUserData {
        LightUserData(std::ptr::from_ref(self).cast_mut().cast::<c_void>())
    }
}

/// The function that runs scripts: `runner(job, f)` builds KEYS and ARGV straight from the
/// job's bytes, calls `f` under `handler` (Lua's `xpcall`) and returns `ok, result`, as
/// Redis's `luaCallFunction` does.
///
/// # Errors
/// Lua ran out of memory.
pub(crate) fn runner(lua: &Lua, handler: &Function) -> mlua::Result<Function> {
    // SAFETY: closes over the handler `exec_raw` pushed.
    unsafe {
        lua.exec_raw::<Function>(handler, |state| {
            ffi::lua_pushcclosure(state, run_job, 1);
        })
    }
}

/// The runner: arguments `(job, f)`, upvalue the error handler. Any error before the call
/// (out of memory building the arrays) propagates to the Rust caller; this frame and the ones
/// below own nothing.
unsafe extern "C-unwind" fn run_job(state: *mut lua_State) -> c_int {
    // SAFETY: the runner's caller passes a live `RunJob` and the function, in that order.
    unsafe {
        let job = &*ffi::lua_touserdata(state, 1)
            .cast::<RunJob<'_>>()
            .cast_const();
        if ffi::lua_checkstack(state, 8) == 0 {
            push_bytes(state, b"ERR reached lua stack limit");
            ffi::lua_error(state);
        }
        ffi::lua_settop(state, 2);
        ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
        let handler = ffi::lua_gettop(state);
        ffi::lua_pushvalue(state, 2);
        let nargs = match job.pass {
            Pass::Globals => {
                for &(name, items) in &[("KEYS", job.keys), ("ARGV", job.args)] {
                    push_bytes(state, name.as_bytes());
                    push_string_array(state, items);
                    ffi::lua_rawset(state, ffi::LUA_GLOBALSINDEX);
                }
                0
            }
            Pass::Arguments => {
                push_string_array(state, job.keys);
                push_string_array(state, job.args);
                2
            }
            Pass::Nothing => 0,
        };
        let status = ffi::lua_pcall(state, nargs, 1, handler);
        ffi::lua_pushboolean(state, c_int::from(status == 0));
        ffi::lua_insert(state, -2);
    }
    2
}

/// Pushes `items` as a Lua array of strings.
unsafe fn push_string_array(state: *mut lua_State, items: &[Bytes]) {
    // SAFETY: the caller made room for two values.
    unsafe {
        ffi::lua_createtable(state, lua_int(items.len()), 0);
        for (i, item) in items.iter().enumerate() {
            push_bytes(state, item);
            ffi::lua_rawseti_(state, -2, lua_int(i + 1));
        }
    }
}

/// Makes `redis.call` and `redis.pcall` for `binding` (kept alive with the Lua state: the
/// functions hold its address).
///
/// # Errors
/// Lua ran out of memory.
pub(crate) fn install(lua: &Lua, binding: &Arc<Binding>) -> mlua::Result<(Function, Function)> {
    lua.set_app_data(Arc::clone(binding));
    let address = Arc::as_ptr(binding).cast_mut().cast::<c_void>();
    let make = |function: ffi::lua_CFunction| {
        // SAFETY: pushes a light userdata and the C function, then closes over both, on the
        // stack `exec_raw` provides (it checks room for three values).
        unsafe {
            lua.exec_raw::<Function>((), |state| {
                ffi::lua_pushlightuserdata(state, address);
                ffi::lua_pushcfunction(state, push_job);
                ffi::lua_pushcclosure(state, function, 2);
            })
        }
    };
    Ok((make(redis_call)?, make(redis_pcall)?))
}

/// `redis.call`: the reply, or the error raised.
unsafe extern "C-unwind" fn redis_call(state: *mut lua_State) -> c_int {
    // SAFETY: called by Lua as a C function made by `install`.
    unsafe { finish(state, call(state, true)) }
}

/// `redis.pcall`: the reply, or the error returned as a table.
unsafe extern "C-unwind" fn redis_pcall(state: *mut lua_State) -> c_int {
    // SAFETY: called by Lua as a C function made by `install`.
    unsafe { finish(state, call(state, false)) }
}

/// What the C function ends with; its value is on the top of the stack.
enum Outcome {
    Return,
    Raise,
}

/// Returns or raises the value `call` left on the stack. Nothing in this frame needs dropping
/// when `lua_error` jumps out of it.
///
/// # Safety
/// Inside a C function of `state`.
unsafe fn finish(state: *mut lua_State, outcome: Outcome) -> c_int {
    match outcome {
        Outcome::Return => 1,
        // SAFETY: the error value is on the top of the stack.
        Outcome::Raise => unsafe { ffi::lua_error(state) },
    }
}

/// Runs the command and pushes what the script gets; every Rust value is dropped on return.
///
/// # Safety
/// Inside a C function made by `install`.
unsafe fn call(state: *mut lua_State, raise: bool) -> Outcome {
    // SAFETY: `install` made the first upvalue the binding's address, and the binding lives
    // as long as the Lua state (it is in its app data).
    let binding = unsafe {
        &*ffi::lua_touserdata(state, ffi::lua_upvalueindex(1))
            .cast::<Binding>()
            .cast_const()
    };
    // SAFETY: `state` is calling `redis.call`.
    let reply = std::panic::catch_unwind(AssertUnwindSafe(|| unsafe { binding.run_call(state) }));
    let reply = reply.unwrap_or_else(|panic| {
        // The first panic is the one resumed.
        binding.panic.lock().get_or_insert(panic);
        Err(Failure::raised(PANICKED))
    });
    let resp3 = binding.resp.load(Ordering::Relaxed) == 3;
    let (job, raise) = match reply {
        Ok(frame) => {
            let is_error = matches!(last_of(&frame), Frame::Error(_) | Frame::BlobError(_));
            *binding.reply.lock() = Some(frame);
            (Job::Reply(binding, resp3), raise && is_error)
        }
        Err(failure) => (
            Job::Error(failure.text, failure.counted),
            raise || failure.always_raised,
        ),
    };
    // SAFETY: inside a C function of `state`, with the push function as second upvalue.
    let pushed = unsafe { push_protected(state, &job) };
    binding.reply.lock().take();
    if pushed && !raise {
        Outcome::Return
    } else {
        // Either the error table or, when pushing failed, Lua's own error.
        Outcome::Raise
    }
}

/// Copies the arguments of the call into `scratch`: numbers as `%.17g` (as Redis does, Lua's
/// own conversion loses digits), strings as they are. False when one is neither.
///
/// # Safety
/// `state` is inside a C function; none of the calls used here raises an error.
unsafe fn read_arguments(state: *mut lua_State, scratch: &mut CallScratch) -> bool {
    // SAFETY: (all calls) valid indexes of the running C function's stack.
    let top = unsafe { ffi::lua_gettop(state) };
    for index in 1..=top {
        match unsafe { ffi::lua_type(state, index) } {
            ffi::LUA_TNUMBER => {
                let number = unsafe { ffi::lua_tonumber(state, index) };
                scratch.push(DoubleText::new(number).as_bytes());
            }
            ffi::LUA_TSTRING => {
                let mut len = 0;
                let text = unsafe { ffi::lua_tolstring(state, index, &mut len) };
                // SAFETY: Lua keeps the string alive while it is on the stack.
                scratch.push(unsafe { std::slice::from_raw_parts(text.cast::<u8>(), len) });
            }
            _ => return false,
        }
    }
    true
}

/// The reply a [`Frame::Sequence`] stands for: its last frame.
fn last_of(frame: &Frame) -> &Frame {
    match frame {
        Frame::Sequence(frames) => frames.last().map_or(frame, last_of),
        _ => frame,
    }
}

/// A value to push in protected mode.
enum Job<'a> {
    /// The reply waiting in the binding, converted for a script of that protocol (RESP3:
    /// true).
    Reply(&'a Binding, bool),
    /// An error table `{err=text}`, marked counted when the statistics have it already.
    Error(&'static str, bool),
}

/// Pushes `job`'s value with `lua_pcall` of [`push_job`], so that a failed allocation comes
/// back as an error value instead of jumping over Rust frames. True on success; either way
/// one value is pushed.
///
/// # Safety
/// Inside a C function made by `install` (its second upvalue is `push_job`).
unsafe fn push_protected(state: *mut lua_State, job: &Job<'_>) -> bool {
    // SAFETY: a C function has room for a few values; `job` outlives the call.
    unsafe {
        ffi::lua_pushvalue(state, ffi::lua_upvalueindex(2));
        ffi::lua_pushlightuserdata(state, std::ptr::from_ref(job).cast_mut().cast::<c_void>());
        ffi::lua_pcall(state, 1, 1, 0) == 0
    }
}

/// The protected half of [`push_protected`]: its frames own nothing, so Lua may raise from
/// anywhere below.
unsafe extern "C-unwind" fn push_job(state: *mut lua_State) -> c_int {
    // SAFETY: `push_protected` passed a live `Job` as the only argument.
    unsafe {
        let job = &*ffi::lua_touserdata(state, 1).cast::<Job<'_>>().cast_const();
        match *job {
            Job::Reply(binding, resp3) => {
                // The guard is gone at the end of this statement: nothing in this frame needs
                // dropping if Lua raises below. The slot is only written by `call`, before and
                // after this push, on the thread holding the run lock.
                let frame = binding.reply.lock().as_ref().map(std::ptr::from_ref);
                match frame {
                    Some(frame) => push_frame(state, &*frame, resp3, 0),
                    None => ffi::lua_pushnil(state),
                }
            }
            Job::Error(text, counted) => push_error(state, text.as_bytes(), counted),
        }
    }
    1
}

/// Pushes `bytes` as a Lua string.
unsafe fn push_bytes(state: *mut lua_State, bytes: &[u8]) {
    // SAFETY: Lua copies the bytes.
    unsafe { ffi::lua_pushlstring(state, bytes.as_ptr().cast(), bytes.len()) };
}

/// Sets `table[name] = <top>` for the table just below the top, popping the value.
unsafe fn set_field(state: *mut lua_State, name: &str) {
    // SAFETY: the caller pushed a table, then a value.
    unsafe {
        push_bytes(state, name.as_bytes());
        ffi::lua_insert(state, -2);
        ffi::lua_rawset(state, -3);
    }
}

/// Pushes `{err=text}`, with the counted mark when the statistics have the error already.
unsafe fn push_error(state: *mut lua_State, text: &[u8], counted: bool) {
    // SAFETY: inside `push_job`.
    unsafe {
        ffi::lua_createtable(state, 0, 2);
        push_bytes(state, text);
        set_field(state, "err");
        if counted {
            ffi::lua_pushboolean(state, 1);
            set_field(state, COUNTED);
        }
    }
}

/// Pushes a table with one field `name` whose value is on the top of the stack (`{ok=...}`,
/// `{map={...}}`...), replacing that value.
unsafe fn wrap_in_field(state: *mut lua_State, name: &str) {
    // SAFETY: inside `push_job`, with the value on top.
    unsafe {
        ffi::lua_createtable(state, 0, 1);
        ffi::lua_insert(state, -2);
        set_field(state, name);
    }
}

/// Lua's `int` for a count or an index (tables past `c_int::MAX` cannot exist).
fn lua_int(n: usize) -> c_int {
    c_int::try_from(n).unwrap_or(c_int::MAX)
}

/// Pushes a reply as `redis.call` returns it to a script of the given protocol; see
/// [`crate::convert`] for the rules.
///
/// # Safety
/// Inside `push_job` (protected: any error or failed allocation raises).
unsafe fn push_frame(state: *mut lua_State, frame: &Frame, resp3: bool, depth: usize) {
    // SAFETY: (the whole body) inside `push_job`; each level makes room for its values.
    unsafe {
        if depth > MAX_DEPTH || ffi::lua_checkstack(state, 4) == 0 {
            push_bytes(state, b"reached lua stack limit");
            ffi::lua_error(state);
        }
        match frame {
            Frame::Simple(s) => {
                push_bytes(state, s);
                wrap_in_field(state, "ok");
            }
            // The command's error reply was counted when it was sent to the script.
            Frame::Error(s) | Frame::BlobError(s) => push_error(state, s, true),
            #[allow(clippy::cast_precision_loss)] // Lua 5.1 numbers are doubles, as in Redis
            Frame::Integer(i) => ffi::lua_pushnumber(state, *i as f64),
            Frame::Bulk(b) | Frame::Raw(b) => push_bytes(state, b),
            Frame::Null | Frame::NullArray => {
                if resp3 {
                    ffi::lua_pushnil(state);
                } else {
                    ffi::lua_pushboolean(state, 0);
                }
            }
            Frame::Array(items) | Frame::Push(items) => push_array(state, items, resp3, depth),
            Frame::BulkArray(items) => {
                ffi::lua_createtable(state, lua_int(items.len()), 0);
                for (i, item) in items.iter().enumerate() {
                    push_bytes(state, item);
                    ffi::lua_rawseti_(state, -2, lua_int(i + 1));
                }
            }
            Frame::Set(items) if resp3 => {
                ffi::lua_createtable(state, 0, lua_int(items.len()));
                for item in items {
                    push_frame(state, item, resp3, depth + 1);
                    ffi::lua_pushboolean(state, 1);
                    ffi::lua_rawset(state, -3);
                }
                wrap_in_field(state, "set");
            }
            Frame::Set(items) => push_array(state, items, resp3, depth),
            Frame::Map(pairs) | Frame::Attribute(pairs) if resp3 => {
                ffi::lua_createtable(state, 0, lua_int(pairs.len()));
                for (key, value) in pairs {
                    push_frame(state, key, resp3, depth + 1);
                    push_frame(state, value, resp3, depth + 1);
                    ffi::lua_rawset(state, -3);
                }
                wrap_in_field(state, "map");
            }
            Frame::Map(pairs) | Frame::Attribute(pairs) => {
                ffi::lua_createtable(state, lua_int(pairs.len().saturating_mul(2)), 0);
                for (i, (key, value)) in pairs.iter().enumerate() {
                    push_frame(state, key, resp3, depth + 1);
                    ffi::lua_rawseti_(state, -2, lua_int(2 * i + 1));
                    push_frame(state, value, resp3, depth + 1);
                    ffi::lua_rawseti_(state, -2, lua_int(2 * i + 2));
                }
            }
            Frame::Double(d) if resp3 => {
                ffi::lua_pushnumber(state, *d);
                wrap_in_field(state, "double");
            }
            Frame::Double(d) => push_bytes(state, DoubleText::new(*d).as_bytes()),
            Frame::Boolean(b) if resp3 => ffi::lua_pushboolean(state, c_int::from(*b)),
            Frame::Boolean(b) => ffi::lua_pushnumber(state, if *b { 1.0 } else { 0.0 }),
            Frame::BigNumber(n) => {
                push_bytes(state, n);
                if resp3 {
                    wrap_in_field(state, "big_number");
                }
            }
            Frame::Verbatim { format, text } if resp3 => {
                ffi::lua_createtable(state, 0, 2);
                push_bytes(state, format);
                set_field(state, "format");
                push_bytes(state, text);
                set_field(state, "string");
                wrap_in_field(state, "verbatim_string");
            }
            Frame::Verbatim { text, .. } => push_bytes(state, text),
            Frame::Sequence(frames) => match frames.last() {
                Some(last) => push_frame(state, last, resp3, depth),
                None => ffi::lua_pushnil(state),
            },
        }
    }
}

/// Pushes `items` as a Lua array.
unsafe fn push_array(state: *mut lua_State, items: &[Frame], resp3: bool, depth: usize) {
    // SAFETY: inside `push_job`.
    unsafe {
        ffi::lua_createtable(state, lua_int(items.len()), 0);
        for (i, item) in items.iter().enumerate() {
            push_frame(state, item, resp3, depth + 1);
            ffi::lua_rawseti_(state, -2, lua_int(i + 1));
        }
    }
}
