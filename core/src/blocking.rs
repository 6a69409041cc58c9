//! Blocking commands (BLPOP, BLMOVE, BZPOPMIN, ...): which clients wait on which keys, and
//! serving them when a key they wait on is written.
//!
//! # How it works
//! A handler that finds nothing to return calls [`CommandContext::block`]. Dispatch then
//! records the client here, in first-come order per key, with its command, and the connection
//! waits — costing nothing until something happens. After every command that writes a key
//! someone waits on, dispatch marks the key *ready* ([`Blocked::signal_key`]) and, once that
//! command is complete, [`serve_blocked_clients`] re-runs the waiting clients' commands in the
//! order they blocked. A client whose command now returns a reply is unblocked and the reply
//! goes to its connection through [`crate::client::ConnectionHandle::deliver`]; one that would
//! block again keeps its place. Timeouts, CLIENT UNBLOCK and disconnection remove a client
//! with [`Blocked::unblock`].
//!
//! Because readiness is derived from the keys every write command declares, any command that
//! creates or fills a key (LPUSH, LMOVE, SORT STORE, RENAME, ...) wakes its waiters, with no
//! per-command wiring.
//!
//! [`CommandContext::block`]: crate::CommandContext::block

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;
use oxidis_protocol::Frame;

use crate::client::ClientId;
use crate::command::parse_f64;
use crate::dispatch::{Outcome, rerun_blocked};
use crate::errors::{CommandError, TIMEOUT_NEGATIVE, TIMEOUT_NOT_FLOAT};
use crate::server::Server;
use crate::types::ValueType;

/// What a handler asks for when it blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockRequest {
    /// The keys to wait on, in the selected database.
    pub keys: Vec<Bytes>,
    /// The type a key must hold to serve the client (a key turned into a string does not wake
    /// a BLPOP).
    pub wants: ValueType,
    /// How long to wait; `None` waits forever.
    pub timeout: Option<Duration>,
    /// What the client receives when the timeout expires (a null array for BLPOP, ...).
    pub timeout_reply: Frame,
    /// The command to run when woken, if not the one sent (XREAD with `$` resolved).
    pub rerun_argv: Option<Vec<Bytes>>,
    /// What the client receives if a key it waits on is deleted or changes type (XREADGROUP);
    /// `None` keeps it waiting.
    pub key_gone_reply: Option<Frame>,
}

/// A client waiting on keys.
#[derive(Debug, Clone)]
pub struct BlockedClient {
    /// The database its keys are in.
    pub db: usize,
    /// The keys it waits on.
    pub keys: Vec<Bytes>,
    /// The type a ready key must hold to serve it.
    pub wants: ValueType,
    /// The command to run again when a key is ready.
    pub argv: Vec<Bytes>,
    /// The reply on timeout.
    pub timeout_reply: Frame,
    /// The reply when a key it waits on is deleted or changes type, if that unblocks it.
    pub key_gone_reply: Option<Frame>,
    /// When it times out, if ever.
    pub deadline: Option<Instant>,
}

/// Every blocked client, indexed by the keys it waits on.
#[derive(Debug, Default)]
pub struct Blocked {
    by_key: HashMap<(usize, Bytes), VecDeque<ClientId>>,
    clients: HashMap<ClientId, BlockedClient>,
    ready: VecDeque<(usize, Bytes)>,
    /// Clients blocked by module commands, answered from other threads (#9).
    pub module_blocks: crate::modules::blocked::ModuleBlocks,
}

impl Blocked {
    /// Number of blocked clients (INFO `blocked_clients`).
    pub fn len(&self) -> usize {
        // A module block answered from another thread leaves its record until the client's
        // next block or disconnection.
        self.clients.len() - self.module_blocks.completed_count().min(self.clients.len())
    }

    /// Whether nobody is blocked.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// Blocked clients that have a timeout (INFO `clients_in_timeout_table`).
    pub fn with_timeout(&self) -> usize {
        self.clients
            .iter()
            .filter(|(id, b)| b.deadline.is_some() && !self.module_blocks.is_completed(**id))
            .count()
    }

    /// Whether `client` is blocked.
    pub fn is_blocked(&self, client: ClientId) -> bool {
        self.clients.contains_key(&client) && !self.module_blocks.is_completed(client)
    }

    /// The blocked client's record.
    pub fn get(&self, client: ClientId) -> Option<&BlockedClient> {
        self.clients.get(&client)
    }

    /// Records `client` as waiting, behind everyone already waiting on the same keys.
    pub fn block(&mut self, client: ClientId, blocked: BlockedClient) {
        let module = blocked.keys.is_empty() && blocked.wants == ValueType::Module;
        if self.module_blocks.on_block(client, module) == crate::modules::blocked::OnBlock::Answered
        {
            return;
        }
        for key in &blocked.keys {
            let queue = self.by_key.entry((blocked.db, key.clone())).or_default();
            if !queue.contains(&client) {
                queue.push_back(client);
            }
        }
        self.clients.insert(client, blocked);
    }

    /// Removes `client` from every queue; its record, if it was blocked.
    pub fn unblock(&mut self, client: ClientId) -> Option<BlockedClient> {
        // A module block already answered from another thread: its reply is on the way.
        if self.module_blocks.on_unblock(client) {
            self.clients.remove(&client);
            return None;
        }
        let blocked = self.clients.remove(&client)?;
        for key in &blocked.keys {
            let slot = (blocked.db, key.clone());
            if let Some(queue) = self.by_key.get_mut(&slot) {
                queue.retain(|c| *c != client);
                if queue.is_empty() {
                    self.by_key.remove(&slot);
                }
            }
        }
        Some(blocked)
    }

    /// Marks `key` of database `db` ready if someone waits on it.
    pub fn signal_key(&mut self, db: usize, key: &[u8]) {
        let slot = (db, Bytes::copy_from_slice(key));
        if self.by_key.contains_key(&slot) && !self.ready.contains(&slot) {
            self.ready.push_back(slot);
        }
    }

    /// Marks every key someone waits on in database `db` ready (FLUSHDB, FLUSHALL, SWAPDB: a
    /// blocked XREADGROUP must learn that its stream is gone).
    pub fn signal_db(&mut self, db: usize) {
        let mut slots: Vec<(usize, Bytes)> = self
            .by_key
            .keys()
            .filter(|(d, _)| *d == db)
            .cloned()
            .collect();
        slots.sort();
        for slot in slots {
            if !self.ready.contains(&slot) {
                self.ready.push_back(slot);
            }
        }
    }

    /// Whether a key is waiting to be served.
    pub fn has_ready_keys(&self) -> bool {
        !self.ready.is_empty()
    }

    /// The clients waiting on `key`, in the order they blocked.
    fn waiting_on(&self, db: usize, key: &Bytes) -> Vec<ClientId> {
        self.by_key
            .get(&(db, key.clone()))
            .map(|queue| queue.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Puts `client` back where it was in each of its queues (it was served nothing).
    fn restore(&mut self, client: ClientId, blocked: BlockedClient, positions: &[usize]) {
        for (key, &position) in blocked.keys.iter().zip(positions) {
            let queue = self.by_key.entry((blocked.db, key.clone())).or_default();
            queue.insert(position.min(queue.len()), client);
        }
        self.clients.insert(client, blocked);
    }

    fn positions(&self, client: ClientId, blocked: &BlockedClient) -> Vec<usize> {
        blocked
            .keys
            .iter()
            .map(|key| {
                self.by_key
                    .get(&(blocked.db, key.clone()))
                    .and_then(|queue| queue.iter().position(|c| *c == client))
                    .unwrap_or(usize::MAX)
            })
            .collect()
    }
}

/// Serves the clients waiting on keys that became ready, first come first served, until no
/// ready key is left (serving one client may make another key ready: BLMOVE pushes).
pub fn serve_blocked_clients(server: &mut Server) {
    while let Some((db, key)) = server.blocked.ready.pop_front() {
        for client in server.blocked.waiting_on(db, &key) {
            let Some(record) = server.blocked.get(client).cloned() else {
                continue;
            };
            // Serve only if the key is there, alive, and of the type the command pops from. An
            // expired key met here is reclaimed, as Redis's lookup would.
            let now = server.now_ms();
            reclaim_if_expired(server, db, &key, now);
            let serves = server.dbs.get(db).is_some_and(|d| {
                d.find(&key)
                    .is_some_and(|pos| d.entry(pos).value.value_type() == record.wants)
            });
            if !serves {
                // XREADGROUP cannot be served once its stream is gone: it gets an error.
                if let Some(reply) = record.key_gone_reply.clone() {
                    server.blocked.unblock(client);
                    deliver(server, client, reply);
                }
                continue;
            }
            let positions = server.blocked.positions(client, &record);
            server.blocked.unblock(client);
            let saved_db = server.clients.get(client).map(|c| c.db);
            if let Some(c) = server.clients.get_mut(client) {
                c.db = record.db;
            }
            let outcome = rerun_blocked(server, client, &record.argv);
            if let (Some(c), Some(saved)) = (server.clients.get_mut(client), saved_db) {
                c.db = saved;
            }
            match outcome {
                Outcome::Reply(reply) => deliver(server, client, reply),
                // Still nothing for it: it keeps its place in line.
                Outcome::Blocked(_) => server.blocked.restore(client, record, &positions),
            }
        }
    }
}

/// Removes `key` from database `db` if it has expired, with expiry's DEL and event.
fn reclaim_if_expired(server: &mut Server, db: usize, key: &[u8], now: u64) {
    let Some(database) = server.dbs.get_mut(db) else {
        return;
    };
    let Some(pos) = database
        .find(key)
        .filter(|&p| database.entry(p).is_expired(now))
    else {
        return;
    };
    database.remove_at(pos);
    server.stats.expired_keys += 1;
    let lazy = server.config.lazyfree_lazy_expire;
    server.propagation.push_deletion(db, key, lazy);
    server.propagation.flush(true);
    server.key_expired(db, key);
}

/// Sends `reply` to a client's connection.
pub fn deliver(server: &Server, client: ClientId, reply: Frame) {
    if let Some(handle) = server.clients.get(client).and_then(|c| c.handle.as_ref()) {
        handle.deliver(reply);
    }
}

/// Parses a blocking timeout in seconds (fractions allowed) as Redis does; 0 waits forever.
///
/// # Errors
/// `ERR timeout is not a float or out of range` and `ERR timeout is negative`.
pub fn parse_timeout(arg: &[u8]) -> Result<Option<Duration>, CommandError> {
    let seconds = parse_f64(arg)
        .filter(|s| s.is_finite())
        .ok_or(CommandError::msg(TIMEOUT_NOT_FLOAT))?;
    if seconds < 0.0 {
        return Err(CommandError::msg(TIMEOUT_NEGATIVE));
    }
    if seconds == 0.0 {
        return Ok(None);
    }
    Duration::try_from_secs_f64(seconds)
        .map(Some)
        .map_err(|_| CommandError::msg(TIMEOUT_NOT_FLOAT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::execute;
    use crate::testing::{Inbox, argv_of, connect_inbox};

    #[test]
    fn timeouts_parse_like_redis() {
        assert_eq!(parse_timeout(b"0"), Ok(None));
        assert_eq!(parse_timeout(b"0.5"), Ok(Some(Duration::from_millis(500))));
        assert_eq!(
            parse_timeout(b"-1"),
            Err(CommandError::msg(TIMEOUT_NEGATIVE))
        );
        assert_eq!(
            parse_timeout(b"abc"),
            Err(CommandError::msg(TIMEOUT_NOT_FLOAT))
        );
    }

    /// `BGET key timeout`: the value of `key`, blocking until it exists (test-only command).
    fn bget(
        ctx: &mut crate::CommandContext<'_>,
        args: &mut crate::command::Args<'_>,
    ) -> crate::command::CommandResult {
        let key = args.next_bytes()?.clone();
        let timeout = parse_timeout(args.next_bytes()?)?;
        match ctx.read(&key).and_then(|v| v.to_string_vec()) {
            Some(value) => {
                ctx.delete(&key);
                Ok(Frame::Bulk(Bytes::from(value)))
            }
            None => ctx.block(vec![key], ValueType::String, timeout, Frame::Null),
        }
    }

    fn server_with_bget() -> Server {
        use crate::command::{Arity, CommandSpec, Flag, KeyFlag, KeySpec};
        static BGET_KEYS: [KeySpec; 1] = [KeySpec::single(1, &[KeyFlag::Rw, KeyFlag::Delete])];
        let mut table = crate::CommandTable::with_builtins();
        table
            .register(
                CommandSpec::new("bget", Arity::Exact(3), bget)
                    .flags(&[Flag::Write, Flag::Blocking])
                    .keys(&BGET_KEYS),
            )
            .expect("registers");
        Server::with_table(crate::config::Config::default(), table)
    }

    fn connect(server: &mut Server) -> (ClientId, std::sync::Arc<Inbox>) {
        connect_inbox(server, oxidis_protocol::RespVersion::Resp2)
    }

    #[test]
    fn blocked_clients_are_served_first_come_first_served_by_any_writer() {
        let mut server = server_with_bget();
        let (first, first_inbox) = connect(&mut server);
        let (second, second_inbox) = connect(&mut server);
        let (writer, _) = connect(&mut server);
        assert!(matches!(
            execute(&mut server, first, &argv_of(&["BGET", "k", "0"])),
            Outcome::Blocked(_)
        ));
        assert!(matches!(
            execute(&mut server, second, &argv_of(&["BGET", "k", "0"])),
            Outcome::Blocked(_)
        ));
        assert_eq!(server.blocked.len(), 2);
        // One value: the first client gets it, the second keeps waiting.
        assert_eq!(
            execute(&mut server, writer, &argv_of(&["SET", "k", "one"])),
            Outcome::Reply(Frame::ok())
        );
        assert_eq!(first_inbox.delivered(), vec![Frame::bulk("one")]);
        assert!(second_inbox.delivered().is_empty());
        assert_eq!(server.blocked.len(), 1);
        execute(&mut server, writer, &argv_of(&["SET", "k", "two"]));
        assert_eq!(second_inbox.delivered(), vec![Frame::bulk("two")]);
        assert!(server.blocked.is_empty());
    }

    #[test]
    fn a_disconnected_client_is_never_served() {
        let mut server = server_with_bget();
        let (gone, gone_inbox) = connect(&mut server);
        let (writer, _) = connect(&mut server);
        execute(&mut server, gone, &argv_of(&["BGET", "k", "0"]));
        server.disconnect_client(gone);
        assert!(server.blocked.is_empty());
        execute(&mut server, writer, &argv_of(&["SET", "k", "kept"]));
        assert!(gone_inbox.delivered().is_empty());
        assert_eq!(
            crate::dispatch(&mut server, writer, &argv_of(&["GET", "k"])),
            Frame::bulk("kept")
        );
    }

    #[test]
    fn dispatch_answers_the_timeout_reply_instead_of_blocking() {
        let mut server = server_with_bget();
        let (client, _) = connect(&mut server);
        assert_eq!(
            crate::dispatch(&mut server, client, &argv_of(&["BGET", "k", "0"])),
            Frame::Null
        );
        assert!(server.blocked.is_empty());
    }

    #[test]
    fn queues_keep_arrival_order_and_unblock_cleans_up() {
        let mut blocked = Blocked::default();
        let record = |keys: &[&str]| BlockedClient {
            db: 0,
            keys: keys
                .iter()
                .map(|k| Bytes::copy_from_slice(k.as_bytes()))
                .collect(),
            wants: ValueType::List,
            argv: Vec::new(),
            timeout_reply: Frame::NullArray,
            key_gone_reply: None,
            deadline: None,
        };
        blocked.block(1, record(&["a", "b"]));
        blocked.block(2, record(&["a"]));
        assert_eq!(blocked.waiting_on(0, &Bytes::from_static(b"a")), vec![1, 2]);
        blocked.signal_key(0, b"a");
        blocked.signal_key(0, b"a");
        blocked.signal_key(0, b"zzz");
        assert_eq!(blocked.ready.len(), 1);
        assert!(blocked.unblock(1).is_some());
        assert_eq!(blocked.waiting_on(0, &Bytes::from_static(b"a")), vec![2]);
        assert!(blocked.waiting_on(0, &Bytes::from_static(b"b")).is_empty());
        assert_eq!(blocked.len(), 1);
    }
}
