//! The lines a batch writes to the terminal (its estimate, its summary, how to resume) and
//! proverka's own failures, in each language.

use proverka_core::Money;

use super::Lang;

/// A batch's estimate before any call.
#[derive(Debug)]
pub(crate) struct Estimate {
    pub(crate) rows: usize,
    pub(crate) valid: usize,
    pub(crate) distinct: usize,
    pub(crate) answered_before: usize,
    pub(crate) cached: usize,
    pub(crate) to_send: usize,
    /// The most it may cost, and the price of one call, when known.
    pub(crate) at_most: Option<(Money, Money)>,
}

/// A batch's summary at its end.
#[derive(Debug)]
pub(crate) struct Summary<'a> {
    pub(crate) rows: usize,
    pub(crate) ok: u64,
    pub(crate) invalid: u64,
    pub(crate) failed: u64,
    pub(crate) pending: u64,
    pub(crate) calls: u64,
    pub(crate) from_cache: u64,
    pub(crate) spent: Money,
    pub(crate) unknown: u64,
    pub(crate) saved_cache: Money,
    pub(crate) saved_dedup: Money,
    pub(crate) out: &'a str,
    pub(crate) store: &'a str,
}

impl Lang {
    /// The estimate line.
    pub(crate) fn estimate(self, e: &Estimate) -> String {
        let Estimate {
            rows,
            valid,
            distinct,
            answered_before,
            cached,
            to_send,
            at_most,
        } = e;
        let invalid = rows - valid;
        match self {
            Self::En => {
                let most = at_most.map_or_else(
                    || "an unknown sum (no price: set PROVERKA_PROVIDERS_<P>_PRICE_RUB)".to_owned(),
                    |(t, p)| format!("{t} RUB ({p} a call)"),
                );
                format!(
                    "rows: {rows}, valid: {valid}, invalid: {invalid}, distinct: {distinct}, answered before: {answered_before}, cached already: {cached}, to send: {to_send}, at most {most}"
                )
            }
            Self::Ru => {
                let most = at_most.map_or_else(
                    || {
                        "неизвестной суммы (цена не задана: PROVERKA_PROVIDERS_<P>_PRICE_RUB)"
                            .to_owned()
                    },
                    |(t, p)| format!("{t} ₽ ({p} ₽ за запрос)"),
                );
                format!(
                    "строк: {rows}, верных: {valid}, неверных: {invalid}, разных запросов: {distinct}, уже отвечено: {answered_before}, уже в кэше: {cached}, к отправке: {to_send}, не дороже {most}"
                )
            }
        }
    }

    /// The summary line.
    pub(crate) fn summary(self, s: &Summary<'_>) -> String {
        let Summary {
            rows,
            ok,
            invalid,
            failed,
            pending,
            calls,
            from_cache,
            spent,
            unknown,
            saved_cache,
            saved_dedup,
            out,
            store,
        } = s;
        match self {
            Self::En => {
                let unknown = if *unknown > 0 {
                    format!(
                        " (+{unknown} calls possibly billed, unreadable: status billed_unknown)"
                    )
                } else {
                    String::new()
                };
                format!(
                    "rows: {rows}, answered: {ok}, invalid: {invalid}, failed: {failed}, pending: {pending}; this run: {calls} provider calls, {from_cache} from cache, {spent} RUB spent{unknown}, saved {saved_cache} RUB by the cache and {saved_dedup} RUB by collapsing duplicates; output: {out}, store: {store}"
                )
            }
            Self::Ru => {
                let unknown = if *unknown > 0 {
                    format!(
                        " (и {unknown} запросов, возможно, оплачено без ответа: статус «оплата неизвестна»)"
                    )
                } else {
                    String::new()
                };
                format!(
                    "строк: {rows}, отвечено: {ok}, неверных: {invalid}, ошибок: {failed}, не отправлено: {pending}; в этом запуске: запросов к провайдеру {calls}, из кэша {from_cache}, оплачено {spent} ₽{unknown}, сэкономлено {saved_cache} ₽ кэшем и {saved_dedup} ₽ на дублях; результат: {out}, хранилище: {store}"
                )
            }
        }
    }

    /// After an interrupted run.
    pub(crate) fn to_resume(self) -> &'static str {
        match self {
            Self::En => "to resume, run the same command again: answered rows are not sent again",
            Self::Ru => {
                "чтобы продолжить, запустите ту же команду ещё раз: отвеченные строки повторно не отправляются"
            }
        }
    }

    /// After a run with failed rows.
    pub(crate) fn some_failed(self, failed: u64) -> String {
        match self {
            Self::En => format!(
                "{failed} rows failed; `--retry-failed` sends again those marked retry_later (free to retry), `--retry-unknown` those marked billed_unknown (they may have been paid already)"
            ),
            Self::Ru => format!(
                "строк с ошибкой: {failed}; `--retry-failed` отправит ещё раз строки «повторить позже» (бесплатно), `--retry-unknown` — строки «оплата неизвестна» (они, возможно, уже оплачены)"
            ),
        }
    }

    /// proverka's own failure codes in Russian (what happened, whether it was paid, what to do);
    /// `None` in English (the message as it came) or for a code of a provider.
    pub(crate) fn own_failure(self, code: &str, billed: &str) -> Option<&'static str> {
        if self == Self::En {
            return None;
        }
        Some(match (code, billed) {
            ("budget_exceeded", _) => {
                "дневной бюджет клиента исчерпан: ничего не отправлено и не оплачено; --retry-failed, когда бюджет обновится"
            }
            ("store_unavailable", _) => {
                "хранилище учёта не отвечает, а без записи платный запрос не уходит: ничего не отправлено; --retry-failed"
            }
            ("busy", _) => {
                "слишком много запросов к провайдеру одновременно: ничего не отправлено; --retry-failed"
            }
            ("cache_degraded", _) => {
                "общий кэш (Redis) не принимает записи: ничего не отправлено; --retry-failed"
            }
            ("not_cached", _) => "ответа нет в кэше: ничего не отправлено",
            ("transport", "unknown") => {
                "ответа нет, а запрос ушёл: провайдер мог его оплатить; proverka сама его не повторяет (--retry-unknown)"
            }
            ("transport", _) => "провайдер не ответил, запрос не оплачен: --retry-failed",
            ("unreadable", _) => {
                "провайдер ответил не в документированном виде: оплата неизвестна; ответ не сохранён, запрос не повторяется"
            }
            ("interrupted", _) => {
                "запуск, отправивший строку, прервался до записи ответа: провайдер мог её оплатить; --retry-unknown отправит снова"
            }
            ("proxy_unreachable", _) => "прокси не ответил: --retry-failed",
            ("journal_damaged", _) => {
                "запись журнала прежней версии повреждена: строка, возможно, оплачена (--retry-unknown)"
            }
            _ => return None,
        })
    }
}
