//! Keyspace events: the one path by which "something happened to a key" leaves a command.
//!
//! A handler that changes a key says so with [`CommandContext::notify`]: the event's class (one
//! of the `notify-keyspace-events` letters, from [`class`]), Redis's event name (`"lpush"`,
//! `"hset"`, `"expired"`, ...) and the key. Expiry and eviction raise theirs the same way. Events
//! are recorded only while someone listens for their class; after the command, dispatch drains
//! them and hands each to the listeners (keyspace notifications; later module hooks).
//!
//! [`CommandContext::notify`]: crate::CommandContext::notify

use bytes::Bytes;

/// The event classes: the bits of `notify-keyspace-events`, one per letter.
pub use crate::config::keyspace_events as class;

/// One event: class, name, database and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEvent {
    /// The class bit (e.g. [`class::LIST`]).
    pub class: u32,
    /// Redis's event name, e.g. `lpush`.
    pub name: &'static str,
    /// The database the key lives in.
    pub db: usize,
    /// The key.
    pub key: Bytes,
}

/// Events raised by the running command and not yet delivered.
#[derive(Debug, Default)]
pub struct Events {
    pending: Vec<KeyEvent>,
    /// The classes module subscriptions listen to (kept by [`crate::modules::events`]): they
    /// hear every event of their classes, whatever `notify-keyspace-events` says.
    pub module_mask: u32,
}

impl Events {
    /// Whether an event of `event_class` must be recorded: pub/sub listeners want it under
    /// `flags` (see [`wanted`]) or a module subscribed to its class.
    pub fn wanted(&self, flags: u32, event_class: u32) -> bool {
        self.module_mask & event_class != 0 || wanted(flags, event_class)
    }

    /// Records an event.
    pub fn push(&mut self, event: KeyEvent) {
        self.pending.push(event);
    }

    /// Whether nothing waits for delivery.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Takes the pending events in the order they were raised.
    pub fn take(&mut self) -> Vec<KeyEvent> {
        std::mem::take(&mut self.pending)
    }
}

/// Whether an event of `class` would reach anyone under the configured `flags`: its class must
/// be enabled, and so must at least one of the two channel kinds (`K`, `E`).
pub fn wanted(flags: u32, event_class: u32) -> bool {
    flags & event_class != 0 && flags & (class::KEYSPACE | class::KEYEVENT) != 0
}

/// Hands the events the last command raised to their listeners: keyspace notifications
/// publish `__keyspace@<db>__:<key>` with the event's name (`K`) and `__keyevent@<db>__:<name>`
/// with the key (`E`), in that order, as Redis's `notifyKeyspaceEvent` does.
///
/// Module subscribers ([`crate::modules::events`]) hear the events first; events their
/// callbacks raise are delivered in further rounds.
pub fn deliver(server: &mut crate::Server) {
    for _ in 0..crate::modules::events::MAX_ROUNDS {
        if server.events.is_empty() {
            return;
        }
        let events = server.events.take();
        crate::modules::events::deliver_keyspace(server, &events);
        publish_all(server, events);
    }
}

/// The pub/sub half of [`deliver`].
fn publish_all(server: &mut crate::Server, events: Vec<KeyEvent>) {
    if !server.pubsub.has_listeners() {
        return;
    }
    let flags = server.config.notify_keyspace_events;
    let now = server.now_ms();
    let mut channel = Vec::new();
    // Events recorded only for modules are not published.
    for event in events.into_iter().filter(|e| wanted(flags, e.class)) {
        if flags & class::KEYSPACE != 0 {
            channel.clear();
            channel.extend_from_slice(format!("__keyspace@{}__:", event.db).as_bytes());
            channel.extend_from_slice(&event.key);
            publish(server, now, &channel, event.name.as_bytes());
        }
        if flags & class::KEYEVENT != 0 {
            channel.clear();
            channel.extend_from_slice(format!("__keyevent@{}__:", event.db).as_bytes());
            channel.extend_from_slice(event.name.as_bytes());
            publish(server, now, &channel, &event.key);
        }
    }
}

fn publish(server: &mut crate::Server, now: u64, channel: &[u8], message: &[u8]) {
    crate::pubsub::publish(
        &server.pubsub,
        &mut server.clients,
        &server.config,
        now,
        crate::pubsub::Kind::Channel,
        channel,
        message,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_needs_a_channel_kind() {
        assert!(!wanted(class::LIST, class::LIST));
        assert!(wanted(class::LIST | class::KEYEVENT, class::LIST));
        assert!(!wanted(class::HASH | class::KEYSPACE, class::LIST));
    }
}
