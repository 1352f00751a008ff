//! Sealing start bodies with the store key.

use cloudrec_fleet::{KeyError, SealError, StoreKey};

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="; // bytes 0..32

fn key() -> StoreKey {
    StoreKey::from_base64(KEY).unwrap()
}

#[test]
fn sealed_bodies_open_with_the_same_key() {
    let key = key();
    let body = br#"{"token":"secret-token","storageConfig":{"secretKey":"s3-secret"}}"#;
    let sealed = key.seal(body);
    assert_ne!(&sealed[..], &body[..]);
    assert!(!sealed.windows(6).any(|w| w == b"secret"), "no clear text");
    assert_eq!(key.open(&sealed).unwrap(), body);
    // A fresh nonce each time.
    assert_ne!(key.seal(body), sealed);
    // The empty body too.
    assert_eq!(key.open(&key.seal(b"")).unwrap(), b"");
    // Surrounding whitespace (a newline from a file) is ignored.
    let padded = StoreKey::from_base64(&format!("  {KEY}\n")).unwrap();
    assert_eq!(padded.open(&sealed).unwrap(), body);
}

#[test]
fn another_key_is_named_as_the_cause() {
    let sealed = key().seal(b"body");
    let other = StoreKey::from_bytes([7; 32]);
    let error = other.open(&sealed).unwrap_err();
    assert!(matches!(error, SealError::WrongKey { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("another store key") && message.contains("CLOUDREC_STORE_KEY"),
        "{message}"
    );
}

#[test]
fn a_changed_byte_is_refused() {
    let key = key();
    let sealed = key.seal(b"a start body of some length");
    // Every byte after the key id: nonce, ciphertext, tag.
    for at in 5..sealed.len() {
        let mut tampered = sealed.clone();
        tampered[at] ^= 0x01;
        let error = key.open(&tampered).unwrap_err();
        assert_eq!(error, SealError::Tampered, "byte {at}");
        assert!(error.to_string().contains("changed"), "{error}");
    }
    let mut version = sealed.clone();
    version[0] = 9;
    assert_eq!(
        key.open(&version).unwrap_err(),
        SealError::UnknownVersion(9)
    );
    let mut key_id = sealed.clone();
    key_id[2] ^= 0x80;
    assert!(matches!(key.open(&key_id), Err(SealError::WrongKey { .. })));
    for len in [0, 1, 32] {
        assert!(matches!(
            key.open(&sealed[..len]),
            Err(SealError::TooShort { .. })
        ));
    }
    assert!(matches!(
        key.open(&sealed[..sealed.len() - 1]),
        Err(SealError::Tampered)
    ));
}

#[test]
fn bad_base64_names_the_variable_and_hides_the_value() {
    for bad in [
        "not base64 at all!",
        "AAEC$wQF",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
    ] {
        let error = StoreKey::from_base64(bad).unwrap_err();
        assert!(
            matches!(error, KeyError::NotBase64 { .. }),
            "{bad}: {error:?}"
        );
        let (shown, debug) = (error.to_string(), format!("{error:?}"));
        assert!(
            shown.contains("CLOUDREC_STORE_KEY") && shown.contains("not base64"),
            "{shown}"
        );
        assert!(
            !shown.contains(bad) && !debug.contains(bad),
            "{shown} / {debug}"
        );
    }
}

#[test]
fn a_wrong_length_is_named() {
    for (encoded, len) in [
        ("AAECAw==", 4),
        ("", 0),
        ("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISI=", 35),
    ] {
        let error = StoreKey::from_base64(encoded).unwrap_err();
        assert_eq!(error, KeyError::WrongLength { len }, "{encoded}");
        let shown = error.to_string();
        assert!(
            shown.contains("CLOUDREC_STORE_KEY") && shown.contains(&format!("{len} bytes, not 32")),
            "{shown}"
        );
    }
}

#[test]
fn debug_never_shows_the_key() {
    let key = StoreKey::from_bytes([0x41; 32]);
    assert_eq!(format!("{key:?}"), "StoreKey(***)");
    assert_eq!(format!("{:#?}", key), "StoreKey(***)");
}
