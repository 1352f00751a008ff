//! The stop response decoder on arbitrary bytes.
#![no_main]

use cloudrec_types::{Endpoint, StopResponse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cloudrec_fuzz::decode_as::<StopResponse>(Endpoint::Stop, data));
