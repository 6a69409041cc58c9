//! `CompactBytes`: a byte string that keeps up to [`CompactBytes::INLINE_CAPACITY`] bytes inside
//! itself and only allocates beyond that. Keys and short values use it, so the common small key
//! costs no allocation at all (Redis spends a separate allocation on each).

use std::fmt;

/// A byte string of 24 bytes: short contents inline, long contents in one exact-size heap block.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CompactBytes {
    /// Up to 22 bytes, stored in place.
    Inline {
        /// How many bytes of `data` are used.
        len: u8,
        /// The bytes; those past `len` are zero.
        data: [u8; CompactBytes::INLINE_CAPACITY],
    },
    /// Longer contents, in a boxed slice with no spare capacity.
    Heap(Box<[u8]>),
}

impl CompactBytes {
    /// The most bytes kept inline.
    pub const INLINE_CAPACITY: usize = 22;

    /// Copies `bytes` in, inline when they fit.
    pub fn new(bytes: &[u8]) -> CompactBytes {
        if bytes.len() <= Self::INLINE_CAPACITY {
            let mut data = [0u8; Self::INLINE_CAPACITY];
            data[..bytes.len()].copy_from_slice(bytes);
            // `len` fits in u8 because it is at most INLINE_CAPACITY.
            CompactBytes::Inline {
                len: bytes.len() as u8,
                data,
            }
        } else {
            CompactBytes::Heap(bytes.into())
        }
    }

    /// Takes ownership of a vector, moving small contents inline.
    pub fn from_vec(bytes: Vec<u8>) -> CompactBytes {
        if bytes.len() <= Self::INLINE_CAPACITY {
            Self::new(&bytes)
        } else {
            CompactBytes::Heap(bytes.into_boxed_slice())
        }
    }

    /// The contents.
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match self {
            CompactBytes::Inline { len, data } => &data[..usize::from(*len)],
            CompactBytes::Heap(b) => b,
        }
    }

    /// The length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        match self {
            CompactBytes::Inline { len, .. } => usize::from(*len),
            CompactBytes::Heap(b) => b.len(),
        }
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes owned beyond the 24 bytes of the value itself.
    pub fn heap_size(&self) -> usize {
        match self {
            CompactBytes::Inline { .. } => 0,
            CompactBytes::Heap(b) => b.len(),
        }
    }
}

impl std::ops::Deref for CompactBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for CompactBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl fmt::Debug for CompactBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_three_words() {
        assert_eq!(std::mem::size_of::<CompactBytes>(), 24);
    }

    #[test]
    fn short_contents_stay_inline_and_long_ones_go_to_the_heap() {
        let short = CompactBytes::new(b"key:000000000001");
        assert!(matches!(short, CompactBytes::Inline { .. }));
        assert_eq!(short.as_slice(), b"key:000000000001");
        let long = CompactBytes::new(&[7u8; 23]);
        assert!(matches!(long, CompactBytes::Heap(_)));
        assert_eq!(long.len(), 23);
        assert_eq!(
            CompactBytes::from_vec(b"abc".to_vec()),
            CompactBytes::new(b"abc")
        );
    }
}
