//! The sorted_set commands (issue #4); the table fills in as the family lands.

use crate::command::{Family, Group};

/// The sorted_set family.
pub static FAMILY: Family = Family {
    group: Group::SortedSet,
    commands: &[],
};
