//! # proverka-alfa
//!
//! A typed client for Alfa-Bank's BaaS self-employed registry status (статус добавления
//! самозанятых в систему):
//! `GET /api/semp/v1/selfemployed/registries/add-selfemployed/{requestId}?limit=&offset=`.
//!
//! - The OAuth bearer token is a [`Secret`](proverka_core::Secret) passed with each call: a client can serve several
//!   bearer holders (the proxy passes each caller's own).
//! - `requestId` must be a UUID, as the page's examples are; `limit` is 1–1000, `offset` any.
//! - Every field of the answer is typed; [`ListStatus`] and [`AccountStatus`] carry every
//!   documented value and keep unknown ones (the page says values may change).
//! - HTTP 400/401/403/404/500 bodies (`error`, `error_description`) and bodiless errors are
//!   [`ProviderError`] variants.
//! - [`AlfaClient::fetch_all`] walks every page by `pagination.totalCount`, stops on an empty
//!   page and never loops forever on an inconsistent total.
//! - Answers hold passport data: the cache key is the requestId and the page, and the proxy
//!   serves a cached answer only to a bearer the bank already accepted for that requestId.
//!
//! ```
//! use proverka_alfa::RegistryQuery;
//! let q = RegistryQuery::new("4e817e78-5876-4608-a873-bcc141454045")?.page(1000, 0);
//! assert!(RegistryQuery::new("no/other/path").is_err());
//! # let _ = q;
//! # Ok::<(), proverka_alfa::ValidationError>(())
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

pub use adapter::AlfaAdapter;
pub use client::{
    AlfaClient, AlfaClientBuilder, DEFAULT_TIMEOUT, EXAMPLE_PAGE_SIZE, Environment,
    PRODUCTION_BASE_URL, SANDBOX_BASE_URL, SPEC,
};
pub use error::{Error, ProviderError, ValidationError};
pub use lookup::{IN_PROGRESS_TTL, PATH_PREFIX, TERMINAL_TTL};
pub use model::{
    Account, AccountStatus, Citizenship, ErrorRecord, IdCard, IdCardType, ListError, ListStatus,
    Pagination, Passport, PersonalInformation, Registry, SelfEmployed, parse,
};
pub use query::RegistryQuery;
