//! [`Provider`] and [`Cost`]: who is asked, and what asking costs.

use std::fmt;

use crate::Money;

/// One of the upstream APIs proverka wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// api-cloud.ru FSSP: debts at the Federal Bailiff Service (ФССП).
    Fssp,
    /// Территориальная подсудность: the court with jurisdiction over an address.
    Court,
    /// api-assist.com: self-employed (НПД) tax payer status.
    Npd,
    /// Alfa-Bank BaaS: status of a self-employed registry (реестр самозанятых).
    Alfa,
    /// The Federal Tax Service's own free NPD status check (ФНС, «Проверка статуса
    /// налогоплательщика налога на профессиональный доход»).
    Fns,
}

impl Provider {
    /// Every provider, in a fixed order.
    pub const ALL: [Self; 5] = [Self::Fssp, Self::Court, Self::Npd, Self::Alfa, Self::Fns];

    /// A short lowercase name, stable: it is part of cache keys and metric labels.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Fssp => "fssp",
            Self::Court => "court",
            Self::Npd => "npd",
            Self::Alfa => "alfa",
            Self::Fns => "fns",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one call to the provider costs, known before it is made (budgets use it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cost {
    /// The provider does not charge for this query (FSSP `regionsList`).
    Free,
    /// The provider charges (the exact price comes with the answer where the provider
    /// reports it, as FSSP's `inquiry.price` does).
    Paid {
        /// The most one call usually costs, where the provider's page says; `None` where the
        /// price depends on the customer's tariff (the proxy's configuration supplies it).
        typical: Option<Money>,
    },
}

impl Cost {
    /// The typical price: zero when free, `None` when paid at a tariff's price.
    pub fn typical(self) -> Option<Money> {
        match self {
            Self::Free => Some(Money::ZERO),
            Self::Paid { typical } => typical,
        }
    }

    /// Whether the provider charges for this query.
    pub fn is_paid(self) -> bool {
        matches!(self, Self::Paid { .. })
    }
}
