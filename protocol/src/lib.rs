//! RESP2 and RESP3 for Oxidis: the [`Frame`] model, a streaming request parser, a full frame
//! parser for replies, and the encoder. This crate knows nothing of commands.
//!
//! # Organization
//! - [`frame`](Frame): the RESP value model and [`RespVersion`].
//! - `request`: [`RequestParser`], the per-connection parser for client requests (multibulk
//!   and inline) with Redis 7.0's limits and error texts, and [`split_args`].
//! - `encode`: [`encode`] for whole frames with RESP2 down-conversion, and helpers such as
//!   [`encode_bulk`] that write one element without building a frame.
//! - `parse`: [`parse_frame`], the full RESP2/RESP3 parser for replies.
//! - `error`: [`ProtocolError`], whose text is what Redis sends after `-ERR `.

mod encode;
mod error;
mod frame;
mod parse;
mod request;

pub use encode::{
    DoubleText, encode, encode_array_len, encode_bool, encode_bulk, encode_double, encode_error,
    encode_integer, encode_map_len, encode_null, encode_null_array, encode_push_len,
    encode_push_of_bulks, encode_set_len, encode_simple, encode_verbatim, format_double,
};
pub use error::ProtocolError;
pub use frame::{BulkArray, Frame, RespVersion};
pub use parse::{MAX_DEPTH, parse_frame};
pub use request::{INLINE_MAX_SIZE, RequestLimits, RequestParser, split_args};
