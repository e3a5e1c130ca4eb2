//! Memory per memoized query: fills a `ParseMemo` with N distinct FSSP `legal` queries whose
//! query strings are about B bytes (validated by the adapter, as the proxy does) and divides
//! the growth of the resident set (`/proc/self/statm`) by N, beside what the memo counts.
//!
//! `cargo run --release -p proverka-benches --bin memo-per-entry -- [N] [B]`

use proverka_core::{Adapter, Provider, QueryInput};
use proverka_engine::ParseMemo;

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// The i-th query string, about `bytes` long.
fn query(i: usize, bytes: usize) -> String {
    let name = format!("Аптека {i}");
    let mut address = format!("Москва дом {i}");
    let encoded = |s: &str| {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("type", "legal")
            .append_pair("name", &name)
            .append_pair("adress", s)
            .append_pair("region", "77")
            .finish()
    };
    while encoded(&address).len() + 16 < bytes {
        address.push_str(if std::env::var_os("LATIN").is_some() {
            " street"
        } else {
            " улица"
        });
    }
    encoded(&address)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(20_000);
    let bytes = args.get(1).copied().unwrap_or(3_900);
    let adapter = proverka_fssp::FsspAdapter;
    let memo = ParseMemo::new(u64::MAX / 4);
    let queries: Vec<String> = (0..n).map(|i| query(i, bytes)).collect();
    memo.run_pending_tasks();
    let before = resident_bytes();
    for q in &queries {
        let id = memo.id(Provider::Fssp, false, "", q);
        let owned: Vec<(String, String)> =
            form_urlencoded::parse(q.as_bytes()).into_owned().collect();
        let pairs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (&**k, &**v)).collect();
        let parsed = adapter
            .parse(&QueryInput {
                tail: "",
                pairs: &pairs,
                typed: false,
                now: std::time::SystemTime::now(),
            })
            .expect("a valid query");
        memo.remember(id, parsed);
    }
    memo.run_pending_tasks();
    let after = resident_bytes();
    let per_entry = after.saturating_sub(before) as f64 / n as f64;
    #[allow(clippy::print_stdout)]
    {
        println!(
            "entries={n} query_bytes={bytes} rss_growth_per_entry={per_entry:.0} counted_per_entry={:.0}",
            memo.weighted_size() as f64 / n as f64
        );
    }
}
