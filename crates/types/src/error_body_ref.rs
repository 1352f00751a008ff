//! The one decoder of error bodies: [`ErrorBodyRef`], borrowed from the body.
//! [`ErrorBody`] and the classification of failed calls both read through it, so
//! they agree on every body (a `"code": "65"` is code 65 for both).

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};

use crate::ErrorBody;
use crate::json::Reader;

/// The fields of an error body, borrowed from the body where they need no
/// unescaping. Members other than these are ignored, whatever their shape.
///
/// `code` follows the crate's one leniency rule for integers: a JSON integer, an
/// integral float (`6.0`) or a decimal string (`"65"`, trimmed). A field of another
/// type makes the whole body unreadable, as `None` from [`from_json`](Self::from_json).
///
/// ```
/// use cloudrec_types::ErrorBodyRef;
///
/// let body = ErrorBodyRef::from_json(br#"{"code":"65","reason":"request not completed"}"#).unwrap();
/// assert_eq!(body.code, Some(65));
/// assert_eq!(body.reason.as_deref(), Some("request not completed"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorBodyRef<'a> {
    /// The service error code; absent in the gateway form.
    pub code: Option<i64>,
    /// The service's explanation.
    pub reason: Option<Cow<'a, str>>,
    /// The gateway's explanation.
    pub message: Option<Cow<'a, str>>,
    /// The channel name, when echoed.
    pub cname: Option<Cow<'a, str>>,
    /// The recorder uid, when echoed.
    pub uid: Option<Cow<'a, str>>,
    /// The resource id, when echoed.
    pub resource_id: Option<Cow<'a, str>>,
    /// The session id, when echoed; may be the empty string.
    pub sid: Option<Cow<'a, str>>,
}

impl<'a> ErrorBodyRef<'a> {
    /// Decodes `body`: a fast reader for the documented shapes (strings without
    /// escapes, integers, `null`; other members skipped), serde_json for anything
    /// else, with the same result. `None` when the body is not one JSON object of
    /// this shape.
    pub fn from_json(body: &'a [u8]) -> Option<Self> {
        read_flat(body).or_else(|| serde_json::from_slice(body).ok())
    }

    /// The owned [`ErrorBody`].
    pub fn into_owned(self) -> ErrorBody {
        let owned = |text: Option<Cow<'_, str>>| text.map(Cow::into_owned);
        ErrorBody {
            code: self.code,
            reason: owned(self.reason),
            message: owned(self.message),
            cname: owned(self.cname),
            uid: owned(self.uid),
            resource_id: owned(self.resource_id),
            sid: owned(self.sid),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for ErrorBodyRef<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Raw::deserialize(deserializer)?;
        let text = |text: Option<JsonStr<'a>>| text.map(|text| text.0);
        Ok(Self {
            code: raw.code,
            reason: text(raw.reason),
            message: text(raw.message),
            cname: text(raw.cname),
            uid: text(raw.uid),
            resource_id: text(raw.resource_id),
            sid: text(raw.sid),
        })
    }
}

/// The derived decoder behind [`ErrorBodyRef`]'s.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw<'a> {
    #[serde(default, deserialize_with = "crate::lenient::opt_i64")]
    code: Option<i64>,
    #[serde(default, borrow)]
    reason: Option<JsonStr<'a>>,
    #[serde(default, borrow)]
    message: Option<JsonStr<'a>>,
    #[serde(default, borrow)]
    cname: Option<JsonStr<'a>>,
    #[serde(default, borrow)]
    uid: Option<JsonStr<'a>>,
    #[serde(default, borrow)]
    resource_id: Option<JsonStr<'a>>,
    #[serde(default, borrow)]
    sid: Option<JsonStr<'a>>,
}

/// A JSON string borrowed from the body when it has no escapes, else owned.
/// (serde borrows a bare `Cow<str>` field but not one inside an `Option`.)
struct JsonStr<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for JsonStr<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = JsonStr<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<JsonStr<'de>, E> {
                Ok(JsonStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<JsonStr<'de>, E> {
                Ok(JsonStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<JsonStr<'de>, E> {
                Ok(JsonStr(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(Visit)
    }
}

/// Reads an error body as the derived decoder of [`Raw`] would, with the fast
/// [`Reader`]: the fields kept must be strings without escapes, integers of up to
/// 18 digits (or decimal strings of them) or `null`; any other member is skipped,
/// whatever its shape. `None` for anything else (an escape or a float in a kept
/// field, a repeated field, a body that is not one object), and the caller then
/// parses with serde_json. For every body this accepts, the result is the one
/// serde_json gives.
fn read_flat(body: &[u8]) -> Option<ErrorBodyRef<'_>> {
    let mut reader = Reader::new(body);
    let mut fields = ErrorBodyRef::default();
    let mut seen = 0u8;
    reader.object(|reader, key| {
        let (bit, slot) = match key {
            b"code" => (1, None),
            b"reason" => (2, Some(&mut fields.reason)),
            b"message" => (4, Some(&mut fields.message)),
            b"cname" => (8, Some(&mut fields.cname)),
            b"uid" => (16, Some(&mut fields.uid)),
            b"resourceId" => (32, Some(&mut fields.resource_id)),
            b"sid" => (64, Some(&mut fields.sid)),
            _ => return reader.skip(),
        };
        if seen & bit != 0 {
            return None;
        }
        seen |= bit;
        let null = reader.null();
        match slot {
            None if null => fields.code = None,
            None if reader.peek()? == b'"' => {
                fields.code = Some(reader.string()?.trim().parse().ok()?);
            }
            None => fields.code = Some(reader.integer()?),
            Some(slot) if null => *slot = None,
            Some(slot) => *slot = Some(Cow::Borrowed(reader.string()?)),
        }
        Some(())
    })?;
    reader.end()?;
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flat reader gives serde_json's answer for every body it accepts.
    fn same_as_serde(body: &[u8]) -> usize {
        let Some(flat) = read_flat(body) else {
            return 0;
        };
        let serde = serde_json::from_slice::<ErrorBodyRef<'_>>(body).ok();
        assert_eq!(Some(flat), serde, "{:?}", String::from_utf8_lossy(body));
        1
    }

    #[test]
    fn a_string_code_reads_as_the_number_on_both_paths() {
        for body in [
            &br#"{"code":"65","reason":"x"}"#[..],
            br#"{"code":" 65 ","reason":"x"}"#,
            br#"{"code":"65","reason":"\u0078"}"#,
            br#"{"code":65.0,"reason":"x"}"#,
        ] {
            let decoded = ErrorBodyRef::from_json(body).unwrap();
            assert_eq!(decoded.code, Some(65), "{}", String::from_utf8_lossy(body));
            assert_eq!(decoded.reason.as_deref(), Some("x"));
        }
        assert_eq!(ErrorBodyRef::from_json(br#"{"code":"6x5"}"#), None);
    }

    #[test]
    fn the_flat_reader_agrees_with_serde() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut bodies: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path()).ok())
            .collect();
        bodies.extend(
            [
                r#"{}"#,
                r#" { } "#,
                r#"{"code":62}"#,
                r#"{"code":062}"#,
                r#"{"code":-0}"#,
                r#"{"code":-5}"#,
                r#"{"code":6.0}"#,
                r#"{"code":6e1}"#,
                r#"{"code":"62"}"#,
                r#"{"code":" 62 "}"#,
                r#"{"code":"6\u0032"}"#,
                r#"{"code":"-1"}"#,
                r#"{"code":"x"}"#,
                r#"{"code":null,"reason":null}"#,
                r#"{"code":1,"code":2}"#,
                r#"{"x":1,"x":2,"code":3}"#,
                r#"{"code":123456789012345678}"#,
                r#"{"code":1234567890123456789}"#,
                r#"{"code":99999999999999999999}"#,
                r#"{"code":12.5,"n":1234567890123456789,"m":-1e5,"z":01}"#,
                r#"{"reason":"a\u00e9\n","sid":"\"","x":"\\","y":[1,{"z":[]}]}"#,
                r#"{"message":"m","serverResponse":{"a":[1,2,{"b":"c"}]},"code":3}"#,
                r#"{"code":"5","reason":["x"]}"#,
                r#"{"reason":"a\"b"}"#,
                r#"{"reason":"é"}"#,
                r#"{"reason":7}"#,
                r#"{"reason":true}"#,
                r#"{"message":"m","sid":"","resourceId":"r","cname":"c","uid":"1"}"#,
                r#"{"uid":527841}"#,
                r#"{"flag":true,"other":false,"none":null,"n":0,"code":2}"#,
                r#"{"code":2,}"#,
                r#"{"code":2"#,
                r#"{"code":2} x"#,
                r#"{"code" 2}"#,
                r#"{code:2}"#,
                r#"{"code":2}{}"#,
                r#"{"code":nul}"#,
                r#"{"code":2,"nested":{"a":1}}"#,
                "{\"reason\":\"tab\there\"}",
                "\u{feff}{\"code\":2}",
                "\t{\r\n\"code\"\t:\n2\r}\n",
            ]
            .map(str::to_owned),
        );
        let mut read = 0;
        for body in &bodies {
            let body = body.as_bytes();
            read += same_as_serde(body);
            // Every prefix, and every byte changed to each JSON-significant one
            // and to bytes that are not UTF-8.
            for end in 0..body.len() {
                read += same_as_serde(&body[..end]);
            }
            for at in 0..body.len().min(200) {
                for byte in *b"{}[]\",:0-9 \"\\nte\x80\xff" {
                    let mut changed = body.to_vec();
                    changed[at] = byte;
                    read += same_as_serde(&changed);
                }
            }
        }
        // The documented bodies and many variants take the flat path.
        assert!(read > 1000, "{read}");
        let timeout = r#"{"code": 62, "reason": "request timeout"}"#;
        assert_eq!(
            read_flat(timeout.as_bytes()).and_then(|raw| raw.code),
            Some(62)
        );
    }
}
