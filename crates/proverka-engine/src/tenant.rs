//! [`Tenant`]: who pays for a call. A budget and its spend belong to a stable id, not to a
//! name: renaming a client keeps its day.

use std::sync::Arc;

use proverka_core::{Money, Secret};
use sha2::{Digest, Sha256};

/// A client of the engine: a proxy's `[[clients]]` entry, a command-line run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Its stable id: budgets, spend and ledger rows belong to it.
    pub id: Arc<str>,
    /// Its configured name, for logs, metrics and reports.
    pub name: Arc<str>,
    /// What it may spend on paid answers per Moscow day; `None`: unlimited.
    pub budget: Option<Money>,
    /// Whether its `Cache-Control` may cause a paid refetch.
    pub may_refresh: bool,
}

impl Tenant {
    /// The one tenant of a proxy without client keys.
    pub fn anonymous() -> Self {
        static ANONYMOUS: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
        let name = Arc::clone(ANONYMOUS.get_or_init(|| Arc::from("anonymous")));
        Self {
            id: Arc::clone(&name),
            name,
            budget: None,
            may_refresh: true,
        }
    }

    /// A tenant of that id and name, without a budget.
    pub fn named(id: impl Into<Arc<str>>, name: impl Into<Arc<str>>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            budget: None,
            may_refresh: true,
        }
    }

    /// The id of a client configured without one: `key-` and 16 hex digits of a digest of its
    /// key, so it stays the same whatever the client is called. The digest is keyed by a fixed
    /// domain string, and 64 bits of it reveal nothing usable about the key.
    pub fn id_of_key(key: &Secret) -> String {
        let digest = Sha256::new()
            .chain_update(b"proverka tenant id\0")
            .chain_update(key.expose().as_bytes())
            .finalize();
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        format!("key-{hex}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_follows_the_key_not_the_name_and_shows_none_of_it() {
        let a = Tenant::id_of_key(&Secret::new("crm-key-123456"));
        assert_eq!(a, Tenant::id_of_key(&Secret::new("crm-key-123456")));
        assert_ne!(a, Tenant::id_of_key(&Secret::new("crm-key-123457")));
        assert!(a.starts_with("key-") && a.len() == 20, "{a}");
        assert!(!a.contains("crm"));
    }
}
