//! Error texts of the connection family, exactly as redis-server 7.0 sends them.
