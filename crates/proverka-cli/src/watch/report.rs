//! `watch changes`: one row per change with before and after, as CSV, XLSX or JSON, in Russian
//! by default.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use proverka_core::Date;
use proverka_store::Store;

use super::vault::{KeptChange, Vault, keyring};
use super::{ChangesCmd, Ending, list_named, moscow_day_start};
use crate::check::Check;
use crate::lang::Lang;
use crate::spend::SpendFormat;

/// A time as Moscow reads it: `2026-12-07 14:05`.
pub(crate) fn moscow_time(at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) + 3 * 3600;
    let day = Date::moscow_date_at(at);
    format!(
        "{} {:02}:{:02}",
        day.to_iso(),
        (secs % 86_400) / 3600,
        (secs % 3600) / 60
    )
}

/// A subject as people read it: each parameter with its label (`ИНН 771014067988`).
pub(crate) fn subject_text(check: &Check, pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let label = check.spec.param(k).map_or(k.as_str(), |p| p.label);
            format!("{label} {v}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One change as a report shows it.
#[derive(Debug, serde::Serialize)]
pub(crate) struct ChangeRow {
    pub(crate) at: String,
    pub(crate) run: i64,
    pub(crate) subject: String,
    pub(crate) what: String,
    pub(crate) item: Option<String>,
    pub(crate) before: Option<String>,
    pub(crate) after: Option<String>,
}

impl ChangeRow {
    fn cells(&self) -> [String; 7] {
        [
            self.at.clone(),
            self.run.to_string(),
            self.subject.clone(),
            self.what.clone(),
            self.item.clone().unwrap_or_default(),
            self.before.clone().unwrap_or_default(),
            self.after.clone().unwrap_or_default(),
        ]
    }
}

fn headers(lang: Lang) -> [&'static str; 7] {
    match lang {
        Lang::Ru => [
            "Время (МСК)",
            "Запуск",
            "Субъект",
            "Что изменилось",
            "Элемент",
            "Было",
            "Стало",
        ],
        Lang::En => [
            "time_msk", "run", "subject", "what", "item", "before", "after",
        ],
    }
}

/// `true`/`false` as people read them in Russian; anything else as it is.
fn yes_no(value: String) -> String {
    match value.as_str() {
        "true" => "да".to_owned(),
        "false" => "нет".to_owned(),
        _ => value,
    }
}

/// A list's changes, opened, oldest first; in Russian (the kinds of change their checks name,
/// yes and no) or as the providers' terms (`Lang::En`: what a program reads).
pub(crate) async fn rows(
    store: &dyn Store,
    list: &str,
    since: SystemTime,
    lang: Lang,
) -> Result<Vec<ChangeRow>, String> {
    let Some(l) = list_named(store, list).await? else {
        return Err(format!("no list {list}"));
    };
    let keys = keyring()?;
    let vault = Vault {
        keys: &keys,
        list: &l.name,
    };
    let check = Check::named(&l.check);
    let subjects: HashMap<String, String> = store
        .watch_subjects(&l.name)
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .map(|s| {
            let text = match (vault.pairs(s), &check) {
                (Some(pairs), Some(check)) => subject_text(check, &pairs),
                _ => String::new(),
            };
            (s.id.clone(), text)
        })
        .collect();
    let changes = store
        .watch_changes(&l.name, since)
        .await
        .map_err(|e| e.to_string())?;
    Ok(changes
        .iter()
        .map(|c| {
            let kept: Option<KeptChange> = vault
                .open(&c.sealed, &c.subject, Some(c.run))
                .and_then(|b| serde_json::from_slice(&b).ok());
            let russian = lang == Lang::Ru;
            let value = |v: Option<String>| v.map(|v| if russian { yes_no(v) } else { v });
            ChangeRow {
                at: moscow_time(c.at),
                run: c.run,
                // A subject removed since is named by its id.
                subject: subjects
                    .get(&c.subject)
                    .filter(|t| !t.is_empty())
                    .cloned()
                    .unwrap_or_else(|| c.subject.clone()),
                what: check
                    .as_ref()
                    .filter(|_| russian)
                    .and_then(|ch| ch.spec.change_in_russian(&c.what))
                    .map_or_else(|| c.what.clone(), str::to_owned),
                item: kept.as_ref().and_then(|k| k.item.clone()),
                before: value(kept.as_ref().and_then(|k| k.before.clone())),
                after: value(kept.as_ref().and_then(|k| k.after.clone())),
            }
        })
        .collect())
}

/// `watch changes`.
pub(crate) async fn changes(
    c: ChangesCmd,
    store: &dyn Store,
    lang: Lang,
) -> Result<Ending, String> {
    let since = match &c.since {
        Some(text) => moscow_day_start(
            Date::parse_iso(text).map_err(|e| format!("--since {text}: {e} (YYYY-MM-DD)"))?,
        ),
        None => UNIX_EPOCH,
    };
    let rows = rows(store, &c.list, since, lang).await?;
    let bytes = match SpendFormat::chosen(c.format, c.out.as_deref()) {
        SpendFormat::Csv => {
            let mut out = "\u{feff}".as_bytes().to_vec();
            {
                let mut w = csv::Writer::from_writer(&mut out);
                w.write_record(headers(lang)).map_err(|e| e.to_string())?;
                for r in &rows {
                    let cells = r.cells();
                    w.write_record(
                        cells
                            .iter()
                            .map(|c| crate::table::write::csv_safe(c).into_owned()),
                    )
                    .map_err(|e| e.to_string())?;
                }
                w.flush().map_err(|e| e.to_string())?;
            }
            out
        }
        SpendFormat::Json => {
            let mut text = serde_json::to_vec_pretty(&serde_json::json!({
                "list": c.list, "changes": rows,
            }))
            .map_err(|e| e.to_string())?;
            text.push(b'\n');
            text
        }
        SpendFormat::Xlsx => {
            let Some(out) = &c.out else {
                return Err("--format xlsx needs --out FILE".into());
            };
            write_xlsx(&rows, lang, out)?;
            return Ok(Ending::Done);
        }
    };
    crate::spend::emit(&bytes, c.out.as_deref())?;
    Ok(Ending::Done)
}

fn write_xlsx(rows: &[ChangeRow], lang: Lang, out: &std::path::Path) -> Result<(), String> {
    use rust_xlsxwriter::{Format, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| format!("{}: {e}", out.display());
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet
        .set_name(match lang {
            Lang::Ru => "Изменения",
            Lang::En => "Changes",
        })
        .map_err(fail)?;
    let bold = Format::new().set_bold();
    for (c, h) in headers(lang).iter().enumerate() {
        sheet
            .write_with_format(0, c as u16, *h, &bold)
            .map_err(fail)?;
    }
    for (i, r) in rows.iter().enumerate() {
        for (c, text) in r.cells().iter().enumerate() {
            sheet.write(i as u32 + 1, c as u16, text).map_err(fail)?;
        }
    }
    book.save(out).map_err(fail)
}
