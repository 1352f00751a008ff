//! Checks a request body against the rules the service applies, before it is sent.
//!
//! Every request body implements [`Validate`]. A failure is a [`ValidationError`]
//! that names the field by its JSON path (for example
//! `clientRequest.recordingConfig.maxIdleTime`) and the [`Rule`] it breaks.

use std::fmt;

use crate::Mode;

/// A request body that can be checked before it is sent.
///
/// The rules are those of spec sections 2-8: ranges, list sizes, formats, vendor
/// codes, and which blocks each mode allows. For a mode this crate does not know
/// (such as the preview `raw`), the mode-specific rules are not enforced and the
/// others are.
pub trait Validate {
    /// Checks the body for the recording `mode` it will be sent with (the `{mode}`
    /// path segment; for acquire, the mode the later start will use). Returns the
    /// first rule that fails.
    fn validate(&self, mode: &Mode) -> Result<(), ValidationError>;
}

/// A request field that breaks one of the service's rules.
///
/// `Display` reads `field: rule`, e.g.
/// `clientRequest.recordingConfig.maxIdleTime: must be in 5..=2592000, got 3`.
/// Secrets are never part of the text.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{field}: {rule}")]
pub struct ValidationError {
    field: String,
    rule: Rule,
}

impl ValidationError {
    /// An error for the field at JSON path `field`.
    pub fn new(field: impl Into<String>, rule: Rule) -> Self {
        Self {
            field: field.into(),
            rule,
        }
    }

    /// The JSON path of the offending field, e.g. `clientRequest.storageConfig.vendor`
    /// or `clientRequest.layoutConfig[3].x_axis`.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The rule the field breaks.
    pub fn rule(&self) -> &Rule {
        &self.rule
    }
}

/// The rule a field breaks; its `Display` says what is expected and what was found.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Rule {
    /// The field is required here but missing.
    Required,
    /// The field is not allowed in this recording mode.
    NotInMode {
        /// The mode of the request.
        mode: String,
        /// The modes that accept the field.
        allowed: &'static str,
    },
    /// An integer outside its documented range.
    Range {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
        /// The value given.
        got: i64,
    },
    /// A number outside its documented range.
    FloatRange {
        /// Smallest accepted value.
        min: f64,
        /// Largest accepted value.
        max: f64,
        /// The value given.
        got: f64,
    },
    /// A list with too many entries.
    TooMany {
        /// Most entries accepted.
        max: usize,
        /// Entries given.
        got: usize,
    },
    /// A text that is too long.
    TooLong {
        /// Longest accepted length.
        max: usize,
        /// Length given.
        got: usize,
        /// The unit of the lengths (`bytes` or `characters`).
        unit: &'static str,
    },
    /// A value that is empty but must not be.
    Empty,
    /// A value not among those the documentation lists.
    NotOneOf {
        /// The accepted values.
        allowed: &'static str,
        /// The value given (never a secret).
        got: String,
    },
    /// A value of the wrong form.
    Format {
        /// The expected form.
        expected: &'static str,
        /// The value given (never a secret).
        got: String,
    },
    /// Two fields that exclude each other were both given.
    Exclusive {
        /// The other field.
        other: &'static str,
    },
    /// The field needs another field, or another value of it, to be set.
    Needs {
        /// What else must be set.
        what: &'static str,
    },
    /// The field is not allowed with the given value of another field.
    NotAllowedWith {
        /// The condition that forbids it.
        condition: String,
    },
    /// Any other rule, said in words (for checks made outside this crate).
    Other(String),
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Required => f.write_str("is required here; add it"),
            Self::NotInMode { mode, allowed } => {
                write!(
                    f,
                    "is not allowed in {mode} mode (only in {allowed}); remove it"
                )
            }
            Self::Range { min, max, got } => write!(f, "must be in {min}..={max}, got {got}"),
            Self::FloatRange { min, max, got } => write!(f, "must be in [{min}, {max}], got {got}"),
            Self::TooMany { max, got } => write!(f, "has {got} entries; at most {max} are allowed"),
            Self::TooLong { max, got, unit } => {
                write!(f, "is {got} {unit} long; at most {max} {unit} are allowed")
            }
            Self::Empty => f.write_str("must not be empty"),
            Self::NotOneOf { allowed, got } => write!(f, "must be one of {allowed}, got {got}"),
            Self::Format { expected, got } => write!(f, "must be {expected}, got {got}"),
            Self::Exclusive { other } => {
                write!(f, "cannot be combined with {other}; keep only one of them")
            }
            Self::Needs { what } => write!(f, "needs {what}"),
            Self::NotAllowedWith { condition } => {
                write!(f, "is not allowed when {condition}; remove it")
            }
            Self::Other(text) => f.write_str(text),
        }
    }
}

/// A JSON path built lazily: nothing is allocated unless an error is reported.
#[derive(Clone, Copy)]
#[allow(clippy::use_self)] // `Self` cannot name a different lifetime here.
pub(crate) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    segment: Segment<'a>,
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

impl<'a> Path<'a> {
    /// A path starting at the top-level key `key`.
    pub(crate) const fn root(key: &'a str) -> Self {
        Self {
            parent: None,
            segment: Segment::Key(key),
        }
    }

    /// The path of member `key` of this object.
    pub(crate) const fn key(&'a self, key: &'a str) -> Self {
        Self {
            parent: Some(self),
            segment: Segment::Key(key),
        }
    }

    /// The path of entry `index` of this array.
    pub(crate) const fn index(&'a self, index: usize) -> Self {
        Self {
            parent: Some(self),
            segment: Segment::Index(index),
        }
    }

    /// The error for this field.
    pub(crate) fn error(&self, rule: Rule) -> ValidationError {
        ValidationError::new(self.to_string(), rule)
    }

    /// Checks that `value` lies in `min..=max`.
    pub(crate) fn range(&self, value: i64, min: i64, max: i64) -> Result<(), ValidationError> {
        if (min..=max).contains(&value) {
            Ok(())
        } else {
            Err(self.error(Rule::Range {
                min,
                max,
                got: value,
            }))
        }
    }

    /// Checks that an optional `value` lies in `min..=max`.
    pub(crate) fn opt_range<T: Copy + Into<i64>>(
        &self,
        value: Option<T>,
        min: i64,
        max: i64,
    ) -> Result<(), ValidationError> {
        value.map_or(Ok(()), |v| self.range(v.into(), min, max))
    }

    /// Checks that `value` is finite and lies in `[0, 1]`.
    pub(crate) fn unit_interval(&self, value: f64) -> Result<(), ValidationError> {
        if (0.0..=1.0).contains(&value) {
            Ok(())
        } else {
            Err(self.error(Rule::FloatRange {
                min: 0.0,
                max: 1.0,
                got: value,
            }))
        }
    }

    /// Checks that a list has at most `max` entries.
    pub(crate) fn at_most<T>(&self, list: &[T], max: usize) -> Result<(), ValidationError> {
        if list.len() <= max {
            Ok(())
        } else {
            Err(self.error(Rule::TooMany {
                max,
                got: list.len(),
            }))
        }
    }

    /// Checks that a text is not empty.
    pub(crate) fn non_empty(&self, value: &str) -> Result<(), ValidationError> {
        if value.is_empty() {
            Err(self.error(Rule::Empty))
        } else {
            Ok(())
        }
    }

    /// Fails with [`Rule::NotInMode`] when `present` and the mode is not allowed.
    pub(crate) fn only_in(
        &self,
        present: bool,
        mode: &Mode,
        allowed_here: bool,
        allowed: &'static str,
    ) -> Result<(), ValidationError> {
        if present && !allowed_here {
            Err(self.error(Rule::NotInMode {
                mode: mode.to_string(),
                allowed,
            }))
        } else {
            Ok(())
        }
    }

    /// Fails with [`Rule::Required`] when `present` is false.
    pub(crate) fn required(&self, present: bool) -> Result<(), ValidationError> {
        if present {
            Ok(())
        } else {
            Err(self.error(Rule::Required))
        }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(parent) = self.parent {
            parent.fmt(f)?;
            match self.segment {
                Segment::Key(key) => write!(f, ".{key}"),
                Segment::Index(index) => write!(f, "[{index}]"),
            }
        } else {
            match self.segment {
                Segment::Key(key) => f.write_str(key),
                Segment::Index(index) => write!(f, "[{index}]"),
            }
        }
    }
}

/// The characters an RTC channel name may use besides ASCII letters and digits.
const CNAME_PUNCTUATION: &str = " !#$%&()+-:;<=.>?@[]^_{}|~,";

/// Checks the channel name for `mode`: at most 1024 bytes in web mode (a task
/// label), else fewer than 64 bytes of letters, digits, space and
/// `! # $ % & ( ) + - : ; < = . > ? @ [ ] ^ _ { } | ~ ,`.
pub(crate) fn check_cname(cname: &crate::Cname, mode: &Mode) -> Result<(), ValidationError> {
    let path = Path::root("cname");
    let value = cname.as_str();
    path.non_empty(value)?;
    if *mode == Mode::Web {
        if value.len() > 1024 {
            return Err(path.error(Rule::TooLong {
                max: 1024,
                got: value.len(),
                unit: "bytes",
            }));
        }
        return Ok(());
    }
    if value.len() > 63 {
        return Err(path.error(Rule::TooLong {
            max: 63,
            got: value.len(),
            unit: "bytes",
        }));
    }
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || CNAME_PUNCTUATION.contains(*c)))
    {
        return Err(path.error(Rule::Format {
            expected: "letters, digits, space and ! # $ % & ( ) + - : ; < = . > ? @ [ ] ^ _ { } | ~ , only",
            got: format!("{bad:?}"),
        }));
    }
    Ok(())
}

/// Whether the mode is individual, or one this crate does not know (rules of
/// unknown modes are not enforced).
pub(crate) fn is_individual(mode: &Mode) -> bool {
    matches!(mode, Mode::Individual | Mode::Other(_))
}

/// Whether the mode is mix, or one this crate does not know.
pub(crate) fn is_mix(mode: &Mode) -> bool {
    matches!(mode, Mode::Mix | Mode::Other(_))
}

/// Whether the mode is web, or one this crate does not know.
pub(crate) fn is_web(mode: &Mode) -> bool {
    matches!(mode, Mode::Web | Mode::Other(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_as_json_paths() {
        let root = Path::root("clientRequest");
        let list = root.key("layoutConfig");
        let entry = list.index(3);
        let field = entry.key("x_axis");
        let err = field.unit_interval(1.5).unwrap_err();
        assert_eq!(err.field(), "clientRequest.layoutConfig[3].x_axis");
        assert_eq!(
            err.to_string(),
            "clientRequest.layoutConfig[3].x_axis: must be in [0, 1], got 1.5"
        );
        let err = root
            .key("recordingConfig")
            .key("maxIdleTime")
            .range(3, 5, 2_592_000);
        assert_eq!(
            err.unwrap_err().to_string(),
            "clientRequest.recordingConfig.maxIdleTime: must be in 5..=2592000, got 3"
        );
    }
}
