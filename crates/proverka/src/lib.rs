//! # proverka
//!
//! Typed, validated clients for the paid Russian check APIs, one module per provider, each
//! behind a feature of the same name:
//!
//! | feature | module | provider |
//! |---|---|---|
//! | `fssp` | [`fssp`] | api-cloud.ru FSSP: debts at the bailiff service (ФССП) |
//! | `court` | [`court`] | territorial court jurisdiction (территориальная подсудность) |
//! | `npd` | [`npd`] | api-assist.com: self-employed tax payer status (НПД) |
//! | `alfa` | [`alfa`] | Alfa-Bank BaaS: self-employed registry status |
//! | `fns` | [`fns`] | the tax service's free NPD status check (ФНС) |
//!
//! [`core`] holds what they share: [`core::Secret`], [`core::Inn`], [`core::Money`], dates,
//! the [`core::Lookup`] trait the cache and proxy work through, and the error types.
#![doc = include_str!("../README.md")]

pub use proverka_core as core;

/// api-cloud.ru FSSP: debts at the Federal Bailiff Service (feature `fssp`).
#[cfg(feature = "fssp")]
pub use proverka_fssp as fssp;

/// Territorial court jurisdiction by address or coordinates (feature `court`).
#[cfg(feature = "court")]
pub use proverka_court as court;

/// api-assist.com NPD: self-employed tax payer status (feature `npd`).
#[cfg(feature = "npd")]
pub use proverka_npd as npd;

/// Alfa-Bank BaaS: self-employed registry status (feature `alfa`).
#[cfg(feature = "alfa")]
pub use proverka_alfa as alfa;

/// The tax service's free NPD status check (feature `fns`).
#[cfg(feature = "fns")]
pub use proverka_fns as fns;

mod registry;
mod sources;

pub use registry::{AlreadyRegistered, adapters, register};
#[cfg(all(feature = "npd", feature = "fns"))]
pub use sources::NpdFromFns;
pub use sources::free_sources;
