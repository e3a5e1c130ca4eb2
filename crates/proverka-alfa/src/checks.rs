//! The registry status as the command line offers it: `proverka alfa <requestId>` (every
//! page, with the caller's bearer) and `proverka batch --check alfa`.

use proverka_core::ProviderRefusal as _;
use std::sync::Arc;
use std::time::SystemTime;

use proverka_core::Lookup;
use proverka_core::checks::{
    CheckParam, CheckSpec, ColumnKind, Fields, Paging, Refusal, ResultColumn, field_text, planned,
};
use serde_json::Value;

use crate::{EXAMPLE_PAGE_SIZE, RegistryQuery};

/// The path parameter naming the registry.
const REQUEST_ID: &str = "requestId";

/// `alfa`: a self-employed registry's status, every page.
const CHECKS: &[CheckSpec] = &[CheckSpec {
    name: "alfa",
    command: &["alfa"],
    about: "An Alfa-Bank self-employed registry (реестр самозанятых), every page",
    group_about: "",
    fixed: &[],
    params: &[CheckParam::new(REQUEST_ID, "The registry request's id")
        .positional()
        .flag("request_id")
        .headers("requestId", &["requestid", "request_id"])],
    tail: Some(REQUEST_ID),
    splits_fio: false,
    concurrency: 4,
    columns: &[
        ResultColumn::new("list_status", "статус реестра", ColumnKind::Text),
        ResultColumn::new("people", "человек в реестре", ColumnKind::Number),
    ],
    fields,
    details: None,
    paging: Some(Paging {
        limit: "limit",
        offset: "offset",
        size: EXAMPLE_PAGE_SIZE,
        items: "/selfemployedAccount",
        total: "/pagination/totalCount",
    }),
    plan,
    changes: &[
        ("list_status", "Статус реестра"),
        ("person_status", "Статус самозанятого в реестре"),
    ],
}];

/// The registry check, for [`Adapter::checks`](proverka_core::Adapter::checks).
pub(crate) fn checks() -> Vec<CheckSpec> {
    CHECKS.to_vec()
}

fn fields(result: &Value) -> Fields {
    let people = result["selfemployedAccount"].as_array().map_or(0, Vec::len);
    Fields::from([
        ("list_status".to_owned(), field_text(&result["listStatus"])),
        ("people".to_owned(), people.to_string()),
    ])
}

fn plan(pairs: &[(&str, &str)], _now: SystemTime) -> Result<Arc<dyn Lookup>, Refusal> {
    let params = proverka_core::Params::new(pairs);
    let request_id = params.get(REQUEST_ID).unwrap_or_default();
    planned(RegistryQuery::from_parts(request_id, pairs), |e| {
        let body: Value = serde_json::from_str(&e.provider_body()).unwrap_or_default();
        Refusal::new(
            e.refused_by,
            field_text(&body["error"]),
            e.to_string(),
            Some(REQUEST_ID),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registry_is_named_by_its_request_id() {
        let id = "4e817e78-5876-4608-a873-bcc141454045";
        let code = |pairs: &[(&str, &str)]| {
            CHECKS[0]
                .refusal(pairs, SystemTime::UNIX_EPOCH)
                .map(|e| e.code)
        };
        assert_eq!(code(&[(REQUEST_ID, id)]), None);
        // proverka's own rule: the requestId goes into the path as given.
        assert_eq!(code(&[(REQUEST_ID, "../x")]).as_deref(), Some("proverka"));
        assert_eq!(
            code(&[(REQUEST_ID, id), ("limit", "x")]).as_deref(),
            Some("invalid_request")
        );
        let registry =
            serde_json::json!({"listStatus": "SUCCESS", "selfemployedAccount": [{}, {}]});
        let f = fields(&registry);
        assert_eq!(
            (f["list_status"].as_str(), f["people"].as_str()),
            ("SUCCESS", "2")
        );
    }
}
