//! What the store keeps, as values: instances, intents and their settlements, batch rows,
//! spend. Personal data never reaches any of them: a query is named by the first 16 hex
//! digits of its cache key's digest, a client by its stable id and configured name.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proverka_core::{Billed, Date, Money, Provider};

/// The id of one ledger row (an intent, then its settlement).
pub type IntentId = i64;

/// One process that writes to the store (a proxy replica, a command-line run), so that the
/// intents of a process that died can be told from those of a live one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// A random id, new for each process.
    pub id: String,
    /// The host it runs on.
    pub host: String,
    /// Its process id on that host.
    pub pid: u32,
    /// When the process started by the host's reckoning (Linux: `starttime` of
    /// `/proc/<pid>/stat`; 0 where unknown), so a reused pid is not taken for the same process.
    pub pid_start: u64,
    /// The program and its version (`proverka-proxy 0.1.0`).
    pub program: String,
    /// When it registered.
    pub started: SystemTime,
    /// Its last sign of life.
    pub heartbeat: SystemTime,
}

/// A batch row an intent is for: its settlement records the row's outcome in the same
/// transaction, so no crash can separate what was paid from what the row shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowRef {
    /// The batch's id.
    pub batch: String,
    /// The row's query key (its cache key's hex digest).
    pub key: String,
}

/// A provider call about to be sent: written (with its budget reservation) before the request
/// leaves. No secret and no personal data.
#[derive(Debug, Clone)]
pub struct Intent {
    /// The process sending it ([`Instance::id`]).
    pub instance: String,
    /// Now.
    pub at: SystemTime,
    /// The Moscow day it counts against.
    pub day: Date,
    /// The client's stable id (its budget and spend belong to it).
    pub tenant: String,
    /// The client's configured name, for reports.
    pub tenant_name: String,
    /// The provider called.
    pub provider: Provider,
    /// The query kind (`physical`, `address`, `status`, …).
    pub kind: String,
    /// The first 16 hex digits of the cache key's digest: the same query, the same value.
    pub key: String,
    /// The request id of the request that led the call.
    pub request_id: String,
    /// 1 for a flight's first call, 2, 3… for free retries.
    pub attempt: u32,
    /// The most the call may cost: reserved against the tenant's day.
    pub reserve: Money,
    /// The tenant's daily budget, when it has one: the reservation is refused past it.
    pub limit: Option<Money>,
    /// The batch row the call is for, if any.
    pub row: Option<RowRef>,
}

/// What [`Store::open_intent`](crate::Store::open_intent) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// Reserved and recorded: the call may be sent.
    Reserved(IntentId),
    /// The reservation would pass the tenant's budget: nothing was recorded, nothing may be
    /// sent.
    OverBudget {
        /// What the tenant has spent or reserved on that day.
        committed: Money,
    },
}

/// How a sent call ended, recorded on its intent.
#[derive(Debug, Clone)]
pub struct Settlement {
    /// Now.
    pub at: SystemTime,
    /// Whether the provider billed it.
    pub billed: Billed,
    /// What it counts for: the price billed, 0 when free, the reservation when unknown.
    pub price: Money,
    /// `ok`, the provider's error code, or `unreadable` (short ASCII, no free text).
    pub code: String,
    /// The HTTP status, when an answer came back.
    pub http_status: Option<u16>,
    /// From sending to the end of the answer.
    pub latency: Duration,
    /// Whether the call is sent again (a free, retryable failure).
    pub resent: bool,
    /// The outcome of the intent's batch row, when this call decided it (JSON written by the
    /// engine; the store keeps it as given).
    pub row_outcome: Option<String>,
}

/// How an intent is settled, as a batch row sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntentState {
    /// Not settled: its process is sending it, or died doing so and nobody noticed yet.
    Open,
    /// Settled by the call itself.
    Settled {
        /// `free`, `charged` or `unknown`.
        billed: String,
    },
    /// Settled `unknown` because its process died after sending (recovery).
    Abandoned,
}

/// A batch row's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowState {
    /// Its outcome (JSON written by the engine).
    Done(String),
    /// Sent (or about to be) and not decided: straight to a provider through `intent`, or
    /// through a proxy under `request_id`.
    Sending {
        /// The provider call's intent, straight to a provider.
        intent: Option<(IntentId, IntentState)>,
        /// The request id it was sent under through a proxy.
        request_id: Option<String>,
    },
}

/// One row of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRow {
    /// The row's query key.
    pub key: String,
    /// Where it stands.
    pub state: RowState,
}

/// What [`Store::claim_batch`](crate::Store::claim_batch) found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This instance holds the batch now.
    Claimed,
    /// A live instance holds it.
    Held(Instance),
}

/// What recovery settled: the intents of processes known to be gone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Abandoned {
    /// Intents settled `unknown`.
    pub intents: u64,
    /// Their reservations, now counted as possibly billed.
    pub amount: Money,
}

/// Which spend to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendQuery {
    /// The first Moscow day.
    pub from: Date,
    /// The last Moscow day (inclusive).
    pub to: Date,
    /// Only this tenant's (by stable id).
    pub tenant: Option<String>,
}

/// Provider calls of one tenant to one provider, of one kind, on one Moscow day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendRow {
    /// The Moscow day.
    pub day: Date,
    /// The tenant's stable id.
    pub tenant: String,
    /// Its latest configured name.
    pub tenant_name: String,
    /// The provider (`fssp`, …).
    pub provider: String,
    /// The query kind.
    pub kind: String,
    /// Calls made.
    pub calls: i64,
    /// Calls billed.
    pub charged_calls: i64,
    /// Calls that may have been billed: no readable answer, or their process died.
    pub unknown_calls: i64,
    /// Calls still open (being sent now).
    pub open_calls: i64,
    /// What the billed calls cost.
    pub charged: Money,
    /// What the possibly billed calls may have cost (their reservations).
    pub unknown: Money,
    /// What the calls still open have reserved.
    pub open: Money,
}

/// Answers of one provider served without a call (cache hits, joined flights) on one Moscow
/// day, and what the provider would have charged for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saving {
    /// The Moscow day.
    pub day: Date,
    /// The provider (`fssp`, …).
    pub provider: String,
    /// Paid answers served without a call.
    pub answers: i64,
    /// What they would have cost.
    pub saved: Money,
}

pub(crate) fn ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

pub(crate) fn from_ms(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}
