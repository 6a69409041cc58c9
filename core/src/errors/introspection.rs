//! Error texts of the introspection family (COMMAND), exactly as redis-server 7.0 sends them.

/// COMMAND GETKEYS on a name (or container/subcommand pair) that is not in the table.
pub const INVALID_COMMAND: &str = "ERR Invalid command specified";
/// COMMAND GETKEYS whose inner command breaks that command's arity.
pub const INVALID_ARGUMENT_COUNT: &str = "ERR Invalid number of arguments specified for command";
/// COMMAND GETKEYS on a command that never takes keys.
pub const NO_KEY_ARGUMENTS: &str = "ERR The command has no key arguments";
/// COMMAND GETKEYS found no keys where the command requires some.
pub const INVALID_ARGUMENTS: &str = "ERR Invalid arguments specified for command";
