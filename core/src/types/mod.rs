//! The values a key can hold and the compact byte strings keys and short values are stored in.

mod compact;
mod hash;
mod list;
mod listpack;
mod set;
mod sorted_set;
mod stream;
mod value;

pub use compact::CompactBytes;
pub use hash::Hash;
pub use list::{DEFAULT_PACKED_THRESHOLD, List, NodeLimits};
pub use listpack::Listpack;
pub use set::Set;
pub use sorted_set::SortedSet;
pub use stream::{
    Consumer, ConsumerGroup, PendingEntry, Range as StreamRange, RangeRev as StreamRangeRev,
    Stream, StreamEntry, StreamId, StreamNodeLimits, Trim, TrimStrategy,
};
pub use value::{EMBSTR_SIZE_LIMIT, Value, ValueType, parse_canonical_i64};
