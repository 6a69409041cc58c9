//! Error texts of the stream family.
