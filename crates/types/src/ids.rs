use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Text;

/// Why a string is not a valid identifier.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The identifier was empty.
    #[error("{kind} is empty: give the value from the Agora Console or from the previous call")]
    Empty {
        /// Which identifier.
        kind: &'static str,
    },
    /// A uid was not a decimal integer in 1..=4294967295.
    #[error("uid `{value}` is not a decimal integer in 1..=4294967295 (\"0\" is not allowed)")]
    Uid {
        /// The rejected text.
        value: String,
    },
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Text);

        impl $name {
            /// Wraps the identifier, rejecting the empty string.
            pub fn new(value: impl Into<Text>) -> Result<Self, IdError> {
                let value = value.into();
                if value.is_empty() {
                    return Err(IdError::Empty { kind: $kind });
                }
                Ok(Self(value))
            }

            /// The identifier as sent on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Wraps a decoded value as the derived decoder does: unchecked, so an
            /// empty string decodes too. (`AppId` never comes in a response.)
            #[allow(dead_code)]
            pub(crate) fn from_wire(value: Text) -> Self {
                Self(value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0.as_str())
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// The App ID of an Agora project; the `{appid}` path segment. Not a secret.
    AppId,
    "app id"
);
string_id!(
    /// The channel name: the RTC channel to record (individual, mix), or a task label
    /// of at most 1024 bytes in web mode. The character and length rules depend on the
    /// mode and are checked when a request is validated.
    Cname,
    "cname"
);
string_id!(
    /// The opaque resource id returned by acquire: valid for 5 minutes and one session.
    ResourceId,
    "resource id"
);
string_id!(
    /// The recording session id returned by start (32 hex characters).
    Sid,
    "sid"
);

/// The recorder bot's own RTC uid: a decimal integer in 1..=2³²−1, carried on the
/// wire as a JSON string (`"527841"`). It must not collide with any user in the channel.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uid(NonZeroU32);

impl Uid {
    /// A uid from its number; `0` is rejected.
    pub fn new(value: u32) -> Result<Self, IdError> {
        NonZeroU32::new(value)
            .map(Self)
            .ok_or_else(|| IdError::Uid {
                value: value.to_string(),
            })
    }

    /// The uid as a number.
    pub fn get(self) -> u32 {
        self.0.get()
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uid({})", self.0)
    }
}

impl FromStr for Uid {
    type Err = IdError;

    /// Parses the decimal form; signs, spaces, leading `+` and `0` are rejected.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || IdError::Uid {
            value: s.to_owned(),
        };
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let value: u32 = s.parse().map_err(|_| invalid())?;
        Self::new(value).map_err(|_| invalid())
    }
}

impl Serialize for Uid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Uid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_is_a_json_string_of_a_nonzero_u32() {
        let uid: Uid = serde_json::from_str("\"527841\"").unwrap();
        assert_eq!(uid.get(), 527_841);
        assert_eq!(serde_json::to_string(&uid).unwrap(), "\"527841\"");
        for bad in [
            "\"0\"",
            "\"-1\"",
            "\"4294967296\"",
            "\"\"",
            "\" 1\"",
            "\"+1\"",
            "1",
        ] {
            assert!(
                serde_json::from_str::<Uid>(bad).is_err(),
                "{bad} was accepted"
            );
        }
        assert_eq!("4294967295".parse::<Uid>().unwrap().get(), u32::MAX);
    }

    #[test]
    fn string_ids_reject_empty() {
        assert!(Sid::new("").is_err());
        assert_eq!(AppId::new("abc").unwrap().as_str(), "abc");
        assert_eq!(
            format!("{:?}", Cname::new("room").unwrap()),
            "Cname(\"room\")"
        );
    }
}
