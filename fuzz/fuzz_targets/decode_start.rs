//! The start response decoder on arbitrary bytes.
#![no_main]

use cloudrec_types::{Endpoint, StartResponse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cloudrec_fuzz::decode_as::<StartResponse>(Endpoint::Start, data));
