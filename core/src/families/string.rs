//! (being written)

use crate::command::{Family, Group};

/// The string family.
pub static FAMILY: Family = Family {
    group: Group::String,
    commands: &[],
};
