//! The RESP value model shared by the parser, the encoder and every reply the server builds.
//!
//! A [`Frame`] says *what* is answered; [`crate::encode`] decides how it looks on the wire for
//! the client's protocol version (a `Map` is a flat array in RESP2, `Null` is `$-1`, ...).

use bytes::Bytes;

/// The protocol version a connection speaks, chosen with `HELLO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RespVersion {
    /// RESP2, the default for every new connection.
    #[default]
    Resp2,
    /// RESP3, after `HELLO 3`.
    Resp3,
}

/// One RESP value, in RESP3's vocabulary (RESP2 is a subset reached by down-conversion).
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `+OK`: a status line; must not contain CR or LF.
    Simple(Bytes),
    /// `-ERR ...`: an error line, stored with its code (`ERR`, `WRONGTYPE`) and without the `-`.
    Error(Bytes),
    /// `:42`.
    Integer(i64),
    /// `$3\r\nfoo`: a binary-safe string.
    Bulk(Bytes),
    /// The null reply: RESP3 `_`, RESP2 `$-1` (a "nil bulk").
    Null,
    /// The null array: RESP3 `_`, RESP2 `*-1` (what BLPOP's timeout and EXEC's abort return).
    NullArray,
    /// `*N`: an ordered sequence.
    Array(Vec<Frame>),
    /// `%N`: key/value pairs; a flat array of 2N in RESP2.
    Map(Vec<(Frame, Frame)>),
    /// `~N`: an unordered collection; an array in RESP2.
    Set(Vec<Frame>),
    /// `|N`: attributes that precede the frame they describe (parsed from peers; rarely sent).
    Attribute(Vec<(Frame, Frame)>),
    /// `>N`: an out-of-band message (pub/sub, invalidation); an array in RESP2.
    Push(Vec<Frame>),
    /// `,1.5`: a double; a bulk string in RESP2, formatted as Redis 7.0 does (`%.17g`).
    Double(f64),
    /// `#t`: a boolean; `:1`/`:0` in RESP2.
    Boolean(bool),
    /// `(123...`: an integer too large for i64, kept as its decimal digits.
    BigNumber(Bytes),
    /// `=N\r\ntxt:...`: a string with a three-letter format hint; a bulk string in RESP2.
    Verbatim {
        /// The format, `txt` or `mkd`.
        format: [u8; 3],
        /// The text without the `fmt:` prefix.
        text: Bytes,
    },
    /// `!N`: a binary-safe error; a simple error line in RESP2.
    BlobError(Bytes),
    /// Several frames written back to back as one command's reply: an attribute or a push
    /// message, then the reply itself. Only the server builds it; the parser never returns it.
    Sequence(Vec<Frame>),
    /// An array of bulk strings packed in one buffer (LRANGE, ZRANGE...): encoded exactly as an
    /// `Array` of `Bulk`s, built without an allocation or a reference count per element. Only
    /// the server builds it; the parser returns an `Array`.
    BulkArray(BulkArray),
    /// Bytes written exactly as they are, in any protocol version: what a replica receives
    /// (the RDB transfer, which has no trailing CRLF, and the propagated command stream). Only
    /// the server builds it; the parser never returns it.
    Raw(Bytes),
}

/// Bulk strings stored end to end in one buffer, for [`Frame::BulkArray`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BulkArray {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl BulkArray {
    /// Room for `items` elements of `bytes` bytes in all.
    pub fn with_capacity(items: usize, bytes: usize) -> BulkArray {
        BulkArray {
            data: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(items),
        }
    }

    /// Appends one element.
    pub fn push(&mut self, element: &[u8]) {
        self.data.extend_from_slice(element);
        self.ends.push(self.data.len());
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The elements, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let element = &self.data[start..end];
            start = end;
            element
        })
    }

    /// The same elements as an `Array` of `Bulk` frames, as a client reads them.
    pub fn to_frames(&self) -> Vec<Frame> {
        self.iter().map(Frame::bulk).collect()
    }
}

impl<'a> FromIterator<&'a [u8]> for BulkArray {
    fn from_iter<I: IntoIterator<Item = &'a [u8]>>(iter: I) -> BulkArray {
        let mut array = BulkArray::default();
        for element in iter {
            array.push(element);
        }
        array
    }
}

impl Frame {
    /// The `+OK` reply, built without allocating.
    pub const fn ok() -> Frame {
        Frame::Simple(Bytes::from_static(b"OK"))
    }

    /// A status reply from static text, built without allocating.
    pub const fn simple_static(text: &'static str) -> Frame {
        Frame::Simple(Bytes::from_static(text.as_bytes()))
    }

    /// An error reply from static text (`"ERR syntax error"`), built without allocating.
    pub const fn error_static(text: &'static str) -> Frame {
        Frame::Error(Bytes::from_static(text.as_bytes()))
    }

    /// An error reply from owned text.
    pub fn error(text: impl Into<String>) -> Frame {
        Frame::Error(Bytes::from(text.into()))
    }

    /// A bulk string copied from a slice.
    pub fn bulk(data: impl AsRef<[u8]>) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(data.as_ref()))
    }

    /// Whether this frame is an error reply of either kind.
    pub fn is_error(&self) -> bool {
        matches!(self, Frame::Error(_) | Frame::BlobError(_))
    }
}
