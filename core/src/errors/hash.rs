//! Error texts of the hash family, exactly as redis-server 7.0 sends them.
