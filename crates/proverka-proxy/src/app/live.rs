//! What a reload (SIGHUP) swaps whole, without a restart: the clients with their keys and
//! budgets, and the prices of answers the providers do not price themselves.

use std::sync::Arc;

use proverka_core::{Billed, Cost, Money, PagePrice, Provider, Secret};
use sha2::{Digest, Sha256};

use super::{AppState, StartError, Upstream};
use crate::config::Config;

/// A client of the proxy, from `[[clients]]`.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub(crate) name: Arc<str>,
    key_hash: [u8; 32],
    pub(crate) budget: Option<Money>,
    pub(crate) may_refresh: bool,
}

impl Client {
    pub(crate) fn anonymous() -> Self {
        static ANONYMOUS: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
        Self {
            name: Arc::clone(ANONYMOUS.get_or_init(|| Arc::from("anonymous"))),
            key_hash: [0; 32],
            budget: None,
            may_refresh: true,
        }
    }
}

/// The settings a reload applies without a restart.
#[derive(Debug)]
pub(crate) struct Live {
    pub(super) clients: Vec<Client>,
    /// The price of a paid answer the provider does not price itself, by upstream index.
    prices: Vec<Option<Money>>,
}

impl Live {
    /// Clients and prices of `config` for `upstreams`; a budgeted client needs a price for
    /// every provider that bills at its tariff.
    pub(super) fn new(config: &Config, upstreams: &[Upstream]) -> Result<Self, StartError> {
        let prices: Vec<Option<Money>> = upstreams
            .iter()
            .map(|u| config.provider(u.provider).price())
            .collect();
        // A budget is a reservation of the call's maximum price: every paid provider a
        // budgeted client can reach needs one.
        if let Some(c) = config.clients.iter().find(|c| c.daily_budget_rub.is_some()) {
            for (u, price) in upstreams.iter().zip(&prices) {
                if u.page_price == PagePrice::Tariff && price.is_none() {
                    return Err(StartError::UnknownPrice {
                        client: c.name.clone(),
                        provider: u.provider,
                        env: u.provider.as_str().to_uppercase(),
                    });
                }
            }
        }
        let clients = config
            .clients
            .iter()
            .map(|c| Client {
                name: Arc::from(c.name.as_str()),
                key_hash: hash(&c.key),
                budget: c
                    .daily_budget_rub
                    .map(|r| Money::from_kopecks((r * 100.0).round() as i64)),
                may_refresh: c.may_refresh,
            })
            .collect();
        Ok(Self { clients, prices })
    }
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
        let needs_restart = self.config.needs_restart(new);
        let next = Live::new(new, &self.upstreams)?;
        let mut applied = Vec::new();
        {
            let mut live = self
                .live
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let facts = |c: &Client| (c.name.clone(), c.key_hash, c.budget, c.may_refresh);
            if live
                .clients
                .iter()
                .map(facts)
                .ne(next.clients.iter().map(facts))
            {
                applied.push("clients".to_owned());
            }
            for (u, (old, new)) in self
                .upstreams
                .iter()
                .zip(live.prices.iter().zip(&next.prices))
            {
                if old != new {
                    applied.push(format!("providers.{}.price_rub", u.provider));
                }
            }
            *live = Arc::new(next);
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

    /// The client whose key this is.
    pub(crate) fn client_by_key(&self, key: &Secret) -> Option<Client> {
        let h = hash(key);
        let live = self
            .live
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Compare every key in full: the time taken does not tell which prefix matched.
        live.clients.iter().fold(None, |found, c| {
            let same = c
                .key_hash
                .iter()
                .zip(h.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
            if same { Some(c.clone()) } else { found }
        })
    }

    /// The configured price of a paid answer of `provider`, where it does not price it itself.
    fn price(&self, provider: Provider) -> Option<Money> {
        let i = self.upstreams.iter().position(|u| u.provider == provider)?;
        self.live
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .prices
            .get(i)
            .copied()
            .flatten()
    }

    /// The most one call of a query costing `cost` may cost: what a budget reserves.
    pub(crate) fn max_price(&self, provider: Provider, cost: Cost) -> Money {
        match cost {
            Cost::Free => Money::ZERO,
            _ => cost
                .typical()
                .or(self.price(provider))
                .unwrap_or(Money::ZERO),
        }
    }

    /// What a call judged `billed` cost: the reported price, else the configured or page
    /// price; for [`Billed::Unknown`], what was reserved (it may have been billed).
    pub(crate) fn price_of(&self, provider: Provider, billed: Billed, cost: Cost) -> Money {
        match billed {
            Billed::Yes(Some(m)) => m,
            Billed::Yes(None) | Billed::Unknown => self
                .price(provider)
                .or(cost.typical())
                .unwrap_or(Money::ZERO),
            Billed::No => Money::ZERO,
        }
    }

    /// The names `/v1/spend` reports on: every configured client, or `anonymous`.
    pub(crate) fn client_names(&self) -> Vec<Arc<str>> {
        let live = self.live();
        if live.clients.is_empty() {
            vec![Client::anonymous().name]
        } else {
            live.clients.iter().map(|c| Arc::clone(&c.name)).collect()
        }
    }
}
