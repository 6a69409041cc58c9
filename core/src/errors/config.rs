//! Error texts of the config family, exactly as redis-server 7.0 sends them. CONFIG SET's
//! texts are built by [`crate::config::Config::config_set`] from the parameter table.

/// CONFIG REWRITE on a server started without a config file.
pub const NO_CONFIG_FILE: &str = "ERR The server is running without a config file";
/// CONFIG REWRITE could not write the file; followed by the `strerror` text.
pub const REWRITE_FAILED: &str = "ERR Rewriting config file: ";
