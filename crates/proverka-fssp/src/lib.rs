//! # proverka-fssp
//!
//! A typed, validated client for the api-cloud.ru FSSP API (ФССП: debts at the Federal
//! Bailiff Service), all eight query types of the provider's page.
//!
//! - Queries ([`Physical`], [`Legal`], [`Ip`], [`Id`], [`ByInn`], [`Wanted`], [`Alim`],
//!   [`RegionsList`], or [`FsspQuery`] from a provider-style query string) are validated when
//!   built, with the provider's own error codes ([`ValidationError`]): a query the provider
//!   would reject costs nothing.
//! - Answers ([`DebtorSearch`], [`WantedSearch`], [`Regions`]) are parsed leniently: counts as
//!   numbers or strings, masked dates, money as `" 18422.50 руб."`, unknown fields kept.
//! - Every documented error code is an [`ErrorCode`] with [`ErrorCode::retryable`] and
//!   [`ErrorCode::charged`]; error bodies arrive with HTTP 200 and are recognised.
//! - Every query implements [`proverka_core::Lookup`], so the proverka cache and proxy can
//!   store its answers: found and "not found" answers are kept, errors never.
//!
//! ```
//! use proverka_fssp::{FsspClient, Physical, Region};
//! let query = Physical::new("Иванов", "Иван", "31.03.1980", Region::Code(77))?;
//! let client = FsspClient::builder()
//!     .token("0123456789abcdef0123456789abcdef")
//!     .base_url("http://127.0.0.1:8090") // the sandbox; the default is https://api-cloud.ru
//!     .build()?;
//! # let _ = (query, client);
//! # Ok::<(), Box<dyn std::error::Error>>(())
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

pub use adapter::FsspAdapter;
pub use client::{
    DEFAULT_BASE_URL, DEFAULT_TIMEOUT, FsspClient, FsspClientBuilder, SPEC, check_token,
};
pub use error::{Error, ErrorCode, ProviderError, ValidationError};
pub use lookup::{ACCOUNT_PATH, ANSWER_TTL, FsspAnswer, MAX_PRICE, PATH, REGIONS_TTL};
pub use model::{
    Completeness, DebtItem, DebtRecord, DebtorDob, DebtorSearch, DocDetail, Inquiry, ProcessDate,
    RegionEntry, Regions, WantedRecord, WantedSearch,
};
pub use query::{
    Alim, ByInn, DocumentType, FsspQuery, Id, Ip, Legal, Person, Physical, QueryType, Region,
    RegionName, RegionsList, Wanted,
};
