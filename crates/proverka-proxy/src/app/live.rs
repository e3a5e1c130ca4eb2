//! What a reload (SIGHUP) swaps whole, without a restart: the clients with their keys and
//! budgets (and, in the engine, the prices of answers the providers do not price themselves).

use std::sync::Arc;

use proverka_core::{Money, Secret};
use proverka_engine::{Engine, Tenant};
use sha2::{Digest, Sha256};

use super::{AppState, StartError};
use crate::config::Config;

/// A client of the proxy, from `[[clients]]`: the tenant it pays as, and its key's hash.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub(crate) tenant: Tenant,
    key_hash: [u8; 32],
}

impl Client {
    pub(crate) fn anonymous() -> Self {
        Self {
            tenant: Tenant::anonymous(),
            key_hash: [0; 32],
        }
    }
}

/// An operator, from `[[operators]]`: a name and its key's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Operator {
    pub(crate) name: Arc<str>,
    key_hash: [u8; 32],
}

/// The settings a reload applies without a restart.
#[derive(Debug)]
pub(crate) struct Live {
    pub(super) clients: Vec<Client>,
    pub(super) operators: Vec<Operator>,
}

impl Live {
    /// The clients of `config`; a budgeted client needs a price for every provider that bills
    /// at its tariff.
    pub(super) fn new(config: &Config, engine: &Engine) -> Result<Self, StartError> {
        // A budget is a reservation of the call's maximum price: every paid provider a
        // budgeted client can reach needs one.
        if let Some(c) = config.clients.iter().find(|c| c.daily_budget_rub.is_some())
            && let Some(provider) = engine.unpriced(&config.providers).first()
        {
            return Err(StartError::UnknownPrice {
                client: c.name.clone(),
                provider: *provider,
                env: provider.as_str().to_uppercase(),
            });
        }
        let clients = config
            .clients
            .iter()
            .map(|c| Client {
                tenant: Tenant {
                    id: Arc::from(c.tenant_id()),
                    name: Arc::from(c.name.as_str()),
                    budget: c
                        .daily_budget_rub
                        .map(|r| Money::from_kopecks((r * 100.0).round() as i64)),
                    may_refresh: c.may_refresh,
                },
                key_hash: hash(&c.key),
            })
            .collect();
        let operators = config
            .operators
            .iter()
            .map(|o| Operator {
                name: Arc::from(o.name.as_str()),
                key_hash: hash(&o.key),
            })
            .collect();
        Ok(Self { clients, operators })
    }
}

/// Whether two key hashes are the same, comparing every byte: the time taken does not tell
/// which prefix matched.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reloaded {
    /// What changed and is now in force (`clients`, `providers.<name>.price_rub`).
    pub applied: Vec<String>,
    /// Keys that changed but need a restart: reported, not applied.
    pub needs_restart: Vec<String>,
}

pub(crate) fn hash(secret: &Secret) -> [u8; 32] {
    Sha256::digest(secret.expose().as_bytes()).into()
}

impl AppState {
    /// The settings in force (a reload swaps them whole).
    pub(super) fn live(&self) -> Arc<Live> {
        Arc::clone(
            &self
                .live
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Applies a re-read configuration's clients, budgets and prices; reports the keys whose
    /// change needs a restart without applying them. Nothing changes when it fails.
    ///
    /// # Errors
    /// [`StartError::UnknownPrice`]: a budgeted client and a provider without a price.
    pub(crate) fn reload(&self, new: &Config) -> Result<Reloaded, StartError> {
        // The sockets stay bound where they are: the new file is held to their rules, so a
        // reload can never open the door (an empty client list on a public socket).
        new.check_listener(self.config.listen)?;
        let needs_restart = self.config.needs_restart(new);
        let next = Live::new(new, &self.engine)?;
        let mut applied = Vec::new();
        {
            let mut live = self
                .live
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let facts = |c: &Client| (c.tenant.clone(), c.key_hash);
            if live
                .clients
                .iter()
                .map(facts)
                .ne(next.clients.iter().map(facts))
            {
                applied.push("clients".to_owned());
            }
            if live.operators != next.operators {
                applied.push("operators".to_owned());
            }
            *live = Arc::new(next);
        }
        for provider in self.engine.set_prices(&new.providers) {
            applied.push(format!("providers.{provider}.price_rub"));
        }
        Ok(Reloaded {
            applied,
            needs_restart,
        })
    }

    /// Whether client keys are configured (then every request needs one).
    pub(crate) fn clients_required(&self) -> bool {
        !self
            .live
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clients
            .is_empty()
    }

    /// The configured clients' tenants, in configuration order.
    pub(crate) fn tenants(&self) -> Vec<proverka_engine::Tenant> {
        self.live()
            .clients
            .iter()
            .map(|c| c.tenant.clone())
            .collect()
    }

    /// The configured name of the client whose id is `id` (`None`: not configured now).
    pub(crate) fn name_of_tenant(&self, id: &str) -> Option<Arc<str>> {
        self.live
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clients
            .iter()
            .find(|c| &*c.tenant.id == id)
            .map(|c| Arc::clone(&c.tenant.name))
    }

    /// The client whose key this is.
    pub(crate) fn client_by_key(&self, key: &Secret) -> Option<Client> {
        let h = hash(key);
        let live = self
            .live
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Every key is compared, whichever matches.
        live.clients.iter().fold(None, |found, c| {
            if same(&c.key_hash, &h) {
                Some(c.clone())
            } else {
                found
            }
        })
    }

    /// The operator whose key this is.
    pub(crate) fn operator_by_key(&self, key: &Secret) -> Option<Operator> {
        let h = hash(key);
        let live = self.live();
        live.operators.iter().fold(None, |found, o| {
            if same(&o.key_hash, &h) {
                Some(o.clone())
            } else {
                found
            }
        })
    }

    /// Whether any key is configured, client's or operator's: without any, a loopback proxy
    /// is open to every caller, as before keys existed.
    pub(crate) fn keys_configured(&self) -> bool {
        let live = self.live();
        !live.clients.is_empty() || !live.operators.is_empty()
    }
}
