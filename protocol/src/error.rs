//! The one error type of this crate: a malformed request or reply.
//!
//! For request errors the `Display` text is exactly what Redis 7.0 sends after `-ERR `, and the
//! connection is closed once that reply is written. [`ProtocolError::to_frame`] builds the reply.

use bytes::{BufMut, Bytes, BytesMut};

use crate::frame::Frame;

/// A protocol violation found while parsing a client request or a server reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// An inline request without a newline in the first 64 KiB.
    #[error("Protocol error: too big inline request")]
    TooBigInlineRequest,
    /// An inline request whose quotes do not balance (see [`crate::split_args`]).
    #[error("Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
    /// A `*N` line without a CR in the first 64 KiB.
    #[error("Protocol error: too big mbulk count string")]
    TooBigMultibulkCount,
    /// A `*N` count that is not an integer or exceeds `i32::MAX`.
    #[error("Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    /// A `*N` count above 10 before the client authenticated.
    #[error("Protocol error: unauthenticated multibulk length")]
    UnauthenticatedMultibulkLength,
    /// A `$N` line without a CR in the first 64 KiB.
    #[error("Protocol error: too big bulk count string")]
    TooBigBulkCount,
    /// A bulk header that does not start with `$`; holds the byte found instead.
    ///
    /// `Display` shows the byte as a Latin-1 char; [`ProtocolError::to_frame`] has the raw byte,
    /// as Redis sends it (CR and LF become spaces).
    #[error("Protocol error: expected '$', got '{}'", char::from(*.0))]
    ExpectedDollar(u8),
    /// A `$N` length that is not an integer, is negative or exceeds `proto-max-bulk-len`.
    #[error("Protocol error: invalid bulk length")]
    InvalidBulkLength,
    /// A `$N` length above 16384 before the client authenticated.
    #[error("Protocol error: unauthenticated bulk length")]
    UnauthenticatedBulkLength,
    /// A reply frame with an unknown type byte (only from [`crate::parse_frame`]).
    #[error("Protocol error: invalid frame type byte {0:#04x}")]
    InvalidFrameType(u8),
    /// A reply frame whose header or body is malformed (only from [`crate::parse_frame`]).
    #[error("Protocol error: invalid {0}")]
    InvalidFrame(&'static str),
}

impl ProtocolError {
    /// The error reply Redis sends for this error: `ERR Protocol error: ...`, byte-exact.
    ///
    /// Encode it with [`crate::encode`] (it becomes `-ERR Protocol error: ...\r\n`), then close
    /// the connection after the reply is flushed, as Redis does.
    pub fn to_frame(&self) -> Frame {
        let mut text = BytesMut::with_capacity(64);
        text.put_slice(b"ERR ");
        match self {
            ProtocolError::ExpectedDollar(byte) => {
                text.put_slice(b"Protocol error: expected '$', got '");
                // Redis maps CR and LF in error text to spaces.
                text.put_u8(if matches!(byte, b'\r' | b'\n') {
                    b' '
                } else {
                    *byte
                });
                text.put_u8(b'\'');
            }
            other => text.put_slice(other.to_string().as_bytes()),
        }
        Frame::Error(Bytes::from(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_texts_match_redis() {
        assert_eq!(
            ProtocolError::InvalidMultibulkLength.to_string(),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            ProtocolError::ExpectedDollar(b'x').to_string(),
            "Protocol error: expected '$', got 'x'"
        );
    }

    #[test]
    fn to_frame_keeps_the_raw_byte() {
        assert_eq!(
            ProtocolError::ExpectedDollar(0xff).to_frame(),
            Frame::Error(Bytes::from_static(
                b"ERR Protocol error: expected '$', got '\xff'"
            ))
        );
        assert_eq!(
            ProtocolError::ExpectedDollar(b'\n').to_frame(),
            Frame::Error(Bytes::from_static(
                b"ERR Protocol error: expected '$', got ' '"
            ))
        );
        assert_eq!(
            ProtocolError::TooBigInlineRequest.to_frame(),
            Frame::Error(Bytes::from_static(
                b"ERR Protocol error: too big inline request"
            ))
        );
    }
}
