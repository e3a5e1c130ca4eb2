//! The tax service's free check offers no command of its own: it answers the paid NPD
//! check's queries when that check's source says so (`--npd-source free` or
//! `free-then-paid`, `[providers.npd] source`), so its checks are none.

use proverka_core::checks::CheckSpec;

/// None: see the module.
pub(crate) fn checks() -> Vec<CheckSpec> {
    Vec::new()
}
