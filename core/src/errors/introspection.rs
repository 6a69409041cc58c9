//! Error texts of the introspection family, exactly as redis-server 7.0 sends them.
