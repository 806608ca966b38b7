//! Field encryption for sensitive personal data (PIPL art. 28): AES-256-GCM
//! with the street, table, column and row as associated data, so a ciphertext
//! copied to another row or street fails to decrypt; and a blind index
//! (HMAC-SHA256 keyed per street) for exact lookup within one street only.
//! Each ciphertext starts with the id of the key that made it, so keys can rotate.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// Where a value lives; bound into its ciphertext.
#[derive(Debug, Clone, Copy)]
pub struct Slot<'a> {
    /// The street the row belongs to (a ciphertext never opens in another street).
    pub street_id: Uuid,
    /// The table the value is stored in, e.g. `residents`.
    pub table: &'a str,
    /// The column the value is stored in, e.g. `id_number`.
    pub column: &'a str,
    /// The id of the row holding the value.
    pub row_id: Uuid,
}

impl Slot<'_> {
    fn aad(&self) -> Vec<u8> {
        format!(
            "onegrid/v1/{}/{}/{}/{}",
            self.street_id, self.table, self.column, self.row_id
        )
        .into_bytes()
    }
}

/// Why a ciphertext could not be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// Too short, or the key id or plaintext is not UTF-8.
    #[error("ciphertext is malformed")]
    Malformed,
    /// Sealed under a key id (named here) that this deployment does not hold.
    #[error("no key with id {0}")]
    UnknownKey(String),
    /// Authentication failed: sealed for another slot, or altered.
    #[error("ciphertext does not belong to this row (or was altered)")]
    Mismatch,
}

/// One named 32-byte key, from which the encryption and index keys derive.
#[derive(Clone)]
struct NamedKey {
    id: String,
    cipher: Aes256Gcm,
    index_key: [u8; 32],
}

/// The deployment's field keys: the current one encrypts, all decrypt.
#[derive(Clone)]
pub struct FieldKeys {
    current: NamedKey,
    previous: Vec<NamedKey>,
}

impl std::fmt::Debug for FieldKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldKeys")
            .field("current", &self.current.id)
            .finish_non_exhaustive()
    }
}

/// HMAC-SHA256 keyed with `key`.
fn hmac(key: &[u8; 32]) -> HmacSha256 {
    match <HmacSha256 as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut mac = hmac(master);
    mac.update(label);
    mac.finalize().into_bytes().into()
}

impl NamedKey {
    fn new(id: &str, master: &[u8; 32]) -> NamedKey {
        let enc = derive(master, b"onegrid field encryption v1");
        NamedKey {
            id: id.to_owned(),
            cipher: Aes256Gcm::new(&enc.into()),
            index_key: derive(master, b"onegrid blind index v1"),
        }
    }
}

impl FieldKeys {
    /// `current` encrypts and indexes; `previous` keys still decrypt.
    pub fn new<Id: AsRef<str>>(
        current: (&str, &[u8; 32]),
        previous: &[(Id, [u8; 32])],
    ) -> FieldKeys {
        FieldKeys {
            current: NamedKey::new(current.0, current.1),
            previous: previous
                .iter()
                .map(|(id, k)| NamedKey::new(id.as_ref(), k))
                .collect(),
        }
    }

    /// Encrypts `plaintext` for `slot`: `[id length][key id][12-byte nonce][ciphertext+tag]`.
    pub fn seal(&self, slot: Slot<'_>, plaintext: &str) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = slot.aad();
        let sealed = match self.current.cipher.encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext.as_bytes(),
                aad: &aad,
            },
        ) {
            Ok(sealed) => sealed,
            Err(_) => unreachable!("AES-GCM only refuses plaintexts over 64 GiB"),
        };
        let id = self.current.id.as_bytes();
        let mut out = Vec::with_capacity(1 + id.len() + 12 + sealed.len());
        out.push(u8::try_from(id.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(id.get(..255).unwrap_or(id));
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Decrypts a value sealed for exactly this `slot`.
    pub fn open(&self, slot: Slot<'_>, sealed: &[u8]) -> Result<String, CryptoError> {
        let (&len, rest) = sealed.split_first().ok_or(CryptoError::Malformed)?;
        let len = usize::from(len);
        if rest.len() < len + 12 + 16 {
            return Err(CryptoError::Malformed);
        }
        let (id, rest) = rest.split_at(len);
        let id = std::str::from_utf8(id).map_err(|_| CryptoError::Malformed)?;
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
            .ok_or_else(|| CryptoError::UnknownKey(id.to_owned()))?;
        let (nonce, body) = rest.split_at(12);
        let aad = slot.aad();
        let plain = key
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::Mismatch)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Malformed)
    }

    /// The id of the key that seals new values.
    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    /// The id of the key that sealed `sealed`, if it is well formed.
    pub fn key_id(sealed: &[u8]) -> Option<&str> {
        let (&len, rest) = sealed.split_first()?;
        std::str::from_utf8(rest.get(..usize::from(len))?).ok()
    }

    /// Whether `sealed` was made with the current key (nothing to re-seal).
    pub fn is_current(&self, sealed: &[u8]) -> bool {
        FieldKeys::key_id(sealed) == Some(self.current.id.as_str())
    }

    /// The blind index of a normalised value within one street, under the current key.
    pub fn index(&self, street_id: Uuid, kind: &str, normalized: &str) -> Vec<u8> {
        blind_index(&self.current, street_id, kind, normalized)
    }

    /// The blind index under every key, current first: what an exact lookup
    /// matches while values sealed under retired keys await re-sealing.
    pub fn lookup_indexes(&self, street_id: Uuid, kind: &str, normalized: &str) -> Vec<Vec<u8>> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .map(|key| blind_index(key, street_id, kind, normalized))
            .collect()
    }
}

fn blind_index(key: &NamedKey, street_id: Uuid, kind: &str, normalized: &str) -> Vec<u8> {
    let mut mac = hmac(&key.index_key);
    mac.update(street_id.as_bytes());
    mac.update(kind.as_bytes());
    mac.update(&[0]);
    mac.update(normalized.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> FieldKeys {
        FieldKeys::new(("k2", &[7u8; 32]), &[("k1", [1u8; 32])])
    }

    fn slot(street: u128, row: u128) -> Slot<'static> {
        Slot {
            street_id: Uuid::from_u128(street),
            table: "residents",
            column: "id_number",
            row_id: Uuid::from_u128(row),
        }
    }

    #[test]
    fn round_trip_and_binding() {
        let k = keys();
        let sealed = k.seal(slot(1, 10), "11010519491231002X");
        assert!(
            !sealed.windows(6).any(|w| w == b"110105"),
            "no plaintext in the ciphertext"
        );
        assert_eq!(k.open(slot(1, 10), &sealed).unwrap(), "11010519491231002X");
        // Transplanted to another row or street, or another column: refused.
        assert_eq!(k.open(slot(1, 11), &sealed), Err(CryptoError::Mismatch));
        assert_eq!(k.open(slot(2, 10), &sealed), Err(CryptoError::Mismatch));
        let phone_slot = Slot {
            column: "phone",
            ..slot(1, 10)
        };
        assert_eq!(k.open(phone_slot, &sealed), Err(CryptoError::Mismatch));
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(k.open(slot(1, 10), &tampered), Err(CryptoError::Mismatch));
        assert_eq!(
            k.open(slot(1, 10), &sealed[..10]),
            Err(CryptoError::Malformed)
        );
    }

    #[test]
    fn old_keys_still_open_and_unknown_keys_are_named() {
        let old = FieldKeys::new::<&str>(("k1", &[1u8; 32]), &[]);
        let sealed = old.seal(slot(1, 10), "13800131234");
        assert_eq!(keys().open(slot(1, 10), &sealed).unwrap(), "13800131234");
        let other = FieldKeys::new::<&str>(("k9", &[9u8; 32]), &[]);
        assert_eq!(
            other.open(slot(1, 10), &sealed),
            Err(CryptoError::UnknownKey("k1".into()))
        );
    }

    #[test]
    fn rotation_keeps_lookups_and_names_the_sealing_key() {
        let old = FieldKeys::new::<&str>(("k1", &[1u8; 32]), &[]);
        let sealed = old.seal(slot(1, 10), "13800131234");
        let rotated = keys();
        assert_eq!(FieldKeys::key_id(&sealed), Some("k1"));
        assert!(old.is_current(&sealed));
        assert!(!rotated.is_current(&sealed));
        assert!(rotated.is_current(&rotated.seal(slot(1, 10), "13800131234")));
        let old_index = old.index(Uuid::from_u128(1), "phone", "13800131234");
        let candidates = rotated.lookup_indexes(Uuid::from_u128(1), "phone", "13800131234");
        assert_eq!(candidates.len(), 2);
        assert_eq!(
            candidates[0],
            rotated.index(Uuid::from_u128(1), "phone", "13800131234")
        );
        assert_eq!(candidates[1], old_index);
        assert_ne!(candidates[0], old_index);
        assert_eq!(FieldKeys::key_id(&[]), None);
        assert_eq!(FieldKeys::key_id(&[9, b'k']), None);
    }

    #[test]
    fn blind_index_is_scoped_by_street_and_kind() {
        let k = keys();
        let a = k.index(Uuid::from_u128(1), "id_number", "11010519491231002X");
        assert_eq!(
            a,
            k.index(Uuid::from_u128(1), "id_number", "11010519491231002X")
        );
        assert_ne!(
            a,
            k.index(Uuid::from_u128(2), "id_number", "11010519491231002X")
        );
        assert_ne!(
            a,
            k.index(Uuid::from_u128(1), "phone", "11010519491231002X")
        );
    }
}
