//! What a batch writes: the result columns of each row, typed, and the dry run's report.

use std::path::Path;

use proverka_core::Money;
use proverka_engine::{Outcome, Status};

use crate::check::{CheckKind, Invalid, Planned};
use crate::table::write::Sheet;
use crate::table::{Cell, Table};

/// The columns a batch adds to every row.
pub(crate) fn result_headers(kind: CheckKind) -> Vec<String> {
    let mut h = vec!["status".to_owned()];
    h.extend(kind.result_columns().iter().map(|c| (*c).to_owned()));
    h.extend(
        [
            "error_code",
            "error_message",
            "billed",
            "price_rub",
            "source",
            "note",
        ]
        .iter()
        .map(|c| (*c).to_owned()),
    );
    h
}

/// A result field as what it is: counts and rubles as numbers, yes/no as yes/no.
fn typed(field: &str, text: &str) -> Cell {
    match (field, text) {
        (_, "") => Cell::Empty,
        ("records", t) => t
            .parse()
            .map_or_else(|_| Cell::Text(t.to_owned()), Cell::Number),
        ("debt_rub" | "price_rub", t) => {
            Money::parse(t).map_or_else(|_| Cell::Text(t.to_owned()), Cell::Rubles)
        }
        ("complete" | "self_employed", "true") => Cell::Bool(true),
        ("complete" | "self_employed", "false") => Cell::Bool(false),
        (_, t) => Cell::Text(t.to_owned()),
    }
}

/// One outcome as the added columns.
pub(crate) fn columns(kind: CheckKind, o: &Outcome, note: Option<String>) -> Vec<Cell> {
    let text = |s: &str| typed("", s);
    let mut c = vec![text(o.status.as_str())];
    c.extend(
        kind.result_columns()
            .iter()
            .map(|f| typed(f, o.fields.get(*f).map_or("", String::as_str))),
    );
    c.push(text(o.error_code.as_deref().unwrap_or_default()));
    c.push(text(o.error_message.as_deref().unwrap_or_default()));
    c.push(if o.status == Status::Pending {
        Cell::Empty
    } else {
        text(&o.billed)
    });
    c.push(typed(
        "price_rub",
        o.price_rub.as_deref().unwrap_or_default(),
    ));
    c.push(text(&o.source));
    c.push(text(note.as_deref().unwrap_or_default()));
    c
}

/// The end of a dry run: each invalid row and why (to the terminal, the first 50; all in
/// `--report`), and an error when no row could be sent.
pub(super) fn dry_run(
    input_path: &Path,
    report: Option<&Path>,
    input: &Table,
    planned: &[Result<Planned, Invalid>],
    valid: usize,
) -> Result<super::Ending, String> {
    let invalid: Vec<(usize, &Invalid)> = input
        .rows
        .iter()
        .zip(planned)
        .filter_map(|((line, _), p)| p.as_ref().err().map(|e| (*line, e)))
        .collect();
    for (line, e) in invalid.iter().take(50) {
        eprintln!("  line {line}: {} ({})", e.message, e.code);
    }
    if invalid.len() > 50 {
        eprintln!(
            "  … and {} more (--report FILE lists them all)",
            invalid.len() - 50
        );
    }
    if let Some(report) = report {
        let sheet = Sheet {
            name: "invalid".to_owned(),
            headers: vec!["line".into(), "error_code".into(), "error_message".into()],
            rows: invalid
                .iter()
                .map(|(line, e)| {
                    vec![
                        Cell::Number(*line as f64),
                        Cell::Text(e.code.clone()),
                        Cell::Text(e.message.clone()),
                    ]
                })
                .collect(),
        };
        crate::table::write::write_csv_sheet(&sheet, b';', report)
            .map_err(|e| format!("{}: {e}", report.display()))?;
        eprintln!("invalid rows: {}", report.display());
    }
    if valid == 0 && !input.rows.is_empty() {
        return Err(format!(
            "--dry-run: no row of {} can be sent ({} invalid, reasons above): fix the file or the column names (--map)",
            input_path.display(),
            invalid.len()
        ));
    }
    eprintln!("--dry-run: nothing sent");
    Ok(super::Ending::Done)
}

/// The «Итог» sheet's rows: counts, rubles, then the rows by status.
pub(super) fn summary(
    counts: &[(&str, u64)],
    rubles: &[(&str, Money)],
    by_status: &std::collections::BTreeMap<&'static str, u64>,
) -> Vec<Vec<Cell>> {
    let label = |s: &str| Cell::Text(s.to_owned());
    counts
        .iter()
        .map(|(k, n)| vec![label(k), Cell::Number(*n as f64)])
        .chain(rubles.iter().map(|(k, m)| vec![label(k), Cell::Rubles(*m)]))
        .chain(by_status.iter().map(|(status, n)| {
            vec![
                Cell::Text(format!("Статус {status}")),
                Cell::Number(*n as f64),
            ]
        }))
        .collect()
}
