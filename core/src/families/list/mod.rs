//! List commands: the pushes (LPUSH RPUSH LPUSHX RPUSHX LINSERT), reads (LLEN LINDEX LRANGE
//! LPOS), in-place edits (LSET LTRIM LREM) and the pops and moves (LPOP RPOP LMPOP LMOVE
//! RPOPLPUSH). The value is `types::List`, a quicklist that `OBJECT ENCODING` always calls
//! `quicklist`, as Redis 7.0 does.
//!
//! The pop and move cores ([`pop_elements`], [`move_element`], [`mpop`]) are `pub(crate)` so
//! the blocking variants (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP) reuse them once a key is ready;
//! [`parse_end`] and [`parse_mpop`] read their LEFT|RIGHT and `numkeys ... [COUNT n]` tails.
//!
//! Blocked clients are woken by dispatch, which signals every key a write command declares;
//! the places that create or grow a key are marked `// blocking: key ready` all the same.
//! Not done here (no shared API yet): keyspace notifications and rewriting LMPOP as
//! LPOP/RPOP ... COUNT for propagation.

use crate::events::class;
use bytes::Bytes;
use oxidis_protocol::Frame;

use crate::command::{
    Arg, Args, Arity, BeginSearch, CommandResult, CommandSpec, Family, FindKeys, Flag::*, Group,
    KeyFlag::*, KeySpec, parse_i64,
};
use crate::context::CommandContext;
use crate::errors::list::{
    COUNT_NEGATIVE, COUNT_NOT_POSITIVE, INDEX_OUT_OF_RANGE, MAXLEN_NEGATIVE, NUMKEYS_NOT_POSITIVE,
    RANK_ZERO,
};
use crate::errors::{CommandError, NOT_POSITIVE};
use crate::families::count_reply;
use crate::types::{CompactBytes, List, NodeLimits, Value};

#[cfg(test)]
mod tests;

const KEY: &[Arg] = &[Arg::key("key", 0)];
const KEY_ELEMENTS: &[Arg] = &[Arg::key("key", 0), Arg::string("element").multiple()];
const KEY_RANGE: &[Arg] = &[
    Arg::key("key", 0),
    Arg::integer("start"),
    Arg::integer("stop"),
];
const KEY_COUNT: &[Arg] = &[
    Arg::key("key", 0),
    Arg::integer("count").optional().since("6.2.0"),
];
const LEFT_RIGHT: &[Arg] = &[Arg::token("left", "LEFT"), Arg::token("right", "RIGHT")];
const LINSERT_ARGS: &[Arg] = &[
    Arg::key("key", 0),
    Arg::one_of(
        "where",
        &[Arg::token("before", "BEFORE"), Arg::token("after", "AFTER")],
    ),
    Arg::string("pivot"),
    Arg::string("element"),
];
const LPOS_ARGS: &[Arg] = &[
    Arg::key("key", 0),
    Arg::string("element"),
    Arg::integer("rank").with_token("RANK").optional(),
    Arg::integer("num-matches").with_token("COUNT").optional(),
    Arg::integer("len").with_token("MAXLEN").optional(),
];
const LMOVE_ARGS: &[Arg] = &[
    Arg::key("source", 0),
    Arg::key("destination", 1),
    Arg::one_of("wherefrom", LEFT_RIGHT),
    Arg::one_of("whereto", LEFT_RIGHT),
];
const LMPOP_ARGS: &[Arg] = &[
    Arg::integer("numkeys"),
    Arg::key("key", 0).multiple(),
    Arg::one_of("where", LEFT_RIGHT),
    Arg::integer("count").with_token("COUNT").optional(),
];

/// Adds to one key (the pushes, LINSERT).
const RW_INSERT: &[KeySpec] = &[KeySpec::single(1, &[Rw, Insert])];
/// Removes and returns elements of one key (the pops).
const RW_ACCESS_DELETE: &[KeySpec] = &[KeySpec::single(1, &[Rw, Access, Delete])];
/// Removes elements without returning them (LREM, LTRIM).
const RW_DELETE: &[KeySpec] = &[KeySpec::single(1, &[Rw, Delete])];
/// Source and destination of LMOVE and RPOPLPUSH.
const MOVE_KEYS: &[KeySpec] = &[
    KeySpec::single(1, &[Rw, Access, Delete]),
    KeySpec::single(2, &[Rw, Insert]),
];
const PUSH_COMPLEXITY: &str = "O(1) for each element added, so O(N) to add N elements when the \
command is called with multiple arguments.";

/// The list family; `families::BUILTIN` lists it, and nothing else does.
pub static FAMILY: Family = Family {
    group: Group::List,
    commands: &[
        CommandSpec::new("lpush", Arity::AtLeast(3), lpush)
            .flags(&[Write, DenyOom, Fast])
            .keys(RW_INSERT)
            .doc("Prepends elements to a list, creating it if needed.", "1.0.0", PUSH_COMPLEXITY)
            .args(KEY_ELEMENTS),
        CommandSpec::new("rpush", Arity::AtLeast(3), rpush)
            .flags(&[Write, DenyOom, Fast])
            .keys(RW_INSERT)
            .doc("Appends elements to a list, creating it if needed.", "1.0.0", PUSH_COMPLEXITY)
            .args(KEY_ELEMENTS),
        CommandSpec::new("lpushx", Arity::AtLeast(3), lpushx)
            .flags(&[Write, DenyOom, Fast])
            .keys(RW_INSERT)
            .doc("Prepends elements to a list only if it exists.", "2.2.0", PUSH_COMPLEXITY)
            .args(KEY_ELEMENTS),
        CommandSpec::new("rpushx", Arity::AtLeast(3), rpushx)
            .flags(&[Write, DenyOom, Fast])
            .keys(RW_INSERT)
            .doc("Appends elements to a list only if it exists.", "2.2.0", PUSH_COMPLEXITY)
            .args(KEY_ELEMENTS),
        CommandSpec::new("linsert", Arity::Exact(5), linsert)
            .flags(&[Write, DenyOom])
            .keys(RW_INSERT)
            .doc(
                "Inserts an element before or after the first occurrence of a pivot.",
                "2.2.0",
                "O(N) where N is the number of elements to traverse before seeing the value \
pivot. This means that inserting somewhere on the left end on the list (head) can be considered \
O(1) and inserting somewhere on the right end (tail) is O(N).",
            )
            .args(LINSERT_ARGS),
        CommandSpec::new("llen", Arity::Exact(2), llen)
            .flags(&[ReadOnly, Fast])
            .keys(&[KeySpec::single(1, &[Ro])])
            .doc("Returns the number of elements in a list.", "1.0.0", "O(1)")
            .args(KEY),
        CommandSpec::new("lindex", Arity::Exact(3), lindex)
            .flags(&[ReadOnly])
            .keys(&[KeySpec::single(1, &[Ro, Access])])
            .doc(
                "Returns the element at an index of a list.",
                "1.0.0",
                "O(N) where N is the number of elements to traverse to get to the element at \
index. This makes asking for the first or the last element of the list O(1).",
            )
            .args(&[Arg::key("key", 0), Arg::integer("index")]),
        CommandSpec::new("lset", Arity::Exact(4), lset)
            .flags(&[Write, DenyOom])
            .keys(&[KeySpec::single(1, &[Rw, Update])])
            .doc(
                "Replaces the element at an index of a list.",
                "1.0.0",
                "O(N) where N is the length of the list. Setting either the first or the last \
element of the list is O(1).",
            )
            .args(&[
                Arg::key("key", 0),
                Arg::integer("index"),
                Arg::string("element"),
            ]),
        CommandSpec::new("lrange", Arity::Exact(4), lrange)
            .flags(&[ReadOnly])
            .keys(&[KeySpec::single(1, &[Ro, Access])])
            .doc(
                "Returns a range of elements of a list.",
                "1.0.0",
                "O(S+N) where S is the distance of start offset from HEAD for small lists, from \
nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
            )
            .args(KEY_RANGE),
        CommandSpec::new("ltrim", Arity::Exact(4), ltrim)
            .flags(&[Write])
            .keys(RW_DELETE)
            .doc(
                "Keeps only a range of elements of a list, deleting the rest.",
                "1.0.0",
                "O(N) where N is the number of elements to be removed by the operation.",
            )
            .args(KEY_RANGE),
        CommandSpec::new("lpos", Arity::AtLeast(3), lpos)
            .flags(&[ReadOnly])
            .keys(&[KeySpec::single(1, &[Ro, Access])])
            .doc(
                "Returns the index of matching elements in a list.",
                "6.0.6",
                "O(N) where N is the number of elements in the list, for the average case. When \
searching for elements near the head or the tail of the list, or when the MAXLEN option is \
provided, the command may run in constant time.",
            )
            .args(LPOS_ARGS),
        CommandSpec::new("lrem", Arity::Exact(4), lrem)
            .flags(&[Write])
            .keys(RW_DELETE)
            .doc(
                "Removes elements equal to a value from a list.",
                "1.0.0",
                "O(N+M) where N is the length of the list and M is the number of elements removed.",
            )
            .args(&[
                Arg::key("key", 0),
                Arg::integer("count"),
                Arg::string("element"),
            ]),
        CommandSpec::new("lpop", Arity::AtLeast(2), lpop)
            .flags(&[Write, Fast])
            .keys(RW_ACCESS_DELETE)
            .doc(
                "Removes and returns the first elements of a list.",
                "1.0.0",
                "O(N) where N is the number of elements returned",
            )
            .args(KEY_COUNT),
        CommandSpec::new("rpop", Arity::AtLeast(2), rpop)
            .flags(&[Write, Fast])
            .keys(RW_ACCESS_DELETE)
            .doc(
                "Removes and returns the last elements of a list.",
                "1.0.0",
                "O(N) where N is the number of elements returned",
            )
            .args(KEY_COUNT),
        CommandSpec::new("lmpop", Arity::AtLeast(4), lmpop)
            .flags(&[Write])
            .keys(&[KeySpec::new(
                BeginSearch::Index(1),
                FindKeys::KeyNum {
                    key_num_index: 0,
                    first_key: 1,
                    step: 1,
                },
                &[Rw, Access, Delete],
            )])
            .doc(
                "Pops elements from the first non-empty list among several keys.",
                "7.0.0",
                "O(N+M) where N is the number of provided keys and M is the number of elements \
returned.",
            )
            .args(LMPOP_ARGS),
        CommandSpec::new("lmove", Arity::Exact(5), lmove)
            .flags(&[Write, DenyOom])
            .keys(MOVE_KEYS)
            .doc(
                "Pops an element from one end of a list and pushes it onto an end of another.",
                "6.2.0",
                "O(1)",
            )
            .args(LMOVE_ARGS),
        CommandSpec::new("rpoplpush", Arity::Exact(3), rpoplpush)
            .flags(&[Write, DenyOom])
            .keys(MOVE_KEYS)
            .doc(
                "Pops the last element of a list and prepends it to another.",
                "1.2.0",
                "O(1)",
            )
            .deprecated("6.2.0", "`LMOVE` with the `RIGHT` and `LEFT` arguments")
            .args(&[Arg::key("source", 0), Arg::key("destination", 1)]),
    ],
};

/// One end of a list: LEFT is the head (index 0), RIGHT the tail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListEnd {
    /// The head.
    Left,
    /// The tail.
    Right,
}

/// Whether the X variants of push create a missing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Missing {
    Create,
    Skip,
}

fn lpush(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    push_elements(ctx, args, ListEnd::Left, Missing::Create)
}

fn rpush(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    push_elements(ctx, args, ListEnd::Right, Missing::Create)
}

fn lpushx(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    push_elements(ctx, args, ListEnd::Left, Missing::Skip)
}

fn rpushx(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    push_elements(ctx, args, ListEnd::Right, Missing::Skip)
}

/// The one core of the four pushes; replies the new length.
fn push_elements(
    ctx: &mut CommandContext<'_>,
    args: &mut Args<'_>,
    end: ListEnd,
    missing: Missing,
) -> CommandResult {
    let key = args.next_bytes()?;
    let elements = args.rest();
    let fill = ctx.list_limits();
    let len = match list_for_write(ctx, key)? {
        Some(list) => {
            for element in elements {
                push_one(list, end, element, fill);
            }
            list.len()
        }
        None if missing == Missing::Skip => return Ok(Frame::Integer(0)),
        None => {
            let mut list = List::new();
            for element in elements {
                push_one(&mut list, end, element, fill);
            }
            let len = list.len();
            store_new_list(ctx, key, list);
            len
        }
    };
    // blocking: key ready
    ctx.changed(u64::try_from(elements.len()).unwrap_or(u64::MAX));
    ctx.notify(class::LIST, push_event(end), key);
    Ok(count_reply(len))
}

fn linsert(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    // Redis checks BEFORE|AFTER before it looks at the key.
    let after = match args.next_bytes()?.to_ascii_lowercase().as_slice() {
        b"before" => false,
        b"after" => true,
        _ => return Err(CommandError::Syntax),
    };
    let pivot = args.next_bytes()?;
    let element = args.next_bytes()?;
    let fill = ctx.list_limits();
    let Some(list) = list_for_write(ctx, key)? else {
        return Ok(Frame::Integer(0));
    };
    let Some(found) = list.iter().position(|e| e == pivot.as_ref()) else {
        return Ok(Frame::Integer(-1));
    };
    list.insert(found + usize::from(after), element, fill);
    let len = list.len();
    ctx.changed(1);
    ctx.notify(class::LIST, "linsert", key);
    Ok(count_reply(len))
}

fn llen(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    Ok(count_reply(list_for_read(ctx, key)?.map_or(0, List::len)))
}

fn lindex(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let index = args.next_bytes()?;
    // The key is looked up before the index is parsed: a missing key answers nil either way.
    let Some(list) = list_for_read(ctx, key)? else {
        return Ok(Frame::Null);
    };
    let index = parse_i64(index)?;
    Ok(resolve_index(list.len(), index)
        .and_then(|i| list.get(i))
        .map_or(Frame::Null, Frame::bulk))
}

fn lset(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let index = args.next_bytes()?;
    let element = args.next_bytes()?;
    let fill = ctx.list_limits();
    let list = list_for_write(ctx, key)?.ok_or(CommandError::NoSuchKey)?;
    let index = parse_i64(index)?;
    let replaced = resolve_index(list.len(), index).is_some_and(|i| list.set(i, element, fill));
    if !replaced {
        return Err(CommandError::msg(INDEX_OUT_OF_RANGE));
    }
    ctx.changed(1);
    ctx.notify(class::LIST, "lset", key);
    Ok(Frame::ok())
}

fn lrange(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let start = args.next_i64()?;
    let stop = args.next_i64()?;
    let Some(list) = list_for_read(ctx, key)? else {
        return Ok(Frame::Array(Vec::new()));
    };
    let Some((first, count)) = clamp_range(list.len(), start, stop) else {
        return Ok(Frame::Array(Vec::new()));
    };
    Ok(bulk_array(list.iter_from(first).take(count)))
}

fn ltrim(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let start = args.next_i64()?;
    let stop = args.next_i64()?;
    let Some(list) = list_for_write(ctx, key)? else {
        return Ok(Frame::ok());
    };
    let len = list.len();
    let removed = match clamp_range(len, start, stop) {
        Some((first, count)) => {
            list.remove_range(first + count, len);
            list.remove_range(0, first);
            len - count
        }
        None => {
            list.remove_range(0, len);
            len
        }
    };
    let emptied = list.is_empty();
    ctx.notify(class::LIST, "ltrim", key);
    if emptied {
        remove_emptied(ctx, key);
    }
    ctx.changed(u64::try_from(removed).unwrap_or(u64::MAX));
    Ok(Frame::ok())
}

fn lpos(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let element = args.next_bytes()?;
    let options = parse_lpos_options(args)?;
    let Some(list) = list_for_read(ctx, key)? else {
        return Ok(match options.count {
            Some(_) => Frame::Array(Vec::new()),
            None => Frame::Null,
        });
    };
    let len = list.len();
    let scanned: Box<dyn Iterator<Item = &[u8]>> = if options.from_tail {
        Box::new(list.iter_rev())
    } else {
        Box::new(list.iter())
    };
    let limit = if options.maxlen == 0 {
        usize::MAX
    } else {
        options.maxlen
    };
    let wanted = match options.count {
        Some(0) | None => usize::MAX,
        Some(n) => n,
    };
    let mut matches = 0usize;
    let mut found = Vec::new();
    for (walked, entry) in scanned.take(limit).enumerate() {
        if entry != element.as_ref() {
            continue;
        }
        matches += 1;
        if matches < options.rank {
            continue;
        }
        let index = if options.from_tail {
            len - walked - 1
        } else {
            walked
        };
        found.push(count_reply(index));
        if options.count.is_none() || found.len() >= wanted {
            break;
        }
    }
    Ok(match options.count {
        Some(_) => Frame::Array(found),
        None => found.pop().unwrap_or(Frame::Null),
    })
}

fn lrem(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let count = args.next_i64()?;
    let element = args.next_bytes()?;
    let Some(list) = list_for_write(ctx, key)? else {
        return Ok(Frame::Integer(0));
    };
    let limit = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let removed = if count < 0 {
        list.remove_last_matches(element, limit)
    } else {
        list.remove_first_matches(element, limit)
    };
    let emptied = list.is_empty();
    if removed > 0 {
        ctx.notify(class::LIST, "lrem", key);
    }
    if emptied {
        remove_emptied(ctx, key);
    }
    ctx.changed(u64::try_from(removed).unwrap_or(u64::MAX));
    Ok(count_reply(removed))
}

fn lpop(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    pop_command(ctx, args, ListEnd::Left)
}

fn rpop(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    pop_command(ctx, args, ListEnd::Right)
}

/// LPOP and RPOP: one bulk without a count, an array with one (even COUNT 1).
fn pop_command(ctx: &mut CommandContext<'_>, args: &mut Args<'_>, end: ListEnd) -> CommandResult {
    let key = args.next_bytes()?;
    let count = match args.remaining() {
        0 => None,
        1 => Some(parse_non_negative(args.next_bytes()?, NOT_POSITIVE)?),
        _ => {
            return Err(CommandError::WrongArity {
                command: ctx.command().full_name.clone(),
            });
        }
    };
    match count {
        None => Ok(pop_elements(ctx, key, end, 1)?
            .and_then(|mut popped| popped.pop())
            .map_or(Frame::Null, Frame::Bulk)),
        // COUNT 0 still checks the key's type, then answers an empty array.
        Some(0) => match list_for_write(ctx, key)? {
            Some(_) => Ok(Frame::Array(Vec::new())),
            None => Ok(Frame::NullArray),
        },
        Some(count) => Ok(
            pop_elements(ctx, key, end, count)?.map_or(Frame::NullArray, |popped| {
                Frame::Array(popped.into_iter().map(Frame::Bulk).collect())
            }),
        ),
    }
}

fn lmpop(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let request = parse_mpop(args)?;
    Ok(mpop(ctx, &request.keys, request.end, request.count)?.unwrap_or(Frame::NullArray))
}

fn lmove(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let source = args.next_bytes()?;
    let destination = args.next_bytes()?;
    let from = parse_end(args.next_bytes()?)?;
    let to = parse_end(args.next_bytes()?)?;
    Ok(move_element(ctx, source, destination, from, to)?.map_or(Frame::Null, Frame::Bulk))
}

fn rpoplpush(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let source = args.next_bytes()?;
    let destination = args.next_bytes()?;
    Ok(
        move_element(ctx, source, destination, ListEnd::Right, ListEnd::Left)?
            .map_or(Frame::Null, Frame::Bulk),
    )
}

/// Pops up to `count` (at least 1) elements from `end` of the list at `key`, in pop order,
/// deleting the key when it empties. `None` when the key does not exist.
///
/// # Errors
/// WRONGTYPE when the key holds another type.
pub(crate) fn pop_elements(
    ctx: &mut CommandContext<'_>,
    key: &[u8],
    end: ListEnd,
    count: usize,
) -> Result<Option<Vec<Bytes>>, CommandError> {
    let Some(list) = list_for_write(ctx, key)? else {
        return Ok(None);
    };
    let popped: Vec<Bytes> = match (end, count) {
        (ListEnd::Left, 1) => list.pop_front().into_iter().map(Bytes::from).collect(),
        (ListEnd::Right, 1) => list.pop_back().into_iter().map(Bytes::from).collect(),
        (ListEnd::Left, _) => list
            .pop_front_many(count)
            .into_iter()
            .map(Bytes::from)
            .collect(),
        (ListEnd::Right, _) => list
            .pop_back_many(count)
            .into_iter()
            .map(Bytes::from)
            .collect(),
    };
    let emptied = list.is_empty();
    ctx.notify(class::LIST, pop_event(end), key);
    if emptied {
        remove_emptied(ctx, key);
    }
    ctx.changed(u64::try_from(popped.len()).unwrap_or(u64::MAX));
    Ok(Some(popped))
}

/// LMPOP's core: pops up to `count` elements from `end` of the first non-empty list among
/// `keys` and answers `[key, [elements...]]`; `None` when every key is missing.
///
/// # Errors
/// WRONGTYPE when a key met before the first list holds another type.
pub(crate) fn mpop(
    ctx: &mut CommandContext<'_>,
    keys: &[Bytes],
    end: ListEnd,
    count: usize,
) -> Result<Option<Frame>, CommandError> {
    for key in keys {
        if let Some(popped) = pop_elements(ctx, key, end, count)? {
            // Propagated as [LR]POP key count (BLPOP narrows it to [LR]POP key).
            let pop: &'static [u8] = match end {
                ListEnd::Left => b"LPOP",
                ListEnd::Right => b"RPOP",
            };
            ctx.rewrite_propagation(vec![
                Bytes::from_static(pop),
                key.clone(),
                Bytes::from(popped.len().to_string()),
            ]);
            let elements = popped.into_iter().map(Frame::Bulk).collect();
            return Ok(Some(Frame::Array(vec![
                Frame::Bulk(key.clone()),
                Frame::Array(elements),
            ])));
        }
    }
    Ok(None)
}

/// LMOVE's core: pops from `from` of `source`, pushes onto `to` of `destination` (which may be
/// the same key) and returns the element; `None` when `source` does not exist. Both types are
/// checked before anything changes.
///
/// # Errors
/// WRONGTYPE when either key holds another type.
pub(crate) fn move_element(
    ctx: &mut CommandContext<'_>,
    source: &[u8],
    destination: &[u8],
    from: ListEnd,
    to: ListEnd,
) -> Result<Option<Bytes>, CommandError> {
    let fill = ctx.list_limits();
    if list_for_write(ctx, source)?.is_none() {
        return Ok(None);
    }
    if source != destination {
        list_for_write(ctx, destination)?;
    }
    let Some(list) = list_for_write(ctx, source)? else {
        return Ok(None);
    };
    let Some(element) = pop_one(list, from) else {
        return Ok(None);
    };
    // Redis raises the push on the destination, then the pop on the source, then its "del".
    let mut source_emptied = false;
    if source == destination {
        // Rotation: the list never goes empty, so it keeps its key.
        push_one(list, to, &element, fill);
    } else {
        if list.is_empty() {
            source_emptied = true;
            ctx.db().remove(source);
        }
        match list_for_write(ctx, destination)? {
            Some(target) => push_one(target, to, &element, fill),
            None => {
                let mut target = List::new();
                push_one(&mut target, to, &element, fill);
                store_new_list(ctx, destination, target);
            }
        }
    }
    // blocking: key ready (destination)
    ctx.changed(1);
    ctx.notify(class::LIST, push_event(to), destination);
    ctx.notify(class::LIST, pop_event(from), source);
    if source_emptied {
        ctx.notify(class::GENERIC, "del", source);
    }
    Ok(Some(Bytes::from(element)))
}

/// LMPOP's arguments after the command name (BLMPOP's after its timeout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MpopRequest {
    /// The keys, in the order to try them.
    pub keys: Vec<Bytes>,
    /// Which end to pop from.
    pub end: ListEnd,
    /// How many elements at most (1 without COUNT).
    pub count: usize,
}

/// Reads `numkeys key [key ...] LEFT|RIGHT [COUNT count]`.
///
/// # Errors
/// `ERR numkeys should be greater than 0`, `ERR count should be greater than 0`, or a syntax
/// error for a missing or unknown LEFT|RIGHT, an extra argument or a repeated COUNT.
pub(crate) fn parse_mpop(args: &mut Args<'_>) -> Result<MpopRequest, CommandError> {
    let numkeys = parse_positive(args.next_bytes()?, NUMKEYS_NOT_POSITIVE)?;
    if numkeys >= args.remaining() {
        return Err(CommandError::Syntax);
    }
    let keys: Vec<Bytes> = (0..numkeys)
        .map(|_| args.next_bytes().cloned())
        .collect::<Result<_, _>>()?;
    let end = parse_end(args.next_bytes()?)?;
    let mut count = None;
    while let Some(option) = args.peek() {
        if count.is_none() && option.eq_ignore_ascii_case(b"COUNT") && args.remaining() > 1 {
            args.next_bytes()?;
            count = Some(parse_positive(args.next_bytes()?, COUNT_NOT_POSITIVE)?);
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok(MpopRequest {
        keys,
        end,
        count: count.unwrap_or(1),
    })
}

/// Reads LEFT or RIGHT, in any case.
///
/// # Errors
/// `ERR syntax error` for anything else.
pub(crate) fn parse_end(arg: &[u8]) -> Result<ListEnd, CommandError> {
    if arg.eq_ignore_ascii_case(b"left") {
        Ok(ListEnd::Left)
    } else if arg.eq_ignore_ascii_case(b"right") {
        Ok(ListEnd::Right)
    } else {
        Err(CommandError::Syntax)
    }
}

/// LPOS's options.
struct LposOptions {
    /// Which match to start from, counted from 1.
    rank: usize,
    /// Whether to scan from the tail (a negative RANK).
    from_tail: bool,
    /// COUNT: `None` for a single reply, `Some(0)` for every match.
    count: Option<usize>,
    /// MAXLEN: how many elements to scan at most (0: all).
    maxlen: usize,
}

fn parse_lpos_options(args: &mut Args<'_>) -> Result<LposOptions, CommandError> {
    let mut options = LposOptions {
        rank: 1,
        from_tail: false,
        count: None,
        maxlen: 0,
    };
    while let Ok(option) = args.next_bytes() {
        let has_value = !args.is_empty();
        if option.eq_ignore_ascii_case(b"RANK") && has_value {
            let rank = args.next_i64()?;
            if rank == 0 {
                return Err(CommandError::msg(RANK_ZERO));
            }
            options.from_tail = rank < 0;
            // Redis negates the rank in a C long, so RANK i64::MIN stays negative and behaves
            // as RANK -1.
            options.rank = if rank == i64::MIN {
                1
            } else {
                usize::try_from(rank.unsigned_abs()).unwrap_or(usize::MAX)
            };
        } else if option.eq_ignore_ascii_case(b"COUNT") && has_value {
            options.count = Some(parse_non_negative(args.next_bytes()?, COUNT_NEGATIVE)?);
        } else if option.eq_ignore_ascii_case(b"MAXLEN") && has_value {
            options.maxlen = parse_non_negative(args.next_bytes()?, MAXLEN_NEGATIVE)?;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok(options)
}

/// An integer ≥ 0; `message` answers both junk and negatives, as Redis's
/// `getPositiveLongFromObjectOrReply` does.
fn parse_non_negative(arg: &[u8], message: &'static str) -> Result<usize, CommandError> {
    parse_i64(arg)
        .ok()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or(CommandError::msg(message))
}

/// An integer ≥ 1; `message` answers junk, zero and negatives alike.
fn parse_positive(arg: &[u8], message: &'static str) -> Result<usize, CommandError> {
    match parse_non_negative(arg, message)? {
        0 => Err(CommandError::msg(message)),
        n => Ok(n),
    }
}

/// A Redis list index (negative counts from the tail) as a head-based one, if inside the list.
fn resolve_index(len: usize, index: i64) -> Option<usize> {
    let i = if index < 0 {
        len.checked_sub(usize::try_from(index.unsigned_abs()).ok()?)?
    } else {
        usize::try_from(index).ok()?
    };
    (i < len).then_some(i)
}

/// LRANGE/LTRIM's `start stop`, clamped as Redis does: the first index and how many elements
/// follow, or `None` for an empty range.
fn clamp_range(len: usize, start: i64, stop: i64) -> Option<(usize, usize)> {
    let len_i = i64::try_from(len).ok()?;
    let start = if start < 0 {
        len_i.saturating_add(start)
    } else {
        start
    }
    .max(0);
    let stop = if stop < 0 {
        len_i.saturating_add(stop)
    } else {
        stop
    };
    if start > stop || start >= len_i {
        return None;
    }
    let stop = stop.min(len_i - 1);
    let first = usize::try_from(start).ok()?;
    let last = usize::try_from(stop).ok()?;
    Some((first, last - first + 1))
}

/// An array of bulk replies that share one buffer: one copy and one allocation for the whole
/// range instead of one per element.
fn bulk_array<'a>(elements: impl Iterator<Item = &'a [u8]>) -> Frame {
    Frame::BulkArray(elements.collect())
}

fn push_one(list: &mut List, end: ListEnd, element: &[u8], fill: NodeLimits) {
    match end {
        ListEnd::Left => list.push_front(element, fill),
        ListEnd::Right => list.push_back(element, fill),
    }
}

fn pop_one(list: &mut List, end: ListEnd) -> Option<Vec<u8>> {
    match end {
        ListEnd::Left => list.pop_front(),
        ListEnd::Right => list.pop_back(),
    }
}

/// The list at `key` for reading (counting a keyspace hit or miss); WRONGTYPE for another type.
fn list_for_read<'c>(
    ctx: &'c mut CommandContext<'_>,
    key: &[u8],
) -> Result<Option<&'c List>, CommandError> {
    let Some(pos) = ctx.lookup_read(key) else {
        return Ok(None);
    };
    ctx.db().entry(pos).value.as_list().map(Some)
}

/// The list at `key` for changing; WRONGTYPE for another type.
fn list_for_write<'c>(
    ctx: &'c mut CommandContext<'_>,
    key: &[u8],
) -> Result<Option<&'c mut List>, CommandError> {
    let Some(pos) = ctx.lookup_write(key) else {
        return Ok(None);
    };
    ctx.db().entry_mut(pos).value.as_list_mut().map(Some)
}

/// Stores a new list under `key`, known to be absent (the caller's lookup reclaimed it if it
/// had expired). The caller counts the change.
fn store_new_list(ctx: &mut CommandContext<'_>, key: &[u8], list: List) {
    let clock = crate::server::lru_clock_at(ctx.now_ms());
    ctx.db().insert_new(
        CompactBytes::new(key),
        Value::List(Box::new(list)),
        None,
        clock,
    );
    ctx.notify(class::NEW, "new", key);
}

/// The event a push onto `end` raises.
fn push_event(end: ListEnd) -> &'static str {
    match end {
        ListEnd::Left => "lpush",
        ListEnd::Right => "rpush",
    }
}

/// The event a pop from `end` raises.
fn pop_event(end: ListEnd) -> &'static str {
    match end {
        ListEnd::Left => "lpop",
        ListEnd::Right => "rpop",
    }
}

/// Deletes `key`, whose list has just emptied: Redis never keeps an empty list. The change
/// itself was counted per element.
fn remove_emptied(ctx: &mut CommandContext<'_>, key: &[u8]) {
    ctx.db().remove(key);
    ctx.notify(class::GENERIC, "del", key);
}
