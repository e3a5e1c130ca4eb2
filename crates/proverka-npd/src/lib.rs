//! # proverka-npd
//!
//! A typed, validated client for the api-assist.com NPD check (налог на профессиональный
//! доход): is an individual's INN registered as a self-employed tax payer on a date?
//!
//! - [`NpdQuery`] takes a 12-digit INN with valid check digits and an optional date; a missing
//!   date is resolved to today in Moscow *before* the query is sent or keyed, so yesterday's
//!   answer is never served as today's. Future dates are refused locally.
//! - Only `success = 1` is charged and cached. `success = 0`, or a body with neither `success`
//!   nor `error`, is [`ProviderError::SourceUnavailable`]: retry, never "not self-employed".
//! - 403 codes 40301–40305 and 400 code 40000 are [`ProviderError`] variants.
//!
//! ```
//! use proverka_core::Date;
//! use proverka_npd::{NpdQuery, StatusOnDay};
//! let q = NpdQuery::parse("540304378234", Some("2022-01-01"))?;
//! assert_eq!(q.date(), Date::from_ymd(2022, 1, 1).unwrap());
//! assert!(NpdQuery::parse("7707083893", None).is_err()); // a legal entity's INN
//! # Ok::<(), proverka_npd::ValidationError>(())
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

pub use adapter::NpdAdapter;
pub use client::{DEFAULT_BASE_URL, DEFAULT_TIMEOUT, NpdClient, NpdClientBuilder, SPEC};
pub use error::{Error, ProviderError, ValidationError};
pub use lookup::PATH;
pub use model::{NpdStatus, parse};
pub use proverka_core::status_day::{PAST_DATE_TTL, StatusOnDay, keep_for};
pub use query::NpdQuery;
