//! What a batch writes: the result columns of each row, typed, and the dry run's report.

use std::path::Path;

use proverka_core::Money;
use proverka_engine::{Outcome, Status};

use crate::check::{CheckKind, Invalid, PROCEEDINGS, Planned};
use crate::table::write::{Output, Sheet};
use crate::table::{Cell, Format, Table};

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
        ("checked_on", t) => {
            proverka_core::Date::parse_iso(t).map_or_else(|_| Cell::Text(t.to_owned()), Cell::Date)
        }
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

/// The columns of the «Производства» sheet (file): the input row, then the proceeding.
const PROCEEDING_COLUMNS: [&str; 7] = [
    "строка",
    "номер производства",
    "дата",
    "предмет",
    "сумма, ₽",
    "отдел",
    "пристав",
];

/// An FSSP outcome's proceedings, each a row linked to the input row `line`.
pub(super) fn proceedings_of(line: usize, outcome: &Outcome) -> Vec<Vec<Cell>> {
    let Some(json) = outcome.fields.get(PROCEEDINGS) else {
        return Vec::new();
    };
    let list: Vec<serde_json::Value> = serde_json::from_str(json).unwrap_or_default();
    let text = |v: &serde_json::Value| v.as_str().map_or(Cell::Empty, |s| Cell::Text(s.to_owned()));
    list.iter()
        .map(|p| {
            vec![
                Cell::Number(line as f64),
                text(&p["number"]),
                p["date"]
                    .as_str()
                    .and_then(|d| proverka_core::Date::parse_iso(d).ok())
                    .map_or(Cell::Empty, Cell::Date),
                text(&p["subject"]),
                p["sum"]
                    .as_str()
                    .and_then(|s| Money::parse(s).ok())
                    .map_or(Cell::Empty, Cell::Rubles),
                text(&p["department"]),
                text(&p["bailiff"]),
            ]
        })
        .collect()
}

/// Writes the batch's output: a workbook gets the «Производства» and «Итог» sheets; a CSV or
/// JSON-lines file gets the proceedings in a second file beside it (`NAME.proceedings.EXT`).
pub(super) fn write(
    mut output: Output<'_>,
    proceedings: Vec<Vec<Cell>>,
    summary: Vec<Vec<Cell>>,
    out: &Path,
) -> Result<(), String> {
    let proceedings = (!proceedings.is_empty()).then(|| Sheet {
        name: "Производства".to_owned(),
        headers: PROCEEDING_COLUMNS.iter().map(|c| (*c).to_owned()).collect(),
        rows: proceedings,
    });
    if Format::of(out)? == Format::Xlsx {
        output.added.extend(proceedings);
        output.added.push(Sheet {
            name: "Итог".to_owned(),
            headers: vec!["Показатель".to_owned(), "Значение".to_owned()],
            rows: summary,
        });
        return output.write(out);
    }
    output.write(out)?;
    if let Some(sheet) = proceedings {
        let path = proceedings_path(out);
        Output {
            main: sheet,
            origin: output.origin,
            input: output.input,
            added: Vec::new(),
        }
        .write(&path)?;
        eprintln!("proceedings: {}", path.display());
    }
    Ok(())
}

/// Where a CSV or JSON-lines output's proceedings go: `debts.csv` → `debts.proceedings.csv`.
pub(super) fn proceedings_path(out: &Path) -> std::path::PathBuf {
    let stem = out.file_stem().unwrap_or_default().to_string_lossy();
    let ext = out.extension().unwrap_or_default().to_string_lossy();
    out.with_file_name(format!("{stem}.proceedings.{ext}"))
}
