//! `Value`: what a key holds. Strings come in the three shapes Redis reports through
//! `OBJECT ENCODING`: `int`, `embstr` and `raw`. Collections are boxed, so a `Value` stays three
//! words whatever it holds — except a set, whose 16-byte header fits in place (saving an
//! allocation per small set of integers). Module types (#9) arrive as more variants.

use super::{CompactBytes, Hash, List, Set, SortedSet, Stream};
use crate::errors::CommandError;

/// Redis keeps strings of up to 44 bytes in the same allocation as their header ("embstr").
pub const EMBSTR_SIZE_LIMIT: usize = 44;

/// A value stored under a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string that is the canonical decimal form of an i64 (`OBJECT ENCODING` says `int`).
    Int(i64),
    /// A string as it was written (`embstr` up to 44 bytes, `raw` above).
    Str(CompactBytes),
    /// A string changed in place by APPEND or SETRANGE, with room to grow (`raw`).
    Mutable(Box<Vec<u8>>),
    /// A list.
    List(Box<List>),
    /// A hash.
    Hash(Box<Hash>),
    /// A set (its header is small enough to live in place).
    Set(Set),
    /// A sorted set.
    SortedSet(Box<SortedSet>),
    /// A stream.
    Stream(Box<Stream>),
    /// A value of a type registered by a module (#9; see [`crate::modules::types`]).
    Module(Box<crate::modules::ModuleValue>),
}

/// The type names `TYPE` and `SCAN ... TYPE` use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// `string`.
    String,
    /// `list`.
    List,
    /// `hash`.
    Hash,
    /// `set`.
    Set,
    /// `zset`.
    SortedSet,
    /// `stream`.
    Stream,
    /// A module type (TYPE answers the type's own name, see [`Value::type_name`]).
    Module,
}

impl ValueType {
    /// The name `TYPE` answers.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::List => "list",
            ValueType::Hash => "hash",
            ValueType::Set => "set",
            ValueType::SortedSet => "zset",
            ValueType::Stream => "stream",
            ValueType::Module => "module",
        }
    }

    /// Parses a `TYPE` name (case-insensitive), as `SCAN ... TYPE` takes it.
    pub fn from_name(name: &[u8]) -> Option<ValueType> {
        [
            ValueType::String,
            ValueType::List,
            ValueType::Hash,
            ValueType::Set,
            ValueType::SortedSet,
            ValueType::Stream,
        ]
        .into_iter()
        .find(|t| name.eq_ignore_ascii_case(t.name().as_bytes()))
    }
}

impl Value {
    /// Stores a string the way Redis's `tryObjectEncoding` would: canonical integers as `Int`.
    pub fn string(bytes: &[u8]) -> Value {
        match parse_canonical_i64(bytes) {
            Some(n) => Value::Int(n),
            None => Value::Str(CompactBytes::new(bytes)),
        }
    }

    /// Stores an owned string, as [`Value::string`] does.
    pub fn string_from_vec(bytes: Vec<u8>) -> Value {
        match parse_canonical_i64(&bytes) {
            Some(n) => Value::Int(n),
            None => Value::Str(CompactBytes::from_vec(bytes)),
        }
    }

    /// The value's type.
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Int(_) | Value::Str(_) | Value::Mutable(_) => ValueType::String,
            Value::List(_) => ValueType::List,
            Value::Hash(_) => ValueType::Hash,
            Value::Set(_) => ValueType::Set,
            Value::SortedSet(_) => ValueType::SortedSet,
            Value::Stream(_) => ValueType::Stream,
            Value::Module(_) => ValueType::Module,
        }
    }

    /// The encoding `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Str(s) if s.len() <= EMBSTR_SIZE_LIMIT => "embstr",
            Value::Str(_) | Value::Mutable(_) => "raw",
            Value::List(list) => list.encoding_name(),
            Value::Hash(hash) => hash.encoding_name(),
            Value::Set(set) => set.encoding_name(),
            Value::SortedSet(zset) => zset.encoding_name(),
            Value::Stream(_) => "stream",
            // Redis creates module objects with the raw encoding.
            Value::Module(_) => "raw",
        }
    }

    /// The name TYPE and SCAN ... TYPE use: the module type's own name for module values.
    pub fn type_name(&self) -> &str {
        match self {
            Value::Module(m) => m.module_type().name(),
            _ => self.value_type().name(),
        }
    }

    /// The list held; WRONGTYPE for any other type.
    pub fn as_list(&self) -> Result<&List, CommandError> {
        match self {
            Value::List(v) => Ok(v),
            _ => Err(CommandError::WrongType),
        }
    }

    /// The list held, for changing; WRONGTYPE for any other type.
    pub fn as_list_mut(&mut self) -> Result<&mut List, CommandError> {
        match self {
            Value::List(v) => Ok(v),
            _ => Err(CommandError::WrongType),
        }
    }

    /// The hash held; WRONGTYPE for any other type.
    pub fn as_hash(&self) -> Result<&Hash, CommandError> {
        match self {
            Value::Hash(v) => Ok(v),
            _ => Err(CommandError::WrongType),
        }
    }

    /// The hash held, for changing; WRONGTYPE for any other type.
    pub fn as_hash_mut(&mut self) -> Result<&mut Hash, CommandError> {
        match self {
            Value::Hash(v) => Ok(v),
            _ => Err(CommandError::WrongType),
        }
    }

    /// The set held; WRONGTYPE for any other type.
    pub fn as_set(&self) -> Result<&Set, CommandError> {
        match self {
            Value::Set(v) => Ok(v),
            _ => Err(CommandError::WrongType),
        }
    }

    /// The set held, for changing; WRONGTYPE for any other type.
    pub fn as_set_mut(&mut self) -> Result<&mut Set, CommandError> {
        match self {
            Value::Set(v) => Ok(v),
            _ => Err(CommandError::WrongType),
        }
    }

    /// The sorted set held; WRONGTYPE for any other type.
    pub fn as_sorted_set(&self) -> Result<&SortedSet, CommandError> {
        match self {
            Value::SortedSet(v) => Ok(v),
            _ => Err(CommandError::WrongType),
        }
    }

    /// The sorted set held, for changing; WRONGTYPE for any other type.
    pub fn as_sorted_set_mut(&mut self) -> Result<&mut SortedSet, CommandError> {
        match self {
            Value::SortedSet(v) => Ok(v),
            _ => Err(CommandError::WrongType),
        }
    }

    /// The stream held; WRONGTYPE for any other type.
    pub fn as_stream(&self) -> Result<&Stream, CommandError> {
        match self {
            Value::Stream(v) => Ok(v),
            _ => Err(CommandError::WrongType),
        }
    }

    /// The stream held, for changing; WRONGTYPE for any other type.
    pub fn as_stream_mut(&mut self) -> Result<&mut Stream, CommandError> {
        match self {
            Value::Stream(v) => Ok(v),
            _ => Err(CommandError::WrongType),
        }
    }

    /// Whether this is a string value.
    pub fn is_string(&self) -> bool {
        self.value_type() == ValueType::String
    }

    /// Writes the string form into `out` (integers in decimal); `None` for non-strings.
    pub fn with_string_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        match self {
            Value::Int(n) => Some(f(itoa::Buffer::new().format(*n).as_bytes())),
            Value::Str(s) => Some(f(s.as_slice())),
            Value::Mutable(v) => Some(f(v.as_slice())),
            Value::List(_)
            | Value::Hash(_)
            | Value::Set(_)
            | Value::SortedSet(_)
            | Value::Stream(_)
            | Value::Module(_) => None,
        }
    }

    /// The string as an owned vector, for commands that change it in place.
    pub fn to_string_vec(&self) -> Option<Vec<u8>> {
        self.with_string_bytes(<[u8]>::to_vec)
    }

    /// The string's length in bytes (`STRLEN`).
    pub fn string_len(&self) -> Option<usize> {
        match self {
            Value::Int(n) => Some(itoa::Buffer::new().format(*n).len()),
            Value::Str(s) => Some(s.len()),
            Value::Mutable(v) => Some(v.len()),
            Value::List(_)
            | Value::Hash(_)
            | Value::Set(_)
            | Value::SortedSet(_)
            | Value::Stream(_)
            | Value::Module(_) => None,
        }
    }

    /// Heap bytes owned by the value, for MEMORY USAGE and eviction accounting.
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Int(_) => 0,
            Value::Str(s) => s.heap_size(),
            Value::Mutable(v) => v.capacity() + std::mem::size_of::<Vec<u8>>(),
            Value::List(list) => std::mem::size_of::<List>() + list.heap_size(),
            Value::Hash(hash) => std::mem::size_of::<Hash>() + hash.heap_size(),
            Value::Set(set) => set.heap_size(),
            Value::SortedSet(zset) => std::mem::size_of::<SortedSet>() + zset.heap_size(),
            Value::Stream(stream) => std::mem::size_of::<Stream>() + stream.heap_size(),
            Value::Module(m) => m.mem_usage(),
        }
    }
}

/// Parses `bytes` as an i64 only when it is the number's canonical spelling (no sign on zero, no
/// leading zeros or spaces), as Redis's `string2ll` requires; at most 20 characters.
pub fn parse_canonical_i64(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || bytes.len() > 20 {
        return None;
    }
    let (negative, digits) = match bytes {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, bytes),
    };
    match digits {
        [] => return None,
        [b'0'] if !negative => return Some(0),
        [b'0', ..] => return None,
        _ => {}
    }
    let mut n: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        let d = i64::from(b - b'0');
        n = n.checked_mul(10)?;
        n = if negative {
            n.checked_sub(d)?
        } else {
            n.checked_add(d)?
        };
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_is_three_words() {
        assert_eq!(std::mem::size_of::<Value>(), 24);
    }

    #[test]
    fn canonical_integers_only() {
        assert_eq!(parse_canonical_i64(b"0"), Some(0));
        assert_eq!(parse_canonical_i64(b"-12"), Some(-12));
        assert_eq!(parse_canonical_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_canonical_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_canonical_i64(b"9223372036854775808"), None);
        assert_eq!(parse_canonical_i64(b"-0"), None);
        assert_eq!(parse_canonical_i64(b"01"), None);
        assert_eq!(parse_canonical_i64(b" 1"), None);
        assert_eq!(parse_canonical_i64(b"+1"), None);
        assert_eq!(parse_canonical_i64(b""), None);
    }

    #[test]
    fn encodings_follow_redis() {
        assert_eq!(Value::string(b"12").encoding_name(), "int");
        assert_eq!(Value::string(&[b'a'; 44]).encoding_name(), "embstr");
        assert_eq!(Value::string(&[b'a'; 45]).encoding_name(), "raw");
        assert_eq!(
            Value::Mutable(Box::new(b"a".to_vec())).encoding_name(),
            "raw"
        );
    }
}
