//! A small load generator for `benches/load/compare-nginx.sh`:
//!
//! - `proverka-load burst URL N`: N concurrent identical GETs; prints the time until the last
//!   answer and the status counts.
//! - `proverka-load zipf BASE_URL TOTAL DISTINCT CONCURRENCY SEED`: TOTAL FSSP `physical`
//!   queries drawn Zipf-like (s = 1) from DISTINCT distinct ones, CONCURRENCY at a time;
//!   prints the time and the status counts.
//! - `proverka-load misses BASE_URL N FIRST`: N distinct NPD queries (INNs from FIRST on), one
//!   after the other, each a paid miss; prints the latency percentiles (the store of record's
//!   cost on the miss path, `benches/load/paid-miss.sh`).
//! - `proverka-load fleet BASE_URLS N REPEAT FIRST CONCURRENCY`: N distinct NPD queries (INNs
//!   from FIRST on) over comma-separated proxies round robin, each asked REPEAT times in a row
//!   (at once, on different proxies), CONCURRENCY at a time; prints the rate, p50, p99 and the
//!   status counts (`benches/load/fleet.sh`).
//! - `proverka-load wide BASE_URL N BYTES CONCURRENCY`: N distinct FSSP `legal` queries whose
//!   query strings are about BYTES long (a long address), CONCURRENCY at a time; prints the
//!   time and the status counts (what memory the proxy holds for them,
//!   `benches/load/memory-bound.sh`).
//!
//! Loopback only: it refuses any other host.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

fn loopback(url: &str) -> bool {
    url.starts_with("http://127.")
        || url.starts_with("http://localhost")
        || url.starts_with("http://[::1]")
}

/// The i-th distinct query: the sandbox's debtor born on a different day.
fn query(base: &str, i: u64) -> String {
    let day = 1 + i % 28;
    let month = 1 + (i / 28) % 12;
    let year = 1940 + i / 336;
    format!(
        "{base}/api/fssp.php?type=physical&lastname=%D0%98%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2&firstname=%D0%98%D0%B2%D0%B0%D0%BD&birthdate={day:02}.{month:02}.{year}&region=77"
    )
}

/// The i-th distinct FSSP `legal` query, its address padded until the query string is about
/// `bytes` long (Cyrillic, percent-encoded: six bytes a letter).
fn wide_query(base: &str, i: u64, bytes: usize) -> String {
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
        address.push_str(" улица");
    }
    format!("{base}/api/fssp.php?{}", encoded(&address))
}

/// A deterministic xorshift generator: the same seed, the same workload for both targets.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Draws ranks 0..n with probability proportional to 1/(rank+1).
fn zipf_sample(n: u64, total: u64, seed: u64) -> Vec<u64> {
    let weights: Vec<f64> = (1..=n).map(|k| 1.0 / k as f64).collect();
    let sum: f64 = weights.iter().sum();
    let mut cdf = Vec::with_capacity(n as usize);
    let mut acc = 0.0;
    for w in &weights {
        acc += w / sum;
        cdf.push(acc);
    }
    let mut rng = Rng(seed.max(1));
    (0..total)
        .map(|_| {
            let x = rng.next_f64();
            cdf.partition_point(|c| *c < x).min(n as usize - 1) as u64
        })
        .collect()
}

async fn run(urls: Vec<String>, concurrency: usize) -> (f64, BTreeMap<String, usize>, Vec<f64>) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .timeout(std::time::Duration::from_secs(600))
        .build()
        .expect("client");
    let urls = Arc::new(urls);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, urls, next) = (client.clone(), Arc::clone(&urls), Arc::clone(&next));
            tokio::spawn(async move {
                let mut counts: BTreeMap<String, usize> = BTreeMap::new();
                let mut took = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(url) = urls.get(i) else { break };
                    let sent = Instant::now();
                    let label = match client.get(url).send().await {
                        Ok(r) => {
                            let status = r.status().as_u16().to_string();
                            let _ = r.bytes().await;
                            status
                        }
                        Err(_) => "error".to_owned(),
                    };
                    took.push(sent.elapsed().as_secs_f64() * 1000.0);
                    *counts.entry(label).or_insert(0) += 1;
                }
                (counts, took)
            })
        })
        .collect();
    let mut all = BTreeMap::new();
    let mut took = Vec::new();
    for w in workers {
        let (counts, times) = w.await.unwrap_or_default();
        for (k, v) in counts {
            *all.entry(k).or_insert(0) += v;
        }
        took.extend(times);
    }
    took.sort_by(f64::total_cmp);
    (started.elapsed().as_secs_f64(), all, took)
}

/// A valid 12-digit individual INN whose first ten digits are `ten`.
fn inn(ten: u64) -> String {
    let mut d: Vec<u64> = format!("{ten:010}")
        .bytes()
        .map(|b| u64::from(b - b'0'))
        .collect();
    for weights in [
        &[7, 2, 4, 10, 3, 5, 9, 4, 6, 8][..],
        &[3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8],
    ] {
        let sum: u64 = d.iter().zip(weights).map(|(a, b)| a * b).sum();
        d.push(sum % 11 % 10);
    }
    d.iter().map(u64::to_string).collect()
}

/// `n` distinct NPD misses one after the other: the latency of each, sorted.
async fn misses(base: &str, n: u64, first: u64) -> Result<Vec<f64>, String> {
    let client = reqwest::Client::new();
    let mut took = Vec::with_capacity(n as usize);
    for i in 0..n {
        let url = format!(
            "{base}/parser/nalog_npd_api/?inn={}&date=2024-02-01",
            inn(first + i)
        );
        let started = Instant::now();
        let r = client.get(&url).send().await.map_err(|e| e.to_string())?;
        let status = r.status();
        let _ = r.bytes().await;
        if !status.is_success() {
            return Err(format!("{url}: {status}"));
        }
        took.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    took.sort_by(f64::total_cmp);
    Ok(took)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parse = |i: usize| args.get(i).and_then(|v| v.parse::<u64>().ok());
    if args.first().map(String::as_str) == Some("misses") && args.len() == 4 && loopback(&args[1]) {
        let (n, first) = (parse(2).unwrap_or(500), parse(3).unwrap_or(1));
        return match misses(&args[1], n, first).await {
            Ok(took) => {
                let at = |q: f64| took[((took.len() as f64 - 1.0) * q).round() as usize];
                #[allow(clippy::print_stdout)]
                {
                    println!(
                        "misses={} p50_ms={:.2} p90_ms={:.2} p99_ms={:.2}",
                        took.len(),
                        at(0.5),
                        at(0.9),
                        at(0.99)
                    );
                }
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("proverka-load: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    let mut fleet = false;
    let (urls, concurrency) = match args.first().map(String::as_str) {
        Some("burst") if args.len() == 3 && loopback(&args[1]) => {
            let n = parse(2).unwrap_or(200) as usize;
            (vec![args[1].clone(); n], n)
        }
        Some("zipf") if args.len() == 6 && loopback(&args[1]) => {
            let (total, distinct, concurrency, seed) = (
                parse(2).unwrap_or(10_000),
                parse(3).unwrap_or(1000),
                parse(4).unwrap_or(50),
                parse(5).unwrap_or(1),
            );
            let urls = zipf_sample(distinct, total, seed)
                .into_iter()
                .map(|i| query(&args[1], i))
                .collect();
            (urls, concurrency as usize)
        }
        // Distinct NPD queries over several proxies, round robin: each asked `repeat` times
        // in a row (so at once, on different replicas).
        Some("fleet") if args.len() == 6 && args[1].split(',').all(loopback) => {
            let bases: Vec<&str> = args[1].split(',').collect();
            let (n, repeat, first, concurrency) = (
                parse(2).unwrap_or(1000),
                parse(3).unwrap_or(1).max(1),
                parse(4).unwrap_or(1),
                parse(5).unwrap_or(64) as usize,
            );
            let urls = (0..n * repeat)
                .map(|i| {
                    format!(
                        "{}/parser/nalog_npd_api/?inn={}&date=2024-02-01",
                        bases[i as usize % bases.len()],
                        inn(first + i / repeat)
                    )
                })
                .collect();
            fleet = true;
            (urls, concurrency)
        }
        Some("wide") if args.len() == 5 && loopback(&args[1]) => {
            let (n, bytes, concurrency) = (
                parse(2).unwrap_or(40_000),
                parse(3).unwrap_or(3_900) as usize,
                parse(4).unwrap_or(16) as usize,
            );
            let urls = (0..n).map(|i| wide_query(&args[1], i, bytes)).collect();
            (urls, concurrency)
        }
        _ => {
            eprintln!(
                "usage: proverka-load burst URL N | fleet BASE_URL[,BASE_URL…] N REPEAT FIRST CONCURRENCY | zipf BASE_URL TOTAL DISTINCT CONCURRENCY SEED | misses BASE_URL N FIRST | wide BASE_URL N BYTES CONCURRENCY (loopback URLs only)"
            );
            return std::process::ExitCode::from(2);
        }
    };
    let total = urls.len();
    let (secs, counts, took) = run(urls, concurrency).await;
    let statuses: Vec<String> = counts.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    let at = |q: f64| {
        took.get(((took.len().max(1) - 1) as f64 * q).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    #[allow(clippy::print_stdout)]
    if fleet {
        println!(
            "seconds={secs:.3} rps={:.0} p50_ms={:.2} p99_ms={:.2} statuses={}",
            total as f64 / secs,
            at(0.5),
            at(0.99),
            statuses.join(",")
        );
    } else {
        println!("seconds={secs:.3} statuses={}", statuses.join(","));
    }
    std::process::ExitCode::SUCCESS
}
