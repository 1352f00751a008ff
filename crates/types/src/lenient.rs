//! Lenient decoding helpers: numbers that older revisions of the service sent as
//! JSON strings, and the open enums that keep values this crate does not know.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};

/// Reads an integer sent as a JSON number (integer or integral float) or as a
/// decimal string such as `"1562724971626"`.
pub(crate) fn i64_from<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    deserializer.deserialize_any(I64Visitor)
}

/// [`i64_from`] for an optional field; `null` reads as `None`.
pub(crate) fn opt_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    Option::<LenientI64>::deserialize(deserializer).map(|value| value.map(|v| v.0))
}

struct LenientI64(i64);

impl<'de> Deserialize<'de> for LenientI64 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        i64_from(deserializer).map(Self)
    }
}

struct I64Visitor;

impl Visitor<'_> for I64Visitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer, as a JSON number or a decimal string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        // Integral floats such as `5.0` within the exactly representable range.
        const LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53
        if v.fract() == 0.0 && v.abs() <= LIMIT {
            #[allow(clippy::cast_possible_truncation)]
            Ok(v as i64)
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        v.trim()
            .parse()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// Reads an optional identifier sent as a JSON string or as an integer (uids
/// appear both ways), as text; `null` reads as `None`.
pub(crate) fn opt_str_or_int<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Option::<StrOrInt>::deserialize(deserializer).map(|value| value.map(|v| v.0))
}

struct StrOrInt(String);

impl<'de> Deserialize<'de> for StrOrInt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrOrIntVisitor).map(Self)
    }
}

struct StrOrIntVisitor;

impl Visitor<'_> for StrOrIntVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an integer")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// Reads a string without allocating, then maps it with the given parser.
pub(crate) struct StrVisitor<T>(pub(crate) fn(&str) -> T);

impl<T> Visitor<'_> for StrVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Ok((self.0)(v))
    }
}

/// What validation needs from an integer-coded enum.
pub(crate) trait IntEnum: Copy {
    /// The wire code.
    fn wire_code(self) -> i64;
    /// Whether the documentation lists the code.
    fn known(self) -> bool;
}

/// Declares an enum carried on the wire as a string, with a variant that keeps
/// values this crate does not know, so that no value ever fails a decode.
macro_rules! open_str_enum {
    (
        $(#[$doc:meta])*
        $name:ident {
            $( $(#[$vdoc:meta])* $variant:ident = $wire:literal, )*
        }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vdoc])* $variant, )*
            /// A value this crate does not know, kept as sent.
            Unknown(String),
        }

        impl $name {
            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )*
                    Self::Unknown(other) => other,
                }
            }

            /// Reads a wire value; values this crate does not know become `Unknown`.
            pub fn parse(value: &str) -> Self {
                match value {
                    $( $wire => Self::$variant, )*
                    other => Self::Unknown(other.to_owned()),
                }
            }

            /// Whether the value is one the documentation lists.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_str($crate::lenient::StrVisitor(Self::parse))
            }
        }
    };
}

/// Declares an enum carried on the wire as an integer (a decimal string is also
/// accepted), with a variant that keeps codes this crate does not know.
macro_rules! open_int_enum {
    (
        $(#[$doc:meta])*
        $name:ident {
            $( $(#[$vdoc:meta])* $variant:ident = $code:literal, )*
        }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vdoc])* $variant, )*
            /// A code this crate does not know, kept as sent.
            Other(i64),
        }

        impl $name {
            /// The wire code.
            pub const fn code(self) -> i64 {
                match self {
                    $( Self::$variant => $code, )*
                    Self::Other(other) => other,
                }
            }

            /// Reads a wire code; codes this crate does not know become `Other`.
            pub const fn from_code(code: i64) -> Self {
                match code {
                    $( $code => Self::$variant, )*
                    other => Self::Other(other),
                }
            }

            /// Whether the code is one the documentation lists.
            pub const fn is_known(self) -> bool {
                !matches!(self, Self::Other(_))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}", self.code())
            }
        }

        impl $crate::lenient::IntEnum for $name {
            fn wire_code(self) -> i64 {
                self.code()
            }

            fn known(self) -> bool {
                self.is_known()
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_i64(self.code())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::lenient::i64_from(deserializer).map(Self::from_code)
            }
        }
    };
}

pub(crate) use {open_int_enum, open_str_enum};

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Holder {
        #[serde(default, deserialize_with = "opt_i64")]
        n: Option<i64>,
    }

    #[derive(Deserialize)]
    struct IdHolder {
        #[serde(default, deserialize_with = "opt_str_or_int")]
        id: Option<String>,
    }

    #[test]
    fn identifiers_as_strings_or_integers() {
        for (json, want) in [
            (r#"{"id":"527841"}"#, Some("527841")),
            (r#"{"id":527841}"#, Some("527841")),
            (r#"{"id":-1}"#, Some("-1")),
            (r#"{"id":null}"#, None),
            (r#"{}"#, None),
        ] {
            let holder: IdHolder = serde_json::from_str(json).unwrap();
            assert_eq!(holder.id.as_deref(), want, "{json}");
        }
        for bad in [r#"{"id":1.5}"#, r#"{"id":true}"#, r#"{"id":[1]}"#] {
            assert!(serde_json::from_str::<IdHolder>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn integers_as_numbers_or_strings() {
        for (json, want) in [
            (r#"{"n":5}"#, Some(5)),
            (r#"{"n":"5"}"#, Some(5)),
            (r#"{"n":"1562724971626"}"#, Some(1_562_724_971_626)),
            (r#"{"n":5.0}"#, Some(5)),
            (r#"{"n":null}"#, None),
            (r#"{}"#, None),
        ] {
            let holder: Holder = serde_json::from_str(json).unwrap();
            assert_eq!(holder.n, want, "{json}");
        }
        for bad in [
            r#"{"n":"x"}"#,
            r#"{"n":5.5}"#,
            r#"{"n":true}"#,
            r#"{"n":18446744073709551615}"#,
        ] {
            assert!(serde_json::from_str::<Holder>(bad).is_err(), "{bad}");
        }
    }
}
