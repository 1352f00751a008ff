use std::error::Error as StdError;
use std::fmt;
use std::path::PathBuf;

/// Why the event pipeline, a sink or an envelope could not be built or decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventsError {
    /// Building the pipeline or starting a sink needs a tokio runtime, and none was running.
    #[error(
        "no tokio runtime: build the pipeline and start sinks from inside a tokio runtime (e.g. in #[tokio::main])"
    )]
    NoRuntime,
    /// Two sinks of one pipeline had the same name, so their counters would be ambiguous.
    #[error("duplicate sink name `{name}`: give every sink of a pipeline a unique name")]
    DuplicateSink {
        /// The repeated name.
        name: String,
    },
    /// A configuration value is out of range.
    #[error("invalid setting `{setting}`: {expected}")]
    InvalidSetting {
        /// Which setting.
        setting: &'static str,
        /// What would be accepted.
        expected: &'static str,
    },
    /// The file for a JSON lines sink could not be opened for appending.
    #[error("cannot open `{}` for JSON lines: check that the directory exists and is writable", path.display())]
    OpenFile {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The AMQP URL could not be parsed. The URL itself is not repeated: it may hold a password.
    #[error(
        "invalid AMQP URL: expected amqp://user:password@host:port/vhost (vhost `/` is written %2f)"
    )]
    AmqpUrl,
    /// Bytes were not a CloudEvents 1.0 structured JSON event as this crate writes them.
    #[error(
        "not a CloudEvents 1.0 JSON event: expected an object with specversion 1.0, id, source, type and time"
    )]
    Decode {
        /// The decoder's reason.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// An AMQP message was neither a structured-mode nor a binary-mode CloudEvents 1.0
    /// event as this crate writes them.
    #[error("not a CloudEvents 1.0 AMQP message: {reason}")]
    AmqpMessage {
        /// What is missing or wrong, e.g. `binary-mode message has no ce-id header`.
        reason: String,
    },
    /// A CloudEvents extension attribute name broke the specification's rules.
    #[error(
        "invalid CloudEvents extension name `{name}`: use 1 to 20 lowercase ASCII letters or digits, not a reserved attribute"
    )]
    ExtensionName {
        /// The rejected name.
        name: String,
    },
}

/// What kind of failure a sink reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SinkErrorKind {
    /// Writing to the destination failed (file, stdout, socket); a retry may succeed.
    Io,
    /// The destination is gone for good (the receiver was dropped, the sink was shut down).
    Closed,
    /// The deadline passed before the sink finished.
    Timeout,
}

impl SinkErrorKind {
    /// Whether sending the same event again may succeed.
    pub const fn is_retryable(self) -> bool {
        match self {
            Self::Io | Self::Timeout => true,
            Self::Closed => false,
        }
    }
}

/// Why a sink could not take or flush an event.
#[derive(Debug)]
pub struct SinkError {
    kind: SinkErrorKind,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl SinkError {
    /// An error of `kind` without a cause.
    pub fn new(kind: SinkErrorKind) -> Self {
        Self { kind, source: None }
    }

    /// An error of `kind` caused by `source`.
    pub fn with_source(kind: SinkErrorKind, source: impl StdError + Send + Sync + 'static) -> Self {
        Self {
            kind,
            source: Some(Box::new(source)),
        }
    }

    /// What kind of failure it was.
    pub fn kind(&self) -> SinkErrorKind {
        self.kind
    }
}

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            SinkErrorKind::Io => "sink write failed: check the destination (disk, pipe, broker)",
            SinkErrorKind::Closed => {
                "sink is closed: it was shut down or its receiver was dropped"
            }
            SinkErrorKind::Timeout => "sink did not finish before the deadline: give it more time or check the destination",
        })
    }
}

impl StdError for SinkError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static))
    }
}
