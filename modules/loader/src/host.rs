//! The server's side of a module command: the `Host` a module command talks to (calls, keys,
//! events, log), the trampoline every registered module command dispatches through, and the
//! conversions between core's [`Frame`] and the ABI's flat reply [`Token`]s.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use oxidis_core::command::{Args, CommandResult};
use oxidis_core::context::CommandContext;
use oxidis_core::modules::BlockedHandle;
use oxidis_module_api::abi::{
    CommandHandler_TO, Host, Host_TO, Token, Unblocker, Unblocker_TO, ValueMut, ValueObj_TO,
};
use oxidis_module_api::abi_stable::sabi_trait::TD_Opaque;
use oxidis_module_api::abi_stable::sabi_types::RMut;
use oxidis_module_api::abi_stable::std_types::{
    RBox, RErr, RNone, ROk, ROption, RResult, RSlice, RSome, RStr, RString, RVec,
};
use oxidis_protocol::{Frame, RespVersion};
use parking_lot::{Mutex, RwLock};

use crate::intern;
use crate::types::ForeignValue;
use oxidis_core::db::Ttl;
use oxidis_core::types::Value;

/// A module command's handler, shared by the trampoline while the module is loaded.
pub type ModuleHandler = Arc<CommandHandler_TO<RBox<()>>>;

/// How many clients module `owner` blocked and has not answered yet (its `BlockedClient`
/// handles alive): MODULE UNLOAD waits for zero, as Redis does. One counter per module name
/// for the life of the process.
pub fn blocked_clients(owner: &str) -> &'static AtomicUsize {
    static COUNTERS: Mutex<Vec<(&'static str, &'static AtomicUsize)>> = Mutex::new(Vec::new());
    let mut counters = COUNTERS.lock();
    if let Some((_, counter)) = counters.iter().find(|(name, _)| *name == owner) {
        return counter;
    }
    let counter: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
    counters.push((crate::intern::str(owner), counter));
    counter
}

/// The one entry point of a module command name: registered once per name for the life of the
/// process, pointing at the loaded module's handler (or at nothing once it is unloaded), so a
/// reloaded module reuses the same command entry.
#[derive(Default)]
pub struct Trampoline {
    /// The handler and the blocked-client counter of the module the command belongs to (one
    /// lock, read once per call).
    handler: RwLock<Option<(ModuleHandler, &'static AtomicUsize)>>,
}

impl Trampoline {
    /// Points the command at `handler` of module `owner` (None: unloaded). False when the
    /// command is running (a module command that unloads or reloads its own module through
    /// `call`): the command table no longer routes to a cleared entry anyway.
    pub fn set(&self, handler: Option<(ModuleHandler, &str)>) -> bool {
        match self.handler.try_write() {
            Some(mut slot) => {
                *slot = handler.map(|(h, owner)| (h, blocked_clients(owner)));
                true
            }
            None => false,
        }
    }

    /// Runs the command for `ctx`.
    pub fn run(&self, ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
        // Held for the call (recursively: the command may run itself through `call`).
        let slot = self.handler.read_recursive();
        let Some((handler, blocked_clients)) = slot.as_ref() else {
            return Ok(Frame::error("ERR the module of this command is unloaded"));
        };
        let blocked_clients: &'static AtomicUsize = blocked_clients;
        let argv = args.argv();
        let dirty = ctx.server.dirty;
        let mut small: [RSlice<'_, u8>; 4] = [RSlice::EMPTY; 4];
        let large: Vec<RSlice<'_, u8>>;
        let parts: &[RSlice<'_, u8>] = if argv.len() <= small.len() {
            for (slot, arg) in small.iter_mut().zip(argv) {
                *slot = RSlice::from_slice(arg);
            }
            &small[..argv.len()]
        } else {
            large = argv.iter().map(|a| RSlice::from_slice(a)).collect();
            &large
        };
        let mut host = HostCtx {
            ctx,
            verbatim: false,
            blocked: None,
            reply: None,
            scratch: itoa::Buffer::new(),
            blocked_clients: Some(blocked_clients),
        };
        // The reply buffer is reused from call to call (a nested module call gets a new one).
        let mut tokens = REPLY_BUFFER.take().unwrap_or_default();
        // No unwinding crosses this call: the module catches its own panics (one escaping would
        // abort at the `extern "C"` boundary), and the host's methods do not panic.
        handler.run(
            Host_TO::from_ptr(RMut::new(&mut host), TD_Opaque),
            RSlice::from_slice(parts),
            &mut tokens,
        );
        // A module command propagates its effects (the writes it runs through `call`), not
        // itself, unless it asked to be replicated verbatim (RedisModule_ReplicateVerbatim).
        // Dispatch propagates only commands that changed the dataset.
        if !host.verbatim && host.ctx.server.dirty != dirty {
            host.ctx.prevent_propagation();
        }
        let reply = if host.blocked.is_none() && tokens.is_empty() {
            // The reply the server built for it (`reply_string`); an error would be in `tokens`.
            match host.reply.take() {
                Some(frame) => frame,
                None => Frame::Null,
            }
        } else {
            // A command that blocked its client answers with what blocking gave it.
            finish_reply(host.blocked.take(), &mut tokens)
        };
        REPLY_BUFFER.set(Some(tokens));
        Ok(reply)
    }
}

/// The reply of a command that blocked its client, or else the module's reply tokens as a
/// frame; the buffer is left empty.
#[inline(never)]
fn finish_reply(blocked: Option<Frame>, tokens: &mut RVec<Token>) -> Frame {
    let frame = match blocked {
        Some(frame) => frame,
        None => take_frame(&mut tokens.drain(..)),
    };
    tokens.clear();
    frame
}

/// What a module command sees of the server: the command context of its call.
struct HostCtx<'c, 'a> {
    ctx: &'c mut CommandContext<'a>,
    verbatim: bool,
    /// The reply a blocked command returns (the client gets the handle's reply instead).
    blocked: Option<Frame>,
    /// The reply the server built for the command (`reply_string`), sent when the module's
    /// own reply is empty.
    reply: Option<Frame>,
    /// Where `string_ref` formats an integer-encoded string.
    scratch: itoa::Buffer,
    /// The module's count of clients it blocked.
    blocked_clients: Option<&'static AtomicUsize>,
}

impl Host for HostCtx<'_, '_> {
    fn resp3(&self) -> bool {
        self.ctx.resp() == RespVersion::Resp3
    }

    fn db(&self) -> u32 {
        u32::try_from(self.ctx.db_index()).unwrap_or(u32::MAX)
    }

    fn call(&mut self, argv: RSlice<'_, RSlice<'_, u8>>) -> RVec<Token> {
        // One buffer for all the arguments, each a slice of it: two allocations per call
        // rather than one per argument.
        let total = argv.iter().map(|a| a.len()).sum();
        let mut buffer = bytes::BytesMut::with_capacity(total);
        for arg in argv.iter() {
            buffer.extend_from_slice(arg.as_slice());
        }
        let buffer = buffer.freeze();
        let mut start = 0;
        let argv: Vec<Bytes> = argv
            .iter()
            .map(|a| {
                let arg = buffer.slice(start..start + a.len());
                start += a.len();
                arg
            })
            .collect();
        if argv.is_empty() {
            return RVec::from(vec![Token::Error("ERR empty command".into())]);
        }
        // A module command run by a script may not start another script (or anything else a
        // script may not run): the script engine is in use, as Redis refuses `noscript`
        // commands to a script's calls.
        if self.ctx.in_script()
            && self
                .ctx
                .server
                .table
                .get(&argv[0])
                .is_some_and(|command| command.has(oxidis_core::command::Flag::NoScript))
        {
            return RVec::from(vec![Token::Error(
                "ERR This Redis command is not allowed from script".into(),
            )]);
        }
        let client_id = self.ctx.client_id();
        let server = &mut *self.ctx.server;
        // Calls answer in RESP2, as RedisModule_Call does by default.
        let previous = server.clients.get(client_id).map(|c| c.resp);
        if let Some(client) = server.clients.get_mut(client_id) {
            client.resp = RespVersion::Resp2;
        }
        let reply = oxidis_core::dispatch(server, client_id, &argv);
        if let (Some(client), Some(previous)) = (server.clients.get_mut(client_id), previous) {
            client.resp = previous;
        }
        let mut tokens = RVec::new();
        frame_to_tokens(reply, RespVersion::Resp2, &mut tokens);
        tokens
    }

    fn string_get(&mut self, key: RSlice<'_, u8>, out: &mut RVec<u8>) -> RResult<bool, RString> {
        match self.ctx.read(key.as_slice()) {
            None => ROk(false),
            // One copy (not a push per byte): what API 1.0 modules' `Context::get` costs.
            Some(value) => match value.with_string_bytes(|b| out.extend_from_copy_slice(b)) {
                Some(()) => ROk(true),
                None => RErr(oxidis_core::errors::WRONG_TYPE.into()),
            },
        }
    }

    fn notify(&mut self, class: u32, event: RStr<'_>, key: RSlice<'_, u8>) {
        let name = intern::str(event.as_str());
        self.ctx.notify(class, name, key.as_slice());
    }

    fn log(&self, level: u32, message: RStr<'_>) {
        log(level, message.as_str());
    }

    fn module_value<'s>(
        &'s mut self,
        key: RSlice<'_, u8>,
        type_id: u64,
    ) -> RResult<ROption<ValueMut<'s>>, RString> {
        let Some(ty) = self.ctx.server.modules.types.by_id(type_id).cloned() else {
            return RErr("ERR module data type not registered".into());
        };
        let Some(value) = self.ctx.value_mut(key.as_slice()) else {
            return ROk(RNone);
        };
        match value
            .as_module_mut(&ty)
            .ok()
            .and_then(|m| m.downcast_mut::<ForeignValue>())
        {
            Some(foreign) => ROk(RSome(RMut::new(&mut foreign.0))),
            None => RErr(oxidis_core::errors::WRONG_TYPE.into()),
        }
    }

    fn set_module_value(
        &mut self,
        key: RSlice<'_, u8>,
        type_id: u64,
        value: ValueObj_TO<RBox<()>>,
    ) -> RResult<(), RString> {
        let Some(ty) = self.ctx.server.modules.types.by_id(type_id).cloned() else {
            return RErr("ERR module data type not registered".into());
        };
        let value = Value::module(&ty, Box::new(ForeignValue(value)));
        self.ctx.set(key.as_slice(), value, Ttl::Clear);
        self.ctx.changed(1);
        ROk(())
    }

    fn replicate_verbatim(&mut self) {
        self.verbatim = true;
        self.ctx.changed(1);
    }

    fn block_client(
        &mut self,
        timeout_ms: u64,
        timeout_reply: RVec<Token>,
    ) -> RResult<Unblocker_TO<RBox<()>>, RString> {
        let timeout = (timeout_ms > 0).then(|| std::time::Duration::from_millis(timeout_ms));
        match oxidis_core::modules::block_client(self.ctx, timeout, tokens_to_frame(timeout_reply))
        {
            Ok((handle, frame)) => {
                self.blocked = Some(frame);
                if let Some(count) = self.blocked_clients {
                    count.fetch_add(1, Ordering::SeqCst);
                }
                ROk(Unblocker_TO::from_value(
                    ServerUnblocker {
                        handle: Mutex::new(Some(handle)),
                        count: self.blocked_clients,
                    },
                    TD_Opaque,
                ))
            }
            Err(e) => RErr(e.to_string().into()),
        }
    }

    fn string_ref<'s>(
        &'s mut self,
        key: RSlice<'_, u8>,
    ) -> RResult<ROption<RSlice<'s, u8>>, RString> {
        let bytes = match self.ctx.read(key.as_slice()) {
            None => return ROk(RNone),
            Some(Value::Int(n)) => self.scratch.format(*n).as_bytes(),
            Some(Value::Str(s)) => s.as_slice(),
            Some(Value::Mutable(v)) => v.as_slice(),
            Some(_) => return RErr(oxidis_core::errors::WRONG_TYPE.into()),
        };
        ROk(RSome(RSlice::from_slice(bytes)))
    }

    fn reply_string(&mut self, key: RSlice<'_, u8>) -> RResult<bool, RString> {
        // The same reply as GET builds.
        let frame = match self.ctx.read(key.as_slice()) {
            None => Frame::Null,
            Some(value) => {
                match value.with_string_bytes(|b| Frame::Bulk(Bytes::copy_from_slice(b))) {
                    Some(frame) => frame,
                    None => return RErr(oxidis_core::errors::WRONG_TYPE.into()),
                }
            }
        };
        let found = !matches!(frame, Frame::Null);
        self.reply = Some(frame);
        ROk(found)
    }

    fn config_get(&self, name: RStr<'_>) -> ROption<RVec<u8>> {
        let server = &*self.ctx.server;
        server
            .modules
            .configs
            .get(name.as_str())
            .or_else(|| server.config.get(name.as_str()))
            .map(RVec::from)
            .into()
    }
}

/// A blocked client's handle, as the module's `Unblocker`; counted in its module's blocked
/// clients until answered or dropped.
struct ServerUnblocker {
    handle: Mutex<Option<BlockedHandle>>,
    count: Option<&'static AtomicUsize>,
}

impl ServerUnblocker {
    fn release(&self) {
        if let Some(count) = self.count {
            count.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for ServerUnblocker {
    fn drop(&mut self) {
        if self.handle.get_mut().is_some() {
            self.release();
        }
    }
}

impl Unblocker for ServerUnblocker {
    fn is_aborted(&self) -> bool {
        self.handle
            .lock()
            .as_ref()
            .is_none_or(BlockedHandle::is_aborted)
    }

    fn complete(&self, reply: RVec<Token>) -> bool {
        let handle = self.handle.lock().take();
        match handle {
            Some(handle) => {
                self.release();
                handle.complete(tokens_to_frame(reply)).is_ok()
            }
            None => false,
        }
    }
}

/// Writes a module's log line at its level.
pub fn log(level: u32, message: &str) {
    match level {
        0 => tracing::debug!("{message}"),
        1 => tracing::trace!("{message}"),
        2 => tracing::info!("{message}"),
        _ => tracing::warn!("{message}"),
    }
}

thread_local! {
    /// The buffer module commands write their replies into, reused from call to call.
    static REPLY_BUFFER: std::cell::Cell<Option<RVec<Token>>> = const { std::cell::Cell::new(None) };
}

/// A module's reply tree as a frame; RESP3 types are downgraded for RESP2 clients by the
/// encoder, as for built-in commands.
pub fn tokens_to_frame(tokens: RVec<Token>) -> Frame {
    let mut iter = tokens.into_iter();
    take_frame(&mut iter)
}

fn take_frame(iter: &mut impl Iterator<Item = Token>) -> Frame {
    let count = |n: u64| usize::try_from(n).unwrap_or(0);
    match iter.next() {
        None | Some(Token::Null) => Frame::Null,
        Some(Token::NullArray) => Frame::NullArray,
        Some(Token::Simple(s)) => Frame::Simple(Bytes::from(s.into_string())),
        Some(Token::Error(s)) => Frame::Error(Bytes::from(s.into_string())),
        Some(Token::Int(n)) => Frame::Integer(n),
        Some(Token::Bulk(b)) => Frame::Bulk(Bytes::from(b.into_vec())),
        Some(Token::Double(d)) => Frame::Double(d),
        Some(Token::Bool(b)) => Frame::Boolean(b),
        Some(Token::Verbatim(format, text)) => {
            let mut fmt = *b"txt";
            if let Some(given) = format.as_bytes().get(..3) {
                fmt.copy_from_slice(given);
            }
            Frame::Verbatim {
                format: fmt,
                text: Bytes::from(text.into_vec()),
            }
        }
        Some(Token::Array(n)) => Frame::Array((0..count(n)).map(|_| take_frame(iter)).collect()),
        Some(Token::Set(n)) => Frame::Set((0..count(n)).map(|_| take_frame(iter)).collect()),
        Some(Token::Map(n)) => Frame::Map(
            (0..count(n))
                .map(|_| {
                    let k = take_frame(iter);
                    (k, take_frame(iter))
                })
                .collect(),
        ),
    }
}

/// A command's reply as the ABI's flat tokens (what `call` returns to the module), in the form
/// `version` gives it: RESP2 flattens maps, turns sets into arrays, doubles and verbatim text
/// into bulk strings and booleans into integers, as a RESP2 client would read the reply.
pub fn frame_to_tokens(frame: Frame, version: RespVersion, out: &mut RVec<Token>) {
    let len = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    let text = |b: &[u8]| RString::from(String::from_utf8_lossy(b).into_owned());
    let resp2 = version == RespVersion::Resp2;
    match frame {
        Frame::Simple(s) => out.push(Token::Simple(text(&s))),
        Frame::Error(s) | Frame::BlobError(s) => out.push(Token::Error(text(&s))),
        Frame::Integer(n) => out.push(Token::Int(n)),
        Frame::Bulk(b) | Frame::BigNumber(b) | Frame::Raw(b) => {
            out.push(Token::Bulk(RVec::from_slice(&b)))
        }
        Frame::Null => out.push(Token::Null),
        Frame::NullArray => out.push(Token::NullArray),
        Frame::Array(items) | Frame::Push(items) => {
            out.push(Token::Array(len(items.len())));
            items
                .into_iter()
                .for_each(|f| frame_to_tokens(f, version, out));
        }
        Frame::Set(items) => {
            out.push(if resp2 {
                Token::Array(len(items.len()))
            } else {
                Token::Set(len(items.len()))
            });
            items
                .into_iter()
                .for_each(|f| frame_to_tokens(f, version, out));
        }
        Frame::Map(pairs) | Frame::Attribute(pairs) => {
            out.push(if resp2 {
                Token::Array(len(pairs.len().saturating_mul(2)))
            } else {
                Token::Map(len(pairs.len()))
            });
            for (k, v) in pairs {
                frame_to_tokens(k, version, out);
                frame_to_tokens(v, version, out);
            }
        }
        Frame::Double(d) if resp2 => {
            let mut text = Vec::new();
            oxidis_protocol::format_double(d, &mut text);
            out.push(Token::Bulk(RVec::from(text)));
        }
        Frame::Double(d) => out.push(Token::Double(d)),
        Frame::Boolean(b) if resp2 => out.push(Token::Int(i64::from(b))),
        Frame::Boolean(b) => out.push(Token::Bool(b)),
        Frame::Verbatim { text: t, .. } if resp2 => out.push(Token::Bulk(RVec::from_slice(&t))),
        Frame::Verbatim { format, text: t } => out.push(Token::Verbatim(
            RString::from(String::from_utf8_lossy(&format).into_owned()),
            RVec::from_slice(&t),
        )),
        // The reply itself is the last frame of a sequence (attributes and pushes come first).
        Frame::Sequence(frames) => match frames.into_iter().last() {
            Some(last) => frame_to_tokens(last, version, out),
            None => out.push(Token::Null),
        },
        Frame::BulkArray(items) => {
            out.push(Token::Array(len(items.len())));
            for item in items.iter() {
                out.push(Token::Bulk(RVec::from_slice(item)));
            }
        }
    }
}
