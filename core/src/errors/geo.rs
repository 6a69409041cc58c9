//! Error texts of the geo family.
