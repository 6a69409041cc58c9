//! Error texts of the generic family, exactly as redis-server 7.0 sends them.
