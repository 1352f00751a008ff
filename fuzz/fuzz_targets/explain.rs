//! Explanations of arbitrary answers to every endpoint.
#![no_main]

use cloudrec_core::explain;
use cloudrec_types::Endpoint;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let endpoint = Endpoint::ALL[usize::from(selector) % Endpoint::ALL.len()];
    let status = [200, 201, 206, 400, 401, 404, 429, 500, 504][usize::from(selector) % 9];
    let explanation = explain(endpoint, status, body);
    assert!(!explanation.to_string().is_empty());
});
