//! Writing a plugin for the event pipeline, and wiring the built-in ones.
//!
//! A plugin implements only the hooks it needs; here one drops events of test
//! channels and tags the rest with the tenant that owns the App ID, the built-in
//! ones sample status polls and redact the failure text. Events go to stdout as
//! JSON lines and to an in-memory channel. No broker is needed.
//!
//! ```text
//! cargo run -p cloudrec-examples --example event_plugin
//! ```

use std::collections::HashMap;
use std::time::Duration;

use cloudrec_core::{Event, EventSink};
use cloudrec_events::{
    CloudEvent, JsonLinesSink, MemorySink, Pipeline, Plugin, Redact, Sample, Verdict, catalog,
};

/// Drops events of channels named `test-…` and adds a `tenant` extension attribute.
struct Tenants {
    by_app: HashMap<String, String>,
}

impl Plugin for Tenants {
    fn name(&self) -> &str {
        "tenants"
    }

    fn modify_event(&self, event: &mut Event) -> Verdict {
        match &event.subject.cname {
            Some(cname) if cname.as_str().starts_with("test-") => Verdict::Drop,
            _ => Verdict::Keep,
        }
    }

    fn modify_envelope(&self, envelope: &mut CloudEvent) -> Verdict {
        let app = envelope.data()["session"]["appId"]
            .as_str()
            .unwrap_or_default();
        let tenant = self
            .by_app
            .get(app)
            .map_or("unknown", String::as_str)
            .to_owned();
        // "tenant" is a valid CloudEvents extension name.
        let _ = envelope.set_extension("tenant", tenant);
        Verdict::Keep
    }

    fn on_dropped(&self, sink: &str, envelope: &CloudEvent) {
        eprintln!("sink {sink} is full: lost {}", envelope.id());
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (memory, mut received) = MemorySink::channel(1024);
    let pipeline = Pipeline::builder()
        .source("/cloudrec/example")
        .plugin(Tenants {
            by_app: HashMap::from([(catalog::subject().app_id.to_string(), "acme".to_owned())]),
        })
        .plugin(Sample::one_in(10)?)
        .plugin(Redact::pointers(["/text"]))
        .sink(JsonLinesSink::stdout())
        .sink(memory)
        .build()?;

    // The session driver holds the pipeline as its `EventSink`.
    let sink: &dyn EventSink = &pipeline;
    for event in catalog::every_kind() {
        sink.emit(event);
    }
    let mut test_channel = catalog::every_kind().remove(0);
    std::sync::Arc::make_mut(&mut test_channel.subject).cname =
        cloudrec_types::Cname::new("test-load").ok();
    sink.emit(test_channel);

    let report = pipeline.shutdown(Duration::from_secs(5)).await;
    eprintln!("flushed every sink: {}", report.is_complete());
    eprintln!(
        "{} events in memory, {} dropped by plugins",
        received.drain().len(),
        pipeline.filtered()
    );
    for stats in pipeline.stats() {
        eprintln!("{stats:?}");
    }
    Ok(())
}
