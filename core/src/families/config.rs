//! (being written)

use crate::command::{Family, Group};

/// The config family.
pub static FAMILY: Family = Family {
    group: Group::Server,
    commands: &[],
};
