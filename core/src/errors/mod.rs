//! Every error a client can receive from a command. Change text only to match the reference
//! `redis-server` 7.0, side by side. Texts carry their code (`ERR`, `WRONGTYPE`) and never the
//! leading `-`, which only the encoder writes. Texts shared across families are here; those of
//! one family live in the submodule named after it.

pub mod bitops;
pub mod config;
pub mod connection;
pub mod generic;
pub mod geo;
pub mod hash;
pub mod hyperloglog;
pub mod introspection;
pub mod list;
pub mod pubsub;
pub mod replication;
pub mod server;
pub mod set;
pub mod sort;
pub mod sorted_set;
pub mod stream;
pub mod string;
pub mod transactions;

/// A key holds a value of another type.
pub const WRONG_TYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
/// An argument or a stored value is not a 64-bit signed integer.
pub const NOT_AN_INTEGER: &str = "ERR value is not an integer or out of range";
/// An argument or a stored value is not a valid float.
pub const NOT_A_FLOAT: &str = "ERR value is not a valid float";
/// INCR and friends would leave the i64 range.
pub const INCR_OVERFLOW: &str = "ERR increment or decrement would overflow";
/// DECRBY with i64::MIN.
pub const DECR_OVERFLOW: &str = "ERR decrement would overflow";
/// INCRBYFLOAT would produce NaN or infinity.
pub const NAN_OR_INFINITY: &str = "ERR increment would produce NaN or Infinity";
/// Unknown option, or options that cannot go together.
pub const SYNTAX: &str = "ERR syntax error";
/// A key that does not exist, where one is required.
pub const NO_SUCH_KEY: &str = "ERR no such key";
/// A database index out of range.
pub const DB_INDEX_OUT_OF_RANGE: &str = "ERR DB index is out of range";
/// SELECT's argument is not an integer.
pub const INVALID_DB_INDEX: &str = "ERR invalid DB index";
/// A command that may grow memory while `maxmemory` is exceeded and nothing can be evicted.
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
/// A string would grow past `proto-max-bulk-len`.
pub const STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
/// SETRANGE/GETRANGE offset below zero.
pub const OFFSET_OUT_OF_RANGE: &str = "ERR offset is out of range";
/// An expire time that is zero or negative where that is not allowed, or overflows.
pub const INVALID_EXPIRE: &str = "ERR invalid expire time in '{}' command";
/// Source and destination are the same object.
pub const SAME_OBJECT: &str = "ERR source and destination objects are the same";
/// A command needs AUTH first.
pub const NOAUTH: &str = "NOAUTH Authentication required.";
/// AUTH with a wrong password, or for a user that does not exist.
pub const WRONG_PASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
/// AUTH when no password is configured.
pub const AUTH_NOT_CONFIGURED: &str = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
/// A timeout that is negative.
pub const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
/// A timeout that is not a number.
pub const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
/// An integer that must be positive.
pub const NOT_POSITIVE: &str = "ERR value is out of range, must be positive";
/// DEBUG when `enable-debug-command` forbids it.
pub const DEBUG_DISABLED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

/// `ERR unknown subcommand or wrong number of arguments for '<sub>'. Try <CONTAINER> HELP.`:
/// a subcommand Redis routes itself (DEBUG's, CLIENT UNBLOCK's reason, FUNCTION FLUSH's
/// extra arguments) met arguments it does not take.
pub fn subcommand_syntax(container: &str, sub: &str) -> String {
    format!(
        "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {container} HELP."
    )
}

/// Why a command failed. `dispatch` turns it into an error reply in exactly one place, and the
/// connection stays up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// See [`WRONG_TYPE`].
    #[error("{}", WRONG_TYPE)]
    WrongType,
    /// See [`NOT_AN_INTEGER`].
    #[error("{}", NOT_AN_INTEGER)]
    NotAnInteger,
    /// See [`NOT_A_FLOAT`].
    #[error("{}", NOT_A_FLOAT)]
    NotAFloat,
    /// See [`INCR_OVERFLOW`].
    #[error("{}", INCR_OVERFLOW)]
    IncrementOverflow,
    /// See [`DECR_OVERFLOW`].
    #[error("{}", DECR_OVERFLOW)]
    DecrementOverflow,
    /// See [`NAN_OR_INFINITY`].
    #[error("{}", NAN_OR_INFINITY)]
    NanOrInfinity,
    /// See [`SYNTAX`].
    #[error("{}", SYNTAX)]
    Syntax,
    /// See [`NO_SUCH_KEY`].
    #[error("{}", NO_SUCH_KEY)]
    NoSuchKey,
    /// See [`STRING_TOO_LONG`].
    #[error("{}", STRING_TOO_LONG)]
    StringTooLong,
    /// See [`OFFSET_OUT_OF_RANGE`].
    #[error("{}", OFFSET_OUT_OF_RANGE)]
    OffsetOutOfRange,
    /// See [`NOAUTH`].
    #[error("{}", NOAUTH)]
    NoAuth,
    /// The expire time is out of range for this command.
    #[error("ERR invalid expire time in '{command}' command")]
    InvalidExpireTime {
        /// The command's name as Redis prints it (lowercase).
        command: String,
    },
    /// The argument count does not match the command's arity.
    #[error("ERR wrong number of arguments for '{command}' command")]
    WrongArity {
        /// The command's name (`config|get` for a subcommand).
        command: String,
    },
    /// No command has that name.
    #[error("ERR unknown command '{name}', with args beginning with: {args}")]
    UnknownCommand {
        /// The name as the client sent it (already sanitized for the reply).
        name: String,
        /// The first arguments, each as `'arg' `.
        args: String,
    },
    /// A container command has no such subcommand.
    #[error("ERR unknown subcommand '{sub}'. Try {container} HELP.")]
    UnknownSubcommand {
        /// The subcommand as sent.
        sub: String,
        /// The container in upper case (`CONFIG`).
        container: String,
    },
    /// Any other reply text, spelled in full by the command (with its code).
    #[error("{0}")]
    Message(std::borrow::Cow<'static, str>),
}

impl CommandError {
    /// An error with a fixed text from this module.
    pub const fn msg(text: &'static str) -> CommandError {
        CommandError::Message(std::borrow::Cow::Borrowed(text))
    }

    /// An error with a formatted text; it must start with its code (`ERR ...`).
    pub fn custom(text: String) -> CommandError {
        CommandError::Message(std::borrow::Cow::Owned(text))
    }
}
