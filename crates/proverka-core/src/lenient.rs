//! Lenient serde helpers for provider JSON, used with `#[serde(deserialize_with = …)]`.
//!
//! Each helper accepts every JSON type and never fails: a value of a shape it cannot use
//! becomes `None` (or an empty list), so one odd field never loses a whole paid answer. Use
//! them with `#[serde(default)]` so an absent field is `None` too.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::{LenientDate, Money};

/// Fields a model did not name, kept as they came (`#[serde(flatten)]`).
pub type Extra = std::collections::BTreeMap<String, Value>;

/// An integer from a number (`3`), a numeric string (`"53"`), or a float with no fraction.
/// `null`, `""` and anything else are `None`.
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(int_of(&Value::deserialize(d)?))
}

/// The integer in a JSON value, as [`int`] reads it.
pub fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

/// A text field: strings as they are, numbers and booleans as their text, `null`/`""` as
/// `None`. Objects and arrays are `None` (keep the raw value in [`Extra`] if it matters).
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(text_of(Value::deserialize(d)?))
}

/// The text in a JSON value, as [`text`] reads it.
pub fn text_of(v: Value) -> Option<String> {
    match v {
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Money from a number or a decorated string (`" 18422.50 руб."`); anything else is `None`.
pub fn money<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Money>, D::Error> {
    Ok(Money::from_json(&Value::deserialize(d)?))
}

/// A flag printed as `1`/`0`, `"1"`/`"0"` or `true`/`false`.
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => Some(b),
        v => int_of(&v).map(|i| i != 0),
    })
}

/// A date in `dd.mm.yyyy` or `YYYY-MM-DD`, the raw text kept when it is masked or partial.
pub fn date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<LenientDate>, D::Error> {
    Ok(text_of(Value::deserialize(d)?).map(|s| LenientDate::parse(&s)))
}

/// A list that may arrive as one item, as a list, or as `null`: items that do not
/// deserialize as `T` are skipped rather than failing the whole answer.
pub fn one_or_many<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    Ok(match Value::deserialize(d)? {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| T::deserialize(v).ok())
            .collect(),
        one => T::deserialize(one).into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "int")]
        n: Option<i64>,
        #[serde(default, deserialize_with = "text")]
        t: Option<String>,
        #[serde(default, deserialize_with = "flag")]
        f: Option<bool>,
        #[serde(default, deserialize_with = "one_or_many")]
        l: Vec<u8>,
        #[serde(flatten)]
        extra: Extra,
    }

    #[test]
    fn accepts_every_shape() {
        let p: Probe =
            serde_json::from_value(json!({"n": "53", "t": 5, "f": "1", "l": 7, "x": [1]})).unwrap();
        assert_eq!(
            (p.n, p.t.as_deref(), p.f, p.l),
            (Some(53), Some("5"), Some(true), vec![7])
        );
        assert_eq!(p.extra["x"], json!([1]));
        let p: Probe =
            serde_json::from_value(json!({"n": null, "t": "", "f": {}, "l": [1, "a", 2]})).unwrap();
        assert_eq!((p.n, p.t, p.f, p.l), (None, None, None, vec![1, 2]));
        let p: Probe = serde_json::from_value(json!({})).unwrap();
        assert_eq!((p.n, p.l.len()), (None, 0));
    }
}
