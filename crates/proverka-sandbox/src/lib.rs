//! # proverka-sandbox
//!
//! Simulators of the five providers in one hyper server, each on its own path, so a client
//! only changes the host: `GET /api/fssp.php` (FSSP), `GET /api` and `/api/` (court),
//! `GET /parser/nalog_npd_api/` (NPD),
//! `GET /api/semp/v1/selfemployed/registries/add-selfemployed/{requestId}` (Alfa),
//! `POST /api/v1/tracker/taxpayer_status` (the tax service's free NPD check, limited per IP),
//! and api-cloud.ru's account endpoint `GET /api/apilk.php?type=balance` (the FSSP balance;
//! the FSSP page does not describe it, so its answer is the sandbox's own: the `balance` and
//! `credit` of the page's `inquiry`).
//!
//! - The adapters' own validation decides what is refused, and their provider-error bodies
//!   are what is sent; answers are built from the committed fixtures. Simulator and parsers
//!   cannot drift apart.
//! - Tokens are required; the FSSP balance falls by `inquiry.price` on each paid answer; the
//!   court quota (`data.last`) falls per answer; Alfa registries advance NEW → IN_PROGRESS →
//!   SUCCESS over time, with pagination.
//! - Deterministic: the same query gets the same answer. Known identities are constants
//!   ([`FSSP_DEBTOR`], [`NPD_PAYER`], …; see the README).
//! - Faults ([`Fault`]) per provider and per call, from code ([`SandboxHandle::inject`]) or
//!   `POST /__sandbox/faults/{provider}`; call counters per provider and per canonical query
//!   ([`SandboxHandle::calls`], `GET /__sandbox/calls`).
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let sandbox = proverka_sandbox::Sandbox::builder().start("127.0.0.1:0").await?;
//! println!("FSSP at {}/api/fssp.php", sandbox.url());
//! # Ok(()) }
//! ```

mod faults;
mod page_rules;
mod providers;
mod serve;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use proverka_core::{CacheKey, Lookup, Money, Provider};
use serde_json::Value;
use tokio::net::TcpListener;

pub use faults::{Fault, FaultRule};
use serve::{handle, reset};

/// A debtor `physical`/`alim` always finds: lastname `Иванов` (any first name, date, region).
pub const FSSP_DEBTOR: (&str, &str, &str) = ("Иванов", "Иван", "31.03.1980");
/// A person `physical`/`alim` never finds: lastname `Чистов`.
pub const FSSP_CLEAN: (&str, &str, &str) = ("Чистов", "Пётр", "01.01.1990");
/// A token the sandbox accepts (any 32 letters and digits are accepted).
pub const FSSP_TOKEN: &str = "sandbox0fssp0token00000000000000";
/// An address with both courts.
pub const COURT_ADDRESS_FOUND: &str = "Казань, Московская 1";
/// An address with no court known (both `null`).
pub const COURT_ADDRESS_NOT_FOUND: &str = "Новый посёлок, Центральная 1";
/// A self-employed INN (`found: 1`).
pub const NPD_PAYER: &str = "540304378234";
/// An INN that is not self-employed (`found: 0`).
pub const NPD_NON_PAYER: &str = "500100732259";
/// A date the free FNS check refuses (`validation.failed`: before 2019-01-01).
pub const FNS_TOO_EARLY: &str = "2018-12-31";
/// A registry request id.
pub const ALFA_REQUEST_ID: &str = "4e817e78-5876-4608-a873-bcc141454045";
/// A bearer the sandbox rejects with 401 `invalid_token`.
pub const ALFA_INVALID_BEARER: &str = "expired-bearer";

/// A credential the simulator of `provider` accepts, for a provider whose credential a proxy
/// holds; `None` where the caller always brings their own (Alfa-Bank's bearer).
pub fn credential(provider: Provider) -> Option<&'static str> {
    match provider {
        Provider::Fssp => Some(FSSP_TOKEN),
        Provider::Court => Some("sandbox-court-token"),
        Provider::Npd => Some("sandbox-npd-key"),
        Provider::Alfa | Provider::Fns => None,
    }
}

/// A first query to try against a proxy in front of the sandbox at `base` (`--sandbox`).
pub fn example_request(base: &str) -> String {
    format!(
        "curl -sG {base}/api/fssp.php --data-urlencode type=physical --data-urlencode lastname={} --data-urlencode firstname={} --data-urlencode birthdate={} --data-urlencode region=77 -i",
        FSSP_DEBTOR.0, FSSP_DEBTOR.1, FSSP_DEBTOR.2
    )
}

/// What one simulated call answers.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    status: u16,
    content_type: &'static str,
    body: Bytes,
}

impl Reply {
    pub(crate) fn new(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            content_type,
            body: body.into(),
        }
    }

    pub(crate) fn json(status: u16, value: Value) -> Self {
        Self::new(
            status,
            "application/json; charset=utf-8",
            serde_json::to_vec(&value).unwrap_or_default(),
        )
    }

    pub(crate) fn raw_json(text: &'static str) -> Self {
        Self::new(200, "application/json; charset=utf-8", text)
    }
}

/// The simulators' shared state.
#[derive(Debug)]
pub struct State {
    faults: Mutex<HashMap<Provider, Vec<FaultRule>>>,
    calls: Mutex<HashMap<Provider, u64>>,
    billed: Mutex<HashMap<Provider, u64>>,
    calls_by_key: Mutex<HashMap<CacheKey, u64>>,
    /// Calls of the account endpoints (the balance), by provider: never billed.
    pub(crate) account_calls: Mutex<HashMap<Provider, u64>>,
    call_number: AtomicU64,
    /// Woken at every change of `calls` or `billed`, so a test waits on a count, not a clock.
    counted: tokio::sync::Notify,
    fssp_balance: Mutex<Money>,
    /// FSSP's credit line: the balance may go this far below zero.
    pub(crate) fssp_credit: Money,
    court_left: AtomicI64,
    alfa_seen: Mutex<HashMap<String, Instant>>,
    pub(crate) alfa_step: Duration,
    /// How far the simulated providers' clock is ahead of the real one
    /// ([`SandboxHandle::advance`]).
    pub(crate) ahead: Mutex<Duration>,
    /// The free FNS check's calls per IP address in the last minute, as it limits them.
    fns_recent: Mutex<HashMap<std::net::IpAddr, std::collections::VecDeque<Instant>>>,
    fns_per_minute: usize,
    initial_balance: Money,
    initial_quota: i64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl State {
    /// Counts a call the simulated provider bills.
    pub(crate) fn bill(&self, provider: Provider) {
        *lock(&self.billed).entry(provider).or_insert(0) += 1;
        self.counted.notify_waiters();
    }

    pub(crate) fn lock_fssp_balance(&self) -> MutexGuard<'_, Money> {
        lock(&self.fssp_balance)
    }

    /// One court query from the daily quota; the queries left after it, or `None` when none.
    pub(crate) fn take_court_query(&self) -> Option<i64> {
        self.court_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n > 0).then(|| n - 1)
            })
            .ok()
            .map(|before| before - 1)
    }

    /// Whether one more FNS call from `ip` is within the service's per-IP limit (counted when
    /// it is).
    pub(crate) fn fns_admit(&self, ip: std::net::IpAddr) -> bool {
        let now = Instant::now();
        let mut recent = lock(&self.fns_recent);
        let calls = recent.entry(ip).or_default();
        while calls
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
        {
            calls.pop_front();
        }
        if calls.len() >= self.fns_per_minute {
            return false;
        }
        calls.push_back(now);
        true
    }

    pub(crate) fn alfa_first_seen(&self, request_id: &str) -> Instant {
        *lock(&self.alfa_seen)
            .entry(request_id.to_owned())
            .or_insert_with(Instant::now)
    }

    /// How long ago `since` was on the simulated providers' clock.
    pub(crate) fn elapsed_since(&self, since: Instant) -> Duration {
        since.elapsed() + *lock(&self.ahead)
    }
}

/// Builds a [`Sandbox`].
#[derive(Debug)]
#[must_use]
pub struct SandboxBuilder {
    fssp_balance: Money,
    fssp_credit: Money,
    court_quota: i64,
    alfa_step: Duration,
    fns_per_minute: usize,
}

/// The sandbox server.
#[derive(Debug)]
pub struct Sandbox;

impl Sandbox {
    /// A builder: FSSP balance 1000 RUB without a credit line, court quota 1000 a day, Alfa
    /// registries advancing every 2 s, the free FNS check answering 2 calls a minute per IP
    /// address.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder {
            fssp_balance: Money::from_kopecks(100_000),
            fssp_credit: Money::ZERO,
            court_quota: 1000,
            alfa_step: Duration::from_secs(2),
            fns_per_minute: 2,
        }
    }
}

impl SandboxBuilder {
    /// The FSSP balance at start.
    pub fn fssp_balance(mut self, balance: Money) -> Self {
        self.fssp_balance = balance;
        self
    }

    /// FSSP's credit line (`inquiry.credit`): paid queries go on below zero down to minus
    /// this, as the page's sample shows ("balance": -706.62, "credit": 20000), then 498.
    pub fn fssp_credit(mut self, credit: Money) -> Self {
        self.fssp_credit = credit;
        self
    }

    /// The court's daily quota at start.
    pub fn court_quota(mut self, quota: i64) -> Self {
        self.court_quota = quota;
        self
    }

    /// How many calls a minute the free FNS check answers from one IP address; beyond them it
    /// answers `422 taxpayer.status.service.limited.error`.
    pub fn fns_per_minute(mut self, calls: usize) -> Self {
        self.fns_per_minute = calls;
        self
    }

    /// How long an Alfa registry stays NEW, then IN_PROGRESS, before SUCCESS.
    pub fn alfa_step(mut self, step: Duration) -> Self {
        self.alfa_step = step;
        self
    }

    /// Binds `addr` and serves until the handle is dropped.
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub async fn start(self, addr: &str) -> std::io::Result<SandboxHandle> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            faults: Mutex::default(),
            calls: Mutex::default(),
            billed: Mutex::default(),
            calls_by_key: Mutex::default(),
            account_calls: Mutex::default(),
            call_number: AtomicU64::new(0),
            counted: tokio::sync::Notify::new(),
            fssp_balance: Mutex::new(self.fssp_balance),
            fssp_credit: self.fssp_credit,
            court_left: AtomicI64::new(self.court_quota),
            alfa_seen: Mutex::default(),
            alfa_step: self.alfa_step,
            ahead: Mutex::default(),
            fns_recent: Mutex::default(),
            fns_per_minute: self.fns_per_minute,
            initial_balance: self.fssp_balance,
            initial_quota: self.court_quota,
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
#[derive(Debug)]
pub struct SandboxHandle {
    addr: SocketAddr,
    state: Arc<State>,
    _stop: tokio::sync::watch::Sender<bool>,
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

    /// Moves the simulated providers' clock `by` ahead (an Alfa registry's progress): tests
    /// move time instead of sleeping through it.
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

    /// Calls the simulated `provider` billed: FSSP answers with a price, court answers that
    /// took a query of the quota, NPD `success = 1` answers; never Alfa-Bank's.
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

    /// Calls received on `provider`'s account endpoint (FSSP `apilk.php`): never billed, never
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

    /// The FSSP balance now.
    pub fn fssp_balance(&self) -> Money {
        *self.state.lock_fssp_balance()
    }

    /// Clears faults and counters; restores the balance and quota.
    pub fn reset(&self) {
        reset(&self.state);
    }
}
