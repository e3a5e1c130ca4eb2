//! The simulators change a subject while the sandbox runs, on its clock (which a test moves
//! instead of waiting): what monitoring must notice, and nothing else.

use std::time::Duration;

use proverka_core::{Change, Date, Lookup as _, RawAnswer};
use proverka_npd::sandbox::{KEY, LAPSE_AFTER, LAPSING, PAYER};
use proverka_npd::{NpdClient, NpdQuery, StatusOnDay as _};
use proverka_sandbox::{Sandbox, SandboxHandle};

const DAY: Duration = Duration::from_secs(24 * 3600);

fn npd(s: &SandboxHandle) -> NpdClient {
    NpdClient::builder()
        .token(KEY)
        .base_url(s.url())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// The status of `inn` on `day`, as the simulator answers it now.
async fn ask(client: &NpdClient, inn: &str, day: Date) -> (NpdQuery, RawAnswer) {
    let query = NpdQuery::parse_on(inn, Some(&day.to_iso()), day).unwrap();
    let raw = client.fetch_raw(&query).await.unwrap();
    (query, raw)
}

fn self_employed(raw: &RawAnswer) -> bool {
    proverka_npd::parse(raw).unwrap().self_employed
}

#[tokio::test]
async fn an_npd_status_lapses_on_the_sandbox_s_clock_and_the_past_stays_as_it_was() {
    let s = Sandbox::builder().start("127.0.0.1:0").await.unwrap();
    let client = npd(&s);
    let first_day = Date::moscow_date_at(s.now());
    let (query, before) = ask(&client, LAPSING, first_day).await;
    assert!(self_employed(&before));

    s.advance(LAPSE_AFTER + DAY);
    let today = Date::moscow_date_at(s.now());
    let (today_query, after) = ask(&client, LAPSING, today).await;
    assert!(!self_employed(&after), "lapsed by {}", today.to_iso());
    assert_eq!(
        today_query.changes(&before, &after),
        [Change::new(
            "self_employed",
            Some("true".into()),
            Some("false".into())
        )]
    );
    // The status on the first day does not change: asked again, it is the same answer.
    let (_, again) = ask(&client, LAPSING, first_day).await;
    assert_eq!(query.changes(&before, &again), []);
    // Nobody else changes.
    let (payer, payer_before) = ask(&client, PAYER, first_day).await;
    let (_, payer_after) = ask(&client, PAYER, today).await;
    assert_eq!(payer.changes(&payer_before, &payer_after), []);

    // A reset (a new sandbox run) starts the person's story again.
    s.reset();
    let (_, restarted) = ask(&client, LAPSING, today).await;
    assert!(self_employed(&restarted));
}

#[tokio::test]
async fn an_fssp_proceeding_closes_and_another_appears_on_the_sandbox_s_clock() {
    use proverka_fssp::sandbox::{APPEARS, CHANGE_AFTER, CHANGING, CLOSES, DEBTOR, TOKEN};
    use proverka_fssp::{FsspClient, FsspQuery};
    let s = Sandbox::builder().start("127.0.0.1:0").await.unwrap();
    let client = FsspClient::builder()
        .token(TOKEN)
        .base_url(s.url())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let person = |(last, first, born): (&str, &str, &str)| {
        FsspQuery::from_pairs(&[
            ("type", "physical"),
            ("lastname", last),
            ("firstname", first),
            ("birthdate", born),
            ("region", "77"),
        ])
        .unwrap()
    };
    let (changing, debtor) = (person(CHANGING), person(DEBTOR));
    let before = client.fetch_raw(&changing).await.unwrap();
    let debtor_before = client.fetch_raw(&debtor).await.unwrap();
    assert_eq!(changing.changes(&before, &before), []);

    s.advance(CHANGE_AFTER + Duration::from_secs(3600));
    let after = client.fetch_raw(&changing).await.unwrap();
    let changes = changing.changes(&before, &after);
    let seen: Vec<(&str, Option<&str>, bool, bool)> = changes
        .iter()
        .map(|c| {
            (
                c.what.as_ref(),
                c.item.as_deref(),
                c.before.is_some(),
                c.after.is_some(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("closed", Some(CLOSES), false, true),
            ("proceeding", Some(APPEARS), false, true)
        ],
        "{changes:?}"
    );
    // The day it closed is the sandbox's.
    let closed_on = Date::moscow_date_at(s.now() - Duration::from_secs(3600)).to_iso();
    assert_eq!(changes[0].after.as_deref(), Some(closed_on.as_str()));
    // Asked again, nothing more changes; nobody else changes.
    let again = client.fetch_raw(&changing).await.unwrap();
    assert_eq!(changing.changes(&after, &again), []);
    let debtor_after = client.fetch_raw(&debtor).await.unwrap();
    assert_eq!(debtor.changes(&debtor_before, &debtor_after), []);
}

#[tokio::test]
async fn how_long_a_status_lasts_is_a_setting() {
    let s = Sandbox::builder()
        .set("npd", "lapse_s", "172800")
        .unwrap()
        .start("127.0.0.1:0")
        .await
        .unwrap();
    let client = npd(&s);
    let on = |day: Date| ask(&client, LAPSING, day);
    assert!(self_employed(&on(Date::moscow_date_at(s.now())).await.1));
    s.advance(DAY);
    assert!(self_employed(&on(Date::moscow_date_at(s.now())).await.1));
    s.advance(2 * DAY);
    assert!(!self_employed(&on(Date::moscow_date_at(s.now())).await.1));
    assert!(
        Sandbox::builder()
            .set("npd", "lapse_s", "a day")
            .unwrap_err()
            .contains("lapse_s")
    );
}
