//! The fast update response decoder (and updateLayout's, the same type) against the derived one.
#![no_main]

use cloudrec_types::UpdateResponse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cloudrec_fuzz::agrees::<UpdateResponse>(data));
