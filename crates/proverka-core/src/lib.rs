//! # proverka-core
//!
//! What every proverka provider client shares, and the one trait the cache and the proxy work
//! through:
//!
//! - values: [`Secret`] (never printed), [`Inn`] (checksum-validated ИНН), [`Date`] and
//!   [`LenientDate`], [`Money`] (exact kopecks);
//! - [`Adapter`]: what a provider crate tells the proxy about itself (routes, defaults,
//!   credential, validation, refusals), so the proxy is built from a registry;
//! - the query abstraction: [`Lookup`], [`CacheKey`], [`Cost`], [`UpstreamRequest`], and the
//!   answer side, [`RawAnswer`], [`Verdict`] (judged once) and [`Billed`] (yes, no or
//!   unknown), and [`json_body`], the byte-level leniency every adapter reads bodies through;
//! - errors that say where a failure came from, whether the provider charged and whether a
//!   retry helps: [`Error`], [`Failure`], [`TransportError`], [`MalformedAnswer`];
//! - with the default `http` feature: [`HttpSettings`] and [`HttpClient`] (HTTPS enforced,
//!   redirects refused, URLs redacted),
//!   and [`ClientBuilder`], the builder of every adapter's client;
//! - with the `sandbox` feature, [`sandbox`]: what a provider's simulator is, so each adapter
//!   crate simulates its own provider and `proverka-sandbox` serves them all;
//! - [`lenient`] serde helpers for provider JSON that is not always what its page says.
//!
//! ```
//! use proverka_core::{Inn, Money, Date};
//! let inn: Inn = "7707083893".parse()?;
//! assert_eq!(Money::parse(" 18422.50 руб.")?.kopecks(), 1_842_250);
//! assert_eq!(Date::parse_dmy("31.03.1990")?.to_iso(), "1990-03-31");
//! # let _ = inn;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod adapter;
mod answer;
#[cfg(feature = "http")]
mod builder;
mod change;
pub mod checks;
#[cfg(feature = "http")]
mod client_macro;
mod clock;
mod code_table;
mod date;
mod env_files;
mod error;
mod free;
#[cfg(feature = "http")]
mod http;
mod inn;
mod key;
pub mod lenient;
mod lookup;
mod money;
mod provider;
mod remedy;
mod retry;
#[cfg(feature = "sandbox")]
pub mod sandbox;
#[cfg(feature = "seal")]
pub mod seal;
mod secret;
pub mod status_day;

pub use adapter::{
    AccountRoute, Adapter, CredentialStyle, PagePrice, PageReply, ParamFormat, Params, Parsed,
    ProviderRefusal, ProviderReply, ProviderSpec, QueryInput, RenderError, ResultSchema, RoutePath,
    Routes, TypedOperation, TypedParam, render_model, schema_of,
};
pub use answer::{Billed, RawAnswer, Reported, Verdict, bodies_read, json_body};
#[cfg(feature = "http")]
pub use builder::{Channel, ClientBuilder, Connect};
pub use change::{Change, compare, whole_answer};
pub use clock::{Clock, ManualClock, SystemClock};
pub use code_table::CodeTable;
pub use date::{Date, DateError, LenientDate};
pub use env_files::{EnvFileError, with_files as env_with_files};
pub use error::{
    Charged, ConfigError, Error, ErrorSource, Failure, MalformedAnswer, NotAnAnswer, RefusedBy,
    TransportError, TransportErrorKind,
};
pub use free::{FreeFirst, FreeSource};
#[cfg(feature = "http")]
pub use http::{
    Auth, DEFAULT_MAX_BODY_BYTES, DEFAULT_USER_AGENT, HttpClient, HttpSettings, is_loopback,
};
pub use inn::{Inn, InnError, InnKind};
pub use key::{CacheKey, CacheKeyBuilder, normalize_text};
pub use lookup::{Lookup, Rekeyed, UpstreamRequest};
pub use money::{Money, MoneyError};
pub use provider::{Cost, Provider};
pub use remedy::{CodeMeaning, Remedy};
pub use retry::RetryPolicy;
pub use secret::Secret;

/// Re-exported so adapters and users name one version of these.
pub use bytes::Bytes;
