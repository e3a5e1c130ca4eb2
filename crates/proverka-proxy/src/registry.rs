//! The providers the proxy serves, from the registry (`proverka::adapters`), and the route
//! table built from them: the proxy itself names no provider.

use std::sync::Arc;

use proverka_core::{AccountRoute, Adapter, Provider, RoutePath};

/// Every provider of this build.
pub(crate) fn adapters() -> Vec<Arc<dyn Adapter>> {
    proverka::adapters()
}

/// The names of every provider of this build (configuration sections, environment variables).
pub(crate) fn names() -> Vec<&'static str> {
    adapters().iter().map(|a| a.provider().as_str()).collect()
}

/// Routes that belong to no provider, by their metric label.
/// `unknown` stays last.
pub(crate) const FIXED_ROUTES: [&str; 9] = [
    "v1.spend",
    "v1.calls",
    "v1.me",
    "v1.status",
    "ui",
    "metrics",
    "openapi",
    "health",
    "unknown",
];

/// Which route a request took: an index into [`RouteTable::labels`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RouteId(pub(crate) usize);

impl RouteId {
    /// A route that belongs to no provider.
    pub(crate) fn fixed(label: &str) -> Self {
        Self(
            FIXED_ROUTES
                .iter()
                .position(|l| *l == label)
                .unwrap_or(FIXED_ROUTES.len() - 1),
        )
    }

    /// `unknown`.
    pub(crate) const UNKNOWN: Self = Self(FIXED_ROUTES.len() - 1);
}

/// One provider route.
#[derive(Debug, Clone)]
struct Entry {
    path: RoutePath,
    /// The provider's position in the registry.
    provider: usize,
    typed: bool,
    /// One of its account endpoints (passed through), else a query route.
    account: Option<AccountRoute>,
    id: RouteId,
}

/// A provider route a path matched.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Matched<'a> {
    /// The provider's position in the registry.
    pub(crate) provider: usize,
    /// The typed `/v1` route, else the provider's own path.
    pub(crate) typed: bool,
    /// The rest of the path after a prefix route.
    pub(crate) tail: &'a str,
    /// One of the provider's account endpoints, forwarded as it is (counted on its drop-in
    /// label).
    pub(crate) account: Option<AccountRoute>,
    /// Its metric label.
    pub(crate) id: RouteId,
}

/// The provider routes of the registry, and every route's metric label: the fixed ones,
/// then per provider its name (drop-in paths) and `v1.<name>` (typed).
#[derive(Debug, Clone)]
pub(crate) struct RouteTable {
    entries: Vec<Entry>,
    labels: Vec<String>,
    providers: Vec<Provider>,
}

impl RouteTable {
    /// The table of `adapters`, in registry order.
    pub(crate) fn new(adapters: &[Arc<dyn Adapter>]) -> Self {
        let mut labels: Vec<String> = FIXED_ROUTES.iter().map(|l| (*l).to_owned()).collect();
        let mut entries = Vec::new();
        for (index, adapter) in adapters.iter().enumerate() {
            let name = adapter.provider().as_str();
            let routes = adapter.routes();
            let drop_in = RouteId(labels.len());
            labels.push(name.to_owned());
            let typed = RouteId(labels.len());
            labels.push(format!("v1.{name}"));
            entries.extend(routes.drop_in.iter().map(|&path| Entry {
                path,
                provider: index,
                typed: false,
                account: None,
                id: drop_in,
            }));
            entries.extend(adapter.account_routes().into_iter().map(|account| Entry {
                path: RoutePath::Exact(account.path),
                provider: index,
                typed: false,
                account: Some(account),
                id: drop_in,
            }));
            entries.push(Entry {
                path: routes.typed,
                provider: index,
                typed: true,
                account: None,
                id: typed,
            });
        }
        // Exact paths before prefixes, so a prefix never shadows an exact path below it.
        entries.sort_by_key(|e| matches!(e.path, RoutePath::Prefix(_)));
        Self {
            entries,
            labels,
            providers: adapters.iter().map(|a| a.provider()).collect(),
        }
    }

    /// The provider route serving `path`, if any.
    pub(crate) fn find<'a>(&self, path: &'a str) -> Option<Matched<'a>> {
        self.entries.iter().find_map(|e| {
            e.path.tail(path).map(|tail| Matched {
                provider: e.provider,
                typed: e.typed,
                tail,
                account: e.account,
                id: e.id,
            })
        })
    }

    /// Every route's metric label, by [`RouteId`].
    pub(crate) fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The providers, in registry order.
    pub(crate) fn providers(&self) -> &[Provider] {
        &self.providers
    }

    /// The routes of the provider at `index` in the registry: its drop-in paths, its typed
    /// route.
    pub(crate) fn routes_of(&self, index: usize) -> [RouteId; 2] {
        let first = FIXED_ROUTES.len() + 2 * index;
        [RouteId(first), RouteId(first + 1)]
    }
}
