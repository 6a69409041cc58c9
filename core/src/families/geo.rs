//! Geo indexes on sorted sets: GEOADD, GEOSEARCH and friends.

use crate::command::{Family, Group};

/// The geo family.
pub static FAMILY: Family = Family {
    group: Group::Geo,
    commands: &[],
};
