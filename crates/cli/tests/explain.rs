//! `cloudrec explain` for every row of the status table, and the generated
//! `docs/errors.md` being current.

use std::path::PathBuf;
use std::process::Command;

const ENDPOINTS: [&str; 6] = [
    "acquire",
    "start",
    "query",
    "update",
    "updateLayout",
    "stop",
];

fn workspace_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn explain_json(endpoint: &str, status: &str, body: &str) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_cloudrec"))
        .args([
            "explain",
            "--endpoint",
            endpoint,
            "--status",
            status,
            "--body",
            body,
            "--json",
        ])
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "explain {endpoint} {status} {body} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("explain --json prints JSON")
}

#[test]
fn every_row_of_the_status_table_is_explained_with_its_resolution() {
    let table = std::fs::read_to_string(workspace_file("crates/core/data/status-codes.tsv"))
        .expect("the status table is readable");
    let mut checked = 0;
    for line in table.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(cols.len() >= 6, "row with too few columns: {line}");
        let (endpoint, status, code, text, resolution) =
            (cols[0], cols[1], cols[2], cols[3], cols[5]);
        // A row without a documented status is explained as a 400 answer.
        let status = if status == "-" { "400" } else { status };
        let body = if code == "-" {
            serde_json::json!({ "message": text })
        } else {
            serde_json::json!({ "code": code.parse::<i64>().unwrap(), "reason": text })
        };
        let endpoints: Vec<&str> = if endpoint == "*" {
            ENDPOINTS.to_vec()
        } else {
            vec![endpoint]
        };
        for endpoint in endpoints {
            let json = explain_json(endpoint, status, &body.to_string());
            assert_eq!(json["endpoint"], endpoint, "{line}");
            assert_eq!(
                json["status"].as_u64().unwrap().to_string(),
                status,
                "{line}"
            );
            if code == "-" {
                assert!(json["code"].is_null(), "{line}");
            } else {
                assert_eq!(json["code"].as_i64().unwrap().to_string(), code, "{line}");
            }
            assert_eq!(json["resolution"], resolution, "{endpoint}: {line}");
            let retryable = matches!(
                resolution,
                "retry_backoff" | "retry_then_reacquire" | "reduce_rate"
            );
            assert_eq!(json["retryable"], retryable, "{line}");
            assert!(!json["what_to_do"].as_str().unwrap().is_empty());
            checked += 1;
        }
    }
    assert!(checked >= 53, "only {checked} rows checked");
}

#[test]
fn a_success_and_an_unknown_code_are_explained() {
    let ok = explain_json("acquire", "200", r#"{"resourceId":"abc"}"#);
    assert!(ok["resolution"].is_null());
    let unknown = explain_json("query", "503", r#"{"code":9999,"reason":"new"}"#);
    assert_eq!(unknown["resolution"], "retry_backoff");
    assert_eq!(unknown["retryable"], true);
}

#[test]
fn the_text_form_names_what_happened_and_what_to_do() {
    let output = Command::new(env!("CARGO_BIN_EXE_cloudrec"))
        .args(["explain", "--endpoint", "stop", "--status", "206"])
        .args(["--body", r#"{"code":435,"reason":"no recorded data"}"#])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("what happened:"), "{text}");
    assert!(text.contains("what to do:"), "{text}");
    assert!(text.contains("success_no_data"), "{text}");
}

#[test]
fn docs_errors_md_is_generated_from_the_current_table() {
    let output = Command::new(env!("CARGO_BIN_EXE_cloudrec"))
        .args(["explain", "--table-markdown"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let generated = String::from_utf8(output.stdout).unwrap();
    let committed = std::fs::read_to_string(workspace_file("docs/errors.md")).unwrap_or_default();
    assert!(
        generated == committed,
        "docs/errors.md is stale: run `cargo run -p cloudrec-cli -- explain --table-markdown > docs/errors.md`"
    );
    let rows = generated.lines().filter(|l| l.starts_with("| ")).count();
    assert!(rows > 53, "the table lists every row");
}

#[test]
fn explain_needs_no_endpoint_or_status_the_answer_does_not_depend_on() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_cloudrec"))
            .arg("explain")
            .args(args)
            .output()
            .expect("the binary runs")
    };
    for (status, message, resolution) in [
        ("401", "Unauthorized", "fix_credentials"),
        ("429", "API rate limit exceeded", "reduce_rate"),
        ("404", "no Route matched with those values", "fix_request"),
    ] {
        let body = serde_json::json!({ "message": message }).to_string();
        for args in [
            vec!["--status", status, "--body", &body],
            vec!["--body", &body],
        ] {
            let output = run(&[args.as_slice(), &["--json"]].concat());
            assert!(
                output.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            assert_eq!(json["resolution"], resolution, "{args:?}");
            assert!(json["endpoint"].is_null(), "{args:?}");
            assert_eq!(json["status"].to_string(), status, "{args:?}");
        }
    }
    // A code only stop answers with: endpoint and status both follow.
    let output = run(&["--body", r#"{"code":435}"#, "--json"]);
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (json["endpoint"].as_str(), json["status"].as_u64()),
        (Some("stop"), Some(206))
    );
    // Code 65 means one thing on start and another elsewhere: say so, and what to add.
    let output = run(&["--body", r#"{"code":65}"#]);
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    for part in [
        "start",
        "retry_then_reacquire",
        "retry_backoff",
        "--endpoint",
    ] {
        assert!(stderr.contains(part), "{part}: {stderr}");
    }
}
