//! What a batch checks ([`CheckKind`]), and one row's parameters turned into a validated query
//! ([`Planned`]) or the provider's refusal of it ([`Invalid`]), before any network call.

use std::collections::BTreeMap;
use std::sync::Arc;

use proverka_core::{Lookup, Money, Provider, RefusedBy};
use serde_json::Value;

/// The check a batch runs on every row (`--check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum CheckKind {
    /// NPD (самозанятый) status of an INN on a date (api-assist).
    Npd,
    /// The court with jurisdiction over an address or a point.
    Court,
    /// FSSP debts of a person (`physical`).
    FsspPhysical,
    /// FSSP debts of a legal entity by name (`legal`).
    FsspLegal,
    /// FSSP by enforcement proceeding number (`ip`).
    FsspIp,
    /// FSSP by executive document number (`id`).
    FsspId,
    /// FSSP debts of an organisation by INN (`inn`).
    FsspInn,
    /// FSSP wanted register (`wanted`).
    FsspWanted,
    /// FSSP alimony debtors (`alim`).
    FsspAlim,
}

impl CheckKind {
    /// The provider asked.
    pub(crate) fn provider(self) -> Provider {
        match self {
            Self::Npd => Provider::Npd,
            Self::Court => Provider::Court,
            _ => Provider::Fssp,
        }
    }

    /// FSSP's `type`, for FSSP checks.
    pub(crate) fn fssp_type(self) -> Option<&'static str> {
        Some(match self {
            Self::FsspPhysical => "physical",
            Self::FsspLegal => "legal",
            Self::FsspIp => "ip",
            Self::FsspId => "id",
            Self::FsspInn => "inn",
            Self::FsspWanted => "wanted",
            Self::FsspAlim => "alim",
            Self::Npd | Self::Court => return None,
        })
    }

    /// Whether it asks for a person by name (a ФИО column is split for it).
    pub(crate) fn takes_a_person(self) -> bool {
        matches!(self, Self::FsspPhysical | Self::FsspAlim | Self::FsspWanted)
    }

    /// The proxy's typed route for it.
    pub(crate) fn v1_path(self) -> String {
        match (self, self.fssp_type()) {
            (_, Some(t)) => format!("/v1/fssp/{t}"),
            (Self::Court, None) => "/v1/court".to_owned(),
            _ => "/v1/npd".to_owned(),
        }
    }

    /// The result columns a batch adds for it (after `status`).
    pub(crate) fn result_columns(self) -> &'static [&'static str] {
        match self {
            Self::Npd => &["self_employed", "checked_on"],
            Self::Court => &[
                "court_fs",
                "court_fs_address",
                "court_fs_phone",
                "court_ms",
                "court_ms_address",
                "court_ms_phone",
            ],
            Self::FsspWanted => &["records", "complete"],
            _ => &["records", "debt_rub", "complete"],
        }
    }

    /// The most one call may cost where the provider's page says (FSSP: 1.40 RUB); `None`
    /// where the tariff decides.
    pub(crate) fn page_max_price(self) -> Option<Money> {
        self.fssp_type().map(|_| proverka_fssp::MAX_PRICE)
    }
}

/// A row's query, validated: what to send and how to key it.
#[derive(Clone)]
pub(crate) struct Planned {
    /// The validated query (its cache key identifies duplicates and journal entries).
    pub(crate) lookup: Arc<dyn Lookup>,
    /// Provider-style parameters, for the proxy's typed route.
    pub(crate) pairs: Vec<(String, String)>,
}

impl std::fmt::Debug for Planned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Planned")
            .field("provider", &self.lookup.provider())
            .field("kind", &self.lookup.query_kind())
            .finish_non_exhaustive()
    }
}

impl Planned {
    /// The query's identity: the hex of its cache key (no personal data in it).
    pub(crate) fn key(&self) -> String {
        self.lookup.cache_key().to_hex()
    }
}

/// A row refused before any call: the provider's own code and message, or proverka's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    /// The provider's code (`888`, `40000`, the court's error text) or `proverka`.
    pub(crate) code: String,
    /// What is wrong.
    pub(crate) message: String,
    /// The parameter at fault, as the provider names it, when known.
    pub(crate) param: Option<String>,
}

fn marker(refused_by: RefusedBy) -> Option<String> {
    (refused_by == RefusedBy::Proverka).then(|| RefusedBy::MARKER.to_owned())
}

/// Validates one row's parameters (provider-style names) for `kind`.
pub(crate) fn plan(kind: CheckKind, params: &[(String, String)]) -> Result<Planned, Invalid> {
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let lookup: Arc<dyn Lookup> = match kind {
        CheckKind::Npd => {
            let query = proverka_npd::NpdQuery::from_pairs(&pairs).map_err(|e| Invalid {
                code: marker(e.refused_by).unwrap_or_else(|| "40000".to_owned()),
                message: e.to_string(),
                param: Some(
                    if e.message.contains("date") {
                        "date"
                    } else {
                        "inn"
                    }
                    .to_owned(),
                ),
            })?;
            // The date checked, resolved ("today" becomes a day): shown in the row, and
            // sent as such through a proxy.
            let mut params = params.to_vec();
            params.retain(|(k, _)| k != "date");
            params.push(("date".to_owned(), query.date().to_iso()));
            return Ok(Planned {
                lookup: Arc::new(query),
                pairs: params
                    .into_iter()
                    .filter(|(k, v)| k != "type" && !v.trim().is_empty())
                    .collect(),
            });
        }
        CheckKind::Court => Arc::new(proverka_court::CourtQuery::from_pairs(&pairs).map_err(
            |e| Invalid {
                code: marker(e.refused_by).unwrap_or_else(|| e.provider.provider_text()),
                message: e.to_string(),
                param: None,
            },
        )?),
        _ => {
            let mut typed = vec![("type", kind.fssp_type().unwrap_or_default())];
            typed.extend(pairs.iter().copied().filter(|(k, _)| *k != "type"));
            Arc::new(proverka_fssp::FsspQuery::from_pairs(&typed).map_err(|e| {
                let body: Value = serde_json::from_str(&e.provider_body()).unwrap_or_default();
                Invalid {
                    code: body["error"].as_str().unwrap_or_default().to_owned(),
                    message: e.to_string(),
                    param: Some(e.param.to_owned()),
                }
            })?)
        }
    };
    Ok(Planned {
        lookup,
        pairs: params
            .iter()
            .filter(|(k, v)| k != "type" && !v.trim().is_empty())
            .cloned()
            .collect(),
    })
}

/// The result columns of an answer, from the typed model as JSON (the same JSON whether it
/// came from the proxy's `/v1` route or from the adapter in process).
pub(crate) fn result_fields(kind: CheckKind, result: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let text = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match kind {
        CheckKind::Npd => {
            out.insert("self_employed".into(), text(&result["self_employed"]));
        }
        CheckKind::Court => {
            for court in ["court_fs", "court_ms"] {
                out.insert(court.into(), text(&result[court]["title"]));
                out.insert(format!("{court}_address"), text(&result[court]["address"]));
                out.insert(format!("{court}_phone"), text(&result[court]["phone"]));
            }
        }
        _ => {
            let records = result["records"].as_array().map_or(0, Vec::len);
            out.insert("records".into(), records.to_string());
            out.insert("complete".into(), text(&result["complete"]));
            if kind != CheckKind::FsspWanted {
                let sum = result["records"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r["sum"].as_str().and_then(|s| Money::parse(s).ok()))
                    .fold(Money::ZERO, Money::saturating_add);
                out.insert("debt_rub".into(), sum.to_string());
            }
            // One line a proceeding, for the «Производства» sheet: the case, not the debtor
            // (no name, address or birth date of the person is kept).
            let proceedings: Vec<Value> = result["records"]
                .as_array()
                .into_iter()
                .flatten()
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
                out.insert(PROCEEDINGS.into(), Value::Array(proceedings).to_string());
            }
        }
    }
    out
}

/// The field of an FSSP outcome holding its proceedings (JSON), not a column of its own.
pub(crate) const PROCEEDINGS: &str = "proceedings";

/// Column headers (Russian or English, any case) and the parameter each one fills.
const ALIASES: &[(&str, &str)] = &[
    ("инн", "inn"),
    ("inn", "inn"),
    ("фамилия", "lastname"),
    ("lastname", "lastname"),
    ("last_name", "lastname"),
    ("имя", "firstname"),
    ("firstname", "firstname"),
    ("first_name", "firstname"),
    ("отчество", "secondname"),
    ("secondname", "secondname"),
    ("patronymic", "secondname"),
    ("дата рождения", "birthdate"),
    ("birthdate", "birthdate"),
    ("birth_date", "birthdate"),
    ("регион", "region"),
    ("region", "region"),
    ("адрес", "address"),
    ("address", "address"),
    ("координаты", "coords"),
    ("coords", "coords"),
    ("дата", "date"),
    ("date", "date"),
    ("дата проверки", "date"),
    ("наименование", "nameLegal"),
    ("название", "nameLegal"),
    ("namelegal", "nameLegal"),
    ("name", "nameLegal"),
    ("номер", "number"),
    ("number", "number"),
    ("тип документа", "typeid"),
    ("typeid", "typeid"),
    ("фио", "fio"),
    ("fio", "fio"),
    ("onlyactual", "onlyActual"),
];

/// The parameter a column header fills: `--map` first, then the known headers.
pub(crate) fn param_for(header: &str, map: &[(String, String)]) -> Option<String> {
    let h = header.trim();
    if let Some((_, p)) = map.iter().find(|(col, _)| col.trim() == h) {
        return Some(p.clone());
    }
    let lower = h.to_lowercase();
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == lower)
        .map(|(_, p)| (*p).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_in_russian_or_english_and_overrides() {
        assert_eq!(param_for(" ИНН ", &[]).as_deref(), Some("inn"));
        assert_eq!(
            param_for("Дата рождения", &[]).as_deref(),
            Some("birthdate")
        );
        assert_eq!(param_for("LastName", &[]).as_deref(), Some("lastname"));
        assert_eq!(param_for("Комментарий", &[]), None);
        let map = vec![("Налоговый номер".to_owned(), "inn".to_owned())];
        assert_eq!(param_for("Налоговый номер", &map).as_deref(), Some("inn"));
    }

    #[test]
    fn rows_are_validated_with_the_provider_s_codes() {
        let p = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect()
        };
        assert!(plan(CheckKind::Npd, &p(&[("inn", "540304378234")])).is_ok());
        let e = plan(CheckKind::Npd, &p(&[("inn", "")])).unwrap_err();
        assert_eq!(e.code, "40000");
        let e = plan(CheckKind::Npd, &p(&[("inn", "540304378235")])).unwrap_err();
        assert_eq!(e.code, "proverka");
        let e = plan(
            CheckKind::FsspPhysical,
            &p(&[
                ("lastname", "Ив@нов"),
                ("firstname", "Иван"),
                ("birthdate", "01.01.1990"),
                ("region", "77"),
            ]),
        )
        .unwrap_err();
        assert_eq!(e.code, "888");
    }
}
