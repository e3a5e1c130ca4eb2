//! A run's changes posted to the list's webhook: one JSON POST per run that found changes,
//! signed (`X-Proverka-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with
//! `PROVERKA_WEBHOOK_SECRET`), with an `Idempotency-Key` that stays the same for the same
//! changes. The notification is kept in the store before it is sent; one that could not be
//! delivered after a few tries is sent again by the next run.

use std::time::{Duration, UNIX_EPOCH};

use hmac::Mac as _;
use proverka_core::Clock;
use proverka_store::{Store, WatchDelivery, WatchList, WatchRun};

use super::report;
use super::vault::{Vault, hex};

/// Tries per run for one notification; the waits between them double from this.
const TRIES: u32 = 3;
const FIRST_WAIT: Duration = Duration::from_millis(500);

/// The secret that signs notifications.
///
/// # Errors
/// A list with a webhook and no secret: said before anything is paid.
pub(super) fn secret() -> Result<String, String> {
    crate::environment::var("PROVERKA_WEBHOOK_SECRET").ok_or_else(|| {
        "the list has a webhook: set PROVERKA_WEBHOOK_SECRET (or PROVERKA_WEBHOOK_SECRET_FILE) to sign its notifications".to_owned()
    })
}

/// The signature header's value for `body` sent at `t`.
pub(crate) fn signature(secret: &str, t: u64, body: &[u8]) -> String {
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex(&mac.finalize().into_bytes()))
}

/// After a run (`None`: nothing was due): its notification kept (when it found changes and is
/// not the list's baseline), then every notification of the list not delivered yet sent,
/// oldest first. `false` when one is still pending.
///
/// # Errors
/// The webhook URL cannot be opened, the store's failure.
pub(super) async fn after_run(
    store: &dyn Store,
    vault: &Vault<'_>,
    list: &WatchList,
    run: Option<&WatchRun>,
    sealed_url: &str,
    clock: &dyn Clock,
) -> Result<bool, String> {
    let url = vault
        .open(sealed_url, "webhook", None)
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or("the list's webhook URL cannot be opened (sealed under a key no longer configured): give it again with watch add --webhook URL")?;
    let secret = secret()?;
    if let Some(run) = run.filter(|r| !r.baseline) {
        let changes: Vec<report::ChangeRow> =
            report::rows(store, &list.name, run.started, crate::lang::Lang::En)
                .await?
                .into_iter()
                .filter(|c| c.run == run.id)
                .collect();
        if !changes.is_empty() {
            let body = serde_json::to_vec(&serde_json::json!({
                "list": list.name,
                "check": list.check,
                "run": run.id,
                "changes": changes,
            }))
            .map_err(|e| e.to_string())?;
            let key = {
                use sha2::Digest as _;
                let digest = sha2::Sha256::new()
                    .chain_update(list.name.as_bytes())
                    .chain_update(b"\0")
                    .chain_update(&body)
                    .finalize();
                hex(&digest[..16])
            };
            store
                .watch_delivery_put(&WatchDelivery {
                    run: run.id,
                    list: list.name.clone(),
                    key,
                    sealed: vault.seal(&body, "delivery", Some(run.id)),
                    attempts: 0,
                    delivered: None,
                })
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(|e| e.to_string())?;
    let mut all_delivered = true;
    for d in store
        .watch_deliveries_pending(&list.name)
        .await
        .map_err(|e| e.to_string())?
    {
        let Some(body) = vault.open(&d.sealed, "delivery", Some(d.run)) else {
            eprintln!(
                "list {}: the notification of run {} cannot be opened (sealed under a key no longer configured); kept",
                list.name, d.run
            );
            all_delivered = false;
            continue;
        };
        let mut delivered = false;
        let mut wait = FIRST_WAIT;
        for attempt in 1..=TRIES {
            let now = clock.now();
            let t = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            let sent = http
                .post(&url)
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", &d.key)
                .header("X-Proverka-Signature", signature(&secret, t, &body))
                .body(body.clone())
                .send()
                .await;
            let ok = matches!(&sent, Ok(r) if r.status().is_success());
            store
                .watch_delivery_attempted(d.run, ok.then_some(now))
                .await
                .map_err(|e| e.to_string())?;
            if ok {
                delivered = true;
                break;
            }
            let why = match sent {
                Ok(r) => format!("HTTP {}", r.status().as_u16()),
                Err(e) => e.without_url().to_string(),
            };
            eprintln!(
                "list {}: the notification of run {} was not taken ({why}), try {attempt} of {TRIES}",
                list.name, d.run
            );
            if attempt < TRIES {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
        if !delivered {
            eprintln!(
                "list {}: the notification of run {} is kept; the next watch run sends it again",
                list.name, d.run
            );
            all_delivered = false;
        }
    }
    Ok(all_delivered)
}
