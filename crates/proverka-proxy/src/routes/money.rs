//! What was spent, from the store of record: `/v1/spend` (an operator sees every client, a
//! client its own), `/v1/calls` (what a request id cost) and `/v1/me` (a client's own budget).

use std::collections::BTreeMap;
use std::sync::Arc;

use http::StatusCode;
use proverka_core::{Date, Money};
use proverka_store::{SpendQuery, SpendRow};

use super::access::{Caller, Denied, caller};
use super::{Incoming, Reply, error, json_reply, unavailable};
use crate::api::{CallState, Calls, Me, MeToday, Spend, SpendCell, SpendLine};
use crate::app::{AppState, Client};

/// The tenant a caller may see the spend of: `None` for all (an operator, or no keys).
fn scope(caller: &Caller) -> Option<String> {
    match caller {
        Caller::Client(c) => Some(c.tenant.id.to_string()),
        Caller::Open | Caller::Operator(_) => None,
    }
}

/// The caller's name for the request line.
fn name_of(caller: &Caller) -> Option<Arc<str>> {
    match caller {
        Caller::Client(c) => Some(Arc::clone(&c.tenant.name)),
        Caller::Operator(o) => Some(Arc::clone(&o.name)),
        Caller::Open => None,
    }
}

fn store_unavailable() -> Reply {
    unavailable(
        crate::api::ErrorCode::StoreUnavailable,
        "the store of record does not answer; ask again later",
    )
}

/// One query parameter.
fn param(req: &Incoming, name: &str) -> Option<String> {
    form_urlencoded::parse(req.query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Today in Moscow, by the engine's clock.
fn today(state: &AppState) -> Date {
    Date::moscow_date_at(state.engine.presence().clock().now())
}

/// `GET /v1/spend?day=YYYY-MM-DD` (or `from=…&to=…`, inclusive): what each client spent with
/// each provider on Moscow days (today when absent), from the store of record (every
/// replica's calls, across restarts): per client and provider (`clients`), and per client,
/// provider and query kind (`rows`, what an invoice is reconciled with). An operator sees every
/// client, a client its own.
pub(crate) async fn spend(state: &AppState, req: &Incoming) -> (Reply, Option<Arc<str>>) {
    let caller = match caller(state, req) {
        Ok(c) => c,
        Err(denied) => return (denied.reply(), None),
    };
    let name = name_of(&caller);
    let day = |name: &str| match param(req, name).as_deref().map(Date::parse_iso) {
        None => Ok(None),
        Some(Ok(d)) => Ok(Some(d)),
        Some(Err(_)) => Err(()),
    };
    let (Ok(one), Ok(from), Ok(to)) = (day("day"), day("from"), day("to")) else {
        return (
            error(
                StatusCode::BAD_REQUEST,
                crate::api::ErrorCode::InvalidDay,
                "day, from and to must be YYYY-MM-DD (Moscow days)",
            ),
            name,
        );
    };
    let now = today(state);
    let (from, to) = match (one, from, to) {
        (Some(d), _, _) => (d, d),
        (None, from, to) => (from.or(to).unwrap_or(now), to.or(from).unwrap_or(now)),
    };
    let query = SpendQuery {
        from,
        to,
        tenant: scope(&caller),
    };
    let Ok(rows) = state.engine.spend(&query).await else {
        return (store_unavailable(), name);
    };
    let rows = per_kind(state, rows);
    let total = rows
        .iter()
        .fold(Money::ZERO, |t, r| t.saturating_add(r.charged));
    let mut clients: BTreeMap<String, BTreeMap<String, SpendCell>> = BTreeMap::new();
    for r in &rows {
        let cell = clients
            .entry(r.tenant_name.clone())
            .or_default()
            .entry(r.provider.clone())
            .or_insert(SpendCell {
                spent_rub: Money::ZERO,
                calls: 0,
                billed_unknown: 0,
            });
        cell.spent_rub = cell.spent_rub.saturating_add(r.charged);
        cell.calls += r.calls;
        cell.billed_unknown += r.unknown_calls + r.open_calls;
    }
    let rows = rows
        .into_iter()
        .map(|r| SpendLine {
            unknown_calls: r.unknown_calls + r.open_calls,
            unknown_rub: r.unknown.saturating_add(r.open),
            client: r.tenant_name,
            client_id: r.tenant,
            provider: r.provider,
            kind: r.kind,
            calls: r.calls,
            charged_calls: r.charged_calls,
            spent_rub: r.charged,
        })
        .collect();
    let body = Spend {
        from,
        to,
        day: (from == to).then_some(from),
        total_rub: total,
        clients,
        rows,
    };
    (json_reply(StatusCode::OK, &body), name)
}

/// The store's rows (per day) summed per client, provider and kind over the period, each
/// client under its name now (a client renamed since keeps its id).
fn per_kind(state: &AppState, rows: Vec<SpendRow>) -> Vec<SpendRow> {
    let mut out: BTreeMap<(String, String, String), SpendRow> = BTreeMap::new();
    for r in rows {
        let key = (r.tenant.clone(), r.provider.clone(), r.kind.clone());
        match out.get_mut(&key) {
            None => {
                let mut first = r;
                if let Some(name) = state.name_of_tenant(&first.tenant) {
                    first.tenant_name = name.to_string();
                }
                out.insert(key, first);
            }
            Some(sum) => {
                sum.calls += r.calls;
                sum.charged_calls += r.charged_calls;
                sum.unknown_calls += r.unknown_calls;
                sum.open_calls += r.open_calls;
                sum.charged = sum.charged.saturating_add(r.charged);
                sum.unknown = sum.unknown.saturating_add(r.unknown);
                sum.open = sum.open.saturating_add(r.open);
            }
        }
    }
    let mut rows: Vec<SpendRow> = out.into_values().collect();
    rows.sort_by(|a, b| {
        (&a.tenant_name, &a.provider, &a.kind).cmp(&(&b.tenant_name, &b.provider, &b.kind))
    });
    rows
}

/// `GET /v1/calls?request_id=…`: the provider calls made under one request id, as the ledger
/// settled them (`charged`, `free`, `unknown`, or `null` while in flight); a client sees its
/// own only. What a command-line run that stopped asks before sending a row again: a call that
/// may have been billed is not sent twice.
pub(crate) async fn calls(state: &AppState, req: &Incoming) -> (Reply, Option<Arc<str>>) {
    let caller = match caller(state, req) {
        Ok(c) => c,
        Err(denied) => return (denied.reply(), None),
    };
    let name = name_of(&caller);
    let Some(request_id) = param(req, "request_id") else {
        return (
            error(
                StatusCode::BAD_REQUEST,
                crate::api::ErrorCode::MissingRequestId,
                "request_id is required",
            ),
            name,
        );
    };
    let tenant = scope(&caller);
    match state
        .engine
        .store()
        .calls_of_request(&request_id, tenant.as_deref())
        .await
    {
        Ok(billed) => (
            json_reply(
                StatusCode::OK,
                &Calls {
                    request_id,
                    calls: billed
                        .into_iter()
                        .map(|billed| CallState { billed })
                        .collect(),
                },
            ),
            name,
        ),
        Err(_) => (store_unavailable(), name),
    }
}

/// `GET /v1/me`: the calling client, and today's budget from the store of record: spent
/// (billed, and possibly billed at its reservation), reserved (calls in flight), left.
pub(crate) async fn me(state: &AppState, req: &Incoming) -> (Reply, Option<Arc<str>>) {
    let client = match caller(state, req) {
        Ok(Caller::Client(c)) => c,
        Ok(Caller::Open) => Client::anonymous(),
        Ok(Caller::Operator(_)) => {
            return (
                Denied::Forbidden(
                    "an operator has no budget; /v1/spend shows every client's spend",
                )
                .reply(),
                None,
            );
        }
        Err(denied) => return (denied.reply(), None),
    };
    let name = Some(Arc::clone(&client.tenant.name));
    let day = today(state);
    let store = state.engine.store();
    let (Ok(rows), Ok(committed)) = (
        store
            .spend(&SpendQuery {
                from: day,
                to: day,
                tenant: Some(client.tenant.id.to_string()),
            })
            .await,
        store.committed(&client.tenant.id, day).await,
    ) else {
        return (store_unavailable(), name);
    };
    let sum =
        |f: fn(&SpendRow) -> Money| rows.iter().map(f).fold(Money::ZERO, Money::saturating_add);
    let (charged, unknown, open) = (sum(|r| r.charged), sum(|r| r.unknown), sum(|r| r.open));
    let budget = client.tenant.budget;
    (
        json_reply(
            StatusCode::OK,
            &Me {
                client: client.tenant.name.to_string(),
                id: client.tenant.id.to_string(),
                daily_budget_rub: budget,
                may_refresh: client.tenant.may_refresh,
                today: MeToday {
                    day,
                    spent_rub: charged,
                    possibly_billed_rub: unknown,
                    reserved_rub: open,
                    committed_rub: committed,
                    left_rub: budget.map(|b| b.saturating_sub(committed).max(Money::ZERO)),
                },
            },
        ),
        name,
    )
}
