//! Runnable examples of cloudrec.
//!
//! Each file in `examples/` is one example; run it with
//! `cargo run -p cloudrec-examples --example NAME`. This library only exists so that
//! the examples form a package; it exports nothing.
