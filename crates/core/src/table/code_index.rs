//! The compiled answers of [`StatusTable::lookup_code`](super::StatusTable::lookup_code)
//! in a hash table, so that a lookup is a multiplication and, most of the time,
//! one comparison.

/// A key no slot holds: the endpoint bits of a real key (see
/// [`code_key`](super::code_key)) are at most 5, never all ones.
const FREE: u64 = u64::MAX;

/// Fibonacci hashing: the top bits of the key times 2^64 / φ.
const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

/// A map from (code, endpoint, status) keys to row indexes, with open addressing
/// and linear probing. At least half of the slots are free, so that a probe for
/// a key that is not there soon meets a free slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct CodeIndex {
    /// (key, row index); [`FREE`] in the key of an empty slot. The length is a
    /// power of two.
    slots: Vec<(u64, u16)>,
    /// 64 minus the base-2 logarithm of the number of slots.
    shift: u32,
}

impl CodeIndex {
    /// Maps each key to its row; of two entries with one key, the first is kept.
    pub(super) fn new(entries: &[(u64, u16)]) -> Self {
        let len = (entries.len() * 2).next_power_of_two().max(2);
        let mut index = Self {
            slots: vec![(FREE, 0); len],
            shift: 64 - len.trailing_zeros(),
        };
        for &(key, row) in entries {
            if key == FREE {
                continue;
            }
            let mut at = index.home(key);
            for _ in 0..len {
                let Some(slot) = index.slots.get_mut(at) else {
                    break;
                };
                if slot.0 == FREE {
                    *slot = (key, row);
                }
                if slot.0 == key {
                    break;
                }
                at = (at + 1) & (len - 1);
            }
        }
        index
    }

    /// The row of `key`, if it has one.
    #[inline]
    pub(super) fn get(&self, key: u64) -> Option<u16> {
        let mask = self.slots.len().wrapping_sub(1);
        let mut at = self.home(key);
        // At most one pass over the slots, though a free slot comes much sooner.
        for _ in 0..self.slots.len() {
            let &(own, row) = self.slots.get(at)?;
            if own == FREE {
                return None;
            }
            if own == key {
                return Some(row);
            }
            at = (at + 1) & mask;
        }
        None
    }

    /// The slot where the probe for `key` starts.
    #[inline]
    fn home(&self, key: u64) -> usize {
        // The shift is below 64, and the result below the number of slots.
        (key.wrapping_mul(MULTIPLIER) >> self.shift) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_found_and_no_other() {
        for count in [0_u16, 1, 2, 3, 7, 8, 100, 1000] {
            // Keys that differ in one field only, as the table's do, and a
            // repeated key whose first row must be kept.
            let mut entries: Vec<(u64, u16)> = (0..count)
                .map(|n| ((u64::from(n % 7) << 32) | (u64::from(n / 7) << 16) | 504, n))
                .collect();
            if let Some(&(key, _)) = entries.first() {
                entries.push((key, u16::MAX));
            }
            entries.push((FREE, 1));
            let index = CodeIndex::new(&entries);
            assert!(index.slots.len() >= 2 * entries.len());
            for &(key, row) in entries.iter().take(usize::from(count)) {
                assert_eq!(index.get(key), Some(row), "{count} {key:x}");
                assert_eq!(index.get(key ^ 1), None, "{count} {key:x}");
            }
            assert_eq!(index.get(FREE), None);
        }
    }
}
