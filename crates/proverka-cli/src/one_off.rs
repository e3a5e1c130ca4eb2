//! A one-off check (`proverka <check> …`): every page of a paged answer, and the answer as a
//! table or as JSON.

use proverka_core::checks::Paging;
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
    let now = engine.presence().clock().now();
    let ask = |pairs: Vec<(String, String)>| async move {
        Ok(match plan(check, &pairs, now) {
            Err(e) => Outcome::invalid(e.code, e.message),
            Ok(planned) => {
                let mut o = engine
                    .check(check, &planned, None, &one_off_id(), &Default::default())
                    .await?;
                check::show_params(check, &planned, &mut o);
                o
            }
        })
    };
    let Some(paging) = check.spec.paging else {
        return ask(pairs.to_vec()).await;
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
    let mut answer = walk_pages(&paging, |offset| ask(page(offset))).await?;
    if answer.status == Status::Ok
        && let Some(result) = &answer.result
    {
        answer.fields = check.fields(result);
    }
    Ok(answer)
}

/// Walks the pages of a paged answer, `ask(offset)` answering one: each page's items joined
/// into the first page's answer, until the answer's total (or, without one, a short page). A
/// page that fails is the answer; one that comes back empty before the total, or a walk past
/// [`MAX_PAGES`], an error: a list silently short is never shown as whole.
async fn walk_pages<F, Fut>(paging: &Paging, mut ask: F) -> Result<Outcome, target::Fatal>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<Outcome, target::Fatal>>,
{
    let items_of = |o: &Outcome| -> Option<Vec<serde_json::Value>> {
        o.result
            .as_ref()
            .filter(|_| o.status == Status::Ok)
            .and_then(|r| r.pointer(paging.items))
            .and_then(|v| v.as_array())
            .cloned()
    };
    let mut answer = ask(0).await?;
    let Some(first) = items_of(&answer) else {
        return Ok(answer);
    };
    let total = answer
        .result
        .as_ref()
        .and_then(|r| r.pointer(paging.total))
        .and_then(serde_json::Value::as_u64);
    let (mut got, mut last) = (first.len(), first.len());
    let mut pages = 1;
    loop {
        let whole = match total {
            Some(t) => got as u64 >= t,
            None => last < paging.size as usize,
        };
        if whole {
            return Ok(answer);
        }
        if pages >= MAX_PAGES {
            return Ok(incomplete(
                &answer,
                format!("{pages} pages read and the list is not whole"),
            ));
        }
        let next = ask(u32::try_from(got).unwrap_or(u32::MAX)).await?;
        pages += 1;
        match items_of(&next) {
            Some(more) if !more.is_empty() => {
                (got, last) = (got + more.len(), more.len());
                if let Some(list) = answer
                    .result
                    .as_mut()
                    .and_then(|r| r.pointer_mut(paging.items))
                    .and_then(|v| v.as_array_mut())
                {
                    list.extend(more);
                }
            }
            Some(_) => {
                return Ok(incomplete(
                    &next,
                    format!("page {pages} was empty before the total: the list is not whole"),
                ));
            }
            None => return Ok(next),
        }
    }
}

/// A paged answer that could not be read whole.
fn incomplete(page: &Outcome, message: String) -> Outcome {
    Outcome::failed(
        Status::Error,
        "incomplete",
        message,
        &page.billed,
        &page.source,
    )
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const PAGING: Paging = Paging {
        limit: "limit",
        offset: "offset",
        size: 2,
        items: "/items",
        total: "/total",
    };

    /// An answer of `n` items from `offset`, of a list of `len`, with its total or not.
    fn page(offset: u32, len: usize, with_total: bool) -> Outcome {
        let items: Vec<usize> = (offset as usize..len).take(2).collect();
        let mut result = json!({"items": items});
        if with_total {
            result["total"] = json!(len);
        }
        Outcome {
            result: Some(result),
            ..Outcome::failed(Status::Ok, "", "", "free", "provider")
        }
    }

    fn items(o: &Outcome) -> Vec<u64> {
        o.result.as_ref().unwrap()["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(serde_json::Value::as_u64)
            .collect()
    }

    #[tokio::test]
    async fn every_page_is_joined_by_the_total_or_by_a_short_page() {
        for with_total in [true, false] {
            let mut offsets = Vec::new();
            let o = walk_pages(&PAGING, |offset| {
                offsets.push(offset);
                async move { Ok(page(offset, 5, with_total)) }
            })
            .await
            .unwrap();
            assert_eq!(o.status, Status::Ok);
            assert_eq!(items(&o), [0, 1, 2, 3, 4]);
            assert_eq!(offsets, [0, 2, 4], "with a total: {with_total}");
        }
    }

    #[tokio::test]
    async fn a_list_short_of_its_total_is_not_shown_whole() {
        // The total says 5, the pages stop after 3 items.
        let o = walk_pages(&PAGING, |offset| async move {
            let mut p = page(offset, 3, false);
            p.result.as_mut().unwrap()["total"] = json!(5);
            Ok(p)
        })
        .await
        .unwrap();
        assert_eq!(o.status, Status::Error);
        assert_eq!(o.error_code.as_deref(), Some("incomplete"));
    }

    #[tokio::test]
    async fn a_page_that_fails_is_the_answer() {
        let o = walk_pages(&PAGING, |offset| async move {
            Ok(if offset == 0 {
                page(0, 5, true)
            } else {
                Outcome::failed(Status::RetryLater, "429", "slow down", "free", "provider")
            })
        })
        .await
        .unwrap();
        assert_eq!(
            (o.status, o.error_code.as_deref()),
            (Status::RetryLater, Some("429"))
        );
    }
}
