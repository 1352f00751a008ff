//! The fast query response decoder against the derived one.
#![no_main]

use cloudrec_types::QueryResponse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cloudrec_fuzz::agrees::<QueryResponse>(data));
