//! A provider's account endpoints (its balance): forwarded as they are, with the configured
//! credential (or the caller's), never cached, never billed, never budgeted, and, like every
//! provider call, written to the store before it leaves and settled after.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proverka_cache::ProviderCall;
use proverka_core::{
    AccountRoute, Auth, Billed, CacheKey, Cost, CredentialStyle, Lookup, Money, Provider,
    RawAnswer, RenderError, Reported, TransportErrorKind, UpstreamRequest, Verdict,
};

use crate::fetch::EngineFetch;
use crate::request::{BudgetExceeded, OperationNotForwarded, StoreUnavailable};
use crate::{CallError, Credential, Engine, Tenant};

/// One account read, on someone's behalf.
pub struct AccountRequest<'a> {
    /// The provider.
    pub provider: Provider,
    /// Which of its account endpoints ([`Adapter::account_routes`](proverka_core::Adapter::account_routes)).
    pub route: AccountRoute,
    /// The operation asked for (the value of `route.operation`): one of `route.allowed`.
    pub operation: &'a str,
    /// How the call authenticates.
    pub credential: Credential,
    /// Who asked (the ledger names it; nothing is reserved).
    pub tenant: Tenant,
    /// The request's id, for the ledger.
    pub request_id: &'a (dyn std::fmt::Display + Sync),
}

impl std::fmt::Debug for AccountRequest<'_> {
    // The credential is a secret (its own Debug hides it); the request id is shown as text.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRequest")
            .field("provider", &self.provider)
            .field("path", &self.route.path)
            .field("operation", &self.operation)
            .field("tenant", &self.tenant.id)
            .field("request_id", &self.request_id.to_string())
            .finish_non_exhaustive()
    }
}

/// An account read as a query, so that it is recorded as every call is.
struct AccountRead {
    provider: Provider,
    path: &'static str,
    operation: (&'static str, &'static str),
}

impl Lookup for AccountRead {
    fn provider(&self) -> Provider {
        self.provider
    }
    fn query_kind(&self) -> &'static str {
        "account"
    }
    fn cache_key(&self) -> CacheKey {
        CacheKey::builder(self.provider, "account")
            .exact("path", self.path)
            .exact(self.operation.0, self.operation.1)
            .build()
    }
    fn cost(&self) -> Cost {
        Cost::Free
    }
    fn upstream_request(&self) -> UpstreamRequest {
        UpstreamRequest::new(self.path).param(self.operation.0, self.operation.1)
    }
    fn judge(&self, _raw: &RawAnswer, _now: std::time::SystemTime) -> Verdict {
        free_answer()
    }
    // Never rendered: the answer goes back as the provider's bytes.
    fn render(&self, raw: &RawAnswer) -> Result<serde_json::Value, RenderError> {
        Ok(serde_json::from_slice(&raw.body).unwrap_or(serde_json::Value::Null))
    }
}

/// An account read's judgement: whatever came back, nothing billed, nothing kept.
fn free_answer() -> Verdict {
    Verdict::Answer {
        billed: Billed::No,
        keep_for: Duration::ZERO,
        reported: Reported::default(),
    }
}

impl Engine {
    /// Forwards one account read (FSSP `apilk.php?type=balance`) to the provider and returns
    /// its answer as it came: nothing is cached, billed or reserved; the call is written to
    /// the store before it leaves and settled (free) after, so the ledger shows it.
    ///
    /// # Errors
    /// [`CallError::NotForwarded`] for an operation the route does not forward (nothing
    /// sent); [`CallError::StoreUnavailable`] when the call cannot be recorded (nothing
    /// sent); [`CallError::Upstream`] when no answer came back (not billed).
    pub async fn account(&self, req: AccountRequest<'_>) -> Result<RawAnswer, CallError> {
        let Some(operation) = req
            .route
            .allowed
            .iter()
            .copied()
            .find(|a| *a == req.operation)
        else {
            return Err(CallError::NotForwarded(OperationNotForwarded {
                operation: req.operation.chars().take(40).collect(),
                allowed: req.route.allowed.join(", "),
            }));
        };
        let read = Arc::new(AccountRead {
            provider: req.provider,
            path: req.route.path,
            operation: (req.route.operation, operation),
        });
        let fetch = EngineFetch {
            inner: Arc::clone(&self.inner),
            provider: req.provider,
            lookup: Arc::clone(&read) as Arc<dyn Lookup>,
            credential: req.credential,
            tenant: req.tenant,
            request_id: req.request_id.to_string(),
            row: None,
            sourced: None,
            state: Mutex::default(),
        };
        // Nothing reserved, so never refused by a budget: a client past its limit still sees
        // the balance (the store takes no budget for a zero reservation).
        let intent = fetch.intent(req.provider, &*read, 1, Money::ZERO);
        let id = fetch.open(&intent).await.map_err(|refusal| {
            match (
                refusal.downcast_ref::<StoreUnavailable>(),
                refusal.downcast_ref::<BudgetExceeded>(),
            ) {
                (Some(s), _) => CallError::StoreUnavailable(s.0.clone()),
                (None, Some(b)) => CallError::Budget(*b),
                (None, None) => {
                    CallError::StoreUnavailable(proverka_store::StoreError::Unavailable(
                        "the call could not be recorded".into(),
                    ))
                }
            }
        })?;
        let upstream = self.inner.upstream(req.provider);
        let auth = match (upstream.credential_style(), fetch.credential.secret()) {
            (CredentialStyle::CallerBearer, Some(secret)) => Auth::Bearer(secret),
            (CredentialStyle::QueryParam(name), Some(secret)) => Auth::Query(name, secret),
            _ => Auth::None,
        };
        let sent_at = Instant::now();
        let sent = upstream.http.send(&read.upstream_request(), auth).await;
        let latency = sent_at.elapsed();
        let verdict = match &sent {
            Ok(_) => free_answer(),
            // An account read is never billed, whatever became of it.
            Err(e) => match Verdict::of_transport(e) {
                Verdict::Unreadable { what, .. } => Verdict::Unreadable {
                    billed: Billed::No,
                    what,
                },
                other => other,
            },
        };
        let call = ProviderCall::single(&*read, &verdict, sent.as_ref().ok(), latency);
        fetch
            .close(id, req.provider, &*read, &call, Money::ZERO, None)
            .await;
        sent.map_err(|e| CallError::Upstream {
            timeout: e.kind() == TransportErrorKind::Timeout,
            too_large: e.kind() == TransportErrorKind::TooLarge,
            billed: Billed::No,
            message: e.to_string(),
        })
    }
}
