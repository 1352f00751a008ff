//! Finding the end of the plain part of a JSON string, eight bytes at a time.

const ONES: u64 = u64::from_le_bytes([1; 8]);
const HIGH: u64 = ONES << 7;

/// How many bytes at the start of `bytes` are neither a quote, a backslash nor a
/// control character (below 0x20), and whether those bytes are all ASCII.
///
/// In each eight-byte word, `x - 0x01..01 & !x & 0x80..80` sets the high bit of
/// the lowest zero byte of `x` exactly (bits above it may be false positives, but
/// only the lowest one is used). A quote or a backslash is a zero byte of the
/// word xor'ed with it; a control byte is one where `word - 0x20..20` borrows,
/// which the same expression detects.
///
/// Most words hold none of these, so each word first takes a cheaper test that
/// lets through a little more (space, `!`, some bytes at or above 0x80).
#[inline]
pub(crate) fn plain_run(bytes: &[u8]) -> (usize, bool) {
    let mut run = 0;
    let mut seen = 0;
    while let Some(chunk) = bytes.get(run..run + 8) {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let word = u64::from_le_bytes(word);
        if maybe_special(word) {
            let found = special(word);
            if found != 0 {
                let bytes_before = found.trailing_zeros() / 8;
                let before = (1u64 << (bytes_before * 8)).wrapping_sub(1);
                return (
                    run + bytes_before as usize,
                    (seen | word & before) & HIGH == 0,
                );
            }
        }
        seen |= word;
        run += 8;
    }
    let mut ascii = seen & HIGH == 0;
    while let Some(&byte) = bytes.get(run) {
        if byte == b'"' || byte == b'\\' || byte < 0x20 {
            break;
        }
        ascii &= byte.is_ascii();
        run += 1;
    }
    (run, ascii)
}

/// Whether `word` may hold a quote, a backslash or a control byte. It is true
/// whenever `word` holds a byte below 0x23 or a backslash (the lowest such byte
/// sets its high bit in one of the two differences), and also for some bytes at
/// or above 0x80, which the exact test then clears.
#[inline]
fn maybe_special(word: u64) -> bool {
    let below = word.wrapping_sub(ONES * 0x23);
    let backslash = (word ^ (ONES * u64::from(b'\\'))).wrapping_sub(ONES);
    (below | backslash) & HIGH != 0
}

/// The high bits of the bytes of `word` (little-endian) that may be a quote, a
/// backslash or a control byte; the lowest one set is exact.
#[inline]
fn special(word: u64) -> u64 {
    let zero = |x: u64| x.wrapping_sub(ONES) & !x;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    (zero(quote) | zero(backslash) | (word.wrapping_sub(ONES * 0x20) & !word)) & HIGH
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_run_stops_at_the_first_quote_backslash_or_control() {
        let slow = |bytes: &[u8]| {
            bytes
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(bytes.len())
        };
        let mut bytes: Vec<u8> = b"abcdefghijklmnopqrstuvwxyz0123456789".to_vec();
        bytes.extend("é€😀".as_bytes());
        for len in 0..bytes.len() {
            for at in 0..=len {
                for special in [b'"', b'\\', 0, 0x1f, b'\n', 0x20, 0x7f, 0x80, 0xff] {
                    let mut case = bytes[..len].to_vec();
                    if at < len {
                        case[at] = special;
                    }
                    let (run, ascii) = plain_run(&case);
                    assert_eq!(run, slow(&case), "{case:?}");
                    assert_eq!(ascii, case[..run].is_ascii(), "{case:?}");
                }
            }
        }
    }
}
