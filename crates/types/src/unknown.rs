//! Members of a JSON object that this crate does not know, kept as they came.
//!
//! The service adds fields often. A request decoded from JSON (a raw call, a
//! `--client-request` file) keeps the members its type does not name and sends
//! them as given; a response keeps what a newer revision of the service added.
//! Every object type of the API has a [`UnknownFields`] member for them, and
//! [`Unknown::unknown_fields`] lists their JSON paths, so that validation can warn
//! about a misspelt key instead of dropping it.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The members of one JSON object that its type does not name, in the order they
/// came. Serialized back in place (flattened into the object).
///
/// `Debug` shows the names only: a member this crate does not know may hold a
/// secret.
///
/// ```
/// use cloudrec_types::{StopClientRequest, Unknown};
///
/// let body: StopClientRequest = serde_json::from_str(r#"{"async_stop":true,"futureField":{}}"#)?;
/// assert_eq!(body.unknown_fields(), ["futureField"]);
/// assert_eq!(serde_json::to_string(&body)?, r#"{"async_stop":true,"futureField":{}}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnknownFields(Map<String, Value>);

impl UnknownFields {
    /// True when the object had no member its type does not name.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The names of the unknown members.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The value of the unknown member `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// Adds (or replaces) the member `name`, sent after the known ones.
    pub fn insert(&mut self, name: impl Into<String>, value: Value) {
        self.0.insert(name.into(), value);
    }

    /// Appends the JSON path of each member under the object at `at`.
    pub(crate) fn paths(&self, at: &str, found: &mut Vec<String>) {
        found.extend(self.names().map(|name| join(at, name)));
    }
}

impl fmt::Debug for UnknownFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

/// A type of the API whose objects may carry members this crate does not know.
pub trait Unknown {
    /// Appends the JSON path of every unknown member of this value, which sits at
    /// path `at` (empty for the top level).
    fn collect_unknown(&self, at: &str, found: &mut Vec<String>);

    /// The JSON paths of every unknown member, e.g.
    /// `clientRequest.recordingConfig.futureField`, sorted; empty when there is none.
    fn unknown_fields(&self) -> Vec<String> {
        let mut found = Vec::new();
        self.collect_unknown("", &mut found);
        found.sort();
        found
    }
}

impl<T: Unknown> Unknown for Option<T> {
    fn collect_unknown(&self, at: &str, found: &mut Vec<String>) {
        if let Some(value) = self {
            value.collect_unknown(at, found);
        }
    }
}

impl<T: Unknown> Unknown for Vec<T> {
    fn collect_unknown(&self, at: &str, found: &mut Vec<String>) {
        for (index, value) in self.iter().enumerate() {
            value.collect_unknown(&format!("{at}[{index}]"), found);
        }
    }
}

impl<T: Unknown> Unknown for Box<T> {
    fn collect_unknown(&self, at: &str, found: &mut Vec<String>) {
        (**self).collect_unknown(at, found);
    }
}

/// `at.name`, or `name` at the top level.
pub(crate) fn join(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_owned()
    } else {
        format!("{at}.{name}")
    }
}

/// Implements [`Unknown`] for a struct with an `unknown` member, visiting the
/// listed members (by field and JSON name) that may hold objects in turn.
macro_rules! unknown_members {
    ($type:ty $(, $field:ident: $name:literal)* $(,)?) => {
        impl $crate::Unknown for $type {
            fn collect_unknown(&self, at: &str, found: &mut Vec<String>) {
                self.unknown.paths(at, found);
                $(
                    self.$field.collect_unknown(&$crate::unknown::join(at, $name), found);
                )*
            }
        }
    };
}
pub(crate) use unknown_members;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_names_the_members_without_their_values() {
        let mut unknown = UnknownFields::default();
        unknown.insert("newSecretKey", Value::String("s3cr3t".into()));
        let shown = format!("{unknown:?}");
        assert!(shown.contains("newSecretKey"), "{shown}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }

    #[test]
    fn paths_join_under_their_parent() {
        let mut unknown = UnknownFields::default();
        unknown.insert("a", Value::Null);
        let mut found = Vec::new();
        unknown.paths("", &mut found);
        unknown.paths("clientRequest[2]", &mut found);
        assert_eq!(found, ["a", "clientRequest[2].a"]);
    }
}
