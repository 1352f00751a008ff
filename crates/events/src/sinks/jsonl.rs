use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::Mutex;

use crate::EventsError;
use crate::envelope::CloudEvent;
use crate::error::{SinkError, SinkErrorKind};
use crate::sink::Sink;

type Writer = Box<dyn AsyncWrite + Send + Unpin>;

/// Writes each event as one line of CloudEvents JSON to a file (appending) or stdout.
///
/// Each line is written and flushed before the next event is taken, so a crash loses
/// at most the line being written.
pub struct JsonLinesSink {
    name: String,
    target: Option<PathBuf>,
    writer: Mutex<Writer>,
}

impl std::fmt::Debug for JsonLinesSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLinesSink")
            .field("name", &self.name)
            .field("target", &self.target)
            .finish()
    }
}

impl JsonLinesSink {
    /// Writes to standard output; named `stdout`.
    pub fn stdout() -> Self {
        Self {
            name: "stdout".to_owned(),
            target: None,
            writer: Mutex::new(Box::new(tokio::io::stdout())),
        }
    }

    /// Appends to `path`, creating it if needed; named `jsonl`.
    pub async fn file(path: impl AsRef<Path>) -> Result<Self, EventsError> {
        let path = path.as_ref().to_path_buf();
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .await
            .map_err(|source| EventsError::OpenFile {
                path: path.clone(),
                source,
            })?;
        Ok(Self {
            name: "jsonl".to_owned(),
            target: Some(path),
            writer: Mutex::new(Box::new(file)),
        })
    }

    /// Renames the sink (for pipelines with several JSON lines sinks).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
}

#[async_trait]
impl Sink for JsonLinesSink {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deliver(&self, event: Arc<CloudEvent>) -> Result<(), SinkError> {
        let mut line = event.to_json();
        line.push(b'\n');
        let mut writer = self.writer.lock().await;
        writer
            .write_all(&line)
            .await
            .map_err(|e| SinkError::with_source(SinkErrorKind::Io, e))?;
        writer
            .flush()
            .await
            .map_err(|e| SinkError::with_source(SinkErrorKind::Io, e))
    }

    async fn flush(&self, deadline: Instant) -> Result<(), SinkError> {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let mut writer = self.writer.lock().await;
        match tokio::time::timeout(remaining, writer.flush()).await {
            Err(_) => Err(SinkError::new(SinkErrorKind::Timeout)),
            Ok(result) => result.map_err(|e| SinkError::with_source(SinkErrorKind::Io, e)),
        }
    }
}
