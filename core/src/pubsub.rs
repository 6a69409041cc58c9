//! Publish/subscribe state: who listens to which channel, pattern and shard channel.
//!
//! Each channel keeps its subscribers in subscription order, so a message reaches them in the
//! order they subscribed, as in Redis; patterns are kept in the order they were first
//! subscribed. Every client also keeps its own subscriptions, so unsubscribing from everything
//! (UNSUBSCRIBE with no argument, RESET, a closed connection) costs what it holds, not what the
//! server holds.
//!
//! Messages go out through the client's [`ConnectionHandle`](crate::client::ConnectionHandle)
//! with [`push_to`], which also enforces `client-output-buffer-limit`: a client whose pending
//! output passes its class's hard limit, or stays over the soft limit for longer than allowed,
//! is closed, as Redis closes it.

use bytes::Bytes;
/// Hash maps and sets with a seeded fast hasher.
type HashMap<K, V> = hashbrown::HashMap<K, V, foldhash::fast::RandomState>;
type HashSet<K> = hashbrown::HashSet<K, foldhash::fast::RandomState>;
use oxidis_protocol::Frame;

use crate::client::{Client, ClientId, Clients, SharedPush};
use crate::config::Config;

/// Plain channels (SUBSCRIBE) or shard channels (SSUBSCRIBE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// SUBSCRIBE / PUBLISH.
    Channel,
    /// SSUBSCRIBE / SPUBLISH.
    Shard,
}

/// One client's subscriptions.
#[derive(Debug, Default)]
struct Subscriptions {
    channels: HashSet<Bytes>,
    patterns: Vec<Bytes>,
    shard: HashSet<Bytes>,
}

impl Subscriptions {
    fn is_empty(&self) -> bool {
        self.channels.is_empty() && self.patterns.is_empty() && self.shard.is_empty()
    }
}

/// The server's pub/sub state.
#[derive(Debug, Default)]
pub struct PubSub {
    channels: HashMap<Bytes, Vec<ClientId>>,
    shard_channels: HashMap<Bytes, Vec<ClientId>>,
    /// Pattern and its subscribers, in the order patterns were first subscribed.
    patterns: Vec<(Bytes, Vec<ClientId>)>,
    clients: HashMap<ClientId, Subscriptions>,
}

impl PubSub {
    fn server_map(&mut self, kind: Kind) -> &mut HashMap<Bytes, Vec<ClientId>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Shard => &mut self.shard_channels,
        }
    }

    /// Subscribes `client` to `channel`; false if it already was.
    pub fn subscribe(&mut self, client: ClientId, kind: Kind, channel: &[u8]) -> bool {
        let subs = self.clients.entry(client).or_default();
        let set = match kind {
            Kind::Channel => &mut subs.channels,
            Kind::Shard => &mut subs.shard,
        };
        if set.contains(channel) {
            return false;
        }
        // A copy: the argument may be a slice of the connection's read buffer.
        let channel = Bytes::copy_from_slice(channel);
        set.insert(channel.clone());
        self.server_map(kind)
            .entry(channel)
            .or_default()
            .push(client);
        true
    }

    /// Unsubscribes `client` from `channel`; false if it was not subscribed.
    pub fn unsubscribe(&mut self, client: ClientId, kind: Kind, channel: &[u8]) -> bool {
        let Some(subs) = self.clients.get_mut(&client) else {
            return false;
        };
        let removed = match kind {
            Kind::Channel => subs.channels.remove(channel),
            Kind::Shard => subs.shard.remove(channel),
        };
        if !removed {
            return false;
        }
        if subs.is_empty() {
            self.clients.remove(&client);
        }
        let map = self.server_map(kind);
        if let Some(ids) = map.get_mut(channel) {
            ids.retain(|&id| id != client);
            if ids.is_empty() {
                map.remove(channel);
            }
        }
        true
    }

    /// Subscribes `client` to `pattern`; false if it already was.
    pub fn psubscribe(&mut self, client: ClientId, pattern: &[u8]) -> bool {
        let subs = self.clients.entry(client).or_default();
        if subs.patterns.iter().any(|p| p.as_ref() == pattern) {
            return false;
        }
        let pattern = Bytes::copy_from_slice(pattern);
        subs.patterns.push(pattern.clone());
        match self.patterns.iter_mut().find(|(p, _)| *p == pattern) {
            Some((_, ids)) => ids.push(client),
            None => self.patterns.push((pattern, vec![client])),
        }
        true
    }

    /// Unsubscribes `client` from `pattern`; false if it was not subscribed.
    pub fn punsubscribe(&mut self, client: ClientId, pattern: &[u8]) -> bool {
        let Some(subs) = self.clients.get_mut(&client) else {
            return false;
        };
        let Some(at) = subs.patterns.iter().position(|p| p.as_ref() == pattern) else {
            return false;
        };
        subs.patterns.remove(at);
        if subs.is_empty() {
            self.clients.remove(&client);
        }
        if let Some(at) = self.patterns.iter().position(|(p, _)| p == pattern) {
            let ids = &mut self.patterns[at].1;
            ids.retain(|&id| id != client);
            if ids.is_empty() {
                self.patterns.remove(at);
            }
        }
        true
    }

    /// The channels (or shard channels) `client` is subscribed to, in no particular order.
    pub fn client_channels(&self, client: ClientId, kind: Kind) -> Vec<Bytes> {
        self.clients.get(&client).map_or_else(Vec::new, |s| {
            let set = match kind {
                Kind::Channel => &s.channels,
                Kind::Shard => &s.shard,
            };
            set.iter().cloned().collect()
        })
    }

    /// The patterns `client` is subscribed to, in subscription order.
    pub fn client_patterns(&self, client: ClientId) -> Vec<Bytes> {
        self.clients
            .get(&client)
            .map_or_else(Vec::new, |s| s.patterns.clone())
    }

    /// `client`'s subscriptions: (channels, patterns, shard channels), as CLIENT LIST's `sub=`,
    /// `psub=` and `ssub=` show them.
    pub fn subscription_counts(&self, client: ClientId) -> (usize, usize, usize) {
        self.clients.get(&client).map_or((0, 0, 0), |s| {
            (s.channels.len(), s.patterns.len(), s.shard.len())
        })
    }

    /// What `client`'s subscriptions cost: their names plus `per_entry` bytes each.
    pub fn subscription_bytes(&self, client: ClientId, per_entry: usize) -> usize {
        self.clients.get(&client).map_or(0, |s| {
            s.channels
                .iter()
                .chain(s.patterns.iter())
                .chain(s.shard.iter())
                .map(|name| name.len() + per_entry)
                .sum()
        })
    }

    /// Forgets every subscription of `client` (RESET, a closed connection), without replies.
    pub fn unsubscribe_all(&mut self, client: ClientId) {
        let Some(subs) = self.clients.remove(&client) else {
            return;
        };
        for (kind, set) in [(Kind::Channel, subs.channels), (Kind::Shard, subs.shard)] {
            let map = self.server_map(kind);
            for channel in set {
                if let Some(ids) = map.get_mut(&channel) {
                    ids.retain(|&id| id != client);
                    if ids.is_empty() {
                        map.remove(&channel);
                    }
                }
            }
        }
        for (_, ids) in &mut self.patterns {
            ids.retain(|&id| id != client);
        }
        self.patterns.retain(|(_, ids)| !ids.is_empty());
    }

    /// Channels (or shard channels) with at least one subscriber (`pubsub_channels`).
    pub fn channel_count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Channel => self.channels.len(),
            Kind::Shard => self.shard_channels.len(),
        }
    }

    /// Distinct patterns subscribed to (`pubsub_patterns`, PUBSUB NUMPAT).
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Subscribers of `channel` (PUBSUB NUMSUB), patterns not counted.
    pub fn subscriber_count(&self, kind: Kind, channel: &[u8]) -> usize {
        let map = match kind {
            Kind::Channel => &self.channels,
            Kind::Shard => &self.shard_channels,
        };
        map.get(channel).map_or(0, Vec::len)
    }

    /// Active channels matching `pattern` (every one when `None`), for PUBSUB CHANNELS.
    pub fn channels_matching(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let map = match kind {
            Kind::Channel => &self.channels,
            Kind::Shard => &self.shard_channels,
        };
        map.keys()
            .filter(|c| {
                pattern.is_none_or(|p| crate::glob::glob_match(p, c, crate::glob::Case::Sensitive))
            })
            .cloned()
            .collect()
    }

    /// Whether anyone listens to any pattern (keyspace notifications skip work otherwise).
    pub fn has_listeners(&self) -> bool {
        !self.channels.is_empty() || !self.patterns.is_empty()
    }
}

/// Commands a RESP2 client may run while subscribed.
const SUBSCRIBED_MODE_COMMANDS: &[&str] = &[
    "ping",
    "subscribe",
    "ssubscribe",
    "unsubscribe",
    "sunsubscribe",
    "psubscribe",
    "punsubscribe",
    "quit",
    "reset",
];

/// Dispatch's gate: a RESP2 client in subscribed mode reads only pushes, so it may run nothing
/// but the subscription commands, PING, QUIT and RESET. RESP3 clients may run anything.
pub fn check_subscribed_mode(
    server: &crate::Server,
    client_id: ClientId,
    command: &crate::command::Command,
) -> Result<(), crate::CommandError> {
    let restricted = server
        .clients
        .get(client_id)
        .is_some_and(|c| c.subscribed && c.resp == oxidis_protocol::RespVersion::Resp2);
    if restricted && !SUBSCRIBED_MODE_COMMANDS.contains(&command.full_name.as_str()) {
        return Err(crate::CommandError::custom(
            crate::errors::pubsub::subscribed_mode(&command.full_name),
        ));
    }
    Ok(())
}

/// Delivers `message` on `channel` to its subscribers — and, for plain channels, to the clients
/// whose patterns match — and returns how many deliveries were made (PUBLISH's reply).
pub fn publish(
    pubsub: &PubSub,
    clients: &mut Clients,
    config: &Config,
    now_ms: u64,
    kind: Kind,
    channel: &[u8],
    message: &[u8],
) -> usize {
    let map = match kind {
        Kind::Channel => &pubsub.channels,
        Kind::Shard => &pubsub.shard_channels,
    };
    let direct = map.get(channel);
    let patterns = match kind {
        Kind::Channel => pubsub.patterns.as_slice(),
        Kind::Shard => &[],
    };
    if direct.is_none() && patterns.is_empty() {
        return 0;
    }
    // Encoded once per protocol, straight from the arguments, for every recipient.
    let mut receivers = 0;
    if let Some(ids) = direct {
        let kind_name: &'static [u8] = match kind {
            Kind::Channel => b"message",
            Kind::Shard => b"smessage",
        };
        let parts: [&[u8]; 3] = [kind_name, channel, message];
        let message = SharedPush::bulks(&parts).for_recipients(ids.len());
        for &id in ids {
            push_shared_to(clients, config, now_ms, id, &message);
            receivers += 1;
        }
    }
    for (pattern, ids) in patterns {
        if !crate::glob::glob_match(pattern, channel, crate::glob::Case::Sensitive) {
            continue;
        }
        let parts: [&[u8]; 4] = [b"pmessage", pattern, channel, message];
        let message = SharedPush::bulks(&parts).for_recipients(ids.len());
        for &id in ids {
            push_shared_to(clients, config, now_ms, id, &message);
            receivers += 1;
        }
    }
    receivers
}

/// Sends an out-of-band message to client `id`, then applies its `client-output-buffer-limit`:
/// past the hard limit, or over the soft limit for longer than its seconds, the client is
/// scheduled to close (its pending output is dropped, as Redis does) and gets nothing more.
pub fn push_to(clients: &mut Clients, config: &Config, now_ms: u64, id: ClientId, message: &Frame) {
    let message = SharedPush::new(message).for_recipients(1);
    push_shared_to(clients, config, now_ms, id, &message);
}

/// [`push_to`] for a message several clients get, encoded once per protocol.
pub fn push_shared_to(
    clients: &mut Clients,
    config: &Config,
    now_ms: u64,
    id: ClientId,
    message: &SharedPush<'_>,
) {
    // `maxmemory-clients` counts it again after the command.
    clients.note_output(id);
    let Some(client) = clients.get_mut(id) else {
        return;
    };
    if client.output_limit_reached {
        return;
    }
    let Some(handle) = client.handle.as_ref() else {
        return;
    };
    handle.push_shared(message);
    let pending = handle.pending_bytes();
    if over_output_limit(client, config, pending, now_ms) {
        close_for_output_limit(client);
    }
}

/// Applies `client-output-buffer-limit` to every client with pending output, as Redis's
/// client cron does: a soft limit is broken by time even when no more output comes.
pub fn enforce_output_limits(server: &mut crate::Server) {
    let now_ms = server.now_ms();
    let config = &server.config;
    for client in server.clients.iter_mut() {
        if client.output_limit_reached {
            continue;
        }
        let pending = client.handle.as_ref().map_or(0, |h| h.pending_bytes());
        if (pending > 0 || client.output_soft_limit_since.is_some())
            && over_output_limit(client, config, pending, now_ms)
        {
            close_for_output_limit(client);
        }
    }
}

/// Schedules `client` to close for its output buffer, as Redis logs it.
fn close_for_output_limit(client: &mut Client) {
    let Some(handle) = client.handle.clone() else {
        return;
    };
    client.output_limit_reached = true;
    tracing::warn!(
        "Client id={} addr={} laddr={} name={} scheduled to be closed ASAP for overcoming of output buffer limits.",
        client.id,
        client.peer.addr(),
        client.peer.laddr(),
        String::from_utf8_lossy(client.name.as_deref().unwrap_or_default()),
    );
    handle.close();
}

/// Whether `pending` output bytes break the limits of the client's class (`pubsub` for a
/// subscribed client, `normal` otherwise); tracks when the soft limit was first passed.
fn over_output_limit(client: &mut Client, config: &Config, pending: u64, now_ms: u64) -> bool {
    let class = if client.replica {
        1
    } else if client.subscribed {
        2
    } else {
        0
    };
    let limit = config.client_output_buffer_limit[class];
    if limit.hard_bytes != 0 && pending >= limit.hard_bytes {
        return true;
    }
    if limit.soft_bytes != 0 && pending >= limit.soft_bytes {
        let since = *client.output_soft_limit_since.get_or_insert(now_ms);
        return now_ms.saturating_sub(since) / 1000 >= limit.soft_seconds;
    }
    client.output_soft_limit_since = None;
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_are_counted_and_forgotten() {
        let mut ps = PubSub::default();
        assert!(ps.subscribe(1, Kind::Channel, b"a"));
        assert!(!ps.subscribe(1, Kind::Channel, b"a"));
        assert!(ps.subscribe(2, Kind::Channel, b"a"));
        assert!(ps.psubscribe(1, b"a*"));
        assert!(ps.subscribe(1, Kind::Shard, b"s"));
        assert_eq!(ps.subscription_counts(1), (1, 1, 1));
        assert_eq!(ps.subscriber_count(Kind::Channel, b"a"), 2);
        ps.unsubscribe_all(1);
        assert_eq!(ps.subscription_counts(1), (0, 0, 0));
        assert_eq!(ps.subscriber_count(Kind::Channel, b"a"), 1);
        assert_eq!(ps.pattern_count(), 0);
        assert_eq!(ps.channel_count(Kind::Shard), 0);
        assert!(ps.unsubscribe(2, Kind::Channel, b"a"));
        assert_eq!(ps.channel_count(Kind::Channel), 0);
    }

    #[test]
    fn patterns_count_once_however_many_subscribe() {
        let mut ps = PubSub::default();
        ps.psubscribe(1, b"foo*");
        ps.psubscribe(2, b"foo*");
        ps.psubscribe(1, b"bar*");
        assert_eq!(ps.pattern_count(), 2);
        assert!(ps.punsubscribe(1, b"foo*"));
        assert!(!ps.punsubscribe(1, b"foo*"));
        assert_eq!(ps.pattern_count(), 2);
        assert_eq!(ps.client_patterns(1), vec![Bytes::from_static(b"bar*")]);
    }
}
