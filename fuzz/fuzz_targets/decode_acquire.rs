//! The acquire response decoder on arbitrary bytes.
#![no_main]

use cloudrec_types::{AcquireResponse, Endpoint};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cloudrec_fuzz::decode_as::<AcquireResponse>(Endpoint::Acquire, data));
