//! A one-off check (`proverka <check> …`): every page of a paged answer, and the answer as a
//! table or as JSON.

use proverka_engine::{Outcome, Status};

use crate::check::{self, Check, plan};
use crate::target::{self, Target};

/// The most pages a paged answer is walked for, when it gives no total.
const MAX_PAGES: u32 = 1000;

/// One check, every page of it where its answer is paged (the pages' items joined into the
/// first page's answer).
pub(crate) async fn one_off(
    check: &Check,
    pairs: &[(String, String)],
    engine: &Target,
) -> Result<Outcome, target::Fatal> {
    let now = std::time::SystemTime::now();
    let ask = |pairs: Vec<(String, String)>| async move {
        Ok(match plan(check, &pairs, now) {
            Err(e) => (Outcome::invalid(e.code, e.message), None),
            Ok(planned) => {
                let mut o = engine.check(check, &planned, None, &one_off_id()).await?;
                check::show_params(check, &planned, &mut o);
                (o, Some(planned))
            }
        })
    };
    let Some(paging) = check.spec.paging else {
        return ask(pairs.to_vec()).await.map(|(o, _)| o);
    };
    let page = |offset: u32| {
        let mut p: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, _)| k != paging.limit && k != paging.offset)
            .cloned()
            .collect();
        p.push((paging.limit.to_owned(), paging.size.to_string()));
        p.push((paging.offset.to_owned(), offset.to_string()));
        p
    };
    let (mut first, _) = ask(page(0)).await?;
    let mut pages = 1;
    loop {
        let Some(result) = first.result.as_mut().filter(|_| first.status == Status::Ok) else {
            return Ok(first);
        };
        let got = result
            .pointer(paging.items)
            .and_then(|v| v.as_array())
            .map_or(0, Vec::len);
        let total = result
            .pointer(paging.total)
            .and_then(serde_json::Value::as_u64);
        let whole = match total {
            Some(t) => got as u64 >= t,
            None => got < paging.size as usize,
        };
        if whole || pages >= MAX_PAGES {
            if !whole {
                return Ok(Outcome::failed(
                    Status::Error,
                    "incomplete",
                    format!(
                        "{pages} pages read and the answer is not whole: its total was not reached"
                    ),
                    &first.billed,
                    &first.source,
                ));
            }
            first.fields = check.fields(result);
            return Ok(first);
        }
        let (next, _) = ask(page(u32::try_from(got).unwrap_or(u32::MAX))).await?;
        pages += 1;
        let items = next
            .result
            .as_ref()
            .filter(|_| next.status == Status::Ok)
            .and_then(|r| r.pointer(paging.items))
            .and_then(|v| v.as_array())
            .cloned();
        match items {
            Some(more) if !more.is_empty() => {
                if let Some(list) = result
                    .pointer_mut(paging.items)
                    .and_then(|v| v.as_array_mut())
                {
                    list.extend(more);
                }
            }
            // A page that failed is the answer; an empty page before the total, a short list.
            Some(_) => {
                return Ok(Outcome::failed(
                    Status::Error,
                    "incomplete",
                    format!("page {pages} was empty before the total: the list is not whole"),
                    &next.billed,
                    &next.source,
                ));
            }
            None => return Ok(next),
        }
    }
}

/// A request id for a one-off check (the ledger names the request that led each call).
fn one_off_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("cli-{}-{now}", std::process::id())
}

/// A one-off answer: a readable table (the check's columns, then one line for each detail
/// row), or the typed model as JSON.
#[allow(clippy::print_stdout)] // The command's output.
pub(crate) fn print_outcome(check: &Check, o: &Outcome, json: bool) {
    if json {
        let value = serde_json::json!({
            "status": o.status.as_str(),
            "billed": o.billed,
            "price_rub": o.price_rub,
            "source": o.source,
            "error": o.error_code.as_ref().map(|c| serde_json::json!({"code": c, "message": o.error_message})),
            "result": o.result,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
        return;
    }
    let mut rows: Vec<(String, String)> = vec![("status".into(), o.status.as_str().into())];
    for c in check.spec.columns {
        rows.push((
            c.key.into(),
            o.fields.get(c.key).cloned().unwrap_or_default(),
        ));
    }
    if let Some(c) = &o.error_code {
        rows.push(("error".into(), c.clone()));
        rows.push((
            "message".into(),
            o.error_message.clone().unwrap_or_default(),
        ));
    }
    rows.push((
        "billed".into(),
        match &o.price_rub {
            Some(p) => format!("{} ({p} RUB)", o.billed),
            None => o.billed.clone(),
        },
    ));
    rows.push(("source".into(), o.source.clone()));
    let width = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    for (k, v) in &rows {
        println!("{k:width$}  {v}");
    }
    let Some(detail) = check.spec.details else {
        return;
    };
    let list: Vec<serde_json::Value> = o
        .fields
        .get(detail.name)
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default();
    for row in list {
        let cells: Vec<String> = detail
            .columns
            .iter()
            .map(|c| proverka_core::checks::field_text(&row[c.key]))
            .collect();
        println!("  {}", cells.join(" | "));
    }
}
