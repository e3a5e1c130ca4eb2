//! FSSP's checks as the command line offers them: `proverka fssp <type> …` and
//! `proverka batch --check fssp-<type>`, one for each search type of the page.

use proverka_core::ProviderRefusal as _;
use std::sync::Arc;
use std::time::SystemTime;

use proverka_core::checks::{
    CheckParam, CheckSpec, ColumnKind, DateForm, DetailSheet, Fields, ParamDefault, ParamKind,
    Refusal, ResultColumn, field_text, planned,
};
use proverka_core::{Lookup, Money};
use serde_json::Value;

use crate::FsspQuery;

const GROUP: &str = "FSSP (ФССП) debts: one query of a type";

/// The region of a search that may cover every region: all (`-1`) unless given.
const ANY_REGION: CheckParam = CheckParam::new("region", "Region number, or -1 for all regions")
    .default(ParamDefault::Value("-1"))
    .headers("Регион", &["регион", "region"]);

/// A person, as `physical` and `alim` search one.
const PERSON: &[CheckParam] = &[
    CheckParam::new("lastname", "Фамилия")
        .required()
        .headers("Фамилия", &["фамилия", "lastname", "last_name"]),
    CheckParam::new("firstname", "Имя")
        .required()
        .headers("Имя", &["имя", "firstname", "first_name"]),
    CheckParam::new("secondname", "Отчество")
        .headers("Отчество", &["отчество", "secondname", "patronymic"]),
    CheckParam::new("birthdate", "Дата рождения, dd.mm.yyyy or YYYY-MM-DD")
        .required()
        .kind(ParamKind::Date(DateForm::Dmy))
        .headers(
            "Дата рождения",
            &["дата рождения", "birthdate", "birth_date"],
        ),
    ANY_REGION,
    CheckParam::new("onlyActual", "Open proceedings only")
        .flag("only-actual")
        .kind(ParamKind::Switch("1"))
        .headers("onlyActual", &["onlyactual"]),
];

/// The columns of a search for debts.
const DEBTS: &[ResultColumn] = &[
    ResultColumn::new("records", "производств", ColumnKind::Number),
    ResultColumn::new("debt_rub", "долг, ₽", ColumnKind::Rubles),
    ResultColumn::new("complete", "загружены все", ColumnKind::Bool),
];

/// The proceedings of an answer: the case, not the debtor (no name, address or birth date of
/// the person is kept).
const PROCEEDINGS: DetailSheet = DetailSheet {
    name: "proceedings",
    russian: "Производства",
    english: "Proceedings",
    columns: &[
        ResultColumn::new("number", "номер производства", ColumnKind::Text),
        ResultColumn::new("date", "дата", ColumnKind::Date),
        ResultColumn::new("subject", "предмет", ColumnKind::Text),
        ResultColumn::new("sum", "сумма, ₽", ColumnKind::Rubles),
        ResultColumn::new("department", "отдел", ColumnKind::Text),
        ResultColumn::new("bailiff", "пристав", ColumnKind::Text),
    ],
};

/// A search of `type`.
const fn search(
    name: &'static str,
    command: &'static [&'static str],
    about: &'static str,
    fixed: &'static [(&'static str, &'static str)],
    params: &'static [CheckParam],
) -> CheckSpec {
    CheckSpec {
        name,
        command,
        about,
        group_about: GROUP,
        fixed,
        params,
        tail: Some("type"),
        splits_fio: false,
        // Beyond its thread limit FSSP answers 456 MAX_LIMIT.
        concurrency: 2,
        columns: DEBTS,
        fields: debts,
        details: Some(PROCEEDINGS),
        paging: None,
        plan,
        changes: CHANGES,
    }
}

/// What its changes are called in Russian (`Lookup::changes` of a search).
const CHANGES: &[(&str, &str)] = &[
    ("proceeding", "Исполнительное производство"),
    ("closed", "Производство окончено"),
    ("debt", "Сумма задолженности"),
    ("wanted", "Розыск"),
];

/// One check for each search type.
const CHECKS: &[CheckSpec] = &[
    CheckSpec {
        splits_fio: true,
        ..search(
            "fssp-physical",
            &["fssp", "physical"],
            "A person's debts (`physical`)",
            &[("type", "physical")],
            PERSON,
        )
    },
    search(
        "fssp-legal",
        &["fssp", "legal"],
        "A legal entity's debts by name (`legal`)",
        &[("type", "legal")],
        &[
            CheckParam::new("nameLegal", "The entity's name")
                .flag("name")
                .required()
                .headers(
                    "Наименование",
                    &["наименование", "название", "namelegal", "name"],
                ),
            CheckParam::new("address", "Its address").headers("Адрес", &["адрес", "address"]),
            CheckParam::new("region", "Region number (letters allowed for legal), or -1")
                .default(ParamDefault::Value("-1"))
                .headers("Регион", &["регион", "region"]),
        ],
    ),
    search(
        "fssp-ip",
        &["fssp", "ip"],
        "By enforcement proceeding number (`ip`: 32472/17/23072-ИП)",
        &[("type", "ip")],
        &[CheckParam::new("number", "The proceeding number")
            .required()
            .headers("Номер", &["номер", "number"])],
    ),
    search(
        "fssp-id",
        &["fssp", "id"],
        "By executive document number (`id`: ФС 039022227), in one region",
        &[("type", "id")],
        &[
            CheckParam::new("number", "The document number")
                .required()
                .headers("Номер", &["номер", "number"]),
            CheckParam::new("region", "Region number")
                .required()
                .headers("Регион", &["регион", "region"]),
            CheckParam::new("typeid", "Document type id (1-16, not 9)")
                .headers("Тип документа", &["тип документа", "typeid"]),
        ],
    ),
    search(
        "fssp-inn",
        &["fssp", "inn"],
        "An organisation's debts by INN (`inn`)",
        &[("type", "inn")],
        &[
            CheckParam::new("inn", "The INN")
                .required()
                .kind(ParamKind::Inn { person_only: false })
                .headers("ИНН", &["инн", "inn"]),
            ANY_REGION,
        ],
    ),
    CheckSpec {
        columns: &[DEBTS[0], DEBTS[2]],
        fields: wanted,
        ..search(
            "fssp-wanted",
            &["fssp", "wanted"],
            "The wanted register by full name (`wanted`)",
            &[("type", "wanted")],
            &[
                CheckParam::new("fio", "ФИО")
                    .required()
                    .headers("ФИО", &["фио", "fio"]),
                CheckParam::new("region", "Region number").headers("Регион", &["регион", "region"]),
            ],
        )
    },
    CheckSpec {
        splits_fio: true,
        ..search(
            "fssp-alim",
            &["fssp", "alim"],
            "A person's alimony debts (`alim`)",
            &[("type", "alim")],
            PERSON,
        )
    },
];

/// One check a search type, for [`Adapter::checks`](proverka_core::Adapter::checks).
pub(crate) fn checks() -> Vec<CheckSpec> {
    CHECKS.to_vec()
}

/// A wanted search's columns: how many records, whether all were loaded.
fn wanted(result: &Value) -> Fields {
    let mut out = debts(result);
    out.remove("debt_rub");
    out
}

/// A debt search's columns: how many proceedings, their total, whether all were loaded; and
/// the proceedings themselves.
fn debts(result: &Value) -> Fields {
    let records = result["records"].as_array().map_or(&[][..], Vec::as_slice);
    let mut out = Fields::new();
    out.insert("records".into(), records.len().to_string());
    out.insert("complete".into(), field_text(&result["complete"]));
    let sum = records
        .iter()
        .filter_map(|r| r["sum"].as_str().and_then(|s| Money::parse(s).ok()))
        .fold(Money::ZERO, Money::saturating_add);
    out.insert("debt_rub".into(), sum.to_string());
    let proceedings: Vec<Value> = records
        .iter()
        .map(|r| {
            serde_json::json!({
                "number": r["process_title"],
                "date": r["process_date"]["date"],
                "subject": r["subject"],
                "sum": r["sum"],
                "department": r["department_title"],
                "bailiff": r["officer_name"],
            })
        })
        .collect();
    if !proceedings.is_empty() {
        out.insert(
            PROCEEDINGS.name.into(),
            Value::Array(proceedings).to_string(),
        );
    }
    out
}

/// The provider's code for a refused query (the closest, for a rule of proverka's).
fn plan(pairs: &[(&str, &str)], _now: SystemTime) -> Result<Arc<dyn Lookup>, Refusal> {
    planned(FsspQuery::from_pairs(pairs), |e| {
        let body: Value = serde_json::from_str(&e.provider_body()).unwrap_or_default();
        Refusal {
            code: field_text(&body["error"]),
            message: e.to_string(),
            param: Some(e.param.to_owned()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_row_carries_the_page_s_code_and_parameter() {
        let physical = checks().remove(0);
        let e = (physical.plan)(
            &[
                ("type", "physical"),
                ("lastname", "Ив@нов"),
                ("firstname", "Иван"),
                ("birthdate", "01.01.1990"),
                ("region", "77"),
            ],
            SystemTime::now(),
        )
        .err()
        .unwrap();
        assert_eq!(
            (e.code.as_str(), e.param.as_deref()),
            ("888", Some("lastname"))
        );
    }

    #[test]
    fn every_search_of_a_subject_is_a_check() {
        let names: Vec<&str> = checks().iter().map(|c| c.fixed[0].1).collect();
        // The list of regions asks about nobody.
        let types: Vec<&str> = crate::QueryType::ALL
            .iter()
            .filter(|t| **t != crate::QueryType::RegionsList)
            .map(|t| t.as_str())
            .collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        let mut all = types.clone();
        all.sort_unstable();
        assert_eq!(sorted, all);
    }

    #[test]
    fn debts_are_summed_and_proceedings_keep_no_debtor() {
        let answer = serde_json::json!({"complete": true, "records": [
            {"process_title": "1/23/77-ИП", "sum": "100.50", "debtor_name": "Иванов Иван"},
            {"process_title": "2/23/77-ИП", "sum": "1.00"},
        ]});
        let f = debts(&answer);
        assert_eq!(
            (f["records"].as_str(), f["debt_rub"].as_str()),
            ("2", "101.50")
        );
        assert!(!f["proceedings"].contains("Иванов"));
        assert!(!wanted(&answer).contains_key("debt_rub"));
    }
}
