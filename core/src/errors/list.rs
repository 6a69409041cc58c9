//! Error texts of the list family, exactly as redis-server 7.0 sends them.
