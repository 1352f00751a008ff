//! Whole-stack tests of cloudrec, in `tests/`: the `cloudrec-client` `Client` and
//! `Recorder` over the `cloudrec-hyper` transport against the `cloudrec-emulator`,
//! on real loopback HTTP. The crate itself has no code.
