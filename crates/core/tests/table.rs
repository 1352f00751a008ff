//! Every row of the status table, seed and other, classifies to its resolution.
//!
//! The test reads the crate's copy of the table (`data/status-codes.tsv`) with its
//! own reader, builds the answer each row describes, and runs it through the
//! classifier.

use cloudrec_core::{FailureKind, HttpResponse, Resolution, classify_failure};
use cloudrec_types::Endpoint;

/// Rows whose `http_status` is `-` (older codes whose HTTP status the docs do not
/// give) are checked with each of these statuses: a client error and a server error,
/// the two families the service uses for coded errors.
const UNDOCUMENTED_STATUSES: [u16; 2] = [400, 500];

/// Rows where the classifier deliberately differs from the table: (endpoint,
/// status, code) and the reason. Empty: the classifier follows every row.
const DEVIATIONS: [(&str, &str, &str, &str); 0] = [];

struct Row {
    line: usize,
    endpoint: String,
    status: String,
    code: String,
    text: String,
    resolution: String,
}

fn rows() -> Vec<Row> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/status-codes.tsv");
    let tsv = std::fs::read_to_string(path).unwrap();
    let mut lines = tsv.lines().enumerate();
    let (_, header) = lines.next().unwrap();
    assert_eq!(
        header,
        "endpoint\thttp_status\tcode\treason_or_message\tmeaning\tresolution_kind\tsource"
    );
    lines
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(
                cols.len(),
                7,
                "line {} has {} columns",
                index + 1,
                cols.len()
            );
            Row {
                line: index + 1,
                endpoint: cols[0].to_owned(),
                status: cols[1].to_owned(),
                code: cols[2].to_owned(),
                text: cols[3].to_owned(),
                resolution: cols[5].to_owned(),
            }
        })
        .collect()
}

fn deviation(row: &Row) -> Option<&'static str> {
    DEVIATIONS
        .iter()
        .find(|(e, s, c, _)| *e == row.endpoint && *s == row.status && *c == row.code)
        .map(|(_, _, _, why)| *why)
}

#[test]
fn every_row_classifies_to_its_resolution_kind() {
    let rows = rows();
    assert!(rows.len() >= 50, "only {} rows", rows.len());
    let mut checked = 0;
    for row in &rows {
        if deviation(row).is_some() {
            continue;
        }
        let expected = Resolution::parse(&row.resolution)
            .unwrap_or_else(|| panic!("line {}: unknown resolution {}", row.line, row.resolution));
        let endpoints: Vec<Endpoint> = match row.endpoint.as_str() {
            "*" => Endpoint::ALL.to_vec(),
            name => vec![name.parse().unwrap()],
        };
        let statuses: Vec<u16> = match row.status.as_str() {
            "-" => UNDOCUMENTED_STATUSES.to_vec(),
            status => vec![status.parse().unwrap()],
        };
        let body = match row.code.as_str() {
            "-" => serde_json::json!({ "message": row.text }),
            code => serde_json::json!({ "code": code.parse::<i64>().unwrap(), "reason": row.text }),
        };
        for &endpoint in &endpoints {
            for &status in &statuses {
                let answer = HttpResponse {
                    status,
                    retry_after: None,
                    request_id: Some("req-1".into()),
                    body: serde_json::to_vec(&body).unwrap().into(),
                };
                let failure = classify_failure(endpoint, &answer);
                assert_eq!(
                    failure.resolution(),
                    expected,
                    "line {} ({} {} {} {:?}) as {endpoint} {status}",
                    row.line,
                    row.endpoint,
                    row.status,
                    row.code,
                    row.text
                );
                assert_eq!(failure.endpoint(), endpoint);
                assert_eq!(failure.http_status(), Some(status));
                assert_eq!(failure.request_id(), Some("req-1"));
                match row.code.as_str() {
                    "-" => {
                        assert_eq!(failure.kind(), FailureKind::Gateway);
                        assert_eq!(failure.code(), None);
                    }
                    code => {
                        assert_eq!(failure.kind(), FailureKind::Service);
                        assert_eq!(failure.code(), Some(code.parse().unwrap()));
                    }
                }
                assert_eq!(failure.text(), Some(row.text.as_str()));
                checked += 1;
            }
        }
    }
    assert!(checked > rows.len());
}

#[test]
fn seed_and_other_rows_are_both_present() {
    let tsv = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/status-codes.tsv"
    ))
    .unwrap();
    assert!(tsv.lines().any(|l| l.ends_with("\tseed")));
    assert!(tsv.lines().any(|l| l.ends_with("\tother")));
}

#[test]
fn the_embedded_table_is_the_shipped_file() {
    let on_disk = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/status-codes.tsv"
    ))
    .unwrap();
    assert_eq!(cloudrec_core::STATUS_TABLE_TSV, on_disk);
    assert_eq!(
        cloudrec_core::StatusTable::get().rules().len(),
        rows().len()
    );
}

#[test]
fn explain_gives_every_row_its_meaning_and_resolution() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/status-codes.tsv");
    let tsv = std::fs::read_to_string(path).unwrap();
    for line in tsv.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let endpoint = match cols[0] {
            "*" => Endpoint::Query,
            name => name.parse().unwrap(),
        };
        let status = cols[1].parse().unwrap_or(UNDOCUMENTED_STATUSES[0]);
        let body = match cols[2] {
            "-" => serde_json::json!({ "message": cols[3] }),
            code => serde_json::json!({ "code": code.parse::<i64>().unwrap(), "reason": cols[3] }),
        };
        let explanation =
            cloudrec_core::explain(endpoint, status, &serde_json::to_vec(&body).unwrap());
        assert_eq!(explanation.what_happened, cols[4], "{line}");
        assert_eq!(
            explanation.resolution.map(Resolution::as_str),
            Some(cols[5]),
            "{line}"
        );
        let json = serde_json::to_value(&explanation).unwrap();
        assert_eq!(json["resolution"], cols[5], "{line}");
        assert_eq!(
            json["retryable"],
            Resolution::parse(cols[5]).unwrap().is_retryable(),
            "{line}"
        );
        let row = explanation.row.unwrap();
        assert_eq!(row.code, cols[2], "{line}");
    }
}
