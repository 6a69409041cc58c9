//! Error texts of the sorted_set family, exactly as redis-server 7.0 sends them.
