//! # proverka
//!
//! Typed, validated clients for the paid Russian check APIs, one module per provider, each
//! behind a feature of the same name:
//!
//! | feature | module | provider |
//! |---|---|---|
//! | `fssp` | [`fssp`] | api-cloud.ru FSSP: debts at the bailiff service (ФССП) |
//!
//! [`core`] holds what they share: [`core::Secret`], [`core::Inn`], [`core::Money`], dates,
//! the [`core::Lookup`] trait the cache and proxy work through, and the error types.
#![doc = include_str!("../../../README.md")]

pub use proverka_core as core;

/// api-cloud.ru FSSP: debts at the Federal Bailiff Service (feature `fssp`).
#[cfg(feature = "fssp")]
pub use proverka_fssp as fssp;
