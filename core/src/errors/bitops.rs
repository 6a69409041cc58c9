//! Error texts of the bitops family.
