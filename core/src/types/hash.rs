//! `Hash`: field/value pairs, packed in a [`Listpack`] (field, value, field, value...) while
//! small (`hash-max-listpack-entries`/`-value`), a hash table beyond — the two encodings Redis
//! reports as `listpack` and `hashtable`.

use super::Listpack;

/// A hash value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hash {
    /// Small: alternating fields and values.
    Listpack(Listpack),
}

impl Default for Hash {
    fn default() -> Hash {
        Hash::Listpack(Listpack::new())
    }
}

impl Hash {
    /// Number of fields.
    pub fn len(&self) -> usize {
        match self {
            Hash::Listpack(lp) => lp.len() / 2,
        }
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Hash::Listpack(_) => "listpack",
        }
    }

    /// Calls `f` with each field and value, in no particular order.
    pub fn for_each_pair(&self, mut f: impl FnMut(&[u8], &[u8])) {
        match self {
            Hash::Listpack(lp) => {
                let mut entries = lp.iter();
                while let (Some(field), Some(value)) = (entries.next(), entries.next()) {
                    f(field, value);
                }
            }
        }
    }

    /// Heap bytes owned.
    pub fn heap_size(&self) -> usize {
        match self {
            Hash::Listpack(lp) => lp.heap_size(),
        }
    }
}
