//! [`Text`]: the immutable strings of decoded responses, which share the body
//! they were read from.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, Range};

use bytes::Bytes;
use bytestring::ByteString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An immutable UTF-8 string that is cheap to clone.
///
/// A string read from a body held in [`Bytes`] (as the transport receives it)
/// is a slice of that body: decoding copies nothing, and a clone counts a
/// reference instead of allocating. The whole body stays in memory while any
/// of its strings does. A `Text` made from a `String` takes over its buffer;
/// one made from a `&'static str` points at it.
///
/// It reads as a `&str` ([`Deref`]), compares with strings, and serializes and
/// deserializes as a JSON string.
///
/// ```
/// use cloudrec_types::Text;
///
/// let name = Text::from("room1");
/// assert_eq!(name, "room1");
/// assert_eq!(name.len(), 5);
/// assert_eq!(serde_json::to_string(&name)?, r#""room1""#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Text(ByteString);

impl Text {
    /// The empty string.
    pub const fn new() -> Self {
        Self(ByteString::new())
    }

    /// A string that points at static text, without copying it.
    pub const fn from_static(text: &'static str) -> Self {
        Self(ByteString::from_static(text))
    }

    /// The bytes of `body` in `range`, sharing its buffer. `None` when the range
    /// is out of bounds or the bytes are not UTF-8.
    pub fn slice(body: &Bytes, range: Range<usize>) -> Option<Self> {
        body.get(range.clone())?;
        ByteString::try_from(body.slice(range)).ok().map(Self)
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl Hash for Text {
    /// Hashes as the `str` does, so that `Borrow<str>` lookups work.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<String> for Text {
    /// Takes over the string's buffer.
    fn from(text: String) -> Self {
        Self(ByteString::from(text))
    }
}

impl From<&str> for Text {
    /// Copies the string.
    fn from(text: &str) -> Self {
        Self(ByteString::from(text))
    }
}

impl From<&String> for Text {
    /// Copies the string.
    fn from(text: &String) -> Self {
        Self::from(text.as_str())
    }
}

impl From<Box<str>> for Text {
    fn from(text: Box<str>) -> Self {
        Self::from(String::from(text))
    }
}

impl From<std::borrow::Cow<'_, str>> for Text {
    fn from(text: std::borrow::Cow<'_, str>) -> Self {
        match text {
            std::borrow::Cow::Borrowed(text) => Self::from(text),
            std::borrow::Cow::Owned(text) => Self::from(text),
        }
    }
}

impl From<Text> for String {
    fn from(text: Text) -> Self {
        text.as_str().to_owned()
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == other.as_str()
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn slices_share_the_body() {
        let body = Bytes::from(r#"{"sid":"38f8"}"#.to_owned());
        let sid = Text::slice(&body, 8..12).unwrap();
        assert_eq!(sid, "38f8");
        assert_eq!(sid.as_ptr(), body[8..].as_ptr());
        assert_eq!(Text::slice(&body, 14..14), Some(Text::new()));
        assert_eq!(Text::slice(&body, 12..15), None);
        assert_eq!(Text::slice(&body, Range { start: 12, end: 8 }), None);

        let invalid = Bytes::from_static(b"\"\xff\xfe\"");
        assert_eq!(Text::slice(&invalid, 1..3), None);
    }

    #[test]
    fn strings_compare_by_content_however_they_are_kept() {
        let body = Bytes::from("abc".to_owned());
        let shared = Text::slice(&body, 0..3).unwrap();
        assert_eq!(Text::from("abc".to_owned()), shared);
        assert_eq!(Text::from_static("abc"), shared);
        let (before, after) = (Text::from_static("ab"), Text::from("b"));
        assert!(before < shared && shared < after);
        let state = std::collections::hash_map::RandomState::new();
        assert_eq!(
            state.hash_one(Text::from_static("abc")),
            state.hash_one(&shared)
        );
        assert_eq!(state.hash_one(&shared), state.hash_one("abc"));
    }

    #[test]
    fn reads_compares_and_round_trips_as_a_string() {
        let text = Text::from(String::from("caf\u{e9}"));
        assert_eq!(text, "caf\u{e9}");
        assert_eq!("caf\u{e9}", text);
        assert_eq!(text.to_string(), "caf\u{e9}");
        assert_eq!(format!("{text:?}"), r#""café""#);
        let json = serde_json::to_string(&text).unwrap();
        assert_eq!(serde_json::from_str::<Text>(&json).unwrap(), text);
        let mut set = std::collections::HashSet::new();
        set.insert(text.clone());
        assert!(set.contains("caf\u{e9}"));
    }
}
