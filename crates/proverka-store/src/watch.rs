//! What the store keeps of watch lists (`proverka watch`): the lists, their subjects, each
//! run, every answer a subject got and every change between two of them.
//!
//! Personal data (a subject's parameters, an answer's bytes, a change's values, a webhook URL
//! that may carry a token) reaches the store only sealed by the caller (`proverka_core::seal`,
//! the cache's keys, bound to the list and the subject), as base64 text; a subject is named by
//! an HMAC of its parameters, never by them. The store reads no clock.

use std::time::SystemTime;

use proverka_core::Money;

/// A watch list: which check its subjects get, and how often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchList {
    /// The list's name, as the user gave it (`contractors`).
    pub name: String,
    /// The check its subjects get (`npd`, `fssp`, …).
    pub check: String,
    /// How often a subject is asked again, in seconds.
    pub every_s: i64,
    /// The schedule as the user wrote it (`1d`, or a cron expression).
    pub schedule: String,
    /// Where a run that found changes posts them: sealed, as it may carry a token.
    pub webhook_sealed: Option<String>,
    /// The list's other settings (JSON written by the command line: region, column mapping).
    pub options: String,
    /// When it was made.
    pub created: SystemTime,
}

/// One subject of a list: its parameters, sealed, and when it is next due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchSubject {
    /// An HMAC of the list and the subject's parameters (no personal data).
    pub id: String,
    /// The parameters, sealed and bound to the list and the id.
    pub sealed: String,
    /// When it was added.
    pub added: SystemTime,
    /// When it is next asked (at once when added).
    pub due: SystemTime,
}

/// One run of a list: subjects due when it started are asked; an interrupted run is taken up
/// again by the next `watch run`, which pays nothing twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchRun {
    /// Its number (increasing across the store).
    pub id: i64,
    /// The list.
    pub list: String,
    /// When it started.
    pub started: SystemTime,
    /// When it finished; `None` while it runs or after it was interrupted.
    pub finished: Option<SystemTime>,
    /// The list's first run: its answers are the baseline (no changes, no notification).
    pub baseline: bool,
}

/// What [`Store::watch_run_start`](crate::Store::watch_run_start) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunStart {
    /// A new run.
    New(WatchRun),
    /// The list's interrupted run, taken up again.
    Resumed(WatchRun),
}

impl RunStart {
    /// The run, new or resumed.
    pub fn run(&self) -> &WatchRun {
        match self {
            Self::New(r) | Self::Resumed(r) => r,
        }
    }
}

/// One answer a subject got in a run (its history), with what it cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchAnswer {
    /// The subject ([`WatchSubject::id`]).
    pub subject: String,
    /// The run ([`WatchRun::id`]).
    pub run: i64,
    /// When it came.
    pub at: SystemTime,
    /// How it ended (`ok`, `error`, `billed_unknown`, …).
    pub status: String,
    /// `provider`, `cache` or a free source's name.
    pub source: String,
    /// `free`, `charged` or `unknown`.
    pub billed: String,
    /// What it cost, when known.
    pub price: Option<Money>,
    /// The request id it was asked under (the ledger's `request_id`).
    pub request_id: String,
    /// SHA-256 of the provider's bytes, hex, when they were kept.
    pub body_sha256: Option<String>,
    /// The provider's answer (status, content type, bytes), sealed; `None` when a run that
    /// stopped recorded only the outcome.
    pub sealed: Option<String>,
}

/// What a run records of one subject: its answer, the changes it shows, when it is next due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchRecord {
    /// The answer.
    pub answer: WatchAnswer,
    /// The changes since the subject's previous answer.
    pub changes: Vec<WatchChange>,
    /// When the subject is next due.
    pub next_due: SystemTime,
}

/// One change a run found in a subject's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchChange {
    /// The subject.
    pub subject: String,
    /// The run that found it.
    pub run: i64,
    /// When.
    pub at: SystemTime,
    /// What changed, in the provider's terms (`self_employed`, `proceeding`, …).
    pub what: String,
    /// The change (item, before, after), sealed: its values are personal data.
    pub sealed: String,
}

/// A run's notification: kept until delivered, re-sent by the next run when it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchDelivery {
    /// The run it tells of.
    pub run: i64,
    /// The list.
    pub list: String,
    /// The `Idempotency-Key` (the same for the same changes).
    pub key: String,
    /// The JSON body, sealed.
    pub sealed: String,
    /// Attempts so far.
    pub attempts: i64,
    /// When it was delivered; `None` while pending.
    pub delivered: Option<SystemTime>,
}

/// One ledger row, as evidence shows it: a provider call and how it was settled (no personal
/// data: the query is named by its key's digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRecord {
    /// The row's id.
    pub id: i64,
    /// When the intent was written (before the call left).
    pub created: SystemTime,
    /// The client's configured name.
    pub tenant_name: String,
    /// The provider called.
    pub provider: String,
    /// The query kind.
    pub kind: String,
    /// The first 16 hex digits of the query's cache key digest.
    pub query_key: String,
    /// The request id.
    pub request_id: String,
    /// 1 for a flight's first call, then free retries.
    pub attempt: i64,
    /// What was reserved.
    pub reserved: Money,
    /// When it was settled; `None` while open.
    pub settled: Option<SystemTime>,
    /// `free`, `charged` or `unknown`.
    pub billed: Option<String>,
    /// What it counts for.
    pub price: Option<Money>,
    /// `ok`, the provider's code, `unreadable`, `abandoned`.
    pub code: Option<String>,
    /// The HTTP status, when an answer came.
    pub http_status: Option<i64>,
    /// `call` or `recovery`.
    pub settled_by: Option<String>,
}
