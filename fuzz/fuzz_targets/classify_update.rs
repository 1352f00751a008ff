//! Classification of arbitrary answers to update.
#![no_main]

use cloudrec_types::Endpoint;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cloudrec_fuzz::classify(Endpoint::Update, data));
