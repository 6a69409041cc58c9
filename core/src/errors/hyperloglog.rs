//! Error texts of the hyperloglog family.
