//! The command model: specs (what a command is), the table (where commands are found), the
//! argument cursor handlers read from, and key finding (key specs, then per-command finders).

mod args;
pub mod keys;
mod spec;
mod table;

pub use args::{Args, parse_f64, parse_i64};
pub use keys::{KeyFinder, KeyRef, find_keys, has_key_specs};
pub use spec::{
    AclCategory, Arg, ArgKind, Arity, BeginSearch, CommandResult, CommandSpec, Docs,
    DynamicHandler, Family, FindKeys, Flag, Group, Handler, HandlerFn, KeyFlag, KeySpec,
};
pub use table::{Command, CommandTable, RegistrationError};
