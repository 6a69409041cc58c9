//! Error texts of the config family, exactly as redis-server 7.0 sends them.
