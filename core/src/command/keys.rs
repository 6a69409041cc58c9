//! Finding a command's keys in its arguments from its key specs (`COMMAND GETKEYS`, and later
//! ACL key patterns and cluster slots), as Redis 7's `getKeysUsingKeySpecs` does.

use bytes::Bytes;

use super::spec::{BeginSearch, FindKeys};
use super::table::Command;
use crate::types::parse_canonical_i64;

/// One key found in an argument vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRef {
    /// Its index in argv.
    pub index: usize,
    /// The [`super::KeyFlag`] bits of the spec that found it.
    pub flags: u16,
}

/// The keys of `argv` for `command`. An argument vector too short for the specs (possible for
/// commands with a minimum arity) yields no keys at all: the command itself will report it.
pub fn find_keys(command: &Command, argv: &[Bytes]) -> Vec<KeyRef> {
    let argc = argv.len() as i64;
    let mut keys = Vec::new();
    for spec in command.spec.key_specs {
        let first = match spec.begin {
            BeginSearch::Index(pos) => i64::from(pos),
            BeginSearch::Keyword {
                keyword,
                start_from,
            } => {
                let start_from = i64::from(start_from);
                let (start, end, step) = if start_from > 0 {
                    (start_from, argc - 1, 1)
                } else {
                    (argc + start_from, 1, -1)
                };
                let mut found = None;
                let mut i = start;
                while (step > 0 && i <= end) || (step < 0 && i >= end) {
                    if i < 1 || i >= argc {
                        break;
                    }
                    if argv[i as usize].eq_ignore_ascii_case(keyword.as_bytes()) {
                        found = Some(i + 1);
                        break;
                    }
                    i += step;
                }
                match found {
                    Some(first) => first,
                    None => continue,
                }
            }
            BeginSearch::Unknown => continue,
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
                } else if limit <= 1 {
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
                let Some(count_arg) = usize::try_from(first + i64::from(key_num_index))
                    .ok()
                    .and_then(|i| argv.get(i))
                else {
                    return Vec::new();
                };
                let Some(count) = parse_canonical_i64(count_arg).filter(|n| *n >= 0) else {
                    return Vec::new();
                };
                let first = first + i64::from(first_key);
                let step = i64::from(step);
                (first, first + (count - 1) * step, step)
            }
            FindKeys::Unknown => continue,
        };
        if step <= 0 {
            continue;
        }
        let mut i = first;
        while i <= last {
            if i < 1 || i >= argc {
                return Vec::new();
            }
            keys.push(KeyRef {
                index: i as usize,
                flags: spec.flags,
            });
            i += step;
        }
    }
    keys
}
