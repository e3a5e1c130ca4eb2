//! Journals of earlier versions (`OUT.journal.jsonl`, one JSON line per answered query):
//! imported into the store of record once, then renamed to `OUT.journal.jsonl.imported`, so
//! the store is the only record of a batch from then on.
//!
//! Each line is read on its own, as bytes: a line cut by a full disk or an editor (in the
//! middle of a Cyrillic character) spoils that line only, and a record the earlier version
//! glued to a cut one is read on its own too. A damaged record whose query key can still be
//! read is imported as `billed_unknown` (it was sent, and may have been billed): never sent
//! again unless `--retry-unknown` says so. A line without a readable key is reported by its
//! number.

use std::path::{Path, PathBuf};

use proverka_engine::{Batch, Outcome, Status};
use serde::Deserialize;

/// One line of an earlier version's journal.
#[derive(Debug, Deserialize)]
struct Line {
    key: String,
    #[serde(flatten)]
    outcome: Outcome,
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Imported {
    /// Rows whose outcome was imported.
    pub(crate) rows: usize,
    /// Rows whose line was damaged but whose key could be read: imported as
    /// `billed_unknown`.
    pub(crate) damaged: usize,
    /// Line numbers that could not be read at all.
    pub(crate) unreadable: Vec<usize>,
    /// Where the journal went.
    pub(crate) renamed_to: PathBuf,
}

/// The journal an earlier version kept beside an output file.
pub(crate) fn path_for(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".journal.jsonl");
    out.with_file_name(name)
}

/// A query key (64 hex digits) at the start of a JSON line, as the earlier version wrote it
/// (`{"key":"…"`), or anywhere a `"key"` field can be read.
fn key_of(line: &[u8]) -> Option<String> {
    let prefix = b"{\"key\":\"";
    let key = line.strip_prefix(prefix)?.get(..64)?;
    key.iter()
        .all(u8::is_ascii_hexdigit)
        .then(|| String::from_utf8_lossy(key).into_owned())
}

/// The records of one line: the line itself, or, where the earlier version glued a record to
/// a cut one, each piece that starts a record.
fn records(line: &[u8]) -> Vec<&[u8]> {
    let start = b"{\"key\":\"";
    let mut at: Vec<usize> = (0..line.len())
        .filter(|&i| line[i..].starts_with(start))
        .collect();
    if at.first() != Some(&0) {
        at.insert(0, 0);
    }
    at.iter()
        .enumerate()
        .map(|(n, &from)| &line[from..at.get(n + 1).copied().unwrap_or(line.len())])
        .collect()
}

fn damaged(line_number: usize) -> Outcome {
    Outcome::failed(
        Status::BilledUnknown,
        "journal_damaged",
        format!(
            "an earlier run sent this query, but its journal line ({line_number}) is damaged: the provider may have billed it; --retry-unknown sends it again"
        ),
        "unknown",
        "provider",
    )
}

/// Imports `path` into `batch` when it exists (rows the batch knows already are left as they
/// are) and renames it; `None` when there is none.
///
/// # Errors
/// The journal cannot be read or renamed, or the store does not answer.
pub(crate) async fn import(path: &Path, batch: &Batch) -> Result<Option<Imported>, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let mut imported = Imported::default();
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let number = i + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let mut read_any = false;
        for record in records(line) {
            let (key, outcome) = match serde_json::from_slice::<Line>(record) {
                Ok(l) if l.key.len() == 64 && l.key.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    imported.rows += 1;
                    (l.key, l.outcome)
                }
                _ => match key_of(record) {
                    Some(key) => {
                        imported.damaged += 1;
                        (key, damaged(number))
                    }
                    None => continue,
                },
            };
            read_any = true;
            batch
                .import(&key, &outcome)
                .await
                .map_err(|e| e.to_string())?;
        }
        if !read_any {
            imported.unreadable.push(number);
        }
    }
    let mut renamed = path.as_os_str().to_os_string();
    renamed.push(".imported");
    let renamed = PathBuf::from(renamed);
    std::fs::rename(path, &renamed).map_err(|e| format!("{}: {e}", path.display()))?;
    imported.renamed_to = renamed;
    Ok(Some(imported))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_read_from_a_line_cut_anywhere_after_it() {
        let key = "ab".repeat(32);
        let whole = format!("{{\"key\":\"{key}\",\"status\":\"ok\",\"billed\":\"charged\"}}");
        for cut in 72..whole.len() {
            assert_eq!(key_of(&whole.as_bytes()[..cut]), Some(key.clone()), "{cut}");
        }
        assert_eq!(key_of(&whole.as_bytes()[..40]), None);
        assert_eq!(key_of(b"\xd0\x98\xd0"), None);
    }

    #[test]
    fn a_record_glued_to_a_cut_one_is_read_on_its_own() {
        let first = format!("{{\"key\":\"{}\",\"sta", "a".repeat(64));
        let second = format!("{{\"key\":\"{}\",\"status\":\"ok\"}}", "b".repeat(64));
        let line = format!("{first}{second}");
        let pieces = records(line.as_bytes());
        assert_eq!(pieces, [first.as_bytes(), second.as_bytes()]);
        assert_eq!(records(b"garbage"), [b"garbage".as_slice()]);
    }
}
