//! [`Reply`]: a command's reply as a Rust tree, and its flat ABI form ([`Token`]s in prefix
//! order).

use crate::abi::Token;
use abi_stable::std_types::{RString, RVec};

/// A reply, RESP3-shaped; the server downgrades maps, sets, doubles, booleans and verbatim
/// strings for RESP2 clients as Redis does.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+OK`-style status.
    Simple(String),
    /// An error; the text starts with its code (`ERR`, `WRONGTYPE`...).
    Error(String),
    /// An integer.
    Int(i64),
    /// A bulk string.
    Bulk(Vec<u8>),
    /// The null bulk string.
    Null,
    /// The null array.
    NullArray,
    /// An array.
    Array(Vec<Reply>),
    /// A map (a flat array in RESP2).
    Map(Vec<(Reply, Reply)>),
    /// A set (an array in RESP2).
    Set(Vec<Reply>),
    /// A double (a bulk string in RESP2).
    Double(f64),
    /// A boolean (1 or 0 in RESP2).
    Bool(bool),
    /// Verbatim text: 3-letter format (`txt`, `mkd`) and bytes.
    Verbatim(String, Vec<u8>),
}

impl Reply {
    /// `+OK`.
    pub fn ok() -> Reply {
        Reply::Simple("OK".into())
    }

    /// The bytes of a bulk, simple or verbatim reply; None for anything else.
    pub fn into_bytes(self) -> Option<Vec<u8>> {
        match self {
            Reply::Bulk(b) | Reply::Verbatim(_, b) => Some(b),
            Reply::Simple(s) => Some(s.into_bytes()),
            _ => None,
        }
    }

    /// The flat ABI form.
    pub fn into_tokens(self) -> RVec<Token> {
        let mut out = RVec::new();
        self.push_tokens(&mut out);
        out
    }

    /// Appends the flat ABI form to `out`.
    pub fn push_tokens(self, out: &mut RVec<Token>) {
        let len = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        match self {
            Reply::Simple(s) => out.push(Token::Simple(s.into())),
            Reply::Error(s) => out.push(Token::Error(s.into())),
            Reply::Int(n) => out.push(Token::Int(n)),
            Reply::Bulk(b) => out.push(Token::Bulk(b.into())),
            Reply::Null => out.push(Token::Null),
            Reply::NullArray => out.push(Token::NullArray),
            Reply::Array(items) => {
                out.push(Token::Array(len(items.len())));
                items.into_iter().for_each(|r| r.push_tokens(out));
            }
            Reply::Set(items) => {
                out.push(Token::Set(len(items.len())));
                items.into_iter().for_each(|r| r.push_tokens(out));
            }
            Reply::Map(pairs) => {
                out.push(Token::Map(len(pairs.len())));
                for (k, v) in pairs {
                    k.push_tokens(out);
                    v.push_tokens(out);
                }
            }
            Reply::Double(d) => out.push(Token::Double(d)),
            Reply::Bool(b) => out.push(Token::Bool(b)),
            Reply::Verbatim(f, t) => out.push(Token::Verbatim(RString::from(f), t.into())),
        }
    }

    /// Rebuilds a reply from its flat form (a truncated list yields `Null`s).
    pub fn from_tokens(tokens: &[Token]) -> Reply {
        let mut iter = tokens.iter();
        Reply::take(&mut iter)
    }

    fn take(iter: &mut std::slice::Iter<'_, Token>) -> Reply {
        let count = |n: &u64| usize::try_from(*n).unwrap_or(0);
        match iter.next() {
            None | Some(Token::Null) => Reply::Null,
            Some(Token::NullArray) => Reply::NullArray,
            Some(Token::Simple(s)) => Reply::Simple(s.to_string()),
            Some(Token::Error(s)) => Reply::Error(s.to_string()),
            Some(Token::Int(n)) => Reply::Int(*n),
            Some(Token::Bulk(b)) => Reply::Bulk(b.to_vec()),
            Some(Token::Double(d)) => Reply::Double(*d),
            Some(Token::Bool(b)) => Reply::Bool(*b),
            Some(Token::Verbatim(f, t)) => Reply::Verbatim(f.to_string(), t.to_vec()),
            Some(Token::Array(n)) => {
                Reply::Array((0..count(n)).map(|_| Reply::take(iter)).collect())
            }
            Some(Token::Set(n)) => Reply::Set((0..count(n)).map(|_| Reply::take(iter)).collect()),
            Some(Token::Map(n)) => Reply::Map(
                (0..count(n))
                    .map(|_| (Reply::take(iter), Reply::take(iter)))
                    .collect(),
            ),
        }
    }
}
