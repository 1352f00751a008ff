//! A small JSON reader for decoders that read the documented shapes fast and give
//! up on anything else.
//!
//! [`Reader`] reads one JSON text that is already known to be UTF-8: it skips
//! whitespace, reads strings without escapes (borrowed from the text), integers
//! that fit an `i64` without rounding, `true`, `false` and `null`, walks objects
//! and arrays, and skips any value while checking its syntax as serde_json would.
//! Whenever it meets something it does not read itself (an escape in a string it
//! returns, a float where an integer is asked for, nesting deeper than
//! [`Reader::MAX_DEPTH`], ...) it returns `None`, and the caller decodes the whole
//! text with serde_json instead. So a decoder built on it can only be as lenient as
//! it chooses, never more lenient than serde_json.

mod reader;
mod run;
mod skip;

pub use reader::Reader;
