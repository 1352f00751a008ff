//! The fast acquire response decoder against the derived one.
#![no_main]

use cloudrec_types::AcquireResponse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cloudrec_fuzz::agrees::<AcquireResponse>(data));
