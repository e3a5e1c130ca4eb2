//! [`FsspAdapter`]: the FSSP check as the proxy sees it (routes, defaults, validation,
//! the provider's own refusals, the typed operations).

use proverka_core::ProviderRefusal as _;
use proverka_core::{
    AccountRoute, Adapter, ConfigError, Connect, Date, Parsed, ProviderReply, QueryInput, Secret,
};

use crate::{ACCOUNT_PATH, FsspQuery, SPEC};

/// api-cloud.ru FSSP for the proxy's registry.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsspAdapter;

impl Adapter for FsspAdapter {
    proverka_core::adapter_parts! {
        spec: SPEC,
        explain: crate::ErrorCode::explain,
        codes: crate::ErrorCode::documented_codes,
        checks: crate::checks::checks(),
        simulator: crate::sandbox::FsspSimulator::default(),
    }

    fn account_routes(&self) -> Vec<AccountRoute> {
        vec![AccountRoute {
            path: ACCOUNT_PATH,
            operation: "type",
            allowed: &["balance"],
            summary: "api-cloud.ru account balance (баланс), forwarded with the proxy's token",
        }]
    }

    fn check_credential(&self, credential: &Secret) -> Result<(), ConfigError> {
        <crate::FsspClient as Connect>::check_credential(credential)
    }

    /// On the typed route the query type is the path's tail and a `type` parameter is
    /// ignored; on the drop-in route it is the `type` parameter, as on the page.
    fn parse(&self, input: &QueryInput<'_>) -> Result<Parsed, ProviderReply> {
        let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(input.pairs.len() + 1);
        if input.typed {
            pairs.push(("type", input.tail));
        }
        pairs.extend(
            input
                .pairs
                .iter()
                .copied()
                .filter(|(k, _)| !input.typed || *k != "type"),
        );
        FsspQuery::from_pairs_on(&pairs, Date::moscow_date_at(input.now))
            .map(Parsed::stable)
            .map_err(|e| e.provider_reply())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::{Adapter, FsspAdapter, QueryInput};

    /// Whether a `physical` query born on `birthdate` is accepted at `now` (seconds since the
    /// epoch): "today", for a birth date in the future, is the input's, on the caller's clock.
    fn accepted_at(now: u64, birthdate: &str) -> bool {
        let pairs = [
            ("type", "physical"),
            ("lastname", "Иванов"),
            ("firstname", "Иван"),
            ("birthdate", birthdate),
            ("region", "77"),
        ];
        let input = QueryInput {
            tail: "",
            pairs: &pairs,
            typed: false,
            now: UNIX_EPOCH + Duration::from_secs(now),
        };
        FsspAdapter.parse(&input).is_ok()
    }

    #[test]
    fn one_typed_operation_per_query_type_each_on_the_typed_route() {
        use crate::QueryType;
        let typed = FsspAdapter.routes().typed;
        let paths: Vec<String> = FsspAdapter
            .operations()
            .iter()
            .map(|op| op.path.to_string())
            .collect();
        let kinds: Vec<&str> = paths.iter().filter_map(|p| typed.tail(p)).collect();
        let expected: Vec<&str> = QueryType::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(kinds, expected);
    }

    #[test]
    fn a_birth_date_in_the_future_is_judged_on_the_input_s_clock() {
        // 2000-01-01 12:00 UTC: a child born on 02.01.2000 is not born yet.
        let new_year_2000 = 946_728_000;
        assert!(accepted_at(new_year_2000, "01.01.2000"));
        assert!(!accepted_at(new_year_2000, "02.01.2000"));
        assert!(accepted_at(new_year_2000 + 86_400, "02.01.2000"));
    }
}
