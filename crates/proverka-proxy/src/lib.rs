//! # proverka-proxy
//!
//! The caching proxy in front of the registered providers: every internal service calls it
//! instead of the providers, so the company pays once per distinct query and never leaks a
//! token.
//!
//! The proxy names no provider: it is built from the registry (`proverka::adapters`), and
//! each provider's [`Adapter`](proverka_core::Adapter) supplies its routes, defaults,
//! credential, validation and refusals. So:
//!
//! - Drop-in routes on each provider's own paths: same query, the provider's body byte for
//!   byte, `X-Cache` and `Age` added.
//! - A typed JSON API under `/v1/…` described at `/v1/openapi.json`; `/metrics`, `/healthz`,
//!   `/readyz`.
//! - Validation before anything (an invalid query gets the provider's own error, free),
//!   client keys and daily budgets, per-provider concurrency limits, retries of free
//!   retryable failures, a single flight per query across replicas, graceful shutdown that
//!   lets paid calls finish and stores their answers.
//! - The money path is [`proverka_engine`]'s: budgets, the ledger and every intent live in
//!   the store of record (SQLite by default, PostgreSQL for fleets), so they survive restarts,
//!   crashes and renamed clients.
//!
//! See `docs/proxy.md` (configuration) and `docs/deployment.md`.

mod api;
mod app;
pub mod config;
mod metrics;
mod openapi;
mod registry;
mod request_id;
mod routes;
mod status;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

pub use app::{Reloaded, StartError};
pub use config::{Config, ConfigError, LogFormat, SourceMode};
pub use metrics::{MAX_CODES_PER_PROVIDER, Metrics};

/// A configured proxy, ready to serve.
#[derive(Debug, Clone)]
pub struct Proxy {
    state: Arc<app::AppState>,
    #[cfg(feature = "sandbox")]
    sandbox: Option<Arc<proverka_sandbox::SandboxHandle>>,
}

impl Proxy {
    /// A proxy for `config`. Call within a tokio runtime.
    ///
    /// # Errors
    /// [`StartError`] for unusable provider or cache settings.
    pub fn new(config: Config) -> Result<Self, StartError> {
        Self::with_clock(config, Arc::new(proverka_core::SystemClock))
    }

    /// A proxy for `config` whose engine reads time from `clock` (its Moscow day, the ledger's
    /// times, what "today" is to a query): a test moves it with a sandbox's clock instead of
    /// waiting. Call within a tokio runtime.
    ///
    /// # Errors
    /// [`StartError`] for unusable provider or cache settings.
    pub fn with_clock(
        config: Config,
        clock: Arc<dyn proverka_core::Clock>,
    ) -> Result<Self, StartError> {
        let state = Arc::new(app::AppState::new(config, clock)?);
        status::roll_days(Arc::downgrade(&state));
        Ok(Self {
            state,
            #[cfg(feature = "sandbox")]
            sandbox: None,
        })
    }

    /// A proxy whose providers are the in-process simulators (`--sandbox`): no tokens
    /// needed, nothing leaves this machine. Feature `sandbox` (on by default).
    ///
    /// # Errors
    /// [`StartError`], or the sandbox could not bind a loopback port.
    #[cfg(feature = "sandbox")]
    pub async fn with_sandbox(mut config: Config) -> Result<Self, StartError> {
        let sandbox = proverka_sandbox::Sandbox::builder()
            .start("127.0.0.1:0")
            .await
            .map_err(|e| StartError::Cache(format!("sandbox: {e}")))?;
        sandboxed(&mut config, &sandbox.url());
        let mut proxy = Self::new(config)?;
        proxy.sandbox = Some(Arc::new(sandbox));
        Ok(proxy)
    }

    /// Re-reads what can change without a restart (SIGHUP): the clients and operators, their
    /// keys and budgets, and the providers' prices, applied at once to every worker; the cache
    /// and the flights in progress are kept, and budgets are in the store. A changed key that
    /// needs a restart (listen addresses, Redis, the encryption key, a provider's URL,
    /// credential or limits, …) is reported in [`Reloaded::needs_restart`] and not applied.
    /// The new configuration is held to the rules of the sockets actually bound, so a reload
    /// can never open the door; a refused reload changes nothing and is counted.
    ///
    /// # Errors
    /// [`StartError::UnknownPrice`]: the new configuration gives a client a budget that a
    /// provider without a price could overrun; [`StartError::Config`]: it would leave a bound
    /// public socket without client keys. Nothing is applied then.
    pub fn reload(&self, mut config: Config) -> Result<Reloaded, StartError> {
        #[cfg(feature = "sandbox")]
        if let Some(sandbox) = &self.sandbox {
            sandboxed(&mut config, &sandbox.url());
        }
        let _ = &mut config;
        let reloaded = self.state.reload(&config);
        self.state.metrics.reload(reloaded.is_ok());
        // Files written are opened again at their paths (logrotate renamed them), reload or not.
        if let Err(e) = self.state.engine.reopen_files() {
            tracing::error!(error = %e, "the ledger export cannot be opened again; still writing to the old file");
        }
        reloaded
    }

    /// Counts a reload refused before it reached [`Proxy::reload`] (a file that does not
    /// parse): `proverka_reloads_total{result="refused"}`.
    pub fn reload_refused(&self) {
        self.state.metrics.reload(false);
    }

    /// The sandbox in use (`--sandbox`), for its counters and faults.
    #[cfg(feature = "sandbox")]
    pub fn sandbox(&self) -> Option<&proverka_sandbox::SandboxHandle> {
        self.sandbox.as_deref()
    }

    /// What this proxy would do, one line each (`--check-config`): where it listens, each
    /// provider's base URL, whose credential, pacing and source, the cache and the clients.
    /// Never a secret's value.
    pub fn plan(&self) -> Vec<String> {
        self.state.plan()
    }

    /// The proxy's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.state.metrics
    }

    /// The engine (its store, its cache).
    pub fn engine(&self) -> &proverka_engine::Engine {
        &self.state.engine
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.state.config
    }

    /// Answers one request in process (no socket): tests and benches.
    pub async fn handle(&self, request: http::Request<Bytes>) -> http::Response<Bytes> {
        let (parts, _) = request.into_parts();
        let incoming = routes::Incoming {
            listener: routes::Listener::Main,
            method: parts.method,
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or("").to_owned(),
            request_id: request_id::request_id(&parts.headers),
            headers: parts.headers,
        };
        let response = routes::handle(&self.state, incoming).await;
        let (parts, body) = response.into_parts();
        let bytes = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        http::Response::from_parts(parts, bytes)
    }

    /// Serves on `listener` until `shutdown` completes; then stops accepting at once, lets the
    /// requests in progress be answered and the provider calls in flight finish and be stored
    /// (memory and Redis), all within one `shutdown_grace_secs`, and returns.
    ///
    /// Connections are bounded: at most `max_connections` open (the next waits to be
    /// accepted), request headers of at most `max_header_bytes` (431 beyond), read within
    /// `header_read_timeout_secs` (also the idle keep-alive timeout). A failing `accept` (the
    /// open-files limit) backs off instead of spinning.
    ///
    /// # Errors
    /// Never at present; the signature leaves room for fatal accept errors.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> std::io::Result<()> {
        self.serve_on(listener, routes::Listener::Main, shutdown)
            .await
    }

    /// Serves `/metrics`, `/healthz` and `/readyz` (no client key) on the `metrics_listen`
    /// listener until `shutdown` completes.
    ///
    /// # Errors
    /// As [`Proxy::serve`].
    pub async fn serve_metrics(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> std::io::Result<()> {
        self.serve_on(listener, routes::Listener::Metrics, shutdown)
            .await
    }

    /// Warnings about the shared cache's Redis settings (an eviction policy that can drop or
    /// refuse the proxy's keys); the binary logs them at start-up.
    pub async fn redis_warnings(&self) -> Vec<String> {
        self.state.engine.cache().remote_warnings().await
    }

    /// Binds `metrics_listen`, when configured.
    ///
    /// # Errors
    /// When it cannot be bound.
    pub async fn bind_metrics(&self) -> std::io::Result<Option<(TcpListener, SocketAddr)>> {
        let Some(addr) = self.state.config.metrics_listen else {
            return Ok(None);
        };
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        Ok(Some((listener, addr)))
    }

    async fn serve_on(
        self,
        listener: TcpListener,
        kind: routes::Listener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> std::io::Result<()> {
        let state = Arc::clone(&self.state);
        let limits = &state.config.http;
        let open = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(Duration::from_secs(limits.header_read_timeout_secs.max(1)))
            .max_buf_size(limits.max_header_bytes.max(8192))
            .max_header_size(limits.max_header_bytes);
        let mut backoff = Duration::from_millis(5);
        tokio::pin!(shutdown);
        loop {
            // At the connection cap, the next connection waits in the listen queue.
            let permit = tokio::select! {
                () = &mut shutdown => break,
                p = Arc::clone(&open).acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            };
            let accepted = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => accepted,
            };
            let stream = match accepted {
                Ok((stream, _)) => {
                    backoff = Duration::from_millis(5);
                    stream
                }
                Err(e) => {
                    // EMFILE and friends: retrying at once would spin on both cores.
                    tracing::warn!(error = %e, backoff_ms = backoff.as_millis() as u64, "accept failed; backing off");
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let state = Arc::clone(&state);
            let service =
                hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let state = Arc::clone(&state);
                    async move {
                        let (parts, _) = req.into_parts();
                        let incoming = routes::Incoming {
                            listener: kind,
                            method: parts.method,
                            path: parts.uri.path().to_owned(),
                            query: parts.uri.query().unwrap_or("").to_owned(),
                            request_id: request_id::request_id(&parts.headers),
                            headers: parts.headers,
                        };
                        Ok::<_, std::convert::Infallible>(routes::handle(&state, incoming).await)
                    }
                });
            let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                let _ = connection.await;
                drop(permit);
            });
        }
        // Stop accepting at once; one grace for everything that follows.
        drop(listener);
        let deadline = tokio::time::Instant::now()
            + Duration::from_secs(self.state.config.shutdown_grace_secs);
        // Requests in progress are answered; idle keep-alive connections close.
        if tokio::time::timeout_at(deadline, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("grace period over with requests still in progress");
        }
        if kind == routes::Listener::Metrics {
            return Ok(());
        }
        let cache = self.state.engine.cache();
        let in_flight = cache.in_flight();
        if in_flight > 0 {
            tracing::info!(in_flight, "waiting for provider calls in flight");
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        // Flights finish and are stored, waiting settlements are written, and this replica
        // leaves the store: a call still open now is settled `unknown`.
        if !self.state.engine.shutdown(left).await {
            tracing::warn!(
                in_flight = cache.in_flight(),
                "grace period over; exiting with provider calls in flight (they may have been billed)"
            );
        }
        Ok(())
    }

    /// Binds the configured address once and hands a clone of the listening socket to each
    /// of `n` worker threads: whichever worker is idle accepts, so connections follow the
    /// load rather than a hash of their addresses (as with `SO_REUSEPORT`). Throughput is
    /// the same either way on the measured machine; the latency tail was within noise.
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub fn bind_workers(
        &self,
        n: usize,
    ) -> std::io::Result<(Vec<std::net::TcpListener>, SocketAddr)> {
        let listener = std::net::TcpListener::bind(self.state.config.listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let mut listeners = Vec::with_capacity(n.max(1));
        for _ in 1..n.max(1) {
            listeners.push(listener.try_clone()?);
        }
        listeners.push(listener);
        Ok((listeners, addr))
    }

    /// Binds the configured address.
    ///
    /// # Errors
    /// When it cannot be bound.
    pub async fn bind(&self) -> std::io::Result<(TcpListener, SocketAddr)> {
        let listener = TcpListener::bind(self.state.config.listen).await?;
        let addr = listener.local_addr()?;
        Ok((listener, addr))
    }
}

/// Installs the global `tracing` subscriber for the binary: `pretty` or `json` lines on
/// stderr, level from `RUST_LOG` (default `info`).
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // A closed stderr (a log collector gone) must not take the proxy down: without this the
    // subscriber reports its failed write with eprintln!, which panics on a closed stderr.
    let builder = tracing_subscriber::fmt()
        .log_internal_errors(false)
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

/// Points every provider of `config` at the sandbox at `url`, with its credentials and a
/// price of 1 RUB where none is set.
#[cfg(feature = "sandbox")]
fn sandboxed(config: &mut Config, url: &str) {
    proverka_engine::config::point_at(&mut config.providers, url, proverka_sandbox::credential);
}
