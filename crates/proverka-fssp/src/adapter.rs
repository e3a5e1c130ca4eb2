//! [`FsspAdapter`]: the FSSP check as the proxy sees it (routes, defaults, validation,
//! the provider's own refusals, the typed operations).

use proverka_core::ProviderRefusal as _;
use proverka_core::{
    AccountRoute, Adapter, ConfigError, Connect, Date, Parsed, ProviderReply, QueryInput,
    RoutePath, Routes, Secret, TypedOperation, TypedParam,
};

use crate::{ACCOUNT_PATH, FsspQuery, PATH, QueryType, SPEC};

/// The typed route's prefix: the query type follows it (`/v1/fssp/physical`).
const TYPED_PREFIX: &str = "/v1/fssp/";

/// api-cloud.ru FSSP for the proxy's registry.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsspAdapter;

impl Adapter for FsspAdapter {
    proverka_core::adapter_parts! {
        spec: SPEC,
        explain: crate::ErrorCode::explain,
        checks: crate::checks::checks(),
        simulator: crate::sandbox::FsspSimulator::default(),
    }
    fn routes(&self) -> Routes {
        Routes {
            drop_in: vec![RoutePath::Exact(PATH)],
            typed: RoutePath::Prefix(TYPED_PREFIX),
        }
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

    fn operations(&self) -> Vec<TypedOperation> {
        QueryType::ALL
            .iter()
            .map(|kind| TypedOperation {
                path: format!("{TYPED_PREFIX}{kind}", kind = kind.as_str()),
                summary: format!("FSSP `{}` (api-cloud.ru)", kind.as_str()),
                params: vec![
                    TypedParam::optional("lastname", "Фамилия (physical, alim)"),
                    TypedParam::optional("firstname", "Имя (physical, alim)"),
                    TypedParam::optional("secondname", "Отчество"),
                    TypedParam::optional("birthdate", "dd.mm.yyyy"),
                    TypedParam::optional("region", "Region number or -1"),
                    TypedParam::optional("nameLegal", "Legal entity name (legal)"),
                    TypedParam::optional("address", "Legal entity address (legal)"),
                    TypedParam::optional("number", "Proceeding (ip) or document (id) number"),
                    TypedParam::optional("typeid", "Document type (id)"),
                    TypedParam::optional("inn", "INN (inn)"),
                    TypedParam::optional("fio", "Full name (wanted)"),
                    TypedParam::optional("onlyActual", "1: open proceedings only"),
                ],
            })
            .collect()
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
    fn a_birth_date_in_the_future_is_judged_on_the_input_s_clock() {
        // 2000-01-01 12:00 UTC: a child born on 02.01.2000 is not born yet.
        let new_year_2000 = 946_728_000;
        assert!(accepted_at(new_year_2000, "01.01.2000"));
        assert!(!accepted_at(new_year_2000, "02.01.2000"));
        assert!(accepted_at(new_year_2000 + 86_400, "02.01.2000"));
    }
}
