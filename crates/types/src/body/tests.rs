//! The fast paths against the derived decoders: on every fixture, every prefix,
//! byte changes, and bodies rewritten the ways the service's revisions differ.

use std::fmt::Debug;
use std::path::Path;

use bytes::Bytes;
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{ResponseBody, envelope};
use crate::json::Reader;
use crate::{AcquireResponse, QueryResponse, StartResponse, StopResponse, UpdateResponse};

/// The fast path alone, on a whole body, sharing its buffer as `from_json` does.
fn fast<T>(body: &Bytes, read: fn(&mut Reader<'_>) -> Option<T>) -> Option<T> {
    let mut reader = Reader::shared(body);
    let value = read(&mut reader)?;
    reader.end().map(|()| value)
}

/// What the derived decoder gives.
fn serde<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    serde_json::from_slice(body).ok()
}

/// Checks that a value from the fast path is serde_json's, and that
/// [`ResponseBody::from_json`] gives serde_json's answer; says whether the fast
/// path read the body.
fn agrees<T>(body: &[u8], read: fn(&mut Reader<'_>) -> Option<T>) -> bool
where
    T: ResponseBody + PartialEq + Debug,
{
    let body = Bytes::copy_from_slice(body);
    let quick = fast(&body, read);
    let slow = serde::<T>(&body);
    let shown = || String::from_utf8_lossy(&body).into_owned();
    if let Some(quick) = &quick {
        assert_eq!(Some(quick), slow.as_ref(), "{}", shown());
    }
    assert_eq!(T::from_json(&body).ok(), slow, "{}", shown());
    quick.is_some()
}

/// The fast path of each response type, by the endpoint names of `INDEX.tsv`.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Acquire,
    Start,
    Update,
    Query,
    Stop,
}

impl Kind {
    const ALL: [Self; 5] = [
        Self::Acquire,
        Self::Start,
        Self::Update,
        Self::Query,
        Self::Stop,
    ];

    fn of(endpoint: &str) -> Option<Self> {
        Some(match endpoint {
            "acquire" => Self::Acquire,
            "start" => Self::Start,
            "update" | "updateLayout" => Self::Update,
            "query" => Self::Query,
            "stop" => Self::Stop,
            _ => return None,
        })
    }

    /// [`agrees`] for this kind.
    fn agrees(self, body: &[u8]) -> bool {
        match self {
            Self::Acquire => agrees::<AcquireResponse>(body, envelope::acquire),
            Self::Start => agrees::<StartResponse>(body, envelope::start),
            Self::Update => agrees::<UpdateResponse>(body, envelope::update),
            Self::Query => agrees::<QueryResponse>(body, envelope::query),
            Self::Stop => agrees::<StopResponse>(body, envelope::stop),
        }
    }
}

/// Every fixture, with the kind `INDEX.tsv` gives 200 responses (`None` for the
/// others), sorted by name.
fn fixtures() -> Vec<(String, Option<Kind>, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let index = std::fs::read_to_string(dir.join("INDEX.tsv")).expect("INDEX.tsv");
    let mut out: Vec<_> = index
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let name = (*cols.first()?).to_owned();
            let kind = match (cols.get(1), cols.get(4)) {
                (Some(&"response"), Some(&"200")) => Kind::of(cols.get(2)?),
                _ => None,
            };
            let body = std::fs::read_to_string(dir.join(&name)).ok()?;
            Some((name, kind, body))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_response_fixture_takes_the_fast_path() {
    let mut read = 0;
    for (name, kind, body) in fixtures() {
        if let Some(kind) = kind {
            assert!(kind.agrees(body.as_bytes()), "{name} left the fast path");
            read += 1;
        }
    }
    assert_eq!(read, 19);
}

#[test]
fn every_fixture_as_every_type_agrees() {
    for (_, _, body) in fixtures() {
        for kind in Kind::ALL {
            kind.agrees(body.as_bytes());
        }
    }
}

#[test]
fn every_prefix_and_byte_change_agrees() {
    for (name, kind, body) in fixtures() {
        let Some(kind) = kind else { continue };
        let bytes = body.as_bytes();
        for end in 0..bytes.len() {
            kind.agrees(&bytes[..end]);
        }
        let mut read = 0;
        for at in 0..bytes.len() {
            for byte in *b"{}[]\",:0-9 \"\\nte\x01\xff" {
                let mut changed = bytes.to_vec();
                changed[at] = byte;
                read += usize::from(kind.agrees(&changed));
                changed.insert(at, byte);
                kind.agrees(&changed);
            }
        }
        assert!(read > 0, "{name}");
    }
}

#[test]
fn hand_picked_bodies_agree() {
    let ids = r#""resourceId":"r","sid":"s""#;
    let cases = [
        format!("{{{ids}}}"),
        format!("{{{ids},\"cname\":null,\"uid\":null}}"),
        format!("{{{ids},\"cname\":\"\",\"uid\":\"\"}}"),
        r#"{"resourceId":"","sid":""}"#.to_owned(),
        format!("{{{ids},\"uid\":527841}}"),
        format!("{{{ids},\"cname\":\"a\\u0062\"}}"),
        format!("{{{ids},\"sid\":\"t\"}}"),
        format!("{{{ids},\"resourceId\":null}}"),
        format!("{{{ids},\"serverResponse\":null}}"),
        format!("{{{ids},\"serverResponse\":{{}}}}"),
        format!("{{{ids},\"serverResponse\":[]}}"),
        format!("{{{ids},\"serverResponse\":{{\"status\":\"5\"}}}}"),
        format!("{{{ids},\"serverResponse\":{{\"status\":\" 5 \"}}}}"),
        format!("{{{ids},\"serverResponse\":{{\"status\":\"+5\"}}}}"),
        format!("{{{ids},\"serverResponse\":{{\"status\":5.0}}}}"),
        format!("{{{ids},\"serverResponse\":{{\"status\":-3}}}}"),
        format!("{{{ids},\"serverResponse\":{{\"status\":null}}}}"),
        format!("{{{ids},\"serverResponse\":{{\"status\":true}}}}"),
        format!("{{{ids},\"serverResponse\":{{\"status\":99999999999999999999}}}}"),
        format!("{{{ids},\"serverResponse\":{{\"sliceStartTime\":\"1562724971626\"}}}}"),
        format!("{{{ids},\"serverResponse\":{{\"fileList\":\"a.m3u8\"}}}}"),
        format!("{{{ids},\"serverResponse\":{{\"fileList\":[]}}}}"),
        format!("{{{ids},\"serverResponse\":{{\"fileList\":{{}}}}}}"),
        format!("{{{ids},\"serverResponse\":{{\"fileList\":[{{\"filename\":\"a\"}}]}}}}"),
        format!(
            "{{{ids},\"serverResponse\":{{\"fileList\":[{{\"filename\":\"a\",\"fileName\":\"b\"}}]}}}}"
        ),
        format!("{{{ids},\"serverResponse\":{{\"fileList\":[{{\"uid\":\"1\"}}]}}}}"),
        format!(
            "{{{ids},\"serverResponse\":{{\"extensionServiceState\":[{{\"serviceName\":\"x\"}}]}}}}"
        ),
        format!(
            "{{{ids},\"serverResponse\":{{\"extensionServiceState\":[{{\"serviceName\":\"x\",\"payload\":null}}]}}}}"
        ),
        format!(
            "{{{ids},\"serverResponse\":{{\"extensionServiceState\":[{{\"serviceName\":\"upload_service\",\"playload\":{{\"uploadingStatus\":\"backuped\"}}}}]}}}}"
        ),
        format!(
            "{{{ids},\"serverResponse\":{{\"extensionServiceState\":[{{\"serviceName\":\"s\",\"payload\":{{}},\"playload\":{{}}}}]}}}}"
        ),
        format!(
            "{{{ids},\"serverResponse\":{{\"extensionServiceState\":[{{\"serviceName\":\"s\",\"payload\":{{\"outputs\":[{{\"rtmpUrl\":\"rtmp://x\",\"status\":\"onhold\"}}]}}}}]}}}}"
        ),
        format!("{{{ids},\"extra\":[1,-2.5e3,{{\"a\":[true,false,null]}},\"\\u00e9\\n\"]}}"),
        ids.to_owned(),
        r#"["c","u","r","s"]"#.to_owned(),
        format!("{{{ids}}} "),
        format!(" \t\r\n{{{ids}}}\n"),
        format!("{{{ids}}}x"),
        format!("\u{feff}{{{ids}}}"),
    ];
    for case in &cases {
        for kind in Kind::ALL {
            kind.agrees(case.as_bytes());
        }
    }
    assert!(Kind::Query.agrees(cases[11].as_bytes()));
    assert!(Kind::Acquire.agrees(cases[0].as_bytes()));
    assert!(!Kind::Start.agrees(b"{\"resourceId\":\"r\",\"sid\":\"s\xff\"}"));
}

#[test]
fn kept_strings_and_keys_must_be_utf8() {
    let ids = br#""resourceId":"r","sid":"s""#;
    let body = |middle: &[u8]| [b"{", &ids[..], middle, b"}"].concat();
    // An unknown member is kept, so its strings are checked like any other.
    assert!(!Kind::Start.agrees(&body(b",\"extra\":\"\xff\"")));
    assert!(!Kind::Start.agrees(&body(b",\"extra\":{\"\xfe\":[\"\xff\"]}")));
    assert!(serde::<StartResponse>(&body(b",\"extra\":\"\xff\"")).is_none());
    // Well-formed text in an unknown member reads on the fast path.
    assert!(Kind::Start.agrees(&body(b",\"extra\":\"caf\xc3\xa9\"")));
    // serde_json checks kept strings and the keys it reads; so does the fast path.
    assert!(!Kind::Start.agrees(&body(b",\"cname\":\"\xff\"")));
    assert!(!Kind::Start.agrees(&body(b",\"\xff\":1")));
    assert!(serde::<StartResponse>(&body(b",\"\xff\":1")).is_none());
    // Multi-byte characters are kept whole.
    let accented = body(",\"cname\":\"caf\u{e9}\"".as_bytes());
    assert!(Kind::Start.agrees(&accented));
    let started = StartResponse::from_json(&Bytes::from(accented)).unwrap();
    assert_eq!(started.cname.unwrap().as_str(), "caf\u{e9}");
}

#[test]
fn strings_share_the_body() {
    let body = Bytes::from(br#"{"resourceId":"r1","sid":"s1","uid":"7"}"#.to_vec());
    let started = StartResponse::from_json(&body).unwrap();
    let inside = body.as_ptr_range();
    for text in [started.resource_id.as_str(), started.sid.as_str()] {
        assert!(inside.contains(&text.as_ptr()), "{text} was copied");
    }
    drop(body);
    assert_eq!(started.uid.as_deref(), Some("7"));
}

/// A small deterministic generator for the rewrites below.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// True once in `n`.
    fn one_in(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Writes `value` as JSON, rewritten at random the ways revisions of the service
/// differ: whitespace, key order, alias spellings, numbers as strings, escapes,
/// unknown keys, repeated keys, nulls.
fn rewrite(value: &Value, rng: &mut Rng, out: &mut String) {
    let space = |rng: &mut Rng, out: &mut String| {
        if rng.one_in(4) {
            out.push_str(["", " ", "\n  ", "\t", "\r\n", "        "][rng.below(6)]);
        }
    };
    space(rng, out);
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> =
                map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            if rng.one_in(3) {
                let at = rng.below(entries.len() + 1);
                let extra = [
                    Value::Null,
                    Value::from(1.5),
                    Value::from("x\u{e9}"),
                    serde_json::json!({"a": [1, {"b": "c"}]}),
                    serde_json::json!([]),
                ][rng.below(5)]
                .clone();
                entries.insert(at, (format!("unknown{}", rng.below(3)), extra));
            }
            if !entries.is_empty() && rng.one_in(40) {
                let copy = entries[rng.below(entries.len())].clone();
                entries.insert(rng.below(entries.len() + 1), copy);
            }
            if rng.one_in(3) {
                for i in (1..entries.len()).rev() {
                    entries.swap(i, rng.below(i + 1));
                }
            }
            out.push('{');
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let key = match key.as_str() {
                    "fileName" if rng.one_in(3) => "filename",
                    "filename" if rng.one_in(3) => "fileName",
                    "payload" if rng.one_in(3) => "playload",
                    other => other,
                };
                rewrite(&Value::from(key), rng, out);
                space(rng, out);
                out.push(':');
                if rng.one_in(60) {
                    out.push_str("null");
                } else {
                    rewrite(value, rng, out);
                }
            }
            space(rng, out);
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                rewrite(item, rng, out);
            }
            space(rng, out);
            out.push(']');
        }
        Value::Number(number) if rng.one_in(6) => {
            let text = number.to_string();
            let text = [text.clone(), format!(" {text}"), format!("{text}.0")]
                [rng.below(3).min(rng.below(3))]
            .clone();
            out.push_str(&serde_json::to_string(&text).unwrap_or_default());
        }
        Value::String(text) if rng.one_in(40) && !text.is_empty() => {
            let at = rng.below(text.chars().count());
            out.push('"');
            for (i, c) in text.chars().enumerate() {
                match c {
                    _ if i == at => out.push_str(&format!("\\u{:04x}", u32::from(c) & 0xffff)),
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        other => out.push_str(&other.to_string()),
    }
    space(rng, out);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Rewritten fixtures: whenever the fast path reads one, serde_json gives the
    /// same value.
    #[test]
    fn rewritten_fixtures_agree(pick in any::<usize>(), seed in 1..u64::MAX) {
        let fixtures: Vec<_> = fixtures().into_iter().filter(|f| f.1.is_some()).collect();
        let (_, kind, body) = &fixtures[pick % fixtures.len()];
        let value: Value = serde_json::from_str(body).expect("fixture");
        let mut rng = Rng(seed);
        let mut text = String::new();
        rewrite(&value, &mut rng, &mut text);
        if let Some(kind) = kind {
            kind.agrees(text.as_bytes());
        }
    }

    /// Random byte changes and insertions in fixtures.
    #[test]
    fn changed_bytes_agree(
        pick in any::<usize>(),
        changes in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<bool>()), 1..4),
    ) {
        let fixtures: Vec<_> = fixtures().into_iter().filter(|f| f.1.is_some()).collect();
        let (_, kind, body) = &fixtures[pick % fixtures.len()];
        let mut bytes = body.clone().into_bytes();
        for (at, byte, insert) in changes {
            let at = at % (bytes.len() + 1);
            if insert || at == bytes.len() {
                bytes.insert(at, byte);
            } else {
                bytes[at] = byte;
            }
        }
        if let Some(kind) = kind {
            kind.agrees(&bytes);
        }
    }
}

#[test]
fn rewrites_often_take_the_fast_path() {
    let fixtures: Vec<_> = fixtures().into_iter().filter(|f| f.1.is_some()).collect();
    let (mut read, mut total) = (0, 0);
    for seed in 1..3000u64 {
        let (_, kind, body) = &fixtures[seed as usize % fixtures.len()];
        let value: Value = serde_json::from_str(body).expect("fixture");
        let mut text = String::new();
        rewrite(&value, &mut Rng(seed * 0x9e37_79b9), &mut text);
        if let Some(kind) = kind {
            read += usize::from(kind.agrees(text.as_bytes()));
            total += 1;
        }
    }
    // Escapes, floats and repeated keys leave it; most rewrites do not.
    assert!(read * 3 > total, "{read} of {total}");
}
