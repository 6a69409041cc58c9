//! The blocking sorted-set commands: BZPOPMIN, BZPOPMAX and BZMPOP. Each tries its
//! non-blocking twin's core (in `families::sorted_set::pop`) and otherwise blocks the client on
//! its keys; the blocking machinery runs it again when one of them is written. On timeout Redis
//! 7.0 answers a null array.

use oxidis_protocol::Frame;

use crate::blocking::parse_timeout;
use crate::command::{
    Arg, Args, Arity, BeginSearch, CommandResult, CommandSpec, Family, FindKeys, Flag::*, Group,
    KeyFlag::*, KeySpec,
};
use crate::context::CommandContext;
use crate::errors::CommandError;
use crate::families::sorted_set::pop::{PopEnd, mpop, parse_zmpop, pop_from};
use crate::types::ValueType;

/// The blocking sorted-set commands (group `sorted-set`, like their twins).
pub static FAMILY: Family = Family {
    group: Group::SortedSet,
    commands: &[
        CommandSpec::new("bzpopmin", Arity::AtLeast(3), bzpopmin)
            .flags(&[Write, NoScript, Fast, Blocking])
            .keys(POP_KEYS)
            .doc(
                "Removes and returns the member with the lowest score from the first non-empty sorted set, or blocks until one is available.",
                "5.0.0",
                "O(log(N)) with N being the number of elements in the sorted set.",
            )
            .args(POP_ARGS),
        CommandSpec::new("bzpopmax", Arity::AtLeast(3), bzpopmax)
            .flags(&[Write, NoScript, Fast, Blocking])
            .keys(POP_KEYS)
            .doc(
                "Removes and returns the member with the highest score from the first non-empty sorted set, or blocks until one is available.",
                "5.0.0",
                "O(log(N)) with N being the number of elements in the sorted set.",
            )
            .args(POP_ARGS),
        CommandSpec::new("bzmpop", Arity::AtLeast(5), bzmpop)
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
                "Removes and returns members by score from the first non-empty sorted set, or blocks until one is available.",
                "7.0.0",
                "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
            )
            .args(BZMPOP_ARGS),
    ],
};

const POP_KEYS: &[KeySpec] = &[KeySpec::range(1, -2, 1, &[Rw, Access, Delete])];
const POP_ARGS: &[Arg] = &[Arg::key("key", 0).multiple(), Arg::double("timeout")];
const WHERE: &[Arg] = &[Arg::token("min", "MIN"), Arg::token("max", "MAX")];
const BZMPOP_ARGS: &[Arg] = &[
    Arg::double("timeout"),
    Arg::integer("numkeys"),
    Arg::key("key", 0).multiple(),
    Arg::one_of("where", WHERE),
    Arg::integer("count").with_token("COUNT").optional(),
];

fn bzpopmin(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    pop_or_block(ctx, args, PopEnd::Min)
}

fn bzpopmax(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    pop_or_block(ctx, args, PopEnd::Max)
}

/// BZPOPMIN and BZPOPMAX: `key [key ...] timeout`, answering `[key, member, score]`.
fn pop_or_block(ctx: &mut CommandContext<'_>, args: &mut Args<'_>, end: PopEnd) -> CommandResult {
    let argv = args.rest();
    let (timeout, keys) = argv.split_last().ok_or(CommandError::Syntax)?;
    // Redis reads the timeout before looking at any key.
    let timeout = parse_timeout(timeout)?;
    for key in keys {
        if let Some(mut items) = pop_from(ctx, key, end, 1)?
            && let Some((member, score)) = items.pop()
        {
            // Propagated as the non-blocking pop it amounted to.
            let pop: &'static [u8] = match end {
                PopEnd::Min => b"ZPOPMIN",
                PopEnd::Max => b"ZPOPMAX",
            };
            ctx.rewrite_propagation(vec![bytes::Bytes::from_static(pop), key.clone()]);
            return Ok(Frame::Array(vec![
                Frame::Bulk(key.clone()),
                Frame::Bulk(member.into()),
                Frame::Double(score),
            ]));
        }
    }
    ctx.block(
        keys.to_vec(),
        ValueType::SortedSet,
        timeout,
        Frame::NullArray,
    )
}

/// BZMPOP: `timeout numkeys key [key ...] MIN|MAX [COUNT count]`.
fn bzmpop(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let timeout = parse_timeout(args.next_bytes()?)?;
    let request = parse_zmpop(args)?;
    match mpop(ctx, &request)? {
        Some(reply) => Ok(reply),
        None => ctx.block(
            request.keys,
            ValueType::SortedSet,
            timeout,
            Frame::NullArray,
        ),
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{CommandRunner, bulk, err};
    use oxidis_protocol::Frame;

    #[test]
    fn pops_at_once_when_a_member_is_there() {
        let mut r = CommandRunner::with_builtin_commands();
        r.run(["ZADD", "z", "1", "a", "2", "b"]);
        assert_eq!(
            r.run(["BZPOPMIN", "none", "z", "0"]),
            Frame::Array(vec![bulk("z"), bulk("a"), Frame::Double(1.0)])
        );
        assert_eq!(
            r.run(["BZPOPMAX", "z", "0"]),
            Frame::Array(vec![bulk("z"), bulk("b"), Frame::Double(2.0)])
        );
        assert_eq!(r.run(["EXISTS", "z"]), Frame::Integer(0));
        r.run(["ZADD", "y", "5", "m"]);
        assert_eq!(
            r.run(["BZMPOP", "0", "1", "y", "MAX"]),
            Frame::Array(vec![
                bulk("y"),
                Frame::Array(vec![Frame::Array(vec![bulk("m"), Frame::Double(5.0)])])
            ])
        );
    }

    #[test]
    fn without_a_way_to_wait_the_timeout_reply_comes_at_once() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(r.run(["BZPOPMIN", "empty", "0"]), Frame::NullArray);
        assert_eq!(
            r.run(["BZMPOP", "0", "1", "empty", "MIN"]),
            Frame::NullArray
        );
        assert_eq!(
            r.run(["BZPOPMIN", "k", "-1"]),
            err("ERR timeout is negative")
        );
    }
}
