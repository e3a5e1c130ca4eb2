//! What a batch writes: the result columns of each row, typed, and the dry run's report.

use std::path::Path;

use proverka_core::Money;
use proverka_core::checks::{ColumnKind, DetailSheet};
use proverka_engine::{Outcome, Status};

use crate::check::{Check, Invalid};
use crate::lang::Lang;
use crate::table::write::{Output, Sheet};
use crate::table::{Cell, Format};

/// The columns a batch adds to every row.
pub(crate) fn result_headers(check: &Check) -> Vec<String> {
    let mut h = vec!["status".to_owned()];
    h.extend(check.spec.columns.iter().map(|c| c.key.to_owned()));
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

/// A result field as what it is: counts and rubles as numbers, dates as dates, yes/no as
/// yes/no.
fn typed(kind: ColumnKind, text: &str) -> Cell {
    match (kind, text) {
        (_, "") => Cell::Empty,
        (ColumnKind::Number, t) => t
            .parse()
            .map_or_else(|_| Cell::Text(t.to_owned()), Cell::Number),
        (ColumnKind::Date, t) => {
            proverka_core::Date::parse_iso(t).map_or_else(|_| Cell::Text(t.to_owned()), Cell::Date)
        }
        (ColumnKind::Rubles, t) => {
            Money::parse(t).map_or_else(|_| Cell::Text(t.to_owned()), Cell::Rubles)
        }
        (ColumnKind::Bool, "true") => Cell::Bool(true),
        (ColumnKind::Bool, "false") => Cell::Bool(false),
        (_, t) => Cell::Text(t.to_owned()),
    }
}

/// The error column of a row in `lang`: a refused row's reason in plain words; a provider's
/// error in the provider's own words where its page has them (Russian), else as it came.
pub(super) fn error_text(
    lang: Lang,
    check: &Check,
    o: &Outcome,
    refused: Option<&Invalid>,
    params: &[(String, String)],
) -> String {
    if let Some(invalid) = refused {
        return lang.refusal(check, invalid, params);
    }
    let message = o.error_message.clone().unwrap_or_default();
    if let Some(text) = o
        .error_code
        .as_deref()
        .and_then(|code| lang.own_failure(code, &o.billed))
    {
        return text.to_owned();
    }
    match (lang, o.error_code.as_deref(), o.status) {
        (Lang::Ru, Some(code), Status::Error | Status::RetryLater) => check
            .adapter
            .explain(code)
            .map_or(message, |m| m.meaning.into_owned()),
        _ => message,
    }
}

/// One outcome as the added columns, in `lang`.
pub(crate) fn columns(
    lang: Lang,
    check: &Check,
    o: &Outcome,
    error: String,
    note: Option<String>,
) -> Vec<Cell> {
    let text = |s: &str| typed(ColumnKind::Text, s);
    let mut c = vec![text(lang.status(o.status))];
    c.extend(check.spec.columns.iter().map(|f| {
        match typed(f.kind, o.fields.get(f.key).map_or("", String::as_str)) {
            Cell::Bool(b) if lang == Lang::En => Cell::Text(lang.yes_no(b).to_owned()),
            other => other,
        }
    }));
    c.push(text(o.error_code.as_deref().unwrap_or_default()));
    c.push(text(&error));
    c.push(if o.status == Status::Pending {
        Cell::Empty
    } else {
        text(&lang.billed(&o.billed))
    });
    c.push(typed(
        ColumnKind::Rubles,
        o.price_rub.as_deref().unwrap_or_default(),
    ));
    c.push(text(&lang.source(&o.source)));
    c.push(text(note.as_deref().unwrap_or_default()));
    c
}

/// The end of a dry run: each invalid row and why (to the terminal, the first 50; all in
/// `--report`), and an error when no row could be sent.
pub(super) fn dry_run(
    lang: Lang,
    input_path: &Path,
    report: Option<&Path>,
    invalid: &[(usize, String, String)],
    valid: usize,
    rows: usize,
) -> Result<super::Ending, String> {
    let ru = lang == Lang::Ru;
    for (line, code, message) in invalid.iter().take(50) {
        let word = if ru { "строка" } else { "line" };
        eprintln!("  {word} {line}: {message} ({code})");
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
            headers: if ru {
                vec!["строка".into(), "код ошибки".into(), "ошибка".into()]
            } else {
                vec!["line".into(), "error_code".into(), "error_message".into()]
            },
            rows: invalid
                .iter()
                .map(|(line, code, message)| {
                    vec![
                        Cell::Number(*line as f64),
                        Cell::Text(code.clone()),
                        Cell::Text(message.clone()),
                    ]
                })
                .collect(),
        };
        crate::table::write::write_csv_sheet(&sheet, b';', report)
            .map_err(|e| format!("{}: {e}", report.display()))?;
        eprintln!(
            "{}: {}",
            if ru {
                "неверные строки"
            } else {
                "invalid rows"
            },
            report.display()
        );
    }
    if valid == 0 && rows > 0 {
        return Err(if ru {
            format!(
                "--dry-run: ни одну строку {} нельзя отправить (неверных: {}, причины выше): исправьте файл или названия колонок (--map)",
                input_path.display(),
                invalid.len()
            )
        } else {
            format!(
                "--dry-run: no row of {} can be sent ({} invalid, reasons above): fix the file or the column names (--map)",
                input_path.display(),
                invalid.len()
            )
        });
    }
    eprintln!(
        "{}",
        if ru {
            "--dry-run: ничего не отправлено"
        } else {
            "--dry-run: nothing sent"
        }
    );
    Ok(super::Ending::Done)
}

/// The «Итог» sheet's rows: counts, rubles, then the rows by status.
pub(super) fn summary(
    lang: Lang,
    counts: &[(&str, u64)],
    rubles: &[(&str, Money)],
    by_status: &std::collections::BTreeMap<&'static str, u64>,
) -> Vec<Vec<Cell>> {
    let label = |s: &str| Cell::Text(lang.label(s));
    counts
        .iter()
        .map(|(k, n)| vec![label(k), Cell::Number(*n as f64)])
        .chain(rubles.iter().map(|(k, m)| vec![label(k), Cell::Rubles(*m)]))
        .chain(by_status.iter().map(|(status, n)| {
            vec![
                Cell::Text(format!("{} «{status}»", lang.label("Статус"))),
                Cell::Number(*n as f64),
            ]
        }))
        .collect()
}

/// The detail rows of an outcome (a debt search's proceedings), each linked to the input row `line`.
pub(super) fn details_of(line: usize, outcome: &Outcome, detail: &DetailSheet) -> Vec<Vec<Cell>> {
    let Some(json) = outcome.fields.get(detail.name) else {
        return Vec::new();
    };
    let list: Vec<serde_json::Value> = serde_json::from_str(json).unwrap_or_default();
    list.iter()
        .map(|row| {
            let mut cells = vec![Cell::Number(line as f64)];
            cells.extend(
                detail
                    .columns
                    .iter()
                    .map(|c| typed(c.kind, &proverka_core::checks::field_text(&row[c.key]))),
            );
            cells
        })
        .collect()
}

/// Writes the batch's output: a workbook gets the check's detail sheet («Производства») and
/// the «Итог» sheet; a CSV or JSON-lines file gets the details in a second file beside it
/// (`NAME.proceedings.EXT`).
pub(super) fn write(
    lang: Lang,
    mut output: Output<'_>,
    details: Option<(&DetailSheet, Vec<Vec<Cell>>)>,
    summary: Vec<Vec<Cell>>,
    out: &Path,
) -> Result<(), String> {
    let ru = lang == Lang::Ru;
    let suffix = details.as_ref().map(|(d, _)| d.name);
    let proceedings = details
        .filter(|(_, rows)| !rows.is_empty())
        .map(|(detail, rows)| Sheet {
            name: (if ru { detail.russian } else { detail.english }).to_owned(),
            headers: std::iter::once(if ru { "строка" } else { "row" }.to_owned())
                .chain(
                    detail
                        .columns
                        .iter()
                        .map(|c| (if ru { c.russian } else { c.key }).to_owned()),
                )
                .collect(),
            rows,
        });
    if Format::of(out)? == Format::Xlsx {
        output.added.extend(proceedings);
        output.added.push(Sheet {
            name: lang.label("Итог"),
            headers: vec![lang.label("Показатель"), lang.label("Значение")],
            rows: summary,
        });
        return output.write(out);
    }
    output.write(out)?;
    if let (Some(sheet), Some(suffix)) = (proceedings, suffix) {
        let path = details_path(out, suffix);
        Output {
            main: sheet,
            origin: output.origin,
            input: output.input,
            added: Vec::new(),
        }
        .write(&path)?;
        eprintln!("{suffix}: {}", path.display());
    }
    Ok(())
}

/// Where a CSV or JSON-lines output's details go: `debts.csv` → `debts.proceedings.csv`.
pub(super) fn details_path(out: &Path, suffix: &str) -> std::path::PathBuf {
    let stem = out.file_stem().unwrap_or_default().to_string_lossy();
    let ext = out.extension().unwrap_or_default().to_string_lossy();
    out.with_file_name(format!("{stem}.{suffix}.{ext}"))
}
