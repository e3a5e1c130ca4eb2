//! Lenient reading of provider JSON values that are not always what a page says.
//!
//! [`int_of`] and [`text_of`] read a `serde_json::Value` already in hand; the readers in
//! [`fields`] read fields straight from the JSON (no intermediate `Value`: the hot parsing
//! paths), with the same rules, and [`lenient_struct!`](crate::lenient_struct) writes whole
//! structs with them.

pub mod fields;

use serde_json::Value;

/// Fields a model did not name, kept as they came.
pub type Extra = std::collections::BTreeMap<String, Value>;

/// An integer from a number (`3`), a numeric string (`"53"`), a float with no fraction, or a
/// boolean; anything else is `None`.
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

/// Text: strings as they are, numbers and booleans as their text, `null`/`""` (blank) as
/// `None`; objects and arrays are `None`.
pub fn text_of(v: Value) -> Option<String> {
    match v {
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A yes/no answer: `true`/`false`, or a number or numeric string that is `0` or `1`;
/// anything else is `None` (stricter than [`fields::Flag`], which reads any other number as
/// yes: a status is read only when it is unambiguous).
pub fn flag_of(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        v => int_of(v).filter(|n| *n == 0 || *n == 1).map(|n| n == 1),
    }
}

/// A provider's body read as a JSON object (a byte-order mark and white space around it
/// allowed, see [`json_body`](crate::json_body)), the first step of reading an answer by
/// hand.
///
/// # Errors
/// [`MalformedAnswer::describe`](crate::MalformedAnswer::describe) for a body that is not
/// JSON, [`MalformedAnswer::unexpected_shape`](crate::MalformedAnswer::unexpected_shape) for
/// JSON that is not an object.
pub fn json_object(
    provider: crate::Provider,
    status: u16,
    body: &[u8],
) -> Result<serde_json::Map<String, Value>, crate::MalformedAnswer> {
    match serde_json::from_slice(crate::json_body(body)) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(crate::MalformedAnswer::unexpected_shape(
            provider, status, body,
        )),
        Err(_) => Err(crate::MalformedAnswer::describe(provider, status, body)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lenient::fields::{Flag, Int, Many, Text};
    use serde_json::json;

    crate::lenient_struct! {
        #[derive(Debug, Default, serde::Serialize)]
        struct Probe {
            n: Option<i64> = "n" => Int,
            t: Option<String> = "t" => Text,
            f: Option<bool> = "f" => Flag,
            l: Vec<Item> = "l" => Many<Item>,
        }
    }

    crate::lenient_struct! {
        #[derive(Debug, Default, PartialEq, serde::Serialize)]
        struct Item {
            v: Option<i64> = "v" => Int,
        }
    }

    #[test]
    fn accepts_every_shape() {
        let p: Probe =
            serde_json::from_value(json!({"n": "53", "t": 5, "f": "1", "l": {"v": 7}, "x": [1]}))
                .unwrap();
        assert_eq!(
            (p.n, p.t.as_deref(), p.f, p.l.len()),
            (Some(53), Some("5"), Some(true), 1)
        );
        assert_eq!(p.extra["x"], json!([1]));
        let p: Probe = serde_json::from_value(
            json!({"n": null, "t": "", "f": {}, "l": [{"v": 1}, "a", 2, {"v": "2"}]}),
        )
        .unwrap();
        assert_eq!((p.n, p.t, p.f), (None, None, None));
        assert_eq!(
            p.l.iter().map(|i| i.v).collect::<Vec<_>>(),
            vec![Some(1), Some(2)]
        );
        let p: Probe = serde_json::from_value(json!({})).unwrap();
        assert_eq!((p.n, p.l.len()), (None, 0));
        assert_eq!(
            (int_of(&json!(3.0)), text_of(json!(true))),
            (Some(3), Some("true".into()))
        );
    }

    crate::lenient_struct! {
        #[derive(Debug, Default, PartialEq, serde::Serialize)]
        struct Aliased {
            phone: Option<String> = "phone" | "tel" => Text,
            site: Vec<String> => crate::lenient::fields::Words,
        }
    }

    #[test]
    fn of_two_keys_for_one_field_the_first_present_wins_and_the_other_is_kept() {
        // In the order read (a `serde_json::Value`'s keys are sorted: read from its text).
        let a: Aliased =
            serde_json::from_str(r#"{"tel": "1", "phone": "2", "site": " a  b "}"#).unwrap();
        assert_eq!(a.phone.as_deref(), Some("1"));
        assert_eq!(a.extra["phone"], json!("2"));
        assert_eq!(a.site, ["a", "b"]);
        let a: Aliased = serde_json::from_value(json!({"phone": "2", "site": null})).unwrap();
        assert_eq!((a.phone.as_deref(), a.site.len()), (Some("2"), 0));
    }
}
