//! `proverka batch`: every row validated, identical queries collapsed, an estimate, then the
//! calls with progress, and a summary. The batch's state lives in the store of record: one
//! live run holds it at a time, each row remembers its outcome (recorded with the call that
//! paid for it), and the same command run again resumes without paying twice.

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proverka_core::Money;
use proverka_engine::{Batch, Outcome, RowTask, RowView, Status};
use tokio::sync::{Semaphore, mpsc};

use crate::check::{Check, Invalid, Planned, plan};

mod progress;
mod report;
mod rows;

use crate::table::write::{Output, Sheet};
use crate::table::{Cell, ReadOptions, Table};
use crate::target::{Fatal, Target};
use progress::{Stats, confirm, progress_bar};
pub(crate) use report::result_headers;
use report::{columns, dry_run};
use rows::RowParams;
pub(crate) use rows::row_params;

/// What `proverka batch` was asked.
#[derive(Debug)]
pub(crate) struct BatchArgs {
    pub(crate) input: PathBuf,
    pub(crate) read: ReadOptions,
    pub(crate) report: Option<PathBuf>,
    pub(crate) lang: crate::lang::Lang,
    pub(crate) out: PathBuf,
    pub(crate) check: Check,
    pub(crate) map: Vec<(String, String)>,
    pub(crate) region: String,
    pub(crate) dry_run: bool,
    pub(crate) yes: bool,
    pub(crate) confirm_above: Money,
    pub(crate) concurrency: Option<usize>,
    pub(crate) retry_failed: bool,
    pub(crate) retry_unknown: bool,
}

/// How a batch ended (the process's exit code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// Every row answered or refused locally.
    Done,
    /// Finished, some rows failed (their status says whether a re-run may help).
    SomeFailed,
    /// Stopped by Ctrl-C: what was answered is kept; the same command resumes.
    Interrupted,
}

/// The batch's id in the store: a digest of the host and the output file's absolute path (two
/// runs writing one file are one batch; one path on two hosts sharing a PostgreSQL is two; the
/// path itself stays out of the store).
fn batch_id(host: &str, out: &std::path::Path) -> String {
    use sha2::Digest as _;
    let absolute = std::path::absolute(out).unwrap_or_else(|_| out.to_owned());
    let digest = sha2::Sha256::new()
        .chain_update(host.as_bytes())
        .chain_update(b"\0")
        .chain_update(absolute.to_string_lossy().as_bytes())
        .finalize();
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

/// What a row sent by a run that stopped before recording it shows: it may have been billed.
fn abandoned() -> Outcome {
    Outcome::failed(
        Status::BilledUnknown,
        "interrupted",
        "a run that stopped before recording the answer had sent it: the provider may have billed it; --retry-unknown sends it again",
        "unknown",
        "provider",
    )
}

/// Runs a batch.
///
/// # Errors
/// An unreadable input, an unwritable output, a refused confirmation, another live run of the
/// same batch, or a [`Fatal`] error (the output so far is written first).
pub(crate) async fn run(args: BatchArgs, target: Arc<Target>) -> Result<Ending, String> {
    crate::table::write::not_the_input(&args.input, &args.out)?;
    let label = args
        .out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let presence = Arc::clone(target.presence());
    let id = batch_id(&presence.instance().host, &args.out);
    let batch = Batch::claim(presence, id, &label)
        .await
        .map_err(|e| format!("{}: {e}", args.out.display()))?;
    let ended = run_claimed(args, target, &batch).await;
    batch.release().await;
    ended
}

async fn run_claimed(
    args: BatchArgs,
    target: Arc<Target>,
    batch: &Batch,
) -> Result<Ending, String> {
    let check = &args.check;
    let input = Table::read(&args.input, &args.read)?;
    let params = check.columns(&input.headers, &args.map, &args.input)?;
    // Every row validated before anything is sent.
    let prepared: Vec<RowParams> = input
        .rows
        .iter()
        .map(|(_, row)| {
            let texts: Vec<String> = row.iter().map(Cell::text).collect();
            row_params(check, &params, &texts, &args.region, args.lang)
        })
        .collect();
    let planned: Vec<Result<Planned, Invalid>> = prepared
        .iter()
        .map(|r| match &r.refused {
            Some(refused) => Err(refused.clone()),
            None => plan(check, &r.params, target.presence().clock().now()),
        })
        .collect();
    let journal_path = crate::journal::path_for(&args.out);
    if let Some(imported) = crate::journal::import(&journal_path, batch).await? {
        eprintln!(
            "imported the journal of an earlier version: {} rows, {} damaged (kept as billed_unknown), {} unreadable lines{}; it is now {}",
            imported.rows,
            imported.damaged,
            imported.unreadable.len(),
            if imported.unreadable.is_empty() {
                String::new()
            } else {
                format!(" ({:?})", imported.unreadable)
            },
            imported.renamed_to.display()
        );
    }
    let wanted: HashSet<String> = planned.iter().flatten().map(Planned::key).collect();
    let mut results: HashMap<String, Outcome> = HashMap::new();
    let earlier = batch.rows().await.map_err(|e| e.to_string())?;
    for (key, view) in earlier {
        if !wanted.contains(&key) {
            continue;
        }
        let outcome = match view {
            RowView::Done(o) => *o,
            RowView::Unsent => continue,
            // Sent through a proxy by a run that stopped: asked again (a hit, or the flight in
            // progress joined) unless the proxy's ledger says it may have been billed.
            RowView::ViaProxy(request_id) => {
                let Some(p) = planned.iter().flatten().find(|p| p.key() == key) else {
                    continue;
                };
                if target.may_ask_again(p, &request_id, None).await {
                    continue;
                }
                abandoned()
            }
            _ => abandoned(),
        };
        batch
            .record(&key, &outcome)
            .await
            .map_err(|e| e.to_string())?;
        results.insert(key, outcome);
    }
    let resend = |o: &Outcome| {
        (args.retry_failed && o.status == Status::RetryLater)
            || (args.retry_unknown && o.status == Status::BilledUnknown)
    };
    let mut seen = HashSet::new();
    let mut to_send: Vec<(String, Planned)> = Vec::new();
    let (mut valid, mut answered_before) = (0usize, 0usize);
    for p in planned.iter().flatten() {
        valid += 1;
        let key = p.key();
        if !seen.insert(key.clone()) {
            continue;
        }
        match results.get(&key) {
            Some(o) if !resend(o) => answered_before += 1,
            _ => to_send.push((key, p.clone())),
        }
    }
    let mut cached = 0usize;
    for (_, p) in &to_send {
        cached += usize::from(target.is_cached(p).await);
    }
    let paid_calls = to_send.len() - cached;
    let price = target.max_price(check, to_send.first().map(|(_, p)| p));
    let max_total = price.map(|p| Money::from_kopecks(p.kopecks() * paid_calls as i64));
    eprintln!(
        "{}",
        args.lang.estimate(&crate::lang::Estimate {
            rows: input.rows.len(),
            valid,
            distinct: seen.len(),
            answered_before,
            cached,
            to_send: to_send.len(),
            at_most: max_total.zip(price),
        })
    );
    if args.dry_run {
        let invalid: Vec<(usize, String, String)> = input
            .rows
            .iter()
            .zip(&planned)
            .zip(&prepared)
            .filter_map(|(((line, _), p), prepared)| {
                let e = p.as_ref().err()?;
                Some((
                    *line,
                    e.code.clone(),
                    args.lang.refusal(check, e, &prepared.params),
                ))
            })
            .collect();
        return dry_run(
            args.lang,
            &args.input,
            args.report.as_deref(),
            &invalid,
            valid,
            input.rows.len(),
        );
    }
    let over = paid_calls > 0 && max_total.is_none_or(|t| t > args.confirm_above);
    if over && !args.yes {
        confirm(max_total, args.confirm_above)?;
    }

    // The calls.
    let total = to_send.len() as u64;
    let stats = Arc::new(Mutex::new(Stats::default()));
    let started = Instant::now();
    let bar = progress_bar(total);
    let ticker = (!std::io::stderr().is_terminal() && total > 0).then(|| {
        let stats = Arc::clone(&stats);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(2));
            tick.tick().await;
            loop {
                tick.tick().await;
                let line = stats
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .line(total, started);
                eprintln!("progress: {line}");
            }
        })
    });
    let stop = Arc::new(AtomicBool::new(false));
    // One listener for the whole run, not a new one on each turn of the loop below: tokio
    // hands a signal only to the listeners that exist when it lands, so a Ctrl-C that came
    // while an answer was being recorded would otherwise be lost and the run go on paying.
    let (interrupt_tx, mut interrupt) = tokio::sync::oneshot::channel::<()>();
    let interrupt_listener = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = interrupt_tx.send(());
        }
    });
    let (tx, mut rx) = mpsc::unbounded_channel::<(String, Result<Outcome, Fatal>)>();
    let limit = Arc::new(Semaphore::new(
        args.concurrency.unwrap_or(check.spec.concurrency).max(1),
    ));
    let summarize: proverka_engine::Summarizer = Arc::new(check.spec.fields);
    let batch_tag = batch.id()[..8].to_owned();
    let dispatcher = {
        let (target, stop) = (Arc::clone(&target), Arc::clone(&stop));
        let check = check.clone();
        let rows: Vec<(String, RowTask)> = to_send
            .iter()
            .map(|(key, _)| {
                (
                    key.clone(),
                    RowTask::new(batch.row(key), Arc::clone(&summarize)),
                )
            })
            .collect();
        let via_proxy = target.via_proxy();
        let presence = Arc::clone(target.presence());
        tokio::spawn(async move {
            for ((key, planned), (_, row)) in to_send.into_iter().zip(rows) {
                let Ok(permit) = Arc::clone(&limit).acquire_owned().await else {
                    break;
                };
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let (target, tx) = (Arc::clone(&target), tx.clone());
                let check = check.clone();
                let request_id = format!("batch-{batch_tag}-{}", &key[..16]);
                let presence = Arc::clone(&presence);
                tokio::spawn(async move {
                    // Through a proxy the row is marked as sent first: a run that stops now
                    // leaves it to the proxy's cache, not to a second payment.
                    if via_proxy
                        && let Err(e) = presence
                            .store()
                            .row_sending(&row.row, &request_id, presence.clock().now())
                            .await
                    {
                        let _ = tx.send((key, Err(Fatal(format!("the store of record: {e}")))));
                        drop(permit);
                        return;
                    }
                    let outcome = target
                        .check(
                            &check,
                            &planned,
                            (!via_proxy).then_some(row),
                            &request_id,
                            &crate::target::Asking::default(),
                        )
                        .await;
                    let _ = tx.send((key, outcome));
                    drop(permit);
                });
            }
        })
    };
    let (mut interrupted, mut listening) = (false, true);
    let mut fatal: Option<String> = None;
    loop {
        tokio::select! {
            signal = &mut interrupt, if listening => {
                listening = false;
                if signal.is_ok() {
                    interrupted = true;
                    stop.store(true, Ordering::SeqCst);
                    bar.suspend(|| eprintln!(
                        "interrupted: no new calls; waiting for the calls in flight (they are paid: their answers are kept)"
                    ));
                }
            }
            received = rx.recv() => {
                let Some((key, outcome)) = received else { break };
                match outcome {
                    Ok(o) => {
                        // Straight to a provider the engine recorded the row with its call.
                        if target.via_proxy() {
                            batch.record(&key, &o).await.map_err(|e| e.to_string())?;
                        }
                        let mut s = stats.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        s.add(&o);
                        bar.set_message(format!("{} RUB, {} hits, {} errors", s.spent, s.from_cache, s.errors));
                        drop(s);
                        bar.inc(1);
                        results.insert(key, o);
                    }
                    Err(Fatal(message)) => {
                        stop.store(true, Ordering::SeqCst);
                        fatal.get_or_insert(message);
                    }
                }
            }
        }
    }
    let _ = dispatcher.await;
    interrupt_listener.abort();
    if let Some(t) = ticker {
        t.abort();
    }
    bar.finish_and_clear();

    // The output: every input row in order, with the result columns; a duplicate row points
    // to the first row of its query and costs nothing itself.
    let mut headers = input.headers.clone();
    // A result column never takes an input column's name (a list may have its own "status").
    let lang = args.lang;
    headers.extend(
        result_headers(check)
            .into_iter()
            .map(|h| lang.column(check, &h))
            .map(|h| {
                if input.headers.iter().any(|i| i.eq_ignore_ascii_case(&h)) {
                    format!("{h} (proverka)")
                } else {
                    h
                }
            }),
    );
    let mut counts: HashMap<String, usize> = HashMap::new();
    for p in planned.iter().flatten() {
        *counts.entry(p.key()).or_insert(0) += 1;
    }
    let mut first_line: HashMap<String, usize> = HashMap::new();
    let mut details: Vec<Vec<Cell>> = Vec::new();
    let mut by_status: std::collections::BTreeMap<&'static str, u64> = Default::default();
    let (mut ok, mut invalid, mut failed, mut pending) = (0, 0, 0, 0);
    let mut rows = Vec::with_capacity(input.rows.len());
    for (((line, cells), p), prepared) in input.rows.iter().zip(&planned).zip(&prepared) {
        let mut outcome = match p {
            Err(e) => Outcome::invalid(e.code.clone(), e.message.clone()),
            Ok(p) => results
                .get(&p.key())
                .cloned()
                .unwrap_or_else(Outcome::pending),
        };
        let mut note = prepared.note.clone();
        if let Ok(p) = p {
            match first_line.get(&p.key()) {
                Some(first) if outcome.status != Status::Pending => {
                    outcome.billed = "free".to_owned();
                    outcome.price_rub = Some("0.00".to_owned());
                    outcome.source = format!("дубль строки {first}");
                    note.get_or_insert_with(|| {
                        lang.note(&crate::lang::Note::Duplicate { first: *first })
                    });
                }
                Some(_) => {}
                None => {
                    first_line.insert(p.key(), *line);
                    if let Some(detail) = &check.spec.details {
                        details.extend(report::details_of(*line, &outcome, detail));
                    }
                }
            }
            crate::check::show_params(check, p, &mut outcome);
        }
        if outcome.billed == "charged" && outcome.price_rub.is_none() {
            note.get_or_insert_with(|| lang.unknown_price().to_owned());
        }
        match outcome.status {
            Status::Ok => ok += 1,
            Status::Invalid => invalid += 1,
            Status::Pending => pending += 1,
            _ => failed += 1,
        }
        *by_status.entry(outcome.status.as_str()).or_default() += 1;
        let mut row = cells.clone();
        let error = report::error_text(lang, check, &outcome, p.as_ref().err(), &prepared.params);
        row.extend(columns(lang, check, &outcome, error, note));
        rows.push(row);
    }
    let s = stats
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let saved_dedup = planned
        .iter()
        .flatten()
        .map(Planned::key)
        .collect::<HashSet<_>>()
        .iter()
        .filter_map(|k| {
            let dupes = counts.get(k).copied().unwrap_or(1).saturating_sub(1);
            let price = results.get(k)?.price_rub.as_deref()?;
            let price = Money::parse(price).ok()?;
            Some(Money::from_kopecks(price.kopecks() * dupes as i64))
        })
        .fold(Money::ZERO, Money::saturating_add);
    let summary = report::summary(
        lang,
        &[
            ("Строк", input.rows.len() as u64),
            ("Ответов", ok),
            ("Неверных строк (не отправлялись)", invalid),
            ("Ошибок", failed),
            ("Ожидают отправки", pending),
            ("Вызовов провайдера в этом запуске", s.provider_calls),
            ("Возможно оплачено (ответ не прочитан)", s.unknown),
            ("Ответов из кэша", s.from_cache),
        ],
        &[
            ("Оплачено в этом запуске, ₽", s.spent),
            ("Сэкономлено кэшем, ₽", s.saved_cache),
            ("Сэкономлено на дублях, ₽", saved_dedup),
        ],
        &by_status,
    );
    let sheet_name = match &input.origin {
        crate::table::Origin::Xlsx { sheet } => sheet.clone(),
        _ => lang.label("Проверка"),
    };
    let output = Output {
        main: Sheet {
            name: sheet_name,
            headers,
            rows,
        },
        origin: &input.origin,
        input: &args.input,
        added: Vec::new(),
    };
    let details = check.spec.details.as_ref().map(|d| (d, details));
    report::write(lang, output, details, summary, &args.out)?;
    eprintln!(
        "{}",
        lang.summary(&crate::lang::Summary {
            rows: input.rows.len(),
            ok,
            invalid,
            failed,
            pending,
            calls: s.provider_calls,
            from_cache: s.from_cache,
            spent: s.spent,
            unknown: s.unknown,
            saved_cache: s.saved_cache,
            saved_dedup,
            out: &args.out.display().to_string(),
            store: &target.presence().store().location(),
        })
    );
    if let Some(message) = fatal {
        return Err(message);
    }
    if interrupted || pending > 0 {
        eprintln!("{}", lang.to_resume());
        return Ok(Ending::Interrupted);
    }
    if failed > 0 {
        eprintln!("{}", lang.some_failed(failed));
        return Ok(Ending::SomeFailed);
    }
    Ok(Ending::Done)
}
