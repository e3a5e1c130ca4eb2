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
}
