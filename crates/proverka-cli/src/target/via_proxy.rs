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

/// How one check asks the proxy.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Ask<'a> {
    /// Without letting it pay (`Cache-Control: only-if-cached`).
    pub(super) only_cached: bool,
    /// Sent as `X-Request-Id` (the proxy's ledger names it).
    pub(super) request_id: Option<&'a str>,
    /// Only an answer this young from its cache (`Cache-Control: max-age`).
    pub(super) max_age: Option<std::time::Duration>,
    /// The provider's own reply too (`X-Proverka-Include: provider-answer`), as the outcome's
    /// `raw`.
    pub(super) with_provider_answer: bool,
    /// This client key instead of the run's.
    pub(super) client_key: Option<&'a Secret>,
}

/// The provider's reply a proxy sent along (`X-Proverka-Include: provider-answer`), when its
/// bytes match the digest sent with them.
fn provider_answer(v: &Value) -> Option<proverka_core::RawAnswer> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let body = base64::engine::general_purpose::STANDARD
        .decode(v["body_base64"].as_str()?)
        .ok()?;
    let digest: String = sha2::Sha256::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if v["sha256"].as_str() != Some(digest.as_str()) {
        return None;
    }
    Some(proverka_core::RawAnswer {
        status: u16::try_from(v["status"].as_u64()?).ok()?,
        content_type: v["content_type"].as_str().map(str::to_owned),
        body: body.into(),
    })
}

impl ViaProxy {
    /// One check on the proxy's typed route, with the caller's `bearer` for a provider that
    /// takes one, asked as `ask` says. The outcome's fields are the caller's to fill from its
    /// `result`.
    pub(super) async fn get(
        &self,
        planned: &Planned,
        bearer: Option<&Secret>,
        ask: Ask<'_>,
    ) -> Result<Outcome, Fatal> {
        let Ask {
            only_cached,
            request_id,
            max_age,
            with_provider_answer,
            client_key,
        } = ask;
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
        if let Some(k) = client_key.or(self.key.as_ref()) {
            req = req.header("X-Proverka-Key", k.expose());
        }
        if only_cached {
            req = req.header("Cache-Control", "only-if-cached");
        } else if let Some(age) = max_age {
            req = req.header("Cache-Control", format!("max-age={}", age.as_secs()));
        }
        if with_provider_answer {
            req = req.header("X-Proverka-Include", "provider-answer");
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
                raw: provider_answer(&body["provider_answer"]),
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

    /// A GET of the proxy's `path` with `key` (else the run's client key); the answer's JSON
    /// when it is a success.
    async fn json(
        &self,
        path: &str,
        query: &[(&str, &str)],
        key: Option<&Secret>,
    ) -> Result<Value, Fatal> {
        let mut req = self.http.get(format!("{}{path}", self.base)).query(query);
        if let Some(k) = key.or(self.key.as_ref()) {
            req = req.header("X-Proverka-Key", k.expose());
        }
        let fail = |e: reqwest::Error| Fatal(format!("proxy: {}", e.without_url()));
        let r = req.send().await.map_err(fail)?;
        if !r.status().is_success() {
            return Err(Fatal(format!("proxy: {path} answered {}", r.status())));
        }
        r.json().await.map_err(fail)
    }

    /// How the proxy's ledger settled the calls made under `request_id` (`None`: in flight),
    /// asked with the key they were made with (a client sees its own calls only).
    pub(super) async fn calls(
        &self,
        request_id: &str,
        key: Option<&Secret>,
    ) -> Result<Vec<Option<String>>, Fatal> {
        let body = self
            .json("/v1/calls", &[("request_id", request_id)], key)
            .await?;
        Ok(body["calls"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c["billed"].as_str().map(str::to_owned))
            .collect())
    }
}
