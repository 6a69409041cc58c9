//! The list commands (issue #4); the table fills in as the family lands.

use crate::command::{Family, Group};

/// The list family.
pub static FAMILY: Family = Family {
    group: Group::List,
    commands: &[],
};
