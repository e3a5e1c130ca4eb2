//! Inputs shared by the criterion benches.

use std::path::{Path, PathBuf};

/// The repository's `fixtures/` folder.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// An FSSP `physical` answer with `n` records: the page's sample record repeated.
pub fn fssp_physical(n: usize) -> Vec<u8> {
    let text = std::fs::read_to_string(fixtures_dir().join("fssp/physical_found.json"))
        .unwrap_or_default();
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let record = value["records"][0].clone();
    value["records"] = serde_json::Value::Array(vec![record; n]);
    value["count"] = n.into();
    serde_json::to_vec(&value).unwrap_or_default()
}
