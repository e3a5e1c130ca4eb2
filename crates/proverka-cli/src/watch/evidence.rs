//! `watch evidence`: for one subject, every answer the store kept, with its time, source,
//! request id, the ledger's record of the call and SHA-256 of the provider's bytes (the bytes
//! included, so an auditor can check the digest), as JSON or a printable HTML page.

use std::path::PathBuf;

use base64::Engine as _;
use proverka_core::Date;
use proverka_store::Store;
use serde_json::{Value, json};

use super::vault::{KeptAnswer, Vault, hex, keyring};
use super::{Ending, report};
use crate::check::Check;

/// `watch evidence`.
#[derive(Debug, clap::Args)]
pub(crate) struct EvidenceCmd {
    /// Only this list (default: every list holding the subject).
    #[arg(long, value_name = "NAME")]
    pub(crate) list: Option<String>,
    /// The subject's INN.
    #[arg(long, value_name = "INN")]
    pub(crate) inn: Option<String>,
    /// The subject by another parameter: `--match lastname=Иванов` (repeatable; every one
    /// must hold).
    #[arg(long = "match", value_name = "PARAM=VALUE", value_parser = crate::check::parse_map)]
    pub(crate) matches: Vec<(String, String)>,
    /// Only this Moscow day (YYYY-MM-DD): the subject's own `date` (a payment date), or the
    /// day an answer came.
    #[arg(long, value_name = "DATE")]
    pub(crate) date: Option<String>,
    /// json or html (default: by --out's extension, else json).
    #[arg(long, value_name = "FORMAT", value_parser = ["json", "html"])]
    pub(crate) format: Option<String>,
    /// Where to write it (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
}

/// `watch evidence`.
///
/// # Errors
/// No subject given or found, a missing key, the store's failure, an unwritable output.
pub(crate) async fn run(cmd: EvidenceCmd, store: &dyn Store) -> Result<Ending, String> {
    let mut wanted = cmd.matches.clone();
    if let Some(inn) = &cmd.inn {
        wanted.push(("inn".to_owned(), inn.trim().to_owned()));
    }
    if wanted.is_empty() {
        return Err("which subject: --inn INN or --match PARAM=VALUE".into());
    }
    let day = match &cmd.date {
        Some(text) => {
            Some(Date::parse_iso(text).map_err(|e| format!("--date {text}: {e} (YYYY-MM-DD)"))?)
        }
        None => None,
    };
    let keys = keyring()?;
    let mut subjects = Vec::new();
    for list in store.watch_lists().await.map_err(|e| e.to_string())? {
        if cmd.list.as_ref().is_some_and(|only| *only != list.name) {
            continue;
        }
        let vault = Vault {
            keys: &keys,
            list: &list.name,
        };
        let check = Check::named(&list.check);
        for s in store
            .watch_subjects(&list.name)
            .await
            .map_err(|e| e.to_string())?
        {
            let Some(pairs) = vault.pairs(&s) else {
                continue;
            };
            let holds = wanted
                .iter()
                .all(|(k, v)| pairs.iter().any(|(pk, pv)| pk == k && pv == v));
            if !holds {
                continue;
            }
            let own_date = pairs
                .iter()
                .find(|(k, _)| k == "date")
                .and_then(|(_, v)| Date::parse_iso(v).or_else(|_| Date::parse_dmy(v)).ok());
            let mut answers = Vec::new();
            for a in store
                .watch_answers(&list.name, Some(&s.id))
                .await
                .map_err(|e| e.to_string())?
            {
                if let Some(day) = day
                    && own_date != Some(day)
                    && Date::moscow_date_at(a.at) != day
                {
                    continue;
                }
                let ledger: Vec<Value> = store
                    .ledger_of_request(&a.request_id)
                    .await
                    .map_err(|e| e.to_string())?
                    .iter()
                    .map(|r| {
                        json!({
                            "id": r.id,
                            "created": report::moscow_time(r.created),
                            "client": r.tenant_name,
                            "provider": r.provider,
                            "kind": r.kind,
                            "query_key": r.query_key,
                            "attempt": r.attempt,
                            "reserved_rub": r.reserved.to_string(),
                            "settled": r.settled.map(report::moscow_time),
                            "billed": r.billed,
                            "price_rub": r.price.map(|p| p.to_string()),
                            "code": r.code,
                            "http_status": r.http_status,
                            "settled_by": r.settled_by,
                        })
                    })
                    .collect();
                let kept: Option<KeptAnswer> = a
                    .sealed
                    .as_deref()
                    .and_then(|sealed| vault.open(sealed, &s.id, Some(a.run)))
                    .and_then(|b| serde_json::from_slice(&b).ok());
                let provider = kept.and_then(KeptAnswer::raw).map(|raw| {
                    use sha2::Digest as _;
                    let text = std::str::from_utf8(&raw.body).ok().map(str::to_owned);
                    json!({
                        "http_status": raw.status,
                        "content_type": raw.content_type,
                        "sha256": hex(&sha2::Sha256::digest(&raw.body)),
                        "body": text,
                        "body_base64": if text.is_none() {
                            Some(base64::engine::general_purpose::STANDARD.encode(&raw.body))
                        } else {
                            None
                        },
                    })
                });
                answers.push(json!({
                    "at": report::moscow_time(a.at),
                    "run": a.run,
                    "status": a.status,
                    "source": a.source,
                    "billed": a.billed,
                    "price_rub": a.price.map(|p| p.to_string()),
                    "request_id": a.request_id,
                    "body_sha256": a.body_sha256,
                    "provider_answer": provider,
                    "ledger": ledger,
                }));
            }
            if day.is_some() && answers.is_empty() {
                continue;
            }
            subjects.push(json!({
                "list": list.name,
                "check": list.check,
                "subject": check.as_ref().map(|c| report::subject_text(c, &pairs)),
                "parameters": pairs.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
                "answers": answers,
            }));
        }
    }
    if subjects.is_empty() {
        return Err("no list holds that subject".into());
    }
    let doc = json!({ "evidence": subjects });
    let html = match (cmd.format.as_deref(), &cmd.out) {
        (Some(f), _) => f == "html",
        (None, Some(out)) => out
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm")),
        (None, None) => false,
    };
    let bytes = if html {
        page(&doc).into_bytes()
    } else {
        let mut b = serde_json::to_vec_pretty(&doc).map_err(|e| e.to_string())?;
        b.push(b'\n');
        b
    };
    crate::spend::emit(&bytes, cmd.out.as_deref())?;
    Ok(Ending::Done)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => escape(s),
        other => escape(&other.to_string()),
    }
}

/// The printable page: one section per subject, one table per answer.
fn page(doc: &Value) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"ru\"><head><meta charset=\"utf-8\"><title>proverka: evidence</title>\n<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;padding:4px 8px;text-align:left;vertical-align:top}pre{white-space:pre-wrap;word-break:break-all;max-width:60em}@media print{section{page-break-inside:avoid}}</style></head><body>\n<h1>Проверки субъекта / Evidence</h1>\n",
    );
    for s in doc["evidence"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "<h2>{}</h2>\n<p>Список / list: {} · проверка / check: {}</p>\n",
            cell(&s["subject"]),
            cell(&s["list"]),
            cell(&s["check"])
        ));
        for a in s["answers"].as_array().into_iter().flatten() {
            out.push_str("<section><table>\n");
            for (label, key) in [
                ("Время (МСК) / time", "at"),
                ("Запуск / run", "run"),
                ("Статус / status", "status"),
                ("Источник / source", "source"),
                ("Оплата / billed", "billed"),
                ("Цена, ₽ / price", "price_rub"),
                ("Request id", "request_id"),
                ("SHA-256", "body_sha256"),
            ] {
                out.push_str(&format!(
                    "<tr><th>{label}</th><td>{}</td></tr>\n",
                    cell(&a[key])
                ));
            }
            for r in a["ledger"].as_array().into_iter().flatten() {
                out.push_str(&format!(
                    "<tr><th>Журнал / ledger #{}</th><td>{} · {} {} · {} · {} ₽ · {} · HTTP {}</td></tr>\n",
                    cell(&r["id"]),
                    cell(&r["created"]),
                    cell(&r["provider"]),
                    cell(&r["kind"]),
                    cell(&r["billed"]),
                    cell(&r["price_rub"]),
                    cell(&r["code"]),
                    cell(&r["http_status"])
                ));
            }
            if let Some(p) = a["provider_answer"].as_object() {
                let body = p
                    .get("body")
                    .filter(|b| !b.is_null())
                    .or(p.get("body_base64"));
                out.push_str(&format!(
                    "<tr><th>Ответ провайдера / provider's answer (HTTP {})</th><td><pre>{}</pre></td></tr>\n",
                    cell(&p["http_status"]),
                    body.map(cell).unwrap_or_default()
                ));
            }
            out.push_str("</table></section>\n");
        }
    }
    out.push_str("</body></html>\n");
    out
}
