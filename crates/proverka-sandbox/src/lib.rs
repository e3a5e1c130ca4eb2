//! # proverka-sandbox
//!
//! Every provider's simulator in one hyper server, each on its provider's own paths, so a
//! client only changes the host. The simulators live in their adapter crates (each crate's
//! `sandbox` feature, [`proverka_core::sandbox::Simulator`]); the sandbox serves what the
//! registry ([`proverka::adapters`]) names, on each adapter's
//! [`upstream_paths`](proverka_core::Adapter::upstream_paths) and
//! [`account_routes`](proverka_core::Adapter::account_routes), and names no provider itself.
//!
//! - Each simulator follows its provider's page: what it refuses, its error codes, what it
//!   bills, its balance, quota or rate limit; answers are built from its crate's fixtures.
//! - Deterministic: the same query gets the same answer. Known identities are constants in
//!   each adapter's `sandbox` module (and the self-employed INNs in
//!   [`proverka_core::sandbox`]).
//! - Faults ([`Fault`]) per provider and per call, from code ([`SandboxHandle::inject`]) or
//!   `POST /__sandbox/faults/{provider}`; call counters per provider and per canonical query
//!   ([`SandboxHandle::calls`], `GET /__sandbox/calls`); a clock tests move
//!   ([`SandboxHandle::advance`]).
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let sandbox = proverka_sandbox::Sandbox::builder().start("127.0.0.1:0").await?;
//! println!("every simulator at {}", sandbox.url());
//! # Ok(()) }
//! ```

mod faults;
mod serve;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use hyper_util::rt::TokioIo;
use proverka_core::sandbox::{AsAny, Simulator, lock};
use proverka_core::{Adapter, CacheKey, Lookup, Provider};
use tokio::net::TcpListener;

pub use proverka_core::sandbox::{Fault, FaultRule};
use serve::{handle, reset};

/// The simulators of `adapters`, with their default settings.
fn simulators_of(adapters: &[Arc<dyn Adapter>]) -> Vec<Box<dyn Simulator>> {
    adapters.iter().filter_map(|a| a.simulator()).collect()
}

/// The registry's simulators with their default settings.
fn registry_simulators() -> Vec<Box<dyn Simulator>> {
    simulators_of(&proverka::adapters())
}

/// A credential the simulator of `provider` accepts, for a provider whose credential a proxy
/// holds; `None` where the caller always brings their own (a bearer) or nothing simulates it.
pub fn credential(provider: Provider) -> Option<&'static str> {
    registry_simulators()
        .iter()
        .find(|s| s.provider() == provider)
        .and_then(|s| s.credential())
}

/// A first request to try against a proxy in front of the sandbox at `base` (`--sandbox`):
/// the first simulator's example that has one.
pub fn example_request(base: &str) -> String {
    registry_simulators()
        .iter()
        .find_map(|s| s.example(base))
        .unwrap_or_else(|| format!("curl -s {base}/v1/openapi.json"))
}

/// The simulators and what the sandbox counts of them.
#[derive(Debug)]
pub(crate) struct State {
    /// The providers' own paths, from their adapters.
    routes: Vec<serve::Route>,
    simulators: Vec<Box<dyn Simulator>>,
    faults: Mutex<HashMap<Provider, Vec<FaultRule>>>,
    calls: Mutex<HashMap<Provider, u64>>,
    billed: Mutex<HashMap<Provider, u64>>,
    calls_by_key: Mutex<HashMap<CacheKey, u64>>,
    /// Calls of the account endpoints (the balance), by provider: never billed.
    account_calls: Mutex<HashMap<Provider, u64>>,
    call_number: AtomicU64,
    /// Woken at every change of `calls` or `billed`, so a test waits on a count, not a clock.
    counted: tokio::sync::Notify,
    /// How far the simulated providers' clock is ahead of the real one
    /// ([`SandboxHandle::advance`]).
    ahead: Mutex<Duration>,
}

impl State {
    /// Counts a call the simulated provider bills.
    pub(crate) fn bill(&self, provider: Provider) {
        *lock(&self.billed).entry(provider).or_insert(0) += 1;
        self.counted.notify_waiters();
    }

    /// The simulator of `provider`.
    pub(crate) fn simulator(&self, provider: Provider) -> Option<&dyn Simulator> {
        self.simulators
            .iter()
            .find(|s| s.provider() == provider)
            .map(AsRef::as_ref)
    }

    /// Now on the simulated providers' clock, as an instant and as a time of day.
    pub(crate) fn now(&self) -> (Instant, SystemTime) {
        let ahead = *lock(&self.ahead);
        (Instant::now() + ahead, SystemTime::now() + ahead)
    }
}

/// Builds a [`Sandbox`].
#[derive(Debug)]
#[must_use]
pub struct SandboxBuilder {
    adapters: Vec<Arc<dyn Adapter>>,
    simulators: Vec<Box<dyn Simulator>>,
}

/// The sandbox server.
#[derive(Debug)]
pub struct Sandbox;

impl Sandbox {
    /// A builder with every simulator the registry names, with its default settings (see
    /// each one's `Default`).
    pub fn builder() -> SandboxBuilder {
        let adapters = proverka::adapters();
        SandboxBuilder {
            simulators: simulators_of(&adapters),
            adapters,
        }
    }
}

impl SandboxBuilder {
    /// Serves `simulator` instead of the one of the same provider (or besides the others).
    pub fn simulator(mut self, simulator: impl Simulator) -> Self {
        let provider = simulator.provider();
        self.simulators.retain(|s| s.provider() != provider);
        self.simulators.push(Box::new(simulator));
        self
    }

    /// Changes one setting of the simulator of the provider named `provider`
    /// ([`Simulator::set`]), as `proverka-sandbox --set provider.name=value` does.
    ///
    /// # Errors
    /// A message when no simulator has that name, or it refuses the setting.
    pub fn set(mut self, provider: &str, name: &str, value: &str) -> Result<Self, String> {
        let names: Vec<&str> = self
            .simulators
            .iter()
            .map(|s| s.provider().as_str())
            .collect();
        let Some(simulator) = self
            .simulators
            .iter_mut()
            .find(|s| s.provider().as_str() == provider)
        else {
            return Err(format!(
                "no simulator named {provider} ({})",
                names.join(", ")
            ));
        };
        simulator
            .set(name, value)
            .map_err(|e| format!("{provider}: {e}"))?;
        Ok(self)
    }

    /// Binds `addr` and serves until the handle is dropped.
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub async fn start(self, addr: &str) -> std::io::Result<SandboxHandle> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            routes: serve::routes(&self.adapters),
            simulators: self.simulators,
            faults: Mutex::default(),
            calls: Mutex::default(),
            billed: Mutex::default(),
            calls_by_key: Mutex::default(),
            account_calls: Mutex::default(),
            call_number: AtomicU64::new(0),
            counted: tokio::sync::Notify::new(),
            ahead: Mutex::default(),
        });
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let serving = Arc::clone(&state);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stopped.changed() => return,
                    accepted = listener.accept() => {
                        let Ok((stream, peer)) = accepted else { continue };
                        let state = Arc::clone(&serving);
                        tokio::spawn(async move {
                            let service = hyper::service::service_fn(move |req| {
                                let state = Arc::clone(&state);
                                async move { handle(&state, peer.ip(), req).await }
                            });
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        });
                    }
                }
            }
        });
        Ok(SandboxHandle {
            addr,
            state,
            _stop: stop,
        })
    }
}

/// A running sandbox: its address, its counters, its faults. Dropping it stops the server.
/// It is a [`Clock`](proverka_core::Clock) too, the simulated providers' one: a proxy or an
/// engine under test that reads it sees the days the simulators see.
#[derive(Debug)]
pub struct SandboxHandle {
    addr: SocketAddr,
    state: Arc<State>,
    _stop: tokio::sync::watch::Sender<bool>,
}

impl proverka_core::Clock for SandboxHandle {
    fn now(&self) -> SystemTime {
        SandboxHandle::now(self)
    }
}

impl SandboxHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: the base URL for every adapter.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Adds a fault for the next `times` calls to `provider` (forever when `None`).
    pub fn inject(&self, provider: Provider, fault: Fault, times: Option<u32>) {
        lock(&self.state.faults)
            .entry(provider)
            .or_default()
            .push(FaultRule { fault, times });
    }

    /// Now on the simulated providers' clock (what "today" is for them): the real time, moved
    /// ahead by every [`Self::advance`].
    pub fn now(&self) -> SystemTime {
        self.state.now().1
    }

    /// Moves the simulated providers' clock `by` ahead (a registry's progress, a per-minute
    /// limit): tests move time instead of sleeping through it.
    pub fn advance(&self, by: Duration) {
        *lock(&self.state.ahead) += by;
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        lock(&self.state.faults).clear();
    }

    /// Calls received by `provider` (every request on its path).
    pub fn calls(&self, provider: Provider) -> u64 {
        lock(&self.state.calls).get(&provider).copied().unwrap_or(0)
    }

    /// Calls the simulated `provider` billed (what its simulator says it bills: an answer
    /// with a price, one that took a query of a quota).
    pub fn billed(&self, provider: Provider) -> u64 {
        lock(&self.state.billed)
            .get(&provider)
            .copied()
            .unwrap_or(0)
    }

    /// Waits until `reached` holds of the counters ([`calls`](Self::calls),
    /// [`billed`](Self::billed)): woken at every call the simulators count, never polled.
    pub async fn wait_until(&self, reached: impl Fn(&Self) -> bool) {
        loop {
            let counted = self.state.counted.notified();
            let mut counted = std::pin::pin!(counted);
            // Registered before the check, so a count between the check and the wait wakes it.
            counted.as_mut().enable();
            if reached(self) {
                return;
            }
            counted.await;
        }
    }

    /// Calls received on `provider`'s account endpoints (a balance): never billed, never
    /// counted in [`calls`](Self::calls).
    pub fn account_calls(&self, provider: Provider) -> u64 {
        lock(&self.state.account_calls)
            .get(&provider)
            .copied()
            .unwrap_or(0)
    }

    /// Calls received for one canonical query (valid requests only).
    pub fn calls_for(&self, lookup: &dyn Lookup) -> u64 {
        lock(&self.state.calls_by_key)
            .get(&lookup.cache_key())
            .copied()
            .unwrap_or(0)
    }

    /// The running simulator of type `T`, to read its own state (a balance, a quota).
    pub fn simulator<T: Simulator>(&self) -> Option<&T> {
        self.state
            .simulators
            .iter()
            .find_map(|s| AsAny::as_any(&**s).downcast_ref::<T>())
    }

    /// Clears faults and counters; each simulator forgets what it learned and restores what
    /// it spent ([`Simulator::reset`]).
    pub fn reset(&self) {
        reset(&self.state);
    }
}
