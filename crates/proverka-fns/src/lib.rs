//! # proverka-fns
//!
//! A typed, validated client for the Federal Tax Service's own, free check of the
//! self-employed status (ФНС, «Проверка статуса налогоплательщика налога на профессиональный
//! доход»): `POST https://statusnpd.nalog.ru/api/v1/tracker/taxpayer_status` with
//! `{"inn": "…", "requestDate": "YYYY-MM-DD"}`.
//!
//! - [`FnsQuery`] takes a 12-digit INN of an individual and a date from 2019-01-01 to today
//!   (Moscow); a missing date is resolved to today before the query is sent or keyed.
//! - The service is free: nothing it answers is billed, so its failures may be asked again.
//!   Its 422 codes are [`ProviderError`] variants; `limited` (too many requests from one IP
//!   address) and `unavailable` say "try later", and are retryable.
//! - The service allows few requests per IP address (public clients space them about 30 s
//!   apart), and asks clients to allow at least 60 s for an answer: [`DEFAULT_TIMEOUT`] is
//!   65 s. The proxy paces its calls across replicas (`per_minute`).
//!
//! ```
//! use proverka_core::Date;
//! use proverka_fns::{FnsQuery, StatusOnDay};
//! let q = FnsQuery::parse("540304378234", Some("2024-02-01"))?;
//! assert_eq!(q.date(), Date::from_ymd(2024, 2, 1).unwrap());
//! assert!(FnsQuery::parse("540304378234", Some("2018-12-31")).is_err()); // before the regime
//! # Ok::<(), proverka_fns::ValidationError>(())
//! ```

mod adapter;
mod checks;
mod client;
mod error;
mod lookup;
mod model;
mod query;
#[cfg(feature = "sandbox")]
pub mod sandbox;

pub use adapter::FnsAdapter;
pub use client::{
    DEFAULT_BASE_URL, DEFAULT_CALLS_PER_MINUTE, DEFAULT_TIMEOUT, FnsClient, FnsClientBuilder, SPEC,
};
pub use error::{Error, ProviderError, ValidationError};
pub use lookup::PATH;
pub use model::{TaxpayerStatus, parse};
pub use proverka_core::status_day::{PAST_DATE_TTL, StatusOnDay, keep_for};
pub use query::{FIRST_DATE, FnsQuery};
