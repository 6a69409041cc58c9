//! (being written)

use crate::command::{Family, Group};

/// The generic family.
pub static FAMILY: Family = Family {
    group: Group::Generic,
    commands: &[],
};
