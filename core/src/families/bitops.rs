//! Bitmaps and bitfields on strings: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD.

use crate::command::{Family, Group};

/// The bitops family.
pub static FAMILY: Family = Family {
    group: Group::Bitmap,
    commands: &[],
};
