//! The query response decoder on arbitrary bytes.
#![no_main]

use cloudrec_types::{Endpoint, QueryResponse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cloudrec_fuzz::decode_as::<QueryResponse>(Endpoint::Query, data));
