//! FSSP answers (ответы) as typed models, parsed leniently: see `docs/providers/fssp.md`.

use proverka_core::lenient;
use proverka_core::{Date, LenientDate, Money};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

mod parse;
mod regions;

pub(crate) use parse::{parse_answer, parse_regions};
pub use regions::{RegionEntry, Regions};

proverka_core::lenient_struct! {
    /// `inquiry`: what the query cost and what is left (Информация о запросе).
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
    pub struct Inquiry {
        /// Списание за запрос: the price of this query.
        pub price: Option<Money> => MoneyField,
        /// Баланс после запроса: the balance after it (may be negative on credit).
        pub balance: Option<Money> => MoneyField,
        /// Кредитный лимит.
        pub credit: Option<Money> => MoneyField,
        /// Скорость запроса.
        pub speed: Option<i64> => Int,
        /// Попыток.
        pub attempts: Option<i64> => Int,
    }
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

use proverka_core::lenient::fields::{DateField, Flag, Int, Many, MoneyField, Text};

proverka_core::lenient_struct! {
    /// The answer of `physical`, `legal`, `ip`, `id`, `inn` and `alim`: debtor records, or the
    /// paid "not found" answer (`count: 0`, `message: "В базе ФССП отсутствует"`).
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
    pub struct DebtorSearch {
        /// Статус запроса (200), sent as a number or a string.
        pub status: Option<i64> => Int,
        /// Всего записей.
        #[serde(rename = "countAll")]
        pub count_all: Option<i64> = "countAll" => Int,
        /// Всего страниц найдено.
        #[serde(rename = "pagesAll")]
        pub pages_all: Option<i64> = "pagesAll" => Int,
        /// Количество записей в результате.
        pub count: Option<i64> => Int,
        /// Загружено страниц в результате.
        #[serde(rename = "totalLoadedPage")]
        pub total_loaded_page: Option<i64> = "totalLoadedPage" => Int,
        /// Whether the "only open proceedings" filter was on.
        #[serde(rename = "onlyActual")]
        pub only_actual: Option<bool> = "onlyActual" => Flag,
        /// The records found.
        pub records: Vec<DebtRecord> => Many<DebtRecord>,
        /// The provider's message (`В базе ФССП отсутствует` when nothing was found).
        pub message: Option<String> => Text,
        /// The cost of the query; see [`DebtorSearch::inquiry`] for the misplaced case.
        #[serde(rename = "inquiry")]
        pub inquiry: Option<Inquiry> => InquiryField;
        /// Records loaded into this answer (`count`, else the records present): proverka's field.
        pub loaded: i64,
        /// Whether this answer holds everything found: `false` when the provider loaded fewer
        /// pages than it found ("по умолчанию загружается 25 страниц") or fewer records than
        /// `countAll`. A partial answer is still a paid answer: proverka's field, see
        /// [`Completeness`].
        pub complete: bool,
    }
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

proverka_core::lenient_struct! {
    /// One enforcement proceeding (исполнительное производство) of a debtor.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
    pub struct DebtRecord {
        /// ФИО or name of the debtor.
        pub debtor_name: Option<String> => Text,
        /// Address (legal entities) or place of birth (individuals).
        pub debtor_address: Option<String> => Text,
        /// Birth date of an individual, often masked (`31.03.****`); an INN for legal entities.
        pub debtor_dob: Option<DebtorDob> => DobField,
        /// Номер исполнительного производства.
        pub process_title: Option<String> => Text,
        /// Дата начала производства; sometimes followed by another number.
        pub process_date: Option<ProcessDate> => ProcessDateField,
        /// Сводное исполнительное производство.
        pub process_total: Option<String> => Text,
        /// Реквизиты исполнительного документа, as one line.
        #[serde(rename = "recIspDoc")]
        pub rec_isp_doc: Option<String> = "recIspDoc" => Text,
        /// Реквизиты исполнительного документа, itemised.
        #[serde(rename = "recIspDocDetail")]
        pub rec_isp_doc_detail: Option<DocDetail> = "recIspDocDetail" => DocDetailField,
        /// Date and reason the proceeding ended, as one line.
        #[serde(rename = "stopIP")]
        pub stop_ip: Option<String> = "stopIP" => Text,
        /// Date the proceeding ended.
        #[serde(rename = "stopIPDate")]
        pub stop_ip_date: Option<LenientDate> = "stopIPDate" => DateField,
        /// Article, part and point it ended under.
        #[serde(rename = "stopIPReason")]
        pub stop_ip_reason: Option<String> = "stopIPReason" => Text,
        /// Предмет исполнения.
        pub subject: Option<String> => Text,
        /// The items of the debt, paid and unpaid.
        #[serde(rename = "subjectArray")]
        pub subject_array: Vec<DebtItem> = "subjectArray" => Many<DebtItem>,
        /// Общая сумма непогашенной задолженности.
        pub sum: Option<Money> => MoneyField,
        /// Отдел судебных приставов.
        pub document_organization: Option<String> => Text,
        /// Наименование отдела.
        pub department_title: Option<String> => Text,
        /// Адрес отдела.
        pub department_address: Option<String> => Text,
        /// Вид исполнительного документа.
        pub document_type: Option<String> => Text,
        /// Пристав.
        pub officer_name: Option<String> => Text,
        /// The officer's phones, flattened from the nested arrays the provider sends.
        pub officer_phones: Vec<String> => PhonesField,
        /// An `inquiry` printed inside a record (seen on the page's `ip` sample).
        pub inquiry: Option<Inquiry> => InquiryField,
    }
}

/// What `debtor_dob` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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

proverka_core::lenient_struct! {
    /// `recIspDocDetail`: the executive document's particulars. Arrives as an object, as a
    /// list of `[key, value]` pairs, or as a list of one-key objects; all three are read.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
    pub struct DocDetail {
        /// Наименование органа, выдавшего документ.
        pub doc_organization: Option<String> => Text,
        /// ИНН взыскателя-организации (as printed: the page's samples are not all valid INNs).
        pub doc_claimer_inn: Option<String> => Text,
        /// Вид документа.
        pub doc_type: Option<String> => Text,
        /// Дата принятия органом.
        pub doc_date: Option<LenientDate> => DateField,
        /// Номер документа.
        pub document_num: Option<String> => Text,
    }
}

/// The particulars in any of their three shapes, gathered into one object (a later key wins);
/// `None` when there are none.
fn doc_detail<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DocDetail>, D::Error> {
    let mut keys = serde_json::Map::new();
    match Value::deserialize(d)? {
        Value::Object(map) => keys.extend(map),
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Array(pair) if pair.len() == 2 => {
                        let mut it = pair.into_iter();
                        if let (Some(Value::String(k)), Some(v)) = (it.next(), it.next()) {
                            keys.insert(k, v);
                        }
                    }
                    Value::Object(map) => keys.extend(map),
                    _ => {}
                }
            }
        }
        _ => {}
    }
    if keys.is_empty() {
        return Ok(None);
    }
    Ok(serde_json::from_value(Value::Object(keys)).ok())
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

proverka_core::lenient_struct! {
    /// One item of a debt (`subjectArray`): what it is for and how much.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
    pub struct DebtItem {
        /// Наименование.
        pub title: Option<String> => Text,
        /// Сумма, parsed from `" 18422.50 руб."`.
        pub sum: Option<Money> => MoneyField,
    }
}

proverka_core::lenient_struct! {
    /// The answer of `wanted`: the wanted register's records.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
    pub struct WantedSearch {
        /// Статус ответа.
        pub status: Option<i64> => Int,
        /// Всего найдено записей.
        #[serde(rename = "countAll")]
        pub count_all: Option<i64> = "countAll" => Int,
        /// Всего найдено страниц.
        #[serde(rename = "pagesAll")]
        pub pages_all: Option<i64> = "pagesAll" => Int,
        /// Количество записей в результате (when sent).
        pub count: Option<i64> => Int,
        /// Всего загружено записей.
        #[serde(rename = "totalLoadedCount")]
        pub total_loaded_count: Option<i64> = "totalLoadedCount" => Int,
        /// Всего загружено страниц (at most 27).
        #[serde(rename = "totalLoadedPage")]
        pub total_loaded_page: Option<i64> = "totalLoadedPage" => Int,
        /// The records.
        pub records: Vec<WantedRecord> => Many<WantedRecord>,
        /// The provider's message, when nothing was found.
        pub message: Option<String> => Text,
        /// The cost of the query.
        pub inquiry: Option<Inquiry> => InquiryField;
        /// Records loaded into this answer (`totalLoadedCount`, else `count`, else the records
        /// present): proverka's field.
        pub loaded: i64,
        /// Whether this answer holds everything found (`false` when `totalLoadedPage` is below
        /// `pagesAll`: "Максимальное количество загружаемых страниц: 27"): proverka's field.
        pub complete: bool,
    }
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

proverka_core::lenient_struct! {
    /// One record of the wanted register.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct WantedRecord {
        /// Who or what is wanted.
        pub investigated_name: Option<String> = "investigatedName" => Text,
        /// Дата рождения (often masked).
        pub birth_date: Option<LenientDate> = "birthDate" => DateField,
        /// Адрес должника.
        pub debtor_address: Option<String> = "debtorAddress" => Text,
        /// Объект розыска.
        pub search_category: Option<String> = "searchCategory" => Text,
        /// Розыскное дело, №.
        pub search_docnumber: Option<String> = "searchDocnumber" => Text,
        /// Розыскное дело, дата.
        pub search_date: Option<LenientDate> = "searchDate" => DateField,
        /// Исполнительное производство, №.
        pub ip_number: Option<String> = "ipNumber" => Text,
        /// Исполнительное производство, дата.
        pub ip_risedate: Option<LenientDate> = "ipRisedate" => DateField,
        /// Исполнительное производство завершено.
        pub ip_number_compl: Option<String> = "ipNumberCompl" => Text,
        /// ОСП, где осуществляется розыск.
        pub dep_init_name: Option<String> = "depInitName" => Text,
        /// Адрес ОСП.
        pub dep_init_adr: Option<String> = "depInitAdr" => Text,
        /// Код ОСП.
        pub dep_init_code: Option<String> = "depInitCode" => Text,
        /// Телефон дежурной части.
        pub dep_init_phone: Option<String> = "depInitPhone" => Text,
    }
}
