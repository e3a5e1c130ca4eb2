//! # proverka-store
//!
//! The store of record for everything proverka's money rules depend on: budgets, the ledger of
//! provider calls, and batch state. Money state lives here and nowhere else (not in a
//! process's memory, not in Redis, not in a file beside a batch), so it survives restarts,
//! crashes, renamed clients and second runs.
//!
//! One trait, [`Store`], and two real backends behind it ([`SqlStore`]):
//!
//! - **SQLite** (embedded, the default): one file in WAL mode, every transaction committed
//!   (`synchronous = FULL`) before the provider is called;
//! - **PostgreSQL** (fleets): one database shared by every proxy replica and every command-line
//!   run pointed at it.
//!
//! What a provider call leaves:
//!
//! 1. [`Store::open_intent`] before the request leaves: the budget reservation (one
//!    statement that cannot pass the limit, whatever the concurrency and however many
//!    replicas) and the ledger row, in one transaction;
//! 2. [`Store::settle`] after it: billed yes/no/unknown, the price, the code; the reservation
//!    moves to the price; a batch row's outcome in the same transaction.
//!
//! An intent that is never settled belongs to a process that died after sending: once that
//! process is known to be gone ([`Store::declare_dead`]), its intents are settled `unknown`
//! at their reserved price, counted and shown, never sent again on their own.
//!
//! The store reads no clock: every time it records is given by the caller's (injectable) one.
//!
//! ```no_run
//! # async fn run() -> Result<(), proverka_store::StoreError> {
//! use proverka_store::Store as _;
//! let store = proverka_store::SqlStore::open("/var/lib/proverka/store.sqlite")?;
//! store.ping().await?;
//! # Ok(()) }
//! ```

mod error;
mod model;
mod schema;
mod sql;
mod watch;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

use proverka_core::{Date, Money};

pub use error::StoreError;
pub use model::{
    Abandoned, BatchRow, Claim, Instance, Intent, IntentId, IntentState, Opened, RowRef, RowState,
    Saving, Settlement, SpendQuery, SpendRow,
};
pub use schema::SCHEMA_VERSION;
pub use sql::SqlStore;
pub use watch::{
    LedgerRecord, RunStart, WatchAnswer, WatchChange, WatchDelivery, WatchList, WatchRecord,
    WatchRun, WatchSubject,
};

/// A boxed future, so that [`Store`] is object-safe (`Arc<dyn Store>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The store of record. Every method is one transaction; every time is the caller's.
///
/// Implementations must pass the conformance suite (`tests/common` of this crate), which runs
/// against SQLite and a real PostgreSQL server.
pub trait Store: Send + Sync + fmt::Debug {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Where it is: a path, or a URL without its password.
    fn location(&self) -> String;

    /// Whether it answers now.
    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Closes its connections, for a process that is done with the store (after its engine
    /// shut down). SQLite then folds its write-ahead log into the file and removes the `-wal`
    /// and `-shm` files beside it, so the file alone holds everything: a user who copies a
    /// batch's output and its store elsewhere copies all of its state. An operation after
    /// this fails.
    ///
    /// # Errors
    /// SQLite could not fold the log in (the data stays safe in the `-wal` file beside it).
    fn close(&self) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Records a process that will write intents.
    fn register(&self, instance: &Instance) -> BoxFuture<'_, Result<(), StoreError>>;

    /// A sign of life of a registered process (it also undoes a declaration of death made
    /// while it could not reach the store: its intents stay settled as they were).
    fn heartbeat(&self, instance: &str, at: SystemTime) -> BoxFuture<'_, Result<(), StoreError>>;

    /// The processes not known to be gone.
    fn instances(&self) -> BoxFuture<'_, Result<Vec<Instance>, StoreError>>;

    /// Declares processes gone (they died, or `instance` is leaving cleanly): their open
    /// intents are settled `unknown` at their reserved price, in one transaction.
    fn declare_dead<'a>(
        &'a self,
        instances: &'a [String],
        at: SystemTime,
    ) -> BoxFuture<'a, Result<Abandoned, StoreError>>;

    /// Reserves `intent.reserve` against the tenant's day (refused past `intent.limit`) and
    /// records the intent, in one transaction; with a batch row, the row is marked as
    /// being sent through this intent.
    fn open_intent<'a>(&'a self, intent: &'a Intent) -> BoxFuture<'a, Result<Opened, StoreError>>;

    /// Settles an intent: its reservation becomes `settlement.price`. `false` when it was
    /// settled already (recovery declared its process dead meanwhile): nothing changes then.
    fn settle<'a>(
        &'a self,
        intent: IntentId,
        settlement: &'a Settlement,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// What a tenant has spent or reserved on a Moscow day.
    fn committed<'a>(
        &'a self,
        tenant: &'a str,
        day: Date,
    ) -> BoxFuture<'a, Result<Money, StoreError>>;

    /// Spend per day, tenant, provider and kind.
    fn spend<'a>(
        &'a self,
        query: &'a SpendQuery,
    ) -> BoxFuture<'a, Result<Vec<SpendRow>, StoreError>>;

    /// Adds answers served without a call to their days' savings, in one transaction (the
    /// engine writes what it counted every second or so: statistics, not money state).
    fn add_savings<'a>(&'a self, savings: &'a [Saving]) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Savings per day and provider from `from` to `to` (inclusive), oldest first.
    fn savings(&self, from: Date, to: Date) -> BoxFuture<'_, Result<Vec<Saving>, StoreError>>;

    /// The ledger's settlements of calls made under one request id (`None`: still open),
    /// only a tenant's own when `tenant` is given.
    fn calls_of_request<'a>(
        &'a self,
        request_id: &'a str,
        tenant: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<Option<String>>, StoreError>>;

    /// Takes a batch for `holder`: refused while another live process holds it (recovery
    /// first declares dead holders dead).
    fn claim_batch<'a>(
        &'a self,
        batch: &'a str,
        label: &'a str,
        holder: &'a str,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<Claim, StoreError>>;

    /// Lets a batch go (its rows stay).
    fn release_batch<'a>(
        &'a self,
        batch: &'a str,
        holder: &'a str,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Every row a batch has recorded, with the state of each one's intent.
    fn batch_rows<'a>(&'a self, batch: &'a str)
    -> BoxFuture<'a, Result<Vec<BatchRow>, StoreError>>;

    /// Marks a row as sent through a proxy under `request_id` (before the request leaves).
    fn row_sending<'a>(
        &'a self,
        row: &'a RowRef,
        request_id: &'a str,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Records a row's outcome (JSON written by the engine). With `only_new`, a row the
    /// batch already has is left as it is (importing an older journal); returns whether the
    /// row was written.
    fn row_done<'a>(
        &'a self,
        row: &'a RowRef,
        outcome: &'a str,
        only_new: bool,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Makes a watch list, or changes its settings (its subjects and history stay).
    fn watch_list_put<'a>(&'a self, list: &'a WatchList) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Every watch list, by name.
    fn watch_lists(&self) -> BoxFuture<'_, Result<Vec<WatchList>, StoreError>>;

    /// Removes a watch list and its subjects; `false` when there was none. Its history
    /// (answers, changes, runs) stays: it is evidence.
    fn watch_list_remove<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Adds subjects to a list, in one transaction; one it has already stays as it is. How
    /// many were new.
    fn watch_subjects_add<'a>(
        &'a self,
        list: &'a str,
        subjects: &'a [WatchSubject],
    ) -> BoxFuture<'a, Result<u64, StoreError>>;

    /// Removes subjects from a list by id; how many it had.
    fn watch_subjects_remove<'a>(
        &'a self,
        list: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<u64, StoreError>>;

    /// A list's subjects, in the order they were added.
    fn watch_subjects<'a>(
        &'a self,
        list: &'a str,
    ) -> BoxFuture<'a, Result<Vec<WatchSubject>, StoreError>>;

    /// Starts a run of a list at `at`, or takes up its run that did not finish (one run of a
    /// list at a time: the caller holds the list's batch). The first run is the baseline.
    fn watch_run_start<'a>(
        &'a self,
        list: &'a str,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<RunStart, StoreError>>;

    /// Marks a run finished.
    fn watch_run_finish(&self, run: i64, at: SystemTime) -> BoxFuture<'_, Result<(), StoreError>>;

    /// A list's runs, oldest first.
    fn watch_runs<'a>(&'a self, list: &'a str) -> BoxFuture<'a, Result<Vec<WatchRun>, StoreError>>;

    /// Records subjects' answers in a run, the changes each shows and when each is next due,
    /// in one transaction (one commit for many answers: a run writes what came in while it
    /// wrote the last); for each, `false` (nothing written of it) when the run has recorded
    /// that subject already.
    fn watch_record<'a>(
        &'a self,
        list: &'a str,
        records: &'a [WatchRecord],
    ) -> BoxFuture<'a, Result<Vec<bool>, StoreError>>;

    /// A list's answers (one subject's, when given), oldest first.
    fn watch_answers<'a>(
        &'a self,
        list: &'a str,
        subject: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<WatchAnswer>, StoreError>>;

    /// Each subject's latest answer that kept the provider's bytes: what its next answer is
    /// compared with.
    fn watch_latest<'a>(
        &'a self,
        list: &'a str,
    ) -> BoxFuture<'a, Result<Vec<WatchAnswer>, StoreError>>;

    /// A list's changes found at `since` or later, oldest first.
    fn watch_changes<'a>(
        &'a self,
        list: &'a str,
        since: SystemTime,
    ) -> BoxFuture<'a, Result<Vec<WatchChange>, StoreError>>;

    /// Keeps a run's notification until it is delivered (one per run: a second is ignored).
    fn watch_delivery_put<'a>(
        &'a self,
        delivery: &'a WatchDelivery,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// A list's notifications not delivered yet, oldest run first.
    fn watch_deliveries_pending<'a>(
        &'a self,
        list: &'a str,
    ) -> BoxFuture<'a, Result<Vec<WatchDelivery>, StoreError>>;

    /// Counts an attempt to deliver a run's notification; `delivered` when it was.
    fn watch_delivery_attempted(
        &self,
        run: i64,
        delivered: Option<SystemTime>,
    ) -> BoxFuture<'_, Result<(), StoreError>>;

    /// The ledger's rows of the calls made under one request id (evidence of what a watch
    /// list's answer cost), oldest first.
    fn ledger_of_request<'a>(
        &'a self,
        request_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<LedgerRecord>, StoreError>>;

    /// How long the last `calls` settled calls to `provider` took on average, from sending to
    /// the end of the answer (`None` before any): what a dry run's estimate of time rests on.
    fn recent_latency<'a>(
        &'a self,
        provider: &'a str,
        calls: i64,
    ) -> BoxFuture<'a, Result<Option<std::time::Duration>, StoreError>>;
}
