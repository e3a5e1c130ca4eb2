//! `watch run`: a list's due subjects asked through the engine (or a proxy) as a batch of the
//! store, each answer kept, compared with the subject's previous one, and recorded; then the
//! list's notification.

use std::collections::HashMap;
use std::sync::Arc;

use proverka_core::Money;
use proverka_core::seal::Keyring;
use proverka_engine::{Batch, Outcome, RowTask, RowView, Status};
use proverka_store::{RunStart, WatchAnswer, WatchChange, WatchList, WatchSubject};
use tokio::task::JoinSet;

use super::vault::{KeptAnswer, KeptChange, Vault, hex, keyring};
use super::{Ending, RunCmd, Schedule, deliver, say};
use crate::check::{Check, Planned, plan};
use crate::lang::Lang;
use crate::target::{Asking, Target};

/// The most answers one transaction of a run writes.
const RECORDS_PER_COMMIT: usize = 256;

/// What a run did to one list.
#[derive(Debug, Default)]
struct RunTally {
    /// Stopped by Ctrl-C (SIGINT): the calls in flight were recorded, the run is not finished.
    interrupted: bool,
    asked: u64,
    calls: u64,
    from_cache: u64,
    changes: u64,
    failed: u64,
    spent: Money,
}

/// `watch run`: every list (or one), its due subjects checked through the engine.
///
/// # Errors
/// An unknown list, a missing key or webhook secret, the store's failure, a failure that ends
/// the run (a credential the provider or the proxy refuses).
pub(crate) async fn run(cmd: RunCmd, target: Arc<Target>, lang: Lang) -> Result<Ending, String> {
    let _ = lang;
    let keys = keyring()?;
    let presence = Arc::clone(target.presence());
    let store = Arc::clone(presence.store());
    let mut lists = store.watch_lists().await.map_err(|e| e.to_string())?;
    if let Some(only) = &cmd.list {
        lists.retain(|l| &l.name == only);
        if lists.is_empty() {
            return Err(format!("no list {only}"));
        }
    }
    let mut ending = Ending::Done;
    for list in lists {
        let Some(check) = Check::named(&list.check) else {
            eprintln!(
                "list {}: no check {} in this build; skipped",
                list.name, list.check
            );
            ending = Ending::SomeFailed;
            continue;
        };
        // One run of a list at a time, whichever host runs it.
        let lock = Batch::claim(
            Arc::clone(&presence),
            format!("watch-{}", short_hash(&list.name)),
            &format!("watch list {}", list.name),
        )
        .await
        .map_err(|e| format!("list {}: {e}", list.name))?;
        let ran = run_list(&cmd, &list, &check, &target, &keys).await;
        lock.release().await;
        match ran {
            Ok((tally, _)) if tally.interrupted => {
                eprintln!(
                    "list {}: interrupted after {} subjects; the next watch run takes the run up without paying twice",
                    list.name, tally.asked
                );
                return Ok(Ending::Interrupted);
            }
            // A dry run said what it would do, and did nothing.
            Ok(_) if cmd.dry_run => {}
            Ok((tally, failed)) => {
                eprintln!(
                    "list {}: {} subjects asked, {} provider calls, {} from the cache, {} changes, {} failed, {} RUB",
                    list.name,
                    tally.asked,
                    tally.calls,
                    tally.from_cache,
                    tally.changes,
                    tally.failed,
                    tally.spent
                );
                if failed {
                    ending = Ending::SomeFailed;
                }
            }
            Err(e) => return Err(format!("list {}: {e}", list.name)),
        }
    }
    Ok(ending)
}

fn short_hash(text: &str) -> String {
    use sha2::Digest as _;
    hex(&sha2::Sha256::digest(text.as_bytes())[..8])
}

/// One list's run: `(what it did, whether something failed)`.
async fn run_list(
    cmd: &RunCmd,
    list: &WatchList,
    check: &Check,
    target: &Arc<Target>,
    keys: &Keyring,
) -> Result<(RunTally, bool), String> {
    let presence = Arc::clone(target.presence());
    let store = Arc::clone(presence.store());
    let clock = Arc::clone(presence.clock());
    let vault = Vault {
        keys,
        list: &list.name,
    };
    let now = clock.now();
    if list.webhook_sealed.is_some() && !cmd.dry_run {
        deliver::secret()?;
    }
    let subjects = store
        .watch_subjects(&list.name)
        .await
        .map_err(|e| e.to_string())?;
    let due: Vec<&WatchSubject> = subjects.iter().filter(|s| s.due <= now).collect();
    let mut planned: Vec<(&WatchSubject, Planned)> = Vec::new();
    let mut unreadable = 0u64;
    for s in &due {
        let Some(pairs) = vault.pairs(s) else {
            unreadable += 1;
            continue;
        };
        match plan(check, &pairs, now) {
            Ok(p) => planned.push((s, p)),
            Err(_) => unreadable += 1,
        }
    }
    if unreadable > 0 {
        eprintln!(
            "list {}: {unreadable} subjects cannot be read (sealed under a key no longer configured, or no longer valid): skipped",
            list.name
        );
    }
    if cmd.dry_run {
        let mut cached = 0u64;
        for (_, p) in &planned {
            cached += u64::from(target.is_cached(p).await);
        }
        let calls = planned.len() as u64 - cached;
        let price = target.max_price(check, planned.first().map(|(_, p)| p));
        let at_most = price.map_or_else(
            || "an unknown amount (no price configured)".to_owned(),
            |p| format!("{} RUB", Money::from_kopecks(p.kopecks() * calls as i64)),
        );
        let concurrency = cmd.concurrency.unwrap_or(check.spec.concurrency).max(1);
        let how_long = match target.estimated_time(check, calls, concurrency).await {
            Some(t) => format!("about {} s at {concurrency} at once", t.as_secs().max(1)),
            None if calls == 0 => "no time".to_owned(),
            None => "a time not known until the ledger has a call to its provider".to_owned(),
        };
        say(&format!(
            "list {}: {} subjects due of {}; {} answered from the cache; at most {calls} provider calls, at most {at_most}, {how_long}",
            list.name,
            planned.len(),
            subjects.len(),
            cached
        ));
        return Ok((RunTally::default(), false));
    }
    if planned.is_empty() {
        // Nothing due; a notification an earlier run could not deliver is sent again.
        let mut undelivered = false;
        if let Some(sealed_url) = &list.webhook_sealed {
            undelivered =
                !deliver::after_run(&*store, &vault, list, None, sealed_url, &*clock).await?;
        }
        return Ok((RunTally::default(), unreadable > 0 || undelivered));
    }
    let start = store
        .watch_run_start(&list.name, now)
        .await
        .map_err(|e| e.to_string())?;
    let run = start.run().clone();
    if let RunStart::Resumed(r) = &start {
        eprintln!(
            "list {}: taking up run {} (interrupted); nothing it may have paid for is sent again",
            list.name, r.id
        );
    }
    let batch = Batch::claim(
        Arc::clone(&presence),
        format!("watch-{}-run-{}", short_hash(&list.name), run.id),
        &format!("watch list {} run {}", list.name, run.id),
    )
    .await
    .map_err(|e| e.to_string())?;
    let concurrency = cmd.concurrency.unwrap_or(check.spec.concurrency).max(1);
    let ran = run_claimed(
        list,
        check,
        target,
        &vault,
        &batch,
        &run,
        planned,
        concurrency,
    )
    .await;
    batch.release().await;
    let (tally, failed) = ran?;
    if tally.interrupted {
        return Ok((tally, true));
    }
    store
        .watch_run_finish(run.id, clock.now())
        .await
        .map_err(|e| e.to_string())?;
    let mut undelivered = false;
    if let Some(sealed_url) = &list.webhook_sealed {
        undelivered =
            !deliver::after_run(&*store, &vault, list, Some(&run), sealed_url, &*clock).await?;
    }
    Ok((tally, failed || unreadable > 0 || undelivered))
}

/// The calls of a run, and what each answer is recorded as.
#[allow(clippy::too_many_arguments)]
async fn run_claimed(
    list: &WatchList,
    check: &Check,
    target: &Arc<Target>,
    vault: &Vault<'_>,
    batch: &Batch,
    run: &proverka_store::WatchRun,
    planned: Vec<(&WatchSubject, Planned)>,
    concurrency: usize,
) -> Result<(RunTally, bool), String> {
    let presence = target.presence();
    let store = Arc::clone(presence.store());
    let clock = Arc::clone(presence.clock());
    let schedule = Schedule::parse(&list.schedule).map_err(|e| format!("its schedule: {e}"))?;
    let asking = Arc::new(Asking {
        max_age: Some(schedule.interval(clock.now())),
        provider_answer: true,
        client_key: vault.proxy_key(list)?,
    });
    let earlier = batch.rows().await.map_err(|e| e.to_string())?;
    let latest: HashMap<String, WatchAnswer> = store
        .watch_latest(&list.name)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|a| (a.subject.clone(), a))
        .collect();
    let mut tally = RunTally::default();
    let mut failed = false;
    let summarize: proverka_engine::Summarizer = Arc::new(check.spec.fields);
    // Calls go out as permits allow; each answer is recorded as it comes, while the next calls
    // are in flight (the store's writes overlap the provider's latency).
    let (tx, mut rx) =
        tokio::sync::mpsc::unbounded_channel::<(usize, String, Result<Outcome, String>)>();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut to_send = Vec::new();
    for (i, (subject, p)) in planned.iter().enumerate() {
        let key = p.key();
        let request_id = format!("watch-{}-{}", run.id, &subject.id[..12]);
        let send_again = match earlier.get(&key) {
            Some(RowView::Done(o)) => {
                let _ = tx.send((i, request_id, Ok((**o).clone())));
                continue;
            }
            Some(RowView::Unsent) | None => true,
            // Sent through a proxy by a run that stopped: asked again (a hit, or its flight
            // joined) unless the proxy's ledger says it may have been billed.
            Some(RowView::ViaProxy(sent_as)) => {
                target
                    .may_ask_again(p, sent_as, asking.client_key.as_ref())
                    .await
            }
            Some(_) => false,
        };
        if send_again {
            to_send.push((
                i,
                request_id,
                p.clone(),
                RowTask::new(batch.row(&key), Arc::clone(&summarize)),
            ));
            continue;
        }
        let known = abandoned();
        let _ = tx.send((i, request_id, Ok(known)));
    }
    let dispatcher = {
        let (target, check, stop, tx) = (
            Arc::clone(target),
            check.clone(),
            Arc::clone(&stop),
            tx.clone(),
        );
        let limit = Arc::new(tokio::sync::Semaphore::new(concurrency));
        tokio::spawn(async move {
            let mut calls = JoinSet::new();
            for (i, request_id, p, row) in to_send {
                let Ok(permit) = Arc::clone(&limit).acquire_owned().await else {
                    break;
                };
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let (target, check, tx) = (Arc::clone(&target), check.clone(), tx.clone());
                let asking = Arc::clone(&asking);
                calls.spawn(async move {
                    let outcome = ask(&target, &check, &p, row, &request_id, &asking).await;
                    drop(permit);
                    let _ = tx.send((i, request_id, outcome));
                });
            }
            while calls.join_next().await.is_some() {}
        })
    };
    drop(tx);
    // Ctrl-C (or the service's stop): no new calls; the calls in flight are paid, so their
    // answers are waited for and recorded; the next run takes the rest up.
    let interrupted = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let listener = {
        let (stop, interrupted) = (Arc::clone(&stop), Arc::clone(&interrupted));
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                interrupted.store(true, std::sync::atomic::Ordering::SeqCst);
                stop.store(true, std::sync::atomic::Ordering::SeqCst);
                eprintln!(
                    "interrupted: no new calls; waiting for the calls in flight (they are paid: their answers are kept)"
                );
            }
        })
    };
    let mut fatal: Option<String> = None;
    // Answers are written in groups: what came in while the last group was being written
    // goes in the next one, in one transaction (one commit to disk for many answers). A run
    // that dies loses no money state by this: each row's outcome was recorded with its call.
    let mut records: Vec<proverka_store::WatchRecord> = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut arrived = vec![first];
        while arrived.len() < RECORDS_PER_COMMIT
            && let Ok(more) = rx.try_recv()
        {
            arrived.push(more);
        }
        for (i, request_id, outcome) in arrived {
            let outcome = match outcome {
                Ok(o) => o,
                // The run cannot go on (no credential, …): no new calls, nothing recorded for this
                // subject (it stays due).
                Err(message) => {
                    stop.store(true, std::sync::atomic::Ordering::SeqCst);
                    fatal.get_or_insert(message);
                    continue;
                }
            };
            let (subject, p) = &planned[i];
            let at = clock.now();
            if outcome.source == "provider" {
                tally.calls += 1;
            }
            if outcome.source == "cache" {
                tally.from_cache += 1;
            }
            if outcome.billed == "charged"
                && let Some(price) = outcome
                    .price_rub
                    .as_deref()
                    .and_then(|t| Money::parse(t).ok())
            {
                tally.spent = tally.spent.saturating_add(price);
            }
            let mut changes = Vec::new();
            if outcome.status == Status::Ok
                && !run.baseline
                && let Some(after) = &outcome.raw
                && let Some(before) = latest.get(&subject.id).and_then(|a| {
                    let sealed = a.sealed.as_deref()?;
                    let kept: KeptAnswer =
                        serde_json::from_slice(&vault.open(sealed, &subject.id, Some(a.run))?)
                            .ok()?;
                    kept.raw()
                })
            {
                changes = p.lookup.changes(&before, after);
            }
            tally.changes += changes.len() as u64;
            let ok = outcome.status == Status::Ok;
            if !ok {
                failed = true;
                tally.failed += 1;
                // What went wrong, for the first few (the subject by its id, never its data).
                if tally.failed <= 5 {
                    eprintln!(
                        "list {}: subject {}: {} {}: {}",
                        list.name,
                        &subject.id[..12],
                        outcome.status.as_str(),
                        outcome.error_code.as_deref().unwrap_or_default(),
                        outcome.error_message.as_deref().unwrap_or_default()
                    );
                }
            }
            let answer = WatchAnswer {
                subject: subject.id.clone(),
                run: run.id,
                at,
                status: outcome.status.as_str().to_owned(),
                source: outcome.source.clone(),
                billed: outcome.billed.clone(),
                price: outcome
                    .price_rub
                    .as_deref()
                    .and_then(|t| Money::parse(t).ok()),
                request_id,
                body_sha256: outcome.raw.as_ref().map(|r| {
                    use sha2::Digest as _;
                    hex(&sha2::Sha256::digest(&r.body))
                }),
                sealed: outcome.raw.as_ref().map(|r| {
                    vault.seal(
                        &serde_json::to_vec(&KeptAnswer::of(r)).unwrap_or_default(),
                        &subject.id,
                        Some(run.id),
                    )
                }),
            };
            let kept: Vec<WatchChange> = changes
                .iter()
                .map(|c| WatchChange {
                    subject: subject.id.clone(),
                    run: run.id,
                    at,
                    what: c.what.to_string(),
                    sealed: vault.seal(
                        &serde_json::to_vec(&KeptChange::from(c)).unwrap_or_default(),
                        &subject.id,
                        Some(run.id),
                    ),
                })
                .collect();
            // A failure that may succeed later and cost nothing is asked again next run.
            let next_due = if outcome.status == Status::RetryLater {
                at
            } else {
                schedule.next_after(at)
            };
            records.push(proverka_store::WatchRecord {
                answer,
                changes: kept,
                next_due,
            });
        }
        let written = store
            .watch_record(&list.name, &records)
            .await
            .map_err(|e| e.to_string())?;
        tally.asked += written.iter().filter(|w| **w).count() as u64;
        records.clear();
    }
    let _ = dispatcher.await;
    listener.abort();
    if let Some(message) = fatal {
        return Err(message);
    }
    tally.interrupted = interrupted.load(std::sync::atomic::Ordering::SeqCst);
    Ok((tally, failed))
}

/// One subject asked. Straight to a provider the engine records its row with the call's
/// settlement; through a proxy the row is marked as sent first (a run that stops then leaves
/// it to the proxy's cache and ledger, not to a second payment) and recorded after.
async fn ask(
    target: &Target,
    check: &Check,
    planned: &Planned,
    row: RowTask,
    request_id: &str,
    asking: &Asking,
) -> Result<Outcome, String> {
    let presence = target.presence();
    if target.via_proxy() {
        let now = presence.clock().now();
        presence
            .store()
            .row_sending(&row.row, request_id, now)
            .await
            .map_err(|e| format!("the store of record: {e}"))?;
        let outcome = target
            .check(check, planned, None, request_id, asking)
            .await
            .map_err(|fatal| fatal.0)?;
        presence
            .store()
            .row_done(&row.row, &outcome.to_json(), false, presence.clock().now())
            .await
            .map_err(|e| format!("the store of record: {e}"))?;
        return Ok(outcome);
    }
    target
        .check(check, planned, Some(row), request_id, asking)
        .await
        .map_err(|fatal| fatal.0)
}

/// A subject sent by a run that stopped before recording the answer: it may have been billed,
/// and is not sent again in this run.
fn abandoned() -> Outcome {
    Outcome::failed(
        Status::BilledUnknown,
        "interrupted",
        "a run that stopped before recording the answer had sent it: the provider may have billed it",
        "unknown",
        "provider",
    )
}
