//! Court answers (ответ), read leniently.

use proverka_core::lenient::fields::{Text, Words};
use proverka_core::lenient::{self, Extra};
use proverka_core::{MalformedAnswer, Provider, RawAnswer};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Error, ProviderError};

proverka_core::lenient_struct! {
    /// A court: the district/city court (`court_fs`, районный/городской суд) or the
    /// magistrate's precinct (`court_ms`, участок мирового судьи).
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
    pub struct Court {
        /// Наименование суда.
        pub title: Option<String> => Text,
        /// Адрес суда.
        pub address: Option<String> => Text,
        /// Сайт суда: several space-separated values are split.
        pub site: Vec<String> => Words,
        /// Email суда: several space-separated values are split.
        pub email: Vec<String> => Words,
        /// Телефон суда (`phone` in the sample, `tel` in the field list and in the wild).
        pub phone: Option<String> = "phone" | "tel" => Text,
        /// A court code, where sent.
        pub code: Option<String> => Text,
    }
}

impl Court {
    /// A court from its JSON object; anything else is none.
    fn from_value(v: Value) -> Option<Self> {
        serde_json::from_value(v).ok()
    }
}

/// A successful answer (`data.status = 1`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
pub struct Jurisdiction {
    /// `data.last`: queries left today.
    pub queries_left: Option<i64>,
    /// `request.address`: the address as the provider read it.
    pub address: Option<String>,
    /// `request.coords`: the coordinates as the provider read them.
    pub coords: Option<String>,
    /// The district/city court; `None` when the provider has none for the place yet.
    pub court_fs: Option<Court>,
    /// The magistrate's precinct; `None` when the provider has none for the place yet.
    pub court_ms: Option<Court>,
    /// Fields not named above (top level and `request`).
    pub extra: Extra,
}

impl Jurisdiction {
    /// Whether at least one court was found. "Both `null`" is a real answer: the provider adds
    /// courts daily, so it is cached only briefly.
    pub fn found(&self) -> bool {
        self.court_fs.is_some() || self.court_ms.is_some()
    }
}

/// Why a body is not a usable answer: a court API error body, or not its JSON. (An error
/// body's `data.last` is read by [`queries_left`].)
pub(crate) type NotAnAnswer = proverka_core::NotAnAnswer<ProviderError>;

/// `data.last` of any body that has one (answers and errors alike).
pub fn queries_left(body: &[u8]) -> Option<i64> {
    let v: Value = serde_json::from_slice(proverka_core::json_body(body)).ok()?;
    v.get("data")
        .and_then(|d| d.get("last"))
        .and_then(lenient::int_of)
}

fn take_court(map: &mut Map<String, Value>, key: &str) -> Option<Court> {
    map.remove(key).and_then(Court::from_value)
}

/// Reads a court API body. Courts are read under `request` (the sample) or at the top level
/// (the field list); `tel` or `phone`.
fn parse_body(status: u16, body: &[u8]) -> Result<Jurisdiction, NotAnAnswer> {
    let malformed = |what: fn(Provider, u16, &[u8]) -> MalformedAnswer| {
        NotAnAnswer::Malformed(what(Provider::Court, status, body))
    };
    let mut top =
        lenient::json_object(Provider::Court, status, body).map_err(NotAnAnswer::Malformed)?;
    let Some(Value::Object(mut data)) = top.remove("data") else {
        return Err(malformed(MalformedAnswer::unexpected_shape));
    };
    let queries_left = data.remove("last").as_ref().and_then(lenient::int_of);
    let ok = data.remove("status").as_ref().and_then(lenient::int_of);
    let error = data.remove("error").and_then(lenient::text_of);
    match (ok, error) {
        (Some(1), _) => {}
        (_, Some(text)) => {
            return Err(NotAnAnswer::Provider(ProviderError::from_text(&text)));
        }
        _ => return Err(malformed(MalformedAnswer::unexpected_shape)),
    }
    if status != 200 {
        return Err(malformed(MalformedAnswer::unexpected_shape));
    }
    let mut request = match top.remove("request") {
        Some(Value::Object(r)) => r,
        _ => Map::new(),
    };
    let mut answer = Jurisdiction {
        queries_left,
        address: request.remove("address").and_then(lenient::text_of),
        coords: request.remove("coords").and_then(lenient::text_of),
        court_fs: take_court(&mut request, "court_fs").or_else(|| take_court(&mut top, "court_fs")),
        court_ms: take_court(&mut request, "court_ms").or_else(|| take_court(&mut top, "court_ms")),
        extra: Extra::new(),
    };
    for (k, v) in data {
        answer.extra.insert(format!("data.{k}"), v);
    }
    for (k, v) in request {
        answer.extra.insert(format!("request.{k}"), v);
    }
    answer.extra.extend(top);
    Ok(answer)
}

/// Parses a raw court answer.
///
/// # Errors
/// [`Error::Provider`] for `data.status = 0`, [`Error::Malformed`] for anything else.
pub fn parse(raw: &RawAnswer) -> Result<Jurisdiction, Error> {
    parse_body(raw.status, &raw.body).map_err(Error::from)
}
