//! Flights: one per key at a time; the caller that leads one starts it, the others wait on
//! it. A flight owns the whole miss: reserve, send, judge once, settle, free retries, store.

use tracing::Instrument as _;

use super::*;

/// How a flight ended, shared by every caller waiting on it.
pub(crate) type FlightResult = Result<(Arc<Answer>, Source), FetchError>;

/// Where a flight's answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// Found fresh in a tier when the flight re-checked (a flight that just ended stored it).
    Tier(Tier),
    /// Fetched by this process.
    Fetched,
    /// Fetched by another replica while this one waited.
    OtherReplica,
    /// An expired answer served because the fetch failed.
    Stale,
}

pub(crate) struct Flight {
    pub(crate) id: u64,
    pub(crate) rx: watch::Receiver<Option<FlightResult>>,
    pub(crate) callers: Callers,
}

/// How many callers wait on a flight now. The flight runs on when they all leave (a paid
/// call is never cancelled), but a flight still waiting for a turn in a free source's
/// queue gives the turn back and ends: nobody wants its answer yet, and the next caller
/// should not queue behind it.
#[derive(Clone)]
pub(crate) struct Callers(Arc<watch::Sender<usize>>);

impl Callers {
    fn new() -> Self {
        Self(Arc::new(watch::Sender::new(0)))
    }

    /// One more caller waits, until the seat is dropped (its answer came, or it left).
    fn seat(&self) -> Seat {
        self.0.send_modify(|n| *n += 1);
        Seat(self.clone())
    }

    /// Resolves when no caller waits any more.
    pub(crate) async fn all_gone(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}

/// A caller's place among a flight's [`Callers`].
pub(crate) struct Seat(Callers);

impl Drop for Seat {
    fn drop(&mut self) {
        self.0.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

tokio::task_local! {
    /// The callers of the flight whose task this is: read where the flight may wait for
    /// long on nobody's behalf (a free source's queue, [`TieredCache::ask_free_source`]).
    pub(crate) static FLIGHT_CALLERS: Callers;
}

/// Removes a flight from the map when its task ends, however it ends (even by panic).
pub(crate) struct FlightGuard {
    pub(crate) inner: Arc<Inner>,
    pub(crate) key: CacheKey,
    pub(crate) id: u64,
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        let mut flights = self
            .inner
            .flights
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if flights.get(&self.key).is_some_and(|f| f.id == self.id) {
            flights.remove(&self.key);
        }
    }
}

/// A fetch failure that has no error value of its own (the task ended without a result).
#[derive(Debug, thiserror::Error)]
#[error("the fetch task ended without a result")]
pub(crate) struct TaskLost;

/// Whether a caller joined a running flight or leads a new one.
pub(crate) enum Joined {
    /// Another caller's flight: wait on it, seated.
    Waiting(watch::Receiver<Option<FlightResult>>, Seat),
    /// No room for another flight (`max_flights`).
    Full,
    /// A new flight, registered: this caller starts it.
    Leading(
        watch::Receiver<Option<FlightResult>>,
        watch::Sender<Option<FlightResult>>,
        FlightGuard,
        Seat,
    ),
}

/// Waits for a flight's result.
pub(crate) async fn wait(mut rx: watch::Receiver<Option<FlightResult>>) -> FlightResult {
    match rx.wait_for(Option::is_some).await {
        Ok(done) => done.clone().unwrap_or_else(|| Err(task_lost())),
        Err(_) => Err(task_lost()),
    }
}

/// A flight's result as one caller sees it.
pub(crate) fn served(result: FlightResult, leader: bool) -> Result<Served, FetchError> {
    let (answer, source) = result.map_err(|e| e.coalesced_if(!leader))?;
    let status = match source {
        Source::Tier(tier) => CacheStatus::Hit(tier),
        Source::Stale => CacheStatus::Stale,
        Source::Fetched if leader => CacheStatus::Miss,
        Source::Fetched | Source::OtherReplica => CacheStatus::Coalesced,
    };
    Ok(Served { answer, status })
}

/// A flight task that died (a panic) may have been sending: billed unknown.
pub(crate) fn task_lost() -> FetchError {
    FetchError::no_answer(Arc::new(TaskLost), Billed::Unknown)
}

/// How a flight's calls ended.
pub(crate) enum Called {
    /// No call: the caller's reservation was refused.
    Refused(Refusal),
    /// The last call brought an answer (judged).
    Answered(Arc<Answer>),
    /// The last call brought none; billed as it may have been.
    NoAnswer(TransportError, Billed),
}

impl TieredCache {
    /// The answer to `lookup`: from memory, from the remote tier, or from one flight that
    /// calls the provider through `fetch`, at most one flight per key at a time across every
    /// caller of every replica.
    ///
    /// The tiers are read once, before the flight is joined or started. The flight runs in a
    /// detached task: it completes, and its answer is judged and stored, even if every caller
    /// has gone. It owns the whole miss: [`Fetch::reserve`] before each call, one send, one
    /// judgement ([`Lookup::judge`]), [`Fetch::settle`] with that judgement, a free retry
    /// where the verdict says the failure was free ([`Verdict::free_to_resend`]), then store
    /// and share. Answers judged storable are kept for as long as the adapter says; provider
    /// errors and unreadable answers (billed or not) go to the waiting callers and are never
    /// stored. A remote-tier failure is never an error here.
    ///
    /// A caller that joins a flight pays nothing. If the flight's own caller was refused
    /// (its budget), a joined caller asks again on its own account.
    ///
    /// # Errors
    /// [`FetchError`] when no answer came back (shared with every waiting caller) and no stale
    /// answer could stand in, or when the call was refused.
    ///
    /// [`Verdict::free_to_resend`]: proverka_core::Verdict::free_to_resend
    pub async fn get_or_fetch(
        &self,
        lookup: Arc<dyn Lookup>,
        options: FetchOptions,
        fetch: impl Fetch,
    ) -> Result<Served, FetchError> {
        let key = lookup.cache_key();
        if !options.force_refresh
            && let Some(served) = self.cached_by_key(&key, options.max_age).await
        {
            return Ok(served);
        }
        self.flight(lookup, options, move || fetch).await
    }

    /// Joins the key's flight or leads a new one, without reading the tiers first: for a
    /// caller that has just read them itself ([`TieredCache::cached`]) and found nothing, so
    /// that a miss reads them once. `make` builds the [`Fetch`] only if this caller leads.
    ///
    /// # Errors
    /// As [`TieredCache::get_or_fetch`].
    pub async fn flight<F: Fetch>(
        &self,
        lookup: Arc<dyn Lookup>,
        options: FetchOptions,
        make: impl FnOnce() -> F,
    ) -> Result<Served, FetchError> {
        let key = lookup.cache_key();
        // Join the key's flight while there is one; a caller leads at most once.
        let (rx, tx, guard, seat) = loop {
            match self.join_or_lead(key) {
                Joined::Waiting(rx, seat) => {
                    bump(&self.inner.counters.coalesced);
                    let result = wait(rx).await;
                    drop(seat);
                    match result {
                        // Another caller's refusal (its budget) is no answer for this one:
                        // ask again, as the leader of a new flight if none runs by then.
                        Err(e) if e.refusal() => {}
                        result => return served(result, false),
                    }
                }
                Joined::Leading(rx, tx, guard, seat) => break (rx, tx, guard, seat),
                Joined::Full => return Err(FetchError::busy()),
            }
        };
        bump(&self.inner.counters.misses);
        let fetch = make();
        let inner = Arc::clone(&self.inner);
        let callers = seat.0.clone();
        // The flight logs under the span of the request that leads it (its request id).
        tokio::spawn(
            FLIGHT_CALLERS.scope(
                callers,
                async move {
                    let result = inner.resolve(&key, &*lookup, &fetch, options).await;
                    // Tier 1 already holds a storable answer: the flight leaves the map first, so
                    // a caller who comes after the result went out reads the answer from memory
                    // or, for a result never stored (an error, billed: unknown), asks anew; only
                    // the callers already waiting share it.
                    drop(guard);
                    tx.send_replace(Some(result));
                }
                .in_current_span(),
            ),
        );
        let result = wait(rx).await;
        drop(seat);
        served(result, true)
    }

    /// Joins the key's flight, or registers a new one that this caller leads.
    fn join_or_lead(&self, key: CacheKey) -> Joined {
        let mut flights = self
            .inner
            .flights
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(flight) = flights.get(&key) {
            return Joined::Waiting(flight.rx.clone(), flight.callers.seat());
        }
        if flights.len() >= self.inner.max_flights {
            return Joined::Full;
        }
        let (tx, rx) = watch::channel(None);
        let id = self.inner.next_flight.fetch_add(1, Ordering::Relaxed);
        let callers = Callers::new();
        let seat = callers.seat();
        flights.insert(
            key,
            Flight {
                id,
                rx: rx.clone(),
                callers,
            },
        );
        let guard = FlightGuard {
            inner: Arc::clone(&self.inner),
            key,
            id,
        };
        Joined::Leading(rx, tx, guard, seat)
    }
}

impl Inner {
    /// A flight's whole life: re-check memory, coordinate with replicas, then reserve, send,
    /// judge, settle and retry what is free; store and share.
    pub(crate) async fn resolve(
        &self,
        key: &CacheKey,
        lookup: &dyn Lookup,
        fetch: &dyn Fetch,
        options: FetchOptions,
    ) -> FlightResult {
        // A flight that ended between this caller's read and its start has stored its answer
        // in memory before it left the map: an in-process check, no remote read.
        if !options.force_refresh
            && let Some(a) = self.memory.get(key).await
            && a.is_fresh(self.clock.now(), options.max_age)
        {
            bump(&self.counters.hits_memory);
            return Ok((a, Source::Tier(Tier::Memory)));
        }
        let started = self.clock.now();
        let token = match &self.remote {
            None => None,
            Some(remote) => match self.coordinate(remote, key, options, started).await {
                Coordination::Done(answer) => {
                    if answer.verdict.keep_for().is_some() {
                        self.memory.insert(*key, Arc::clone(&answer)).await;
                    }
                    return Ok((answer, Source::OtherReplica));
                }
                Coordination::Fetch(token) => token,
                Coordination::Refused => return Err(FetchError::degraded()),
            },
        };
        let names = self.remote.as_ref().map(|r| r.names(key));
        let renewal = match (&self.remote, &names, &token) {
            (Some(_), Some(n), Some(t)) => Some(self.spawn_renewal(n.lock.clone(), t.clone())),
            _ => None,
        };
        let called = self.call(lookup, fetch).await;
        if let Some(stop) = renewal {
            let _ = stop.send(());
        }
        let result = match called {
            Called::Refused(refusal) => Err(FetchError::refused(refusal)),
            Called::Answered(answer) => {
                self.store(key, &answer, names.as_ref()).await;
                // A stale answer stands in only for a failure the provider did not bill.
                let stale = if answer.verdict.keep_for().is_none()
                    && answer.verdict.billed().is_no()
                    && answer.verdict.retryable()
                    && options.allow_stale
                {
                    self.stale(key, names.as_ref()).await
                } else {
                    None
                };
                Ok(match stale {
                    Some(stale) => (stale, Source::Stale),
                    None => (answer, Source::Fetched),
                })
            }
            Called::NoAnswer(e, billed) => {
                bump(&self.counters.fetch_errors);
                let stale = if options.allow_stale && billed.is_no() {
                    self.stale(key, names.as_ref()).await
                } else {
                    None
                };
                stale
                    .map(|s| (s, Source::Stale))
                    .ok_or_else(|| FetchError::no_answer(Arc::new(e), billed))
            }
        };
        if let (Some(remote), Some(n), Some(t)) = (&self.remote, &names, &token) {
            remote.call(&self.counters, |s| s.unlock(&n.lock, t)).await;
        }
        result
    }

    /// The provider calls of one flight: reserve, send, judge once, settle; again only while
    /// the verdict says the failure was free and the retry policy allows.
    pub(crate) async fn call(&self, lookup: &dyn Lookup, fetch: &dyn Fetch) -> Called {
        let mut attempt = 1;
        loop {
            if let Err(refusal) = fetch.reserve().await {
                return Called::Refused(refusal);
            }
            bump(&self.counters.fetches);
            let sent_at = Instant::now();
            let sent = fetch.send().await;
            let latency = sent_at.elapsed();
            let verdict = match &sent {
                Ok(raw) => lookup.judge(raw),
                Err(e) => Verdict::of_transport(e),
            };
            let delay = self.retry.after(attempt, &verdict);
            fetch
                .settle(&ProviderCall {
                    lookup,
                    attempt,
                    verdict: &verdict,
                    raw: sent.as_ref().ok(),
                    latency,
                    resent: delay.is_some(),
                })
                .await;
            if let Some(delay) = delay {
                tracing::debug!(
                    provider = %lookup.provider(),
                    attempt,
                    code = verdict.code(),
                    "re-sending after a free, retryable failure"
                );
                tokio::time::sleep(delay).await;
                attempt += 1;
                continue;
            }
            return match sent {
                Ok(raw) => Called::Answered(Arc::new(Answer {
                    raw,
                    verdict,
                    fetched_at: self.clock.now(),
                })),
                Err(e) => Called::NoAnswer(e, verdict.billed()),
            };
        }
    }

    /// Stores a storable answer in both tiers, or shares a non-storable one briefly with
    /// replicas that wait on this fetch; then tells them.
    pub(crate) async fn store(&self, key: &CacheKey, answer: &Arc<Answer>, names: Option<&Names>) {
        let keep_for = answer.verdict.keep_for();
        if keep_for.is_some() {
            self.memory.insert(*key, Arc::clone(answer)).await;
        }
        let (Some(remote), Some(names)) = (&self.remote, names) else {
            return;
        };
        match keep_for {
            Some(ttl) => {
                let ttl = ttl + self.timing.stale_grace;
                remote
                    .write(&self.counters, &names.value, answer, ttl)
                    .await;
            }
            None => {
                let ttl = self.timing.error_share_ttl;
                remote
                    .write(&self.counters, &names.error, answer, ttl)
                    .await;
            }
        }
        remote
            .call(&self.counters, |s| s.publish(&names.channel))
            .await;
    }

    /// An expired answer still within the stale grace, from memory or the remote tier.
    pub(crate) async fn stale(&self, key: &CacheKey, names: Option<&Names>) -> Option<Arc<Answer>> {
        let now = self.clock.now();
        let grace = self.timing.stale_grace;
        let usable = |a: &Answer| {
            a.verdict
                .keep_for()
                .is_some_and(|ttl| a.age(now) < ttl + grace)
        };
        let found = match self.memory.get(key).await {
            Some(a) if usable(&a) => Some(a),
            _ => match (&self.remote, names) {
                (Some(r), Some(n)) => r
                    .read(&self.counters, &n.value)
                    .await
                    .filter(|a| usable(a))
                    .map(Arc::new),
                _ => None,
            },
        };
        if found.is_some() {
            bump(&self.counters.stale_served);
        }
        found
    }
}
