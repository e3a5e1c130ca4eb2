//! The shared tier's zstd dictionaries: what they are trained on (each provider's fixtures
//! and its simulator's error replies), and what an answer then occupies in Redis.
//!
//! Used by `train-dictionaries` (which writes a provider's dictionary into its crate) and by
//! the test that holds the shipped ones to their target (`tests/compression.rs`).

use std::time::{Duration, UNIX_EPOCH};

use proverka_cache::{Answer, Compression, Dictionaries, EncryptionKey, Keyring, encode_envelope};
use proverka_core::{Adapter, Billed, Provider, RawAnswer, Reported, Verdict};

/// One provider's answers as its fixtures hold them: (file name, body), by name.
///
/// # Panics
/// When the provider's fixtures folder cannot be read (a broken checkout).
pub fn fixture_bodies(provider: Provider) -> Vec<(String, Vec<u8>)> {
    let dir = crate::fixtures_dir(provider.as_str());
    let mut bodies: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .map(|e| {
            let body = std::fs::read(e.path()).unwrap_or_default();
            (e.file_name().to_string_lossy().into_owned(), body)
        })
        .collect();
    bodies.sort();
    bodies
}

/// What a dictionary learns from: the fixtures' bodies and the simulator's reply to every
/// code its page documents, each as the envelope's payload that is compressed (the answer's
/// time, status, verdict and content type before its body), so that the dictionary knows
/// those too.
pub fn training_samples(adapter: &dyn Adapter) -> Vec<Vec<u8>> {
    training_bodies(adapter)
        .iter()
        .map(|body| {
            // "PVK" 1 | flags | the name's digest (16) | payload
            encode_envelope(&answer(body), None, b"n", None).split_off(21)
        })
        .collect()
}

/// The bodies [`training_samples`] are made of.
pub fn training_bodies(adapter: &dyn Adapter) -> Vec<Vec<u8>> {
    let mut bodies: Vec<Vec<u8>> = fixture_bodies(adapter.provider())
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    if let Some(simulator) = adapter.simulator() {
        for code in adapter.documented_codes() {
            bodies.push(simulator.provider_error(&code).body.to_vec());
        }
    }
    bodies
}

/// The key the measurements seal with: Redis holds values sealed (the proxy refuses a shared
/// tier without a key unless told otherwise), so sealing's bytes are counted.
pub fn measuring_keys() -> Keyring {
    Keyring::from(EncryptionKey::from_bytes([7; 32]))
}

/// A body as the cache holds it: an answer fetched now, kept for a day.
pub fn answer(body: &[u8]) -> Answer {
    Answer {
        raw: RawAnswer::json(body.to_vec()),
        verdict: Verdict::Answer {
            billed: Billed::Yes(None),
            keep_for: Duration::from_secs(86_400),
            reported: Reported::default(),
        },
        fetched_at: UNIX_EPOCH + Duration::from_secs(1_796_000_000),
    }
}

/// The bytes Redis holds for `body`: compressed with `dictionaries` (`None`: written as
/// before compression), sealed, bound to a key name.
pub fn redis_bytes(
    dictionaries: Option<&Dictionaries>,
    provider: Provider,
    body: &[u8],
    keys: &Keyring,
) -> Vec<u8> {
    let compression = dictionaries.map(|dictionaries| Compression {
        dictionaries,
        provider,
    });
    encode_envelope(
        &answer(body),
        Some(keys),
        b"proverka:{0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef}:v",
        compression,
    )
}

/// What a provider's answers occupy in Redis against what the provider sent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Footprint {
    /// Answers measured.
    pub answers: usize,
    /// The provider's bytes, summed.
    pub provider_bytes: usize,
    /// Redis's bytes (values), summed.
    pub redis_bytes: usize,
    /// The mean of each answer's Redis bytes over its provider bytes.
    pub mean_ratio: f64,
}

impl Footprint {
    /// Redis bytes over provider bytes, summed over the answers.
    pub fn ratio(&self) -> f64 {
        self.redis_bytes as f64 / self.provider_bytes.max(1) as f64
    }
}

/// Measures `bodies` of `provider`'s as Redis would hold them.
pub fn footprint(
    dictionaries: Option<&Dictionaries>,
    provider: Provider,
    bodies: &[Vec<u8>],
) -> Footprint {
    let keys = measuring_keys();
    let mut out = Footprint {
        answers: 0,
        provider_bytes: 0,
        redis_bytes: 0,
        mean_ratio: 0.0,
    };
    let mut ratios = 0.0;
    for body in bodies.iter().filter(|b| !b.is_empty()) {
        let stored = redis_bytes(dictionaries, provider, body, &keys).len();
        out.answers += 1;
        out.provider_bytes += body.len();
        out.redis_bytes += stored;
        ratios += stored as f64 / body.len() as f64;
    }
    out.mean_ratio = ratios / out.answers.max(1) as f64;
    out
}

/// The dictionaries every registered provider ships (its spec's).
///
/// # Panics
/// When a shipped dictionary is not one (a test's failure).
pub fn shipped() -> Dictionaries {
    let mut all = Dictionaries::new();
    for adapter in proverka::adapters() {
        all = all
            .add(adapter.provider(), adapter.spec().dictionaries)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    all
}
