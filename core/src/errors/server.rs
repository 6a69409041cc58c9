//! Error texts of the server family, exactly as redis-server 7.0 sends them.
