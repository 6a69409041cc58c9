//! Error texts of the pubsub family.
