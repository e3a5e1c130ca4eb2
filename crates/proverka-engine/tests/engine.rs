//! The engine on its own (what a new front end builds): budgets on the Moscow day of the
//! engine's clock, and recovery that settles a gone process's calls but never a live one's,
//! both decided by the injected clock, not by waiting.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proverka_core::status_day::StatusOnDay as _;
use proverka_core::{Billed, Clock, ManualClock, Money, Provider};
use proverka_engine::{CallError, Engine, ProviderConfig, Request, Tenant};
use proverka_store::{Instance, Intent, Opened, SpendQuery, SqlStore, Store};

/// 2026-12-06 23:59:30 in Moscow (20:59:30 UTC).
fn before_midnight() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_796_590_770)
}

fn store() -> Arc<dyn Store> {
    let path = proverka_testkit::own_store_path();
    Arc::new(SqlStore::open(&path.display().to_string()).unwrap())
}

fn npd(n: u64) -> Arc<dyn proverka_core::Lookup> {
    let query =
        proverka_npd::NpdQuery::parse(&proverka_testkit::individual_inn(n), Some("2024-02-01"))
            .unwrap();
    Arc::new(query)
}

/// An engine for NPD (1.50 a call) against a sandbox, on a clock at [`before_midnight`].
async fn npd_engine() -> (proverka_sandbox::SandboxHandle, Arc<ManualClock>, Engine) {
    let sandbox = proverka_sandbox::Sandbox::builder()
        .start("127.0.0.1:0")
        .await
        .unwrap();
    let clock = Arc::new(ManualClock::starting_at(before_midnight()));
    let mut providers = std::collections::BTreeMap::new();
    providers.insert(
        "npd".to_owned(),
        ProviderConfig {
            base_url: Some(sandbox.url()),
            key: Some(proverka_core::Secret::new("npd-key")),
            price_rub: Some(1.5),
            ..ProviderConfig::default()
        },
    );
    let engine = Engine::builder()
        .providers(providers)
        .store(store())
        .clock(Arc::clone(&clock) as Arc<dyn Clock>)
        .program("engine test")
        .build()
        .unwrap();
    (sandbox, clock, engine)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_is_per_moscow_day_of_the_engine_s_clock() {
    let (sandbox, clock, engine) = npd_engine().await;
    let tenant = Tenant {
        budget: Some(Money::from_kopecks(150)),
        ..Tenant::named("crm", "crm")
    };
    let ask = |n: u64| {
        let (engine, tenant) = (engine.clone(), tenant.clone());
        async move {
            engine
                .execute(Request::new(&engine, npd(n), tenant, &"req"))
                .await
        }
    };
    let first = ask(1).await.unwrap();
    assert_eq!(first.answer.verdict.billed(), Billed::Yes(None));
    assert!(matches!(ask(2).await, Err(CallError::Budget(_))));
    assert_eq!(sandbox.calls(Provider::Npd), 1);
    // A minute later it is the next day in Moscow: a new budget, on the clock's word.
    clock.advance(Duration::from_secs(60));
    assert!(ask(2).await.is_ok());
    assert_eq!(sandbox.calls(Provider::Npd), 2);
    let days = |from: SystemTime| proverka_core::Date::moscow_date_at(from);
    let spend = engine
        .spend(&SpendQuery {
            from: days(before_midnight()),
            to: days(clock.now()),
            tenant: Some("crm".into()),
        })
        .await
        .unwrap();
    let per_day: Vec<(String, Money)> = spend.iter().map(|r| (r.day.to_iso(), r.charged)).collect();
    assert_eq!(
        per_day,
        [
            ("2026-12-06".to_owned(), Money::from_kopecks(150)),
            ("2026-12-07".to_owned(), Money::from_kopecks(150)),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_settles_a_silent_process_elsewhere_never_a_live_one() {
    let clock = Arc::new(ManualClock::starting_at(before_midnight()));
    let store = store();
    let engine = Engine::builder()
        .store(Arc::clone(&store))
        .clock(Arc::clone(&clock) as Arc<dyn Clock>)
        .program("engine test")
        .build()
        .unwrap();
    assert!(engine.presence().ensure().await);
    // A replica on another host, with a call in flight.
    let other = Instance {
        id: "replica-b".into(),
        host: "another-host".into(),
        pid: 1,
        pid_start: 1,
        program: "proverka-proxy".into(),
        started: clock.now(),
        heartbeat: clock.now(),
    };
    store.register(&other).await.unwrap();
    let intent = Intent {
        instance: "replica-b".into(),
        at: clock.now(),
        day: proverka_core::Date::moscow_date_at(clock.now()),
        tenant: "crm".into(),
        tenant_name: "crm".into(),
        provider: Provider::Npd,
        kind: "status".into(),
        key: "0123456789abcdef".into(),
        request_id: "r".into(),
        attempt: 1,
        reserve: Money::from_kopecks(150),
        limit: None,
        row: None,
    };
    assert!(matches!(
        store.open_intent(&intent).await.unwrap(),
        Opened::Reserved(_)
    ));
    // Its heartbeat is 30 s old: alive, its call untouched.
    clock.advance(Duration::from_secs(30));
    assert_eq!(engine.presence().recover().await.unwrap().intents, 0);
    // A minute and more without a sign of life: gone; its call is billed unknown.
    clock.advance(proverka_engine::STALE_AFTER);
    let abandoned = engine.presence().recover().await.unwrap();
    assert_eq!(abandoned.intents, 1);
    assert_eq!(abandoned.amount, Money::from_kopecks(150));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hits_are_added_to_the_store_s_savings_of_the_clock_s_day() {
    let (sandbox, _clock, engine) = npd_engine().await;
    let ask = || {
        engine.execute(Request::new(
            &engine,
            npd(1),
            Tenant::named("crm", "crm"),
            &"req",
        ))
    };
    // One miss (paid), then three hits: 3 x 1.50 saved.
    for _ in 0..4 {
        ask().await.unwrap();
    }
    assert_eq!(sandbox.calls(Provider::Npd), 1);
    engine.shutdown(Duration::from_secs(5)).await;
    let day = proverka_core::Date::moscow_date_at(before_midnight());
    let saved = engine.savings(day, day).await.unwrap();
    let got: Vec<(&str, i64, Money)> = saved
        .iter()
        .map(|s| (s.provider.as_str(), s.answers, s.saved))
        .collect();
    assert_eq!(got, [("npd", 3, Money::from_kopecks(450))]);
}
