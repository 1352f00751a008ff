//! A small JSON reader for decoders that read the documented shapes fast and give
//! up on anything else.
//!
//! [`Reader`] reads one JSON text given as bytes: it skips whitespace, reads
//! strings without escapes (borrowed from the text, or as [`Text`](crate::Text)
//! slices of a shared buffer), integers that fit an `i64` without rounding,
//! `true`, `false` and `null`, walks objects and arrays, and skips any value while
//! checking its syntax as serde_json would. Like `serde_json::from_slice`, it
//! checks the UTF-8 of the strings it returns and the keys it gives, not of the
//! values it skips.
//! Whenever it meets something it does not read itself (an escape in a string it
//! returns, a float where an integer is asked for, nesting deeper than
//! [`Reader::MAX_DEPTH`], ...) it returns `None`, and the caller decodes the whole
//! text with serde_json instead. So a decoder built on it can only be as lenient as
//! it chooses, never more lenient than serde_json.

mod reader;
mod run;
mod skip;

pub use reader::Reader;
