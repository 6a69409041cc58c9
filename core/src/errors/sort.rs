//! Error texts of the sort family, exactly as redis-server 7.0 sends them.
