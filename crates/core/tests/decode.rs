//! Every documented success body decodes into its endpoint's typed response.

use std::path::PathBuf;

use cloudrec_core::{
    FailureKind, HttpResponse, Next, Outcome, Reply, RetryPolicy, classify_reply, decode,
};
use cloudrec_types::{Endpoint, StartResponse};

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../types/tests/fixtures")
}

fn answer(status: u16, body: Vec<u8>) -> HttpResponse {
    HttpResponse {
        status,
        retry_after: None,
        request_id: None,
        body: body.into(),
    }
}

/// `(file, endpoint)` of every 200 response fixture of the six endpoints.
fn success_fixtures() -> Vec<(String, Endpoint)> {
    let index = std::fs::read_to_string(fixtures_dir().join("INDEX.tsv")).unwrap();
    index
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let endpoint = cols.get(2)?.parse().ok()?;
            (cols.get(1) == Some(&"response") && cols.get(4) == Some(&"200"))
                .then(|| (cols[0].to_owned(), endpoint))
        })
        .collect()
}

#[test]
fn every_response_fixture_is_a_typed_success_of_its_endpoint_only() {
    let fixtures = success_fixtures();
    assert!(fixtures.len() >= 19, "{} fixtures", fixtures.len());
    for (file, endpoint) in fixtures {
        let body = std::fs::read(fixtures_dir().join(&file)).unwrap();
        match classify_reply(endpoint, &answer(200, body.clone())) {
            Outcome::Success(reply) => assert_eq!(reply.endpoint(), endpoint, "{file}"),
            Outcome::Failure(failure) => panic!("{file}: {failure}"),
        }
        // Only HTTP 200 is a success.
        for status in [201, 206, 400, 500] {
            assert!(
                matches!(
                    classify_reply(endpoint, &answer(status, body.clone())),
                    Outcome::Failure(_)
                ),
                "{file} at {status}"
            );
        }
    }
}

#[test]
fn a_start_answer_decodes_with_its_sid() {
    let body = std::fs::read(fixtures_dir().join("start.response.json")).unwrap();
    let started: StartResponse = decode(Endpoint::Start, &answer(200, body)).unwrap();
    assert_eq!(started.sid.as_str(), "38f8e3cfdc474cd56fc1ceba380d7e1a");
}

#[test]
fn an_acquire_answer_is_not_a_start_answer() {
    let body = std::fs::read(fixtures_dir().join("acquire.response.json")).unwrap();
    let Outcome::Failure(failure) = classify_reply(Endpoint::Start, &answer(200, body)) else {
        panic!("an acquire body decoded as start");
    };
    assert_eq!(failure.kind(), FailureKind::UnreadableSuccess);
    assert_eq!(
        RetryPolicy::default().decide(&failure, 1, Default::default(), 0.0),
        Next::Reconcile
    );
    // A 200 carrying an error body is classified by its code.
    let Outcome::Failure(failure) = classify_reply(
        Endpoint::Start,
        &answer(200, br#"{"code":7,"reason":"already started"}"#.to_vec()),
    ) else {
        panic!("an error body decoded as start");
    };
    assert_eq!(failure.resolution(), cloudrec_core::Resolution::DoNotRepeat);
    assert_eq!(failure.kind(), FailureKind::Service);
    assert!(matches!(
        classify_reply(
            Endpoint::Acquire,
            &answer(200, br#"{"resourceId":"r"}"#.to_vec())
        ),
        Outcome::Success(Reply::Acquire(_))
    ));
}
