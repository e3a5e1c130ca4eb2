//! The jurisdiction check as the command line offers it: `proverka court --address …` (or
//! `--coords …`) and `proverka batch --check court`.

use std::sync::Arc;
use std::time::SystemTime;

use proverka_core::Lookup;
use proverka_core::checks::{
    CheckParam, CheckSpec, ColumnKind, Fields, Refusal, ResultColumn, field_text, planned,
};
use serde_json::Value;

use crate::CourtQuery;

/// The two courts of an answer: the district court (`court_fs`) and the magistrate's
/// section (`court_ms`).
const COURTS: [&str; 2] = ["court_fs", "court_ms"];

/// `court`: the court with jurisdiction over an address or a point.
const CHECKS: &[CheckSpec] = &[CheckSpec {
    name: "court",
    command: &["court"],
    about: "The court with jurisdiction over an address or a point (территориальная подсудность)",
    group_about: "",
    plan,
    changes: &[
        ("court_fs", "Районный (городской) суд"),
        ("court_ms", "Участок мирового судьи"),
    ],
    fields,
    details: None,
    paging: None,
    fixed: &[],
    params: &[
        CheckParam::new("address", "The address, to the building")
            .instead_of("coords")
            .headers("Адрес", &["адрес", "address"]),
        CheckParam::new(
            "coords",
            "\"lon lat\" (or \"lat lon\"), separated by a space",
        )
        .headers("Координаты", &["координаты", "coords"]),
    ],
    tail: None,
    splits_fio: false,
    concurrency: 4,
    columns: &[
        ResultColumn::new("court_fs", "районный суд", ColumnKind::Text),
        ResultColumn::new("court_fs_address", "адрес районного суда", ColumnKind::Text),
        ResultColumn::new("court_fs_phone", "телефон районного суда", ColumnKind::Text),
        ResultColumn::new("court_ms", "мировой участок", ColumnKind::Text),
        ResultColumn::new(
            "court_ms_address",
            "адрес мирового участка",
            ColumnKind::Text,
        ),
        ResultColumn::new(
            "court_ms_phone",
            "телефон мирового участка",
            ColumnKind::Text,
        ),
    ],
}];

/// The jurisdiction check, for [`Adapter::checks`](proverka_core::Adapter::checks).
pub(crate) fn checks() -> Vec<CheckSpec> {
    CHECKS.to_vec()
}

fn fields(answer: &Value) -> Fields {
    let mut out = Fields::new();
    for court in COURTS {
        out.insert(court.into(), field_text(&answer[court]["title"]));
        out.insert(
            format!("{court}_address"),
            field_text(&answer[court]["address"]),
        );
        out.insert(
            format!("{court}_phone"),
            field_text(&answer[court]["phone"]),
        );
    }
    out
}

fn plan(pairs: &[(&str, &str)], _now: SystemTime) -> Result<Arc<dyn Lookup>, Refusal> {
    planned(CourtQuery::from_pairs(pairs), |e| {
        Refusal::new(
            e.refused_by,
            e.provider.provider_text(),
            e.to_string(),
            None,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_without_address_or_point_is_refused_in_the_provider_s_words() {
        let court = CHECKS[0];
        let at = SystemTime::UNIX_EPOCH;
        assert_eq!(
            court.refusal(&[("address", "Казань, Московская 1")], at),
            None
        );
        let no_place = court.refusal(&[], at).map(|e| e.code);
        assert!(no_place.is_some_and(|code| code.contains("Coords or address")));
        let found = serde_json::json!({"court_fs": {"title": "Вахитовский", "phone": null}});
        let f = fields(&found);
        assert_eq!(
            (
                f["court_fs"].as_str(),
                f["court_fs_phone"].as_str(),
                f["court_ms"].as_str()
            ),
            ("Вахитовский", "", "")
        );
    }
}
