//! Set algebra over sorted sets (and plain sets, whose members score 1): ZUNION, ZINTER, ZDIFF,
//! their STORE forms and ZINTERCARD, with WEIGHTS and AGGREGATE SUM|MIN|MAX.

use super::{limits, members_reply, store_result};
use crate::command::{Args, CommandResult, parse_f64, parse_i64};
use crate::context::CommandContext;
use crate::errors::CommandError;
use crate::errors::sorted_set::{LIMIT_NEGATIVE, WEIGHT_NOT_FLOAT, at_least_one_key};
use crate::families::count_reply;
use crate::types::{SortedSet, Value};

/// Member → score, for lookups in an input and the union's accumulator.
type ScoreMap = std::collections::HashMap<Vec<u8>, f64, foldhash::fast::RandomState>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// One input, copied out of the keyspace: (member, score) in the input's order plus a lookup.
struct Input {
    pairs: Vec<(Vec<u8>, f64)>,
    scores: ScoreMap,
    weight: f64,
}

impl Input {
    fn score(&self, member: &[u8]) -> Option<f64> {
        self.scores.get(member).copied()
    }
}

/// What the caller wants back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    Reply,
    Store,
    Cardinality,
}

pub(super) fn zunion(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    combine(ctx, args, Op::Union, Output::Reply)
}

pub(super) fn zunionstore(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    combine(ctx, args, Op::Union, Output::Store)
}

pub(super) fn zinter(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    combine(ctx, args, Op::Inter, Output::Reply)
}

pub(super) fn zinterstore(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    combine(ctx, args, Op::Inter, Output::Store)
}

pub(super) fn zintercard(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    combine(ctx, args, Op::Inter, Output::Cardinality)
}

pub(super) fn zdiff(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    combine(ctx, args, Op::Diff, Output::Reply)
}

pub(super) fn zdiffstore(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    combine(ctx, args, Op::Diff, Output::Store)
}

/// Redis's `zunionInterDiffGenericCommand`: errors in its order (numkeys, key types, options).
fn combine(
    ctx: &mut CommandContext<'_>,
    args: &mut Args<'_>,
    op: Op,
    output: Output,
) -> CommandResult {
    let dst = if output == Output::Store {
        Some(args.next_bytes()?.clone())
    } else {
        None
    };
    let numkeys = args.next_i64()?;
    if numkeys < 1 {
        return Err(CommandError::custom(at_least_one_key(
            ctx.command().spec.name,
        )));
    }
    let numkeys = usize::try_from(numkeys).unwrap_or(usize::MAX);
    if numkeys > args.remaining() {
        return Err(CommandError::Syntax);
    }
    let mut inputs = Vec::with_capacity(numkeys);
    for _ in 0..numkeys {
        let key = args.next_bytes()?;
        inputs.push(read_input(ctx, key)?);
    }
    let mut aggregate = Aggregate::Sum;
    let mut with_scores = false;
    let mut limit = 0usize;
    let set_op = output != Output::Cardinality && op != Op::Diff;
    while !args.is_empty() {
        let remaining = args.remaining();
        if set_op && remaining > numkeys && args.eat_keyword("WEIGHTS") {
            for input in &mut inputs {
                input.weight =
                    parse_f64(args.next_bytes()?).ok_or(CommandError::msg(WEIGHT_NOT_FLOAT))?;
            }
        } else if set_op && remaining >= 2 && args.eat_keyword("AGGREGATE") {
            aggregate = if args.eat_keyword("SUM") {
                Aggregate::Sum
            } else if args.eat_keyword("MIN") {
                Aggregate::Min
            } else if args.eat_keyword("MAX") {
                Aggregate::Max
            } else {
                return Err(CommandError::Syntax);
            };
        } else if output == Output::Reply && args.eat_keyword("WITHSCORES") {
            with_scores = true;
        } else if output == Output::Cardinality && remaining >= 2 && args.eat_keyword("LIMIT") {
            limit = parse_i64(args.next_bytes()?)
                .ok()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or(CommandError::msg(LIMIT_NEGATIVE))?;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    if op != Op::Diff {
        // Smallest first, as Redis orders them: it decides the order scores are summed in.
        inputs.sort_by_key(|i| i.pairs.len());
    }
    let result = match op {
        Op::Union => union(&inputs, aggregate),
        Op::Inter => inter(&inputs, aggregate, output == Output::Cardinality, limit),
        Op::Diff => diff(&inputs),
    };
    match (output, dst) {
        (Output::Cardinality, _) => Ok(count_reply(result.len())),
        (Output::Store, Some(dst)) => {
            let (max_entries, max_value) = limits(ctx);
            let zset = SortedSet::from_pairs(result, max_entries, max_value);
            Ok(store_result(ctx, &dst, zset))
        }
        _ => {
            let mut result = result;
            sort_pairs(&mut result);
            Ok(members_reply(ctx.resp(), result, with_scores))
        }
    }
}

/// Copies the sorted set or set under `key` (scores 1) out of the keyspace.
fn read_input(ctx: &mut CommandContext<'_>, key: &[u8]) -> Result<Input, CommandError> {
    let mut pairs = Vec::new();
    match ctx.read(key) {
        None => {}
        Some(Value::SortedSet(zset)) => zset.for_each_pair(|m, s| pairs.push((m.to_vec(), s))),
        Some(Value::Set(set)) => set.for_each_member(|m| pairs.push((m.to_vec(), 1.0))),
        Some(
            Value::Int(_)
            | Value::Str(_)
            | Value::Mutable(_)
            | Value::List(_)
            | Value::Hash(_)
            | Value::Stream(_)
            | Value::Module(_),
        ) => {
            return Err(CommandError::WrongType);
        }
    }
    let scores = pairs.iter().cloned().collect();
    Ok(Input {
        pairs,
        scores,
        weight: 1.0,
    })
}

fn aggregate_into(target: &mut f64, value: f64, aggregate: Aggregate) {
    match aggregate {
        Aggregate::Sum => {
            *target += value;
            // inf + -inf: Redis stores 0 rather than NaN.
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if value < *target {
                *target = value;
            }
        }
        Aggregate::Max => {
            if value > *target {
                *target = value;
            }
        }
    }
}

/// `weight * score`, with NaN (0 * inf) read as 0 as Redis does.
fn weighted(weight: f64, score: f64) -> f64 {
    let v = weight * score;
    if v.is_nan() { 0.0 } else { v }
}

fn union(inputs: &[Input], aggregate: Aggregate) -> Vec<(Vec<u8>, f64)> {
    let mut acc = ScoreMap::default();
    let mut order: Vec<Vec<u8>> = Vec::new();
    for input in inputs {
        for (member, score) in &input.pairs {
            let value = weighted(input.weight, *score);
            match acc.get_mut(member) {
                Some(target) => aggregate_into(target, value, aggregate),
                None => {
                    acc.insert(member.clone(), value);
                    order.push(member.clone());
                }
            }
        }
    }
    order
        .into_iter()
        .map(|m| {
            let s = acc.get(&m).copied().unwrap_or(0.0);
            (m, s)
        })
        .collect()
}

fn inter(
    inputs: &[Input],
    aggregate: Aggregate,
    count_only: bool,
    limit: usize,
) -> Vec<(Vec<u8>, f64)> {
    let mut out = Vec::new();
    let Some((first, others)) = inputs.split_first() else {
        return out;
    };
    'members: for (member, score) in &first.pairs {
        let mut total = weighted(first.weight, *score);
        for other in others {
            let Some(s) = other.score(member) else {
                continue 'members;
            };
            // Redis does not turn this product's NaN into 0.
            aggregate_into(&mut total, s * other.weight, aggregate);
        }
        out.push((
            if count_only {
                Vec::new()
            } else {
                member.clone()
            },
            total,
        ));
        if count_only && limit > 0 && out.len() >= limit {
            break;
        }
    }
    out
}

fn diff(inputs: &[Input]) -> Vec<(Vec<u8>, f64)> {
    let Some((first, others)) = inputs.split_first() else {
        return Vec::new();
    };
    first
        .pairs
        .iter()
        .filter(|(m, _)| others.iter().all(|o| o.score(m).is_none()))
        .cloned()
        .collect()
}

/// Sorts pairs into sorted-set order: score, then member bytes.
fn sort_pairs(pairs: &mut [(Vec<u8>, f64)]) {
    pairs.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_of_opposite_infinities_is_zero() {
        let mut t = f64::INFINITY;
        aggregate_into(&mut t, f64::NEG_INFINITY, Aggregate::Sum);
        assert_eq!(t, 0.0);
        assert_eq!(weighted(0.0, f64::INFINITY), 0.0);
    }
}
