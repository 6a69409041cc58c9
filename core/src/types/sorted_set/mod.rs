//! `SortedSet`: members ordered by (score, member). Small sets are a [`Listpack`] of member,
//! score pairs in that order (`listpack`, up to `zset-max-listpack-entries`/`-value`); larger
//! ones a [`SkipList`] with spans and a member index (`skiplist`), as Redis 7.0 encodes them.
//! A set converts to a skiplist when an insert crosses a limit, and never back (only the
//! STORE commands build their result small, as Redis does).
//!
//! In the listpack each pair is one entry, `[score length][score][member]`, so a walk steps once
//! per member and an update is one remove and one insert. The score is packed: an integral score
//! below 2^55 in magnitude is the shortest little-endian two's-complement integer (0 to 7
//! bytes), any other score the 8 bytes of its `f64`. A 10-byte member with a small integer score
//! thus costs 13 bytes (Redis's listpack: 14).
//!
//! Everything is addressed by 0-based rank: range commands first turn their bounds into ranks
//! with [`SortedSet::count_prefix`], then read or delete by rank.

mod skiplist;

use super::Listpack;
use skiplist::SkipList;

/// A sorted set value.
#[derive(Debug, Clone, PartialEq)]
pub enum SortedSet {
    /// Small: member, packed score, member, packed score... in order.
    Listpack(Listpack),
    /// Large: a skiplist with a member index.
    Skiplist(Box<SkipList>),
}

impl Default for SortedSet {
    fn default() -> SortedSet {
        SortedSet::Listpack(Listpack::new())
    }
}

/// The encoding limits in force: `zset-max-listpack-entries` (most members a listpack holds)
/// and `zset-max-listpack-value` (its longest member).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ZsetLimits {
    max_entries: usize,
    max_value: usize,
}

fn encode_score(score: f64, out: &mut [u8; 8]) -> usize {
    const LIMIT: f64 = (1u64 << 55) as f64;
    if score.fract() == 0.0 && score.abs() < LIMIT {
        // In range and integral: the conversion is exact. -0 becomes 0, as in Redis's listpack.
        let n = score as i64;
        let bytes = n.to_le_bytes();
        let mut len = 0;
        while len < 7 {
            let shift = 8 * len;
            let fits = if shift == 0 {
                n == 0
            } else {
                (n << (64 - shift)) >> (64 - shift) == n
            };
            if fits {
                break;
            }
            len += 1;
        }
        out[..len].copy_from_slice(&bytes[..len]);
        len
    } else {
        *out = score.to_le_bytes();
        8
    }
}

fn decode_score(bytes: &[u8]) -> f64 {
    if let Ok(raw) = <[u8; 8]>::try_from(bytes) {
        return f64::from_le_bytes(raw);
    }
    let mut raw = [0u8; 8];
    let len = bytes.len().min(7);
    raw[..len].copy_from_slice(&bytes[..len]);
    if len > 0 && bytes[len - 1] & 0x80 != 0 {
        raw[len..].fill(0xff);
    }
    // At most 7 bytes, so the value is below 2^55 and converts exactly.
    i64::from_le_bytes(raw) as f64
}

/// One listpack entry for a pair: `[score length][score][member]`.
fn pack(member: &[u8], score: f64) -> Vec<u8> {
    let mut buf = [0u8; 8];
    let n = encode_score(score, &mut buf);
    let mut entry = Vec::with_capacity(1 + n + member.len());
    entry.push(u8::try_from(n).unwrap_or(8));
    entry.extend_from_slice(&buf[..n]);
    entry.extend_from_slice(member);
    entry
}

/// The member part of a packed entry.
fn member_of(entry: &[u8]) -> &[u8] {
    let n = usize::from(entry.first().copied().unwrap_or(0));
    entry.get(1 + n..).unwrap_or(&[])
}

/// The (member, score) of a packed entry.
fn unpack(entry: &[u8]) -> (&[u8], f64) {
    let n = usize::from(entry.first().copied().unwrap_or(0));
    let score = entry.get(1..1 + n).map_or(0.0, decode_score);
    (entry.get(1 + n..).unwrap_or(&[]), score)
}

/// Iterates a listpack's (member, score) pairs.
fn pairs(lp: &Listpack) -> impl Iterator<Item = (&[u8], f64)> {
    lp.iter().map(unpack)
}

/// The index and score of `member` in a listpack.
fn listpack_find(lp: &Listpack, member: &[u8]) -> Option<(usize, f64)> {
    lp.iter()
        .enumerate()
        .find(|(_, e)| member_of(e) == member)
        .map(|(i, e)| (i, unpack(e).1))
}

fn before(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> bool {
    s1 < s2 || (s1 == s2 && m1 < m2)
}

impl SortedSet {
    /// An empty set in the encoding Redis would create for `len` members whose longest is
    /// `max_member_len` bytes.
    pub fn for_size(
        len: usize,
        max_member_len: usize,
        max_entries: usize,
        max_value: usize,
    ) -> SortedSet {
        let limits = ZsetLimits {
            max_entries,
            max_value,
        };
        if limits.max_entries == 0 || len > limits.max_entries || max_member_len > limits.max_value
        {
            SortedSet::Skiplist(Box::new(SkipList::new()))
        } else {
            SortedSet::default()
        }
    }

    /// Builds a set from pairs of distinct members, small or large as Redis's
    /// `zsetConvertToListpackIfNeeded` would leave a STORE result.
    pub fn from_pairs(
        mut pairs: Vec<(Vec<u8>, f64)>,
        max_entries: usize,
        max_value: usize,
    ) -> SortedSet {
        let limits = ZsetLimits {
            max_entries,
            max_value,
        };
        let longest = pairs.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
        if pairs.len() <= limits.max_entries && longest <= limits.max_value {
            pairs.sort_by(|a, b| {
                a.1.partial_cmp(&b.1)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then_with(|| a.0.cmp(&b.0))
            });
            let mut lp = Listpack::new();
            for (m, s) in &pairs {
                lp.push_back(&pack(m, *s));
            }
            lp.shrink_to_fit();
            SortedSet::Listpack(lp)
        } else {
            let mut sl = SkipList::new();
            for (m, s) in &pairs {
                sl.insert(m, *s);
            }
            SortedSet::Skiplist(Box::new(sl))
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            SortedSet::Listpack(lp) => lp.len(),
            SortedSet::Skiplist(sl) => sl.len(),
        }
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            SortedSet::Listpack(_) => "listpack",
            SortedSet::Skiplist(_) => "skiplist",
        }
    }

    /// Calls `f` with each member and score, in order.
    pub fn for_each_pair(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            SortedSet::Listpack(lp) => pairs(lp).for_each(|(m, s)| f(m, s)),
            SortedSet::Skiplist(sl) => sl.iter().for_each(|(m, s)| f(m, s)),
        }
    }

    /// Heap bytes owned.
    pub fn heap_size(&self) -> usize {
        match self {
            SortedSet::Listpack(lp) => lp.heap_size(),
            SortedSet::Skiplist(sl) => std::mem::size_of::<SkipList>() + sl.heap_size(),
        }
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            SortedSet::Listpack(lp) => listpack_find(lp, member).map(|(_, s)| s),
            SortedSet::Skiplist(sl) => sl.score(member),
        }
    }

    /// The 0-based rank and score of `member`.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match self {
            SortedSet::Listpack(lp) => listpack_find(lp, member),
            SortedSet::Skiplist(sl) => {
                let score = sl.score(member)?;
                Some((sl.count_prefix(|s, m| before(s, m, score, member)), score))
            }
        }
    }

    /// Inserts `member`, which must be absent, converting to a skiplist first when the
    /// listpack would cross a limit.
    pub fn insert(&mut self, member: &[u8], score: f64, max_entries: usize, max_value: usize) {
        let limits = ZsetLimits {
            max_entries,
            max_value,
        };
        if let SortedSet::Listpack(lp) = self
            && (lp.len() + 1 > limits.max_entries || member.len() > limits.max_value)
        {
            self.convert_to_skiplist();
        }
        match self {
            SortedSet::Listpack(lp) => listpack_insert(lp, member, score),
            SortedSet::Skiplist(sl) => sl.insert(member, score),
        }
    }

    /// Changes the score of `member`, which must be present.
    pub fn update(&mut self, member: &[u8], score: f64) {
        match self {
            SortedSet::Listpack(lp) => listpack_update(lp, member, score),
            SortedSet::Skiplist(sl) => sl.update(member, score),
        }
    }

    /// Removes `member`; its score if it was there.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match self {
            SortedSet::Listpack(lp) => listpack_remove(lp, member),
            SortedSet::Skiplist(sl) => sl.remove(member),
        }
    }

    /// How many leading members (in order) satisfy `pred`, which must hold for a prefix: the
    /// rank of the first member failing it.
    pub fn count_prefix(&self, mut pred: impl FnMut(f64, &[u8]) -> bool) -> usize {
        match self {
            SortedSet::Listpack(lp) => pairs(lp).take_while(|(m, s)| pred(*s, m)).count(),
            SortedSet::Skiplist(sl) => sl.count_prefix(pred),
        }
    }

    /// Calls `f` for ranks `lo..=hi` (`hi < len`), from `hi` down when `rev`.
    pub fn range(&self, lo: usize, hi: usize, rev: bool, mut f: impl FnMut(&[u8], f64)) {
        if lo > hi || hi >= self.len() {
            return;
        }
        match self {
            SortedSet::Listpack(lp) => {
                let it = pairs(lp).skip(lo).take(hi - lo + 1);
                if rev {
                    let mut items: Vec<(&[u8], f64)> = it.collect();
                    items.reverse();
                    items.into_iter().for_each(|(m, s)| f(m, s));
                } else {
                    it.for_each(|(m, s)| f(m, s));
                }
            }
            SortedSet::Skiplist(sl) => sl.range(lo, hi, rev, f),
        }
    }

    /// The member and score at `rank`.
    pub fn at(&self, rank: usize) -> Option<(Vec<u8>, f64)> {
        let mut out = None;
        self.range(rank, rank, false, |m, s| out = Some((m.to_vec(), s)));
        out
    }

    /// Removes ranks `lo..=hi` (`hi < len`); how many were removed.
    pub fn remove_range(&mut self, lo: usize, hi: usize) -> usize {
        if lo > hi || hi >= self.len() {
            return 0;
        }
        match self {
            SortedSet::Listpack(lp) => {
                lp.remove_range(lo, hi - lo + 1);
                hi - lo + 1
            }
            SortedSet::Skiplist(sl) => sl.remove_range(lo, hi),
        }
    }

    /// One ZSCAN step from `cursor`: calls `f` for up to about `count` members and returns the
    /// next cursor (0 when done). A listpack answers everything at once, as Redis does; a
    /// skiplist walks its arena slots, which members keep for life.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match self {
            SortedSet::Listpack(lp) => {
                pairs(lp).for_each(|(m, s)| f(m, s));
                0
            }
            SortedSet::Skiplist(sl) => {
                let mut slot = usize::try_from(cursor).unwrap_or(usize::MAX);
                let mut seen = 0;
                while slot < sl.slots() && seen < count.max(1) {
                    if let Some((m, s)) = sl.slot(slot) {
                        f(m, s);
                        seen += 1;
                    }
                    slot += 1;
                }
                if slot >= sl.slots() {
                    0
                } else {
                    u64::try_from(slot).unwrap_or(0)
                }
            }
        }
    }

    fn convert_to_skiplist(&mut self) {
        if let SortedSet::Listpack(lp) = self {
            let mut sl = SkipList::new();
            for (m, s) in pairs(lp) {
                sl.insert(m, s);
            }
            *self = SortedSet::Skiplist(Box::new(sl));
        }
    }
}

fn listpack_insert(lp: &mut Listpack, member: &[u8], score: f64) {
    let at = pairs(lp)
        .take_while(|(m, s)| before(*s, m, score, member))
        .count();
    let entry = pack(member, score);
    if at == lp.len() {
        lp.push_back(&entry);
    } else {
        lp.insert(at, &entry);
    }
    // Keep the buffer tight, as Redis reallocates a listpack to its exact size.
    if lp.heap_size() > lp.bytes() + lp.bytes() / 8 + 16 {
        lp.shrink_to_fit();
    }
}

/// Moves `member` (present) to `score` with one walk to find both places.
fn listpack_update(lp: &mut Listpack, member: &[u8], score: f64) {
    let (mut found, mut at) = (None, 0);
    for (i, (m, s)) in pairs(lp).enumerate() {
        if m == member {
            found = Some(i);
        } else if before(s, m, score, member) {
            at += 1;
        } else if found.is_some() {
            break;
        }
    }
    let Some(found) = found else {
        return listpack_insert(lp, member, score);
    };
    let entry = pack(member, score);
    if at == found {
        lp.replace(found, &entry);
    } else {
        lp.remove_range(found, 1);
        if at == lp.len() {
            lp.push_back(&entry);
        } else {
            lp.insert(at, &entry);
        }
    }
}

fn listpack_remove(lp: &mut Listpack, member: &[u8]) -> Option<f64> {
    let (at, score) = listpack_find(lp, member)?;
    lp.remove_range(at, 1);
    Some(score)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_round_trip() {
        for s in [
            0.0,
            1.0,
            -1.0,
            127.0,
            128.0,
            -129.0,
            1.5,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            36028797018963967.0,
            -36028797018963968.0,
        ] {
            let mut buf = [0u8; 8];
            let n = encode_score(s, &mut buf);
            let back = decode_score(&buf[..n]);
            assert_eq!(back.to_bits(), s.to_bits(), "{s}");
        }
        let mut buf = [0u8; 8];
        assert_eq!(encode_score(0.0, &mut buf), 0);
        assert_eq!(encode_score(100.0, &mut buf), 1);
    }

    #[test]
    fn listpack_converts_past_the_limit() {
        let mut z = SortedSet::default();
        for (i, m) in ["d", "b", "a", "c"].iter().enumerate() {
            z.insert(m.as_bytes(), i as f64, 4, 8);
        }
        assert_eq!(z.encoding_name(), "listpack");
        assert_eq!(z.rank(b"a"), Some((2, 2.0)));
        z.insert(b"e", 1.0, 4, 8);
        assert_eq!(z.encoding_name(), "skiplist");
        assert_eq!(z.rank(b"e"), Some((2, 1.0)));
        assert_eq!(z.at(0), Some((b"d".to_vec(), 0.0)));
    }

    #[test]
    fn listpack_updates_move_members_both_ways() {
        let mut z = SortedSet::default();
        for (i, m) in ["a", "b", "c", "d"].iter().enumerate() {
            z.insert(m.as_bytes(), i as f64, 128, 64);
        }
        z.update(b"a", 10.0);
        z.update(b"d", -1.0);
        z.update(b"b", 1.5);
        let mut order = Vec::new();
        z.for_each_pair(|m, s| order.push((String::from_utf8_lossy(m).into_owned(), s)));
        assert_eq!(
            order,
            [
                ("d".to_string(), -1.0),
                ("b".to_string(), 1.5),
                ("c".to_string(), 2.0),
                ("a".to_string(), 10.0)
            ]
        );
        assert_eq!(z.remove(b"c"), Some(2.0));
        assert_eq!(z.rank(b"a"), Some((2, 10.0)));
    }
}
