//! LCS's algorithm: the dynamic-programming table over two strings and the walk back through it
//! that yields the common subsequence and its matching runs. The command itself (`lcs` in the
//! family) reads the keys and shapes the reply.

use crate::command::Args;
use crate::errors::CommandError;
use crate::errors::string::{LCS_ALLOC_FAILED, LCS_STRING_TOO_LONG, LCS_TABLE_TOO_BIG};

/// LCS's options.
#[derive(Debug, Default)]
pub(super) struct LcsOptions {
    pub(super) len: bool,
    pub(super) idx: bool,
    pub(super) with_match_len: bool,
    pub(super) min_match_len: u32,
}

/// Reads LEN, IDX, WITHMATCHLEN and MINMATCHLEN, in any order.
pub(super) fn parse_lcs_options(args: &mut Args<'_>) -> Result<LcsOptions, CommandError> {
    let mut options = LcsOptions::default();
    while !args.is_empty() {
        if args.eat_keyword("IDX") {
            options.idx = true;
        } else if args.eat_keyword("LEN") {
            options.len = true;
        } else if args.eat_keyword("WITHMATCHLEN") {
            options.with_match_len = true;
        } else if args.remaining() >= 2 && args.eat_keyword("MINMATCHLEN") {
            // Negative means no minimum; beyond u32 no match can qualify.
            let min = args.next_i64()?.max(0);
            options.min_match_len = u32::try_from(min).unwrap_or(u32::MAX);
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok(options)
}

/// The classic dynamic-programming table: `cell(i, j)` is the LCS length of `a[..i]` and
/// `b[..j]`.
pub(super) struct LcsTable {
    pub(super) cells: Vec<u32>,
    pub(super) a_len: usize,
    pub(super) b_len: usize,
}

/// One run of consecutive matching bytes, inclusive on both sides.
#[derive(Debug, Clone, Copy)]
pub(super) struct LcsRange {
    pub(super) a_start: u32,
    pub(super) a_end: u32,
    pub(super) b_start: u32,
    pub(super) b_end: u32,
}

impl LcsRange {
    pub(super) fn len(&self) -> u32 {
        self.a_end - self.a_start + 1
    }
}

/// The common subsequence and its runs, from the end of the strings backwards.
pub(super) struct LcsWalk {
    pub(super) common: Vec<u8>,
    pub(super) ranges: Vec<LcsRange>,
}

impl LcsTable {
    pub(super) fn build(a: &[u8], b: &[u8], max_len: u64) -> Result<LcsTable, CommandError> {
        let limit = usize::try_from(u32::MAX - 1).unwrap_or(usize::MAX);
        if a.len() >= limit || b.len() >= limit {
            return Err(CommandError::msg(LCS_STRING_TOO_LONG));
        }
        let (a_len, b_len) = (a.len(), b.len());
        let cell_count = (a_len + 1)
            .checked_mul(b_len + 1)
            .ok_or(CommandError::msg(LCS_ALLOC_FAILED))?;
        let bytes = cell_count
            .checked_mul(std::mem::size_of::<u32>())
            .and_then(|n| u64::try_from(n).ok())
            .ok_or(CommandError::msg(LCS_ALLOC_FAILED))?;
        if bytes > max_len {
            return Err(CommandError::msg(LCS_TABLE_TOO_BIG));
        }
        let mut cells = Vec::new();
        cells
            .try_reserve_exact(cell_count)
            .map_err(|_| CommandError::msg(LCS_ALLOC_FAILED))?;
        cells.resize(cell_count, 0u32);
        let width = b_len + 1;
        for i in 1..=a_len {
            for j in 1..=b_len {
                cells[i * width + j] = if a[i - 1] == b[j - 1] {
                    cells[(i - 1) * width + j - 1] + 1
                } else {
                    cells[(i - 1) * width + j].max(cells[i * width + j - 1])
                };
            }
        }
        Ok(LcsTable {
            cells,
            a_len,
            b_len,
        })
    }

    fn cell(&self, i: usize, j: usize) -> u32 {
        self.cells[i * (self.b_len + 1) + j]
    }

    /// The LCS length.
    pub(super) fn length(&self) -> u32 {
        self.cell(self.a_len, self.b_len)
    }

    /// Walks back from the end, collecting the subsequence and its runs of at least
    /// `min_match_len` (0: all). The path and the run boundaries follow Redis's walk exactly,
    /// since IDX replies expose them: on a tie it moves along `b`, and a run is closed when the
    /// next match is not adjacent, on a mismatch step, or at the start of either string.
    pub(super) fn walk(&self, a: &[u8], b: &[u8], min_match_len: u32) -> LcsWalk {
        let mut common = vec![0u8; usize::try_from(self.length()).unwrap_or_default()];
        let mut remaining = common.len();
        let mut ranges = Vec::new();
        let mut current: Option<LcsRange> = None;
        let (mut i, mut j) = (self.a_len, self.b_len);
        while i > 0 && j > 0 {
            let mut emit = false;
            if a[i - 1] == b[j - 1] {
                remaining -= 1;
                common[remaining] = a[i - 1];
                // Indexes fit in u32: `build` refused longer strings.
                let (ai, bj) = (to_u32(i - 1), to_u32(j - 1));
                match &mut current {
                    None => {
                        current = Some(LcsRange {
                            a_start: ai,
                            a_end: ai,
                            b_start: bj,
                            b_end: bj,
                        });
                    }
                    Some(run) if run.a_start == ai + 1 && run.b_start == bj + 1 => {
                        run.a_start = ai;
                        run.b_start = bj;
                    }
                    Some(_) => emit = true,
                }
                if current.is_some_and(|run| run.a_start == 0 || run.b_start == 0) {
                    emit = true;
                }
                i -= 1;
                j -= 1;
            } else {
                if self.cell(i - 1, j) > self.cell(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                emit = current.is_some();
            }
            if emit
                && let Some(run) = current.take()
                && (min_match_len == 0 || run.len() >= min_match_len)
            {
                ranges.push(run);
            }
        }
        LcsWalk { common, ranges }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
