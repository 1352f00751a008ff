//! The cursor: whitespace, punctuation, strings, integers, literals, objects and
//! arrays.

use std::ops::Range;

use bytes::Bytes;

use super::run::plain_run;
use crate::Text;

/// A cursor over one JSON text.
///
/// Every read skips the whitespace before it, checks its bounds, and returns `None`
/// when the input is not what it reads; the reader is then left somewhere inside
/// the text and the caller should give up on it (decode the text some other way).
///
/// ```
/// use cloudrec_types::json::Reader;
///
/// let mut reader = Reader::new(r#" {"code": 53, "reason": "conflict", "extra": [1.5, {}]} "#);
/// let (mut code, mut reason) = (None, None);
/// reader
///     .object(|reader, key| match key {
///         b"code" => reader.integer().map(|value| code = Some(value)),
///         b"reason" => reader.string().map(|value| reason = Some(value)),
///         _ => reader.skip(),
///     })
///     .and_then(|()| reader.end())
///     .expect("plain JSON");
/// assert_eq!((code, reason), (Some(53), Some("conflict")));
/// ```
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    text: &'a [u8],
    at: usize,
    /// The buffer `text` is, when the reader was made with [`Reader::shared`].
    shared: Option<&'a Bytes>,
}

/// JSON whitespace (` `, `\t`, `\n`, `\r`) as a set of bits, by byte value.
const WHITESPACE: u64 = (1 << b' ') | (1 << b'\t') | (1 << b'\n') | (1 << b'\r');

/// Eight spaces, as one little-endian word.
const SPACES: u64 = u64::from_le_bytes([b' '; 8]);

impl<'a> Reader<'a> {
    /// How deeply [`skip`](Self::skip) follows nested arrays and objects before it
    /// gives up.
    pub const MAX_DEPTH: u32 = 64;

    /// A reader at the start of `text` (a `str` or bytes). The text need not be
    /// UTF-8 as a whole: the strings the reader returns and the keys it gives are
    /// checked, as serde_json checks them, and skipped strings are not.
    pub fn new<T: AsRef<[u8]> + ?Sized>(text: &'a T) -> Self {
        Self {
            text: text.as_ref(),
            at: 0,
            shared: None,
        }
    }

    /// A reader at the start of `body` whose [`text`](Self::text) values share
    /// its buffer instead of copying.
    pub fn shared(body: &'a Bytes) -> Self {
        Self {
            text: body,
            at: 0,
            shared: Some(body),
        }
    }

    #[inline]
    pub(super) fn bytes(&self) -> &'a [u8] {
        self.text
    }

    #[inline]
    pub(super) fn at(&self) -> usize {
        self.at
    }

    #[inline]
    pub(super) fn set_at(&mut self, at: usize) {
        self.at = at;
    }

    /// Skips whitespace.
    #[inline(always)]
    fn whitespace(&mut self) {
        match self.bytes().get(self.at) {
            Some(&byte) if byte > b' ' => return,
            // One space, as after the colons of indented output.
            Some(b' ')
                if self
                    .bytes()
                    .get(self.at + 1)
                    .is_some_and(|&next| next > b' ') =>
            {
                self.at += 1;
                return;
            }
            _ => {}
        }
        self.whitespace_run();
    }

    /// Skips whitespace that may start at the cursor; after a line feed, the
    /// indentation is counted eight bytes at a time.
    fn whitespace_run(&mut self) {
        let bytes = self.bytes();
        while let Some(&byte) = bytes.get(self.at) {
            if byte > b' ' || (WHITESPACE >> byte) & 1 == 0 {
                return;
            }
            self.at += 1;
            if byte == b'\n' {
                while let Some(word) = bytes.get(self.at..self.at + 8) {
                    let Ok(word) = <[u8; 8]>::try_from(word) else {
                        break;
                    };
                    let other = u64::from_le_bytes(word) ^ SPACES;
                    self.at += other.trailing_zeros() as usize / 8;
                    if other != 0 {
                        break;
                    }
                }
            }
        }
    }

    /// The next byte after whitespace (which is skipped), without consuming it;
    /// `None` at the end of the text.
    #[inline(always)]
    pub fn peek(&mut self) -> Option<u8> {
        self.whitespace();
        self.bytes().get(self.at).copied()
    }

    /// Consumes `byte` after whitespace.
    #[inline]
    pub fn eat(&mut self, byte: u8) -> Option<()> {
        if self.peek()? != byte {
            return None;
        }
        self.at += 1;
        Some(())
    }

    /// Skips one value as [`skip`](Self::skip) does and gives its text, without
    /// the whitespace around it.
    pub fn raw(&mut self) -> Option<&'a [u8]> {
        self.peek()?;
        let start = self.at;
        self.skip()?;
        self.bytes().get(start..self.at)
    }

    /// Checks that only whitespace is left.
    #[inline]
    pub fn end(&mut self) -> Option<()> {
        self.peek().is_none().then_some(())
    }

    /// Consumes `word` if the text continues with it (no whitespace skipped).
    #[inline]
    pub(super) fn literal<const N: usize>(&mut self, word: &[u8; N]) -> bool {
        let found = self
            .bytes()
            .get(self.at..self.at + N)
            .is_some_and(|next| next == word);
        if found {
            self.at += N;
        }
        found
    }

    /// Where the text of a string without escapes or control characters lies
    /// (without its quotes), and whether it is all ASCII.
    #[inline(always)]
    fn plain_string(&mut self) -> Option<(Range<usize>, bool)> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.at + 1;
        let rest = self.bytes().get(start..)?;
        let (run, ascii) = plain_run(rest);
        let end = start + run;
        if self.bytes().get(end) != Some(&b'"') {
            return None;
        }
        self.at = end + 1;
        Some((start..end, ascii))
    }

    /// A string without escapes, borrowed from the text. `None` for any other
    /// value, and for a string with an escape, a control character or bytes
    /// that are not UTF-8.
    #[inline(always)]
    pub fn string(&mut self) -> Option<&'a str> {
        let (range, _) = self.plain_string()?;
        std::str::from_utf8(self.bytes().get(range)?).ok()
    }

    /// A string without escapes as a [`Text`]: a slice of the buffer for a
    /// [`shared`](Self::shared) reader, a copy otherwise. `None` as for
    /// [`string`](Self::string).
    #[inline]
    pub fn text(&mut self) -> Option<Text> {
        match self.shared {
            Some(body) => Text::slice(body, self.plain_string()?.0),
            None => self.string().map(Text::from),
        }
    }

    /// An integer of at most 18 digits (so it fits an `i64`), with an optional
    /// minus sign, written as JSON allows (no leading zero, no `+`). `None` for
    /// any other value, including a number with a fraction or an exponent, and
    /// `-0` (which serde_json reads as a float).
    #[inline(always)]
    pub fn integer(&mut self) -> Option<i64> {
        self.whitespace();
        let bytes = self.bytes();
        let mut at = self.at;
        let negative = bytes.get(at) == Some(&b'-');
        if negative {
            at += 1;
        }
        let first = at;
        let mut value: i64 = 0;
        while let Some(&digit @ b'0'..=b'9') = bytes.get(at) {
            if at - first == 18 {
                return None;
            }
            value = value * 10 + i64::from(digit - b'0');
            at += 1;
        }
        let digits = at - first;
        let zero_first = bytes.get(first) == Some(&b'0');
        // serde_json reads `-0` as a float.
        if digits == 0 || (zero_first && (digits > 1 || negative)) {
            return None;
        }
        if let Some(b'.' | b'e' | b'E') = bytes.get(at) {
            return None;
        }
        self.at = at;
        Some(if negative { -value } else { value })
    }

    /// `true` or `false`; `None` for any other value.
    #[inline]
    pub fn boolean(&mut self) -> Option<bool> {
        match self.peek()? {
            b't' => self.literal(b"true").then_some(true),
            b'f' => self.literal(b"false").then_some(false),
            _ => None,
        }
    }

    /// Consumes `null` and says whether it was there.
    #[inline(always)]
    pub fn null(&mut self) -> bool {
        self.peek() == Some(b'n') && self.literal(b"null")
    }

    /// An object: calls `field` with each key, the reader placed before the value,
    /// which `field` must read or [`skip`](Self::skip). Keys are given as bytes
    /// (checked to be UTF-8); a key with an escape makes the read fail. `None`
    /// when the value is not an object or when `field` returns `None`.
    #[inline]
    pub fn object(
        &mut self,
        mut field: impl FnMut(&mut Self, &'a [u8]) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            let (range, ascii) = self.plain_string()?;
            let key = self.bytes().get(range)?;
            if !ascii {
                std::str::from_utf8(key).ok()?;
            }
            self.eat(b':')?;
            field(self, key)?;
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An array: calls `item` with the reader placed before each element, which
    /// `item` must read or [`skip`](Self::skip). `None` when the value is not an
    /// array or when `item` returns `None`.
    #[inline]
    pub fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.at += 1;
            return Some(());
        }
        loop {
            item(self)?;
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plain_values_and_refuses_the_rest() {
        assert_eq!(Reader::new(r#" "abc" "#).string(), Some("abc"));
        assert_eq!(Reader::new(r#""é€""#).string(), Some("é€"));
        assert_eq!(Reader::new(r#""a\"b""#).string(), None);
        assert_eq!(Reader::new("\"a\tb\"").string(), None);
        assert_eq!(Reader::new(r#""abc"#).string(), None);
        assert_eq!(Reader::new("7").string(), None);
        for (text, want) in [
            ("0", Some(0)),
            ("-0", None),
            ("12", Some(12)),
            ("-12", Some(-12)),
            ("999999999999999999", Some(999_999_999_999_999_999)),
            ("-999999999999999999", Some(-999_999_999_999_999_999)),
            ("1000000000000000000", None),
            ("01", None),
            ("-", None),
            ("+1", None),
            ("1.0", None),
            ("1e3", None),
            ("1E3", None),
            ("\"1\"", None),
            ("", None),
        ] {
            assert_eq!(Reader::new(text).integer(), want, "{text}");
        }
        assert_eq!(Reader::new(" true").boolean(), Some(true));
        assert_eq!(Reader::new("false").boolean(), Some(false));
        assert_eq!(Reader::new("nul").boolean(), None);
        assert!(Reader::new("\n null").null());
        assert!(!Reader::new("nul").null());
    }

    #[test]
    fn walks_objects_and_arrays() {
        let mut reader = Reader::new("{ \"a\" : [1, 2 ,3] ,\n        \"b\":{}}  ");
        let mut sum = 0;
        let mut keys = Vec::new();
        reader
            .object(|reader, key| {
                keys.push(key.to_vec());
                match key {
                    b"a" => reader.array(|reader| reader.integer().map(|n| sum += n)),
                    _ => reader.object(|_, _| None),
                }
            })
            .unwrap();
        assert_eq!(reader.end(), Some(()));
        assert_eq!((sum, keys), (6, vec![b"a".to_vec(), b"b".to_vec()]));
        for bad in [
            "{\"a\":1,}",
            "{,}",
            "{\"a\" 1}",
            "{\"a\":1",
            "{a:1}",
            "{\"a\\u0041\":1}",
            "[1]",
        ] {
            assert_eq!(
                Reader::new(bad).object(|reader, _| reader.skip()),
                None,
                "{bad}"
            );
        }
        for bad in ["[1,]", "[,1]", "[1 2]", "[1", "{}"] {
            assert_eq!(
                Reader::new(bad).array(|reader| reader.skip()),
                None,
                "{bad}"
            );
        }
        assert_eq!(Reader::new("{} x").object(|_, _| None).map(drop), Some(()));
        assert_eq!(Reader::new("x").end(), None);
    }
}
