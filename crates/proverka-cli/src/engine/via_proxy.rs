//! Checks through a proverka proxy's typed API (`--proxy URL`).

use proverka_core::Money;
use serde_json::Value;

use super::{Fatal, ViaProxy};
use crate::check::{CheckKind, Planned, result_fields};
use crate::outcome::{Outcome, Status};

impl ViaProxy {
    pub(super) async fn get(
        &self,
        kind: CheckKind,
        planned: &Planned,
        only_cached: bool,
    ) -> Result<Outcome, Fatal> {
        if !only_cached && let Some(l) = &self.limiter {
            l.until_ready().await;
        }
        let mut req = self
            .http
            .get(format!("{}{}", self.base, kind.v1_path()))
            .query(&planned.pairs);
        if let Some(k) = &self.key {
            req = req.header("X-Proverka-Key", k.expose());
        }
        if only_cached {
            req = req.header("Cache-Control", "only-if-cached");
        }
        let response = match req.send().await {
            Ok(r) => r,
            // The proxy caches whatever the provider answered: asking again is a hit then.
            Err(e) => {
                return Ok(Outcome::failed(
                    Status::RetryLater,
                    "proxy_unreachable",
                    format!("the proxy did not answer: {}", e.without_url()),
                    "unknown",
                    "proxy",
                ));
            }
        };
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or_default();
        if status == 401 {
            return Err(Fatal(
                "the proxy refused the client key (401): set --key or PROVERKA_KEY".into(),
            ));
        }
        let billed = body["charge"]["kind"].as_str().unwrap_or("free").to_owned();
        let price = body["charge"]["price"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| (billed == "free").then(|| Money::ZERO.to_string()));
        // The proxy's free source answered (`[providers.npd] source`).
        let free = body["source"]
            .as_str()
            .and_then(crate::free::free_source_named);
        let source = match (body["cache"].as_str(), free) {
            (Some("HIT" | "STALE"), _) => "cache",
            (_, Some(free)) => free,
            _ => "provider",
        };
        let mut outcome = match status {
            200 => Outcome {
                status: Status::Ok,
                fields: result_fields(kind, &body["result"]),
                error_code: None,
                error_message: None,
                billed,
                price_rub: price.clone(),
                source: source.to_owned(),
                result: Some(body["result"].clone()),
            },
            400 => {
                let pb = &body["error"]["provider_body"];
                let code = pb["error"]
                    .as_str()
                    .or_else(|| pb["data"]["error"].as_str())
                    .map_or_else(|| pb["error"].to_string(), str::to_owned);
                Outcome::invalid(code, pb.to_string())
            }
            402 => Outcome::failed(
                Status::RetryLater,
                "budget_exceeded",
                body["message"]
                    .as_str()
                    .unwrap_or("the client's daily budget is spent"),
                "free",
                "proxy",
            ),
            _ => {
                let e = &body["error"];
                let (code, message, retryable) = if e.is_object() {
                    (
                        e["source"].as_str().unwrap_or("provider").to_owned(),
                        e["message"].as_str().unwrap_or_default().to_owned(),
                        e["retryable"].as_bool().unwrap_or(false),
                    )
                } else {
                    (
                        e.as_str().unwrap_or("proxy_error").to_owned(),
                        body["message"].as_str().unwrap_or_default().to_owned(),
                        body["retryable"].as_bool().unwrap_or(false),
                    )
                };
                Outcome::failed(
                    Outcome::failure_status(&billed, retryable),
                    code,
                    message,
                    &billed,
                    source,
                )
            }
        };
        if outcome.price_rub.is_none() {
            outcome.price_rub = price;
        }
        Ok(outcome)
    }
}
