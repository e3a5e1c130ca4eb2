//! [`EngineFetch`]: how a flight reaches the provider for one query. Before each call, the
//! intent is written to the store of record with the tenant's reservation (or the free source
//! is asked, with an intent of its own); the call goes through the provider's pace and
//! concurrency limit with the credential; after it, the intent is settled with the one
//! judgement, and a batch row's outcome goes in the same transaction.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

use proverka_cache::{BoxFuture, Fetch, ProviderCall, Refusal};
use proverka_core::{
    Auth, Billed, CredentialStyle, FreeFirst, Lookup, Money, Provider, RawAnswer, TransportError,
    Verdict,
};
use proverka_store::{Intent, IntentId, Opened, Settlement};

use crate::ledger::{LedgerLine, day_text, ledger_code, unix_ms};
use crate::observer::JudgedCall;
use crate::request::{BudgetExceeded, Credential, RowTask, StoreUnavailable};
use crate::{FreeRoute, Inner, Tenant};
use free::FreeOutcome;

mod free;

/// A flight that ended before any call because every caller waiting on it left (while it
/// queued for a free source's turn). Nobody receives it; a caller who joined as it ended
/// asks again, as after any refusal.
#[derive(Debug, thiserror::Error)]
#[error("every caller left before the free source's turn came; nothing was sent")]
pub(crate) struct CallersLeft;

/// One flight's access to the provider.
pub(crate) struct EngineFetch {
    pub(crate) inner: Arc<Inner>,
    pub(crate) provider: Provider,
    pub(crate) lookup: Arc<dyn Lookup>,
    pub(crate) credential: Credential,
    pub(crate) tenant: Tenant,
    pub(crate) request_id: String,
    pub(crate) row: Option<RowTask>,
    /// With a free source configured: the flight's query, asked of it first.
    pub(crate) sourced: Option<(Arc<FreeFirst>, FreeRoute)>,
    pub(crate) state: Mutex<CallState>,
}

/// The call in progress.
#[derive(Debug, Default)]
pub(crate) struct CallState {
    attempt: u32,
    /// Its intent and reservation, for a call to the paid provider.
    paid: Option<(IntentId, Money)>,
    /// What the free source gave for this call, asked before it.
    free: Option<Result<RawAnswer, TransportError>>,
}

impl EngineFetch {
    fn state(&self) -> std::sync::MutexGuard<'_, CallState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The attempt in progress (1 for the flight's first call).
    pub(crate) fn state_attempt(&self) -> u32 {
        self.state().attempt
    }

    /// The intent of a call about to be sent, as the store records it.
    pub(crate) fn intent(
        &self,
        provider: Provider,
        lookup: &dyn Lookup,
        attempt: u32,
        reserve: Money,
    ) -> Intent {
        let at = self.inner.clock.now();
        Intent {
            instance: self.inner.presence.id().to_owned(),
            at,
            day: proverka_core::Date::moscow_date_at(at),
            tenant: self.tenant.id.to_string(),
            tenant_name: self.tenant.name.to_string(),
            provider,
            kind: lookup.query_kind().to_owned(),
            key: lookup.cache_key().to_hex()[..16].to_owned(),
            request_id: self.request_id.clone(),
            attempt,
            reserve,
            limit: self.tenant.budget,
            row: self.row.as_ref().map(|r| r.row.clone()),
        }
    }

    /// Writes an intent (and its reservation); a refusal when the budget or the store says no.
    pub(crate) async fn open(&self, intent: &Intent) -> Result<IntentId, Refusal> {
        let presence = &self.inner.presence;
        if !presence.ensure().await {
            return Err(Refusal::new(StoreUnavailable(
                proverka_store::StoreError::Unavailable(if presence.is_down() {
                    "it did not answer a moment ago".into()
                } else {
                    "this process is not registered with it yet".into()
                }),
            )));
        }
        match presence.noted(presence.store().open_intent(intent).await) {
            Ok(Opened::Reserved(id)) => Ok(id),
            Ok(Opened::OverBudget { committed }) => {
                self.inner.observer.budget_refused(&self.tenant);
                Err(Refusal::new(BudgetExceeded {
                    budget: intent.limit.unwrap_or(Money::ZERO),
                    spent: committed,
                    price: intent.reserve,
                }))
            }
            Err(e) => Err(Refusal::new(StoreUnavailable(e))),
        }
    }

    /// Settles an intent with a call's judgement, logs it, and records a batch row's outcome
    /// in the same transaction when the call decided it.
    pub(crate) async fn close(
        &self,
        id: IntentId,
        provider: Provider,
        lookup: &dyn Lookup,
        call: &ProviderCall<'_>,
        price: Money,
        row_outcome: Option<String>,
    ) {
        let at = self.inner.clock.now();
        let billed = call.verdict.billed();
        let code = ledger_code(call.verdict.code());
        let key = lookup.cache_key().to_hex();
        self.inner.ledger.log(&LedgerLine {
            ts_ms: unix_ms(at),
            day: day_text(at),
            client: &self.tenant.name,
            tenant: &self.tenant.id,
            request_id: &self.request_id,
            provider,
            kind: lookup.query_kind(),
            key: &key[..16],
            attempt: call.attempt,
            billed: billed.as_str(),
            price_rub: price,
            code: &code,
            http_status: call.raw.map(|r| r.status),
            latency_ms: u64::try_from(call.latency.as_millis()).unwrap_or(u64::MAX),
            resent: call.resent,
        });
        let settlement = Settlement {
            at,
            billed,
            price,
            code,
            http_status: call.raw.map(|r| r.status),
            latency: call.latency,
            resent: call.resent,
            row_outcome,
        };
        self.inner
            .ledger
            .settle(self.inner.presence.store().as_ref(), id, settlement)
            .await;
    }

    /// The row's outcome of a call that decided it (its last), as the row keeps it.
    fn row_outcome(&self, call: &ProviderCall<'_>, source: &str, price: Money) -> Option<String> {
        let task = self.row.as_ref().filter(|_| !call.resent)?;
        let outcome = match call.raw {
            Some(raw) => crate::outcome::of_answer(
                &*self.lookup,
                raw,
                call.verdict,
                source,
                price,
                Some(&*task.summarize),
            ),
            None => crate::outcome::Outcome::failed(
                crate::outcome::Outcome::failure_status(
                    call.verdict.billed().as_str(),
                    call.verdict.retryable(),
                ),
                "transport",
                call.verdict.code().to_owned(),
                call.verdict.billed().as_str(),
                source,
            ),
        };
        task.recorded.store(true, Ordering::SeqCst);
        Some(outcome.to_json())
    }
}

impl Fetch for EngineFetch {
    fn reserve(&self) -> BoxFuture<'_, Result<(), Refusal>> {
        Box::pin(async move {
            let attempt = {
                let mut st = self.state();
                st.attempt += 1;
                st.paid = None;
                st.free = None;
                st.attempt
            };
            if let Some((first, route)) = &self.sourced {
                match free::ask(self, first, route).await {
                    FreeOutcome::Answered(answer) => {
                        self.state().free = Some(Ok(answer));
                        return Ok(());
                    }
                    FreeOutcome::Failed(e) => {
                        self.state().free = Some(Err(e));
                        return Ok(());
                    }
                    FreeOutcome::AskPaid => {}
                    FreeOutcome::Abandoned => return Err(Refusal::new(CallersLeft)),
                }
            }
            let price = crate::upstream::max_price(
                self.inner.configured_price(self.provider),
                self.lookup.cost(),
            );
            let intent = self.intent(self.provider, &*self.lookup, attempt, price);
            let id = self.open(&intent).await?;
            self.state().paid = Some((id, price));
            Ok(())
        })
    }

    fn send(&self) -> BoxFuture<'_, Result<RawAnswer, TransportError>> {
        Box::pin(async move {
            if let Some(free) = self.state().free.take() {
                return free;
            }
            let upstream = self.inner.upstream(self.provider);
            upstream.wait_turn(&self.inner.cache, None).await;
            let _permit = upstream.acquire().await;
            self.inner.observer.sending(self.provider);
            let auth = match (upstream.credential_style(), self.credential.secret()) {
                (CredentialStyle::CallerBearer, Some(secret)) => Auth::Bearer(secret),
                (CredentialStyle::QueryParam(name), Some(secret)) => Auth::Query(name, secret),
                _ => Auth::None,
            };
            upstream
                .http
                .send(&self.lookup.upstream_request(), auth)
                .await
        })
    }

    fn settle<'a>(&'a self, call: &'a ProviderCall<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let inner = &self.inner;
            let provider = self.provider;
            let billed = call.verdict.billed();
            let cost = self.lookup.cost();
            let price = crate::upstream::price_of(inner.configured_price(provider), billed, cost);
            let paid = self.state().paid.take();
            // Which source answered, where the provider has one.
            let source = self
                .sourced
                .as_ref()
                .map(|(s, _)| s.source().source_of(call.verdict));
            let free_answer = match (&self.sourced, call.verdict) {
                (Some((s, _)), Verdict::Answer { .. }) if billed.is_no() => Some((
                    s.source().source_names().1,
                    crate::upstream::price_of(
                        inner.configured_price(provider),
                        Billed::Yes(None),
                        cost,
                    ),
                )),
                _ => None,
            };
            let counted = match billed {
                Billed::Yes(_) => price,
                // Unknown: the reservation stands (it may have been billed); free: nothing.
                Billed::Unknown => paid.map_or(price, |(_, reserved)| reserved),
                Billed::No => Money::ZERO,
            };
            inner.observer.judged(&JudgedCall {
                provider,
                verdict: call.verdict,
                answered: call.raw.is_some(),
                latency: call.latency,
                billed,
                price: counted,
                free_answer,
                source: source.filter(|_| matches!(call.verdict, Verdict::Answer { .. })),
                at: inner.clock.now(),
            });
            let shown_source = free_answer.map_or("provider", |(name, _)| name);
            let row_outcome = self.row_outcome(call, shown_source, counted);
            match paid {
                Some((id, _)) => {
                    self.close(id, provider, &*self.lookup, call, counted, row_outcome)
                        .await;
                }
                // The free source's call was settled when it was made; the row is recorded
                // now (a crash in between costs a free call again, nothing more).
                None => {
                    if let (Some(task), Some(outcome)) = (&self.row, row_outcome)
                        && let Err(e) = inner
                            .presence
                            .store()
                            .row_done(&task.row, &outcome, false, inner.clock.now())
                            .await
                    {
                        task.recorded.store(false, Ordering::SeqCst);
                        tracing::warn!(error = %e, "a batch row's outcome could not be recorded");
                    }
                }
            }
        })
    }
}
