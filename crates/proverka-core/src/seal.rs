//! Sealing data at rest (the `seal` feature): the configured encryption keys, rotation included,
//! for whatever keeps personal data outside the process (the cache's Redis values, the store's
//! subjects).
//!
//! ```text
//! sealed: key id (4) | nonce (12) | ChaCha20-Poly1305(plaintext, aad)
//! ```
//!
//! Each configured [`EncryptionKey`] is a master key; HKDF-SHA256 derives from it the key that
//! encrypts and a public 4-byte key id, and from the last one of a [`Keyring`] the key that
//! names entries (an HMAC key). So the cipher never shares a key with the naming HMAC, a new
//! key can be put first (it seals) while data sealed under the older ones still opens (each
//! names its key), and names stay the same through the rotation.
//!
//! `aad` binds sealed data to where it is kept (a Redis key name, a store's table and row): a
//! value copied elsewhere does not open, so one person's data is never read for another.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

/// HKDF's salt and the labels of the keys derived from a master key (the cache's since its
/// first version: changing them would leave every sealed value unreadable).
const HKDF_SALT: &[u8] = b"proverka-cache-v1";
const VALUE_KEY: &[u8] = b"value encryption";
const KEY_ID: &[u8] = b"key id";
const NAMING_KEY: &[u8] = b"entry naming";

/// A key id's and a nonce's length in sealed data.
const ID_LEN: usize = 4;
const NONCE_LEN: usize = 12;

/// `info`'s 32 bytes from `master` by HKDF-SHA256.
fn derive(master: &EncryptionKey, info: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's limit (255 × 32): expand cannot fail.
    let _ = hkdf::Hkdf::<sha2::Sha256>::new(Some(HKDF_SALT), &master.0).expand(info, &mut out);
    out
}

/// A 256-bit master key for sealing data at rest (ChaCha20-Poly1305).
#[derive(Clone)]
pub struct EncryptionKey([u8; 32]);

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptionKey([redacted])")
    }
}

impl EncryptionKey {
    /// A key from 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A key from 64 hexadecimal digits.
    ///
    /// # Errors
    /// When the text is not exactly 64 hex digits (the message never repeats it).
    pub fn from_hex(hex: &str) -> Result<Self, &'static str> {
        let hex = hex.trim();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("the encryption key must be 64 hexadecimal digits (32 bytes)");
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
                .map_err(|_| "the encryption key must be hexadecimal")?;
        }
        Ok(Self(out))
    }
}

/// One master key's derived keys.
#[derive(Clone)]
struct ValueKey {
    id: [u8; ID_LEN],
    cipher: [u8; 32],
}

impl ValueKey {
    fn of(master: &EncryptionKey) -> Self {
        let full = derive(master, KEY_ID);
        Self {
            id: [full[0], full[1], full[2], full[3]],
            cipher: derive(master, VALUE_KEY),
        }
    }
}

/// The configured encryption keys: the first seals, every one opens what was sealed under it
/// (rotation: put the new key first, keep the old ones until their data is gone or sealed
/// again). Entries are named with a key derived from the last one, so names do not change when
/// a key is put in front.
#[derive(Clone)]
pub struct Keyring {
    keys: Vec<ValueKey>,
    naming: [u8; 32],
}

impl std::fmt::Debug for Keyring {
    // Key ids are public (all sealed data carries one); the keys never show.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = self.keys.iter().map(|k| hex(&k.id)).collect();
        f.debug_struct("Keyring").field("key_ids", &ids).finish()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Keyring {
    /// A keyring from master keys, the one that seals first.
    ///
    /// # Errors
    /// No key, or the same key twice (the message never shows a key).
    pub fn new(keys: impl IntoIterator<Item = EncryptionKey>) -> Result<Self, &'static str> {
        let masters: Vec<EncryptionKey> = keys.into_iter().collect();
        let last = masters
            .last()
            .ok_or("at least one encryption key is needed")?;
        let naming = derive(last, NAMING_KEY);
        let mut keys: Vec<ValueKey> = Vec::with_capacity(masters.len());
        for m in &masters {
            let key = ValueKey::of(m);
            if keys.iter().any(|k| k.id == key.id) {
                return Err("the same encryption key is given twice");
            }
            keys.push(key);
        }
        Ok(Self { keys, naming })
    }

    /// The id of the key that seals (as all data sealed now carries it), in hex.
    pub fn current_key_id(&self) -> String {
        hex(&self.keys[0].id)
    }

    /// The key that names entries (an HMAC key, never a cipher key).
    pub fn naming_key(&self) -> &[u8; 32] {
        &self.naming
    }

    /// `plaintext` sealed under the first key, bound to `aad`: its key id, a random nonce and
    /// the ciphertext with its tag.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let key = &self.keys[0];
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&key.cipher));
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encryption fails only for a message beyond 256 GiB: nothing proverka seals.
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(ID_LEN + NONCE_LEN + sealed.len());
        out.extend_from_slice(&key.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// What [`Self::seal`] sealed under any of the keys, bound to `aad`; `None` for data
    /// sealed under a key no longer configured, bound elsewhere, damaged or cut short.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < ID_LEN + NONCE_LEN {
            return None;
        }
        let (id, rest) = sealed.split_at(ID_LEN);
        let key = self.keys.iter().find(|k| k.id == id)?;
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        ChaCha20Poly1305::new(Key::from_slice(&key.cipher))
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .ok()
    }
}

impl From<EncryptionKey> for Keyring {
    /// A keyring of one key.
    fn from(key: EncryptionKey) -> Self {
        Self {
            keys: vec![ValueKey::of(&key)],
            naming: derive(&key, NAMING_KEY),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> EncryptionKey {
        EncryptionKey::from_bytes([byte; 32])
    }

    #[test]
    fn sealed_data_opens_only_where_it_was_bound_and_under_a_configured_key() {
        let ring = Keyring::from(key(1));
        let sealed = ring.seal(b"540304378234", b"watch:list:7");
        assert!(!sealed.windows(12).any(|w| w == b"540304378234"));
        assert_eq!(
            ring.open(&sealed, b"watch:list:7").as_deref(),
            Some(&b"540304378234"[..])
        );
        assert_eq!(ring.open(&sealed, b"watch:list:8"), None);
        assert_eq!(Keyring::from(key(2)).open(&sealed, b"watch:list:7"), None);
        let mut damaged = sealed.clone();
        *damaged.last_mut().unwrap() ^= 1;
        assert_eq!(ring.open(&damaged, b"watch:list:7"), None);
        assert_eq!(ring.open(&sealed[..10], b"watch:list:7"), None);
        // Two seals of the same text differ (a fresh nonce each).
        assert_ne!(ring.seal(b"x", b"a"), ring.seal(b"x", b"a"));
    }

    #[test]
    fn a_new_key_in_front_seals_and_the_old_one_still_opens_and_names() {
        let old = Keyring::from(key(1));
        let sealed = old.seal(b"data", b"aad");
        let rotated = Keyring::new([key(2), key(1)]).unwrap();
        assert_eq!(rotated.open(&sealed, b"aad").as_deref(), Some(&b"data"[..]));
        assert_ne!(rotated.current_key_id(), old.current_key_id());
        assert_eq!(rotated.naming_key(), old.naming_key());
        let again = rotated.seal(b"data", b"aad");
        assert_eq!(old.open(&again, b"aad"), None, "sealed under the new key");
    }

    #[test]
    fn keys_never_show_and_bad_ones_are_refused() {
        let ring = Keyring::new([key(7)]).unwrap();
        assert!(!format!("{ring:?} {:?}", key(7)).contains("0707"));
        assert!(Keyring::new([]).is_err());
        assert!(Keyring::new([key(1), key(1)]).is_err());
        assert!(EncryptionKey::from_hex("zz").is_err());
        assert!(EncryptionKey::from_hex(&"ab".repeat(32)).is_ok());
    }
}
