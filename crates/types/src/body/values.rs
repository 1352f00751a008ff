//! Single values as the derived decoders read them: optional strings, lenient
//! integers, open enums, and the check that a field comes once.

use crate::json::Reader;
use crate::{Text, UnknownFields};

/// Keeps the member `key` that the type does not name, with its value as
/// serde_json reads it (the derived decoders collect such members the same way).
pub(super) fn keep(reader: &mut Reader<'_>, key: &[u8], unknown: &mut UnknownFields) -> Option<()> {
    let value = serde_json::from_slice(reader.raw()?).ok()?;
    unknown.insert(std::str::from_utf8(key).ok()?, value);
    Some(())
}

/// Marks field `bit` as read; `None` when it was already (the derived decoders
/// refuse a repeated field, aliases included).
pub(super) fn once(seen: &mut u32, bit: u32) -> Option<()> {
    if *seen & bit != 0 {
        return None;
    }
    *seen |= bit;
    Some(())
}

/// An `Option<Text>`: `null` or a string.
pub(super) fn opt_text(reader: &mut Reader<'_>) -> Option<Option<Text>> {
    if reader.null() {
        return Some(None);
    }
    reader.text().map(Some)
}

/// An optional open string enum, read with its `parse`.
pub(super) fn opt_enum<T>(reader: &mut Reader<'_>, parse: fn(&str) -> T) -> Option<Option<T>> {
    if reader.null() {
        return Some(None);
    }
    reader.string().map(|value| Some(parse(value)))
}

/// An `Option<bool>`.
pub(super) fn opt_bool(reader: &mut Reader<'_>) -> Option<Option<bool>> {
    if reader.null() {
        return Some(None);
    }
    reader.boolean().map(Some)
}

/// An integer as `lenient::i64_from` reads it: a JSON integer, or a string that
/// `str::trim` and `i64::from_str` accept. Floats are left to serde_json.
pub(super) fn lenient_i64(reader: &mut Reader<'_>) -> Option<i64> {
    match reader.peek()? {
        b'"' => reader.string()?.trim().parse().ok(),
        _ => reader.integer(),
    }
}

/// An `Option<i64>` as `lenient::opt_i64` reads it.
pub(super) fn opt_lenient_i64(reader: &mut Reader<'_>) -> Option<Option<i64>> {
    if reader.null() {
        return Some(None);
    }
    lenient_i64(reader).map(Some)
}
