//! [`NpdAdapter`]: the api-assist NPD check as the proxy sees it.

use proverka_core::status_day::StatusOnDay as _;
use proverka_core::{Adapter, Parsed, ProviderReply, QueryInput};

use crate::{NpdQuery, SPEC};

/// api-assist.com NPD (налог на профессиональный доход) for the proxy's registry.
#[derive(Debug, Clone, Copy, Default)]
pub struct NpdAdapter;

impl Adapter for NpdAdapter {
    proverka_core::adapter_parts! {
        spec: SPEC,
        explain: crate::ProviderError::explain,
        codes: crate::ProviderError::documented_codes,
        checks: crate::checks::checks(),
        simulator: crate::sandbox::NpdSimulator::default(),
    }

    /// Without a `date` the query means today (Moscow): not [`stable`](Parsed::stable).
    fn parse(&self, input: &QueryInput<'_>) -> Result<Parsed, ProviderReply> {
        NpdQuery::from_input(input)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use proverka_core::Lookup as _;

    use super::*;

    /// 2024-02-01 20:00 in Moscow.
    fn parsed(pairs: &[(&str, &str)]) -> Parsed {
        let now = UNIX_EPOCH + Duration::from_secs(1_706_806_800);
        let input = QueryInput {
            tail: "",
            pairs,
            typed: false,
            now,
        };
        NpdAdapter.parse(&input).unwrap()
    }

    #[test]
    fn only_a_query_that_names_its_date_is_stable_and_today_is_the_inputs() {
        let inn = ("inn", "540304378234");
        assert!(parsed(&[inn, ("date", "2024-01-31")]).stable);
        assert!(!parsed(&[inn]).stable);
        // The first value wins: a blank first date means today, whatever follows.
        let blank_first = parsed(&[inn, ("date", " "), ("date", "2024-01-31")]);
        assert!(!blank_first.stable);
        let today = NpdQuery::parse(inn.1, Some("2024-02-01")).unwrap();
        assert_eq!(blank_first.lookup.cache_key(), today.cache_key());
        assert_eq!(parsed(&[inn]).lookup.cache_key(), today.cache_key());
    }
}
