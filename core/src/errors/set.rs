//! Error texts of the set family, exactly as redis-server 7.0 sends them.
