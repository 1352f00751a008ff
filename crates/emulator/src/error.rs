use std::net::SocketAddr;

/// What went wrong while configuring or starting an emulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: pick a free port (0 picks one) or stop what holds it")]
    Bind {
        /// The address that was asked for.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// [`Emulator::start`](crate::Emulator::start) was called outside a tokio runtime.
    #[error("no tokio runtime: start the emulator from inside a tokio runtime")]
    NoRuntime,
    /// A configuration value is out of its range.
    #[error("invalid emulator configuration: {0}")]
    InvalidConfig(String),
    /// A configuration or fault file is not valid JSON of the expected shape.
    #[error("invalid {what} JSON: fix the file (see docs/emulator.md for its shape)")]
    InvalidJson {
        /// What was being read: `config` or `fault rules`.
        what: &'static str,
        /// Where the parser stopped.
        #[source]
        source: JsonError,
    },
}

/// A JSON syntax or shape error, with its line and column.
#[derive(Debug, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct JsonError {
    line: usize,
    column: usize,
    message: String,
}

impl JsonError {
    pub(crate) fn from_serde(error: &serde_json::Error) -> Self {
        Self {
            line: error.line(),
            column: error.column(),
            message: error.to_string(),
        }
    }

    /// The 1-based line where the parser stopped.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The 1-based column where the parser stopped.
    pub fn column(&self) -> usize {
        self.column
    }
}
