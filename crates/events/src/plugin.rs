use std::sync::atomic::{AtomicU64, Ordering};

use cloudrec_core::Event;
use serde_json::Value;

use crate::EventsError;
use crate::envelope::{CloudEvent, Priority, check_extension_name};

/// What a plugin hook decided about an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Pass it on to the next plugin, then to the sinks.
    Keep,
    /// Stop it here: no later plugin and no sink sees it (counted as filtered).
    Drop,
}

/// A step of the pipeline: filter, enrich, redact or sample events.
///
/// Plugins run in the order they were added, on the thread that calls
/// [`EventSink::emit`](cloudrec_core::EventSink::emit), so hooks must be quick and
/// must not block or wait on I/O. Every hook has a no-op default: implement only the
/// ones you need (the shape of smithy's interceptors).
pub trait Plugin: Send + Sync {
    /// A short name for logs and for telling plugins apart.
    fn name(&self) -> &str;

    /// **When:** first, before the envelope exists.
    /// **Sees:** the core event, and may change it.
    /// **Drop:** the event goes no further and no envelope is built.
    fn modify_event(&self, event: &mut Event) -> Verdict {
        let _ = event;
        Verdict::Keep
    }

    /// **When:** after every plugin's `modify_event`, once the envelope (id, time,
    /// type, subject, data) is built, before fan-out.
    /// **Sees:** the envelope, and may change its data and extensions.
    /// **Drop:** no sink receives it.
    fn modify_envelope(&self, envelope: &mut CloudEvent) -> Verdict {
        let _ = envelope;
        Verdict::Keep
    }

    /// **When:** a sink's queue was full (or the pipeline shut down) and the event
    /// was dropped for that sink.
    /// **Sees:** the sink's name and the event; read-only, for alerting.
    fn on_dropped(&self, sink: &str, envelope: &CloudEvent) {
        let _ = (sink, envelope);
    }
}

/// Keeps only the core events for which a predicate is true.
pub struct Filter<F> {
    name: String,
    keep: F,
}

impl<F: Fn(&Event) -> bool + Send + Sync> Filter<F> {
    /// A filter called `name` that keeps the events for which `keep` returns true.
    pub fn new(name: impl Into<String>, keep: F) -> Self {
        Self {
            name: name.into(),
            keep,
        }
    }
}

impl<F: Fn(&Event) -> bool + Send + Sync> Plugin for Filter<F> {
    fn name(&self) -> &str {
        &self.name
    }

    fn modify_event(&self, event: &mut Event) -> Verdict {
        if (self.keep)(event) {
            Verdict::Keep
        } else {
            Verdict::Drop
        }
    }
}

/// Keeps one in `n` superseded events (status polls, call attempts) and every other event.
#[derive(Debug)]
pub struct Sample {
    one_in: u64,
    seen: AtomicU64,
}

impl Sample {
    /// Keeps the first superseded event of every `n` (n = 1 keeps all).
    pub fn one_in(n: u64) -> Result<Self, EventsError> {
        if n == 0 {
            return Err(EventsError::InvalidSetting {
                setting: "Sample::one_in",
                expected: "at least 1 (1 keeps every event)",
            });
        }
        Ok(Self {
            one_in: n,
            seen: AtomicU64::new(0),
        })
    }
}

impl Plugin for Sample {
    fn name(&self) -> &str {
        "sample"
    }

    fn modify_envelope(&self, envelope: &mut CloudEvent) -> Verdict {
        if envelope.priority() != Priority::Superseded {
            return Verdict::Keep;
        }
        if self
            .seen
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(self.one_in)
        {
            Verdict::Keep
        } else {
            Verdict::Drop
        }
    }
}

/// Replaces values in `data` with `"[redacted]"`, addressed by JSON pointers such as
/// `/text` or `/session/cname`.
#[derive(Debug)]
pub struct Redact {
    pointers: Vec<String>,
}

impl Redact {
    /// Redacts each JSON pointer (RFC 6901) that is present in an event's data.
    pub fn pointers<I, S>(pointers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            pointers: pointers.into_iter().map(Into::into).collect(),
        }
    }
}

impl Plugin for Redact {
    fn name(&self) -> &str {
        "redact"
    }

    fn modify_envelope(&self, envelope: &mut CloudEvent) -> Verdict {
        for pointer in &self.pointers {
            if let Some(value) = envelope.data_mut().pointer_mut(pointer) {
                *value = Value::String("[redacted]".to_owned());
            }
        }
        Verdict::Keep
    }
}

/// Adds a fixed CloudEvents extension attribute (e.g. `region=eu-west-1`) to every event.
#[derive(Debug)]
pub struct Enrich {
    name: String,
    value: String,
}

impl Enrich {
    /// Sets extension `name` to `value`; the name follows the CloudEvents rules
    /// (1 to 20 lowercase letters or digits).
    pub fn extension(name: &str, value: impl Into<String>) -> Result<Self, EventsError> {
        check_extension_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            value: value.into(),
        })
    }
}

impl Plugin for Enrich {
    fn name(&self) -> &str {
        "enrich"
    }

    fn modify_envelope(&self, envelope: &mut CloudEvent) -> Verdict {
        // The name was checked in `extension`, so this cannot fail.
        let _ = envelope.set_extension(&self.name, self.value.clone());
        Verdict::Keep
    }
}
