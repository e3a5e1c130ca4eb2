//! The value stored in Redis: a versioned binary envelope, optionally encrypted.
//!
//! ```text
//! "PVK" 0x01 | flags (3: encrypted with a key id, 2: plain and bound)
//! encrypted: key id (4) | nonce (12) | ChaCha20-Poly1305(payload, aad = the Redis key name)
//! plain:     SHA-256(the Redis key name)[..16] | payload
//! payload:   fetched_at_ms u64 | status u16 | verdict | ct_len u16 | ct | body_len u32 | body
//! verdict:   0 | charge (0 free, 1 charged, 2 charged with kopecks i64) | keep_for_ms u64
//!            1 | billed | retryable u8 | code_len u16 | code
//!            3 | billed | what_len u16 | what      (2, version 1's garbage, is still read)
//! ```
//!
//! Every value is bound to its Redis key name: the associated data when encrypted, a digest of
//! it when plain, so a value copied under another key does not decode (an entry for one
//! person is never served for another's query). Anything that fails to decode or decrypt is
//! `None`: a miss, never a panic. Unbound plain values of the first format (flags 0), and
//! values encrypted without a key id (flags 1, before key rotation), are misses too.
//!
//! Keys: each configured [`EncryptionKey`] is a master key; HKDF-SHA256 derives from it the
//! value-encryption key and a public 4-byte key id, and from the last one of a [`Keyring`] the
//! key that names entries in Redis. So the cipher never shares a key with the naming HMAC, a
//! new key can be put first (it encrypts) while values sealed under the older ones still
//! decrypt (each names its key), and names stay the same through the rotation.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use proverka_core::{Billed, Bytes, Money, RawAnswer, Reported, Verdict};

use crate::Answer;

const MAGIC: &[u8; 4] = b"PVK\x01";
const PLAIN_BOUND: u8 = 2;
const ENCRYPTED_WITH_ID: u8 = 3;

/// HKDF's salt and the labels of the keys derived from a master key.
const HKDF_SALT: &[u8] = b"proverka-cache-v1";
const VALUE_KEY: &[u8] = b"value encryption";
const KEY_ID: &[u8] = b"key id";
const NAMING_KEY: &[u8] = b"entry naming";

/// `info`'s 32 bytes from `master` by HKDF-SHA256.
fn derive(master: &EncryptionKey, info: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's limit (255 × 32): expand cannot fail.
    let _ = hkdf::Hkdf::<sha2::Sha256>::new(Some(HKDF_SALT), &master.0).expand(info, &mut out);
    out
}

/// The first 16 bytes of SHA-256 of a key name: what binds a plain value to its name.
fn name_digest(aad: &[u8]) -> [u8; 16] {
    use sha2::Digest;
    let full = sha2::Sha256::digest(aad);
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

/// A 256-bit key for encrypting values at rest in Redis (ChaCha20-Poly1305).
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
    id: [u8; 4],
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

/// The cache's encryption keys: the first seals new values, every one opens the values sealed
/// under it (rotation: put the new key first, keep the old ones until their entries expire).
/// Entries are named with a key derived from the last one, so names do not change when a key
/// is put in front.
#[derive(Clone)]
pub struct Keyring {
    keys: Vec<ValueKey>,
    naming: [u8; 32],
}

impl std::fmt::Debug for Keyring {
    // Key ids are public (every value carries one); the keys never show.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = self
            .keys
            .iter()
            .map(|k| k.id.iter().map(|b| format!("{b:02x}")).collect())
            .collect();
        f.debug_struct("Keyring").field("key_ids", &ids).finish()
    }
}

impl Keyring {
    /// A keyring from master keys, the one that encrypts first.
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

    /// The id of the key that encrypts (as each value written now carries it), in hex.
    pub fn current_key_id(&self) -> String {
        self.keys[0].id.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The key that names entries in Redis (an HMAC key, never a cipher key).
    pub(crate) fn naming_key(&self) -> &[u8; 32] {
        &self.naming
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

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Serialises an answer; `aad` is the Redis key name it is stored under.
pub fn encode(answer: &Answer, keys: Option<&Keyring>, aad: &[u8]) -> Vec<u8> {
    let raw = &answer.raw;
    let ct = raw.content_type.as_deref().unwrap_or("").as_bytes();
    let ct = &ct[..ct.len().min(usize::from(u16::MAX))];
    let mut p = Vec::with_capacity(raw.body.len() + ct.len() + 48);
    p.extend_from_slice(&millis(answer.fetched_at).to_be_bytes());
    p.extend_from_slice(&raw.status.to_be_bytes());
    match &answer.verdict {
        // `reported` (balance, quota) is of the moment of the call: not stored.
        Verdict::Answer {
            billed, keep_for, ..
        } => {
            p.push(0);
            put_billed(&mut p, *billed);
            p.extend_from_slice(&duration_ms(*keep_for).to_be_bytes());
        }
        Verdict::ProviderError {
            code,
            billed,
            retryable,
        } => {
            p.push(1);
            put_billed(&mut p, *billed);
            p.push(u8::from(*retryable));
            put_text(&mut p, code);
        }
        Verdict::Unreadable { billed, what } => {
            p.push(3);
            put_billed(&mut p, *billed);
            put_text(&mut p, what);
        }
        // `Verdict` is non-exhaustive: a future kind is stored as unreadable and possibly
        // billed, never as an answer.
        _ => {
            p.push(3);
            put_billed(&mut p, Billed::Unknown);
            put_text(&mut p, "unreadable");
        }
    }
    p.extend_from_slice(&(ct.len() as u16).to_be_bytes());
    p.extend_from_slice(ct);
    p.extend_from_slice(&(u32::try_from(raw.body.len()).unwrap_or(u32::MAX)).to_be_bytes());
    p.extend_from_slice(&raw.body);

    let mut out = Vec::with_capacity(p.len() + 40);
    out.extend_from_slice(MAGIC);
    match keys.map(|ring| &ring.keys[0]) {
        None => {
            out.push(PLAIN_BOUND);
            out.extend_from_slice(&name_digest(aad));
            out.extend_from_slice(&p);
        }
        Some(k) => {
            out.push(ENCRYPTED_WITH_ID);
            out.extend_from_slice(&k.id);
            let cipher = ChaCha20Poly1305::new(Key::from_slice(&k.cipher));
            let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
            // Encryption with a fresh nonce and an in-memory buffer cannot fail.
            let sealed = cipher
                .encrypt(&nonce, Payload { msg: &p, aad })
                .unwrap_or_default();
            out.extend_from_slice(&nonce);
            out.extend_from_slice(&sealed);
        }
    }
    out
}

/// Billed as one byte (0 no, 1 yes at an unknown price, 2 yes at a price that follows as eight
/// bytes of kopecks, 3 unknown): the answer format of version 1 reads the same.
fn put_billed(p: &mut Vec<u8>, billed: Billed) {
    match billed {
        Billed::No => p.push(0),
        Billed::Yes(None) => p.push(1),
        Billed::Yes(Some(m)) => {
            p.push(2);
            p.extend_from_slice(&m.kopecks().to_be_bytes());
        }
        Billed::Unknown => p.push(3),
    }
}

fn put_text(p: &mut Vec<u8>, text: &str) {
    let mut end = text.len().min(usize::from(u16::MAX));
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    p.extend_from_slice(&(end as u16).to_be_bytes());
    p.extend_from_slice(&text.as_bytes()[..end]);
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_be_bytes)
    }
    fn billed(&mut self) -> Option<Billed> {
        Some(match self.u8()? {
            0 => Billed::No,
            1 => Billed::Yes(None),
            2 => Billed::Yes(Some(Money::from_kopecks(i64::from_be_bytes(
                self.take(8)?.try_into().ok()?,
            )))),
            3 => Billed::Unknown,
            _ => return None,
        })
    }
    fn text(&mut self) -> Option<String> {
        let len = usize::from(self.u16()?);
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }
}

/// Reads an envelope; `None` for anything that does not decode, decrypt or authenticate.
pub fn decode(bytes: &[u8], keys: Option<&Keyring>, aad: &[u8]) -> Option<Answer> {
    let rest = bytes.strip_prefix(MAGIC.as_slice())?;
    let (&flags, rest) = rest.split_first()?;
    let plain;
    let payload: &[u8] = match (flags, keys) {
        (PLAIN_BOUND, _) => {
            if rest.len() < 16 || rest[..16] != name_digest(aad) {
                return None;
            }
            &rest[16..]
        }
        (ENCRYPTED_WITH_ID, Some(ring)) => {
            if rest.len() < 16 {
                return None;
            }
            let (id, rest) = rest.split_at(4);
            // A value sealed under a key no longer configured is a miss.
            let k = ring.keys.iter().find(|k| k.id == id)?;
            let (nonce, sealed) = rest.split_at(12);
            let cipher = ChaCha20Poly1305::new(Key::from_slice(&k.cipher));
            plain = cipher
                .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad })
                .ok()?;
            &plain
        }
        _ => return None,
    };
    let mut r = Reader(payload);
    let fetched_at = UNIX_EPOCH + Duration::from_millis(r.u64()?);
    let status = r.u16()?;
    let verdict = match r.u8()? {
        0 => Verdict::Answer {
            billed: r.billed()?,
            keep_for: Duration::from_millis(r.u64()?),
            reported: Reported::default(),
        },
        1 => Verdict::ProviderError {
            billed: r.billed()?,
            retryable: r.u8()? != 0,
            code: r.text()?,
        },
        // Version 1 wrote garbage as `2, retryable`: unreadable, and possibly billed.
        2 => {
            r.u8()?;
            Verdict::Unreadable {
                billed: Billed::Unknown,
                what: "unreadable".into(),
            }
        }
        3 => Verdict::Unreadable {
            billed: r.billed()?,
            what: r.text()?.into(),
        },
        _ => return None,
    };
    let ct_len = usize::from(r.u16()?);
    let ct = std::str::from_utf8(r.take(ct_len)?).ok()?;
    let body_len = usize::try_from(r.u32()?).ok()?;
    let body = r.take(body_len)?;
    if !r.0.is_empty() {
        return None;
    }
    Some(Answer {
        raw: RawAnswer {
            status,
            content_type: (!ct.is_empty()).then(|| ct.to_owned()),
            body: Bytes::copy_from_slice(body),
        },
        verdict,
        fetched_at,
    })
}
