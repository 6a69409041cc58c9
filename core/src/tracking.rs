//! Client-side caching (CLIENT TRACKING): which clients may hold a copy of which key, and the
//! invalidation messages they get when it changes.
//!
//! In the default mode the server remembers, per key, the clients that read it (the keys of the
//! read-only commands they run); the first write to the key sends each of them one invalidation
//! and forgets the entry. In BCAST mode nothing is remembered: every written key matching one of
//! the client's prefixes is collected, and after the command the collected keys go out in one
//! message per prefix. FLUSHALL/FLUSHDB send a null invalidation ("everything").
//!
//! Messages reach RESP3 clients as `>2 invalidate [keys]` pushes, or, through REDIRECT, a
//! RESP2 client subscribed to `__redis__:invalidate` as a pub/sub message. Invalidations for
//! the client whose command caused them are held back and sent after that command's reply,
//! as Redis does, so they never interleave with it.

use std::collections::BTreeMap;

use bytes::Bytes;
use oxidis_protocol::{Frame, RespVersion};

use crate::client::ClientId;
use crate::server::Server;

/// Hash maps with a seeded fast hasher.
type HashMap<K, V> = hashbrown::HashMap<K, V, foldhash::fast::RandomState>;

/// The pub/sub channel invalidations go to for RESP2 redirection.
pub const INVALIDATE_CHANNEL: &[u8] = b"__redis__:invalidate";

/// One client's CLIENT TRACKING settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientTracking {
    /// REDIRECT target (0: none).
    pub redirect: ClientId,
    /// BCAST mode.
    pub bcast: bool,
    /// OPTIN mode: only keys read right after CLIENT CACHING YES are tracked.
    pub optin: bool,
    /// OPTOUT mode: keys read right after CLIENT CACHING NO are not tracked.
    pub optout: bool,
    /// NOLOOP: no invalidations for the client's own writes.
    pub noloop: bool,
    /// CLIENT CACHING was given for the next command.
    pub caching: bool,
    /// The redirect target has gone away.
    pub broken_redirect: bool,
    /// BCAST prefixes, in byte order.
    pub prefixes: Vec<Bytes>,
}

/// The options of one CLIENT TRACKING ON.
#[derive(Debug, Clone, Default)]
pub struct TrackingOptions {
    /// REDIRECT target (0: none).
    pub redirect: ClientId,
    /// BCAST.
    pub bcast: bool,
    /// OPTIN.
    pub optin: bool,
    /// OPTOUT.
    pub optout: bool,
    /// NOLOOP.
    pub noloop: bool,
    /// PREFIX arguments.
    pub prefixes: Vec<Bytes>,
}

/// One BCAST prefix: its clients and the keys written since the last broadcast, each with the
/// client that wrote it last (for NOLOOP).
#[derive(Debug, Default)]
struct PrefixState {
    clients: Vec<ClientId>,
    keys: BTreeMap<Bytes, Option<ClientId>>,
}

/// What an invalidation says: some keys, or everything (a flush).
#[derive(Debug, Clone)]
enum Invalidation {
    Keys(Vec<Bytes>),
    All,
}

/// The server's tracking state.
#[derive(Debug, Default)]
pub struct Tracking {
    /// Key → clients that may cache it.
    table: HashMap<Bytes, Vec<ClientId>>,
    total_items: usize,
    prefixes: BTreeMap<Bytes, PrefixState>,
    clients: HashMap<ClientId, ClientTracking>,
    /// Invalidations for a client's own command, sent after its reply (`None`: everything).
    pending: Vec<(ClientId, Option<Bytes>)>,
    /// The running script called a read-only command: its caller then tracks the keys the
    /// script declared (not the keys the inner commands read), as Redis does.
    script_read: bool,
}

impl Tracking {
    /// Whether any client tracks (every hook returns at once otherwise).
    pub fn is_active(&self) -> bool {
        !self.clients.is_empty()
    }

    /// A client's settings, if it tracks.
    pub fn client(&self, id: ClientId) -> Option<&ClientTracking> {
        self.clients.get(&id)
    }

    /// `tracking_clients` of INFO.
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// `tracking_total_keys` of INFO.
    pub fn total_keys(&self) -> usize {
        self.table.len()
    }

    /// `tracking_total_items` of INFO: client ids across all keys.
    pub fn total_items(&self) -> usize {
        self.total_items
    }

    /// `tracking_total_prefixes` of INFO.
    pub fn total_prefixes(&self) -> usize {
        self.prefixes.len()
    }

    /// The prefix of `prefixes` (or of the client's own) that overlaps `candidate`, as CLIENT
    /// TRACKING's collision check defines overlap: one is a prefix of the other.
    pub fn colliding_prefix(&self, id: ClientId, candidate: &[u8]) -> Option<Bytes> {
        self.clients
            .get(&id)?
            .prefixes
            .iter()
            .find(|p| overlaps(p, candidate))
            .cloned()
    }

    /// CLIENT TRACKING ON (the caller checked the options).
    pub fn enable(&mut self, id: ClientId, options: TrackingOptions) {
        let state = self.clients.entry(id).or_default();
        state.redirect = options.redirect;
        state.bcast = options.bcast;
        state.optin = options.optin;
        state.optout = options.optout;
        state.noloop = options.noloop;
        state.broken_redirect = false;
        if !options.bcast {
            return;
        }
        let mut prefixes = options.prefixes;
        if prefixes.is_empty() {
            prefixes.push(Bytes::new());
        }
        for prefix in prefixes {
            let entry = self.prefixes.entry(prefix.clone()).or_default();
            if !entry.clients.contains(&id) {
                entry.clients.push(id);
                let state = self.clients.entry(id).or_default();
                let at = state
                    .prefixes
                    .binary_search(&prefix)
                    .unwrap_or_else(|at| at);
                state.prefixes.insert(at, prefix);
            }
        }
    }

    /// CLIENT TRACKING OFF, RESET, or a closed connection. Keys it read stay in the table (as
    /// in Redis, ids are not cleaned up); they are skipped when met.
    pub fn disable(&mut self, id: ClientId) {
        let Some(state) = self.clients.remove(&id) else {
            return;
        };
        for prefix in state.prefixes {
            if let Some(entry) = self.prefixes.get_mut(&prefix) {
                entry.clients.retain(|&c| c != id);
                if entry.clients.is_empty() {
                    self.prefixes.remove(&prefix);
                }
            }
        }
    }

    /// CLIENT CACHING YES|NO: applies to the next command only.
    pub fn set_caching(&mut self, id: ClientId) {
        if let Some(state) = self.clients.get_mut(&id) {
            state.caching = true;
        }
    }

    /// Remembers that `id` read `keys`, unless OPTIN/OPTOUT and CLIENT CACHING say otherwise.
    fn remember<'k>(&mut self, id: ClientId, keys: impl Iterator<Item = &'k [u8]>) {
        let Some(state) = self.clients.get(&id) else {
            return;
        };
        if state.bcast || (state.optin && !state.caching) || (state.optout && state.caching) {
            return;
        }
        for key in keys {
            let ids = match self.table.get_mut(key) {
                Some(ids) => ids,
                None => self.table.entry(Bytes::copy_from_slice(key)).or_default(),
            };
            if !ids.contains(&id) {
                ids.push(id);
                self.total_items += 1;
            }
        }
    }
}

/// Whether one of `a`, `b` is a prefix of the other.
fn overlaps(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

/// After a read-only command of a tracking client: remember the keys it read. After any
/// command but CLIENT's subcommands (outside MULTI): forget CLIENT CACHING.
pub fn after_read(
    server: &mut Server,
    id: ClientId,
    command: &crate::command::Command,
    argv: &[Bytes],
) {
    use crate::command::Flag;
    let in_script = server
        .script_busy
        .running
        .load(std::sync::atomic::Ordering::Relaxed);
    if in_script {
        server.tracking.script_read |= command.has(Flag::ReadOnly);
        return;
    }
    let script_read = std::mem::take(&mut server.tracking.script_read);
    // A read-only script (EVAL_RO...) tracks only through the commands it runs.
    let is_script = matches!(
        &*command.full_name,
        "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro"
    );
    let reads = command.has(Flag::ReadOnly) && !is_script;
    if (script_read || reads) && !command.has(Flag::PubSub) {
        let keys = crate::command::find_keys(command, argv).unwrap_or_default();
        server.tracking.remember(
            id,
            keys.iter()
                .filter_map(|k| argv.get(k.index))
                .map(|k| k.as_ref()),
        );
    }
    let in_multi = server
        .clients
        .get(id)
        .is_some_and(|c| c.transaction.is_some());
    if !in_multi
        && !command.full_name.starts_with("client|")
        && let Some(state) = server.tracking.clients.get_mut(&id)
    {
        state.caching = false;
    }
}

/// A key was written (or expired, or evicted): collect it for BCAST clients and invalidate it
/// for the clients that read it. `current` is the client whose command is running (its own
/// invalidations wait for its reply; NOLOOP skips them), `writer` the client that wrote the
/// key (`None` for expiry and eviction).
pub fn invalidate_key(
    server: &mut Server,
    current: Option<ClientId>,
    writer: Option<ClientId>,
    key: &[u8],
    bcast: bool,
) {
    let tracking = &mut server.tracking;
    if !tracking.is_active() && tracking.table.is_empty() {
        return;
    }
    if bcast {
        for (prefix, state) in tracking.prefixes.iter_mut() {
            if key.starts_with(prefix) {
                state.keys.insert(Bytes::copy_from_slice(key), writer);
            }
        }
    }
    let Some(ids) = tracking.table.remove(key) else {
        return;
    };
    tracking.total_items -= ids.len();
    let key = Bytes::copy_from_slice(key);
    for id in ids {
        let Some(state) = server.tracking.clients.get(&id) else {
            continue;
        };
        if state.bcast || (state.noloop && current == Some(id)) {
            continue;
        }
        if current == Some(id) {
            server.tracking.pending.push((id, Some(key.clone())));
        } else {
            send(server, id, Invalidation::Keys(vec![key.clone()]), false);
        }
    }
}

/// FLUSHALL / FLUSHDB: every tracking client is told to drop everything, and the table is
/// emptied.
pub fn invalidate_all(server: &mut Server, current: Option<ClientId>) {
    let ids: Vec<ClientId> = server.tracking.clients.keys().copied().collect();
    for id in ids {
        if current == Some(id) {
            server.tracking.pending.push((id, None));
        } else {
            send(server, id, Invalidation::All, false);
        }
    }
    server.tracking.table.clear();
    server.tracking.total_items = 0;
}

/// After a top-level command (or a cron tick, `current` = `None`): sends the BCAST messages
/// for the keys written since the last call, the invalidations held back for `current`'s
/// reply, and evicts table entries over `tracking-table-max-keys`.
pub fn after_command(server: &mut Server, current: Option<ClientId>) {
    if !server.tracking.is_active() {
        server.tracking.pending.clear();
        return;
    }
    broadcast(server, current);
    for (id, key) in std::mem::take(&mut server.tracking.pending) {
        let message = match key {
            Some(key) => Invalidation::Keys(vec![key]),
            None => Invalidation::All,
        };
        send(server, id, message, true);
    }
    limit_table(server);
}

/// One message per prefix with written keys, to each of its clients (NOLOOP clients without
/// the keys they wrote themselves).
fn broadcast(server: &mut Server, current: Option<ClientId>) {
    let mut messages = Vec::new();
    for state in server.tracking.prefixes.values_mut() {
        if state.keys.is_empty() {
            continue;
        }
        let keys = std::mem::take(&mut state.keys);
        for &id in &state.clients {
            let noloop = server.tracking.clients.get(&id).is_some_and(|c| c.noloop);
            let list: Vec<Bytes> = keys
                .iter()
                .filter(|(_, writer)| !noloop || **writer != Some(id))
                .map(|(k, _)| k.clone())
                .collect();
            if !list.is_empty() {
                messages.push((id, list));
            }
        }
    }
    for (id, keys) in messages {
        send(server, id, Invalidation::Keys(keys), current == Some(id));
    }
}

/// Evicts keys from the table (invalidating them) while it holds more than
/// `tracking-table-max-keys` keys (0: no limit).
fn limit_table(server: &mut Server) {
    let max = server
        .config
        .get("tracking-table-max-keys")
        .and_then(|v| std::str::from_utf8(&v).ok()?.parse::<usize>().ok())
        .unwrap_or(0);
    if max == 0 {
        return;
    }
    while server.tracking.table.len() > max {
        let Some(key) = server.tracking.table.keys().next().cloned() else {
            break;
        };
        invalidate_key(server, None, None, &key, false);
    }
}

/// Sends one invalidation to client `id` (or where it redirects), as its protocol allows.
fn send(server: &mut Server, id: ClientId, message: Invalidation, after_reply: bool) {
    let Some(state) = server.tracking.clients.get_mut(&id) else {
        return;
    };
    let mut target = id;
    let redirected = state.redirect != 0;
    if redirected {
        if server.clients.get(state.redirect).is_none() {
            state.broken_redirect = true;
            let redirect = state.redirect;
            let resp3 = server
                .clients
                .get(id)
                .is_some_and(|c| c.resp == RespVersion::Resp3);
            if resp3 {
                let frame = Frame::Push(vec![
                    Frame::Bulk(Bytes::from_static(b"tracking-redir-broken")),
                    crate::families::count_reply(redirect),
                ]);
                deliver(server, id, frame, after_reply);
            }
            return;
        }
        target = state.redirect;
    }
    let Some(client) = server.clients.get(target) else {
        return;
    };
    let keys = match message {
        Invalidation::Keys(keys) => Frame::Array(keys.into_iter().map(Frame::Bulk).collect()),
        Invalidation::All => Frame::Null,
    };
    let frame = if client.resp == RespVersion::Resp3 {
        Frame::Push(vec![Frame::Bulk(Bytes::from_static(b"invalidate")), keys])
    } else if redirected && client.subscribed {
        Frame::Push(vec![
            Frame::Bulk(Bytes::from_static(b"message")),
            Frame::Bulk(Bytes::from_static(INVALIDATE_CHANNEL)),
            keys,
        ])
    } else {
        // RESP2 without redirection has no way to carry a push.
        return;
    };
    // Only the client running the command waits for its reply; a redirect target does not.
    deliver(server, target, frame, after_reply && target == id);
}

fn deliver(server: &mut Server, id: ClientId, frame: Frame, after_reply: bool) {
    if after_reply {
        if let Some(handle) = server.clients.get(id).and_then(|c| c.handle.clone()) {
            handle.push_after_reply(frame);
        }
        return;
    }
    let now = server.now_ms();
    crate::pubsub::push_to(&mut server.clients, &server.config, now, id, &frame);
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::testing::{CommandRunner, Inbox, bulk, connect_inbox};

    fn resp3_client(r: &mut CommandRunner) -> (ClientId, Arc<Inbox>) {
        connect_inbox(&mut r.server, RespVersion::Resp3)
    }

    fn invalidate(keys: &[&str]) -> Frame {
        Frame::Push(vec![
            bulk("invalidate"),
            Frame::Array(keys.iter().map(|k| bulk(k)).collect()),
        ])
    }

    #[test]
    fn a_key_read_is_invalidated_once_when_written() {
        let mut r = CommandRunner::with_builtin_commands();
        let (id, inbox) = resp3_client(&mut r);
        r.run_as(id, &["CLIENT", "TRACKING", "ON"]);
        r.run_as(id, &["GET", "k"]);
        assert_eq!(r.server.tracking.total_keys(), 1);
        r.run(["SET", "k", "1"]);
        r.run(["SET", "k", "2"]);
        assert_eq!(inbox.pushed().as_slice(), &[invalidate(&["k"])]);
        assert_eq!(r.server.tracking.total_keys(), 0);
    }

    #[test]
    fn bcast_sends_the_written_keys_under_each_prefix() {
        let mut r = CommandRunner::with_builtin_commands();
        let (id, inbox) = resp3_client(&mut r);
        r.run_as(id, &["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a:"]);
        r.run(["MSET", "a:1", "x", "b:1", "y", "a:2", "z"]);
        assert_eq!(inbox.pushed().as_slice(), &[invalidate(&["a:1", "a:2"])]);
    }

    #[test]
    fn flushall_invalidates_everything() {
        let mut r = CommandRunner::with_builtin_commands();
        let (id, inbox) = resp3_client(&mut r);
        r.run_as(id, &["CLIENT", "TRACKING", "ON"]);
        r.run(["FLUSHALL"]);
        assert_eq!(
            inbox.pushed().as_slice(),
            &[Frame::Push(vec![bulk("invalidate"), Frame::Null])]
        );
    }

    #[test]
    fn prefixes_overlap_when_one_starts_the_other() {
        assert!(overlaps(b"FOO", b"FOOBAR"));
        assert!(overlaps(b"FOOBAR", b"FO"));
        assert!(!overlaps(b"FOO", b"BAR"));
        assert!(overlaps(b"", b"x"));
    }

    #[test]
    fn optin_tracks_only_after_caching_yes() {
        let mut t = Tracking::default();
        t.enable(
            1,
            TrackingOptions {
                optin: true,
                ..TrackingOptions::default()
            },
        );
        t.remember(1, [&b"a"[..]].into_iter());
        assert_eq!(t.total_keys(), 0);
        t.set_caching(1);
        t.remember(1, [&b"a"[..], &b"a"[..]].into_iter());
        assert_eq!((t.total_keys(), t.total_items()), (1, 1));
    }

    #[test]
    fn bcast_prefixes_are_shared_and_released() {
        let mut t = Tracking::default();
        let bcast = |prefixes: &[&'static [u8]]| TrackingOptions {
            bcast: true,
            prefixes: prefixes.iter().map(|p| Bytes::from_static(p)).collect(),
            ..TrackingOptions::default()
        };
        t.enable(1, bcast(&[b"a:", b"b:"]));
        t.enable(2, bcast(&[b"a:"]));
        assert_eq!(t.total_prefixes(), 2);
        assert_eq!(t.colliding_prefix(1, b"a"), Some(Bytes::from_static(b"a:")));
        t.disable(1);
        assert_eq!(t.total_prefixes(), 1);
        t.disable(2);
        assert_eq!(t.total_prefixes(), 0);
        assert!(!t.is_active());
    }
}
