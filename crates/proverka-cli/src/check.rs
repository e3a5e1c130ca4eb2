//! What a one-off command or a batch checks ([`Check`]: a provider's [`CheckSpec`], from the
//! registry), and one row's parameters turned into a validated query ([`Planned`]) or the
//! provider's refusal of it ([`Invalid`]), before any network call. No check is named here:
//! each provider declares its own.

use std::sync::Arc;
use std::time::SystemTime;

use proverka_core::checks::{CheckSpec, Fields, ParamDefault, ParamKind};
use proverka_core::{Adapter, Date, Lookup, Money, PagePrice, Provider, RoutePath};
use serde_json::Value;

/// A row refused before any call: the provider's own code and message, or proverka's.
pub(crate) use proverka_core::checks::Refusal as Invalid;

/// One check the command line offers, and the provider that answers it.
#[derive(Clone)]
pub(crate) struct Check {
    /// The provider's adapter.
    pub(crate) adapter: Arc<dyn Adapter>,
    /// The check, as the provider declares it.
    pub(crate) spec: CheckSpec,
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.spec.name)
    }
}

impl Check {
    /// Every check of the registry's providers, in the registry's order.
    pub(crate) fn all() -> Vec<Self> {
        proverka::adapters()
            .into_iter()
            .flat_map(|adapter| {
                adapter.checks().into_iter().map(move |spec| Self {
                    adapter: Arc::clone(&adapter),
                    spec,
                })
            })
            .collect()
    }

    /// The check named `name` (`batch --check`).
    pub(crate) fn named(name: &str) -> Option<Self> {
        Self::all().into_iter().find(|c| c.spec.name == name)
    }

    /// The provider asked.
    pub(crate) fn provider(&self) -> Provider {
        self.adapter.provider()
    }

    /// The most one call may cost where the provider's page says (answers report their own
    /// price, up to it); `None` where the tariff decides.
    pub(crate) fn page_max_price(&self) -> Option<Money> {
        match self.adapter.spec().price {
            PagePrice::ReportedUpTo(max) => Some(max),
            _ => None,
        }
    }

    /// The answer's fields (the typed model as JSON), the same whether it came from a proxy's
    /// `/v1` route or from the engine in process.
    pub(crate) fn fields(&self, result: &Value) -> Fields {
        (self.spec.fields)(result)
    }

    /// The parameter each column of a file gives (`--map` first, then the columns' names).
    ///
    /// # Errors
    /// No column gives a parameter, or two give the same one (which would be sent is
    /// ambiguous): said with `input`'s name, the columns' letters and what `--map` fixes it.
    pub(crate) fn columns(
        &self,
        headers: &[String],
        map: &[(String, String)],
        input: &std::path::Path,
    ) -> Result<Vec<Option<String>>, String> {
        let params: Vec<Option<String>> = headers.iter().map(|h| self.param_for(h, map)).collect();
        if params.iter().all(Option::is_none) {
            return Err(format!(
                "{}: no column names a parameter of {} ({}); use --map COLUMN=PARAM",
                input.display(),
                self.spec.name,
                self.spec
                    .params
                    .iter()
                    .map(|p| format!("{}/{}", p.label, p.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        for (i, p) in params.iter().enumerate() {
            let Some(p) = p else { continue };
            if let Some(j) = params[..i].iter().position(|q| q.as_ref() == Some(p)) {
                let column =
                    |c: usize| format!("{} («{}»)", crate::table::column_letter(c), headers[c]);
                return Err(format!(
                    "{}: columns {} and {} both give {p}: delete or rename one, or say which with --map \"{}={p}\"",
                    input.display(),
                    column(j),
                    column(i),
                    headers[j]
                ));
            }
        }
        Ok(params)
    }

    /// The parameter a column header fills: `--map` first, then the headers the check's
    /// parameters name, then a ФИО column where the check splits one.
    pub(crate) fn param_for(&self, header: &str, map: &[(String, String)]) -> Option<String> {
        let h = header.trim();
        if let Some((_, p)) = map.iter().find(|(col, _)| col.trim() == h) {
            return Some(p.clone());
        }
        let lower = h.to_lowercase();
        self.spec
            .params
            .iter()
            .find(|p| p.headers.contains(&lower.as_str()))
            .map(|p| p.name.to_owned())
            .or_else(|| {
                (self.spec.splits_fio && FIO_HEADERS.contains(&lower.as_str()))
                    .then(|| FIO.to_owned())
            })
    }
}

/// The parameter a ФИО column fills for a check that splits one (the command line's own).
pub(crate) const FIO: &str = "fio";

/// The headers of a ФИО column.
const FIO_HEADERS: &[&str] = &["фио", "fio"];

/// `COLUMN=PARAM` (`--map`), or `PARAM=VALUE` (`--match`): both sides trimmed, neither empty.
pub(crate) fn parse_map(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(c, p)| (c.trim().to_owned(), p.trim().to_owned()))
        .filter(|(c, p)| !c.is_empty() && !p.is_empty())
        .ok_or_else(|| "expected COLUMN=PARAM".to_owned())
}

/// A row's query, validated: what to send and how to key it.
#[derive(Clone)]
pub(crate) struct Planned {
    /// The validated query (its cache key identifies duplicates and batch rows).
    pub(crate) lookup: Arc<dyn Lookup>,
    /// The parameters as sent (defaults resolved), for a proxy's typed route and the columns
    /// that show them.
    pub(crate) pairs: Vec<(String, String)>,
    /// The proxy's typed route for it.
    pub(crate) path: String,
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

/// A value as the check's parameter `param` is sent: a date from either way people write one
/// (`31.03.1980` or `1980-03-31`, as a spreadsheet's date cell reads) in the provider's form;
/// anything else as given (the provider's own rules then judge it).
pub(crate) fn provider_value(check: &Check, param: &str, value: String) -> String {
    let Some(ParamKind::Date(form)) = check.spec.param(param).map(|p| p.kind) else {
        return value;
    };
    match Date::parse_iso(&value).or_else(|_| Date::parse_dmy(&value)) {
        Ok(d) => date_in(form, d),
        Err(_) => value,
    }
}

fn date_in(form: proverka_core::checks::DateForm, d: Date) -> String {
    match form {
        proverka_core::checks::DateForm::Dmy => d.to_dmy(),
        proverka_core::checks::DateForm::Iso => d.to_iso(),
    }
}

/// Fills the columns that show a parameter of the query as sent (a date resolved from
/// "today").
pub(crate) fn show_params(
    check: &Check,
    planned: &Planned,
    outcome: &mut proverka_engine::Outcome,
) {
    for column in check.spec.columns {
        if let Some(param) = column.from_param
            && let Some((_, value)) = planned.pairs.iter().find(|(k, _)| k == param)
        {
            outcome.fields.insert(column.key.to_owned(), value.clone());
        }
    }
}

/// Validates one row's parameters (provider-style names) for `check`, as of `now`: defaults
/// filled in ("today" becomes a day, shown in the row and sent as such through a proxy), the
/// check's fixed parameters added.
pub(crate) fn plan(
    check: &Check,
    params: &[(String, String)],
    now: SystemTime,
) -> Result<Planned, Invalid> {
    let mut params: Vec<(String, String)> = params
        .iter()
        .filter(|(k, v)| !v.trim().is_empty() && !check.spec.fixed.iter().any(|(f, _)| f == k))
        .cloned()
        .collect();
    for p in check.spec.params {
        if params.iter().any(|(k, _)| k == p.name) {
            continue;
        }
        let value = match (p.default, p.kind) {
            (ParamDefault::Value(v), _) => v.to_owned(),
            (ParamDefault::Today, ParamKind::Date(form)) => {
                date_in(form, Date::moscow_date_at(now))
            }
            (ParamDefault::Today, _) => Date::moscow_date_at(now).to_iso(),
            (ParamDefault::None, _) => continue,
        };
        params.push((p.name.to_owned(), value));
    }
    let pairs: Vec<(&str, &str)> = check
        .spec
        .fixed
        .iter()
        .copied()
        .chain(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .collect();
    let lookup = (check.spec.plan)(&pairs, now)?;
    let tail = check.spec.tail.and_then(|t| {
        pairs
            .iter()
            .find(|(k, _)| *k == t)
            .map(|(_, v)| (*v).to_owned())
    });
    let path = match check.adapter.routes().typed {
        RoutePath::Exact(p) => p.to_owned(),
        RoutePath::Prefix(p) => format!("{p}{}", tail.unwrap_or_default()),
    };
    params.retain(|(k, _)| Some(k.as_str()) != check.spec.tail);
    Ok(Planned {
        lookup,
        pairs: params,
        path,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use proverka_core::checks::{
        CheckParam, ColumnKind, DateForm, Refusal, ResultColumn, field_text,
    };
    use proverka_core::{CacheKey, Cost, RawAnswer, UpstreamRequest, Verdict};

    use super::*;

    /// A query of the sample provider below: its parameters, as given.
    #[derive(Debug)]
    struct SampleQuery(Vec<(String, String)>);

    impl Lookup for SampleQuery {
        fn provider(&self) -> Provider {
            Provider::new("sample")
        }
        fn query_kind(&self) -> &'static str {
            "sample"
        }
        fn cache_key(&self) -> CacheKey {
            let text: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
            CacheKey::builder(self.provider(), "sample")
                .exact("query", text.join("&"))
                .build()
        }
        fn cost(&self) -> Cost {
            Cost::Paid { typical: None }
        }
        fn upstream_request(&self) -> UpstreamRequest {
            UpstreamRequest::new("/sample")
        }
        fn judge(&self, _raw: &RawAnswer, _now: SystemTime) -> Verdict {
            unreachable!("never sent")
        }
        fn render(&self, _raw: &RawAnswer) -> Result<Value, proverka_core::RenderError> {
            unreachable!("never sent")
        }
    }

    fn sample_plan(pairs: &[(&str, &str)], _now: SystemTime) -> Result<Arc<dyn Lookup>, Refusal> {
        if pairs.iter().any(|(k, v)| *k == "person" && v.contains('@')) {
            return Err(Refusal {
                code: "7".into(),
                message: "person has a bad letter".into(),
                param: Some("person".into()),
            });
        }
        Ok(Arc::new(SampleQuery(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )))
    }

    /// A check of no real provider: what the command line does with any declaration.
    pub(crate) const SAMPLE: CheckSpec = CheckSpec {
        name: "sample",
        command: &["sample"],
        about: "A sample",
        group_about: "",
        fixed: &[("kind", "one")],
        params: &[
            CheckParam::new("person", "Who")
                .required()
                .headers("Человек", &["человек", "person"]),
            CheckParam::new("born", "When")
                .kind(ParamKind::Date(DateForm::Dmy))
                .headers("Дата рождения", &["дата рождения"]),
            CheckParam::new("on", "On")
                .kind(ParamKind::Date(DateForm::Iso))
                .default(ParamDefault::Today),
            CheckParam::new("zone", "Zone").default(ParamDefault::Value("-1")),
            CheckParam::new("inn", "A person's INN").kind(ParamKind::Inn { person_only: true }),
        ],
        tail: Some("kind"),
        splits_fio: true,
        concurrency: 3,
        columns: &[ResultColumn::new("found", "найдено", ColumnKind::Bool)],
        fields: |v| Fields::from([("found".to_owned(), field_text(&v["found"]))]),
        details: None,
        paging: None,
        plan: sample_plan,
        changes: &[],
    };

    #[derive(Debug)]
    struct SampleAdapter;

    impl Adapter for SampleAdapter {
        fn spec(&self) -> proverka_core::ProviderSpec {
            proverka_core::ProviderSpec {
                provider: Provider::new("sample"),
                base_url: "http://127.0.0.1:9",
                timeout: std::time::Duration::from_secs(1),
                credential: proverka_core::CredentialStyle::None,
                price: PagePrice::Tariff,
                calls_per_minute: None,
                missing_credential: None,
                routes: proverka_core::Routes {
                    drop_in: &[RoutePath::Exact("/sample")],
                    typed: RoutePath::Prefix("/v1/sample/"),
                },
                dictionaries: &[],
                operations: &[],
            }
        }
        fn parse(
            &self,
            _input: &proverka_core::QueryInput<'_>,
        ) -> Result<proverka_core::Parsed, proverka_core::ProviderReply> {
            unreachable!("the command line plans through its checks")
        }
        fn explain(&self, code: &str) -> Option<proverka_core::CodeMeaning> {
            (code == "7").then(|| {
                proverka_core::CodeMeaning::new(
                    "В переменной присутствуют запрещенные символы",
                    proverka_core::Remedy::FixQuery,
                    false,
                )
            })
        }
    }

    /// The sample check.
    pub(crate) fn sample() -> Check {
        Check {
            adapter: Arc::new(SampleAdapter),
            spec: SAMPLE,
        }
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect()
    }

    #[test]
    fn headers_in_russian_or_english_and_overrides() {
        let c = sample();
        assert_eq!(c.param_for(" Человек ", &[]).as_deref(), Some("person"));
        assert_eq!(c.param_for("Дата Рождения", &[]).as_deref(), Some("born"));
        assert_eq!(c.param_for("ФИО", &[]).as_deref(), Some(FIO));
        assert_eq!(c.param_for("Комментарий", &[]), None);
        let map = vec![("Кто".to_owned(), "person".to_owned())];
        assert_eq!(c.param_for("Кто", &map).as_deref(), Some("person"));
    }

    #[test]
    fn a_plan_fills_defaults_adds_the_fixed_and_routes_by_the_tail() {
        // 2024-02-01 20:00 in Moscow.
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_706_806_800);
        let p = plan(&sample(), &pairs(&[("person", "Иван"), ("zone", "")]), now).unwrap();
        assert_eq!(p.path, "/v1/sample/one");
        assert_eq!(
            p.pairs,
            pairs(&[("person", "Иван"), ("on", "2024-02-01"), ("zone", "-1")])
        );
        let e = plan(&sample(), &pairs(&[("person", "Ив@н")]), now).unwrap_err();
        assert_eq!((e.code.as_str(), e.param.as_deref()), ("7", Some("person")));
    }

    #[test]
    fn dates_either_way_go_as_the_provider_wants() {
        let c = sample();
        let d = |param, v: &str| provider_value(&c, param, v.to_owned());
        assert_eq!(d("born", "1980-03-31"), "31.03.1980");
        assert_eq!(d("born", "31.03.1980"), "31.03.1980");
        assert_eq!(d("on", "01.03.2024"), "2024-03-01");
        assert_eq!(d("on", "вчера"), "вчера");
        assert_eq!(d("person", "01.03.2024"), "01.03.2024");
    }
}
