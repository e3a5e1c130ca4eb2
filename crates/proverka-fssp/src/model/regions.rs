//! `regionsList`: the region numbers for `region=` (free of charge).

use proverka_core::lenient;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Inquiry;

/// The answer of `regionsList`.
///
/// The page shows no sample of this answer, so the reader accepts the shapes such lists take:
/// a list of objects (`id`/`code`/`region` with `name`/`title`) or an object mapping numbers to
/// names, at the top level or under `records`/`regions`/`result`/`data`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
pub struct Regions {
    /// The regions, in the provider's order.
    pub regions: Vec<RegionEntry>,
    /// The `inquiry` block, if sent (the query is free).
    pub inquiry: Option<Inquiry>,
}

/// One region of `regionsList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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

    pub(super) fn from_value(v: Value) -> Option<Self> {
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
