//! The jitter numbers that keep retrying processes apart, and their default seed.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};

/// A seed that differs from process to process and from call to call: the
/// standard library's hash keys, which it draws from the operating system once
/// per thread and then varies per use. No I/O crate and no clock: the core's
/// decisions still take their jitter as an argument, and a caller that needs a
/// repeatable run gives a fixed seed instead.
pub(crate) fn unpredictable_seed() -> u64 {
    RandomState::new().hash_one(0_u8)
}

/// A deterministic sequence of jitter values in `[0, 1]` (SplitMix64), seeded
/// by the caller: the core draws no randomness of its own, and a fixed seed makes
/// a simulated run repeatable.
#[derive(Debug)]
pub(crate) struct JitterSource {
    state: AtomicU64,
}

impl JitterSource {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            state: AtomicU64::new(seed),
        }
    }

    pub(crate) fn next(&self) -> f64 {
        let mut z = self
            .state
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // 53 random bits mapped onto [0, 1).
        (z >> 11) as f64 / (1_u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stay_in_the_unit_interval_and_repeat_for_a_seed() {
        let a = JitterSource::new(7);
        let b = JitterSource::new(7);
        let first: Vec<f64> = (0..1000).map(|_| a.next()).collect();
        let second: Vec<f64> = (0..1000).map(|_| b.next()).collect();
        assert_eq!(first, second);
        assert!(first.iter().all(|v| (0.0..1.0).contains(v)));
        let mean = first.iter().sum::<f64>() / first.len() as f64;
        assert!((0.4..0.6).contains(&mean), "mean {mean}");
    }

    #[test]
    fn default_seeds_differ_between_draws() {
        assert_ne!(unpredictable_seed(), unpredictable_seed());
    }
}
