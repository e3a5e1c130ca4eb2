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
}
