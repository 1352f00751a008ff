//! docs/events.md documents every event type with an example.

use cloudrec_events::{CloudEvent, GAP_TYPE_SUFFIX, TYPE_PREFIX, catalog};

#[test]
fn every_type_has_an_example_in_the_docs() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/events.md");
    let docs = std::fs::read_to_string(path).expect("docs/events.md is part of the repository");
    let mut types: Vec<String> = catalog::every_kind()
        .iter()
        .map(|e| CloudEvent::from_event(e, "/t").event_type())
        .collect();
    types.push(format!("{TYPE_PREFIX}{GAP_TYPE_SUFFIX}"));
    for ty in types {
        let heading = format!("### `{ty}`");
        let at = docs
            .find(&heading)
            .unwrap_or_else(|| panic!("docs/events.md has no example for {ty}"));
        assert!(
            docs[at..].contains(&format!("\"type\": \"{ty}\"")),
            "the example for {ty} does not show its type"
        );
    }
}
