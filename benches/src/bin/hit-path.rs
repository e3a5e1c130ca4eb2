//! Counts nothing itself: runs N in-process drop-in FSSP hits through the proxy, for
//! `valgrind --tool=callgrind` to count the instructions of the hit path (repeatable, unlike
//! times on a shared machine): instructions per hit = (I(2N) - I(N)) / N.

use proverka_core::Bytes;
use proverka_proxy::{Config, Proxy};

const QUERY: &str = "/api/fssp.php?type=physical&lastname=%D0%98%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2&firstname=%D0%98%D0%B2%D0%B0%D0%BD&birthdate=12.12.1982&region=50";

fn main() {
    // As in the binary, a subscriber is installed (this one records nothing): without any,
    // tracing's `log` compatibility (enabled by sqlx) would format every span for `log`.
    let _ = tracing::subscriber::set_global_default(tracing::subscriber::NoSubscriber::default());
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let store = std::env::temp_dir().join(format!("hit-path-{}.sqlite", std::process::id()));
        let toml = format!(
            "store_path = {:?}\nlisten = \"127.0.0.1:0\"\n",
            store.display().to_string()
        );
        let config = Config::from_toml(&toml, &[])
            .or_else(|_| Config::from_toml("listen = \"127.0.0.1:0\"\n", &[]))
            .expect("config");
        let proxy = Proxy::with_sandbox(config).await.expect("proxy");
        let request = || {
            http::Request::get(QUERY)
                .body(Bytes::new())
                .expect("request")
        };
        let warm = proxy.handle(request()).await;
        assert_eq!(warm.headers()["x-cache"], "MISS");
        for _ in 0..n {
            let r = proxy.handle(request()).await;
            std::hint::black_box(r);
        }
    });
}
