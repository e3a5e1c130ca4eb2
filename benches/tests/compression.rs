//! The shared tier's compression against its targets: what the providers' answers occupy in
//! Redis with the dictionaries their crates ship, and that entries written with a dictionary
//! still read after it is retrained.

use proverka_benches::dictionaries::{
    fixture_bodies, footprint, measuring_keys, redis_bytes, shipped,
};
use proverka_cache::{Dictionaries, decode_envelope};

/// Redis bytes per cached answer at most this much of the provider's bytes, over every
/// provider's fixtures (#31).
const TARGET: f64 = 0.35;

#[test]
fn redis_holds_at_most_a_third_of_the_providers_bytes_over_every_providers_fixtures() {
    let dictionaries = shipped();
    let (mut provider_bytes, mut stored) = (0, 0);
    let mut report = String::new();
    for adapter in proverka::adapters() {
        let provider = adapter.provider();
        assert!(
            dictionaries.current(provider).is_some(),
            "{provider} ships no dictionary"
        );
        let bodies: Vec<Vec<u8>> = fixture_bodies(provider)
            .into_iter()
            .map(|(_, b)| b)
            .collect();
        let with = footprint(Some(&dictionaries), provider, &bodies);
        let plain = footprint(Some(&Dictionaries::new()), provider, &bodies);
        let before = footprint(None, provider, &bodies);
        report += &format!(
            "{provider}: {} answers, {} B -> before {} B, plain zstd {} B, dictionary {} B ({:.3}x)\n",
            with.answers,
            with.provider_bytes,
            before.redis_bytes,
            plain.redis_bytes,
            with.redis_bytes,
            with.ratio()
        );
        // The dictionary earns its place for every provider.
        assert!(
            with.redis_bytes < plain.redis_bytes && with.redis_bytes < before.redis_bytes,
            "{report}"
        );
        provider_bytes += with.provider_bytes;
        stored += with.redis_bytes;
    }
    let ratio = stored as f64 / provider_bytes as f64;
    eprintln!("{report}all: {provider_bytes} B -> {stored} B, {ratio:.3}x");
    assert!(ratio <= TARGET, "{ratio:.3}x > {TARGET}x\n{report}");
}

/// Values written with each provider's first shipped dictionary (its largest fixture, sealed
/// with the measuring key): a retrained dictionary must keep the old one readable.
const WRITTEN: &str = include_str!("written-with-shipped-dictionaries.txt");

#[test]
fn entries_written_with_each_shipped_dictionary_still_read() {
    let dictionaries = shipped();
    let keys = measuring_keys();
    let aad: &[u8] =
        b"proverka:{0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef}:v";
    if std::env::var_os("PROVERKA_BLESS").is_some() {
        let mut out = String::new();
        for adapter in proverka::adapters() {
            let provider = adapter.provider();
            let (name, body) = fixture_bodies(provider)
                .into_iter()
                .max_by_key(|(_, b)| b.len())
                .unwrap();
            let bytes = redis_bytes(Some(&dictionaries), provider, &body, &keys);
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            out += &format!("{provider} {name} {hex}\n");
        }
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/written-with-shipped-dictionaries.txt"
        );
        std::fs::write(path, out).unwrap();
        return;
    }
    let mut seen = 0;
    for line in WRITTEN.lines() {
        let mut parts = line.split(' ');
        let (provider, name, hex) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let provider = proverka::adapters()
            .iter()
            .map(|a| a.provider())
            .find(|p| p.as_str() == provider)
            .unwrap_or_else(|| panic!("{provider}: not registered"));
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        // "PVK" 1 | 5: compressed and sealed.
        assert_eq!(&bytes[..5], b"PVK\x01\x05", "{provider} {name}");
        let body = fixture_bodies(provider)
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b)
            .unwrap_or_else(|| panic!("{provider}: no fixture {name}"));
        let read = decode_envelope(&bytes, Some(&keys), aad, &dictionaries)
            .unwrap_or_else(|| panic!("{provider} {name}: no longer reads"));
        assert_eq!(&read.raw.body[..], &body[..], "{provider} {name}");
        // Without the dictionary it was written with: a miss, not garbage.
        assert!(decode_envelope(&bytes, Some(&keys), aad, &Dictionaries::new()).is_none());
        seen += 1;
    }
    assert_eq!(seen, proverka::adapters().len());
}
