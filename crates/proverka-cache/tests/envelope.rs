//! Properties of the Redis envelope and of key naming.

use std::time::{Duration, UNIX_EPOCH};

use proptest::prelude::*;
use proverka_cache::{Answer, EncryptionKey, decode_envelope, encode_envelope};
use proverka_core::{Billed, Bytes, CacheKey, Money, Provider, RawAnswer, Verdict};

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
    fn round_trip_plain_and_encrypted(a in answer(), key in any::<[u8; 32]>(), aad in "[a-z:{}0-9]{1,40}") {
        let plain = encode_envelope(&a, None, aad.as_bytes());
        prop_assert_eq!(decode_envelope(&plain, None, aad.as_bytes()), Some(a.clone()));
        // A plain value is bound to its name too: copied under another, a miss.
        prop_assert_eq!(decode_envelope(&plain, None, b"another:name"), None);
        let k = EncryptionKey::from_bytes(key);
        let sealed = encode_envelope(&a, Some(&k), aad.as_bytes());
        prop_assert_eq!(decode_envelope(&sealed, Some(&k), aad.as_bytes()), Some(a));
        // Stored under another name, or read without the key: a miss.
        prop_assert_eq!(decode_envelope(&sealed, Some(&k), b"another:name"), None);
        prop_assert_eq!(decode_envelope(&sealed, None, aad.as_bytes()), None);
    }

    #[test]
    fn decoding_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256), key in any::<[u8; 32]>()) {
        let k = EncryptionKey::from_bytes(key);
        let _ = decode_envelope(&bytes, None, b"x");
        let _ = decode_envelope(&bytes, Some(&k), b"x");
        let mut prefixed = b"PVK\x01\x00".to_vec();
        prefixed.extend_from_slice(&bytes);
        let _ = decode_envelope(&prefixed, None, b"x");
    }

    #[test]
    fn truncated_envelopes_are_misses(a in answer(), cut in 1usize..64) {
        let bytes = encode_envelope(&a, None, b"n");
        let cut = cut.min(bytes.len());
        prop_assert_eq!(decode_envelope(&bytes[..bytes.len() - cut], None, b"n"), None);
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
