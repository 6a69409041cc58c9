//! (being written)

use crate::command::{Family, Group};

/// The introspection family.
pub static FAMILY: Family = Family {
    group: Group::Server,
    commands: &[],
};
