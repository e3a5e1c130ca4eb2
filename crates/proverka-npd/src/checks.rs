//! The NPD check as the command line offers it: `proverka npd --inn … [--date …]` and
//! `proverka batch --check npd`.

use std::sync::Arc;
use std::time::SystemTime;

use proverka_core::checks::{
    CheckParam, CheckSpec, ColumnKind, DateForm, Fields, ParamDefault, ParamKind, Refusal,
    ResultColumn, field_text, planned,
};
use proverka_core::status_day::StatusOnDay as _;
use proverka_core::{Date, Lookup};
use serde_json::Value;

use crate::NpdQuery;

/// `npd`: whether an INN is a self-employed (НПД) tax payer on a date.
const CHECKS: &[CheckSpec] = &[CheckSpec {
    name: "npd",
    command: &["npd"],
    about: "Whether an INN is a self-employed (НПД) tax payer on a date",
    group_about: "",
    fixed: &[],
    params: &[
        CheckParam::new("inn", "The individual's 12-digit INN")
            .required()
            .kind(ParamKind::Inn { person_only: true })
            .headers("ИНН", &["инн", "inn"]),
        CheckParam::new(
            "date",
            "YYYY-MM-DD or dd.mm.yyyy; today in Moscow when absent",
        )
        .kind(ParamKind::Date(DateForm::Iso))
        .default(ParamDefault::Today)
        .headers("Дата проверки", &["дата", "date", "дата проверки"]),
    ],
    tail: None,
    splits_fio: false,
    // The paid API takes many calls at once.
    concurrency: 8,
    columns: &[
        ResultColumn::new("self_employed", "самозанятый", ColumnKind::Bool),
        ResultColumn::from_param("checked_on", "дата проверки НПД", ColumnKind::Date, "date"),
    ],
    fields,
    details: None,
    paging: None,
    plan,
    changes: &[("self_employed", "Статус самозанятого (НПД)")],
}];

/// The NPD check, for [`Adapter::checks`](proverka_core::Adapter::checks).
pub(crate) fn checks() -> Vec<CheckSpec> {
    CHECKS.to_vec()
}

fn fields(result: &Value) -> Fields {
    Fields::from([(
        "self_employed".to_owned(),
        field_text(&result["self_employed"]),
    )])
}

fn plan(pairs: &[(&str, &str)], now: SystemTime) -> Result<Arc<dyn Lookup>, Refusal> {
    planned(
        NpdQuery::from_pairs_on(pairs, Date::moscow_date_at(now)),
        |e| {
            let param = if e.message.contains("date") {
                "date"
            } else {
                "inn"
            };
            Refusal::new(e.refused_by, "40000", e.to_string(), Some(param))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-02-01 20:00 in Moscow.
    fn at() -> SystemTime {
        SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_706_806_800)
    }

    #[test]
    fn rows_are_refused_with_the_provider_s_code_or_proverka_s() {
        let refused = |pairs: &[(&str, &str)]| {
            CHECKS[0]
                .refusal(pairs, at())
                .map(|e| (e.code, e.param.unwrap_or_default()))
        };
        assert_eq!(refused(&[("inn", "540304378234")]), None);
        assert_eq!(
            refused(&[("inn", "")]),
            Some(("40000".into(), "inn".into()))
        );
        // A wrong check digit, or a day still to come, is proverka's own rule.
        assert_eq!(
            refused(&[("inn", "540304378235")]),
            Some(("proverka".into(), "inn".into()))
        );
        assert_eq!(
            refused(&[("inn", "540304378234"), ("date", "2024-02-02")]),
            Some(("proverka".into(), "date".into()))
        );
        assert_eq!(
            refused(&[("inn", "540304378234"), ("date", "2024-13-01")]),
            Some(("40000".into(), "date".into()))
        );
    }

    #[test]
    fn the_status_is_a_yes_or_no_column() {
        let f = fields(&serde_json::json!({"self_employed": true}));
        assert_eq!(f["self_employed"], "true");
    }
}
