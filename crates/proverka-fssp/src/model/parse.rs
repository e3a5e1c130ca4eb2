//! Reading a body: telling the provider's error bodies and unreadable bodies from answers.

use proverka_core::lenient::Extra;
use proverka_core::{Billed, MalformedAnswer, Money, Provider, lenient};
use serde_json::Value;

use super::{Completeness, DebtorSearch, Regions, WantedSearch};
use crate::error::{ErrorCode, ProviderError};

/// Why a body is not a usable answer: an FSSP error body, or not FSSP's JSON.
pub(crate) type NotAnAnswer = proverka_core::NotAnAnswer<ProviderError>;

/// Finds an FSSP error in a parsed body: a non-empty `error`.
pub(super) fn provider_error(map: &serde_json::Map<String, Value>) -> Option<ProviderError> {
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

pub(super) fn error_in(
    extra: &Extra,
    status: Option<i64>,
    message: Option<&String>,
) -> Option<ProviderError> {
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

/// Records loaded (the counter sent, else the records present) and whether that is all.
fn loaded_and_complete(
    loaded: Option<i64>,
    records: usize,
    count_all: Option<i64>,
    pages_all: Option<i64>,
    loaded_pages: Option<i64>,
) -> (i64, bool) {
    let loaded = loaded.unwrap_or_else(|| i64::try_from(records).unwrap_or(i64::MAX));
    let complete = Completeness {
        count_all,
        pages_all,
        loaded_pages,
        loaded,
    }
    .is_complete();
    (loaded, complete)
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
        (self.loaded, self.complete) = loaded_and_complete(
            self.count,
            self.records.len(),
            self.count_all,
            self.pages_all,
            self.total_loaded_page,
        );
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
        (self.loaded, self.complete) = loaded_and_complete(
            self.total_loaded_count.or(self.count),
            self.records.len(),
            self.count_all,
            self.pages_all,
            self.total_loaded_page,
        );
    }
}
