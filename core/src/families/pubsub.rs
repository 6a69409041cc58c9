//! Publish/subscribe: SUBSCRIBE, PUBLISH, PUBSUB and the sharded forms.

use crate::command::{Family, Group};

/// The pubsub family.
pub static FAMILY: Family = Family {
    group: Group::PubSub,
    commands: &[],
};
