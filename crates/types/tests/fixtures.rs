//! Every fixture listed in `tests/fixtures/INDEX.tsv` (copied from the spec) is
//! checked: request bodies decode, validate for the modes their row names, fail
//! validation in the other modes where the mode decides which blocks are allowed,
//! and re-encode to an equal JSON value; response and error bodies decode.

use std::path::PathBuf;

use cloudrec_types::{
    AcquireRequest, AcquireResponse, ErrorBody, Mode, QueryResponse, StartRequest, StartResponse,
    StopRequest, StopResponse, UpdateLayoutRequest, UpdateLayoutResponse, UpdateRequest,
    UpdateResponse, Validate,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

struct Row {
    file: String,
    kind: String,
    endpoint: String,
    mode: String,
    http_status: String,
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn rows() -> Vec<Row> {
    let index = std::fs::read_to_string(fixtures_dir().join("INDEX.tsv")).unwrap();
    let mut lines = index.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    assert_eq!(
        header[..5],
        ["file", "kind", "endpoint", "mode", "http_status"]
    );
    lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            Row {
                file: cells[0].to_owned(),
                kind: cells[1].to_owned(),
                endpoint: cells[2].to_owned(),
                mode: cells[3].to_owned(),
                http_status: cells[4].to_owned(),
            }
        })
        .collect()
}

fn read(file: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(file)).unwrap()
}

const ALL_MODES: [Mode; 3] = [Mode::Individual, Mode::Mix, Mode::Web];

/// The modes a request row is valid in. Acquire rows have no mode (`-`); which
/// later start each one prepares is read from its notes and body.
fn modes_of(row: &Row) -> Vec<Mode> {
    match (row.mode.as_str(), row.file.as_str()) {
        ("-", "acquire.request.web.json") => vec![Mode::Web],
        // Carries a mix startParameter (transcodingConfig, audioProfile).
        ("-", "acquire.request.full.json") => vec![Mode::Mix],
        // Scene 0 (default): individual or mix.
        ("-", _) => vec![Mode::Individual, Mode::Mix],
        ("*", _) => ALL_MODES.to_vec(),
        (modes, _) => modes.split('|').map(Mode::parse).collect(),
    }
}

/// Makes the JSON of a fixture comparable with what this crate writes:
/// - the deny-list keys are written `unSubscribeAudioUids`/`unSubscribeVideoUids`,
///   so the reference spelling `unsubscribe…` in a fixture is renamed to that;
/// - numbers compare by value, so `1` and `1.0` (layout alpha) are equal.
fn normalize(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (from, to) in [
                ("unsubscribeAudioUids", "unSubscribeAudioUids"),
                ("unsubscribeVideoUids", "unSubscribeVideoUids"),
            ] {
                if let Some(list) = map.remove(from) {
                    map.insert(to.to_owned(), list);
                }
            }
            map.values_mut().for_each(normalize);
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        Value::Number(number) => {
            let float = number.as_f64().unwrap();
            *value = Value::from(float);
        }
        _ => {}
    }
}

/// Decodes, validates in `modes`, re-encodes and compares; returns the decoded body.
fn check_request<T>(row: &Row, modes: &[Mode]) -> T
where
    T: DeserializeOwned + Serialize + Validate,
{
    let bytes = read(&row.file);
    let body: T = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{}: does not decode: {e}", row.file));
    for mode in modes {
        if let Err(error) = body.validate(mode) {
            panic!("{}: invalid in {mode} mode: {error}", row.file);
        }
    }
    let mut original: Value = serde_json::from_slice(&bytes).unwrap();
    let mut encoded = serde_json::to_value(&body).unwrap();
    normalize(&mut original);
    normalize(&mut encoded);
    assert_eq!(encoded, original, "{}: re-encoded body differs", row.file);
    body
}

/// For start, update and updateLayout the mode decides which blocks are allowed,
/// so a body written for one mode must be refused by the others.
fn check_refused_elsewhere<T: Validate>(row: &Row, body: &T, modes: &[Mode]) {
    for mode in ALL_MODES.iter().filter(|mode| !modes.contains(mode)) {
        assert!(
            body.validate(mode).is_err(),
            "{}: was accepted in {mode} mode",
            row.file
        );
    }
}

fn check_decodes<T: DeserializeOwned>(row: &Row) -> T {
    serde_json::from_slice(&read(&row.file))
        .unwrap_or_else(|e| panic!("{}: does not decode: {e}", row.file))
}

#[test]
fn every_fixture_of_the_index_behaves_as_its_row_says() {
    let rows = rows();
    assert!(rows.len() >= 60, "INDEX.tsv lost rows: {}", rows.len());
    let mut checked = 0;
    for row in &rows {
        assert!(
            fixtures_dir().join(&row.file).exists(),
            "{} missing",
            row.file
        );
        let modes = modes_of(row);
        let specific = !matches!(row.mode.as_str(), "*" | "-");
        match (row.kind.as_str(), row.endpoint.as_str()) {
            ("request", "acquire") => {
                check_request::<AcquireRequest>(row, &modes);
            }
            ("request", "start") => {
                let body = check_request::<StartRequest>(row, &modes);
                check_refused_elsewhere(row, &body, &modes);
            }
            ("request", "update") => {
                let body = check_request::<UpdateRequest>(row, &modes);
                if specific {
                    check_refused_elsewhere(row, &body, &modes);
                }
            }
            ("request", "updateLayout") => {
                let body = check_request::<UpdateLayoutRequest>(row, &modes);
                check_refused_elsewhere(row, &body, &modes);
            }
            ("request", "stop") => {
                check_request::<StopRequest>(row, &modes);
            }
            ("response", "acquire") => {
                let body: AcquireResponse = check_decodes(row);
                assert!(!body.resource_id.as_str().is_empty());
            }
            ("response", "start") => {
                let body: StartResponse = check_decodes(row);
                assert_eq!(body.sid.as_str().len(), 32);
            }
            ("response", "update") => {
                let body: UpdateResponse = check_decodes(row);
                assert_eq!(body.sid.as_str().len(), 32);
            }
            ("response", "updateLayout") => {
                let body: UpdateLayoutResponse = check_decodes(row);
                assert_eq!(body.sid.as_str().len(), 32);
            }
            ("response", "query") => {
                let body: QueryResponse = check_decodes(row);
                assert!(body.status().is_some(), "{}: no status", row.file);
            }
            ("response", "stop") => {
                let body: StopResponse = check_decodes(row);
                assert!(
                    body.uploading_status().is_some(),
                    "{}: no uploading status",
                    row.file
                );
            }
            ("response", "ncs-ip") => {
                let body: cloudrec_types::ncs::NcsIpResponse = check_decodes(row);
                assert!(!body.primary_ips().is_empty());
            }
            ("notification", "ncs") => {
                let body: cloudrec_types::ncs::Notification = check_decodes(row);
                assert_eq!(body.payload.details.msg_name(), Some("uploaded"));
            }
            ("error", _) => {
                let body: ErrorBody = check_decodes(row);
                assert!(
                    body.code.is_some() || body.message.is_some(),
                    "{}: neither code nor message",
                    row.file
                );
                // Gateway errors (no code) are those of the whole API (`*`) or
                // carry a documented 4xx status.
                if body.code.is_none() {
                    assert!(row.http_status.starts_with('4'), "{}", row.file);
                }
            }
            (kind, endpoint) => panic!("{}: unexpected row {kind}/{endpoint}", row.file),
        }
        checked += 1;
    }
    assert_eq!(checked, rows.len());
}

#[test]
fn legacy_strings_and_shapes_decode_to_the_same_values() {
    let legacy: QueryResponse =
        serde_json::from_slice(&read("query.response.legacy-strings.json")).unwrap();
    assert_eq!(legacy.status().map(|s| s.code()), Some(5));
    assert!(legacy.is_running());
    assert_eq!(
        legacy.server_response.slice_start_time,
        Some(1_562_724_971_626)
    );
    assert_eq!(legacy.file_names(), ["xxxxx.m3u8"]);
    assert_eq!(legacy.cname, None);

    let web: QueryResponse = serde_json::from_slice(&read("query.response.web.json")).unwrap();
    assert_eq!(web.file_names().len(), 2);
    assert!(web.file_names()[1].ends_with("_0.mp4"));

    let individual: StopResponse =
        serde_json::from_slice(&read("stop.response.individual.json")).unwrap();
    assert_eq!(
        individual.uploading_status(),
        Some(&cloudrec_types::UploadingStatus::Backuped)
    );
    assert_eq!(individual.file_names().len(), 4);

    let web_stop: StopResponse =
        serde_json::from_slice(&read("stop.response.web-full.json")).unwrap();
    assert_eq!(
        web_stop.uploading_status(),
        Some(&cloudrec_types::UploadingStatus::Uploaded)
    );
    assert_eq!(web_stop.file_names().len(), 2);
}

#[test]
fn every_fixture_file_is_indexed() {
    let indexed: Vec<String> = rows().into_iter().map(|row| row.file).collect();
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".json") {
            assert!(indexed.contains(&name), "{name} is not in INDEX.tsv");
        }
    }
}
