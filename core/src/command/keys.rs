//! Finding a command's keys in its arguments (`COMMAND GETKEYS`, and later ACL key patterns and
//! cluster slots), following Redis 7.0's `getKeysFromCommandWithSpecs`: the key specs when they
//! can be trusted, otherwise the command's own [`KeyFinder`].
//!
//! The finders below belong to commands whose keys the specs cannot fully describe. A family
//! attaches one with [`super::CommandSpec::key_finder`]; finders for commands that have no family
//! yet wait here, named, for the family that will register them.

use bytes::Bytes;

use super::spec::{BeginSearch, CommandSpec, FindKeys, KeyFlag, KeySpec};
use super::table::Command;
use crate::types::parse_canonical_i64;

/// One key found in an argument vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRef {
    /// Its index in argv.
    pub index: usize,
    /// The [`KeyFlag`] bits of the spec (or finder) that found it.
    pub flags: u16,
}

/// A command's own key finder (Redis's `getkeys_proc`): the keys of a full argument vector, or
/// `None` when the arguments are malformed and the command itself will refuse them.
pub type KeyFinder = fn(&[Bytes]) -> Option<Vec<KeyRef>>;

/// Whether any key spec of `spec` names real keys (not `not_key`, such as SPUBLISH's channel).
pub fn has_key_specs(spec: &CommandSpec) -> bool {
    spec.key_specs
        .iter()
        .any(|k| k.flags & KeyFlag::NotKey.bit() == 0)
}

/// The keys of `argv` (command name included) for `command`. The key specs come first when
/// they can be trusted (none has `variable_flags`) and the arguments fit them; otherwise the
/// command's own finder decides. `None` means "cannot tell": the specs could not be followed
/// and there is no finder, or the finder found the arguments malformed.
pub fn find_keys(command: &Command, argv: &[Bytes]) -> Option<Vec<KeyRef>> {
    let spec = &command.spec;
    let variable_flags = spec
        .key_specs
        .iter()
        .any(|k| k.flags & KeyFlag::VariableFlags.bit() != 0);
    if has_key_specs(spec)
        && !variable_flags
        && let Some(keys) = keys_from_specs(spec.key_specs, argv)
    {
        return Some(keys);
    }
    spec.getkeys.and_then(|find| find(argv))
}

/// Walks the key specs over `argv`, as Redis's `getKeysUsingKeySpecs` does: `not_key` specs
/// are skipped, a keyword that is absent means no keys from that spec, and `None` when a spec
/// cannot be followed (an unknown part, an incomplete spec, a bad key count, keys beyond the
/// arguments).
fn keys_from_specs(specs: &[KeySpec], argv: &[Bytes]) -> Option<Vec<KeyRef>> {
    let argc = i64::try_from(argv.len()).ok()?;
    let mut keys = Vec::new();
    for spec in specs {
        if spec.flags & KeyFlag::NotKey.bit() != 0 {
            continue;
        }
        let first = match spec.begin {
            BeginSearch::Index(pos) => i64::from(pos),
            BeginSearch::Keyword {
                keyword,
                start_from,
            } => match keyword_position(argv, keyword, i64::from(start_from)) {
                Some(found) => found + 1,
                None => continue,
            },
            BeginSearch::Unknown => return None,
        };
        let (first, last, step) = match spec.find {
            FindKeys::Range {
                last_key,
                step,
                limit,
            } => {
                let last_key = i64::from(last_key);
                let last = if last_key >= 0 {
                    first + last_key
                } else if limit == 0 {
                    argc + last_key
                } else {
                    first + ((argc - first) / i64::from(limit) + last_key)
                };
                (first, last, i64::from(step))
            }
            FindKeys::KeyNum {
                key_num_index,
                first_key,
                step,
            } => {
                let count_at = usize::try_from(first + i64::from(key_num_index)).ok()?;
                let count = parse_canonical_i64(argv.get(count_at)?)?;
                if count < 0 {
                    return None;
                }
                let first = first + i64::from(first_key);
                (first, first.saturating_add(count - 1), i64::from(step))
            }
            FindKeys::Unknown => return None,
        };
        if last >= argc || last < first || first >= argc || first < 1 || step < 1 {
            return None;
        }
        let mut i = first;
        while i <= last {
            keys.push(KeyRef {
                index: usize::try_from(i).ok()?,
                flags: spec.flags,
            });
            i += step;
        }
        if spec.flags & KeyFlag::Incomplete.bit() != 0 {
            return None;
        }
    }
    Some(keys)
}

/// Where `keyword` is, searching forward from `start_from` or, when it is negative, backward
/// from that far before the end; never at index 0.
fn keyword_position(argv: &[Bytes], keyword: &str, start_from: i64) -> Option<i64> {
    let argc = i64::try_from(argv.len()).ok()?;
    let matches = |i: i64| {
        usize::try_from(i)
            .ok()
            .and_then(|i| argv.get(i))
            .is_some_and(|a| a.eq_ignore_ascii_case(keyword.as_bytes()))
    };
    // Redis stops before the last argument going forward and before index 1 going backward
    // (a keyword there could not be followed by a key).
    if start_from > 0 {
        (start_from..argc - 1).find(|&i| matches(i))
    } else {
        let start = argc + start_from;
        if start >= argc {
            return None;
        }
        (2..=start).rev().find(|&i| matches(i))
    }
}

// ---------------------------------------------------------------------------------------------
// Per-command finders.

fn key_at(index: usize, flags: &[KeyFlag]) -> KeyRef {
    KeyRef {
        index,
        flags: KeyFlag::set_of(flags),
    }
}

/// SET key value [... GET ...]: the key is read as well as written when GET is given.
pub fn set_keys(argv: &[Bytes]) -> Option<Vec<KeyRef>> {
    let has_get = argv.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"get"));
    let flags: &[KeyFlag] = if has_get {
        &[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update]
    } else {
        &[KeyFlag::Ow, KeyFlag::Update]
    };
    Some(vec![key_at(1, flags)])
}

/// ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE dest numkeys key...: the counted keys, then `dest`.
/// For the sorted-set family, which will attach it with `.key_finder(...)`.
pub fn store_and_counted_keys(argv: &[Bytes]) -> Option<Vec<KeyRef>> {
    counted_keys(argv, Some(1), 2, 3)
}

/// ZUNION, ZINTER, ZDIFF, ZINTERCARD, SINTERCARD, LMPOP, ZMPOP: `numkeys key...` after the
/// name. For the sorted-set, set and list families, which will attach it with
/// `.key_finder(...)`.
pub fn counted_keys_at_1(argv: &[Bytes]) -> Option<Vec<KeyRef>> {
    counted_keys(argv, None, 1, 2)
}

/// EVAL, EVALSHA (and `_RO`), FCALL (and `_RO`), BLMPOP, BZMPOP: `numkeys key...` after one
/// argument (the script, function or timeout). For the scripting, list and sorted-set
/// families, which will attach it with `.key_finder(...)`.
pub fn counted_keys_at_2(argv: &[Bytes]) -> Option<Vec<KeyRef>> {
    counted_keys(argv, None, 2, 3)
}

/// `[dest] numkeys key...`: the counted keys, then the destination. The count is read as
/// leniently as C's `atoi`; a count that does not fit means malformed arguments.
fn counted_keys(
    argv: &[Bytes],
    dest: Option<usize>,
    count_at: usize,
    first: usize,
) -> Option<Vec<KeyRef>> {
    let count = argv.get(count_at).map_or(0, |a| atoi(a));
    let available = argv.len().saturating_sub(first);
    let count = usize::try_from(count)
        .ok()
        .filter(|&n| n >= 1 && n <= available)?;
    let mut keys: Vec<KeyRef> = (first..first + count).map(|i| key_at(i, &[])).collect();
    keys.extend(dest.map(|d| key_at(d, &[])));
    Some(keys)
}

/// C's `atoi`: leading spaces, a sign, then digits up to the first non-digit; 0 for junk.
fn atoi(text: &[u8]) -> i64 {
    let text = text.trim_ascii_start();
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let value = digits
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0i64, |n, d| {
            n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    if negative { -value } else { value }
}

/// SORT key [BY p] [LIMIT o c] [GET p ...] [STORE dest]: the last STORE wins. For the
/// generic family, which will attach it with `.key_finder(...)`.
pub fn sort_keys(argv: &[Bytes]) -> Option<Vec<KeyRef>> {
    let mut store = None;
    let mut i = 2;
    while i < argv.len() {
        let arg = &argv[i];
        if arg.eq_ignore_ascii_case(b"limit") {
            i += 2;
        } else if arg.eq_ignore_ascii_case(b"get") || arg.eq_ignore_ascii_case(b"by") {
            i += 1;
        } else if arg.eq_ignore_ascii_case(b"store") && i + 1 < argv.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    let mut keys = vec![key_at(1, &[KeyFlag::Ro, KeyFlag::Access])];
    keys.extend(store.map(|s| key_at(s, &[KeyFlag::Ow, KeyFlag::Update])));
    Some(keys)
}

/// SORT_RO key ...: only the key. For the generic family, which will attach it with
/// `.key_finder(...)`.
pub fn sort_ro_keys(_argv: &[Bytes]) -> Option<Vec<KeyRef>> {
    Some(vec![key_at(1, &[KeyFlag::Ro, KeyFlag::Access])])
}

/// MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw] [KEYS k...].
/// For the generic family, which will attach it with `.key_finder(...)`.
pub fn migrate_keys(argv: &[Bytes]) -> Option<Vec<KeyRef>> {
    let (mut first, mut count) = (3, 1);
    let mut i = 6;
    while i < argv.len() {
        let arg = &argv[i];
        if arg.eq_ignore_ascii_case(b"keys") {
            // KEYS with a key in the key position is a syntax error the command reports.
            if !argv.get(3).is_some_and(Bytes::is_empty) {
                return None;
            }
            first = i + 1;
            count = argv.len() - first;
            break;
        }
        if arg.eq_ignore_ascii_case(b"auth") {
            i += 1;
        } else if arg.eq_ignore_ascii_case(b"auth2") {
            i += 2;
        }
        i += 1;
    }
    let flags = &[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete];
    Some((first..first + count).map(|i| key_at(i, flags)).collect())
}

/// GEORADIUS/GEORADIUSBYMEMBER key ... [STORE dest | STOREDIST dest]: the last store option
/// wins. For the geo family, which will attach it with `.key_finder(...)`.
pub fn georadius_keys(argv: &[Bytes]) -> Option<Vec<KeyRef>> {
    let mut stored = None;
    let mut i = 5;
    while i < argv.len() {
        let arg = &argv[i];
        if (arg.eq_ignore_ascii_case(b"store") || arg.eq_ignore_ascii_case(b"storedist"))
            && i + 1 < argv.len()
        {
            stored = Some(i + 1);
            i += 1;
        }
        i += 1;
    }
    let mut keys = vec![key_at(1, &[])];
    keys.extend(stored.map(|s| key_at(s, &[])));
    Some(keys)
}

/// XREAD/XREADGROUP [options] STREAMS key... id...: half of what follows STREAMS. For the
/// stream family, which will attach it with `.key_finder(...)`.
pub fn xread_keys(argv: &[Bytes]) -> Option<Vec<KeyRef>> {
    let mut streams = None;
    let mut i = 1;
    while i < argv.len() {
        let arg = &argv[i];
        if arg.eq_ignore_ascii_case(b"block") || arg.eq_ignore_ascii_case(b"count") {
            i += 1;
        } else if arg.eq_ignore_ascii_case(b"group") {
            i += 2;
        } else if arg.eq_ignore_ascii_case(b"streams") {
            streams = Some(i);
            break;
        } else if !arg.eq_ignore_ascii_case(b"noack") {
            break;
        }
        i += 1;
    }
    let streams = streams?;
    let rest = argv.len() - streams - 1;
    if rest == 0 || !rest.is_multiple_of(2) {
        return None;
    }
    Some(
        (streams + 1..streams + 1 + rest / 2)
            .map(|i| key_at(i, &[]))
            .collect(),
    )
}

/// BITFIELD key ops...: read-only when only GET (and OVERFLOW) operations are well-formed.
/// For the bitmap family, which will attach it with `.key_finder(...)`.
pub fn bitfield_keys(argv: &[Bytes]) -> Option<Vec<KeyRef>> {
    let mut read_only = true;
    let mut i = 2;
    while i < argv.len() {
        let arg = &argv[i];
        let remaining = argv.len() - i - 1;
        if arg.eq_ignore_ascii_case(b"get") && remaining >= 2 {
            i += 2;
        } else if arg.eq_ignore_ascii_case(b"overflow") && remaining >= 1 {
            i += 1;
        } else {
            // SET/INCRBY, or a malformed operation: assume a write, as Redis does.
            read_only = false;
            break;
        }
        i += 1;
    }
    let flags: &[KeyFlag] = if read_only {
        &[KeyFlag::Ro, KeyFlag::Access]
    } else {
        &[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update]
    };
    Some(vec![key_at(1, flags)])
}
