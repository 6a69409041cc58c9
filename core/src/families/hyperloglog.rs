//! HyperLogLog counters on strings: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.

use crate::command::{Family, Group};

/// The hyperloglog family.
pub static FAMILY: Family = Family {
    group: Group::HyperLogLog,
    commands: &[],
};
