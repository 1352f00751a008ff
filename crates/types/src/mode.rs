use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The recording mode, the `{mode}` path segment of start, query, update,
/// updateLayout and stop.
///
/// Values this crate does not know (such as the announced `raw`) are kept in
/// [`Mode::Other`] so that they decode and re-encode unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// One set of files per user in the channel.
    Individual,
    /// All users mixed into one set of files; the only mode with `transcodingConfig`
    /// and `updateLayout`.
    Mix,
    /// A web page rendered and recorded (needs `scene` 1 on acquire).
    Web,
    /// A mode this crate does not know, kept as sent.
    Other(String),
}

impl Mode {
    /// The path segment and wire name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Individual => "individual",
            Self::Mix => "mix",
            Self::Web => "web",
            Self::Other(other) => other,
        }
    }

    /// Parses a path segment; unknown values become [`Mode::Other`].
    pub fn parse(value: &str) -> Self {
        match value {
            "individual" => Self::Individual,
            "mix" => Self::Mix,
            "web" => Self::Web,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Mode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Mode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Ok(Self::parse(&value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_modes_round_trip() {
        for name in ["individual", "mix", "web", "raw"] {
            let mode = Mode::parse(name);
            assert_eq!(mode.as_str(), name);
            let json = serde_json::to_string(&mode).unwrap();
            assert_eq!(serde_json::from_str::<Mode>(&json).unwrap(), mode);
        }
        assert_eq!(Mode::parse("raw"), Mode::Other("raw".into()));
    }
}
