//! Error texts of the string family, exactly as redis-server 7.0 sends them.
