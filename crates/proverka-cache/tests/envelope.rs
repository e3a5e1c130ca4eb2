//! Properties of the Redis envelope and of key naming.

use std::time::{Duration, UNIX_EPOCH};

use proptest::prelude::*;
use proverka_cache::{
    Answer, Compression, Dictionaries, EncryptionKey, Keyring, decode_envelope, encode_envelope,
};
use proverka_core::{Billed, Bytes, CacheKey, Money, Provider, RawAnswer, Verdict};

/// Reads a value with no dictionaries (plain zstd and uncompressed values read).
fn decode(bytes: &[u8], keys: Option<&Keyring>, aad: &[u8]) -> Option<Answer> {
    decode_envelope(bytes, keys, aad, &Dictionaries::new())
}

/// What binds a plain value to its name (the envelope's first 16 bytes of SHA-256).
fn name_digest(aad: &[u8]) -> [u8; 16] {
    use sha2::Digest as _;
    let mut out = [0u8; 16];
    out.copy_from_slice(&sha2::Sha256::digest(aad)[..16]);
    out
}

/// An answer of one shape, its field names spelled after `family`.
fn body_of(family: &str, name: &str, debt: u32) -> String {
    format!(
        r#"{{"status":200,"{family}_count":1,"{family}_records":[{{"{family}_name":"{name}","{family}_debt":"{debt}.00","{family}_subject":"Исполнительский сбор"}}]}}"#
    )
}

/// A dictionary trained on answers of one shape, their field names spelled after `family`.
fn trained_on(family: &str) -> Vec<u8> {
    let samples: Vec<Vec<u8>> = (0..400)
        .map(|i| body_of(family, &format!("Иванов Иван {i}"), i * 37).into_bytes())
        .collect();
    zstd::dict::from_samples(&samples, 2048).unwrap()
}

/// FSSP's answers compressed with a dictionary of their shape.
fn trained() -> Dictionaries {
    Dictionaries::new()
        .add(Provider::Fssp, &[&trained_on("fssp")])
        .unwrap()
}

/// An answer of the shape [`trained_on`] learnt.
fn shaped(family: &str, i: u32) -> Answer {
    Answer {
        raw: RawAnswer::json(body_of(family, &format!("Петров Пётр {i}"), i * 11)),
        verdict: Verdict::Answer {
            billed: Billed::Yes(None),
            keep_for: Duration::from_secs(3600),
            reported: proverka_core::Reported::default(),
        },
        fetched_at: UNIX_EPOCH + Duration::from_secs(1_796_000_000),
    }
}

fn billed() -> impl Strategy<Value = Billed> {
    prop_oneof![
        Just(Billed::No),
        Just(Billed::Unknown),
        any::<Option<i64>>().prop_map(|k| Billed::Yes(k.map(Money::from_kopecks))),
    ]
}

fn verdict() -> impl Strategy<Value = Verdict> {
    prop_oneof![
        (billed(), 0u64..10_000_000_000).prop_map(|(billed, ms)| Verdict::Answer {
            billed,
            keep_for: Duration::from_millis(ms),
            reported: proverka_core::Reported::default(),
        }),
        ("[a-z0-9_]{0,20}", billed(), any::<bool>()).prop_map(|(code, billed, retryable)| {
            Verdict::ProviderError {
                code,
                billed,
                retryable,
            }
        }),
        (billed(), "[ -~а-я]{0,30}").prop_map(|(billed, what)| Verdict::Unreadable {
            billed,
            what: what.into(),
        }),
    ]
}

fn answer() -> impl Strategy<Value = Answer> {
    (
        any::<u16>(),
        proptest::option::of("[ -~]{1,40}"),
        prop::collection::vec(any::<u8>(), 0..2048),
        verdict(),
        0u64..4_000_000_000_000,
    )
        .prop_map(|(status, content_type, body, verdict, ms)| Answer {
            raw: RawAnswer {
                status,
                content_type,
                body: Bytes::from(body),
            },
            verdict,
            fetched_at: UNIX_EPOCH + Duration::from_millis(ms),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn round_trip_compressed_plain_and_encrypted(a in answer(), key in any::<[u8; 32]>(), aad in "[a-z:{}0-9]{1,40}") {
        let (dictionaries, provider) = (Dictionaries::new(), Provider::Npd);
        let zstd = Some(Compression { dictionaries: &dictionaries, provider });
        let plain = encode_envelope(&a, None, aad.as_bytes(), zstd);
        prop_assert_eq!(&plain[..5], b"PVK\x01\x04");
        prop_assert_eq!(decode(&plain, None, aad.as_bytes()), Some(a.clone()));
        prop_assert_eq!(decode(&plain, None, b"another:name"), None);
        let k = Keyring::from(EncryptionKey::from_bytes(key));
        let sealed = encode_envelope(&a, Some(&k), aad.as_bytes(), zstd);
        prop_assert_eq!(&sealed[..5], b"PVK\x01\x05");
        prop_assert_eq!(decode(&sealed, Some(&k), aad.as_bytes()), Some(a.clone()));
        prop_assert_eq!(decode(&sealed, Some(&k), b"another:name"), None);
        prop_assert_eq!(decode(&sealed, None, aad.as_bytes()), None);
    }

    #[test]
    fn round_trip_plain_and_encrypted(a in answer(), key in any::<[u8; 32]>(), aad in "[a-z:{}0-9]{1,40}") {
        // The format written before compression: still written without it, and read.
        let plain = encode_envelope(&a, None, aad.as_bytes(), None);
        prop_assert_eq!(decode(&plain, None, aad.as_bytes()), Some(a.clone()));
        // A plain value is bound to its name too: copied under another, a miss.
        prop_assert_eq!(decode(&plain, None, b"another:name"), None);
        let k = Keyring::from(EncryptionKey::from_bytes(key));
        let sealed = encode_envelope(&a, Some(&k), aad.as_bytes(), None);
        prop_assert_eq!(decode(&sealed, Some(&k), aad.as_bytes()), Some(a));
        // Stored under another name, or read without the key: a miss.
        prop_assert_eq!(decode(&sealed, Some(&k), b"another:name"), None);
        prop_assert_eq!(decode(&sealed, None, aad.as_bytes()), None);
    }

    #[test]
    fn decoding_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256), key in any::<[u8; 32]>()) {
        let k = Keyring::from(EncryptionKey::from_bytes(key));
        let _ = decode(&bytes, None, b"x");
        let _ = decode(&bytes, Some(&k), b"x");
        let dictionaries = trained();
        for codec in 0u8..=3 {
            let mut coded = vec![codec];
            coded.extend_from_slice(&bytes);
            let mut plain = b"PVK\x01\x04".to_vec();
            plain.extend_from_slice(&name_digest(b"x"));
            plain.extend_from_slice(&coded);
            let _ = decode_envelope(&plain, None, b"x", &dictionaries);
        }
        for flags in 0u8..=6 {
            let mut prefixed = b"PVK\x01".to_vec();
            prefixed.push(flags);
            prefixed.extend_from_slice(&bytes);
            let _ = decode(&prefixed, None, b"x");
            let _ = decode(&prefixed, Some(&k), b"x");
        }
    }

    #[test]
    fn a_new_key_in_front_encrypts_and_the_old_ones_still_decrypt(
        a in answer(),
        old in any::<[u8; 32]>(),
        new in any::<[u8; 32]>(),
    ) {
        prop_assume!(old != new);
        let (old, new) = (EncryptionKey::from_bytes(old), EncryptionKey::from_bytes(new));
        let before = Keyring::new([old.clone()]).unwrap();
        let rotating = Keyring::new([new.clone(), old.clone()]).unwrap();
        let after = Keyring::new([new]).unwrap();
        let sealed_before = encode_envelope(&a, Some(&before), b"n", None);
        let sealed_rotating = encode_envelope(&a, Some(&rotating), b"n", None);
        // Values sealed under the old key still open while it is configured...
        prop_assert_eq!(decode(&sealed_before, Some(&rotating), b"n"), Some(a.clone()));
        // ... new values are sealed under the new one, which a replica without it cannot open...
        prop_assert_eq!(decode(&sealed_rotating, Some(&before), b"n"), None);
        prop_assert_eq!(decode(&sealed_rotating, Some(&after), b"n"), Some(a));
        // ... and once the old key is dropped its values are misses, never garbage.
        prop_assert_eq!(decode(&sealed_before, Some(&after), b"n"), None);
    }

    #[test]
    fn truncated_envelopes_are_misses(a in answer(), cut in 1usize..64) {
        let bytes = encode_envelope(&a, None, b"n", None);
        let cut = cut.min(bytes.len());
        prop_assert_eq!(decode(&bytes[..bytes.len() - cut], None, b"n"), None);
    }

    #[test]
    fn key_hashing_is_stable_across_runs(name in "\\PC{0,30}") {
        let a = CacheKey::builder(Provider::Fssp, "t").text("n", &name).build();
        let b = CacheKey::builder(Provider::Fssp, "t").text("n", &name).build();
        prop_assert_eq!(a.to_hex(), b.to_hex());
    }
}

#[test]
fn bad_encryption_keys_are_refused_without_echoing_them() {
    let e = EncryptionKey::from_hex("secret-material").unwrap_err();
    assert!(!e.contains("secret-material"));
    assert!(EncryptionKey::from_hex(&"0".repeat(63)).is_err());
    assert!(!format!("{:?}", EncryptionKey::from_bytes([7; 32])).contains('7'));
}

#[test]
fn the_value_key_names_the_key_that_sealed_it() {
    let old = EncryptionKey::from_bytes([1; 32]);
    let new = EncryptionKey::from_bytes([2; 32]);
    let ring = Keyring::new([new.clone(), old.clone()]).unwrap();
    let a = Answer {
        raw: RawAnswer::json("{}"),
        verdict: Verdict::Answer {
            billed: Billed::No,
            keep_for: Duration::from_secs(1),
            reported: proverka_core::Reported::default(),
        },
        fetched_at: UNIX_EPOCH,
    };
    let sealed = encode_envelope(&a, Some(&ring), b"n", None);
    // "PVK" 1 | flags 3 | the encrypting key's id.
    assert_eq!(&sealed[..5], b"PVK\x01\x03");
    let id: String = sealed[5..9].iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(id, ring.current_key_id());
    assert_eq!(id, Keyring::new([new]).unwrap().current_key_id());
    assert_ne!(id, Keyring::new([old]).unwrap().current_key_id());
}

#[test]
fn a_keyring_refuses_no_key_and_the_same_key_twice_and_never_shows_one() {
    assert!(Keyring::new(Vec::new()).is_err());
    let k = EncryptionKey::from_bytes([7; 32]);
    assert!(Keyring::new([k.clone(), k.clone()]).is_err());
    let shown = format!("{:?}", Keyring::from(k));
    assert!(
        shown.contains("key_ids") && !shown.contains("7, 7"),
        "{shown}"
    );
}

/// A value a proxy sealed before the keys moved into `proverka_core::seal` (commit e0f05ce):
/// still read after an upgrade, so no entry in Redis is lost (or paid again).
#[test]
fn a_value_sealed_by_the_previous_version_still_opens() {
    const SEALED: &str = "50564b010339f5dc832102625d789698176c70efaf2e30c18684aee0b111f7eb019a5c5873e2ef9fbc33b2e7172838a186fb0e53e04e909b295fa0309db274e106059855b7ed114edeaafe877fa83fcd93330fac788ff6dad27611fd47958e2379c175de4d258d00df";
    let bytes: Vec<u8> = (0..SEALED.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&SEALED[i..i + 2], 16).unwrap())
        .collect();
    let ring = Keyring::from(EncryptionKey::from_bytes([7; 32]));
    let answer = decode(&bytes, Some(&ring), b"pvk:npd:abc").expect("still opens");
    assert_eq!(&answer.raw.body[..], br#"{"found":1}"#);
    assert_eq!(answer.raw.status, 200);
    assert_eq!(
        answer.fetched_at,
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000)
    );
    assert!(decode(&bytes, Some(&ring), b"pvk:npd:abd").is_none());
}

#[test]
fn an_entry_written_with_an_older_dictionary_reads_while_the_reader_keeps_that_dictionary() {
    let (old, new) = (trained_on("fssp"), trained_on("fssp_v2"));
    let before = Dictionaries::new().add(Provider::Fssp, &[&old]).unwrap();
    let retrained = Dictionaries::new()
        .add(Provider::Fssp, &[&new, &old])
        .unwrap();
    let new_only = Dictionaries::new().add(Provider::Fssp, &[&new]).unwrap();
    assert_ne!(
        before.current(Provider::Fssp),
        retrained.current(Provider::Fssp)
    );
    let keys = Keyring::from(EncryptionKey::from_bytes([3; 32]));
    let a = shaped("fssp", 5);
    let written_before = encode_envelope(
        &a,
        Some(&keys),
        b"n",
        Some(Compression {
            dictionaries: &before,
            provider: Provider::Fssp,
        }),
    );
    // The retrained cache still has the old dictionary: the old entry reads.
    assert_eq!(
        decode_envelope(&written_before, Some(&keys), b"n", &retrained),
        Some(a.clone())
    );
    // A cache that dropped it misses (it never decodes with the wrong dictionary).
    assert_eq!(
        decode_envelope(&written_before, Some(&keys), b"n", &new_only),
        None
    );
    // New entries are written with the new dictionary: a cache with only the old one misses.
    let b = shaped("fssp_v2", 6);
    let written_after = encode_envelope(
        &b,
        Some(&keys),
        b"n",
        Some(Compression {
            dictionaries: &retrained,
            provider: Provider::Fssp,
        }),
    );
    assert_eq!(
        decode_envelope(&written_after, Some(&keys), b"n", &new_only),
        Some(b.clone())
    );
    assert_eq!(
        decode_envelope(&written_after, Some(&keys), b"n", &before),
        None
    );
}

#[test]
fn a_provider_without_a_dictionary_is_written_as_plain_zstd_that_every_cache_reads() {
    let dictionaries = trained();
    let a = shaped("npd", 1);
    let npd = Compression {
        dictionaries: &dictionaries,
        provider: Provider::Npd,
    };
    let plain_zstd = encode_envelope(&a, None, b"n", Some(npd));
    assert_eq!(
        decode_envelope(&plain_zstd, None, b"n", &dictionaries),
        Some(a.clone())
    );
    assert_eq!(decode(&plain_zstd, None, b"n"), Some(a));
}

#[test]
fn a_dictionary_of_the_answers_shape_compresses_them_better_than_plain_zstd() {
    let dictionaries = trained();
    let a = shaped("fssp", 9);
    let with = |provider| {
        encode_envelope(
            &a,
            None,
            b"n",
            Some(Compression {
                dictionaries: &dictionaries,
                provider,
            }),
        )
        .len()
    };
    let uncompressed = encode_envelope(&a, None, b"n", None).len();
    let (dictionary, plain) = (with(Provider::Fssp), with(Provider::Npd));
    assert!(
        dictionary * 3 < uncompressed * 2 && dictionary * 3 < plain * 2,
        "with the dictionary {dictionary} B, plain zstd {plain} B, uncompressed {uncompressed} B"
    );
}

#[test]
fn dictionaries_refuse_what_is_not_one_and_two_dictionaries_with_one_id() {
    assert!(matches!(
        Dictionaries::new().add(Provider::Fssp, &[b"{\"not\": \"a dictionary\"}"]),
        Err(proverka_cache::DictionaryError::NotADictionary { index: 0, .. })
    ));
    let one = trained_on("fssp");
    let mut other = one.clone();
    *other.last_mut().unwrap() ^= 0x55;
    let refused = Dictionaries::new()
        .add(Provider::Fssp, &[&one])
        .unwrap()
        .add(Provider::Npd, &[&other]);
    assert!(
        matches!(
            refused,
            Err(proverka_cache::DictionaryError::DuplicateId { .. })
        ),
        "{refused:?}"
    );
    // The same dictionary for two providers is one dictionary.
    assert!(
        Dictionaries::new()
            .add(Provider::Fssp, &[&one])
            .unwrap()
            .add(Provider::Npd, &[&one])
            .is_ok()
    );
}
