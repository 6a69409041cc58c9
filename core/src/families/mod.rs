//! The built-in command families, one file each, named after Redis's command groups. Adding a
//! family is one new file plus one line in [`BUILTIN`]; dispatch, `COMMAND` and ACL categories
//! all read the table, so nothing else changes.

pub mod config;
pub mod connection;
pub mod generic;
pub mod introspection;
pub mod server;
pub mod string;

use crate::command::Family;

/// Every built-in family, registered into each new [`crate::CommandTable`].
pub static BUILTIN: &[&Family] = &[
    &string::FAMILY,
    &generic::FAMILY,
    &connection::FAMILY,
    &server::FAMILY,
    &introspection::FAMILY,
    &config::FAMILY,
];
