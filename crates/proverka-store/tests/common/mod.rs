//! The conformance suite every [`Store`] backend passes: each case takes the location of a
//! fresh, empty store and opens it as many times as it needs (two handles are two replicas).
//! A backend's test file runs every case with [`conformance!`], giving how a fresh store is
//! made.

#![allow(dead_code, unreachable_pub)]

/// One test per case of the suite, each on a fresh store from `$fresh(name)`.
macro_rules! conformance {
    ($fresh:path) => {
        common::conformance!(@cases $fresh;
            reservations_never_pass_the_limit_across_handles,
            settling_moves_the_reservation_to_the_price,
            what_cannot_fit_is_refused_and_free_calls_always_recorded,
            days_and_tenants_are_separate,
            a_dead_process_s_intents_are_billed_unknown_at_their_reservation,
            batches_are_held_by_one_live_process,
            batch_rows_follow_their_intents,
            spend_is_reported_per_tenant_provider_and_kind,
            money_state_survives_reopening,
            savings_add_up_per_day_and_provider_across_handles,
            watch_lists_keep_their_history_and_runs_resume,
        );
    };
    (@cases $fresh:path; $($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            common::$name($fresh(stringify!($name))).await;
        }
    )*};
}
pub(crate) use conformance;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proverka_core::{Billed, Date, Money, Provider};
use proverka_store::{
    Claim, Instance, Intent, IntentState, Opened, RowRef, RowState, Saving, Settlement, SpendQuery,
    SqlStore, Store, StoreError, WatchAnswer,
};

/// 2026-12-06 12:00 Moscow.
pub fn noon() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_796_547_600)
}

pub fn today() -> Date {
    Date::moscow_date_at(noon())
}

pub async fn open(location: &str) -> Arc<dyn Store> {
    Arc::new(SqlStore::open(location).expect("the store opens"))
}

pub fn instance(id: &str) -> Instance {
    Instance {
        id: id.to_owned(),
        host: "test-host".into(),
        pid: 4242,
        pid_start: 7,
        program: "conformance".into(),
        started: noon(),
        heartbeat: noon(),
    }
}

pub fn intent(instance: &str, tenant: &str, reserve: i64, limit: Option<i64>) -> Intent {
    Intent {
        instance: instance.to_owned(),
        at: noon(),
        day: today(),
        tenant: tenant.to_owned(),
        tenant_name: format!("{tenant}-name"),
        provider: Provider::Npd,
        kind: "status".into(),
        key: "0123456789abcdef".into(),
        request_id: "req-1".into(),
        attempt: 1,
        reserve: Money::from_kopecks(reserve),
        limit: limit.map(Money::from_kopecks),
        row: None,
    }
}

pub fn settlement(billed: Billed, price: i64) -> Settlement {
    Settlement {
        at: noon() + Duration::from_millis(300),
        billed,
        price: Money::from_kopecks(price),
        code: "ok".into(),
        http_status: Some(200),
        latency: Duration::from_millis(300),
        resent: false,
        row_outcome: None,
    }
}

async fn reserved(store: &dyn Store, i: &Intent) -> i64 {
    match store.open_intent(i).await.unwrap() {
        Opened::Reserved(id) => id,
        other => panic!("expected a reservation, got {other:?}"),
    }
}

/// 40 reservations of 1.00 at once on a 10.00 budget, through two handles (two replicas):
/// exactly ten pass, and the day holds exactly 10.00.
pub async fn reservations_never_pass_the_limit_across_handles(location: String) {
    let (a, b) = (open(&location).await, open(&location).await);
    let tasks: Vec<_> = (0..40)
        .map(|n| {
            let store = if n % 2 == 0 {
                Arc::clone(&a)
            } else {
                Arc::clone(&b)
            };
            tokio::spawn(async move {
                store
                    .open_intent(&intent("i1", "crm", 100, Some(1000)))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut passed = 0;
    for t in tasks {
        match t.await.unwrap() {
            Opened::Reserved(_) => passed += 1,
            Opened::OverBudget { committed } => assert_eq!(committed, Money::from_kopecks(1000)),
        }
    }
    assert_eq!(passed, 10);
    assert_eq!(
        a.committed("crm", today()).await.unwrap(),
        Money::from_kopecks(1000)
    );
}

/// A reservation becomes the price billed: less when the provider billed less, nothing when
/// free, all of it when unknown; a second settlement changes nothing.
pub async fn settling_moves_the_reservation_to_the_price(location: String) {
    let store = open(&location).await;
    let day = |s: &Arc<dyn Store>| {
        let s = Arc::clone(s);
        async move { s.committed("crm", today()).await.unwrap().kopecks() }
    };
    let id = reserved(&*store, &intent("i1", "crm", 140, Some(1000))).await;
    assert_eq!(day(&store).await, 140);
    let charged = settlement(Billed::Yes(Some(Money::from_kopecks(80))), 80);
    assert!(store.settle(id, &charged).await.unwrap());
    assert_eq!(day(&store).await, 80);
    assert!(!store.settle(id, &charged).await.unwrap(), "settled once");
    assert_eq!(day(&store).await, 80);

    let id = reserved(&*store, &intent("i1", "crm", 140, Some(1000))).await;
    store.settle(id, &settlement(Billed::No, 0)).await.unwrap();
    assert_eq!(
        day(&store).await,
        80,
        "a free call releases its reservation"
    );

    let id = reserved(&*store, &intent("i1", "crm", 140, Some(1000))).await;
    store
        .settle(id, &settlement(Billed::Unknown, 140))
        .await
        .unwrap();
    assert_eq!(day(&store).await, 220, "unknown keeps the reservation");
}

/// A reservation larger than the whole budget is refused even on an empty day; a free call
/// (nothing reserved) is recorded whatever the budget says.
pub async fn what_cannot_fit_is_refused_and_free_calls_always_recorded(location: String) {
    let store = open(&location).await;
    assert_eq!(
        store
            .open_intent(&intent("i1", "crm", 140, Some(100)))
            .await
            .unwrap(),
        Opened::OverBudget {
            committed: Money::ZERO
        }
    );
    assert!(matches!(
        store
            .open_intent(&intent("i1", "crm", 0, Some(0)))
            .await
            .unwrap(),
        Opened::Reserved(_)
    ));
    // No limit: reserved and counted all the same.
    reserved(&*store, &intent("i1", "hr", 150, None)).await;
    assert_eq!(
        store.committed("hr", today()).await.unwrap(),
        Money::from_kopecks(150)
    );
}

/// Budgets are per tenant and per Moscow day.
pub async fn days_and_tenants_are_separate(location: String) {
    let store = open(&location).await;
    reserved(&*store, &intent("i1", "crm", 100, Some(100))).await;
    reserved(&*store, &intent("i1", "hr", 100, Some(100))).await;
    let mut tomorrow = intent("i1", "crm", 100, Some(100));
    tomorrow.at += Duration::from_secs(86_400);
    tomorrow.day = Date::moscow_date_at(tomorrow.at);
    reserved(&*store, &tomorrow).await;
    assert!(matches!(
        store
            .open_intent(&intent("i1", "crm", 1, Some(100)))
            .await
            .unwrap(),
        Opened::OverBudget { .. }
    ));
}

/// A process that died after sending: its open intents are settled unknown at their
/// reservation (the budget keeps them, the ledger says so), its settled ones stay as they
/// were, and its own late settlement changes nothing.
pub async fn a_dead_process_s_intents_are_billed_unknown_at_their_reservation(location: String) {
    let store = open(&location).await;
    store.register(&instance("dead")).await.unwrap();
    store.register(&instance("live")).await.unwrap();
    let done = reserved(&*store, &intent("dead", "crm", 140, Some(1000))).await;
    store
        .settle(done, &settlement(Billed::Yes(None), 140))
        .await
        .unwrap();
    let open_one = reserved(&*store, &intent("dead", "crm", 140, Some(1000))).await;
    let others = reserved(&*store, &intent("live", "crm", 140, Some(1000))).await;
    let abandoned = store
        .declare_dead(&["dead".to_owned()], noon() + Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(abandoned.intents, 1);
    assert_eq!(abandoned.amount, Money::from_kopecks(140));
    assert_eq!(
        store.committed("crm", today()).await.unwrap(),
        Money::from_kopecks(420)
    );
    assert!(
        !store
            .settle(open_one, &settlement(Billed::No, 0))
            .await
            .unwrap(),
        "an abandoned intent stays unknown"
    );
    assert!(
        store
            .settle(others, &settlement(Billed::No, 0))
            .await
            .unwrap()
    );
    let live: Vec<String> = store
        .instances()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(live, ["live"]);
    let spend = store
        .spend(&SpendQuery {
            from: today(),
            to: today(),
            tenant: None,
        })
        .await
        .unwrap();
    assert_eq!(spend.len(), 1);
    assert_eq!(
        (
            spend[0].calls,
            spend[0].charged_calls,
            spend[0].unknown_calls
        ),
        (3, 1, 1)
    );
    assert_eq!(
        (spend[0].charged, spend[0].unknown),
        (Money::from_kopecks(140), Money::from_kopecks(140))
    );
    // A heartbeat of a process declared dead while it could not reach the store brings it
    // back; what was settled stays settled.
    store
        .heartbeat("dead", noon() + Duration::from_secs(90))
        .await
        .unwrap();
    assert_eq!(store.instances().await.unwrap().len(), 2);
}

/// One live process holds a batch; a second is told who; a released or dead holder lets go.
pub async fn batches_are_held_by_one_live_process(location: String) {
    let store = open(&location).await;
    for id in ["a", "b"] {
        store.register(&instance(id)).await.unwrap();
    }
    assert_eq!(
        store
            .claim_batch("batch", "out.csv", "a", noon())
            .await
            .unwrap(),
        Claim::Claimed
    );
    assert_eq!(
        store
            .claim_batch("batch", "out.csv", "a", noon())
            .await
            .unwrap(),
        Claim::Claimed,
        "claiming again is holding"
    );
    match store
        .claim_batch("batch", "out.csv", "b", noon())
        .await
        .unwrap()
    {
        Claim::Held(holder) => {
            assert_eq!((holder.id.as_str(), holder.pid), ("a", 4242));
        }
        other => panic!("{other:?}"),
    }
    store.release_batch("batch", "a", noon()).await.unwrap();
    assert_eq!(
        store
            .claim_batch("batch", "out.csv", "b", noon())
            .await
            .unwrap(),
        Claim::Claimed
    );
    store.declare_dead(&["b".to_owned()], noon()).await.unwrap();
    assert_eq!(
        store
            .claim_batch("batch", "out.csv", "a", noon())
            .await
            .unwrap(),
        Claim::Claimed,
        "a dead holder's batch is free"
    );
}

/// A row sent through an intent is decided in the intent's settlement; a row whose process
/// died shows its intent abandoned; a row sent through a proxy keeps its request id; an
/// import never overwrites.
pub async fn batch_rows_follow_their_intents(location: String) {
    let store = open(&location).await;
    store.register(&instance("a")).await.unwrap();
    let row = |key: &str| RowRef {
        batch: "batch".into(),
        key: key.into(),
    };
    let mut first = intent("a", "cli", 100, None);
    first.row = Some(row("k1"));
    let id = reserved(&*store, &first).await;
    let mut decided = settlement(Billed::Yes(None), 100);
    decided.row_outcome = Some(r#"{"status":"ok"}"#.into());
    store.settle(id, &decided).await.unwrap();

    let mut second = intent("a", "cli", 100, None);
    second.row = Some(row("k2"));
    let lost = reserved(&*store, &second).await;
    store.declare_dead(&["a".to_owned()], noon()).await.unwrap();

    store
        .row_sending(&row("k3"), "req-k3", noon())
        .await
        .unwrap();
    assert!(
        store
            .row_done(&row("k4"), r#"{"status":"imported"}"#, true, noon())
            .await
            .unwrap()
    );
    assert!(
        !store
            .row_done(&row("k1"), r#"{"status":"imported"}"#, true, noon())
            .await
            .unwrap(),
        "an import leaves a known row alone"
    );
    let mut rows = store.batch_rows("batch").await.unwrap();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    let states: Vec<RowState> = rows.into_iter().map(|r| r.state).collect();
    assert_eq!(
        states,
        [
            RowState::Done(r#"{"status":"ok"}"#.into()),
            RowState::Sending {
                intent: Some((lost, IntentState::Abandoned)),
                request_id: None
            },
            RowState::Sending {
                intent: None,
                request_id: Some("req-k3".into())
            },
            RowState::Done(r#"{"status":"imported"}"#.into()),
        ]
    );
    assert!(store.batch_rows("another").await.unwrap().is_empty());
}

/// Spend per day, tenant, provider and kind, with the tenant's latest name; calls of one
/// request id, only a tenant's own.
pub async fn spend_is_reported_per_tenant_provider_and_kind(location: String) {
    let store = open(&location).await;
    for (tenant, provider, kind, price) in [
        ("crm", Provider::Npd, "status", 150),
        ("crm", Provider::Npd, "status", 150),
        ("crm", Provider::Fssp, "physical", 80),
        ("hr", Provider::Court, "address", 200),
    ] {
        let mut i = intent("a", tenant, price, None);
        i.provider = provider;
        i.kind = kind.into();
        i.request_id = format!("req-{tenant}");
        let id = reserved(&*store, &i).await;
        store
            .settle(id, &settlement(Billed::Yes(None), price))
            .await
            .unwrap();
    }
    let mut renamed = intent("a", "crm", 0, None);
    renamed.tenant_name = "crm-renamed".into();
    renamed.request_id = "req-free".into();
    let free = reserved(&*store, &renamed).await;
    store
        .settle(free, &settlement(Billed::No, 0))
        .await
        .unwrap();
    let all = store
        .spend(&SpendQuery {
            from: today(),
            to: today(),
            tenant: None,
        })
        .await
        .unwrap();
    let summary: Vec<(String, String, String, i64, i64, i64)> = all
        .iter()
        .map(|r| {
            (
                r.tenant_name.clone(),
                r.provider.clone(),
                r.kind.clone(),
                r.calls,
                r.charged_calls,
                r.charged.kopecks(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "crm-renamed".into(),
                "fssp".into(),
                "physical".into(),
                1,
                1,
                80
            ),
            (
                "crm-renamed".into(),
                "npd".into(),
                "status".into(),
                3,
                2,
                300
            ),
            (
                "hr-name".into(),
                "court".into(),
                "address".into(),
                1,
                1,
                200
            ),
        ]
    );
    let only_hr = store
        .spend(&SpendQuery {
            from: today(),
            to: today(),
            tenant: Some("hr".into()),
        })
        .await
        .unwrap();
    assert_eq!(only_hr.len(), 1);
    assert_eq!(
        store.calls_of_request("req-crm", None).await.unwrap(),
        vec![Some("charged".to_owned()); 3]
    );
    assert!(
        store
            .calls_of_request("req-crm", Some("hr"))
            .await
            .unwrap()
            .is_empty()
    );
}

/// Everything written is there for the next process: a reopened store reads the same.
pub async fn money_state_survives_reopening(location: String) {
    {
        let store = open(&location).await;
        reserved(&*store, &intent("a", "crm", 150, Some(300))).await;
        reserved(&*store, &intent("a", "crm", 150, Some(300))).await;
    }
    let again = open(&location).await;
    assert_eq!(
        again.committed("crm", today()).await.unwrap(),
        Money::from_kopecks(300)
    );
    assert!(matches!(
        again
            .open_intent(&intent("b", "crm", 150, Some(300)))
            .await
            .unwrap(),
        Opened::OverBudget { .. }
    ));
}

/// Savings written by two replicas at once add up, per day and provider.
pub async fn savings_add_up_per_day_and_provider_across_handles(location: String) {
    let (a, b) = (open(&location).await, open(&location).await);
    let yesterday = Date::from_ymd(2026, 12, 5).unwrap();
    let saving = |day: Date, provider: &str, kopecks: i64| Saving {
        day,
        provider: provider.into(),
        answers: 1,
        saved: Money::from_kopecks(kopecks),
    };
    let writes = |store: Arc<dyn Store>| async move {
        for _ in 0..25 {
            store
                .add_savings(&[saving(today(), "fssp", 150), saving(today(), "npd", 20)])
                .await
                .unwrap();
        }
    };
    tokio::join!(writes(Arc::clone(&a)), writes(Arc::clone(&b)));
    a.add_savings(&[saving(yesterday, "fssp", 999)])
        .await
        .unwrap();
    let all = b.savings(yesterday, today()).await.unwrap();
    let got: Vec<(Date, &str, i64, i64)> = all
        .iter()
        .map(|s| (s.day, s.provider.as_str(), s.answers, s.saved.kopecks()))
        .collect();
    assert_eq!(
        got,
        [
            (yesterday, "fssp", 1, 999),
            (today(), "fssp", 50, 50 * 150),
            (today(), "npd", 50, 50 * 20),
        ]
    );
    assert_eq!(b.savings(today(), today()).await.unwrap().len(), 2);
    assert!(b.savings(yesterday, yesterday).await.unwrap().len() == 1);
}

/// A store written by a newer proverka is refused, not misread.
pub async fn a_newer_schema_is_refused(
    location: String,
    bump: impl std::future::Future<Output = ()>,
) {
    open(&location).await.ping().await.unwrap();
    bump.await;
    let refused = match SqlStore::open(&location) {
        Err(e) => e,
        Ok(store) => store.ping().await.unwrap_err(),
    };
    assert!(
        matches!(refused, StoreError::TooNew { found: 99, .. }),
        "{refused}"
    );
}

fn subject(id: &str, at: SystemTime) -> proverka_store::WatchSubject {
    proverka_store::WatchSubject {
        id: id.into(),
        sealed: format!("sealed-{id}"),
        added: at,
        due: at,
    }
}

fn answer(subject: &str, run: i64, at: SystemTime, body: Option<&str>) -> WatchAnswer {
    WatchAnswer {
        subject: subject.into(),
        run,
        at,
        status: "ok".into(),
        source: "provider".into(),
        billed: "charged".into(),
        price: Some(Money::from_kopecks(150)),
        request_id: format!("watch-{run}-{subject}"),
        body_sha256: body.map(|b| format!("sha-{b}")),
        sealed: body.map(str::to_owned),
    }
}

fn record(answer: WatchAnswer, next_due: SystemTime) -> proverka_store::WatchRecord {
    proverka_store::WatchRecord {
        answer,
        changes: Vec::new(),
        next_due,
    }
}

/// Watch lists: subjects added once, runs that resume, one answer per subject and run (a
/// second record of it is refused, so a resumed run writes nothing twice), the latest answer
/// with bytes, changes since a time, notifications kept until delivered; a removed list
/// keeps its history.
pub async fn watch_lists_keep_their_history_and_runs_resume(location: String) {
    use proverka_store::{RunStart, WatchChange, WatchDelivery, WatchList};
    let (store, other) = (open(&location).await, open(&location).await);
    let t0 = noon();
    let list = WatchList {
        name: "contractors".into(),
        check: "npd".into(),
        every_s: 86_400,
        schedule: "1d".into(),
        webhook_sealed: Some("sealed-url".into()),
        options: "{}".into(),
        created: t0,
    };
    store.watch_list_put(&list).await.unwrap();
    store
        .watch_list_put(&WatchList {
            name: "debtors".into(),
            check: "fssp".into(),
            ..list.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        other
            .watch_lists()
            .await
            .unwrap()
            .iter()
            .map(|l| (l.name.as_str(), l.check.as_str()))
            .collect::<Vec<_>>(),
        [("contractors", "npd"), ("debtors", "fssp")]
    );
    let added = store
        .watch_subjects_add("contractors", &[subject("a", t0), subject("b", t0)])
        .await
        .unwrap();
    assert_eq!(added, 2);
    let again = other
        .watch_subjects_add("contractors", &[subject("a", t0), subject("c", t0)])
        .await
        .unwrap();
    assert_eq!(again, 1, "a subject the list has stays as it is");
    assert_eq!(store.watch_subjects("debtors").await.unwrap(), []);

    // The first run is the baseline; until it finishes, starting again takes it up.
    let RunStart::New(first) = store.watch_run_start("contractors", t0).await.unwrap() else {
        panic!("a new run")
    };
    assert!(first.baseline);
    let later = t0 + Duration::from_secs(60);
    let next_due = t0 + Duration::from_secs(86_400);
    assert_eq!(
        store
            .watch_record(
                "contractors",
                &[record(answer("a", first.id, later, Some("A1")), next_due)]
            )
            .await
            .unwrap(),
        [true]
    );
    assert_eq!(
        other.watch_run_start("contractors", later).await.unwrap(),
        RunStart::Resumed(first.clone())
    );
    // A subject is recorded once per run; the others of the same commit are written. A run
    // that stopped after paying records the outcome without the bytes.
    assert_eq!(
        other
            .watch_record(
                "contractors",
                &[
                    record(answer("a", first.id, later, Some("A1")), next_due),
                    record(answer("b", first.id, later, None), next_due),
                ]
            )
            .await
            .unwrap(),
        [false, true],
    );
    store.watch_run_finish(first.id, later).await.unwrap();
    let due: Vec<(String, SystemTime)> = store
        .watch_subjects("contractors")
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.id, s.due))
        .collect();
    assert_eq!(
        due,
        [
            ("a".to_owned(), next_due),
            ("b".to_owned(), next_due),
            ("c".to_owned(), t0)
        ]
    );

    // The second run compares with the latest answer that kept its bytes.
    let RunStart::New(second) = store
        .watch_run_start("contractors", next_due)
        .await
        .unwrap()
    else {
        panic!("a new run after the first finished")
    };
    assert!(!second.baseline);
    let change = WatchChange {
        subject: "a".into(),
        run: second.id,
        at: next_due,
        what: "self_employed".into(),
        sealed: "sealed-change".into(),
    };
    let mut with_change = record(
        answer("a", second.id, next_due, Some("A2")),
        next_due + Duration::from_secs(86_400),
    );
    with_change.changes.push(change.clone());
    assert_eq!(
        store
            .watch_record("contractors", &[with_change])
            .await
            .unwrap(),
        [true]
    );
    let latest: Vec<(String, Option<String>)> = other
        .watch_latest("contractors")
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.subject, a.sealed))
        .collect();
    assert_eq!(latest, [("a".to_owned(), Some("A2".to_owned()))]);
    assert_eq!(
        other
            .watch_answers("contractors", Some("a"))
            .await
            .unwrap()
            .iter()
            .map(|a| (a.run, a.price, a.request_id.as_str()))
            .collect::<Vec<_>>(),
        [
            (
                first.id,
                Some(Money::from_kopecks(150)),
                format!("watch-{}-a", first.id).as_str()
            ),
            (
                second.id,
                Some(Money::from_kopecks(150)),
                format!("watch-{}-a", second.id).as_str()
            ),
        ]
    );
    assert_eq!(
        store
            .watch_answers("contractors", None)
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        store.watch_changes("contractors", t0).await.unwrap(),
        std::slice::from_ref(&change)
    );
    assert_eq!(
        store
            .watch_changes("contractors", next_due + Duration::from_millis(1))
            .await
            .unwrap(),
        []
    );

    // A notification is kept until it is delivered; one per run.
    let delivery = WatchDelivery {
        run: second.id,
        list: "contractors".into(),
        key: "idem".into(),
        sealed: "sealed-body".into(),
        attempts: 0,
        delivered: None,
    };
    store.watch_delivery_put(&delivery).await.unwrap();
    other
        .watch_delivery_put(&WatchDelivery {
            key: "another".into(),
            ..delivery.clone()
        })
        .await
        .unwrap();
    store
        .watch_delivery_attempted(second.id, None)
        .await
        .unwrap();
    let pending = other.watch_deliveries_pending("contractors").await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!((pending[0].key.as_str(), pending[0].attempts), ("idem", 1));
    store
        .watch_delivery_attempted(second.id, Some(next_due))
        .await
        .unwrap();
    assert_eq!(
        other.watch_deliveries_pending("contractors").await.unwrap(),
        []
    );

    // Evidence: the ledger's record of the call an answer was paid with.
    let mut call = intent("a", "crm", 150, None);
    call.request_id = format!("watch-{}-a", second.id);
    let Opened::Reserved(id) = store.open_intent(&call).await.unwrap() else {
        panic!("reserved")
    };
    assert!(
        store
            .settle(id, &settlement(Billed::Yes(None), 150))
            .await
            .unwrap()
    );
    let records = other.ledger_of_request(&call.request_id).await.unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(
        (
            r.id,
            r.request_id.as_str(),
            r.billed.as_deref(),
            r.price,
            r.settled_by.as_deref()
        ),
        (
            id,
            call.request_id.as_str(),
            Some("charged"),
            Some(Money::from_kopecks(150)),
            Some("call")
        )
    );
    assert!(
        other
            .ledger_of_request("req-none")
            .await
            .unwrap()
            .is_empty()
    );
    // What a dry run's estimate of time rests on: the latency of recent calls.
    assert_eq!(
        other
            .recent_latency(call.provider.as_str(), 100)
            .await
            .unwrap(),
        Some(settlement(Billed::Yes(None), 150).latency)
    );
    assert_eq!(other.recent_latency("nobody", 100).await.unwrap(), None);

    // A removed list loses its subjects, keeps its history.
    assert!(store.watch_list_remove("contractors").await.unwrap());
    assert!(!store.watch_list_remove("contractors").await.unwrap());
    assert_eq!(store.watch_subjects("contractors").await.unwrap(), []);
    assert_eq!(
        store
            .watch_answers("contractors", None)
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(store.watch_runs("contractors").await.unwrap().len(), 2);
    assert_eq!(
        store
            .watch_subjects_remove("debtors", &["x".to_owned()])
            .await
            .unwrap(),
        0
    );
}
