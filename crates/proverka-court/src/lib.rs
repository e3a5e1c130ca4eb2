//! # proverka-court
//!
//! A typed, validated client for the territorial jurisdiction API (территориальная
//! подсудность): the district/city court (`court_fs`) and the magistrate's precinct
//! (`court_ms`) for an address or a point.
//!
//! - [`CourtQuery`] holds an [`Address`] or [`Coords`], never both (the provider ignores the
//!   address when coordinates are sent); addresses are checked for flat/office parts the page
//!   says to leave out ([`Address::unit_parts`], [`Address::building_only`]).
//! - Coordinates are range-checked and sent longitude first, as the page's sample;
//!   [`CourtClient::find_trying_swapped`] retries once in the other order, as the page advises.
//! - Business errors (`data.status = 0`) are [`ProviderError`] variants; `data.last` (queries
//!   left today) is on every answer ([`Jurisdiction::queries_left`], [`queries_left`]).
//! - The host is an internationalised domain name; requests use its punycode form.
//!
//! ```
//! use proverka_court::{Address, Coords, CourtQuery};
//! let a = Address::new("Иркутск, ул. Ленина, д. 25, кв. 110")?;
//! assert_eq!(a.unit_parts(), ["кв. 110"]);
//! let q = CourtQuery::coords(Coords::new(55.796289, 49.108795)?);
//! assert_eq!(q.coords_param().as_deref(), Some("49.108795 55.796289"));
//! # Ok::<(), proverka_court::ValidationError>(())
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

pub use adapter::CourtAdapter;
pub use client::{CourtClient, CourtClientBuilder, DEFAULT_BASE_URL, DEFAULT_TIMEOUT, SPEC};
pub use error::{Error, ProviderError, ValidationError};
pub use lookup::{FOUND_TTL, NOT_FOUND_TTL, PATH};
pub use model::{Court, Jurisdiction, parse, queries_left};
pub use query::{Address, CoordOrder, Coords, CourtQuery};
