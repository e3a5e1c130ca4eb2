//! [`Provider`] and [`Cost`]: who is asked, and what asking costs.

use std::fmt;

use crate::Money;

/// One of the upstream APIs proverka wraps: a short lowercase name, stable (it is part of
/// cache keys, configuration sections, environment variables and metric labels).
///
/// Open: the five providers of proverka's own adapter crates are constants here, and a
/// provider of another crate is [`Provider::new`] with a name of its own, so adding one never
/// edits this crate. Compared, ordered and hashed as cheaply as the enum it was (the hit path
/// does all three): a built-in provider by its place in [`Provider::ALL`], which
/// [`Provider::new`] finds for a built-in name too, so one name is one provider. Not a
/// pattern: compare with `==`.
#[derive(Clone, Copy)]
pub struct Provider {
    /// Its place in [`Provider::ALL`], or [`OTHER`] for a provider of another crate: the
    /// order of listings (metrics, reports, the OpenAPI document), the built-in ones first.
    rank: u8,
    name: &'static str,
}

/// The rank of a provider of another crate.
const OTHER: u8 = u8::MAX;

/// The built-in providers' names, in [`Provider::ALL`]'s order.
const BUILT_IN: [&str; 5] = ["fssp", "court", "npd", "alfa", "fns"];

/// Whether two names are the same (a `const fn`: `==` on `str` is not one).
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[allow(non_upper_case_globals)] // read as the variants they were: `Provider::Fssp`.
impl Provider {
    /// api-cloud.ru FSSP: debts at the Federal Bailiff Service (ФССП).
    pub const Fssp: Self = Self::new("fssp");
    /// Территориальная подсудность: the court with jurisdiction over an address.
    pub const Court: Self = Self::new("court");
    /// api-assist.com: self-employed (НПД) tax payer status.
    pub const Npd: Self = Self::new("npd");
    /// Alfa-Bank BaaS: status of a self-employed registry (реестр самозанятых).
    pub const Alfa: Self = Self::new("alfa");
    /// The Federal Tax Service's own free NPD status check (ФНС, «Проверка статуса
    /// налогоплательщика налога на профессиональный доход»).
    pub const Fns: Self = Self::new("fns");

    /// The providers of proverka's own adapter crates, in a fixed order. The providers a
    /// build serves are its registry's (`proverka::adapters()`), which may add others.
    pub const ALL: [Self; 5] = [Self::Fssp, Self::Court, Self::Npd, Self::Alfa, Self::Fns];

    /// A provider named `name`: lowercase ASCII letters, digits and `_`, starting with a
    /// letter, at most 32 characters (it becomes a configuration section, an environment
    /// variable's part and a metric label). A built-in provider's name gives that provider.
    ///
    /// # Panics
    /// At compile time in a `const`, else at the call, for a name outside those rules: a
    /// provider's name is a constant of its crate, never input.
    pub const fn new(name: &'static str) -> Self {
        let bytes = name.as_bytes();
        assert!(
            !bytes.is_empty() && bytes.len() <= 32 && bytes[0].is_ascii_lowercase(),
            "a provider's name starts with a lowercase letter and has at most 32 characters"
        );
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            assert!(
                b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_',
                "a provider's name has lowercase letters, digits and _ only"
            );
            i += 1;
        }
        let mut rank = 0;
        while rank < BUILT_IN.len() {
            if same(BUILT_IN[rank], name) {
                return Self {
                    rank: rank as u8,
                    name: BUILT_IN[rank],
                };
            }
            rank += 1;
        }
        Self { rank: OTHER, name }
    }

    /// Its name: stable, part of cache keys and metric labels.
    pub const fn as_str(self) -> &'static str {
        self.name
    }
}

impl PartialEq for Provider {
    /// A built-in provider by its rank alone; another by its name.
    fn eq(&self, other: &Self) -> bool {
        self.rank == other.rank && (self.rank != OTHER || self.name == other.name)
    }
}

impl Eq for Provider {}

impl Ord for Provider {
    /// The built-in providers in [`Provider::ALL`]'s order, then the others by name: the
    /// order of metrics, reports and the OpenAPI document.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank.cmp(&other.rank).then_with(|| {
            if self.rank == OTHER {
                self.name.cmp(other.name)
            } else {
                std::cmp::Ordering::Equal
            }
        })
    }
}

impl PartialOrd for Provider {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::hash::Hash for Provider {
    /// A built-in provider by its rank alone (one byte, as the enum's discriminant was);
    /// another by its name. Equal providers have equal ranks and names: consistent with `Eq`.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u8(self.rank);
        if self.rank == OTHER {
            self.name.hash(state);
        }
    }
}

impl fmt::Debug for Provider {
    /// As the variant it reads like: `Fssp`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut chars = self.name.chars();
        if let Some(first) = chars.next() {
            write!(f, "{}{}", first.to_ascii_uppercase(), chars.as_str())?;
        }
        Ok(())
    }
}

impl serde::Serialize for Provider {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name)
    }
}

/// A provider's name (`fssp`, `npd`, …): the registry decides which exist, so the schema
/// lists none; the OpenAPI document narrows it to the registered ones.
impl schemars::JsonSchema for Provider {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Provider".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "pattern": "^[a-z][a-z0-9_]*$"})
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

#[cfg(test)]
mod tests {
    use super::Provider;

    #[test]
    fn a_provider_of_another_crate_is_named_and_shown_as_the_built_in_ones() {
        const SIXTH: Provider = Provider::new("egrul_2");
        assert_eq!(SIXTH.as_str(), "egrul_2");
        assert_eq!(format!("{SIXTH:?} {}", Provider::Fssp), "Egrul_2 fssp");
        assert_eq!(format!("{:?}", Provider::Npd), "Npd");
        assert_ne!(SIXTH, Provider::Fssp);
        assert_eq!(
            Provider::new("fssp"),
            Provider::Fssp,
            "one name, one provider"
        );
        let mut sorted = vec![SIXTH, Provider::Fns, Provider::Fssp, Provider::new("abc")];
        sorted.sort();
        assert_eq!(
            sorted,
            [Provider::Fssp, Provider::Fns, Provider::new("abc"), SIXTH]
        );
        assert!(Provider::Court == Provider::new("court"));
        assert!(Provider::Court != Provider::Npd);
    }

    #[test]
    #[should_panic(expected = "lowercase letters")]
    fn a_name_outside_the_rules_is_refused() {
        let _ = Provider::new("bad-name");
    }
}
