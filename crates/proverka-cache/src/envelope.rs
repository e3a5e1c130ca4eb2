//! The value stored in Redis: a versioned binary envelope, optionally encrypted.
//!
//! ```text
//! "PVK" 0x01 | flags (5: compressed and encrypted with a key id, 4: compressed, plain and bound;
//!                     3 and 2: the same uncompressed, as written before compression)
//! encrypted: key id (4) | nonce (12) | ChaCha20-Poly1305(body, aad = the Redis key name)
//! plain:     SHA-256(the Redis key name)[..16] | body
//! body:      flags 4 and 5: compressed payload (`compress`: codec | zstd frame); 2 and 3: payload
//! payload:   fetched_at_ms u64 | status u16 | verdict | ct_len u16 | ct | body_len u32 | body
//!            (status 0: no reply came, a failure shared with waiting replicas; see
//!            `tiered/shared_failure.rs`)
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
//! Compression comes before sealing (a sealed value does not compress): the memory tier keeps
//! the answer as served, so only a read from Redis decompresses.
//!
//! Keys: the encrypted part is [`Keyring::seal`]'s (`proverka_core::seal`, shared with the
//! store): each configured `EncryptionKey` is a master key from which the value-encryption key
//! and a public key id are derived, and from the last one of a [`Keyring`] the key that names
//! entries in Redis; a new key put first encrypts while values sealed under the older ones
//! still decrypt, and names stay the same through the rotation.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proverka_core::seal::Keyring;
use proverka_core::{Billed, Bytes, Money, Provider, RawAnswer, Reported, Verdict};

use crate::Answer;
use crate::compress::Dictionaries;

const MAGIC: &[u8; 4] = b"PVK\x01";
const PLAIN_BOUND: u8 = 2;
const ENCRYPTED_WITH_ID: u8 = 3;
const PLAIN_BOUND_COMPRESSED: u8 = 4;
const ENCRYPTED_COMPRESSED: u8 = 5;

/// How [`encode`] compresses a value: with `provider`'s current dictionary in `dictionaries`
/// (plain zstd when it has none).
#[derive(Debug, Clone, Copy)]
pub struct Compression<'a> {
    /// What the cache compresses with.
    pub dictionaries: &'a Dictionaries,
    /// Whose answer it is.
    pub provider: Provider,
}

/// The first 16 bytes of SHA-256 of a key name: what binds a plain value to its name.
fn name_digest(aad: &[u8]) -> [u8; 16] {
    use sha2::Digest;
    let full = sha2::Sha256::digest(aad);
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Serialises an answer; `aad` is the Redis key name it is stored under. Without
/// `compression`, the format written before compression (still read).
pub fn encode(
    answer: &Answer,
    keys: Option<&Keyring>,
    aad: &[u8],
    compression: Option<Compression<'_>>,
) -> Vec<u8> {
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

    let (p, compressed) = match compression {
        Some(c) => (c.dictionaries.compress(c.provider, &p), true),
        None => (p, false),
    };
    let mut out = Vec::with_capacity(p.len() + 40);
    out.extend_from_slice(MAGIC);
    match keys {
        None => {
            out.push(if compressed {
                PLAIN_BOUND_COMPRESSED
            } else {
                PLAIN_BOUND
            });
            out.extend_from_slice(&name_digest(aad));
            out.extend_from_slice(&p);
        }
        Some(ring) => {
            out.push(if compressed {
                ENCRYPTED_COMPRESSED
            } else {
                ENCRYPTED_WITH_ID
            });
            out.extend_from_slice(&ring.seal(&p, aad));
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

/// Reads an envelope, compressed (with one of `dictionaries`, or none) or written before
/// compression; `None` for anything that does not decode, decrypt or authenticate.
pub fn decode(
    bytes: &[u8],
    keys: Option<&Keyring>,
    aad: &[u8],
    dictionaries: &Dictionaries,
) -> Option<Answer> {
    let rest = bytes.strip_prefix(MAGIC.as_slice())?;
    let (&flags, rest) = rest.split_first()?;
    let opened;
    let body: &[u8] = match (flags, keys) {
        (PLAIN_BOUND | PLAIN_BOUND_COMPRESSED, _) => {
            if rest.len() < 16 || rest[..16] != name_digest(aad) {
                return None;
            }
            &rest[16..]
        }
        (ENCRYPTED_WITH_ID | ENCRYPTED_COMPRESSED, Some(ring)) => {
            // A value sealed under a key no longer configured is a miss.
            opened = ring.open(rest, aad)?;
            &opened
        }
        _ => return None,
    };
    let decompressed;
    let payload = if matches!(flags, PLAIN_BOUND_COMPRESSED | ENCRYPTED_COMPRESSED) {
        decompressed = dictionaries.decompress(body)?;
        &decompressed[..]
    } else {
        body
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
