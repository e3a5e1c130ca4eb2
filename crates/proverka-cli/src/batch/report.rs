//! What a batch writes: the result columns of each row, typed, and the dry run's report.

use std::path::Path;

use proverka_core::Money;
use proverka_engine::{Outcome, Status};

use crate::check::{CheckKind, Invalid, PROCEEDINGS};
use crate::lang::Lang;
use crate::table::write::{Output, Sheet};
use crate::table::{Cell, Format};

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

/// The error column of a row in `lang`: a refused row's reason in plain words; a provider's
/// error in the provider's own words where its page has them (Russian), else as it came.
pub(super) fn error_text(
    lang: Lang,
    kind: CheckKind,
    o: &Outcome,
    refused: Option<&Invalid>,
    params: &[(String, String)],
) -> String {
    if let Some(invalid) = refused {
        return lang.refusal(kind, invalid, params);
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
        (Lang::Ru, Some(code), Status::Error | Status::RetryLater) => proverka::adapters()
            .iter()
            .find(|a| a.provider() == kind.provider())
            .and_then(|a| a.explain(code))
            .map_or(message, |m| m.meaning.into_owned()),
        _ => message,
    }
}

/// One outcome as the added columns, in `lang`.
pub(crate) fn columns(
    lang: Lang,
    kind: CheckKind,
    o: &Outcome,
    error: String,
    note: Option<String>,
) -> Vec<Cell> {
    let text = |s: &str| typed("", s);
    let mut c = vec![text(lang.status(o.status))];
    c.extend(kind.result_columns().iter().map(|f| {
        match typed(f, o.fields.get(*f).map_or("", String::as_str)) {
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
        "price_rub",
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

/// The columns of the «Производства» sheet (file): the input row, then the proceeding.
const PROCEEDING_COLUMNS: [(&str, &str); 7] = [
    ("строка", "row"),
    ("номер производства", "proceeding"),
    ("дата", "date"),
    ("предмет", "subject"),
    ("сумма, ₽", "sum, RUB"),
    ("отдел", "department"),
    ("пристав", "bailiff"),
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
    lang: Lang,
    mut output: Output<'_>,
    proceedings: Vec<Vec<Cell>>,
    summary: Vec<Vec<Cell>>,
    out: &Path,
) -> Result<(), String> {
    let proceedings = (!proceedings.is_empty()).then(|| Sheet {
        name: lang.label("Производства"),
        headers: PROCEEDING_COLUMNS
            .iter()
            .map(|(ru, en)| if lang == Lang::Ru { ru } else { en }.to_string())
            .collect(),
        rows: proceedings,
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
