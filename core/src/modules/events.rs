//! Event subscriptions for modules: keyspace notifications and server events.
//!
//! # Keyspace notifications
//! [`subscribe_keyspace`] takes a class mask (bits of [`crate::events::class`], e.g.
//! `class::LIST | class::GENERIC`). The callback sees every event of those classes — whatever
//! `notify-keyspace-events` says, as Redis's `RM_SubscribeToKeyspaceEvents` — with its database,
//! name and key. Events are delivered after the command that raised them (with the other
//! listeners of [`crate::events::deliver`]), in the order they were raised.
//!
//! # Server events
//! [`subscribe_server_event`] takes a [`ServerEventKind`]; the callback gets a [`ServerEvent`]
//! (Redis's `RM_SubscribeToServerEvent`): flushes (start and end), loading (start, end,
//! failure), client connection and disconnection, shutdown, and the cron tick (`hz` times a
//! second). Expiry and eviction are keyspace events (`class::EXPIRED`, `class::EVICTED`).
//!
//! # Re-entrancy rule
//! Callbacks run on the keyspace thread with `&mut Server`, under the keyspace lock; they must
//! not block. While a round of callbacks runs, its subscription list is set aside, so a
//! callback is never re-entered:
//! - a callback may subscribe or unsubscribe; that takes effect when the round ends;
//! - keyspace events a callback causes — by writing keys itself, or by running commands
//!   (`dispatch`) whose events pub/sub receives at once — reach the module subscribers (the
//!   running one included) in a following round, up to [`MAX_ROUNDS`] rounds per delivery;
//!   past that they are dropped for modules;
//! - a server event fired from inside a server-event callback reaches only subscribers added
//!   during the round.

use crate::client::ClientId;
use crate::events::KeyEvent;
use crate::server::Server;

/// Rounds of keyspace delivery per call: events raised by callbacks are delivered in later
/// rounds; past this many, the rest wait for the next command.
pub const MAX_ROUNDS: usize = 8;

/// Identifies one subscription, for [`unsubscribe`].
pub type SubscriptionId = u64;

/// A keyspace notification callback: the server and the event.
pub type KeyspaceCallback = Box<dyn FnMut(&mut Server, &KeyEvent) + Send>;

/// A server event callback: the server and the event.
pub type ServerEventCallback = Box<dyn FnMut(&mut Server, &ServerEvent) + Send>;

/// Start or end of something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// It begins.
    Start,
    /// It ended.
    End,
}

/// What is being loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadSource {
    /// An RDB file (startup, DEBUG RELOAD).
    Rdb,
    /// The append-only file (startup, DEBUG LOADAOF).
    Aof,
    /// A replica's copy of its master's data.
    Replication,
}

/// A server event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// FLUSHDB (`db` is its index) or FLUSHALL (`db` is `None`), before and after emptying.
    Flush {
        /// Before or after.
        phase: Phase,
        /// The database, or `None` for all.
        db: Option<usize>,
    },
    /// Loading started.
    LoadingStart(LoadSource),
    /// Loading ended; `ok` is false when it failed.
    LoadingEnd {
        /// What was loaded.
        source: LoadSource,
        /// Whether it succeeded.
        ok: bool,
    },
    /// A client connected (a connection: internal clients such as the AOF loader's are not
    /// reported).
    ClientConnected(ClientId),
    /// A client disconnected (called before its state is forgotten).
    ClientDisconnected(ClientId),
    /// The server is shutting down (after the final save, before exit).
    Shutdown,
    /// The cron tick, `hz` times a second.
    CronTick {
        /// The configured `hz`.
        hz: u32,
        /// Ticks since startup.
        cycle: u64,
    },
}

/// The kinds of server event one subscribes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerEventKind {
    /// [`ServerEvent::Flush`].
    Flush,
    /// [`ServerEvent::LoadingStart`] and [`ServerEvent::LoadingEnd`].
    Loading,
    /// [`ServerEvent::ClientConnected`] and [`ServerEvent::ClientDisconnected`].
    ClientChange,
    /// [`ServerEvent::Shutdown`].
    Shutdown,
    /// [`ServerEvent::CronTick`].
    CronTick,
}

impl ServerEvent {
    /// The kind this event belongs to.
    pub fn kind(&self) -> ServerEventKind {
        match self {
            ServerEvent::Flush { .. } => ServerEventKind::Flush,
            ServerEvent::LoadingStart(_) | ServerEvent::LoadingEnd { .. } => {
                ServerEventKind::Loading
            }
            ServerEvent::ClientConnected(_) | ServerEvent::ClientDisconnected(_) => {
                ServerEventKind::ClientChange
            }
            ServerEvent::Shutdown => ServerEventKind::Shutdown,
            ServerEvent::CronTick { .. } => ServerEventKind::CronTick,
        }
    }
}

struct KeyspaceSub {
    id: SubscriptionId,
    owner: String,
    mask: u32,
    callback: KeyspaceCallback,
}

struct ServerSub {
    id: SubscriptionId,
    owner: String,
    kind: ServerEventKind,
    callback: ServerEventCallback,
}

/// Every module subscription (in [`crate::modules::Modules::subscriptions`]).
#[derive(Default)]
pub struct Subscriptions {
    keyspace: Vec<KeyspaceSub>,
    server: Vec<ServerSub>,
    next_id: SubscriptionId,
    /// Ids unsubscribed while their list was set aside for a round.
    removed: Vec<SubscriptionId>,
    cron_cycle: u64,
    /// A keyspace round is running (its subscribers are set aside).
    in_round: bool,
    /// The classes of the subscribers set aside for the round (still recorded meanwhile).
    running_mask: u32,
    /// Events delivered by a nested [`crate::events::deliver`] during a round (a callback
    /// ran a command): the modules get them in a following round.
    deferred: Vec<KeyEvent>,
}

impl std::fmt::Debug for Subscriptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriptions")
            .field("keyspace", &self.keyspace.len())
            .field("server", &self.server.len())
            .finish()
    }
}

impl Subscriptions {
    /// Whether anyone subscribed to server events of `kind` (cheap check before building one).
    pub fn wants(&self, kind: ServerEventKind) -> bool {
        self.server.iter().any(|s| s.kind == kind)
    }

    /// How many subscriptions exist (keyspace, server).
    pub fn counts(&self) -> (usize, usize) {
        (self.keyspace.len(), self.server.len())
    }

    fn mask(&self) -> u32 {
        self.keyspace
            .iter()
            .fold(self.running_mask, |m, s| m | s.mask)
    }

    fn next_id(&mut self) -> SubscriptionId {
        self.next_id += 1;
        self.next_id
    }
}

/// Subscribes `owner`'s `callback` to keyspace events of the classes in `mask`.
pub fn subscribe_keyspace(
    server: &mut Server,
    owner: &str,
    mask: u32,
    callback: KeyspaceCallback,
) -> SubscriptionId {
    let subs = &mut server.modules.subscriptions;
    let id = subs.next_id();
    subs.keyspace.push(KeyspaceSub {
        id,
        owner: owner.to_string(),
        mask,
        callback,
    });
    refresh_mask(server);
    id
}

/// Subscribes `owner`'s `callback` to server events of `kind`.
pub fn subscribe_server_event(
    server: &mut Server,
    owner: &str,
    kind: ServerEventKind,
    callback: ServerEventCallback,
) -> SubscriptionId {
    let subs = &mut server.modules.subscriptions;
    let id = subs.next_id();
    subs.server.push(ServerSub {
        id,
        owner: owner.to_string(),
        kind,
        callback,
    });
    id
}

/// Ends subscription `id` (from inside a callback too); false when there is no such one.
pub fn unsubscribe(server: &mut Server, id: SubscriptionId) -> bool {
    let subs = &mut server.modules.subscriptions;
    let before = subs.keyspace.len() + subs.server.len();
    subs.keyspace.retain(|s| s.id != id);
    subs.server.retain(|s| s.id != id);
    let found = subs.keyspace.len() + subs.server.len() != before;
    if !found && id <= subs.next_id {
        // Maybe set aside for a round: drop it when the round ends.
        subs.removed.push(id);
    }
    refresh_mask(server);
    found
}

/// Ends every subscription of `owner` (MODULE UNLOAD).
pub fn unsubscribe_owner(server: &mut Server, owner: &str) {
    let subs = &mut server.modules.subscriptions;
    subs.keyspace.retain(|s| s.owner != owner);
    subs.server.retain(|s| s.owner != owner);
    refresh_mask(server);
}

/// Keeps the mask of classes modules listen to where event recording reads it.
fn refresh_mask(server: &mut Server) {
    server.events.module_mask = server.modules.subscriptions.mask();
}

/// Hands `events` to the keyspace subscribers whose mask has each event's class, then, in
/// further rounds (at most [`MAX_ROUNDS`] in all), the events that commands run by the
/// callbacks raised.
pub fn deliver_keyspace(server: &mut Server, events: &[KeyEvent]) {
    let subs = &mut server.modules.subscriptions;
    if subs.in_round {
        // A callback ran a command: its events wait for the next round.
        subs.deferred.extend_from_slice(events);
        return;
    }
    if events.is_empty() || subs.keyspace.is_empty() {
        return;
    }
    run_round(server, events);
    for _ in 1..MAX_ROUNDS {
        let deferred = std::mem::take(&mut server.modules.subscriptions.deferred);
        if deferred.is_empty() {
            break;
        }
        run_round(server, &deferred);
    }
    server.modules.subscriptions.deferred.clear();
}

/// One round: every subscriber set aside, called for the events of its classes, put back
/// (with those added meanwhile, without those removed).
fn run_round(server: &mut Server, events: &[KeyEvent]) {
    let subs = &mut server.modules.subscriptions;
    let mut running = std::mem::take(&mut subs.keyspace);
    subs.running_mask = running.iter().fold(0, |m, s| m | s.mask);
    subs.in_round = true;
    for event in events {
        for sub in &mut running {
            if sub.mask & event.class != 0
                && !server.modules.subscriptions.removed.contains(&sub.id)
            {
                (sub.callback)(server, event);
            }
        }
    }
    let subs = &mut server.modules.subscriptions;
    subs.in_round = false;
    subs.running_mask = 0;
    let removed = std::mem::take(&mut subs.removed);
    running.retain(|s| !removed.contains(&s.id));
    running.append(&mut subs.keyspace);
    subs.keyspace = running;
    refresh_mask(server);
}

/// Fires a server event at its subscribers.
pub fn fire(server: &mut Server, event: &ServerEvent) {
    let kind = event.kind();
    if !server.modules.subscriptions.wants(kind) {
        return;
    }
    let mut running = std::mem::take(&mut server.modules.subscriptions.server);
    for sub in &mut running {
        if sub.kind == kind && !server.modules.subscriptions.removed.contains(&sub.id) {
            (sub.callback)(server, event);
        }
    }
    let subs = &mut server.modules.subscriptions;
    let removed = std::mem::take(&mut subs.removed);
    running.retain(|s| !removed.contains(&s.id));
    running.append(&mut subs.server);
    subs.server = running;
}

/// A module's event name as the `&'static str` [`crate::CommandContext::notify`] takes
/// (Redis's `RM_NotifyKeyspaceEvent` accepts any name): each distinct name is stored once for
/// the life of the process, so a module must not build names from data.
pub fn intern_event_name(name: &str) -> &'static str {
    static NAMES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut names = NAMES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(found) = names.iter().find(|n| **n == name) {
        return found;
    }
    let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.push(leaked);
    leaked
}

/// The cron tick: the server crate calls it once per `serverCron` run.
pub fn cron_tick(server: &mut Server) {
    let subs = &mut server.modules.subscriptions;
    subs.cron_cycle += 1;
    let cycle = subs.cron_cycle;
    if subs.wants(ServerEventKind::CronTick) {
        let hz = server.config.hz;
        fire(server, &ServerEvent::CronTick { hz, cycle });
    }
}
