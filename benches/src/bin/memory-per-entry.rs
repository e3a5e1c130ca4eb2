//! Memory per cached entry beyond its body: fills a memory-only `TieredCache` through
//! `get_or_fetch` with N answers of B bytes and divides the growth of the resident set
//! (`/proc/self/statm`) by N.
//!
//! `cargo run --release -p proverka-benches --bin memory-per-entry -- [N] [B]`

use std::sync::Arc;

use proverka_benches::{BenchLookup, Never};
use proverka_cache::{FetchOptions, TieredCache};
use proverka_core::{Lookup, RawAnswer};

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(100_000);
    let body = args.get(1).copied().unwrap_or(1024) as usize;
    let cache = TieredCache::builder().memory_bytes(u64::MAX / 4).build();
    cache.run_pending_tasks().await;
    let before = resident_bytes();
    for i in 0..n {
        let lookup: Arc<dyn Lookup> = Arc::new(BenchLookup(format!("entry {i}")));
        cache
            .get_or_fetch(lookup, FetchOptions::default(), move || async move {
                Ok::<_, Never>(RawAnswer::json(vec![b'x'; body]))
            })
            .await
            .expect("never fails");
    }
    cache.run_pending_tasks().await;
    let after = resident_bytes();
    let stats = cache.stats();
    let per_entry = (after.saturating_sub(before)) as f64 / n as f64;
    #[allow(clippy::print_stdout)]
    {
        println!(
            "entries={} body_bytes={body} rss_growth_per_entry={per_entry:.0} overhead_beyond_body={:.0} (weigher counts {} per entry)",
            stats.entries,
            per_entry - body as f64,
            proverka_cache::ENTRY_OVERHEAD
        );
    }
}
