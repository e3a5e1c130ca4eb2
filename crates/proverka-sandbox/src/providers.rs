//! The five simulated providers: validation from the adapters, answers from the fixtures.

use proverka_core::{Lookup, Money, Provider};

use serde_json::{Value, json};

use crate::faults::Fault;
use crate::{Reply, State};

/// A fixture, compiled in.
macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!("../../../fixtures/", $path))
    };
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// A deterministic number from a query's parameters (the credential left out): the same
/// query, the same answer. Independent of the adapters, which may refuse what the page allows.
fn seed(pairs: &[(&str, &str)]) -> u8 {
    use std::hash::{Hash, Hasher};
    let mut sorted: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(k, _)| !matches!(*k, "token" | "key"))
        .map(|(k, v)| (*k, v.trim()))
        .collect();
    sorted.sort_unstable();
    let mut h = std::hash::DefaultHasher::new();
    sorted.hash(&mut h);
    h.finish().to_le_bytes()[0]
}

/// An HTML captcha page, as the FSSP site answers when it is not the API.
pub(crate) const CAPTCHA: &str = fixture!("fssp/html_captcha_page.html");

pub(crate) fn fault_reply(provider: Provider, fault: &Fault) -> Option<Reply> {
    Some(match fault {
        Fault::Html => Reply::new(200, "text/html; charset=utf-8", CAPTCHA),
        Fault::Http5xx { status } => Reply::new(
            *status,
            "text/html",
            "<html><body>Bad Gateway</body></html>",
        ),
        Fault::SuccessZero if provider == Provider::Npd => Reply::json(200, json!({"success": 0})),
        Fault::ProviderError { code } => provider_error(provider, code),
        _ => return None,
    })
}

/// Faults that spoil an answer the provider already produced and billed.
pub(crate) fn after_billing(provider: Provider, fault: &Fault, reply: Reply) -> Reply {
    match fault {
        Fault::Truncated | Fault::TruncatedAfterBilling => {
            let half = reply.body.len() / 2;
            Reply {
                body: reply.body.slice(..half),
                ..reply
            }
        }
        Fault::Bom => {
            let mut body = b"\xEF\xBB\xBF".to_vec();
            body.extend_from_slice(&reply.body);
            body.extend_from_slice(b"\r\n");
            Reply {
                body: body.into(),
                ..reply
            }
        }
        Fault::Oversized { bytes } => {
            let mut body: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
            if let Value::Object(map) = &mut body {
                map.insert("padding".into(), Value::String("x".repeat(*bytes)));
            }
            Reply::json(reply.status, body)
        }
        Fault::SuccessOneWithoutFound if provider == Provider::Npd && reply.status == 200 => {
            Reply::json(200, json!({"success": 1}))
        }
        Fault::MessageOnly if provider == Provider::Fssp && reply.status == 200 => Reply::json(
            200,
            json!({"status": 200, "message": "Источник не доступен"}),
        ),
        _ => reply,
    }
}

fn provider_error(provider: Provider, code: &str) -> Reply {
    match provider {
        Provider::Fssp => {
            let e = proverka_fssp::ErrorCode::from_wire(code, None, None);
            Reply::json(200, json!({"error": code, "message": e.name()}))
        }
        Provider::Court => Reply::json(
            200,
            json!({"data": {"status": 0, "error": code, "last": 0}}),
        ),
        Provider::Npd => {
            let (status, text) = match code {
                "40301" => (403, "Invalid access key"),
                "40302" => (403, "The subscription period has expired"),
                "40303" => (403, "Invalid IP"),
                "40304" => (403, "Day limit of requests exceeded"),
                "40305" => (403, "Month limit of requests exceeded"),
                _ => (400, "Field inn is required"),
            };
            Reply::json(
                status,
                json!({"error": text, "error_code": code.parse::<i64>().unwrap_or(40000)}),
            )
        }
        Provider::Fns => Reply::json(422, json!({"code": code, "message": "sandbox fault"})),
        Provider::Alfa => {
            let status = match code {
                "invalid_request" => 400,
                "invalid_token" => 401,
                "insufficient_scope" | "access_denied" => 403,
                "unknown_endpoint" => 404,
                _ => 500,
            };
            Reply::json(
                status,
                json!({"error": code, "error_description": "sandbox fault"}),
            )
        }
    }
}

/// The price of one FSSP answer, as the page's samples show (the "not found" answer 1.4).
fn fssp_price(kind: proverka_fssp::QueryType, found: bool) -> Money {
    use proverka_fssp::QueryType as T;
    Money::from_kopecks(match (kind, found) {
        (T::RegionsList, _) => 0,
        (_, false) => 140,
        // The page's samples: wanted 0.6; physical, ip and alim 0.8 (id like ip).
        (T::Wanted, true) => 60,
        _ => 80,
    })
}

/// The FSSP token check, as the page's codes 502 and 499 refuse it.
fn fssp_token(pairs: &[(&str, &str)]) -> Result<(), Reply> {
    let token = pairs.iter().find(|(k, _)| *k == "token").map(|(_, v)| *v);
    match token {
        None | Some("") => Err(Reply::json(
            200,
            json!({"error": "502", "message": "MISSING_REQUIRED_TOKEN_PARAMETER"}),
        )),
        Some(t) if proverka_fssp::check_token(&proverka_core::Secret::new(t)).is_err() => Err(
            Reply::json(200, json!({"error": "499", "message": "WRONG_TOKEN_KEY"})),
        ),
        Some(_) => Ok(()),
    }
}

/// `GET /api/apilk.php?type=balance`: the account's balance and credit line, free. The FSSP
/// page does not describe this call; the answer carries the `balance` and `credit` its
/// `inquiry` shows, and the page's error table answers the rest (500 without a `type`, 602
/// "no access to the method" for another).
pub(crate) fn fssp_account(state: &State, pairs: &[(&str, &str)]) -> Reply {
    if let Err(refused) = fssp_token(pairs) {
        return refused;
    }
    match pairs.iter().find(|(k, _)| *k == "type").map(|(_, v)| *v) {
        Some("balance") => Reply::json(
            200,
            json!({
                "status": 200,
                "balance": state.lock_fssp_balance().rubles_f64(),
                "credit": state.fssp_credit.to_string(),
            }),
        ),
        None | Some("") => Reply::json(
            200,
            json!({"error": "500", "message": "MISSING_REQUIRED_TYPE_PARAMETER"}),
        ),
        Some(_) => Reply::json(200, json!({"error": "602", "message": "TOKEN_NO_ACCESS"})),
    }
}

/// `GET /api/fssp.php`.
pub(crate) fn fssp(
    state: &State,
    pairs: &[(&str, &str)],
) -> Result<(Reply, Option<proverka_core::CacheKey>), Reply> {
    use proverka_fssp::{FsspQuery, QueryType};
    fssp_token(pairs)?;
    // Validation from the page, not the adapter's: the adapter's parse only names the call.
    let kind = crate::page_rules::fssp(pairs)?;
    let key = FsspQuery::from_pairs(pairs).ok().map(|q| q.cache_key());
    if kind == QueryType::RegionsList {
        return Ok((
            Reply::raw_json(fixture!("fssp/regions_list_records.json")),
            key,
        ));
    }
    let lastname = match kind {
        QueryType::Physical | QueryType::Alim => {
            crate::page_rules::get(pairs, &["lastname"]).map(str::to_lowercase)
        }
        _ => None,
    };
    let found = match lastname.as_deref() {
        Some("иванов") => true,
        Some("чистов") => false,
        _ => !seed(pairs).is_multiple_of(3),
    };
    let price = fssp_price(kind, found);
    let credit = state.fssp_credit;
    let balance = {
        // "credit": "Кредитный лимит (сумма лимита расходов при нуле)": the balance may go
        // below zero down to the credit line (the wanted sample: "balance": -706.62,
        // "credit": 20000).
        let mut balance = state.lock_fssp_balance();
        if balance.kopecks() - price.kopecks() < -credit.kopecks() {
            return Err(Reply::json(
                200,
                json!({"error": "498", "message": "TOKEN_NO_MONEY"}),
            ));
        }
        *balance = Money::from_kopecks(balance.kopecks() - price.kopecks());
        *balance
    };
    state.bill(Provider::Fssp);
    let inquiry = json!({
        "price": price.rubles_f64(), "balance": balance.rubles_f64(), "credit": credit.to_string(), "speed": 1, "attempts": 1
    });
    if !found {
        return Ok((
            Reply::json(
                200,
                json!({"status": 200, "count": 0, "message": "В базе ФССП отсутствует", "inquiry": inquiry}),
            ),
            key,
        ));
    }
    let mut body = parse(match kind {
        QueryType::Wanted => fixture!("fssp/wanted_found.json"),
        QueryType::Alim => fixture!("fssp/alim_found.json"),
        QueryType::Legal | QueryType::Inn => fixture!("fssp/legal_found_no_inquiry.json"),
        _ => fixture!("fssp/physical_found.json"),
    });
    if kind != QueryType::Wanted {
        let n = 1 + usize::from(seed(pairs) % 3);
        let record = body["records"][0].clone();
        body["records"] = Value::Array(vec![record; n]);
        body["count"] = json!(n);
        body["countAll"] = json!(n.to_string());
    }
    body["inquiry"] = inquiry;
    Ok((Reply::json(200, body), key))
}

/// `GET /api` and `/api/`.
pub(crate) fn court(
    state: &State,
    pairs: &[(&str, &str)],
) -> Result<(Reply, Option<proverka_core::CacheKey>), Reply> {
    use proverka_court::CourtQuery;
    let error = |text: &str, last: i64| {
        Reply::json(
            200,
            json!({"data": {"status": 0, "error": text, "last": last}}),
        )
    };
    if pairs.iter().all(|(k, v)| *k != "token" || v.is_empty()) {
        return Err(error("401 Unauthorized", 0));
    }
    let point = crate::page_rules::court(pairs)?;
    let key = CourtQuery::from_pairs(pairs).ok().map(|q| q.cache_key());
    let Some(last) = state.take_court_query() else {
        return Err(error("Query limit is null (0)", 0));
    };
    state.bill(Provider::Court);
    let address = crate::page_rules::get(pairs, &["address"]).unwrap_or_default();
    let (found_fs, found_ms) = match point {
        // Found where the court base knows the point, in the order it was read (the page:
        // "попробуйте поменять порядок расположения широты и долготы").
        Some(p) => {
            let ok = crate::page_rules::in_russia(p);
            (ok, ok)
        }
        None if address.contains("Казань") => (true, true),
        None if address.contains("Новый") => (false, false),
        None => (
            !seed(pairs).is_multiple_of(4),
            seed(pairs).is_multiple_of(2),
        ),
    };
    let sample = parse(fixture!("court/found_both_courts.json"));
    let mut request = sample["request"].clone();
    request["court_fs"] = if found_fs {
        request["court_fs"].clone()
    } else {
        Value::Null
    };
    request["court_ms"] = if found_ms {
        request["court_ms"].clone()
    } else {
        Value::Null
    };
    match point {
        None => {
            request["address"] = json!(address);
            request["coords"] = json!("");
        }
        Some(_) => {
            request["address"] = json!("");
            request["coords"] =
                json!(crate::page_rules::get(pairs, &["coords"]).unwrap_or_default());
        }
    }
    Ok((
        Reply::json(
            200,
            json!({"data": {"status": 1, "last": last}, "request": request}),
        ),
        key,
    ))
}

/// `POST /api/v1/tracker/taxpayer_status` with `{"inn", "requestDate"}`: the tax service's
/// free check, with its per-IP limit and its 422 codes. Never billed.
pub(crate) fn fns(
    state: &State,
    peer: std::net::IpAddr,
    method: &http::Method,
    body: &[u8],
) -> Result<(Reply, Option<proverka_core::CacheKey>), Reply> {
    let failed = |message: &str| {
        Reply::json(
            422,
            json!({"code": "validation.failed", "message": message}),
        )
    };
    if method != http::Method::POST {
        return Err(Reply::json(
            405,
            json!({"code": "method.not.allowed", "message": "POST only"}),
        ));
    }
    if !state.fns_admit(peer) {
        return Err(Reply::json(
            422,
            json!({"code": "taxpayer.status.service.limited.error", "message": "Превышено количество запросов к сервису с одного IP-адреса в единицу времени"}),
        ));
    }
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let inn = request["inn"].as_str().unwrap_or_default();
    let date = request["requestDate"].as_str().unwrap_or_default();
    if inn.len() != 12 || !inn.bytes().all(|b| b.is_ascii_digit()) {
        return Err(failed("inn: ИНН должен состоять из 12 цифр"));
    }
    match proverka_core::Date::parse_iso(date) {
        Ok(d)
            if d.to_iso().as_str() >= "2019-01-01" && d <= proverka_core::Date::today_moscow() => {}
        _ => {
            return Err(failed(
                "requestDate: дата должна быть с 2019-01-01 по сегодня",
            ));
        }
    }
    let key = proverka_fns::FnsQuery::parse(inn, Some(date))
        .ok()
        .map(|q| q.cache_key());
    let payer = match inn {
        crate::NPD_PAYER => true,
        crate::NPD_NON_PAYER => false,
        _ => seed(&[("inn", inn), ("date", date)]).is_multiple_of(2),
    };
    let message = if payer {
        format!("{inn} является плательщиком налога на профессиональный доход")
    } else {
        format!("{inn} не является плательщиком налога на профессиональный доход")
    };
    Ok((
        Reply::json(200, json!({"status": payer, "message": message})),
        key,
    ))
}

/// `GET /parser/nalog_npd_api/`.
pub(crate) fn npd(
    state: &State,
    pairs: &[(&str, &str)],
) -> Result<(Reply, Option<proverka_core::CacheKey>), Reply> {
    if pairs.iter().all(|(k, v)| *k != "key" || v.is_empty()) {
        return Err(Reply::json(
            403,
            json!({"error": "Invalid access key", "error_code": 40301}),
        ));
    }
    crate::page_rules::npd(pairs)?;
    let key = proverka_npd::NpdQuery::from_pairs(pairs)
        .ok()
        .map(|q| q.cache_key());
    let found = match crate::page_rules::get(pairs, &["inn"]).unwrap_or_default() {
        crate::NPD_PAYER => true,
        crate::NPD_NON_PAYER => false,
        _ => seed(pairs).is_multiple_of(2),
    };
    state.bill(Provider::Npd);
    Ok((
        Reply::json(200, json!({"success": 1, "found": i32::from(found)})),
        key,
    ))
}

/// `GET /api/semp/v1/selfemployed/registries/add-selfemployed/{requestId}`.
pub(crate) fn alfa(
    state: &State,
    request_id: &str,
    bearer: Option<&str>,
    pairs: &[(&str, &str)],
) -> Result<(Reply, Option<proverka_core::CacheKey>), Reply> {
    let Some(bearer) = bearer.filter(|b| !b.is_empty()) else {
        return Err(Reply::json(
            400,
            json!({
                "error": "invalid_request",
                "error_description": "Authorization header is not present in request headers"
            }),
        ));
    };
    if bearer == crate::ALFA_INVALID_BEARER {
        return Err(Reply::json(
            401,
            json!({
                "error": "invalid_token",
                "error_description": "The access token provided is expired, revoked, malformed, or invalid for other reasons"
            }),
        ));
    }
    let (limit, offset) = crate::page_rules::alfa(pairs)?;
    let key = proverka_alfa::RegistryQuery::from_parts(request_id, pairs)
        .ok()
        .map(|q| q.cache_key());
    let since = state.alfa_first_seen(request_id);
    let step = state.alfa_step;
    let status = match state.elapsed_since(since) {
        e if e < step => "NEW",
        e if e < step * 2 => "IN_PROGRESS",
        _ => "SUCCESS",
    };
    let total = 3 + usize::from(seed(&[("requestId", request_id)]) % 5);
    let limit = limit.unwrap_or(1000);
    let offset = offset.unwrap_or(0);
    let sample = parse(fixture!("alfa/page_sample_new.json"));
    let account = sample["selfemployedAccount"][0].clone();
    let accounts: Vec<Value> = (offset..total.min(offset.saturating_add(limit)))
        .map(|i| {
            let mut a = account.clone();
            a["selfemployed"]["personalInformation"]["vatin"] =
                json!(format!("7712345678{:02}", i % 100));
            a["status"] = json!(if status == "SUCCESS" {
                "READY"
            } else {
                "IN_PROGRESS"
            });
            a
        })
        .collect();
    let body = json!({
        "pagination": {"limit": limit, "offset": offset, "totalCount": total},
        "requestId": request_id,
        "externalId": sample["externalId"],
        "listStatus": status,
        "createdDate": sample["createdDate"],
        "selfemployedAccount": accounts,
    });
    Ok((Reply::json(200, body), key))
}
