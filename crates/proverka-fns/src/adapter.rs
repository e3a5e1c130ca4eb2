//! [`FnsAdapter`]: the tax service's free status check as the proxy sees it.

use proverka_core::status_day::StatusOnDay as _;
use proverka_core::{Adapter, Parsed, ProviderReply, QueryInput, RoutePath};

use crate::{FnsQuery, PATH, SPEC};

/// ФНС «Проверка статуса налогоплательщика НПД» for the proxy's registry.
#[derive(Debug, Clone, Copy, Default)]
pub struct FnsAdapter;

impl Adapter for FnsAdapter {
    proverka_core::adapter_parts! {
        spec: SPEC,
        explain: crate::ProviderError::explain,
        codes: crate::ProviderError::documented_codes,
        checks: crate::checks::checks(),
        simulator: crate::sandbox::FnsSimulator::default(),
    }

    /// The service's own path: the proxy serves no drop-in route for it (it is asked only as
    /// NPD's free source and on `/v1/fns`).
    fn upstream_paths(&self) -> Vec<RoutePath> {
        vec![RoutePath::Exact(PATH)]
    }

    /// Without a `date` the query means today (Moscow): not [`stable`](Parsed::stable).
    fn parse(&self, input: &QueryInput<'_>) -> Result<Parsed, ProviderReply> {
        FnsQuery::from_input(input)
    }
}
