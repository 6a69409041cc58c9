//! (being written)

use crate::command::{Family, Group};

/// The server family.
pub static FAMILY: Family = Family {
    group: Group::Server,
    commands: &[],
};
