//! `proverka-proxy [--config FILE] [--listen ADDR] [--sandbox] [--check-config] [--version]`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use proverka_proxy::{Config, Proxy};

/// The static (musl) build allocates with mimalloc: musl's allocator serialises the worker
/// threads on one lock, and the hit path is mostly allocation (docs/performance.md).
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The caching proxy in front of the registered providers: a paid query is never paid twice.
///
/// Every config key can also be set by environment (`PROVERKA_…`); see docs/proxy.md.
#[derive(Debug, clap::Parser)]
#[command(name = "proverka-proxy", version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("PROVERKA_COMMIT"), ")"), about)]
struct Args {
    /// The TOML configuration file (default: built-in defaults and the environment).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The address to listen on (overrides `listen` and PROVERKA_LISTEN).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Put the in-process simulators in place of the providers: no tokens, nothing leaves
    /// this machine.
    #[arg(long)]
    sandbox: bool,
    /// Load the configuration and the environment, set up every provider, the cache and the
    /// ledger, say what the proxy would do, and exit: 0 when it would start, non-zero with the
    /// reason when not. Nothing is listened on and no provider is called.
    #[arg(long)]
    check_config: bool,
}

/// One single-threaded runtime per core, each accepting on a clone of one listening socket and
/// all sharing one cache: a connection's requests stay on one thread, so there are no cross-thread
/// wake-ups on the hit path (profiling showed them as the largest user of CPU after the
/// kernel's TCP work). Provider calls, the sandbox and Redis's connection live on the first
/// runtime, which runs as long as the process.
fn main() -> ExitCode {
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let runtime = |name: &str| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name(name)
            .build()
    };
    let main_rt = match runtime("proverka-0") {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("proverka-proxy: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    main_rt.block_on(run(workers, runtime))
}

async fn run(
    workers: usize,
    runtime: impl Fn(&str) -> std::io::Result<tokio::runtime::Runtime>,
) -> ExitCode {
    let args = match <Args as clap::Parser>::try_parse() {
        Ok(a) => a,
        Err(e) => {
            // --help and --version print and succeed; anything else is a usage error (2).
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let (config_path, listen, sandbox) = (args.config, args.listen, args.sandbox);
    // Read again on SIGHUP (the `_FILE` secrets and the file may have changed).
    let environment = move || {
        let mut env: Vec<(String, String)> = std::env::vars()
            .filter(|(k, _)| k.starts_with("PROVERKA_"))
            .collect();
        if let Some(l) = &listen {
            env.push(("PROVERKA_LISTEN".into(), l.clone()));
        }
        env
    };
    let config = match Config::load(config_path.as_deref(), &environment()) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "proverka-proxy: {e}");
            return ExitCode::from(2);
        }
    };
    if args.check_config {
        for warning in &config.warnings {
            let _ = writeln!(std::io::stderr(), "proverka-proxy: warning: {warning}");
        }
    } else {
        proverka_proxy::init_logging(config.log_format);
        for warning in &config.warnings {
            tracing::warn!(warning = %warning, "configuration");
        }
    }
    let proxy = if sandbox {
        with_sandbox(config).await
    } else {
        Proxy::new(config)
    };
    let proxy = match proxy {
        Ok(p) => p,
        Err(e) if args.check_config => {
            let _ = writeln!(std::io::stderr(), "proverka-proxy: cannot start: {e}");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    if args.check_config {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "configuration OK; the proxy would:");
        for line in proxy.plan() {
            let _ = writeln!(out, "  {line}");
        }
        return ExitCode::SUCCESS;
    }
    let (listeners, addr) = match proxy.bind_workers(workers) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(%addr, sandbox, "proverka-proxy listening");
    for warning in proxy.redis_warnings().await {
        tracing::warn!("{warning}");
    }
    #[cfg(feature = "sandbox")]
    if sandbox {
        // Not eprintln!: it panics when stderr is closed.
        let _ = writeln!(
            std::io::stderr(),
            "proverka-proxy: sandbox mode on http://{addr} — try:\n  {}",
            proverka_sandbox::example_request(&format!("http://{addr}"))
        );
    }
    // One signal stops every worker at once: each stops accepting, answers what it has in
    // progress and waits for the provider calls in flight, all within one grace.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                () = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: no new requests");
        let _ = stop.send(true);
    });
    #[cfg(unix)]
    tokio::spawn(reload_on_hangup(proxy.clone(), config_path, environment));
    let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|s| *s).await;
    };
    let metrics = match proxy.bind_metrics().await {
        Ok(Some((listener, maddr))) => {
            tracing::info!(addr = %maddr, "metrics listening");
            Some(tokio::spawn(
                proxy
                    .clone()
                    .serve_metrics(listener, until_stopped(stopped.clone())),
            ))
        }
        Ok(None) => None,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for metrics");
            return ExitCode::FAILURE;
        }
    };
    let mut threads = Vec::new();
    let mut listeners = listeners.into_iter();
    let first = listeners.next();
    for (i, listener) in listeners.enumerate() {
        let (proxy, stopped) = (proxy.clone(), stopped.clone());
        let rt = match runtime(&format!("proverka-{}", i + 1)) {
            Ok(rt) => rt,
            Err(e) => {
                tracing::warn!(error = %e, "one worker thread fewer");
                continue;
            }
        };
        threads.push(std::thread::spawn(move || {
            rt.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let _ = proxy.serve(listener, until_stopped(stopped)).await;
            });
        }));
    }
    let result = match first.map(tokio::net::TcpListener::from_std) {
        Some(Ok(listener)) => proxy.clone().serve(listener, until_stopped(stopped)).await,
        Some(Err(e)) => Err(e),
        None => Ok(()),
    };
    for t in threads {
        let _ = t.join();
    }
    if let Some(m) = metrics {
        let _ = m.await;
    }
    // Every worker has shut the engine down: the store's file is made whole (SQLite's
    // write-ahead log folded in) as the process leaves.
    if let Err(e) = proxy.engine().store().close().await {
        tracing::warn!(error = %e, "closing the store of record");
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            ExitCode::FAILURE
        }
    }
}

/// SIGHUP: read the configuration file and the environment again and apply what can change
/// without a restart (clients, budgets, prices); log what was applied and what needs a
/// restart. An invalid configuration changes nothing.
#[cfg(unix)]
async fn reload_on_hangup(
    proxy: Proxy,
    path: Option<PathBuf>,
    environment: impl Fn() -> Vec<(String, String)>,
) {
    let Ok(mut hangup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
    else {
        tracing::warn!("SIGHUP cannot be caught: reloading is off");
        return;
    };
    while hangup.recv().await.is_some() {
        let loaded = Config::load(path.as_deref(), &environment());
        if loaded.is_err() {
            proxy.reload_refused();
        }
        let reloaded = loaded.map_err(|e| e.to_string()).and_then(|config| {
            for warning in &config.warnings {
                tracing::warn!(warning = %warning, "configuration");
            }
            proxy.reload(config).map_err(|e| e.to_string())
        });
        match reloaded {
            Ok(r) => {
                tracing::info!(applied = ?r.applied, "configuration reloaded");
                if !r.needs_restart.is_empty() {
                    tracing::warn!(
                        keys = ?r.needs_restart,
                        "configuration changed where a restart is needed: not applied"
                    );
                }
            }
            Err(e) => tracing::error!(error = %e, "reload refused: nothing changed"),
        }
    }
}

#[cfg(feature = "sandbox")]
async fn with_sandbox(config: Config) -> Result<Proxy, proverka_proxy::StartError> {
    Proxy::with_sandbox(config).await
}

/// Built without the simulators: `--sandbox` is refused with the reason.
#[cfg(not(feature = "sandbox"))]
async fn with_sandbox(_: Config) -> Result<Proxy, proverka_proxy::StartError> {
    Err(proverka_proxy::StartError::Cache(
        "--sandbox: this build has no simulators (feature `sandbox` is off)".into(),
    ))
}
