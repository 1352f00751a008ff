//! The event pipeline of cloudrec.
