//! Checking a notification's signature headers against its raw body (feature
//! `ncs`): `Agora-Signature-V2` (hex HMAC-SHA256) is preferred, `Agora-Signature`
//! (hex HMAC-SHA1) accepted, each compared in constant time.

use std::fmt;

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

use crate::Secret;

/// One of the two signature headers of a notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureHeader {
    /// `Agora-Signature-V2`: the hex HMAC-SHA256 of the raw body.
    V2,
    /// `Agora-Signature`: the hex HMAC-SHA1 of the raw body.
    V1,
}

impl SignatureHeader {
    /// Both headers, the preferred one first.
    pub const ALL: [Self; 2] = [Self::V2, Self::V1];

    /// The header's name as the service sends it (names match in any case).
    pub const fn name(self) -> &'static str {
        match self {
            Self::V2 => "Agora-Signature-V2",
            Self::V1 => "Agora-Signature",
        }
    }

    /// How many hex digits the header's value has.
    pub const fn hex_len(self) -> usize {
        match self {
            Self::V2 => 64,
            Self::V1 => 40,
        }
    }

    fn index(self) -> usize {
        match self {
            Self::V2 => 0,
            Self::V1 => 1,
        }
    }

    /// The hex HMAC of `body` under `key` this header carries, in lower case.
    fn sign(self, body: &[u8], key: &[u8]) -> String {
        let digest = match self {
            Self::V2 => {
                mac::<Hmac<Sha256>>(key, body).map(|mac| mac.finalize().into_bytes().to_vec())
            }
            Self::V1 => {
                mac::<Hmac<Sha1>>(key, body).map(|mac| mac.finalize().into_bytes().to_vec())
            }
        };
        digest.map(|digest| hex(&digest)).unwrap_or_default()
    }

    /// Whether `digest` is the HMAC of `body` under `key`, compared in constant time.
    fn matches(self, body: &[u8], key: &[u8], digest: &[u8]) -> bool {
        match self {
            Self::V2 => {
                mac::<Hmac<Sha256>>(key, body).is_some_and(|mac| mac.verify_slice(digest).is_ok())
            }
            Self::V1 => {
                mac::<Hmac<Sha1>>(key, body).is_some_and(|mac| mac.verify_slice(digest).is_ok())
            }
        }
    }
}

impl fmt::Display for SignatureHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The HMAC of `body` under `key`. HMAC takes a key of any length, so this is
/// never `None`; were it, nothing would match and the signature would be empty.
fn mac<M: Mac + KeyInit>(key: &[u8], body: &[u8]) -> Option<M> {
    let mut mac = <M as KeyInit>::new_from_slice(key).ok()?;
    mac.update(body);
    Some(mac)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0F)]));
    }
    out
}

/// The bytes of a hex value of exactly `len` digits in either case, surrounding
/// blanks ignored; `None` otherwise.
fn unhex(value: &[u8], len: usize) -> Option<Vec<u8>> {
    let value = value.trim_ascii();
    if value.len() != len {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    value
        .chunks_exact(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// Why a notification's signature was refused. The message names the header,
/// never the value it should have had.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The secret to check with is empty: it is a configuration mistake, and an
    /// empty key is one anybody can sign with.
    #[error(
        "the NCS secret is empty: set the secret of the notification settings in the Agora Console"
    )]
    EmptySecret,
    /// Neither signature header is present.
    #[error("no signature: neither Agora-Signature-V2 nor Agora-Signature is present")]
    Missing,
    /// A signature header appears more than once.
    #[error("{0} appears more than once")]
    Repeated(SignatureHeader),
    /// A header's value is not a hex HMAC of the right length.
    #[error("{0} is not {len} hex digits", len = .0.hex_len())]
    Malformed(SignatureHeader),
    /// A header's value is not the HMAC of the body under the secret.
    #[error("{0} does not match the body")]
    Mismatch(SignatureHeader),
    /// One header matches the body and the other does not: someone changed the
    /// body or one header, or the sender signs with another secret.
    #[error("{matched} matches the body but {failed} does not")]
    Disagree {
        /// The header that matches.
        matched: SignatureHeader,
        /// The header that is malformed or does not match.
        failed: SignatureHeader,
    },
}

/// What one present header came to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Check {
    Match,
    Mismatch,
    Malformed,
}

/// Checks a notification's signature headers against its raw body.
///
/// `headers` are the request's headers as (name, value) pairs: an
/// `http::HeaderMap` by reference, or any list of string or byte pairs; names
/// match in any case, other headers are ignored. `body` is the body exactly as
/// received, before any parsing.
///
/// Every signature header present must be well formed (hex digits in either
/// case) and match the HMAC of the body under `secret`, compared in constant
/// time; at least one must be present. The answer names the strongest header
/// that matched: [`SignatureHeader::V2`] whenever it is present.
///
/// ```
/// use cloudrec_types::Secret;
/// use cloudrec_types::ncs::{SignatureHeader, VerifyError, verify};
///
/// let secret = Secret::new("secret");
/// let body = br#"{"noticeId":"1","eventType":11,"payload":{"details":{"exitStatus":0}}}"#;
/// let signature = cloudrec_types::ncs::sign(SignatureHeader::V2, body, &secret);
/// let headers = [("content-type", "application/json"), ("agora-signature-v2", signature.as_str())];
/// assert_eq!(verify(headers, body, &secret), Ok(SignatureHeader::V2));
///
/// let forged = br#"{"noticeId":"1","eventType":11,"payload":{"details":{"exitStatus":1}}}"#;
/// assert_eq!(verify(headers, forged, &secret), Err(VerifyError::Mismatch(SignatureHeader::V2)));
/// assert_eq!(verify([("x", "y")], body, &secret), Err(VerifyError::Missing));
/// ```
pub fn verify<I, N, V>(
    headers: I,
    body: &[u8],
    secret: &Secret,
) -> Result<SignatureHeader, VerifyError>
where
    I: IntoIterator<Item = (N, V)>,
    N: AsRef<[u8]>,
    V: AsRef<[u8]>,
{
    if secret.is_empty() {
        return Err(VerifyError::EmptySecret);
    }
    let key = secret.expose().as_bytes();
    let mut checks: [Option<Check>; 2] = [None, None];
    for (name, value) in headers {
        let Some(header) = SignatureHeader::ALL
            .into_iter()
            .find(|header| name.as_ref().eq_ignore_ascii_case(header.name().as_bytes()))
        else {
            continue;
        };
        let slot = &mut checks[header.index()];
        if slot.is_some() {
            return Err(VerifyError::Repeated(header));
        }
        *slot = Some(match unhex(value.as_ref(), header.hex_len()) {
            Some(digest) if header.matches(body, key, &digest) => Check::Match,
            Some(_) => Check::Mismatch,
            None => Check::Malformed,
        });
    }
    let [v2, v1] = checks;
    match (v2, v1) {
        (None, None) => Err(VerifyError::Missing),
        (Some(Check::Match), None | Some(Check::Match)) => Ok(SignatureHeader::V2),
        (None, Some(Check::Match)) => Ok(SignatureHeader::V1),
        (Some(Check::Match), Some(_)) => Err(VerifyError::Disagree {
            matched: SignatureHeader::V2,
            failed: SignatureHeader::V1,
        }),
        (Some(_), Some(Check::Match)) => Err(VerifyError::Disagree {
            matched: SignatureHeader::V1,
            failed: SignatureHeader::V2,
        }),
        (Some(Check::Mismatch), _) => Err(VerifyError::Mismatch(SignatureHeader::V2)),
        (Some(Check::Malformed), _) => Err(VerifyError::Malformed(SignatureHeader::V2)),
        (None, Some(Check::Mismatch)) => Err(VerifyError::Mismatch(SignatureHeader::V1)),
        (None, Some(Check::Malformed)) => Err(VerifyError::Malformed(SignatureHeader::V1)),
    }
}

/// The value of `header` for `body` under `secret`: the lower-case hex HMAC
/// (SHA-256 for [`SignatureHeader::V2`], SHA-1 for [`SignatureHeader::V1`]), as
/// the service sends it; for signing notices in tests and emulators.
pub fn sign(header: SignatureHeader, body: &[u8], secret: &Secret) -> String {
    header.sign(body, secret.expose().as_bytes())
}
