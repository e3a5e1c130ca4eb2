//! [`Lookup`] for every FSSP query: cache keys, upstream parameters, and the cache decision.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use proverka_core::{
    Billed, CacheKey, CacheKeyBuilder, Change, Cost, LenientDate, Lookup, Money, Provider,
    RawAnswer, Reported, UpstreamRequest, Verdict,
};

use crate::model::{self, DebtRecord, DebtorSearch, Inquiry, Regions, WantedSearch};
use crate::query::{
    Alim, ByInn, FsspQuery, Id, Ip, Legal, Person, Physical, QueryType, RegionsList, Wanted,
};

/// The path of every FSSP query.
pub const PATH: &str = "/api/fssp.php";

/// The path of api-cloud.ru's account endpoint (`apilk.php?type=balance&token=…`), which
/// its clients ask for the balance beside the searches. The FSSP page names no such call
/// (it tells of the balance in every answer's `inquiry`); the proxy forwards it unread.
pub const ACCOUNT_PATH: &str = "/api/apilk.php";

/// How long a paid answer (found or "not found") is kept: the bailiffs' database changes
/// daily, and a day-old debt list is what the provider's own cache gives.
pub const ANSWER_TTL: Duration = Duration::from_secs(24 * 3600);

/// How long the free region list is kept.
pub const REGIONS_TTL: Duration = Duration::from_secs(24 * 3600);

/// The most one paid query costs per the page (0.6–1.4 RUB): budgets reserve this much.
pub const MAX_PRICE: Money = Money::from_kopecks(140);

/// The parts of a query that differ per type.
pub(crate) trait Query {
    const TYPE: QueryType;
    fn params(&self, r: UpstreamRequest) -> UpstreamRequest;
    fn key(&self, k: CacheKeyBuilder) -> CacheKeyBuilder;
}

fn only_actual(flag: bool) -> Option<&'static str> {
    flag.then_some("1")
}

fn person_params(p: &Person, r: UpstreamRequest) -> UpstreamRequest {
    r.param("lastname", p.lastname())
        .param("firstname", p.firstname())
        .optional("secondname", p.secondname())
        .param("birthdate", p.birthdate().to_dmy())
        .param("region", p.region().as_param())
        .optional("onlyActual", only_actual(p.only_actual()))
}

fn person_key(p: &Person, k: CacheKeyBuilder) -> CacheKeyBuilder {
    let k = k
        .text("lastname", p.lastname())
        .text("firstname", p.firstname())
        .exact("birthdate", p.birthdate().to_iso())
        .exact("region", p.region().as_param())
        .optional_exact("onlyActual", only_actual(p.only_actual()));
    match p.secondname() {
        Some(s) => k.text("secondname", s),
        None => k,
    }
}

impl Query for RegionsList {
    const TYPE: QueryType = QueryType::RegionsList;
    fn params(&self, r: UpstreamRequest) -> UpstreamRequest {
        r
    }
    fn key(&self, k: CacheKeyBuilder) -> CacheKeyBuilder {
        k
    }
}

impl Query for Physical {
    const TYPE: QueryType = QueryType::Physical;
    fn params(&self, r: UpstreamRequest) -> UpstreamRequest {
        person_params(self.person(), r)
    }
    fn key(&self, k: CacheKeyBuilder) -> CacheKeyBuilder {
        person_key(self.person(), k)
    }
}

impl Query for Alim {
    const TYPE: QueryType = QueryType::Alim;
    fn params(&self, r: UpstreamRequest) -> UpstreamRequest {
        person_params(self.person(), r)
    }
    fn key(&self, k: CacheKeyBuilder) -> CacheKeyBuilder {
        person_key(self.person(), k)
    }
}

impl Query for Legal {
    const TYPE: QueryType = QueryType::Legal;
    fn params(&self, r: UpstreamRequest) -> UpstreamRequest {
        r.param("nameLegal", self.name_legal())
            .param("region", self.region().as_param())
            .optional("address", self.address())
            .optional("onlyActual", only_actual(self.is_only_actual()))
    }
    fn key(&self, k: CacheKeyBuilder) -> CacheKeyBuilder {
        let k = k
            .text("nameLegal", self.name_legal())
            .exact("region", self.region().as_param())
            .optional_exact("onlyActual", only_actual(self.is_only_actual()));
        match self.address() {
            Some(a) => k.text("address", a),
            None => k,
        }
    }
}

impl Query for Ip {
    const TYPE: QueryType = QueryType::Ip;
    fn params(&self, r: UpstreamRequest) -> UpstreamRequest {
        r.param("number", self.number())
    }
    fn key(&self, k: CacheKeyBuilder) -> CacheKeyBuilder {
        k.text("number", self.number())
    }
}

impl Query for Id {
    const TYPE: QueryType = QueryType::Id;
    fn params(&self, r: UpstreamRequest) -> UpstreamRequest {
        r.param("number", self.number())
            .param("region", self.region().as_param())
            .optional("typeid", self.typeid().map(|t| t.id().to_string()))
    }
    fn key(&self, k: CacheKeyBuilder) -> CacheKeyBuilder {
        k.exact("number", self.number())
            .exact("region", self.region().as_param())
            .optional_exact("typeid", self.typeid().map(|t| t.id().to_string()))
    }
}

impl Query for ByInn {
    const TYPE: QueryType = QueryType::Inn;
    fn params(&self, r: UpstreamRequest) -> UpstreamRequest {
        r.param("inn", self.inn().to_string())
            .param("region", self.region().as_param())
            .optional("onlyActual", only_actual(self.is_only_actual()))
    }
    fn key(&self, k: CacheKeyBuilder) -> CacheKeyBuilder {
        k.exact("inn", self.inn().to_string())
            .exact("region", self.region().as_param())
            .optional_exact("onlyActual", only_actual(self.is_only_actual()))
    }
}

impl Query for Wanted {
    const TYPE: QueryType = QueryType::Wanted;
    fn params(&self, r: UpstreamRequest) -> UpstreamRequest {
        r.param("fio", self.fio())
            .optional("region", self.region().map(|r| r.as_param()))
    }
    fn key(&self, k: CacheKeyBuilder) -> CacheKeyBuilder {
        k.text("fio", self.fio())
            .optional_exact("region", self.region().map(|r| r.as_param()))
    }
}

fn paid(inquiry: Option<&Inquiry>) -> Billed {
    match inquiry.and_then(|i| i.price) {
        Some(price) if price == Money::ZERO => Billed::No,
        price => Billed::Yes(price),
    }
}

/// The cache decision for an answer to a query of `kind`: found and "not found" answers are
/// both paid and stored; provider errors and garbage are never stored; the free region list
/// is stored for a day.
fn judge(kind: QueryType, raw: &RawAnswer) -> Verdict {
    let reported = |i: Option<&Inquiry>| Reported::new(i.and_then(|i| i.balance), None);
    let verdict = Verdict::reporting(FsspAnswer::from_raw(kind, raw), |answer| match answer {
        FsspAnswer::Regions(r) => (Billed::No, REGIONS_TTL, reported(r.inquiry.as_ref())),
        FsspAnswer::Debtors(d) => (paid(d.inquiry()), ANSWER_TTL, reported(d.inquiry())),
        FsspAnswer::Wanted(w) => (
            paid(w.inquiry.as_ref()),
            ANSWER_TTL,
            reported(w.inquiry.as_ref()),
        ),
    });
    if kind == QueryType::RegionsList {
        verdict.on_free_query()
    } else {
        verdict
    }
}

fn cost(kind: QueryType) -> Cost {
    match kind {
        QueryType::RegionsList => Cost::Free,
        _ => Cost::Paid {
            typical: Some(MAX_PRICE),
        },
    }
}

macro_rules! lookup {
    ($($ty:ty),*) => {$(
        impl Lookup for $ty {
            fn provider(&self) -> Provider {
                Provider::Fssp
            }
            fn query_kind(&self) -> &'static str {
                <$ty as Query>::TYPE.as_str()
            }
            fn cache_key(&self) -> CacheKey {
                self.key(CacheKey::builder(Provider::Fssp, <$ty as Query>::TYPE.as_str())).build()
            }
            fn cost(&self) -> Cost {
                cost(<$ty as Query>::TYPE)
            }
            fn upstream_request(&self) -> UpstreamRequest {
                self.params(UpstreamRequest::new(PATH).param("type", <$ty as Query>::TYPE.as_str()))
            }
            fn judge(&self, raw: &RawAnswer, _now: SystemTime) -> Verdict {
                judge(<$ty as Query>::TYPE, raw)
            }
            fn render(&self, raw: &RawAnswer) -> Result<serde_json::Value, proverka_core::RenderError> {
                proverka_core::render_model(FsspAnswer::from_raw(<$ty as Query>::TYPE, raw))
            }
            fn changes(&self, before: &RawAnswer, after: &RawAnswer) -> Vec<Change> {
                changes(<$ty as Query>::TYPE, before, after)
            }
        }
    )*};
}

lookup!(RegionsList, Physical, Alim, Legal, Ip, Id, ByInn, Wanted);

impl FsspQuery {
    fn as_lookup(&self) -> &dyn Lookup {
        match self {
            Self::RegionsList(q) => q,
            Self::Physical(q) => q,
            Self::Legal(q) => q,
            Self::Ip(q) => q,
            Self::Id(q) => q,
            Self::Inn(q) => q,
            Self::Wanted(q) => q,
            Self::Alim(q) => q,
        }
    }
}

impl Lookup for FsspQuery {
    fn provider(&self) -> Provider {
        Provider::Fssp
    }
    fn query_kind(&self) -> &'static str {
        self.query_type().as_str()
    }
    fn cache_key(&self) -> CacheKey {
        self.as_lookup().cache_key()
    }
    fn cost(&self) -> Cost {
        cost(self.query_type())
    }
    fn upstream_request(&self) -> UpstreamRequest {
        self.as_lookup().upstream_request()
    }
    fn judge(&self, raw: &RawAnswer, _now: SystemTime) -> Verdict {
        judge(self.query_type(), raw)
    }
    fn render(&self, raw: &RawAnswer) -> Result<serde_json::Value, proverka_core::RenderError> {
        proverka_core::render_model(FsspAnswer::from_raw(self.query_type(), raw))
    }
    fn changes(&self, before: &RawAnswer, after: &RawAnswer) -> Vec<Change> {
        changes(self.query_type(), before, after)
    }
}

/// How two answers to a query of `kind` differ ([`FsspAnswer::changes`]).
fn changes(kind: QueryType, before: &RawAnswer, after: &RawAnswer) -> Vec<Change> {
    proverka_core::compare(
        FsspAnswer::from_raw(kind, before),
        FsspAnswer::from_raw(kind, after),
        FsspAnswer::changes,
    )
}

/// Any parsed FSSP answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FsspAnswer {
    /// `regionsList`.
    Regions(Regions),
    /// `physical`, `legal`, `ip`, `id`, `inn`, `alim`.
    Debtors(DebtorSearch),
    /// `wanted`.
    Wanted(WantedSearch),
}

impl FsspAnswer {
    /// What changed from this answer to `later`, an answer to the same query: a proceeding
    /// added or no longer listed (`proceeding`, by its number), its debt changed (`debt`), its
    /// end recorded (`closed`, the date of `stopIPDate`); in the wanted register a record
    /// added or gone (`wanted`, by its proceeding number). The regions list is compared whole.
    pub fn changes(&self, later: &Self) -> Vec<Change> {
        match (self, later) {
            (Self::Debtors(before), Self::Debtors(after)) => debtor_changes(before, after),
            (Self::Wanted(before), Self::Wanted(after)) => wanted_changes(before, after),
            (before, after) => proverka_core::whole_answer(
                &serde_json::to_value(before).unwrap_or_default(),
                &serde_json::to_value(after).unwrap_or_default(),
            ),
        }
    }

    /// Parses a raw answer to a query of `kind` (what the proxy does with a cached body).
    ///
    /// # Errors
    /// [`crate::Error::Provider`] for an error body, [`crate::Error::Malformed`] for anything
    /// that is not the provider's JSON.
    pub fn from_raw(kind: QueryType, raw: &RawAnswer) -> Result<Self, crate::Error> {
        let (status, body) = (raw.status, &raw.body[..]);
        let result = match kind {
            QueryType::RegionsList => model::parse_regions(status, body).map(Self::Regions),
            QueryType::Wanted => model::parse_answer(status, body).map(Self::Wanted),
            _ => model::parse_answer(status, body).map(Self::Debtors),
        };
        result.map_err(Into::into)
    }
}

fn debtor_changes(before: &DebtorSearch, after: &DebtorSearch) -> Vec<Change> {
    let by_number = |search: &DebtorSearch| -> BTreeMap<String, DebtRecord> {
        search
            .records
            .iter()
            .filter_map(|r| Some((r.process_title.clone()?, r.clone())))
            .collect()
    };
    let (before, after) = (by_number(before), by_number(after));
    let debt = |r: &DebtRecord| r.sum.map(|m| m.to_string());
    let closed = |r: &DebtRecord| {
        r.stop_ip_date.as_ref().map(|d| match d {
            LenientDate::Date(d) => d.to_iso(),
            other => other
                .date()
                .map_or_else(|| format!("{other:?}"), |d| d.to_iso()),
        })
    };
    let mut out = Vec::new();
    for (number, record) in &after {
        match before.get(number) {
            None => out.push(
                Change::new("proceeding", None, debt(record).or(Some(String::new()))).of(number),
            ),
            Some(earlier) => {
                out.extend(
                    Change::when_differ("debt", debt(earlier), debt(record)).map(|c| c.of(number)),
                );
                out.extend(
                    Change::when_differ("closed", closed(earlier), closed(record))
                        .map(|c| c.of(number)),
                );
            }
        }
    }
    for (number, earlier) in before.iter().filter(|(n, _)| !after.contains_key(*n)) {
        out.push(Change::new("proceeding", debt(earlier).or(Some(String::new())), None).of(number));
    }
    out
}

fn wanted_changes(before: &WantedSearch, after: &WantedSearch) -> Vec<Change> {
    let numbers = |search: &WantedSearch| -> BTreeSet<String> {
        search
            .records
            .iter()
            .filter_map(|r| r.ip_number.clone().or_else(|| r.search_docnumber.clone()))
            .collect()
    };
    let (before, after) = (numbers(before), numbers(after));
    let added = after
        .difference(&before)
        .map(|n| Change::new("wanted", None, Some(n.clone())).of(n));
    let gone = before
        .difference(&after)
        .map(|n| Change::new("wanted", Some(n.clone()), None).of(n));
    added.chain(gone).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Region;

    #[test]
    fn error_codes_in_verdicts() {
        let raw = RawAnswer::json(r#"{"status":404,"error":"TIME_MAX_CONNECT","errormsg":"x"}"#);
        assert_eq!(
            judge(QueryType::Physical, &raw),
            Verdict::ProviderError {
                code: "404".into(),
                billed: Billed::No,
                retryable: true
            }
        );
        assert!(!crate::ErrorCode::from_wire("498", None, None).retryable());
    }

    #[test]
    fn upstream_parameters() {
        let q = Legal::new("аптека  23", Region::Code(23))
            .unwrap()
            .with_address("Сочи")
            .unwrap();
        assert_eq!(
            q.upstream_request().query,
            vec![
                ("type", "legal".to_owned()),
                ("nameLegal", "аптека 23".to_owned()),
                ("region", "23".to_owned()),
                ("address", "Сочи".to_owned()),
            ]
        );
    }
}
