//! `ncs::verify` against signatures computed by openssl (tests/fixtures/ncs-signatures):
//! good headers pass, any change to the body, the secret or a header is refused
//! with an error naming the header, and `ncs::sign` gives the same values.

use std::path::PathBuf;

use cloudrec_types::Secret;
use cloudrec_types::ncs::{SignatureHeader, VerifyError, sign, verify};

const V2: &str = "Agora-Signature-V2";
const V1: &str = "Agora-Signature";

struct Vector {
    body: Vec<u8>,
    secret: Secret,
    sha256: String,
    sha1: String,
}

fn vectors() -> Vec<Vector> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ncs-signatures");
    let table = std::fs::read_to_string(dir.join("signatures.tsv")).unwrap();
    let mut lines = table.lines();
    assert_eq!(lines.next(), Some("body\tsecret\tsha256\tsha1"));
    let vectors: Vec<Vector> = lines
        .filter(|line| !line.is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            assert_eq!(cells.len(), 4, "{line}");
            Vector {
                body: std::fs::read(dir.join(cells[0])).unwrap(),
                secret: Secret::new(cells[1]),
                sha256: cells[2].to_owned(),
                sha1: cells[3].to_owned(),
            }
        })
        .collect();
    assert!(vectors.len() >= 9, "signatures.tsv lost rows");
    vectors
}

fn other_secret() -> Secret {
    Secret::new("not-the-secret")
}

#[test]
fn a_good_v2_signature_passes_and_is_named() {
    for v in vectors() {
        assert_eq!(
            verify([(V2, &v.sha256)], &v.body, &v.secret),
            Ok(SignatureHeader::V2)
        );
    }
}

#[test]
fn a_good_v1_signature_alone_passes() {
    for v in vectors() {
        assert_eq!(
            verify([(V1, &v.sha1)], &v.body, &v.secret),
            Ok(SignatureHeader::V1)
        );
    }
}

#[test]
fn both_good_signatures_pass_as_v2_in_any_order_among_other_headers() {
    for v in vectors() {
        let headers = [
            ("Content-Type", "application/json"),
            (V1, v.sha1.as_str()),
            ("User-Agent", "ncs"),
            (V2, v.sha256.as_str()),
        ];
        assert_eq!(verify(headers, &v.body, &v.secret), Ok(SignatureHeader::V2));
    }
}

#[test]
fn sign_gives_the_openssl_values() {
    for v in vectors() {
        assert_eq!(sign(SignatureHeader::V2, &v.body, &v.secret), v.sha256);
        assert_eq!(sign(SignatureHeader::V1, &v.body, &v.secret), v.sha1);
    }
}

#[test]
fn any_changed_byte_of_the_body_is_refused() {
    let v = &vectors()[3];
    for at in 0..v.body.len() {
        let mut body = v.body.clone();
        body[at] ^= 0x01;
        assert_eq!(
            verify([(V2, &v.sha256)], &body, &v.secret),
            Err(VerifyError::Mismatch(SignatureHeader::V2)),
            "byte {at}"
        );
        assert_eq!(
            verify([(V1, &v.sha1)], &body, &v.secret),
            Err(VerifyError::Mismatch(SignatureHeader::V1)),
            "byte {at}"
        );
    }
    let mut longer = v.body.clone();
    longer.push(b' ');
    assert!(verify([(V2, &v.sha256)], &longer, &v.secret).is_err());
    assert!(verify([(V2, &v.sha256)], &v.body[..v.body.len() - 1], &v.secret).is_err());
}

#[test]
fn a_wrong_secret_is_refused() {
    for v in vectors() {
        let both = [(V2, v.sha256.as_str()), (V1, v.sha1.as_str())];
        assert_eq!(
            verify(both, &v.body, &other_secret()),
            Err(VerifyError::Mismatch(SignatureHeader::V2))
        );
        assert_eq!(
            verify([(V1, &v.sha1)], &v.body, &other_secret()),
            Err(VerifyError::Mismatch(SignatureHeader::V1))
        );
    }
}

#[test]
fn a_missing_header_is_refused() {
    let v = &vectors()[0];
    assert_eq!(
        verify::<[(&str, &str); 0], _, _>([], &v.body, &v.secret),
        Err(VerifyError::Missing)
    );
    let unrelated = [
        ("Agora-Signature-V3", v.sha256.as_str()),
        ("Signature", v.sha1.as_str()),
    ];
    assert_eq!(
        verify(unrelated, &v.body, &v.secret),
        Err(VerifyError::Missing)
    );
    let message = VerifyError::Missing.to_string();
    assert!(message.contains(V2) && message.contains(V1), "{message}");
}

#[test]
fn headers_that_disagree_are_refused_naming_both() {
    let vectors = vectors();
    let (v, other) = (&vectors[0], &vectors[3]);
    let good_v2_bad_v1 = [(V2, v.sha256.as_str()), (V1, other.sha1.as_str())];
    assert_eq!(
        verify(good_v2_bad_v1, &v.body, &v.secret),
        Err(VerifyError::Disagree {
            matched: SignatureHeader::V2,
            failed: SignatureHeader::V1
        })
    );
    let bad_v2_good_v1 = [(V2, other.sha256.as_str()), (V1, v.sha1.as_str())];
    assert_eq!(
        verify(bad_v2_good_v1, &v.body, &v.secret),
        Err(VerifyError::Disagree {
            matched: SignatureHeader::V1,
            failed: SignatureHeader::V2
        })
    );
    let malformed_v1 = [(V2, v.sha256.as_str()), (V1, "zz")];
    assert_eq!(
        verify(malformed_v1, &v.body, &v.secret),
        Err(VerifyError::Disagree {
            matched: SignatureHeader::V2,
            failed: SignatureHeader::V1
        })
    );
    let message = verify(good_v2_bad_v1, &v.body, &v.secret)
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        "Agora-Signature-V2 matches the body but Agora-Signature does not"
    );
}

#[test]
fn upper_case_hex_and_header_names_in_any_case_pass() {
    for v in vectors() {
        let upper = [("AGORA-SIGNATURE-V2", v.sha256.to_uppercase())];
        assert_eq!(verify(upper, &v.body, &v.secret), Ok(SignatureHeader::V2));
        let mixed: String = v
            .sha1
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect();
        assert_eq!(
            verify([("agora-signature", mixed)], &v.body, &v.secret),
            Ok(SignatureHeader::V1)
        );
        let padded = [(V2, format!(" {}\t", v.sha256))];
        assert_eq!(verify(padded, &v.body, &v.secret), Ok(SignatureHeader::V2));
    }
}

#[test]
fn malformed_hex_is_refused_naming_the_header() {
    let v = &vectors()[0];
    let mut not_hex = v.sha256.clone();
    not_hex.replace_range(10..11, "g");
    let short = &v.sha256[..62];
    let long = format!("{}00", v.sha256);
    let sha1_in_v2 = v.sha1.clone();
    for bad in [
        not_hex.as_str(),
        short,
        long.as_str(),
        sha1_in_v2.as_str(),
        "",
        "0x12",
        "é",
    ] {
        assert_eq!(
            verify([(V2, bad)], &v.body, &v.secret),
            Err(VerifyError::Malformed(SignatureHeader::V2)),
            "{bad:?}"
        );
    }
    assert_eq!(
        verify([(V1, &v.sha256)], &v.body, &v.secret),
        Err(VerifyError::Malformed(SignatureHeader::V1))
    );
    let bytes: [(&[u8], &[u8]); 1] = [(V1.as_bytes(), b"\xff\xfe")];
    assert_eq!(
        verify(bytes, &v.body, &v.secret),
        Err(VerifyError::Malformed(SignatureHeader::V1))
    );
    assert_eq!(
        VerifyError::Malformed(SignatureHeader::V2).to_string(),
        "Agora-Signature-V2 is not 64 hex digits"
    );
}

#[test]
fn a_repeated_header_is_refused() {
    let v = &vectors()[0];
    let twice = [
        (V2, v.sha256.as_str()),
        ("agora-signature-v2", v.sha256.as_str()),
    ];
    assert_eq!(
        verify(twice, &v.body, &v.secret),
        Err(VerifyError::Repeated(SignatureHeader::V2))
    );
}

#[test]
fn an_empty_secret_is_refused_before_any_header() {
    let body = b"{}";
    let empty = Secret::new("");
    let signed = sign(SignatureHeader::V2, body, &empty);
    assert_eq!(
        verify([(V2, signed)], body, &empty),
        Err(VerifyError::EmptySecret)
    );
}

#[test]
fn errors_never_hold_the_expected_signature_or_the_secret() {
    for v in vectors() {
        let wrong = "0".repeat(64);
        let errors = [
            verify([(V2, wrong.as_str())], &v.body, &v.secret),
            verify([(V1, &wrong[..40])], &v.body, &v.secret),
            verify(
                [(V2, v.sha256.as_str()), (V1, &wrong[..40])],
                &v.body,
                &v.secret,
            ),
        ];
        for error in errors {
            let error = error.unwrap_err();
            for text in [error.to_string(), format!("{error:?}")] {
                assert!(
                    !text.contains(&v.sha256) && !text.contains(&v.sha1),
                    "{text}"
                );
                assert!(!text.contains(v.secret.expose()), "{text}");
            }
        }
    }
}

#[test]
fn an_http_header_map_is_accepted_as_it_is() {
    let v = &vectors()[0];
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "content-type",
        http::HeaderValue::from_static("application/json"),
    );
    headers.insert(V1, http::HeaderValue::from_str(&v.sha1).unwrap());
    assert_eq!(
        verify(&headers, &v.body, &v.secret),
        Ok(SignatureHeader::V1)
    );
    headers.insert(V2, http::HeaderValue::from_str(&v.sha256).unwrap());
    assert_eq!(
        verify(&headers, &v.body, &v.secret),
        Ok(SignatureHeader::V2)
    );
}
