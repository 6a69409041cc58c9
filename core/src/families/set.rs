//! The set commands (issue #4); the table fills in as the family lands.

use crate::command::{Family, Group};

/// The set family.
pub static FAMILY: Family = Family {
    group: Group::Set,
    commands: &[],
};
