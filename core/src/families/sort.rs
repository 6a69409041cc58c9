//! SORT and SORT_RO: the elements of a list, set or sorted set, ordered numerically or
//! bytewise (ALPHA), by themselves or by weights read from other keys (BY pattern, with
//! `key->field` for hash fields; a pattern without `*` does not sort), cut by LIMIT, projected
//! through GET patterns (`#` is the element itself), and either answered or stored as a list
//! (STORE, SORT only).
//!
//! Redis compares ALPHA elements with `strcoll`; we compare bytes, which is what `strcoll`
//! does in the C locale. Not done here (no shared API yet): the `sortstore` keyspace event.

use std::cmp::Ordering;

use oxidis_protocol::Frame;

use crate::command::{
    AclCategory, Arg, Args, Arity, BeginSearch, CommandResult, CommandSpec, Family, FindKeys,
    Flag::*, Group, KeyFlag::*, KeySpec, keys, parse_i64,
};
use crate::context::CommandContext;
use crate::db::Ttl;
use crate::errors::CommandError;
use crate::errors::sort::SCORE_NOT_A_DOUBLE;
use crate::families::count_reply;
use crate::types::{List, Value};

/// The sorted key, then the keys BY and GET patterns name (only known once the elements are).
const SORT_RO_KEYS: &[KeySpec] = &[
    KeySpec::single(1, &[Ro, Access]),
    KeySpec::new(BeginSearch::Unknown, FindKeys::Unknown, &[Ro, Access]),
];
/// SORT_RO's keys, then STORE's destination, which may appear anywhere.
const SORT_KEYS: &[KeySpec] = &[
    KeySpec::single(1, &[Ro, Access]),
    KeySpec::new(BeginSearch::Unknown, FindKeys::Unknown, &[Ro, Access]),
    KeySpec::new(BeginSearch::Unknown, FindKeys::Unknown, &[Ow, Update]),
];
const SORT_RO_ARGS: &[Arg] = &[
    Arg::key("key", 0),
    Arg::pattern("pattern").with_token("BY").optional(),
    Arg::block(
        "offset_count",
        &[Arg::integer("offset"), Arg::integer("count")],
    )
    .with_token("LIMIT")
    .optional(),
    Arg::pattern("pattern")
        .with_token("GET")
        .optional()
        .multiple()
        .multiple_token(),
    Arg::one_of(
        "order",
        &[Arg::token("asc", "ASC"), Arg::token("desc", "DESC")],
    )
    .optional(),
    Arg::token("sorting", "ALPHA").optional(),
];
const SORT_ARGS: &[Arg] = &[
    Arg::key("key", 0),
    Arg::pattern("pattern").with_token("BY").optional(),
    Arg::block(
        "offset_count",
        &[Arg::integer("offset"), Arg::integer("count")],
    )
    .with_token("LIMIT")
    .optional(),
    Arg::pattern("pattern")
        .with_token("GET")
        .optional()
        .multiple()
        .multiple_token(),
    Arg::one_of(
        "order",
        &[Arg::token("asc", "ASC"), Arg::token("desc", "DESC")],
    )
    .optional(),
    Arg::token("sorting", "ALPHA").optional(),
    Arg::key("destination", 2).with_token("STORE").optional(),
];
const COMPLEXITY: &str = "O(N+M*log(M)) where N is the number of elements in the list or set to \
sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).";

/// The sort family; `families::BUILTIN` lists it, and nothing else does.
pub static FAMILY: Family = Family {
    group: Group::Generic,
    commands: &[
        CommandSpec::new("sort", Arity::AtLeast(2), sort)
            .flags(&[Write, DenyOom])
            .acl_only(&[
                AclCategory::Set,
                AclCategory::SortedSet,
                AclCategory::List,
                AclCategory::Dangerous,
            ])
            .keys(SORT_KEYS)
            .key_finder(keys::sort_keys)
            .doc(
                "Sorts the elements of a list, set or sorted set, optionally storing the result.",
                "1.0.0",
                COMPLEXITY,
            )
            .args(SORT_ARGS),
        CommandSpec::new("sort_ro", Arity::AtLeast(2), sort_ro)
            .flags(&[ReadOnly])
            .acl_only(&[
                AclCategory::Set,
                AclCategory::SortedSet,
                AclCategory::List,
                AclCategory::Dangerous,
            ])
            .keys(SORT_RO_KEYS)
            .key_finder(keys::sort_ro_keys)
            .doc(
                "Sorts the elements of a list, set or sorted set (read-only SORT).",
                "7.0.0",
                COMPLEXITY,
            )
            .args(SORT_RO_ARGS),
    ],
};

fn sort(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    sort_generic(ctx, args, Mode::MayStore)
}

fn sort_ro(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    sort_generic(ctx, args, Mode::ReadOnly)
}

/// Whether STORE is accepted (SORT) or a syntax error (SORT_RO).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    MayStore,
    ReadOnly,
}

/// SORT's options, as Redis reads them: later ones override earlier ones, except that a
/// constant BY pattern turns sorting off for good.
struct SortOptions<'a> {
    desc: bool,
    alpha: bool,
    limit_start: i64,
    limit_count: i64,
    store: Option<&'a [u8]>,
    by: Option<&'a [u8]>,
    dont_sort: bool,
    gets: Vec<&'a [u8]>,
}

fn parse_sort_options<'a>(
    args: &mut Args<'a>,
    mode: Mode,
) -> Result<SortOptions<'a>, CommandError> {
    let mut options = SortOptions {
        desc: false,
        alpha: false,
        limit_start: 0,
        limit_count: -1,
        store: None,
        by: None,
        dont_sort: false,
        gets: Vec::new(),
    };
    while args.remaining() > 0 {
        let left = args.remaining() - 1;
        if args.eat_keyword("ASC") {
            options.desc = false;
        } else if args.eat_keyword("DESC") {
            options.desc = true;
        } else if args.eat_keyword("ALPHA") {
            options.alpha = true;
        } else if left >= 2 && args.eat_keyword("LIMIT") {
            options.limit_start = parse_i64(args.next_bytes()?)?;
            options.limit_count = parse_i64(args.next_bytes()?)?;
        } else if mode == Mode::MayStore && left >= 1 && args.eat_keyword("STORE") {
            options.store = Some(args.next_bytes()?);
        } else if left >= 1 && args.eat_keyword("BY") {
            let pattern: &[u8] = args.next_bytes()?;
            if !pattern.contains(&b'*') {
                options.dont_sort = true;
            }
            options.by = Some(pattern);
        } else if left >= 1 && args.eat_keyword("GET") {
            options.gets.push(args.next_bytes()?);
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok(options)
}

/// What kind of collection is sorted (a missing key sorts as an empty list).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    List,
    Set,
    SortedSet,
}

fn sort_generic(ctx: &mut CommandContext<'_>, args: &mut Args<'_>, mode: Mode) -> CommandResult {
    let key = args.next_bytes()?;
    let mut options = parse_sort_options(args, mode)?;
    let (kind, mut elements) = load_elements(ctx, key)?;

    // A set has no order of its own: stored results, and results inside scripts, are sorted
    // bytewise so replicas agree.
    if options.dont_sort && kind == Kind::Set && (options.store.is_some() || ctx.in_script()) {
        options.dont_sort = false;
        options.alpha = true;
        options.by = None;
    }
    // Lists and sorted sets keep their own order under BY nosort; DESC walks it backwards.
    if options.dont_sort && kind != Kind::Set && options.desc {
        elements.reverse();
    }
    let (start, end) = limit_range(options.limit_start, options.limit_count, elements.len());

    if !options.dont_sort {
        elements = sort_elements(ctx, elements, &options)?;
    }
    let selected = elements.get(start..end).unwrap_or(&[]);
    match options.store {
        None => Ok(Frame::Array(project(ctx, selected, &options.gets, |v| {
            v.map_or(Frame::Null, Frame::Bulk)
        }))),
        Some(dest) => {
            // Missing GET values are stored as empty strings.
            let values = project(ctx, selected, &options.gets, Option::unwrap_or_default);
            store_list(ctx, dest, &values)
        }
    }
}

/// The elements of the collection under `key`, copied out (BY and GET look up other keys
/// while they are in use).
fn load_elements(
    ctx: &mut CommandContext<'_>,
    key: &[u8],
) -> Result<(Kind, Vec<bytes::Bytes>), CommandError> {
    let copy = |e: &[u8]| bytes::Bytes::copy_from_slice(e);
    Ok(match ctx.read(key) {
        None => (Kind::List, Vec::new()),
        Some(Value::List(list)) => (Kind::List, list.iter().map(copy).collect()),
        Some(Value::Set(set)) => {
            let mut members = Vec::with_capacity(set.len());
            set.for_each_member(|m| members.push(copy(m)));
            (Kind::Set, members)
        }
        Some(Value::SortedSet(zset)) => {
            let mut members = Vec::with_capacity(zset.len());
            zset.for_each_pair(|m, _| members.push(copy(m)));
            (Kind::SortedSet, members)
        }
        Some(
            Value::Int(_)
            | Value::Str(_)
            | Value::Mutable(_)
            | Value::Hash(_)
            | Value::Stream(_)
            | Value::Module(_),
        ) => {
            return Err(CommandError::WrongType);
        }
    })
}

/// LIMIT offset count as Redis clamps it, as a half-open range of positions in `0..len`.
fn limit_range(offset: i64, count: i64, len: usize) -> (usize, usize) {
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let start = offset.clamp(0, len_i);
    let count = count.clamp(-1, len_i);
    let end = if count < 0 { len_i } else { start + count }.min(len_i);
    let to_usize = |n: i64| usize::try_from(n).unwrap_or(0);
    (to_usize(start), to_usize(end.max(start)))
}

/// What each element is ordered by.
enum SortKey {
    /// Numeric sorting: the weight as a double.
    Score(f64),
    /// ALPHA with BY: the weight's bytes, `None` when the weight key is missing.
    Weight(Option<bytes::Bytes>),
    /// ALPHA without BY: the element itself.
    Element,
}

/// Orders `elements` by the options' BY, ALPHA and DESC.
///
/// # Errors
/// `ERR One or more scores can't be converted into double` for a numeric sort meeting a weight
/// that is not a number.
fn sort_elements(
    ctx: &mut CommandContext<'_>,
    elements: Vec<bytes::Bytes>,
    options: &SortOptions<'_>,
) -> Result<Vec<bytes::Bytes>, CommandError> {
    let mut keyed = Vec::with_capacity(elements.len());
    let mut bad_score = false;
    for element in elements {
        let weight = match options.by {
            Some(pattern) => lookup_by_pattern(ctx, pattern, &element),
            None => Some(element.clone()),
        };
        let key = match (options.alpha, options.by) {
            (true, Some(_)) => SortKey::Weight(weight),
            (true, None) => SortKey::Element,
            // A missing weight sorts as 0.
            (false, _) => SortKey::Score(match weight {
                Some(w) => strtod(&w).unwrap_or_else(|| {
                    bad_score = true;
                    0.0
                }),
                None => 0.0,
            }),
        };
        keyed.push((key, element));
    }
    if bad_score {
        return Err(CommandError::msg(SCORE_NOT_A_DOUBLE));
    }
    keyed.sort_by(|(k1, e1), (k2, e2)| {
        let order = match (k1, k2) {
            // Equal scores fall back to the elements' bytes, so the result is deterministic.
            (SortKey::Score(a), SortKey::Score(b)) => a
                .partial_cmp(b)
                .unwrap_or(Ordering::Equal)
                .then_with(|| e1.cmp(e2)),
            // A missing weight sorts first.
            (SortKey::Weight(a), SortKey::Weight(b)) => a.cmp(b),
            _ => e1.cmp(e2),
        };
        if options.desc { order.reverse() } else { order }
    });
    Ok(keyed.into_iter().map(|(_, element)| element).collect())
}

/// Each element, or for each element the value of every GET pattern, mapped by `make`.
fn project<T>(
    ctx: &mut CommandContext<'_>,
    elements: &[bytes::Bytes],
    gets: &[&[u8]],
    mut make: impl FnMut(Option<bytes::Bytes>) -> T,
) -> Vec<T> {
    if gets.is_empty() {
        return elements.iter().map(|e| make(Some(e.clone()))).collect();
    }
    let mut out = Vec::with_capacity(elements.len() * gets.len());
    for element in elements {
        for pattern in gets {
            out.push(make(lookup_by_pattern(ctx, pattern, element)));
        }
    }
    out
}

/// STORE: `values` become a list under `dest` (replacing whatever was there, TTL included), or
/// `dest` is deleted when there are none. Answers how many were stored.
fn store_list(ctx: &mut CommandContext<'_>, dest: &[u8], values: &[bytes::Bytes]) -> CommandResult {
    if values.is_empty() {
        if ctx.delete(dest) {
            ctx.notify(crate::events::class::GENERIC, "del", dest);
        }
        return Ok(Frame::Integer(0));
    }
    let fill = ctx.list_limits();
    let mut list = List::new();
    for value in values {
        list.push_back(value, fill);
    }
    ctx.set(dest, Value::List(Box::new(list)), Ttl::Clear);
    ctx.notify(crate::events::class::LIST, "sortstore", dest);
    // blocking: key ready
    // `set` counted one change; Redis counts one per stored element.
    ctx.changed(u64::try_from(values.len() - 1).unwrap_or(0));
    Ok(count_reply(values.len()))
}

/// Redis's `lookupKeyByPattern`: `#` is the element itself; otherwise the first `*` of the
/// pattern is replaced by the element to name a string key, or, with `->field` after the `*`,
/// a field of a hash. `None` when the pattern has no `*`, the key is missing or of another type,
/// or the field is absent.
fn lookup_by_pattern(
    ctx: &mut CommandContext<'_>,
    pattern: &[u8],
    element: &bytes::Bytes,
) -> Option<bytes::Bytes> {
    if pattern == b"#" {
        return Some(element.clone());
    }
    let star = pattern.iter().position(|&b| b == b'*')?;
    let after = &pattern[star + 1..];
    // `->` with nothing after it is part of the key name, not a field reference.
    let (postfix, field) = match after.windows(2).position(|w| w == b"->") {
        Some(arrow) if arrow + 2 < after.len() => (&after[..arrow], Some(&after[arrow + 2..])),
        _ => (after, None),
    };
    let mut key = Vec::with_capacity(star + element.len() + postfix.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(element);
    key.extend_from_slice(postfix);
    let value = ctx.read(&key)?;
    match (field, value) {
        (Some(field), Value::Hash(hash)) => hash.get(field).map(bytes::Bytes::copy_from_slice),
        (None, Value::Int(_) | Value::Str(_) | Value::Mutable(_)) => {
            value.with_string_bytes(bytes::Bytes::copy_from_slice)
        }
        (
            Some(_),
            Value::Int(_)
            | Value::Str(_)
            | Value::Mutable(_)
            | Value::List(_)
            | Value::Set(_)
            | Value::SortedSet(_)
            | Value::Stream(_)
            | Value::Module(_),
        )
        | (
            None,
            Value::Hash(_)
            | Value::List(_)
            | Value::Set(_)
            | Value::SortedSet(_)
            | Value::Stream(_)
            | Value::Module(_),
        ) => None,
    }
}

/// A weight read as SORT reads it, with C's `strtod`: leading spaces allowed, nothing after the
/// number, an empty string is 0, hexadecimal accepted; NaN, overflow and underflow refused.
/// Like C, it stops at a NUL byte.
fn strtod(bytes: &[u8]) -> Option<f64> {
    let bytes = bytes.split(|&b| b == 0).next().unwrap_or_default();
    if bytes.is_empty() {
        return Some(0.0);
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let text = text.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = if unsigned.len() > 2 && unsigned[..2].eq_ignore_ascii_case("0x") {
        parse_hex_float(&unsigned[2..])?
    } else {
        if unsigned.starts_with(['+', '-']) {
            return None;
        }
        let value: f64 = unsigned.parse().ok()?;
        let spelled_infinite = ["inf", "infinity"]
            .iter()
            .any(|s| unsigned.eq_ignore_ascii_case(s));
        if value.is_nan() || (value.is_infinite() && !spelled_infinite) {
            return None;
        }
        let has_nonzero_digit = unsigned
            .split(['e', 'E'])
            .next()
            .is_some_and(|m| m.bytes().any(|b| (b'1'..=b'9').contains(&b)));
        // Underflow (to zero or to a subnormal) is ERANGE for strtod.
        if value != 0.0 && value.abs() < f64::MIN_POSITIVE || value == 0.0 && has_nonzero_digit {
            return None;
        }
        value
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// The digits of a C hexadecimal float after `0x`: hex digits, an optional fraction, an
/// optional binary exponent (`p`).
fn parse_hex_float(text: &str) -> Option<f64> {
    let (mantissa, exponent) = match text.find(['p', 'P']) {
        Some(p) => (&text[..p], text[p + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut value = 0.0f64;
    for c in int_part.chars() {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac_part.chars() {
        value += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    let value = value * 2f64.powi(exponent);
    value.is_finite().then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{CommandRunner, bulk, err};

    fn run(r: &mut CommandRunner, line: &str) -> Frame {
        r.run(line.split(' '))
    }

    fn bulks(items: &[&str]) -> Frame {
        Frame::Array(items.iter().map(|s| bulk(s)).collect())
    }

    /// A list built with RPUSH-like order through the keyspace directly (the list family may
    /// not be registered in every build of these tests).
    fn put_list(r: &mut CommandRunner, key: &str, items: &[&str]) {
        let list: List = items.iter().map(|s| s.as_bytes()).collect();
        r.server.dbs[0].set(key.as_bytes(), Value::List(Box::new(list)), Ttl::Clear, 0);
    }

    fn list_items(r: &CommandRunner, key: &str) -> Vec<String> {
        let db = &r.server.dbs[0];
        let pos = db.find(key.as_bytes()).expect("stored");
        match &db.entry(pos).value {
            Value::List(list) => list
                .iter()
                .map(|e| String::from_utf8_lossy(e).into_owned())
                .collect(),
            other => panic!("not a list: {other:?}"),
        }
    }

    #[test]
    fn numeric_alpha_and_desc() {
        let mut r = CommandRunner::with_builtin_commands();
        put_list(&mut r, "l", &["3", "10", "1", "2"]);
        assert_eq!(run(&mut r, "SORT l"), bulks(&["1", "2", "3", "10"]));
        assert_eq!(run(&mut r, "SORT l DESC"), bulks(&["10", "3", "2", "1"]));
        assert_eq!(run(&mut r, "SORT l ALPHA"), bulks(&["1", "10", "2", "3"]));
        assert_eq!(run(&mut r, "SORT_RO l LIMIT 1 2"), bulks(&["2", "3"]));
        assert_eq!(
            run(&mut r, "SORT l LIMIT -10 100"),
            bulks(&["1", "2", "3", "10"])
        );
        assert_eq!(run(&mut r, "SORT l LIMIT 5 10"), bulks(&[]));
        put_list(&mut r, "f", &["1.1", "5.10", "0.25", " 2", ""]);
        assert_eq!(
            run(&mut r, "SORT f"),
            bulks(&["", "0.25", "1.1", " 2", "5.10"])
        );
    }

    #[test]
    fn bad_doubles_and_syntax_errors() {
        let mut r = CommandRunner::with_builtin_commands();
        put_list(&mut r, "l", &["1", "not-a-double"]);
        assert_eq!(
            run(&mut r, "SORT l"),
            err("ERR One or more scores can't be converted into double")
        );
        assert_eq!(run(&mut r, "SORT l FOO"), err("ERR syntax error"));
        assert_eq!(run(&mut r, "SORT l LIMIT 1"), err("ERR syntax error"));
        assert_eq!(
            run(&mut r, "SORT l LIMIT x 1"),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(run(&mut r, "SORT_RO l STORE dst"), err("ERR syntax error"));
        run(&mut r, "SET s x");
        assert_eq!(
            run(&mut r, "SORT s"),
            err("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
        assert_eq!(run(&mut r, "SORT missing"), bulks(&[]));
    }

    #[test]
    fn by_and_get_patterns_with_hash_fields() {
        let mut r = CommandRunner::with_builtin_commands();
        put_list(&mut r, "l", &["a", "b", "c"]);
        run(&mut r, "MSET w_a 3 w_b 1 w_c 2");
        run(&mut r, "HSET o_a weight 30 name A");
        run(&mut r, "HSET o_b weight 10 name B");
        assert_eq!(run(&mut r, "SORT l BY w_*"), bulks(&["b", "c", "a"]));
        assert_eq!(
            run(&mut r, "SORT l BY o_*->weight DESC"),
            bulks(&["a", "b", "c"])
        );
        assert_eq!(
            run(&mut r, "SORT l BY w_* GET # GET o_*->name GET nostar"),
            Frame::Array(vec![
                bulk("b"),
                bulk("B"),
                Frame::Null,
                bulk("c"),
                Frame::Null,
                Frame::Null,
                bulk("a"),
                bulk("A"),
                Frame::Null,
            ])
        );
        // ALPHA BY: a missing weight sorts first.
        assert_eq!(
            run(&mut r, "SORT l BY o_*->name ALPHA"),
            bulks(&["c", "a", "b"])
        );
        // A pattern ending in "->" names a plain key.
        run(&mut r, "SET x:a-> 100");
        assert_eq!(
            run(&mut r, "SORT l BY nosort GET x:*-> LIMIT 0 1"),
            bulks(&["100"])
        );
    }

    #[test]
    fn nosort_keeps_list_order_and_desc_reverses_it() {
        let mut r = CommandRunner::with_builtin_commands();
        put_list(&mut r, "l", &["5", "3", "4", "1", "2"]);
        assert_eq!(
            run(&mut r, "SORT l BY nosort"),
            bulks(&["5", "3", "4", "1", "2"])
        );
        assert_eq!(
            run(&mut r, "SORT l BY nosort DESC LIMIT 0 2"),
            bulks(&["2", "1"])
        );
        // A later BY with a star does not turn sorting back on.
        assert_eq!(
            run(&mut r, "SORT l BY nosort BY w_* LIMIT 0 1"),
            bulks(&["5"])
        );
    }

    #[test]
    fn store_writes_a_list_or_deletes_the_destination() {
        let mut r = CommandRunner::with_builtin_commands();
        put_list(&mut r, "l", &["b", "a", "c"]);
        run(&mut r, "SET dst old");
        run(&mut r, "EXPIRE dst 100");
        assert_eq!(run(&mut r, "SORT l ALPHA STORE dst"), Frame::Integer(3));
        assert_eq!(list_items(&r, "dst"), ["a", "b", "c"]);
        assert_eq!(run(&mut r, "TTL dst"), Frame::Integer(-1));
        assert_eq!(run(&mut r, "OBJECT ENCODING dst"), bulk("quicklist"));
        assert_eq!(
            run(&mut r, "SORT l ALPHA GET # GET missing_* STORE dst"),
            Frame::Integer(6)
        );
        assert_eq!(list_items(&r, "dst"), ["a", "", "b", "", "c", ""]);
        assert_eq!(
            run(&mut r, "SORT l ALPHA LIMIT 10 10 STORE dst"),
            Frame::Integer(0)
        );
        assert_eq!(run(&mut r, "EXISTS dst"), Frame::Integer(0));
        assert_eq!(run(&mut r, "SORT nothing STORE dst2"), Frame::Integer(0));
    }

    #[test]
    fn getkeys_follow_store() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(
            run(
                &mut r,
                "COMMAND GETKEYS sort abc store invalid store stillbad store def"
            ),
            bulks(&["abc", "def"])
        );
        assert_eq!(run(&mut r, "COMMAND GETKEYS sort_ro abc"), bulks(&["abc"]));
    }

    #[test]
    fn strtod_follows_c() {
        assert_eq!(strtod(b""), Some(0.0));
        assert_eq!(strtod(b"  12"), Some(12.0));
        assert_eq!(strtod(b"12 "), None);
        assert_eq!(strtod(b"0x10"), Some(16.0));
        assert_eq!(strtod(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(strtod(b"nan"), None);
        assert_eq!(strtod(b"1e400"), None);
        assert_eq!(strtod(b"1e-400"), None);
        assert_eq!(strtod(b"+-1"), None);
        assert_eq!(strtod(b" "), None);
        assert_eq!(strtod(b"5."), Some(5.0));
    }
}
