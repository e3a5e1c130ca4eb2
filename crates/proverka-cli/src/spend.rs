//! `proverka spend`: what was spent, per client, provider and query kind, over Moscow days,
//! from the store of record (or a proxy's `/v1/spend`): what a provider's invoice is
//! reconciled with. CSV (UTF-8 with a BOM, so a spreadsheet reads Cyrillic names), XLSX
//! (numbers as numbers) or JSON.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use proverka_core::{Date, Money, Secret};
use proverka_store::{SpendQuery, SqlStore, Store};
use serde::Serialize;
use serde_json::Value;

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum SpendFormat {
    /// Comma-separated, UTF-8 with a BOM.
    Csv,
    /// An Excel workbook.
    Xlsx,
    /// One JSON document.
    Json,
}

impl SpendFormat {
    /// The format asked for, else the one `out`'s extension names, else CSV (a report's
    /// `--format` and `--out`: spend, watch changes).
    pub(crate) fn chosen(format: Option<Self>, out: Option<&std::path::Path>) -> Self {
        format.unwrap_or_else(
            || match out.and_then(|o| o.extension()).and_then(|e| e.to_str()) {
                Some(e) if e.eq_ignore_ascii_case("xlsx") => Self::Xlsx,
                Some(e) if e.eq_ignore_ascii_case("json") => Self::Json,
                _ => Self::Csv,
            },
        )
    }
}

/// A report's bytes to `out`, or to standard output.
///
/// # Errors
/// The file (named) or standard output could not be written.
pub(crate) fn emit(bytes: &[u8], out: Option<&std::path::Path>) -> Result<(), String> {
    match out {
        Some(out) => std::fs::write(out, bytes).map_err(|e| format!("{}: {e}", out.display())),
        None => std::io::stdout()
            .write_all(bytes)
            .map_err(|e| e.to_string()),
    }
}

/// What `proverka spend` was asked.
#[derive(Debug)]
pub(crate) struct SpendArgs {
    pub(crate) month: Option<String>,
    pub(crate) day: Option<String>,
    pub(crate) from: Option<String>,
    pub(crate) to: Option<String>,
    pub(crate) format: Option<SpendFormat>,
    pub(crate) out: Option<PathBuf>,
}

/// One line of the report: a client's calls of one kind to one provider over the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct SpendLine {
    client: String,
    client_id: String,
    provider: String,
    kind: String,
    calls: i64,
    charged_calls: i64,
    unknown_calls: i64,
    spent_rub: Money,
    unknown_rub: Money,
}

/// The period asked: `--month`, `--day`, or `--from`/`--to` (inclusive); this Moscow month
/// when none is given.
fn period(args: &SpendArgs, today: Date) -> Result<(Date, Date), String> {
    let date = |flag: &str, text: &str| {
        Date::parse_iso(text).map_err(|_| format!("--{flag} {text:?}: a date is YYYY-MM-DD"))
    };
    let month = |text: &str| -> Result<(Date, Date), String> {
        let bad = || format!("--month {text:?}: a month is YYYY-MM");
        let (y, m) = text.split_once('-').ok_or_else(bad)?;
        let (y, m): (u16, u8) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        let first = Date::from_ymd(y, m, 1).map_err(|_| bad())?;
        let last = (28..=31)
            .rev()
            .find_map(|d| Date::from_ymd(y, m, d).ok())
            .ok_or_else(bad)?;
        Ok((first, last))
    };
    match (&args.month, &args.day, &args.from, &args.to) {
        (Some(m), None, None, None) => month(m),
        (None, Some(d), None, None) => {
            let d = date("day", d)?;
            Ok((d, d))
        }
        (None, None, Some(f), Some(t)) => {
            let (f, t) = (date("from", f)?, date("to", t)?);
            if f > t {
                return Err(format!("--from {f} is after --to {t}"));
            }
            Ok((f, t))
        }
        (None, None, None, None) => {
            let iso = today.to_iso();
            month(&iso[..7])
        }
        _ => Err("give one of --month, --day, or --from with --to".into()),
    }
}

/// Runs the report from the store at `store`, or from the proxy at `proxy` (with its key).
///
/// # Errors
/// A bad period, a store or proxy that does not answer, an unwritable output.
pub(crate) async fn run(
    args: SpendArgs,
    store: &str,
    proxy: Option<(String, Option<Secret>)>,
) -> Result<(), String> {
    let today = Date::moscow_date_at(std::time::SystemTime::now());
    let (from, to) = period(&args, today)?;
    let mut lines = match proxy {
        Some((base, key)) => from_proxy(&base, key.as_ref(), from, to).await?,
        None => from_store(store, from, to).await?,
    };
    lines.sort_by(|a, b| (&a.client, &a.provider, &a.kind).cmp(&(&b.client, &b.provider, &b.kind)));
    let bytes = match SpendFormat::chosen(args.format, args.out.as_deref()) {
        SpendFormat::Csv => csv_bytes(&lines)?,
        SpendFormat::Json => {
            let total = lines
                .iter()
                .fold(Money::ZERO, |t, l| t.saturating_add(l.spent_rub));
            let mut text = serde_json::to_vec_pretty(&serde_json::json!({
                "from": from.to_iso(), "to": to.to_iso(), "total_rub": total, "rows": lines,
            }))
            .map_err(|e| e.to_string())?;
            text.push(b'\n');
            text
        }
        SpendFormat::Xlsx => {
            let Some(out) = &args.out else {
                return Err("--format xlsx needs --out FILE".into());
            };
            return write_xlsx(&lines, out, from, to);
        }
    };
    emit(&bytes, args.out.as_deref())
}

async fn from_store(location: &str, from: Date, to: Date) -> Result<Vec<SpendLine>, String> {
    let store = SqlStore::open(location).map_err(|e| format!("--store: {e}"))?;
    let rows = store
        .spend(&SpendQuery {
            from,
            to,
            tenant: None,
        })
        .await
        .map_err(|e| format!("--store: {e}"))?;
    let mut lines: Vec<SpendLine> = Vec::new();
    for r in rows {
        let found = lines
            .iter_mut()
            .find(|l| l.client_id == r.tenant && l.provider == r.provider && l.kind == r.kind);
        let line = match found {
            Some(l) => l,
            None => {
                lines.push(SpendLine {
                    client: r.tenant_name.clone(),
                    client_id: r.tenant.clone(),
                    provider: r.provider.clone(),
                    kind: r.kind.clone(),
                    ..SpendLine::default()
                });
                lines.last_mut().expect("just pushed")
            }
        };
        line.calls += r.calls;
        line.charged_calls += r.charged_calls;
        line.unknown_calls += r.unknown_calls + r.open_calls;
        line.spent_rub = line.spent_rub.saturating_add(r.charged);
        line.unknown_rub = line
            .unknown_rub
            .saturating_add(r.unknown)
            .saturating_add(r.open);
    }
    Ok(lines)
}

async fn from_proxy(
    base: &str,
    key: Option<&Secret>,
    from: Date,
    to: Date,
) -> Result<Vec<SpendLine>, String> {
    let mut req = reqwest::Client::new()
        .get(format!("{}/v1/spend", base.trim_end_matches('/')))
        .query(&[("from", from.to_iso()), ("to", to.to_iso())]);
    if let Some(k) = key {
        req = req.header("X-Proverka-Key", k.expose());
    }
    let r = req
        .send()
        .await
        .map_err(|e| format!("proxy: {}", e.without_url()))?;
    let status = r.status();
    let body: Value = r
        .json()
        .await
        .map_err(|e| format!("proxy: {}", e.without_url()))?;
    if !status.is_success() {
        return Err(format!(
            "proxy: {status}: {}",
            body["message"].as_str().unwrap_or_default()
        ));
    }
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let money = |v: &Value| Money::parse(v.as_str().unwrap_or("0")).unwrap_or(Money::ZERO);
    Ok(body["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| SpendLine {
            client: text(&r["client"]),
            client_id: text(&r["client_id"]),
            provider: text(&r["provider"]),
            kind: text(&r["kind"]),
            calls: r["calls"].as_i64().unwrap_or(0),
            charged_calls: r["charged_calls"].as_i64().unwrap_or(0),
            unknown_calls: r["unknown_calls"].as_i64().unwrap_or(0),
            spent_rub: money(&r["spent_rub"]),
            unknown_rub: money(&r["unknown_rub"]),
        })
        .collect())
}

const HEADERS: [&str; 9] = [
    "client",
    "client_id",
    "provider",
    "kind",
    "calls",
    "charged_calls",
    "unknown_calls",
    "spent_rub",
    "unknown_rub",
];

fn csv_bytes(lines: &[SpendLine]) -> Result<Vec<u8>, String> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(HEADERS).map_err(|e| e.to_string())?;
        for l in lines {
            w.write_record([
                l.client.clone(),
                l.client_id.clone(),
                l.provider.clone(),
                l.kind.clone(),
                l.calls.to_string(),
                l.charged_calls.to_string(),
                l.unknown_calls.to_string(),
                l.spent_rub.to_string(),
                l.unknown_rub.to_string(),
            ])
            .map_err(|e| e.to_string())?;
        }
        w.flush().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

fn write_xlsx(lines: &[SpendLine], out: &Path, from: Date, to: Date) -> Result<(), String> {
    use rust_xlsxwriter::{Format, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| format!("{}: {e}", out.display());
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet
        .set_name(format!("{from}..{to}").replace(['/', '\\', '?', '*', '[', ']', ':'], "-"))
        .map_err(fail)?;
    let bold = Format::new().set_bold();
    let rubles = Format::new().set_num_format("0.00");
    for (c, h) in HEADERS.iter().enumerate() {
        sheet
            .write_with_format(0, c as u16, *h, &bold)
            .map_err(fail)?;
    }
    for (i, l) in lines.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write(r, 0, &l.client).map_err(fail)?;
        sheet.write(r, 1, &l.client_id).map_err(fail)?;
        sheet.write(r, 2, &l.provider).map_err(fail)?;
        sheet.write(r, 3, &l.kind).map_err(fail)?;
        sheet.write(r, 4, l.calls as f64).map_err(fail)?;
        sheet.write(r, 5, l.charged_calls as f64).map_err(fail)?;
        sheet.write(r, 6, l.unknown_calls as f64).map_err(fail)?;
        sheet
            .write_with_format(r, 7, l.spent_rub.rubles_f64(), &rubles)
            .map_err(fail)?;
        sheet
            .write_with_format(r, 8, l.unknown_rub.rubles_f64(), &rubles)
            .map_err(fail)?;
    }
    book.save(out).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(
        month: Option<&str>,
        day: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> SpendArgs {
        SpendArgs {
            month: month.map(str::to_owned),
            day: day.map(str::to_owned),
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
            format: None,
            out: None,
        }
    }

    #[test]
    fn periods_are_months_days_or_ranges() {
        let today = Date::parse_iso("2026-12-06").unwrap();
        let iso = |p: (Date, Date)| (p.0.to_iso(), p.1.to_iso());
        assert_eq!(
            iso(period(&args(Some("2026-02"), None, None, None), today).unwrap()),
            ("2026-02-01".into(), "2026-02-28".into())
        );
        assert_eq!(
            iso(period(&args(None, None, None, None), today).unwrap()),
            ("2026-12-01".into(), "2026-12-31".into())
        );
        assert_eq!(
            iso(period(&args(None, Some("2026-11-30"), None, None), today).unwrap()),
            ("2026-11-30".into(), "2026-11-30".into())
        );
        assert!(period(&args(Some("2026-13"), None, None, None), today).is_err());
        assert!(
            period(
                &args(None, None, Some("2026-12-02"), Some("2026-12-01")),
                today
            )
            .is_err()
        );
        assert!(
            period(
                &args(Some("2026-12"), Some("2026-12-01"), None, None),
                today
            )
            .is_err()
        );
    }
}
