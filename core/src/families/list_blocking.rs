//! The blocking list commands: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP. Each tries its
//! non-blocking twin's core (in `families::list`); when every key is empty it blocks the client
//! through [`CommandContext::block`], and the blocking machinery (`crate::blocking`) runs it
//! again when one of its keys is written. On timeout Redis 7.0 answers a null array for all five.

use bytes::Bytes;
use oxidis_protocol::Frame;

use crate::blocking::parse_timeout;
use crate::command::{
    Arg, Arity, BeginSearch, CommandResult, CommandSpec, Family, FindKeys, Flag::*, Group,
    KeyFlag::*, KeySpec,
};
use crate::context::CommandContext;
use crate::families::list::{ListEnd, move_element, mpop, parse_end, parse_mpop};
use crate::types::ValueType;

/// The blocking list commands (their group is `list`, like their twins').
pub static FAMILY: Family = Family {
    group: Group::List,
    commands: &[
        CommandSpec::new("blpop", Arity::AtLeast(3), blpop)
            .flags(&[Write, NoScript, Blocking])
            .keys(POP_KEYS)
            .doc(
                "Removes and returns the first element of the first non-empty list, or blocks until one is available.",
                "2.0.0",
                "O(N) where N is the number of provided keys.",
            )
            .args(POP_ARGS),
        CommandSpec::new("brpop", Arity::AtLeast(3), brpop)
            .flags(&[Write, NoScript, Blocking])
            .keys(POP_KEYS)
            .doc(
                "Removes and returns the last element of the first non-empty list, or blocks until one is available.",
                "2.0.0",
                "O(N) where N is the number of provided keys.",
            )
            .args(POP_ARGS),
        CommandSpec::new("blmove", Arity::Exact(6), blmove)
            .flags(&[Write, DenyOom, NoScript, Blocking])
            .keys(MOVE_KEYS)
            .doc(
                "Pops an element from one list and pushes it onto another, or blocks until one is available.",
                "6.2.0",
                "O(1)",
            )
            .args(BLMOVE_ARGS),
        CommandSpec::new("brpoplpush", Arity::Exact(4), brpoplpush)
            .flags(&[Write, DenyOom, NoScript, Blocking])
            .keys(MOVE_KEYS)
            .doc(
                "Pops the last element of a list and prepends it to another, or blocks until one is available.",
                "2.2.0",
                "O(1)",
            )
            .deprecated("6.2.0", "`BLMOVE` with the `RIGHT` and `LEFT` arguments")
            .args(BRPOPLPUSH_ARGS),
        CommandSpec::new("blmpop", Arity::AtLeast(5), blmpop)
            .flags(&[Write, Blocking])
            .keys(&[KeySpec::new(
                BeginSearch::Index(2),
                FindKeys::KeyNum {
                    key_num_index: 0,
                    first_key: 1,
                    step: 1,
                },
                &[Rw, Access, Delete],
            )])
            .doc(
                "Pops elements from the first non-empty list among several keys, or blocks until one is available.",
                "7.0.0",
                "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
            )
            .args(BLMPOP_ARGS),
    ],
};

const POP_KEYS: &[KeySpec] = &[KeySpec::range(1, -2, 1, &[Rw, Access, Delete])];
const MOVE_KEYS: &[KeySpec] = &[
    KeySpec::single(1, &[Rw, Access, Delete]),
    KeySpec::single(2, &[Rw, Insert]),
];
const POP_ARGS: &[Arg] = &[Arg::key("key", 0).multiple(), Arg::double("timeout")];
const WHERE_FROM: &[Arg] = &[Arg::token("left", "LEFT"), Arg::token("right", "RIGHT")];
const BLMOVE_ARGS: &[Arg] = &[
    Arg::key("source", 0),
    Arg::key("destination", 1),
    Arg::one_of("wherefrom", WHERE_FROM),
    Arg::one_of("whereto", WHERE_FROM),
    Arg::double("timeout"),
];
const BRPOPLPUSH_ARGS: &[Arg] = &[
    Arg::key("source", 0),
    Arg::key("destination", 1),
    Arg::double("timeout"),
];
const BLMPOP_ARGS: &[Arg] = &[
    Arg::double("timeout"),
    Arg::integer("numkeys"),
    Arg::key("key", 0).multiple(),
    Arg::one_of("where", WHERE_FROM),
    Arg::integer("count").with_token("COUNT").optional(),
];

fn blpop(ctx: &mut CommandContext<'_>, args: &mut crate::command::Args<'_>) -> CommandResult {
    pop_or_block(ctx, args, ListEnd::Left)
}

fn brpop(ctx: &mut CommandContext<'_>, args: &mut crate::command::Args<'_>) -> CommandResult {
    pop_or_block(ctx, args, ListEnd::Right)
}

/// BLPOP and BRPOP: `key [key ...] timeout`, answering `[key, element]`.
fn pop_or_block(
    ctx: &mut CommandContext<'_>,
    args: &mut crate::command::Args<'_>,
    end: ListEnd,
) -> CommandResult {
    let argv = args.rest();
    let (timeout, keys) = argv
        .split_last()
        .ok_or(crate::errors::CommandError::Syntax)?;
    // Redis reads the timeout before looking at any key.
    let timeout = parse_timeout(timeout)?;
    if let Some(reply) = mpop(ctx, keys, end, 1)? {
        // `[key, [element]]` from the LMPOP core becomes BLPOP's `[key, element]`.
        return Ok(match reply {
            Frame::Array(mut parts) if parts.len() == 2 => {
                let elements = parts.pop();
                let key = parts.pop().unwrap_or(Frame::Null);
                // Propagated as the non-blocking pop it amounted to.
                if let Frame::Bulk(name) = &key {
                    let pop: &'static [u8] = match end {
                        ListEnd::Left => b"LPOP",
                        ListEnd::Right => b"RPOP",
                    };
                    ctx.rewrite_propagation(vec![Bytes::from_static(pop), name.clone()]);
                }
                let element = match elements {
                    Some(Frame::Array(mut elements)) => elements.pop().unwrap_or(Frame::Null),
                    other => other.unwrap_or(Frame::Null),
                };
                Frame::Array(vec![key, element])
            }
            other => other,
        });
    }
    ctx.block(keys.to_vec(), ValueType::List, timeout, Frame::NullArray)
}

fn blmove(ctx: &mut CommandContext<'_>, args: &mut crate::command::Args<'_>) -> CommandResult {
    let source = args.next_bytes()?;
    let destination = args.next_bytes()?;
    let from = parse_end(args.next_bytes()?)?;
    let to = parse_end(args.next_bytes()?)?;
    let timeout = parse_timeout(args.next_bytes()?)?;
    // Served, it propagates as LMOVE (a blocked run changes nothing and propagates nothing).
    let mut lmove = args.argv()[..5].to_vec();
    lmove[0] = Bytes::from_static(b"LMOVE");
    ctx.rewrite_propagation(lmove);
    move_or_block(ctx, source, destination, from, to, timeout)
}

fn brpoplpush(ctx: &mut CommandContext<'_>, args: &mut crate::command::Args<'_>) -> CommandResult {
    let source = args.next_bytes()?;
    let destination = args.next_bytes()?;
    let timeout = parse_timeout(args.next_bytes()?)?;
    ctx.rewrite_propagation(vec![
        Bytes::from_static(b"RPOPLPUSH"),
        source.clone(),
        destination.clone(),
    ]);
    move_or_block(
        ctx,
        source,
        destination,
        ListEnd::Right,
        ListEnd::Left,
        timeout,
    )
}

/// BLMOVE and BRPOPLPUSH: the moved element, or block on the source.
fn move_or_block(
    ctx: &mut CommandContext<'_>,
    source: &Bytes,
    destination: &Bytes,
    from: ListEnd,
    to: ListEnd,
    timeout: Option<std::time::Duration>,
) -> CommandResult {
    match move_element(ctx, source, destination, from, to)? {
        Some(element) => Ok(Frame::Bulk(element)),
        None => ctx.block(
            vec![source.clone()],
            ValueType::List,
            timeout,
            Frame::NullArray,
        ),
    }
}

/// BLMPOP: `timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]`.
fn blmpop(ctx: &mut CommandContext<'_>, args: &mut crate::command::Args<'_>) -> CommandResult {
    let timeout = parse_timeout(args.next_bytes()?)?;
    let request = parse_mpop(args)?;
    match mpop(ctx, &request.keys, request.end, request.count)? {
        Some(reply) => Ok(reply),
        None => ctx.block(request.keys, ValueType::List, timeout, Frame::NullArray),
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{CommandRunner, bulk, err};
    use oxidis_protocol::Frame;

    #[test]
    fn answers_at_once_when_an_element_is_there() {
        let mut r = CommandRunner::with_builtin_commands();
        r.run(["RPUSH", "b", "x", "y"]);
        assert_eq!(
            r.run(["BLPOP", "a", "b", "0"]),
            Frame::Array(vec![bulk("b"), bulk("x")])
        );
        assert_eq!(
            r.run(["BRPOP", "b", "0"]),
            Frame::Array(vec![bulk("b"), bulk("y")])
        );
        assert_eq!(r.run(["EXISTS", "b"]), Frame::Integer(0));
        r.run(["RPUSH", "src", "1", "2"]);
        assert_eq!(
            r.run(["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"]),
            bulk("1")
        );
        assert_eq!(r.run(["BRPOPLPUSH", "src", "dst", "0"]), bulk("2"));
        assert_eq!(
            r.run(["LRANGE", "dst", "0", "-1"]),
            Frame::Array(vec![bulk("2"), bulk("1")])
        );
        assert_eq!(
            r.run(["BLMPOP", "0", "2", "none", "dst", "LEFT", "COUNT", "5"]),
            Frame::Array(vec![bulk("dst"), Frame::Array(vec![bulk("2"), bulk("1")])])
        );
    }

    #[test]
    fn without_a_way_to_wait_the_timeout_reply_comes_at_once() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(r.run(["BLPOP", "empty", "0"]), Frame::NullArray);
        assert_eq!(
            r.run(["BLMOVE", "empty", "d", "LEFT", "LEFT", "0.1"]),
            Frame::NullArray
        );
    }

    #[test]
    fn timeouts_and_types_are_checked_like_redis() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(r.run(["BLPOP", "k", "-1"]), err("ERR timeout is negative"));
        assert_eq!(
            r.run(["BLPOP", "k", "abc"]),
            err("ERR timeout is not a float or out of range")
        );
        r.run(["SET", "s", "v"]);
        assert_eq!(
            r.run(["BLPOP", "s", "0"]),
            err("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
    }
}
