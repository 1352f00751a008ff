//! Sealing the start `clientRequest` before it is stored: ChaCha20-Poly1305
//! with the store key (`CLOUDREC_STORE_KEY`).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sha2::{Digest, Sha256};

/// The environment variable that holds the store key, in base64.
pub const STORE_KEY_ENV: &str = "CLOUDREC_STORE_KEY";

/// The first byte of every sealed value: the format's version.
const VERSION: u8 = 1;
/// The bytes of the key id that follows the version.
const KEY_ID_LEN: usize = 4;
/// The bytes of the random nonce that follows the key id.
const NONCE_LEN: usize = 12;
/// The bytes of the Poly1305 tag at the end.
const TAG_LEN: usize = 16;
/// Version, key id and nonce.
const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN;

/// The 32-byte key that seals the start bodies in the session store.
///
/// Its `Debug` shows `StoreKey(***)`, never the key.
#[derive(Clone)]
pub struct StoreKey {
    key: [u8; 32],
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKey(***)")
    }
}

/// Why a store key was refused. No message contains the key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The value is not base64.
    #[error(
        "{STORE_KEY_ENV} is not base64 ({detail}); it must be 32 random bytes in standard base64, \
         such as the output of `openssl rand -base64 32`"
    )]
    NotBase64 {
        /// What is wrong, without the value.
        detail: String,
    },
    /// The value is base64 but does not decode to 32 bytes.
    #[error(
        "{STORE_KEY_ENV} decodes to {len} bytes, not 32; it must be 32 random bytes in standard \
         base64, such as the output of `openssl rand -base64 32`"
    )]
    WrongLength {
        /// How many bytes it decodes to.
        len: usize,
    },
}

/// Why a sealed value could not be opened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// Too short to be a sealed value.
    #[error(
        "the sealed value is {len} bytes, shorter than the {} of an empty sealed value",
        HEADER_LEN + TAG_LEN
    )]
    TooShort {
        /// Its length.
        len: usize,
    },
    /// A format version this build does not know.
    #[error("the sealed value has format version {0}, this build knows only version {VERSION}")]
    UnknownVersion(u8),
    /// Sealed with another store key (its key id differs).
    #[error(
        "the sealed value was sealed with another store key (key id {found}, this key's is \
         {expected}): set {STORE_KEY_ENV} to the key it was sealed with"
    )]
    WrongKey {
        /// The key id in the sealed value (4 bytes of a hash of the key, in hex).
        found: String,
        /// The key id of this key.
        expected: String,
    },
    /// The key matches but the authentication failed: a byte was changed.
    #[error("the sealed value fails authentication: it was changed after sealing (or damaged)")]
    Tampered,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl StoreKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(key: [u8; 32]) -> Self {
        Self { key }
    }

    /// A key from its standard base64 (surrounding whitespace ignored), as
    /// found in [`STORE_KEY_ENV`].
    pub fn from_base64(encoded: &str) -> Result<Self, KeyError> {
        let bytes = STANDARD.decode(encoded.trim()).map_err(|e| {
            let detail = match e {
                base64::DecodeError::InvalidByte(at, _) => {
                    format!("a character that is not base64 at position {at}")
                }
                base64::DecodeError::InvalidLength(len) => {
                    format!("{len} base64 characters is not a valid length")
                }
                base64::DecodeError::InvalidLastSymbol(at, _) => {
                    format!("an invalid last character at position {at}")
                }
                base64::DecodeError::InvalidPadding => "invalid padding".to_owned(),
            };
            KeyError::NotBase64 { detail }
        })?;
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::WrongLength { len: bytes.len() })?;
        Ok(Self { key })
    }

    /// The key in [`STORE_KEY_ENV`], `None` if it is not set or empty.
    pub fn from_env() -> Result<Option<Self>, KeyError> {
        match std::env::var(STORE_KEY_ENV) {
            Ok(value) if !value.trim().is_empty() => Self::from_base64(&value).map(Some),
            Ok(_) | Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(KeyError::NotBase64 {
                detail: "it is not valid UTF-8".to_owned(),
            }),
        }
    }

    /// 4 bytes of a hash of the key, stored with every sealed value so that
    /// opening with another key says so. It reveals nothing usable about the key.
    fn key_id(&self) -> [u8; KEY_ID_LEN] {
        let mut hash = Sha256::new();
        hash.update(b"cloudrec store key id\0");
        hash.update(self.key);
        let digest = hash.finalize();
        let mut id = [0; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        id
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(&self.key))
    }

    /// Seals `plaintext`: version byte, key id, a random 12-byte nonce, then
    /// the ChaCha20-Poly1305 ciphertext and tag (the header is authenticated too).
    pub fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        out.push(VERSION);
        out.extend_from_slice(&self.key_id());
        out.extend_from_slice(&nonce);
        let sealed = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &out,
                },
            )
            .expect("ChaCha20-Poly1305 seals any message shorter than 256 GiB");
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens a value made by [`seal`](Self::seal) with the same key.
    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < HEADER_LEN + TAG_LEN {
            return Err(SealError::TooShort { len: sealed.len() });
        }
        let (header, body) = sealed.split_at(HEADER_LEN);
        if header[0] != VERSION {
            return Err(SealError::UnknownVersion(header[0]));
        }
        let key_id = &header[1..=KEY_ID_LEN];
        let expected = self.key_id();
        if key_id != expected {
            return Err(SealError::WrongKey {
                found: hex(key_id),
                expected: hex(&expected),
            });
        }
        self.cipher()
            .decrypt(
                Nonce::from_slice(&header[1 + KEY_ID_LEN..]),
                Payload {
                    msg: body,
                    aad: header,
                },
            )
            .map_err(|_| SealError::Tampered)
    }
}
