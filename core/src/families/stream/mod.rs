//! Streams and consumer groups: XADD, XREAD, XREADGROUP and friends.

use crate::command::{Family, Group};

/// The stream family.
pub static FAMILY: Family = Family {
    group: Group::Stream,
    commands: &[],
};
