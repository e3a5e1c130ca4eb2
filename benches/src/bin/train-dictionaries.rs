//! Trains each provider's zstd dictionary for the shared cache tier from its fixtures and its
//! simulator's error replies, and prints what its answers then occupy in Redis.
//!
//! ```text
//! cargo run --release -p proverka-benches --bin train-dictionaries            # measure only
//! cargo run --release -p proverka-benches --bin train-dictionaries -- --write # write the files
//! ```
//!
//! `--write` puts `crates/proverka-<provider>/dictionary/zstd-<id>.dict` beside the older
//! ones; the provider's `SPEC.dictionaries` then names it first (older ones stay after it, so
//! entries written with them still read).
//!
//! Measured three ways per provider, sealed as Redis holds them: without compression; with
//! the new dictionary on the fixtures it learnt from (what the acceptance names); and held out
//! (two folds: trained on every other fixture, measured on the rest), which says how much of
//! the gain is memorised rather than learnt.

// A report for a person at a terminal: printing is its job.
#![allow(clippy::print_stdout)]

use std::path::Path;

use proverka_benches::dictionaries::{Footprint, fixture_bodies, footprint, training_samples};
use proverka_cache::Dictionaries;
use proverka_core::Provider;

/// The largest dictionary: a few times smaller than what it learns from, as zstd advises.
const MAX_SIZE: usize = 16 * 1024;

fn train(samples: &[Vec<u8>]) -> Option<Vec<u8>> {
    let total: usize = samples.iter().map(Vec::len).sum();
    let size = (total / 3).clamp(1024, MAX_SIZE);
    zstd::dict::from_samples(samples, size).ok()
}

fn row(label: &str, f: &Footprint) {
    println!(
        "  {label:<34} {:>4} answers {:>8} B -> {:>8} B  sum {:.3}x  mean {:.3}x",
        f.answers,
        f.provider_bytes,
        f.redis_bytes,
        f.ratio(),
        f.mean_ratio
    );
}

fn dictionaries(provider: Provider, dictionary: &[u8]) -> Dictionaries {
    Dictionaries::new()
        .add(provider, &[dictionary])
        .unwrap_or_else(|e| panic!("{e}"))
}

fn main() {
    let write = std::env::args().any(|a| a == "--write");
    let mut total = (0usize, 0usize);
    for adapter in proverka::adapters() {
        let provider = adapter.provider();
        let samples = training_samples(&*adapter);
        let fixtures: Vec<Vec<u8>> = fixture_bodies(provider)
            .into_iter()
            .map(|(_, b)| b)
            .collect();
        let Some(dictionary) = train(&samples) else {
            println!(
                "{provider}: too few samples to train on ({})",
                samples.len()
            );
            continue;
        };
        let trained = dictionaries(provider, &dictionary);
        let id = trained.current(provider).unwrap_or_default();
        println!(
            "{provider}: dictionary {id}, {} B, from {} samples",
            dictionary.len(),
            samples.len()
        );
        row(
            "uncompressed (before)",
            &footprint(None, provider, &fixtures),
        );
        row(
            "plain zstd",
            &footprint(Some(&Dictionaries::new()), provider, &fixtures),
        );
        let with = footprint(Some(&trained), provider, &fixtures);
        row("dictionary, its own fixtures", &with);
        total.0 += with.provider_bytes;
        total.1 += with.redis_bytes;
        // Two folds: what a dictionary does for answers it never saw.
        let mut held_out = Vec::new();
        for fold in 0..2 {
            let learn: Vec<Vec<u8>> = samples
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 2 != fold)
                .map(|(_, b)| b.clone())
                .collect();
            let test: Vec<Vec<u8>> = fixtures
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 2 == fold)
                .map(|(_, b)| b.clone())
                .collect();
            if let Some(d) = train(&learn) {
                held_out.push(footprint(
                    Some(&dictionaries(provider, &d)),
                    provider,
                    &test,
                ));
            }
        }
        if let [a, b] = held_out[..] {
            let both = Footprint {
                answers: a.answers + b.answers,
                provider_bytes: a.provider_bytes + b.provider_bytes,
                redis_bytes: a.redis_bytes + b.redis_bytes,
                mean_ratio: (a.mean_ratio * a.answers as f64 + b.mean_ratio * b.answers as f64)
                    / (a.answers + b.answers).max(1) as f64,
            };
            row("dictionary, held out (2 folds)", &both);
        }
        if write {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../crates")
                .join(format!("proverka-{provider}"))
                .join("dictionary");
            std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            let file = dir.join(format!("zstd-{id}.dict"));
            std::fs::write(&file, &dictionary)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            println!("  wrote {}", file.display());
        }
    }
    println!(
        "all providers, own fixtures: {} B -> {} B, {:.3}x",
        total.0,
        total.1,
        total.1 as f64 / total.0.max(1) as f64
    );
}
