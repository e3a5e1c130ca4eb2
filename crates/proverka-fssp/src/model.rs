//! FSSP answers (ответы) as typed models, parsed leniently: see `docs/providers/fssp.md`.

use proverka_core::lenient::{self, Extra};
use proverka_core::{Billed, Date, LenientDate, MalformedAnswer, Money, Provider};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::error::{ErrorCode, ProviderError};

/// `inquiry`: what the query cost and what is left (Информация о запросе).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Inquiry {
    /// Списание за запрос: the price of this query.
    pub price: Option<Money>,
    /// Баланс после запроса: the balance after it (may be negative on credit).
    pub balance: Option<Money>,
    /// Кредитный лимит.
    pub credit: Option<Money>,
    /// Скорость запроса.
    pub speed: Option<i64>,
    /// Попыток.
    pub attempts: Option<i64>,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Reads `inquiry`: an object, or nothing usable.
struct InquiryField(Option<Inquiry>);

impl<'de> Deserialize<'de> for InquiryField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self(match Value::deserialize(d)? {
            v @ Value::Object(_) => Inquiry::deserialize(v).ok(),
            _ => None,
        }))
    }
}

/// Reads a field with one of this module's functions, as a reader newtype.
macro_rules! reader {
    ($name:ident, $out:ty, $f:ident) => {
        struct $name($out);
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $f(d).map(Self)
            }
        }
    };
}

reader!(DobField, Option<DebtorDob>, debtor_dob);
reader!(ProcessDateField, Option<ProcessDate>, process_date);
reader!(DocDetailField, Option<DocDetail>, doc_detail);
reader!(PhonesField, Vec<String>, phones);

use proverka_core::lenient_fast::{DateField, Flag, Int, Many, MoneyField, Text};

proverka_core::lenient_struct!(Inquiry {
    price: "price" => MoneyField,
    balance: "balance" => MoneyField,
    credit: "credit" => MoneyField,
    speed: "speed" => Int,
    attempts: "attempts" => Int,
});

proverka_core::lenient_struct!(DebtorSearch {
    status: "status" => Int,
    count_all: "countAll" => Int,
    pages_all: "pagesAll" => Int,
    count: "count" => Int,
    total_loaded_page: "totalLoadedPage" => Int,
    only_actual: "onlyActual" => Flag,
    records: "records" => Many<DebtRecord>,
    message: "message" => Text,
    inquiry: "inquiry" => InquiryField,
});

proverka_core::lenient_struct!(DebtRecord {
    debtor_name: "debtor_name" => Text,
    debtor_address: "debtor_address" => Text,
    debtor_dob: "debtor_dob" => DobField,
    process_title: "process_title" => Text,
    process_date: "process_date" => ProcessDateField,
    process_total: "process_total" => Text,
    rec_isp_doc: "recIspDoc" => Text,
    rec_isp_doc_detail: "recIspDocDetail" => DocDetailField,
    stop_ip: "stopIP" => Text,
    stop_ip_date: "stopIPDate" => DateField,
    stop_ip_reason: "stopIPReason" => Text,
    subject: "subject" => Text,
    subject_array: "subjectArray" => Many<DebtItem>,
    sum: "sum" => MoneyField,
    document_organization: "document_organization" => Text,
    department_title: "department_title" => Text,
    department_address: "department_address" => Text,
    document_type: "document_type" => Text,
    officer_name: "officer_name" => Text,
    officer_phones: "officer_phones" => PhonesField,
    inquiry: "inquiry" => InquiryField,
});

proverka_core::lenient_struct!(DebtItem {
    title: "title" => Text,
    sum: "sum" => MoneyField,
});

proverka_core::lenient_struct!(WantedSearch {
    status: "status" => Int,
    count_all: "countAll" => Int,
    pages_all: "pagesAll" => Int,
    count: "count" => Int,
    total_loaded_count: "totalLoadedCount" => Int,
    total_loaded_page: "totalLoadedPage" => Int,
    records: "records" => Many<WantedRecord>,
    message: "message" => Text,
    inquiry: "inquiry" => InquiryField,
});

proverka_core::lenient_struct!(WantedRecord {
    investigated_name: "investigatedName" => Text,
    birth_date: "birthDate" => DateField,
    debtor_address: "debtorAddress" => Text,
    search_category: "searchCategory" => Text,
    search_docnumber: "searchDocnumber" => Text,
    search_date: "searchDate" => DateField,
    ip_number: "ipNumber" => Text,
    ip_risedate: "ipRisedate" => DateField,
    ip_number_compl: "ipNumberCompl" => Text,
    dep_init_name: "depInitName" => Text,
    dep_init_adr: "depInitAdr" => Text,
    dep_init_code: "depInitCode" => Text,
    dep_init_phone: "depInitPhone" => Text,
});

/// The answer of `physical`, `legal`, `ip`, `id`, `inn` and `alim`: debtor records, or the
/// paid "not found" answer (`count: 0`, `message: "В базе ФССП отсутствует"`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DebtorSearch {
    /// Статус запроса (200), sent as a number or a string.
    pub status: Option<i64>,
    /// Всего записей.
    #[serde(rename = "countAll")]
    pub count_all: Option<i64>,
    /// Всего страниц найдено.
    #[serde(rename = "pagesAll")]
    pub pages_all: Option<i64>,
    /// Количество записей в результате.
    pub count: Option<i64>,
    /// Загружено страниц в результате.
    #[serde(rename = "totalLoadedPage")]
    pub total_loaded_page: Option<i64>,
    /// Whether the "only open proceedings" filter was on.
    #[serde(rename = "onlyActual")]
    pub only_actual: Option<bool>,
    /// The records found.
    pub records: Vec<DebtRecord>,
    /// The provider's message (`В базе ФССП отсутствует` when nothing was found).
    pub message: Option<String>,
    /// The cost of the query; see [`DebtorSearch::inquiry`] for the misplaced case.
    #[serde(rename = "inquiry")]
    pub inquiry: Option<Inquiry>,
    /// Records loaded into this answer (`count`, else the records present): proverka's field.
    pub loaded: i64,
    /// Whether this answer holds everything found: `false` when the provider loaded fewer
    /// pages than it found ("по умолчанию загружается 25 страниц") or fewer records than
    /// `countAll`. A partial answer is still a paid answer: proverka's field, see
    /// [`Completeness`].
    pub complete: bool,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

impl DebtorSearch {
    /// Whether the provider found nothing (a paid answer all the same).
    pub fn is_not_found(&self) -> bool {
        self.records.is_empty()
    }

    /// The `inquiry` block, also where the provider printed it inside a record.
    pub fn inquiry(&self) -> Option<&Inquiry> {
        self.inquiry
            .as_ref()
            .or_else(|| self.records.iter().find_map(|r| r.inquiry.as_ref()))
    }
}

/// One enforcement proceeding (исполнительное производство) of a debtor.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DebtRecord {
    /// ФИО or name of the debtor.
    pub debtor_name: Option<String>,
    /// Address (legal entities) or place of birth (individuals).
    pub debtor_address: Option<String>,
    /// Birth date of an individual, often masked (`31.03.****`); an INN for legal entities.
    pub debtor_dob: Option<DebtorDob>,
    /// Номер исполнительного производства.
    pub process_title: Option<String>,
    /// Дата начала производства; sometimes followed by another number.
    pub process_date: Option<ProcessDate>,
    /// Сводное исполнительное производство.
    pub process_total: Option<String>,
    /// Реквизиты исполнительного документа, as one line.
    #[serde(rename = "recIspDoc")]
    pub rec_isp_doc: Option<String>,
    /// Реквизиты исполнительного документа, itemised.
    #[serde(rename = "recIspDocDetail")]
    pub rec_isp_doc_detail: Option<DocDetail>,
    /// Date and reason the proceeding ended, as one line.
    #[serde(rename = "stopIP")]
    pub stop_ip: Option<String>,
    /// Date the proceeding ended.
    #[serde(rename = "stopIPDate")]
    pub stop_ip_date: Option<LenientDate>,
    /// Article, part and point it ended under.
    #[serde(rename = "stopIPReason")]
    pub stop_ip_reason: Option<String>,
    /// Предмет исполнения.
    pub subject: Option<String>,
    /// The items of the debt, paid and unpaid.
    #[serde(rename = "subjectArray")]
    pub subject_array: Vec<DebtItem>,
    /// Общая сумма непогашенной задолженности.
    pub sum: Option<Money>,
    /// Отдел судебных приставов.
    pub document_organization: Option<String>,
    /// Наименование отдела.
    pub department_title: Option<String>,
    /// Адрес отдела.
    pub department_address: Option<String>,
    /// Вид исполнительного документа.
    pub document_type: Option<String>,
    /// Пристав.
    pub officer_name: Option<String>,
    /// The officer's phones, flattened from the nested arrays the provider sends.
    pub officer_phones: Vec<String>,
    /// An `inquiry` printed inside a record (seen on the page's `ip` sample).
    pub inquiry: Option<Inquiry>,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// What `debtor_dob` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DebtorDob {
    /// A whole birth date.
    Date(Date),
    /// A birth date with masked parts (`31.03.****`), as printed.
    Masked(String),
    /// A legal entity's INN (10 or 12 digits), printed in this field for `legal`/`ip`.
    Inn(String),
    /// Anything else, as printed.
    Raw(String),
}

fn debtor_dob<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DebtorDob>, D::Error> {
    let Some(text) = lenient::text_of(Value::deserialize(d)?) else {
        return Ok(None);
    };
    let t = text.trim();
    Ok(Some(if let Ok(date) = Date::parse_dmy(t) {
        DebtorDob::Date(date)
    } else if t.contains('*') {
        DebtorDob::Masked(text)
    } else if (t.len() == 10 || t.len() == 12) && t.bytes().all(|b| b.is_ascii_digit()) {
        DebtorDob::Inn(t.to_owned())
    } else {
        DebtorDob::Raw(text)
    }))
}

/// `process_date`: a date, sometimes followed by another number
/// (`"18.05.2017 1555/19/23072-СД"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessDate {
    /// The date, when the field starts with a whole one.
    pub date: Option<Date>,
    /// What follows the date (a consolidated proceeding's number), if anything.
    pub trailing: Option<String>,
    /// The field as printed.
    pub raw: String,
}

fn process_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ProcessDate>, D::Error> {
    Ok(lenient::text_of(Value::deserialize(d)?).map(|raw| {
        let t = raw.trim();
        let (head, tail) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
        let date = Date::parse_dmy(head).ok();
        let trailing = date
            .and(Some(tail.trim()))
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        ProcessDate {
            date,
            trailing,
            raw,
        }
    }))
}

/// `recIspDocDetail`: the executive document's particulars. Arrives as an object, as a list of
/// `[key, value]` pairs, or as a list of one-key objects; all three are read.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DocDetail {
    /// Наименование органа, выдавшего документ.
    pub doc_organization: Option<String>,
    /// ИНН взыскателя-организации (as printed: the page's samples are not all valid INNs).
    pub doc_claimer_inn: Option<String>,
    /// Вид документа.
    pub doc_type: Option<String>,
    /// Дата принятия органом.
    pub doc_date: Option<LenientDate>,
    /// Номер документа.
    pub document_num: Option<String>,
    /// Keys not named above.
    pub extra: Extra,
}

impl DocDetail {
    fn set(&mut self, key: String, value: Value) {
        let text = || lenient::text_of(value.clone());
        match key.as_str() {
            "doc_organization" => self.doc_organization = text(),
            "doc_claimer_inn" => self.doc_claimer_inn = text(),
            "doc_type" => self.doc_type = text(),
            "doc_date" => self.doc_date = text().map(|s| LenientDate::parse(&s)),
            "document_num" => self.document_num = text(),
            _ => {
                self.extra.insert(key, value);
            }
        }
    }
}

fn doc_detail<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DocDetail>, D::Error> {
    let mut detail = DocDetail::default();
    let mut any = false;
    let mut take = |detail: &mut DocDetail, k: String, v: Value| {
        any = true;
        detail.set(k, v);
    };
    match Value::deserialize(d)? {
        Value::Object(map) => map.into_iter().for_each(|(k, v)| take(&mut detail, k, v)),
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Array(pair) if pair.len() == 2 => {
                        let mut it = pair.into_iter();
                        if let (Some(Value::String(k)), Some(v)) = (it.next(), it.next()) {
                            take(&mut detail, k, v);
                        }
                    }
                    Value::Object(map) => {
                        map.into_iter().for_each(|(k, v)| take(&mut detail, k, v));
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    Ok(any.then_some(detail))
}

fn phones<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    fn walk(v: Value, out: &mut Vec<String>) {
        match v {
            Value::Array(items) => items.into_iter().for_each(|i| walk(i, out)),
            other => {
                if let Some(s) = lenient::text_of(other) {
                    out.push(s.trim().to_owned());
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(Value::deserialize(d)?, &mut out);
    Ok(out)
}

/// One item of a debt (`subjectArray`): what it is for and how much.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DebtItem {
    /// Наименование.
    pub title: Option<String>,
    /// Сумма, parsed from `" 18422.50 руб."`.
    pub sum: Option<Money>,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The answer of `wanted`: the wanted register's records.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct WantedSearch {
    /// Статус ответа.
    pub status: Option<i64>,
    /// Всего найдено записей.
    #[serde(rename = "countAll")]
    pub count_all: Option<i64>,
    /// Всего найдено страниц.
    #[serde(rename = "pagesAll")]
    pub pages_all: Option<i64>,
    /// Количество записей в результате (when sent).
    pub count: Option<i64>,
    /// Всего загружено записей.
    #[serde(rename = "totalLoadedCount")]
    pub total_loaded_count: Option<i64>,
    /// Всего загружено страниц (at most 27).
    #[serde(rename = "totalLoadedPage")]
    pub total_loaded_page: Option<i64>,
    /// The records.
    pub records: Vec<WantedRecord>,
    /// The provider's message, when nothing was found.
    pub message: Option<String>,
    /// The cost of the query.
    pub inquiry: Option<Inquiry>,
    /// Records loaded into this answer (`totalLoadedCount`, else `count`, else the records
    /// present): proverka's field.
    pub loaded: i64,
    /// Whether this answer holds everything found (`false` when `totalLoadedPage` is below
    /// `pagesAll`: "Максимальное количество загружаемых страниц: 27"): proverka's field.
    pub complete: bool,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// How much of what the provider found an answer holds, from its counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completeness {
    /// `countAll`.
    pub count_all: Option<i64>,
    /// `pagesAll`.
    pub pages_all: Option<i64>,
    /// `totalLoadedPage`.
    pub loaded_pages: Option<i64>,
    /// Records loaded.
    pub loaded: i64,
}

impl Completeness {
    /// Complete unless fewer pages were loaded than found, or (without page counts) fewer
    /// records than `countAll`. An answer that says nothing of either is taken as whole.
    pub fn is_complete(self) -> bool {
        match (self.pages_all, self.loaded_pages) {
            (Some(all), Some(loaded)) => loaded >= all,
            _ => self.count_all.is_none_or(|all| self.loaded >= all),
        }
    }
}

/// One record of the wanted register.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WantedRecord {
    /// Who or what is wanted.
    pub investigated_name: Option<String>,
    /// Дата рождения (often masked).
    pub birth_date: Option<LenientDate>,
    /// Адрес должника.
    pub debtor_address: Option<String>,
    /// Объект розыска.
    pub search_category: Option<String>,
    /// Розыскное дело, №.
    pub search_docnumber: Option<String>,
    /// Розыскное дело, дата.
    pub search_date: Option<LenientDate>,
    /// Исполнительное производство, №.
    pub ip_number: Option<String>,
    /// Исполнительное производство, дата.
    pub ip_risedate: Option<LenientDate>,
    /// Исполнительное производство завершено.
    pub ip_number_compl: Option<String>,
    /// ОСП, где осуществляется розыск.
    pub dep_init_name: Option<String>,
    /// Адрес ОСП.
    pub dep_init_adr: Option<String>,
    /// Код ОСП.
    pub dep_init_code: Option<String>,
    /// Телефон дежурной части.
    pub dep_init_phone: Option<String>,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The answer of `regionsList`.
///
/// The page shows no sample of this answer, so the reader accepts the shapes such lists take:
/// a list of objects (`id`/`code`/`region` with `name`/`title`) or an object mapping numbers to
/// names, at the top level or under `records`/`regions`/`result`/`data`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Regions {
    /// The regions, in the provider's order.
    pub regions: Vec<RegionEntry>,
    /// The `inquiry` block, if sent (the query is free).
    pub inquiry: Option<Inquiry>,
}

/// One region of `regionsList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionEntry {
    /// The number to send as `region=`.
    pub code: String,
    /// The region's name.
    pub name: Option<String>,
}

impl Regions {
    /// Whether `region` is one this list names: the authority on regions when it is at hand
    /// (the page: "Список доступен через тип запроса "regionsList""), instead of a fixed range.
    /// [`Region::All`](crate::Region::All) always is.
    pub fn contains(&self, region: &crate::Region) -> bool {
        let wanted = region.as_param();
        matches!(region, crate::Region::All) || self.regions.iter().any(|r| r.code == wanted)
    }

    /// Refuses a region this list does not name, with the provider's code 103
    /// (`MISSING_REQUIRED_region_PARAMETER`: "Отсутствует параметр region или указан неверно"),
    /// before a paid query is sent.
    ///
    /// # Errors
    /// 103 for a region not in the list.
    pub fn check(&self, region: &crate::Region) -> Result<(), crate::ValidationError> {
        if self.contains(region) {
            Ok(())
        } else {
            Err(crate::ValidationError::new(
                crate::ErrorCode::MissingRegion,
                "region",
                "is not in the provider's regionsList",
            ))
        }
    }

    fn from_value(v: Value) -> Option<Self> {
        let Value::Object(mut map) = v else {
            return None;
        };
        let inquiry = map
            .remove("inquiry")
            .and_then(|i| Inquiry::deserialize(i).ok());
        let list = ["records", "regions", "result", "data"]
            .iter()
            .find_map(|k| map.remove(*k))
            .unwrap_or_else(|| {
                for k in ["status", "count", "countAll", "message"] {
                    map.remove(k);
                }
                Value::Object(map)
            });
        let entry = |code: Option<String>, name: Option<String>| {
            code.map(|code| RegionEntry {
                code: code.trim().to_owned(),
                name,
            })
        };
        let regions: Vec<RegionEntry> = match list {
            Value::Array(items) => items
                .into_iter()
                .filter_map(|item| match item {
                    Value::Object(mut o) => {
                        let code = ["id", "code", "region", "value", "number"]
                            .iter()
                            .find_map(|k| o.remove(*k).and_then(lenient::text_of));
                        let name = ["name", "title", "text", "label"]
                            .iter()
                            .find_map(|k| o.remove(*k).and_then(lenient::text_of));
                        entry(code, name)
                    }
                    _ => None,
                })
                .collect(),
            Value::Object(o) => o
                .into_iter()
                .filter_map(|(k, v)| entry(Some(k), lenient::text_of(v)))
                .collect(),
            _ => Vec::new(),
        };
        (!regions.is_empty()).then_some(Self { regions, inquiry })
    }
}

/// Why a body is not a usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NotAnAnswer {
    /// One of the provider's error bodies.
    Provider(ProviderError),
    /// Not the provider's JSON.
    Malformed(MalformedAnswer),
}

/// Finds an FSSP error in a parsed body: a non-empty `error`.
fn provider_error(map: &serde_json::Map<String, Value>) -> Option<ProviderError> {
    // `"error": 0` / `false` / `""` is how some answers say "no error".
    let error = map
        .get("error")
        .cloned()
        .and_then(lenient::text_of)
        .filter(|e| !matches!(e.trim(), "0" | "false"))?;
    let status = map.get("status").and_then(lenient::int_of);
    let message = map
        .get("message")
        .or_else(|| map.get("errormsg"))
        .cloned()
        .and_then(lenient::text_of);
    Some(ProviderError {
        code: ErrorCode::from_wire(&error, status, message.as_deref()),
        message,
    })
}

/// Reads an answer body into `T`, telling error bodies and garbage apart first.
///
/// One pass over the bytes into `Value` for the error/shape check would double the cost of
/// every parse, so the typed parse runs first and the error check reads the fields it keeps.
pub(crate) fn parse_answer<T>(status: u16, body: &[u8]) -> Result<T, NotAnAnswer>
where
    T: serde::de::DeserializeOwned + HasShape,
{
    let body = proverka_core::json_body(body);
    let parsed: T = serde_json::from_slice(body).map_err(|_| {
        // Valid JSON of another shape (an array, a string) is told apart from broken bytes.
        let valid_json = serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
        NotAnAnswer::Malformed(if valid_json {
            MalformedAnswer::unexpected_shape(Provider::Fssp, status, body)
        } else {
            MalformedAnswer::describe(Provider::Fssp, status, body)
        })
    })?;
    let mut parsed = parsed;
    if let Some(e) = parsed.error() {
        return Err(NotAnAnswer::Provider(e));
    }
    parsed.count_loaded();
    if status != 200 {
        return Err(NotAnAnswer::Malformed(MalformedAnswer::unexpected_shape(
            Provider::Fssp,
            status,
            body,
        )));
    }
    if !parsed.looks_like_answer() {
        // A `message` alone ("Источник не доступен") is not "no debts": a real "not found"
        // carries `count: 0`. Billed as its `inquiry` says, unknown without one.
        let billed = match parsed.inquiry_price() {
            Some(price) if price == Money::ZERO => Billed::No,
            Some(price) => Billed::Yes(Some(price)),
            None if parsed.has_message() => Billed::Unknown,
            None => {
                return Err(NotAnAnswer::Malformed(MalformedAnswer::unexpected_shape(
                    Provider::Fssp,
                    status,
                    body,
                )));
            }
        };
        return Err(NotAnAnswer::Malformed(MalformedAnswer::without_result(
            Provider::Fssp,
            status,
            body,
            billed,
        )));
    }
    Ok(parsed)
}

/// Reads a `regionsList` body.
pub(crate) fn parse_regions(status: u16, body: &[u8]) -> Result<Regions, NotAnAnswer> {
    let body = proverka_core::json_body(body);
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        NotAnAnswer::Malformed(MalformedAnswer::describe(Provider::Fssp, status, body))
    })?;
    if let Value::Object(map) = &value
        && let Some(e) = provider_error(map)
    {
        return Err(NotAnAnswer::Provider(e));
    }
    match Regions::from_value(value) {
        Some(r) if status == 200 => Ok(r),
        _ => Err(NotAnAnswer::Malformed(MalformedAnswer::unexpected_shape(
            Provider::Fssp,
            status,
            body,
        ))),
    }
}

/// What the answer reader needs to know of a model.
pub(crate) trait HasShape {
    /// The provider error carried in the body, if it is an error body.
    fn error(&self) -> Option<ProviderError>;
    /// Whether the body has the fields of a real answer: records, or a count (a `message`
    /// alone is not one).
    fn looks_like_answer(&self) -> bool;
    /// The price the body reports (`inquiry.price`), if any.
    fn inquiry_price(&self) -> Option<Money>;
    /// Whether the body carries a `message`.
    fn has_message(&self) -> bool;
    /// Fills `loaded` and `complete` from the counters.
    fn count_loaded(&mut self);
}

fn error_in(extra: &Extra, status: Option<i64>, message: Option<&String>) -> Option<ProviderError> {
    let mut map = serde_json::Map::new();
    map.insert("error".into(), extra.get("error")?.clone());
    if let Some(s) = status {
        map.insert("status".into(), s.into());
    }
    if let Some(m) = message {
        map.insert("message".into(), Value::String(m.clone()));
    } else if let Some(m) = extra.get("errormsg") {
        map.insert("errormsg".into(), m.clone());
    }
    provider_error(&map)
}

impl HasShape for DebtorSearch {
    fn error(&self) -> Option<ProviderError> {
        error_in(&self.extra, self.status, self.message.as_ref())
    }
    fn looks_like_answer(&self) -> bool {
        !self.records.is_empty() || self.count.is_some() || self.count_all.is_some()
    }
    fn inquiry_price(&self) -> Option<Money> {
        self.inquiry().and_then(|i| i.price)
    }
    fn has_message(&self) -> bool {
        self.message.is_some()
    }
    fn count_loaded(&mut self) {
        self.loaded = self
            .count
            .unwrap_or_else(|| i64::try_from(self.records.len()).unwrap_or(i64::MAX));
        self.complete = Completeness {
            count_all: self.count_all,
            pages_all: self.pages_all,
            loaded_pages: self.total_loaded_page,
            loaded: self.loaded,
        }
        .is_complete();
    }
}

impl HasShape for WantedSearch {
    fn error(&self) -> Option<ProviderError> {
        error_in(&self.extra, self.status, self.message.as_ref())
    }
    fn looks_like_answer(&self) -> bool {
        !self.records.is_empty() || self.count.is_some() || self.count_all.is_some()
    }
    fn inquiry_price(&self) -> Option<Money> {
        self.inquiry.as_ref().and_then(|i| i.price)
    }
    fn has_message(&self) -> bool {
        self.message.is_some()
    }
    fn count_loaded(&mut self) {
        self.loaded = self
            .total_loaded_count
            .or(self.count)
            .unwrap_or_else(|| i64::try_from(self.records.len()).unwrap_or(i64::MAX));
        self.complete = Completeness {
            count_all: self.count_all,
            pages_all: self.pages_all,
            loaded_pages: self.total_loaded_page,
            loaded: self.loaded,
        }
        .is_complete();
    }
}
