//! The FSSP account endpoint passes through (in process, the sandbox as api-cloud.ru): what an
//! api-cloud client asks beside its searches (`apilk.php?type=balance` on the same base URL)
//! goes to the provider with the proxy's token, never cached, billed or budgeted, and is
//! written to the ledger like every call.

use proverka_core::{Money, Provider};
use proverka_tests::{InProcess, config_for, config_on_store, fssp_balance, start_sandbox};
use serde_json::Value;

const CRM: &str = "crm-client-key";
const OPS: &str = "ops-operator-key";
const BALANCE: &str = "/api/apilk.php";

fn keys(budget_rub: &str) -> String {
    format!(
        "[[clients]]\nname = \"crm\"\nkey = \"{CRM}\"\ndaily_budget_rub = {budget_rub}\n\
         [[operators]]\nname = \"ops\"\nkey = \"{OPS}\"\n"
    )
}

/// `apilk.php` as the api-cloud client sends it: the client's key in the `token` parameter.
async fn balance(proxy: &InProcess, token: &str, kind: &str) -> proverka_tests::Reply {
    proxy
        .get(
            BALANCE,
            &[("type", kind.to_owned()), ("token", token.to_owned())],
        )
        .await
}

fn rubles(body: &Value) -> Money {
    body["balance"]
        .as_f64()
        .and_then(|b| Money::parse(&format!("{b:.2}")).ok())
        .unwrap_or_else(|| panic!("no balance in {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_balance_is_forwarded_with_the_proxys_token_and_never_cached_billed_or_budgeted() {
    let sandbox = start_sandbox().await;
    // A budget smaller than one FSSP search: the balance must still be shown.
    let proxy = InProcess::new(&config_for(&sandbox, &keys("1.0")));

    let first = balance(&proxy, CRM, "balance").await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(rubles(&first.json()), fssp_balance(&sandbox));
    assert_eq!(first.header("cache-control"), "no-store");
    assert_eq!(first.header("x-cache"), "BYPASS");
    assert_eq!(first.header("x-proverka-billed"), "free");
    assert_eq!(sandbox.account_calls(Provider::Fssp), 1);
    // Nothing of the search path was touched: no search, nothing billed.
    assert_eq!(sandbox.calls(Provider::Fssp), 0);
    assert_eq!(sandbox.billed(Provider::Fssp), 0);

    // Asked again: asked again upstream (never cached).
    let again = balance(&proxy, CRM, "balance").await;
    assert_eq!(again.status, 200);
    assert_eq!(sandbox.account_calls(Provider::Fssp), 2);

    // Another operation is refused here, before any call: proverka forwards only reads it
    // knows cost nothing, on its own token.
    let other = balance(&proxy, CRM, "payments").await;
    assert_eq!(other.status, 400, "{}", other.text());
    assert_eq!(other.json()["error"], "not_forwarded");
    assert_eq!(sandbox.account_calls(Provider::Fssp), 2);

    // Who may ask: a client (401 without a key); an operator's key queries no provider.
    assert_eq!(balance(&proxy, "", "balance").await.status, 401);
    assert_eq!(balance(&proxy, OPS, "balance").await.status, 403);
    assert_eq!(sandbox.account_calls(Provider::Fssp), 2);

    // Both calls are in the ledger, free, in the client's name; nothing spent or reserved.
    let spend = proxy
        .get_with("/v1/spend", &[], &[("X-Proverka-Key", OPS)])
        .await
        .json();
    let rows = spend["rows"].as_array().unwrap();
    let account: Vec<&Value> = rows.iter().filter(|r| r["kind"] == "account").collect();
    assert_eq!(account.len(), 1, "{spend}");
    assert_eq!(account[0]["client"], "crm");
    assert_eq!(account[0]["provider"], "fssp");
    assert_eq!(account[0]["calls"], 2);
    assert_eq!(account[0]["charged_calls"], 0);
    assert_eq!(spend["total_rub"], "0.00", "{spend}");
    let me = proxy
        .get_with("/v1/me", &[], &[("X-Proverka-Key", CRM)])
        .await
        .json();
    assert_eq!(me["today"]["committed_rub"], "0.00", "{me}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_balance_follows_the_searches_it_pays_for_even_past_the_budget() {
    let sandbox = start_sandbox().await;
    let store = proverka_testkit::own_store();
    let proxy = InProcess::new(&config_on_store(&sandbox, &store, &keys("100.0")));
    let before = rubles(&balance(&proxy, CRM, "balance").await.json());
    let search = proxy
        .get(
            "/api/fssp.php",
            &[
                ("type", "physical".to_owned()),
                ("lastname", "Иванов".to_owned()),
                ("firstname", "Иван".to_owned()),
                ("birthdate", "01.01.1980".to_owned()),
                ("region", "77".to_owned()),
                ("token", CRM.to_owned()),
            ],
        )
        .await;
    assert_eq!(search.status, 200, "{}", search.text());
    assert_eq!(sandbox.billed(Provider::Fssp), 1);
    let after = rubles(&balance(&proxy, CRM, "balance").await.json());
    assert!(after < before, "{before} then {after}");
    assert_eq!(after, fssp_balance(&sandbox));
    // The operator lowers the budget below today's spend (a restart on the same store): the
    // client's searches are refused, its balance is still shown.
    let lowered = InProcess::new(&config_on_store(&sandbox, &store, &keys("0.5")));
    let refused = lowered
        .get(
            "/api/fssp.php",
            &[
                ("type", "physical".to_owned()),
                ("lastname", "Петров".to_owned()),
                ("firstname", "Пётр".to_owned()),
                ("birthdate", "02.02.1982".to_owned()),
                ("region", "77".to_owned()),
                ("token", CRM.to_owned()),
            ],
        )
        .await;
    assert_eq!(refused.status, 402, "{}", refused.text());
    let shown = balance(&lowered, CRM, "balance").await;
    assert_eq!(shown.status, 200, "{}", shown.text());
    assert_eq!(rubles(&shown.json()), fssp_balance(&sandbox));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_configured_token_the_callers_own_passes_through() {
    let sandbox = start_sandbox().await;
    // The FSSP section without `token`: each caller sends its own.
    let toml = config_for(&sandbox, "").replace(
        &format!("token = \"{}\"\n", proverka_fssp::sandbox::TOKEN),
        "",
    );
    let proxy = InProcess::new(&toml);
    let own = balance(&proxy, proverka_fssp::sandbox::TOKEN, "balance").await;
    assert_eq!(own.status, 200, "{}", own.text());
    assert_eq!(rubles(&own.json()), fssp_balance(&sandbox));
    // No token: the provider's own answer to that, and nothing sent.
    let none = proxy.get(BALANCE, &[("type", "balance".to_owned())]).await;
    assert_eq!(none.json()["error"], "502", "{}", none.text());
    assert_eq!(sandbox.account_calls(Provider::Fssp), 1);
}
