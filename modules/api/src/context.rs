//! [`Context`]: what a running command can do (reply format, keys, calls, events, blocking,
//! configuration), and [`BlockedClient`], the handle that answers a blocked client.

use abi_stable::std_types::{ROk, RResult, RSlice, RStr, RVec};

use crate::abi::{self, Host_TO};
use crate::{Error, LogLevel, Reply, TypeRef, types};
use abi_stable::sabi_types::RMut;
use abi_stable::std_types::RBox;

/// A stream entry: its ID and its fields (name, value pairs), as [`Context::stream_range`]
/// returns them.
pub type StreamEntry = (Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>);

/// What a running command can do: reply format, keys, calls, events.
pub struct Context<'a> {
    pub(crate) host: Host_TO<'a, RMut<'a, ()>>,
    /// Set by [`Context::reply_string`]: the server holds the reply, the handler's `Ok` value
    /// is not sent.
    pub(crate) replied: bool,
}

impl<'a> Context<'a> {
    /// Whether the client speaks RESP3 (maps, sets, doubles reach it as such; the server
    /// downgrades them for RESP2 clients anyway).
    pub fn resp3(&self) -> bool {
        self.host.resp3()
    }

    /// The selected database.
    pub fn db(&self) -> u32 {
        self.host.db()
    }

    /// Runs any command as the calling client, as `RedisModule_Call` does; its reply (errors
    /// included) comes back as a [`Reply`].
    pub fn call<A: AsRef<[u8]>>(&mut self, argv: &[A]) -> Reply {
        // Up to 8 arguments cross without an allocation.
        let mut small: [RSlice<'_, u8>; 8] = [RSlice::EMPTY; 8];
        let large: Vec<RSlice<'_, u8>>;
        let parts: &[RSlice<'_, u8>] = if argv.len() <= small.len() {
            for (slot, arg) in small.iter_mut().zip(argv) {
                *slot = RSlice::from_slice(arg.as_ref());
            }
            &small[..argv.len()]
        } else {
            large = argv
                .iter()
                .map(|a| RSlice::from_slice(a.as_ref()))
                .collect();
            &large
        };
        let tokens = self.host.call(RSlice::from_slice(parts));
        Reply::from_tokens(&tokens)
    }

    /// [`Context::call`], with an error reply turned into `Err`.
    pub fn call_ok<A: AsRef<[u8]>>(&mut self, argv: &[A]) -> Result<Reply, Error> {
        match self.call(argv) {
            Reply::Error(text) => Err(Error(text)),
            reply => Ok(reply),
        }
    }

    /// A string key's value, copied once into a vector the module owns; `Err(WRONGTYPE)` for
    /// another type. [`Context::with_string`] and [`Context::reply_string`] copy nothing.
    pub fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        // API 1.0's `string_get` filled a vector through the ABI; the borrowed read needs one
        // copy only.
        self.get_ref(key).map(|value| value.map(<[u8]>::to_vec))
    }

    /// A string key's value borrowed from the keyspace, without copying it: valid until the
    /// next call on this context. `Err(WRONGTYPE)` for another type. Since API 1.1.
    pub fn get_ref(&mut self, key: &[u8]) -> Result<Option<&[u8]>, Error> {
        match self.host.string_ref(RSlice::from_slice(key)) {
            ROk(value) => Ok(value.into_option().map(|v| v.as_slice())),
            RResult::RErr(text) => Err(Error(text.into_string())),
        }
    }

    /// Runs `f` on a string key's value, borrowed from the keyspace (nothing is copied):
    /// `Ok(None)` when the key is missing, `Err(WRONGTYPE)` for another type. Since API 1.1.
    pub fn with_string<R>(
        &mut self,
        key: &[u8],
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>, Error> {
        self.get_ref(key).map(|value| value.map(f))
    }

    /// Answers the command with the string value at `key` (a null reply when it is missing),
    /// which the server sends straight from the keyspace: the value is never copied into the
    /// module. Return what it returns; once it succeeded, the command's `Ok` reply is not
    /// sent (an `Err` still is). `Err(WRONGTYPE)` for another type. Since API 1.1.
    pub fn reply_string(&mut self, key: &[u8]) -> Result<Reply, Error> {
        match self.host.reply_string(RSlice::from_slice(key)) {
            ROk(_) => {
                self.replied = true;
                Ok(Reply::Null)
            }
            RResult::RErr(text) => Err(Error(text.into_string())),
        }
    }

    /// Sets a string key (any previous value and TTL are replaced).
    pub fn set(&mut self, key: &[u8], value: &[u8]) -> Result<(), Error> {
        self.call_ok(&[b"SET".as_slice(), key, value]).map(drop)
    }

    /// Sets a key's time to live in milliseconds; false when the key does not exist.
    pub fn expire(&mut self, key: &[u8], ms: i64) -> Result<bool, Error> {
        let ms = ms.to_string();
        self.int(&[b"PEXPIRE".as_slice(), key, ms.as_bytes()])
            .map(|n| n == 1)
    }

    /// The key's time to live in milliseconds: -1 without one, -2 when missing.
    pub fn ttl_ms(&mut self, key: &[u8]) -> Result<i64, Error> {
        self.int(&[b"PTTL".as_slice(), key])
    }

    /// Whether the key exists.
    pub fn exists(&mut self, key: &[u8]) -> Result<bool, Error> {
        self.int(&[b"EXISTS".as_slice(), key]).map(|n| n == 1)
    }

    /// Deletes a key; whether it existed.
    pub fn delete(&mut self, key: &[u8]) -> Result<bool, Error> {
        self.int(&[b"DEL".as_slice(), key]).map(|n| n == 1)
    }

    /// The key's type name (`none`, `string`, `list`...).
    pub fn key_type(&mut self, key: &[u8]) -> Result<String, Error> {
        match self.call_ok(&[b"TYPE".as_slice(), key])? {
            Reply::Simple(name) => Ok(name),
            other => Err(unexpected(&other)),
        }
    }

    /// Pushes values at the head (`left`) or tail of a list; the new length.
    pub fn list_push(&mut self, key: &[u8], left: bool, values: &[&[u8]]) -> Result<i64, Error> {
        let mut argv: Vec<&[u8]> = vec![if left { b"LPUSH" } else { b"RPUSH" }, key];
        argv.extend_from_slice(values);
        self.int(&argv)
    }

    /// Pops one value from the head (`left`) or tail of a list.
    pub fn list_pop(&mut self, key: &[u8], left: bool) -> Result<Option<Vec<u8>>, Error> {
        let name: &[u8] = if left { b"LPOP" } else { b"RPOP" };
        self.call_ok(&[name, key]).map(Reply::into_bytes)
    }

    /// A range of a list (Redis's `LRANGE` indexes).
    pub fn list_range(&mut self, key: &[u8], start: i64, stop: i64) -> Result<Vec<Vec<u8>>, Error> {
        let (start, stop) = (start.to_string(), stop.to_string());
        self.bytes_list(&[b"LRANGE".as_slice(), key, start.as_bytes(), stop.as_bytes()])
    }

    /// A hash field's value.
    pub fn hash_get(&mut self, key: &[u8], field: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        self.call_ok(&[b"HGET".as_slice(), key, field])
            .map(Reply::into_bytes)
    }

    /// Sets a hash field; whether it is new.
    pub fn hash_set(&mut self, key: &[u8], field: &[u8], value: &[u8]) -> Result<bool, Error> {
        self.int(&[b"HSET".as_slice(), key, field, value])
            .map(|n| n == 1)
    }

    /// Adds members to a set; how many were new.
    pub fn set_add(&mut self, key: &[u8], members: &[&[u8]]) -> Result<i64, Error> {
        let mut argv: Vec<&[u8]> = vec![b"SADD", key];
        argv.extend_from_slice(members);
        self.int(&argv)
    }

    /// A set's members.
    pub fn set_members(&mut self, key: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
        self.bytes_list(&[b"SMEMBERS".as_slice(), key])
    }

    /// Adds (or updates) a sorted set member; whether it is new.
    pub fn zset_add(&mut self, key: &[u8], score: f64, member: &[u8]) -> Result<bool, Error> {
        let score = score.to_string();
        self.int(&[b"ZADD".as_slice(), key, score.as_bytes(), member])
            .map(|n| n == 1)
    }

    /// A sorted set member's score.
    pub fn zset_score(&mut self, key: &[u8], member: &[u8]) -> Result<Option<f64>, Error> {
        match self.call_ok(&[b"ZSCORE".as_slice(), key, member])? {
            Reply::Double(d) => Ok(Some(d)),
            Reply::Bulk(b) => Ok(std::str::from_utf8(&b).ok().and_then(|s| s.parse().ok())),
            _ => Ok(None),
        }
    }

    /// Members of a sorted set by rank, lowest score first.
    pub fn zset_range(&mut self, key: &[u8], start: i64, stop: i64) -> Result<Vec<Vec<u8>>, Error> {
        let (start, stop) = (start.to_string(), stop.to_string());
        self.bytes_list(&[b"ZRANGE".as_slice(), key, start.as_bytes(), stop.as_bytes()])
    }

    /// Appends an entry of `fields` (name, value pairs) to a stream (`XADD`; `id` may be `*`);
    /// the entry's ID. Since API 1.1.
    pub fn stream_add(
        &mut self,
        key: &[u8],
        id: &[u8],
        fields: &[(&[u8], &[u8])],
    ) -> Result<Vec<u8>, Error> {
        let mut argv: Vec<&[u8]> = vec![b"XADD", key, id];
        for (name, value) in fields {
            argv.push(name);
            argv.push(value);
        }
        match self.call_ok(&argv)? {
            Reply::Bulk(id) => Ok(id),
            other => Err(unexpected(&other)),
        }
    }

    /// A stream's entries from `start` to `end` (`XRANGE` IDs; `-` and `+` for the ends),
    /// each its ID and fields. Since API 1.1.
    pub fn stream_range(
        &mut self,
        key: &[u8],
        start: &[u8],
        end: &[u8],
    ) -> Result<Vec<StreamEntry>, Error> {
        let entries = match self.call_ok(&[b"XRANGE".as_slice(), key, start, end])? {
            Reply::Array(entries) => entries,
            other => return Err(unexpected(&other)),
        };
        entries
            .into_iter()
            .map(|entry| match entry {
                Reply::Array(mut parts) if parts.len() == 2 => {
                    let fields = match parts.pop() {
                        Some(Reply::Array(flat)) => flat,
                        other => return Err(unexpected(&other.unwrap_or(Reply::Null))),
                    };
                    let id = parts.pop().and_then(Reply::into_bytes).unwrap_or_default();
                    let mut flat = fields.into_iter().filter_map(Reply::into_bytes);
                    let mut pairs = Vec::new();
                    while let (Some(name), Some(value)) = (flat.next(), flat.next()) {
                        pairs.push((name, value));
                    }
                    Ok((id, pairs))
                }
                other => Err(unexpected(&other)),
            })
            .collect()
    }

    /// The value of data type `ty` at `key`, for reading or changing in place: None when the
    /// key is missing, `Err(WRONGTYPE)` when it holds anything else.
    pub fn value_mut<V: Send + 'static>(
        &mut self,
        key: &[u8],
        ty: TypeRef<V>,
    ) -> Result<Option<&mut V>, Error> {
        match self.host.module_value(RSlice::from_slice(key), ty.id()) {
            ROk(abi_stable::std_types::RSome(obj)) => types::value_mut::<V>(obj.into_mut())
                .map(Some)
                .ok_or_else(Error::wrong_type),
            ROk(abi_stable::std_types::RNone) => Ok(None),
            RResult::RErr(text) => Err(Error(text.into_string())),
        }
    }

    /// Stores `value` of data type `ty` at `key`, replacing any value and TTL.
    pub fn set_value<V: Send + 'static>(
        &mut self,
        key: &[u8],
        ty: TypeRef<V>,
        value: V,
    ) -> Result<(), Error> {
        match self
            .host
            .set_module_value(RSlice::from_slice(key), ty.id(), types::value_obj(value))
        {
            ROk(()) => Ok(()),
            RResult::RErr(text) => Err(Error(text.into_string())),
        }
    }

    /// Propagates this command verbatim to replicas and the AOF (by default a module command
    /// propagates only the effects of its `call`s). Commands that change module values do this.
    pub fn replicate_verbatim(&mut self) {
        self.host.replicate_verbatim();
    }

    /// Blocks the calling client until the returned [`BlockedClient`] answers it (move it to
    /// another thread), or `timeout` passes and it gets `timeout_reply`. The command's own
    /// reply is ignored (return anything, e.g. `Reply::Null`).
    pub fn block(
        &mut self,
        timeout: Option<std::time::Duration>,
        timeout_reply: Reply,
    ) -> Result<BlockedClient, Error> {
        let ms = timeout.map_or(0, |t| {
            u64::try_from(t.as_millis()).unwrap_or(u64::MAX).max(1)
        });
        match self.host.block_client(ms, timeout_reply.into_tokens()) {
            ROk(inner) => Ok(BlockedClient { inner }),
            RResult::RErr(text) => Err(Error(text.into_string())),
        }
    }

    /// A configuration parameter's value as text (`<module>.<name>` for a module's own).
    pub fn config(&self, name: &str) -> Option<Vec<u8>> {
        self.host
            .config_get(RStr::from_str(name))
            .into_option()
            .map(RVec::into_vec)
    }

    /// Raises a keyspace event (`class` from [`notify`]) named `event` on `key`.
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        self.host
            .notify(class, RStr::from_str(event), RSlice::from_slice(key));
    }

    /// Writes to the server log.
    pub fn log(&self, level: LogLevel, message: &str) {
        self.host.log(level as u32, RStr::from_str(message));
    }

    fn int(&mut self, argv: &[&[u8]]) -> Result<i64, Error> {
        match self.call_ok(argv)? {
            Reply::Int(n) => Ok(n),
            other => Err(unexpected(&other)),
        }
    }

    fn bytes_list(&mut self, argv: &[&[u8]]) -> Result<Vec<Vec<u8>>, Error> {
        match self.call_ok(argv)? {
            Reply::Array(items) | Reply::Set(items) => {
                Ok(items.into_iter().filter_map(Reply::into_bytes).collect())
            }
            other => Err(unexpected(&other)),
        }
    }
}

fn unexpected(reply: &Reply) -> Error {
    Error::new(format!("ERR unexpected reply {reply:?}"))
}

/// A blocked client, answered from any thread ([`Context::block`]).
pub struct BlockedClient {
    inner: abi::Unblocker_TO<RBox<()>>,
}

impl BlockedClient {
    /// Answers the client; false when it no longer waits (timed out, unblocked, gone).
    pub fn reply(self, reply: Reply) -> bool {
        self.inner.complete(reply.into_tokens())
    }

    /// Whether the client stopped waiting.
    pub fn is_aborted(&self) -> bool {
        self.inner.is_aborted()
    }
}
