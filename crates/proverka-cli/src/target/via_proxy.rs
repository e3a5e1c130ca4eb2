//! Checks through a proverka proxy's typed API (`--proxy URL`).

use proverka_core::{Money, Secret};
use proverka_engine::{Outcome, Status};
use serde_json::Value;

use super::{Fatal, ViaProxy};
use crate::check::Planned;

/// Whether `name` is a free source of this build, as a proxy's `source` field names it.
fn free_source_named(name: &str) -> Option<&'static str> {
    proverka::free_sources()
        .iter()
        .map(|s| s.source_names().1)
        .find(|n| *n == name)
}

impl ViaProxy {
    /// One check on the proxy's typed route, with the caller's `bearer` for a provider that
    /// takes one; `only_cached` asks without letting it pay; `request_id` is sent as
    /// `X-Request-Id` (the proxy's ledger names it). The outcome's fields are the caller's to
    /// fill from its `result`.
    pub(super) async fn get(
        &self,
        planned: &Planned,
        bearer: Option<&Secret>,
        only_cached: bool,
        request_id: Option<&str>,
    ) -> Result<Outcome, Fatal> {
        if !only_cached && let Some(l) = &self.limiter {
            l.until_ready().await;
        }
        let mut req = self
            .http
            .get(format!("{}{}", self.base, planned.path))
            .query(&planned.pairs);
        if let Some(b) = bearer {
            req = req.bearer_auth(b.expose());
        }
        if let Some(k) = &self.key {
            req = req.header("X-Proverka-Key", k.expose());
        }
        if only_cached {
            req = req.header("Cache-Control", "only-if-cached");
        }
        if let Some(id) = request_id {
            req = req.header("X-Request-Id", id);
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
        // The proxy's free source answered (its `[providers.<paid>] source`).
        let free = body["source"].as_str().and_then(free_source_named);
        let source = match (body["cache"].as_str(), free) {
            (Some("HIT" | "STALE"), _) => "cache",
            (_, Some(free)) => free,
            _ => "provider",
        };
        let mut outcome = match status {
            200 => Outcome {
                status: Status::Ok,
                fields: Default::default(),
                error_code: None,
                error_message: None,
                billed,
                price_rub: price.clone(),
                source: source.to_owned(),
                result: Some(body["result"].clone()),
                raw: None,
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

    /// A GET of the proxy's `path` with the client key; the answer's JSON when it is a
    /// success.
    async fn json(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, Fatal> {
        let mut req = self.http.get(format!("{}{path}", self.base)).query(query);
        if let Some(k) = &self.key {
            req = req.header("X-Proverka-Key", k.expose());
        }
        let fail = |e: reqwest::Error| Fatal(format!("proxy: {}", e.without_url()));
        let r = req.send().await.map_err(fail)?;
        if !r.status().is_success() {
            return Err(Fatal(format!("proxy: {path} answered {}", r.status())));
        }
        r.json().await.map_err(fail)
    }

    /// How the proxy's ledger settled the calls made under `request_id` (`None`: in flight).
    pub(super) async fn calls(&self, request_id: &str) -> Result<Vec<Option<String>>, Fatal> {
        let body = self
            .json("/v1/calls", &[("request_id", request_id)])
            .await?;
        Ok(body["calls"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c["billed"].as_str().map(str::to_owned))
            .collect())
    }
}
