//! The values a key can hold and the compact byte strings keys and short values are stored in.

mod compact;
mod value;

pub use compact::CompactBytes;
pub use value::{EMBSTR_SIZE_LIMIT, Value, ValueType, parse_canonical_i64};
