//! Consumer groups: a group's last delivered id and read counter, its pending entries list
//! (PEL), and its consumers, each with its own view of the PEL — Redis 7.0's `streamCG`,
//! `streamConsumer` and `streamNACK` as plain data.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;

use super::StreamId;

/// A delivered, not yet acknowledged entry (Redis's `streamNACK`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    /// The consumer that owns it.
    pub consumer: Bytes,
    /// When it was last delivered, in Unix milliseconds.
    pub delivery_time: u64,
    /// How many times it was delivered.
    pub delivery_count: u64,
}

/// A consumer of a group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Consumer {
    /// When it last read or claimed, in Unix milliseconds (7.0's only consumer clock).
    pub seen_time: u64,
    /// The ids it owns in the group's PEL.
    pel: BTreeSet<StreamId>,
}

impl Consumer {
    /// A consumer seen at `seen_time`, owning nothing.
    pub fn new(seen_time: u64) -> Consumer {
        Consumer {
            seen_time,
            pel: BTreeSet::new(),
        }
    }

    /// The ids it owns, in order.
    pub fn pending(&self) -> &BTreeSet<StreamId> {
        &self.pel
    }
}

/// A consumer group (Redis's `streamCG`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroup {
    /// The last id delivered to any of its consumers.
    pub last_id: StreamId,
    /// How many entries the group has read (its logical position), when known; Redis 7.0's
    /// `entries_read`, with `None` for `SCG_INVALID_ENTRIES_READ`.
    pub entries_read: Option<u64>,
    pel: BTreeMap<StreamId, PendingEntry>,
    consumers: BTreeMap<Bytes, Consumer>,
}

impl ConsumerGroup {
    /// A group at `last_id`, with no consumers and nothing pending.
    pub fn new(last_id: StreamId, entries_read: Option<u64>) -> ConsumerGroup {
        ConsumerGroup {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// The pending entries, in id order.
    pub fn pel(&self) -> &BTreeMap<StreamId, PendingEntry> {
        &self.pel
    }

    /// One pending entry.
    pub fn pending(&self, id: StreamId) -> Option<&PendingEntry> {
        self.pel.get(&id)
    }

    /// One pending entry, for updating its delivery time and count (its owner changes only
    /// through [`ConsumerGroup::assign`]).
    pub fn pending_mut(&mut self, id: StreamId) -> Option<&mut PendingEntry> {
        self.pel.get_mut(&id)
    }

    /// The consumers, by name (in name order, as XINFO lists them).
    pub fn consumers(&self) -> &BTreeMap<Bytes, Consumer> {
        &self.consumers
    }

    /// One consumer.
    pub fn consumer(&self, name: &[u8]) -> Option<&Consumer> {
        self.consumers.get(name)
    }

    /// One consumer, for refreshing its seen time.
    pub fn consumer_mut(&mut self, name: &[u8]) -> Option<&mut Consumer> {
        self.consumers.get_mut(name)
    }

    /// Adds a consumer seen at `now`; false when it already exists.
    pub fn create_consumer(&mut self, name: &[u8], now: u64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumers
            .insert(Bytes::copy_from_slice(name), Consumer::new(now));
        true
    }

    /// Removes a consumer and its pending entries; how many were pending, or `None` when there
    /// was no such consumer.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let consumer = self.consumers.remove(name)?;
        for id in &consumer.pel {
            self.pel.remove(id);
        }
        Some(consumer.pel.len())
    }

    /// Makes `consumer` (which must exist) own pending entry `id` with the given delivery time
    /// and count, creating the entry or moving it from its previous owner.
    pub fn assign(&mut self, id: StreamId, consumer: &[u8], delivery_time: u64, count: u64) {
        let Some((owner, _)) = self.consumers.get_key_value(consumer) else {
            return;
        };
        let owner = owner.clone();
        let previous = self.pel.insert(
            id,
            PendingEntry {
                consumer: owner.clone(),
                delivery_time,
                delivery_count: count,
            },
        );
        if let Some(previous) = previous
            && previous.consumer != owner
            && let Some(old) = self.consumers.get_mut(&previous.consumer)
        {
            old.pel.remove(&id);
        }
        if let Some(c) = self.consumers.get_mut(&owner) {
            c.pel.insert(id);
        }
    }

    /// Acknowledges `id`: removes it from the PEL and from its owner's; whether it was pending.
    pub fn acknowledge(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(entry) => {
                if let Some(c) = self.consumers.get_mut(&entry.consumer) {
                    c.pel.remove(&id);
                }
                true
            }
            None => false,
        }
    }
}
