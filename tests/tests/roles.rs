//! Operators and clients (the proxy in process): what each key may see, route by route; a
//! reload that would open a bound public socket refused whole; key files, and secret files
//! others can read named in a warning.

use proverka_proxy::{Config, Proxy};
use proverka_tests::{InProcess, config_for, start_sandbox};
use serde_json::Value;

const CRM: &str = "crm-client-key";
const HR: &str = "hr-client-key";
const OPS: &str = "ops-operator-key";

fn keys() -> String {
    format!(
        "[[clients]]\nname = \"crm\"\nkey = \"{CRM}\"\ndaily_budget_rub = 3.0\n\
         [[clients]]\nname = \"hr\"\nkey = \"{HR}\"\n\
         [[operators]]\nname = \"ops\"\nkey = \"{OPS}\"\n"
    )
}

async fn status(proxy: &InProcess, path: &str, key: Option<&str>) -> u16 {
    let headers: Vec<(&str, &str)> = key.map(|k| ("X-Proverka-Key", k)).into_iter().collect();
    proxy.get_with(path, &[], &headers).await.status
}

async fn json(proxy: &InProcess, path: &str, key: &str) -> Value {
    proxy
        .get_with(path, &[], &[("X-Proverka-Key", key)])
        .await
        .json()
}

fn npd(inn: &str) -> Vec<(&'static str, String)> {
    vec![("inn", inn.to_owned()), ("date", "2024-03-01".to_owned())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_key_sees_what_its_role_allows() {
    let sandbox = start_sandbox().await;
    let proxy = InProcess::new(&config_for(&sandbox, &keys()));
    let ask = |key: &'static str, inn: &'static str| {
        let proxy = proxy.clone();
        async move {
            proxy
                .get_with(
                    "/v1/npd",
                    &npd(inn),
                    &[("X-Proverka-Key", key), ("X-Request-Id", "req-of-crm")],
                )
                .await
                .status
        }
    };
    assert_eq!(ask(CRM, proverka_npd::sandbox::PAYER).await, 200);
    assert_eq!(ask(HR, proverka_npd::sandbox::NON_PAYER).await, 200);
    assert_eq!(
        ask(OPS, "540304378234").await,
        403,
        "an operator queries no provider"
    );

    // The operator's routes.
    for path in ["/metrics", "/ui", "/v1/status"] {
        assert_eq!(status(&proxy, path, None).await, 401, "{path}");
        assert_eq!(
            status(&proxy, path, Some("not-a-key-at-all")).await,
            401,
            "{path}"
        );
        assert_eq!(status(&proxy, path, Some(CRM)).await, 403, "{path}");
        assert_eq!(status(&proxy, path, Some(OPS)).await, 200, "{path}");
    }

    // Spend: a client its own, the operator every client.
    let of =
        |v: &Value| -> Vec<String> { v["clients"].as_object().unwrap().keys().cloned().collect() };
    assert_eq!(of(&json(&proxy, "/v1/spend", CRM).await), ["crm"]);
    assert_eq!(of(&json(&proxy, "/v1/spend", HR).await), ["hr"]);
    assert_eq!(of(&json(&proxy, "/v1/spend", OPS).await), ["crm", "hr"]);
    assert_eq!(status(&proxy, "/v1/spend", None).await, 401);

    // A client's own budget.
    let me = json(&proxy, "/v1/me", CRM).await;
    assert_eq!(me["client"], "crm", "{me}");
    assert_eq!(me["daily_budget_rub"], "3.00", "{me}");
    assert_eq!(me["today"]["spent_rub"], "1.50", "{me}");
    assert_eq!(me["today"]["reserved_rub"], "0.00", "{me}");
    assert_eq!(me["today"]["left_rub"], "1.50", "{me}");
    let hr = json(&proxy, "/v1/me", HR).await;
    assert_eq!(hr["daily_budget_rub"], Value::Null, "{hr}");
    assert_eq!(status(&proxy, "/v1/me", Some(OPS)).await, 403);
    assert_eq!(status(&proxy, "/v1/me", None).await, 401);

    // What a request id cost: its client's, or the operator's to see.
    let calls = |key| {
        let proxy = proxy.clone();
        async move {
            proxy
                .get_with(
                    "/v1/calls",
                    &[("request_id", "req-of-crm".to_owned())],
                    &[("X-Proverka-Key", key)],
                )
                .await
                .json()
        }
    };
    assert_eq!(calls(CRM).await["calls"].as_array().unwrap().len(), 1);
    assert_eq!(
        calls(HR).await["calls"].as_array().unwrap().len(),
        1,
        "hr's own call"
    );
    assert_eq!(calls(OPS).await["calls"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_any_key_a_loopback_proxy_stays_open() {
    let sandbox = start_sandbox().await;
    let proxy = InProcess::new(&config_for(&sandbox, ""));
    for path in ["/metrics", "/ui", "/v1/status", "/v1/spend", "/v1/me"] {
        assert_eq!(status(&proxy, path, None).await, 200, "{path}");
    }
    let me: Value = proxy.get("/v1/me", &[]).await.json();
    assert_eq!(me["client"], "anonymous", "{me}");
}

/// A proxy bound on a public address with client keys; the new file drops every client and
/// asks for loopback. The listen change cannot apply without a restart, so the empty list
/// would open the bound socket: the reload is refused whole, counted, and a request without
/// a key still gets 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_never_opens_a_bound_public_socket() {
    let sandbox = start_sandbox().await;
    let public =
        config_for(&sandbox, &keys()).replace("listen = \"127.0.0.1:0\"", "listen = \"0.0.0.0:0\"");
    let store = public
        .lines()
        .find(|l| l.starts_with("store_path"))
        .unwrap()
        .to_owned();
    let proxy = InProcess(std::sync::Arc::new(
        Proxy::new(Config::from_toml(&public, &[]).unwrap()).unwrap(),
    ));
    let before = proxy
        .get("/v1/npd", &npd(proverka_npd::sandbox::PAYER))
        .await;
    assert_eq!(before.status, 401);
    // As a file the new configuration is valid (it asks for loopback)…
    let loopback_without_keys = format!(
        "{store}\n{}",
        config_for(&sandbox, "")
            .lines()
            .filter(|l| !l.starts_with("store_path"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let new = Config::from_toml(&loopback_without_keys, &[]).unwrap();
    // … but not for the socket actually bound.
    let refused = proxy.0.reload(new).unwrap_err();
    assert!(refused.to_string().contains("0.0.0.0"), "{refused}");
    let after = proxy
        .get("/v1/npd", &npd(proverka_npd::sandbox::PAYER))
        .await;
    assert_eq!(after.status, 401, "the door stays shut");
    // A reload that keeps the clients goes through; both are counted.
    let kept = public.replace("name = \"hr\"", "name = \"hr-renamed\"");
    let applied = proxy
        .0
        .reload(Config::from_toml(&kept, &[]).unwrap())
        .unwrap();
    assert_eq!(applied.applied, ["clients"]);
    let metrics = proxy
        .get_with("/metrics", &[], &[("X-Proverka-Key", OPS)])
        .await
        .text();
    assert!(
        metrics.contains("proverka_reloads_total{result=\"refused\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("proverka_reloads_total{result=\"applied\"} 1"),
        "{metrics}"
    );
}

#[test]
fn keys_from_files_and_secret_files_others_can_read_are_named_not_shown() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = std::env::temp_dir().join(format!("proverka-roles-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str, mode: u32| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    };
    let tidy = write("ops-key", "ops-key-from-a-file\n", 0o600);
    let open_key = write("crm-key", "crm-key-from-a-file\n", 0o644);
    let open_token = write("npd-key", "npd-secret-in-a-file\n", 0o640);
    let toml = format!(
        "[[clients]]\nname = \"crm\"\nkey_file = \"{}\"\n[[operators]]\nname = \"ops\"\nkey_file = \"{}\"\n",
        open_key.display(),
        tidy.display()
    );
    let env = vec![(
        "PROVERKA_PROVIDERS_NPD_KEY_FILE".to_owned(),
        open_token.display().to_string(),
    )];
    let config = Config::from_toml(&toml, &env).unwrap();
    assert_eq!(config.clients[0].key.expose(), "crm-key-from-a-file");
    assert_eq!(config.operators[0].key.expose(), "ops-key-from-a-file");
    let warnings = config.warnings.join("\n");
    assert_eq!(config.warnings.len(), 2, "{warnings}");
    assert!(
        warnings.contains("PROVERKA_PROVIDERS_NPD_KEY_FILE")
            && warnings.contains(&open_token.display().to_string())
            && warnings.contains("mode 640"),
        "{warnings}"
    );
    assert!(
        warnings.contains("clients[0].key_file") && warnings.contains("mode 644"),
        "{warnings}"
    );
    assert!(
        !warnings.contains("ops-key"),
        "a tidy file is not named: {warnings}"
    );
    assert!(
        !warnings.contains("npd-secret-in-a-file") && !warnings.contains("from-a-file"),
        "{warnings}"
    );
    // A key and a key file at once, a key shared by a client and an operator: refused.
    let both = format!(
        "[[clients]]\nname = \"crm\"\nkey = \"inline-key-123\"\nkey_file = \"{}\"\n",
        open_key.display()
    );
    assert!(
        Config::from_toml(&both, &[])
            .unwrap_err()
            .to_string()
            .contains("not both")
    );
    let shared = "[[clients]]\nname = \"crm\"\nkey = \"same-key-123\"\n[[operators]]\nname = \"ops\"\nkey = \"same-key-123\"\n";
    let e = Config::from_toml(shared, &[]).unwrap_err().to_string();
    assert!(
        e.contains("the same key") && !e.contains("same-key-123"),
        "{e}"
    );
}
