//! The built-in command families, one file (or, once large, one directory) each, named after
//! Redis's command groups. Adding a family is one new file plus one line in [`BUILTIN`];
//! dispatch, `COMMAND` and ACL categories all read the table, so nothing else changes.

pub mod bitops;
pub mod config;
pub mod connection;
pub mod generic;
pub mod geo;
pub mod hash;
pub mod hyperloglog;
pub mod introspection;
pub mod list;
pub mod list_blocking;
pub mod pubsub;
pub mod replication;
pub mod server;
pub mod set;
pub mod sort;
pub mod sorted_set;
pub mod sorted_set_blocking;
pub mod stream;
pub mod string;
pub mod transactions;

use bytes::Bytes;
use oxidis_protocol::Frame;

use crate::command::Family;

/// Every built-in family, registered into each new [`crate::CommandTable`].
pub static BUILTIN: &[&Family] = &[
    &string::FAMILY,
    &generic::FAMILY,
    &connection::FAMILY,
    &server::FAMILY,
    &introspection::FAMILY,
    &config::FAMILY,
    &list::FAMILY,
    &list_blocking::FAMILY,
    &hash::FAMILY,
    &set::FAMILY,
    &sorted_set::FAMILY,
    &sorted_set_blocking::FAMILY,
    &sort::FAMILY,
    &transactions::FAMILY,
    &pubsub::FAMILY,
    &bitops::FAMILY,
    &hyperloglog::FAMILY,
    &geo::FAMILY,
    &stream::FAMILY,
];

/// An integer reply for a count, length, size or time the server holds itself. Such numbers
/// cannot reach `i64::MAX` in practice; saturating is only a guard against a bare `as` cast.
pub(crate) fn count_reply<T: TryInto<i64>>(n: T) -> Frame {
    Frame::Integer(n.try_into().unwrap_or(i64::MAX))
}

/// The reply of a `<CONTAINER> HELP` subcommand, laid out as Redis's `addReplyHelp` does: the
/// usage line, `lines`, then the HELP entry every container ends with.
pub(crate) fn help_reply(container: &str, lines: &[&str]) -> Frame {
    let mut reply = Vec::with_capacity(lines.len() + 3);
    reply.push(Frame::Simple(Bytes::from(format!(
        "{container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ))));
    reply.extend(
        lines
            .iter()
            .map(|l| Frame::Simple(Bytes::copy_from_slice(l.as_bytes()))),
    );
    reply.push(Frame::simple_static("HELP"));
    reply.push(Frame::simple_static("    Prints this help."));
    Frame::Array(reply)
}
