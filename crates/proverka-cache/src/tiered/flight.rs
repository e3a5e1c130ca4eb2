//! Flights: one per key at a time; the caller that leads one starts it, the others wait on
//! it. The types a flight is made of and how its result reaches each caller; the miss it
//! runs is the cache's (`Inner::resolve`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use proverka_core::{Billed, CacheKey, TransportError};
use tokio::sync::watch;

use crate::fetch::Refusal;
use crate::{Answer, CacheStatus, FetchError, Served, Tier};

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
    pub(crate) fn new() -> Self {
        Self(Arc::new(watch::Sender::new(0)))
    }

    /// One more caller waits, until the seat is dropped (its answer came, or it left).
    pub(crate) fn seat(&self) -> Seat {
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

impl Seat {
    /// The flight's callers this seat is among.
    pub(crate) fn callers(&self) -> Callers {
        self.0.clone()
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.0.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

tokio::task_local! {
    /// The callers of the flight whose task this is: read where the flight may wait for
    /// long on nobody's behalf (a free source's queue, [`TieredCache::ask_free_source`](crate::TieredCache::ask_free_source)).
    pub(crate) static FLIGHT_CALLERS: Callers;
}

/// The flights running now, one per key.
pub(crate) type FlightMap = Mutex<HashMap<CacheKey, Flight>>;

/// Removes a flight from the map when its task ends, however it ends (even by panic).
pub(crate) struct FlightGuard {
    pub(crate) flights: Arc<FlightMap>,
    pub(crate) key: CacheKey,
    pub(crate) id: u64,
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        let mut flights = self
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
