//! PFSELFTEST: the checks Redis runs on its own HyperLogLog code, run on ours.
//!
//! 1. Register access: 1000 rounds of writing random values to all 16384 dense registers and
//!    reading them back (each write must leave its neighbours alone).
//! 2. Estimates: ten million distinct elements added to a dense and a sparse HyperLogLog at
//!    once. At each power of ten the sparse one must still be sparse while small, the two must
//!    estimate the same, and the estimate must be within six standard errors (1 for ten).

use oxidis_protocol::Frame;

use super::sketch::{self, DENSE_LEN, HEADER_LEN, REGISTERS};
use crate::command::CommandResult;
use crate::errors::CommandError;
use crate::errors::hyperloglog::{
    SELFTEST_DISAGREE, SELFTEST_NOT_SPARSE, selftest_error, selftest_register,
};

const ROUNDS: usize = 1000;
const ELEMENTS: u64 = 10_000_000;

/// Runs both checks with randomness from `seed`; `OK` or the first failure as Redis words it.
pub fn run(seed: u64, sparse_max_bytes: u64) -> CommandResult {
    run_sized(seed, sparse_max_bytes, ROUNDS, ELEMENTS)
}

/// [`run`] with fewer rounds or elements (for tests).
fn run_sized(seed: u64, sparse_max_bytes: u64, rounds: usize, elements: u64) -> CommandResult {
    let mut rng = SplitMix(seed);
    check_registers(&mut rng, rounds)?;
    check_estimates(rng.next(), sparse_max_bytes, elements)?;
    Ok(Frame::ok())
}

fn check_registers(rng: &mut SplitMix, rounds: usize) -> Result<(), CommandError> {
    let mut registers = vec![0u8; DENSE_LEN - HEADER_LEN];
    let mut expected = vec![0u8; REGISTERS];
    for _ in 0..rounds {
        for (index, slot) in expected.iter_mut().enumerate() {
            let [value, ..] = (rng.next() & 63).to_le_bytes();
            *slot = value;
            sketch::dense_set(&mut registers, index, value);
        }
        for (index, &value) in expected.iter().enumerate() {
            let found = sketch::dense_get(&registers, index);
            if found != value {
                return Err(failure(selftest_register(index, value, found)));
            }
        }
    }
    Ok(())
}

fn check_estimates(seed: u64, sparse_max_bytes: u64, elements: u64) -> Result<(), CommandError> {
    let mut sparse = sketch::new_sparse();
    let mut dense = sketch::new_sparse();
    sketch::make_dense(&mut dense).map_err(|_| failure(SELFTEST_DISAGREE.to_string()))?;
    let relative_error = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    for j in 1..=elements {
        let element = (j ^ seed).to_le_bytes();
        let corrupt = |_| failure(SELFTEST_DISAGREE.to_string());
        sketch::add(&mut dense, &element, sparse_max_bytes).map_err(corrupt)?;
        sketch::add(&mut sparse, &element, sparse_max_bytes).map_err(corrupt)?;
        if j != checkpoint {
            continue;
        }
        if j < sparse_max_bytes / 2 && sketch::is_dense(&sparse) {
            return Err(failure(SELFTEST_NOT_SPARSE.to_string()));
        }
        let estimate_of = |hll: &[u8]| sketch::histogram(hll).map(|h| sketch::estimate(&h));
        let dense_count = estimate_of(&dense).map_err(corrupt)?;
        if estimate_of(&sparse).map_err(corrupt)? != dense_count {
            return Err(failure(SELFTEST_DISAGREE.to_string()));
        }
        let abs_error = checkpoint.abs_diff(dense_count);
        let max_error = if j == 10 {
            // Collisions make larger errors likely enough at ten to fail now and then.
            1
        } else {
            (relative_error * 6.0 * checkpoint as f64).ceil() as u64
        };
        if abs_error > max_error {
            return Err(failure(selftest_error(checkpoint, abs_error)));
        }
        checkpoint *= 10;
    }
    Ok(())
}

fn failure(text: String) -> CommandError {
    CommandError::Message(text.into())
}

/// A small, fast generator (SplitMix64); the test needs variety, not quality.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_self_test_passes_for_several_seeds_and_limits() {
        for (seed, limit) in [(1, 3000), (2, 0), (3, 500), (4, 20_000)] {
            assert_eq!(run_sized(seed, limit, 2, 20_000), Ok(Frame::ok()));
        }
    }
}
