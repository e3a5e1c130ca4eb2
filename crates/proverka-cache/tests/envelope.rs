//! Properties of the Redis envelope and of key naming.

use std::time::{Duration, UNIX_EPOCH};

use proptest::prelude::*;
use proverka_cache::{Answer, EncryptionKey, Keyring, decode_envelope, encode_envelope};
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
        let k = Keyring::from(EncryptionKey::from_bytes(key));
        let sealed = encode_envelope(&a, Some(&k), aad.as_bytes());
        prop_assert_eq!(decode_envelope(&sealed, Some(&k), aad.as_bytes()), Some(a));
        // Stored under another name, or read without the key: a miss.
        prop_assert_eq!(decode_envelope(&sealed, Some(&k), b"another:name"), None);
        prop_assert_eq!(decode_envelope(&sealed, None, aad.as_bytes()), None);
    }

    #[test]
    fn decoding_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256), key in any::<[u8; 32]>()) {
        let k = Keyring::from(EncryptionKey::from_bytes(key));
        let _ = decode_envelope(&bytes, None, b"x");
        let _ = decode_envelope(&bytes, Some(&k), b"x");
        for flags in [0u8, 1, 2, 3] {
            let mut prefixed = b"PVK\x01".to_vec();
            prefixed.push(flags);
            prefixed.extend_from_slice(&bytes);
            let _ = decode_envelope(&prefixed, None, b"x");
            let _ = decode_envelope(&prefixed, Some(&k), b"x");
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
        let sealed_before = encode_envelope(&a, Some(&before), b"n");
        let sealed_rotating = encode_envelope(&a, Some(&rotating), b"n");
        // Values sealed under the old key still open while it is configured...
        prop_assert_eq!(decode_envelope(&sealed_before, Some(&rotating), b"n"), Some(a.clone()));
        // ... new values are sealed under the new one, which a replica without it cannot open...
        prop_assert_eq!(decode_envelope(&sealed_rotating, Some(&before), b"n"), None);
        prop_assert_eq!(decode_envelope(&sealed_rotating, Some(&after), b"n"), Some(a));
        // ... and once the old key is dropped its values are misses, never garbage.
        prop_assert_eq!(decode_envelope(&sealed_before, Some(&after), b"n"), None);
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
    let sealed = encode_envelope(&a, Some(&ring), b"n");
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
    let answer = decode_envelope(&bytes, Some(&ring), b"pvk:npd:abc").expect("still opens");
    assert_eq!(&answer.raw.body[..], br#"{"found":1}"#);
    assert_eq!(answer.raw.status, 200);
    assert_eq!(
        answer.fetched_at,
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000)
    );
    assert!(decode_envelope(&bytes, Some(&ring), b"pvk:npd:abd").is_none());
}
