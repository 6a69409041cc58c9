//! (being written)

use crate::command::{Family, Group};

/// The connection family.
pub static FAMILY: Family = Family {
    group: Group::Connection,
    commands: &[],
};
