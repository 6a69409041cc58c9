//! HyperLogLog counters on strings: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.
//!
//! A HyperLogLog is an ordinary string value in Redis's own format ([`sketch`]), so GET, SET,
//! APPEND and SETRANGE see its bytes, and a value copied from real Redis counts the same here.
//! The commands check the header before use ("Key is not a valid HyperLogLog string value"
//! otherwise) and report registers that do not decode as `INVALIDOBJ`. Writers keep the value
//! as `Value::Mutable` (Redis's `raw` string), changed in place.

mod selftest;
mod sketch;

use oxidis_protocol::Frame;

use crate::command::{
    Arg, Args, Arity, CommandResult, CommandSpec, Family, Flag::*, Group, KeyFlag::*, KeySpec,
};
use crate::context::CommandContext;
use crate::db::Ttl;
use crate::errors::CommandError;
use crate::errors::hyperloglog::{CORRUPTED, NO_SUCH_KEY, NOT_HLL, NOT_SPARSE, unknown_pfdebug};
use crate::events::class;
use crate::families::count_reply;
use crate::types::Value;
use sketch::{Corrupt, REGISTERS, Registers};

/// The hyperloglog family.
pub static FAMILY: Family = Family {
    group: Group::HyperLogLog,
    commands: &[
        CommandSpec::new("pfadd", Arity::AtLeast(2), pfadd)
            .flags(&[Write, DenyOom, Fast])
            .keys(&[KeySpec::single(1, &[Rw, Insert])])
            .doc(
                "Adds elements to a HyperLogLog, creating it if needed.",
                "2.8.9",
                "O(1) to add every element.",
            )
            .args(&[
                Arg::key("key", 0),
                Arg::string("element").optional().multiple(),
            ]),
        // A read command whose key spec says RW: counting may rewrite the cached cardinality.
        CommandSpec::new("pfcount", Arity::AtLeast(2), pfcount)
            .flags(&[ReadOnly, MayReplicate])
            .keys(&[KeySpec::range(1, -1, 1, &[Rw, Access])])
            .doc(
                "Returns the estimated number of distinct elements added to one HyperLogLog, or \
                 to the union of several.",
                "2.8.9",
                "O(1) with a very small average constant time when called with a single key. \
                 O(N) with N being the number of keys, and much bigger constant times, when \
                 called with multiple keys.",
            )
            .args(&[Arg::key("key", 0).multiple()]),
        CommandSpec::new("pfmerge", Arity::AtLeast(2), pfmerge)
            .flags(&[Write, DenyOom])
            .keys(&[
                KeySpec::single(1, &[Rw, Access, Insert]),
                KeySpec::range(2, -1, 1, &[Ro, Access]),
            ])
            .doc(
                "Merges HyperLogLogs into one, which is created if needed.",
                "2.8.9",
                "O(N) to merge N HyperLogLogs, but with high constant times.",
            )
            .args(&[Arg::key("destkey", 0), Arg::key("sourcekey", 1).multiple()]),
        CommandSpec::new("pfdebug", Arity::Exact(3), pfdebug)
            .flags(&[Write, DenyOom, Admin])
            .keys(&[KeySpec::single(2, &[Rw, Access])])
            .doc(
                "Internal commands for debugging HyperLogLog values.",
                "2.8.9",
                "N/A",
            )
            .args(&[Arg::string("subcommand"), Arg::key("key", 0)]),
        CommandSpec::new("pfselftest", Arity::Exact(1), pfselftest)
            .flags(&[Admin])
            .doc(
                "An internal command for testing HyperLogLog values.",
                "2.8.9",
                "N/A",
            ),
    ],
};

// ---------------------------------------------------------------------------------------------
// Handlers, in table order.

fn pfadd(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let elements = args.rest();
    let max_bytes = ctx.config().hll_sparse_max_bytes;
    let updated = match ctx.lookup_write(key) {
        None => {
            let mut hll = sketch::new_sparse();
            // Creating the key counts as one change.
            let added = add_elements(&mut hll, elements, max_bytes)?;
            sketch::invalidate(&mut hll);
            ctx.set(key, Value::Mutable(Box::new(hll)), Ttl::Clear);
            ctx.changed(added);
            added + 1
        }
        Some(pos) => {
            let hll = hll_mut(&mut ctx.db().entry_mut(pos).value)?;
            let added = add_elements(hll, elements, max_bytes)?;
            if added > 0 {
                sketch::invalidate(hll);
                ctx.changed(added);
            }
            added
        }
    };
    if updated == 0 {
        return Ok(Frame::Integer(0));
    }
    ctx.notify(class::STRING, "pfadd", key);
    Ok(Frame::Integer(1))
}

fn pfcount(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let keys = args.rest();
    if let [key] = keys {
        return count_one(ctx, key);
    }
    // Several keys: the estimate of their union, computed in a scratch register array.
    let mut union: Box<Registers> = Box::new([0; REGISTERS]);
    for key in keys {
        let Some(value) = ctx.read(key) else {
            continue;
        };
        sketch::merge_into(&mut union, hll_bytes(value)?).map_err(corrupted)?;
    }
    let histogram = sketch::registers_histogram(&union);
    Ok(count_reply(sketch::estimate(&histogram)))
}

fn pfmerge(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let keys = args.rest();
    let mut union: Box<Registers> = Box::new([0; REGISTERS]);
    // The destination is merged too: Redis reads every argument as a source.
    let mut any_dense = false;
    for key in keys {
        let Some(value) = ctx.read(key) else {
            continue;
        };
        let hll = hll_bytes(value)?;
        any_dense |= sketch::is_dense(hll);
        sketch::merge_into(&mut union, hll).map_err(corrupted)?;
    }
    let dest = &keys[0];
    let max_bytes = ctx.config().hll_sparse_max_bytes;
    match ctx.lookup_write(dest) {
        None => {
            let mut hll = sketch::new_sparse();
            store_union(&mut hll, &union, any_dense, max_bytes)?;
            ctx.set(dest, Value::Mutable(Box::new(hll)), Ttl::Clear);
        }
        Some(pos) => {
            let hll = hll_mut(&mut ctx.db().entry_mut(pos).value)?;
            store_union(hll, &union, any_dense, max_bytes)?;
            ctx.changed(1);
        }
    }
    // Redis raises "pfadd" here: a merge is a mass add.
    ctx.notify(class::STRING, "pfadd", dest);
    Ok(Frame::ok())
}

fn pfdebug(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let sub = args.next_bytes()?;
    let key = args.next_bytes()?;
    // The key is checked before the subcommand is read.
    let Some(pos) = ctx.lookup_write(key) else {
        return Err(CommandError::msg(NO_SUCH_KEY));
    };
    let hll = hll_mut(&mut ctx.db().entry_mut(pos).value)?;
    let (reply, converted) = if sub.eq_ignore_ascii_case(b"getreg") {
        let converted = sketch::make_dense(hll).map_err(corrupted)?;
        let registers = &hll[sketch::HEADER_LEN..];
        let values = (0..REGISTERS)
            .map(|i| Frame::Integer(i64::from(sketch::dense_get(registers, i))))
            .collect();
        (Frame::Array(values), converted)
    } else if sub.eq_ignore_ascii_case(b"decode") {
        if sketch::is_dense(hll) {
            return Err(CommandError::msg(NOT_SPARSE));
        }
        (Frame::bulk(sketch::decode(hll)), false)
    } else if sub.eq_ignore_ascii_case(b"encoding") {
        let name = if sketch::is_dense(hll) {
            "dense"
        } else {
            "sparse"
        };
        (Frame::simple_static(name), false)
    } else if sub.eq_ignore_ascii_case(b"todense") {
        let converted = sketch::make_dense(hll).map_err(corrupted)?;
        (Frame::Integer(i64::from(converted)), converted)
    } else {
        let sub = String::from_utf8_lossy(sub);
        return Err(CommandError::Message(unknown_pfdebug(&sub).into()));
    };
    if converted {
        ctx.changed(1);
    }
    Ok(reply)
}

fn pfselftest(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    args.finish()?;
    let seed = ctx.now_ms() ^ ctx.client_id().rotate_left(32);
    let max_bytes = ctx.config().hll_sparse_max_bytes;
    selftest::run(seed, max_bytes)
}

// ---------------------------------------------------------------------------------------------
// Helpers.

/// The single-key PFCOUNT: the cached cardinality, or a fresh estimate that is then cached
/// (a write, though PFCOUNT is a read command: WATCHers of the key see it change, as in Redis).
fn count_one(ctx: &mut CommandContext<'_>, key: &[u8]) -> CommandResult {
    let Some(pos) = ctx.lookup_read(key) else {
        return Ok(Frame::Integer(0));
    };
    let hll = hll_mut(&mut ctx.db().entry_mut(pos).value)?;
    if let Some(count) = sketch::cached_count(hll) {
        return Ok(count_reply(count));
    }
    let count = sketch::estimate(&sketch::histogram(hll).map_err(corrupted)?);
    sketch::store_count(hll, count);
    let db = ctx.db_index();
    crate::transactions::touch(ctx.server, db, key);
    ctx.changed(1);
    Ok(count_reply(count))
}

/// Adds each element; how many grew a register.
fn add_elements(
    hll: &mut Vec<u8>,
    elements: &[bytes::Bytes],
    max_bytes: u64,
) -> Result<u64, CommandError> {
    let mut added = 0;
    for element in elements {
        if sketch::add(hll, element, max_bytes).map_err(corrupted)? {
            added += 1;
        }
    }
    Ok(added)
}

/// PFMERGE's write: the destination turns dense first if any input was dense, then takes every
/// non-zero register of the union in order (a sparse one may turn dense on the way).
fn store_union(
    hll: &mut Vec<u8>,
    union: &Registers,
    any_dense: bool,
    max_bytes: u64,
) -> Result<(), CommandError> {
    if any_dense {
        sketch::make_dense(hll).map_err(corrupted)?;
    }
    for (index, &run) in union.iter().enumerate() {
        if run != 0 {
            // The destination decoded as a source already; Redis ignores failures here.
            let _ = sketch::raise_register(hll, index, run, max_bytes);
        }
    }
    sketch::invalidate(hll);
    Ok(())
}

/// The bytes of a HyperLogLog value, after Redis's header checks.
fn hll_bytes(value: &Value) -> Result<&[u8], CommandError> {
    let bytes: &[u8] = match value {
        Value::Str(s) => s.as_slice(),
        Value::Mutable(v) => v,
        // An integer-encoded string is never a HyperLogLog.
        Value::Int(_) => return Err(CommandError::msg(NOT_HLL)),
        _ => return Err(CommandError::WrongType),
    };
    if sketch::has_valid_header(bytes) {
        Ok(bytes)
    } else {
        Err(CommandError::msg(NOT_HLL))
    }
}

/// [`hll_bytes`] for changing: the value becomes the growable string form first (Redis's
/// `dbUnshareStringValue`).
fn hll_mut(value: &mut Value) -> Result<&mut Vec<u8>, CommandError> {
    hll_bytes(value)?;
    if let Value::Str(s) = value {
        *value = Value::Mutable(Box::new(s.as_slice().to_vec()));
    }
    match value {
        Value::Mutable(bytes) => Ok(bytes),
        _ => Err(CommandError::msg(NOT_HLL)),
    }
}

fn corrupted(_: Corrupt) -> CommandError {
    CommandError::msg(CORRUPTED)
}

#[cfg(test)]
mod tests;
