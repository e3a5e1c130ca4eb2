//! Free sources of paid answers: a paid provider's question that a free provider also
//! answers (the tax service's free NPD check for api-assist's), and the query wrapper a cache
//! flight uses when it asks the free source first.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::{CacheKey, Cost, Lookup, Provider, RawAnswer, RenderError, UpstreamRequest, Verdict};

/// A free provider that answers a paid provider's question (the tax service's free NPD
/// check for api-assist's): a caller may ask it first and fall back to the paid one.
/// Both fill the paid provider's cache entry, in the paid provider's answer shape, so a
/// drop-in caller sees one format whichever source answered.
pub trait FreeSource: Send + Sync + fmt::Debug {
    /// The paid provider whose question this answers.
    fn paid(&self) -> Provider;

    /// The free provider that answers it.
    fn free(&self) -> Provider;

    /// How each source is named to callers (`X-Proverka-Source`): paid, then free.
    fn source_names(&self) -> (&'static str, &'static str);

    /// The free query for a validated paid query (same subject, same resolved date); `None`
    /// when the free source cannot answer it (the paid one is asked).
    fn free_query(&self, paid: &dyn Lookup) -> Option<Arc<dyn Lookup>>;

    /// A free answer in the paid provider's shape, to store in the paid entry and serve on the
    /// paid provider's routes; `None` when it is not an answer (an error, unreadable).
    fn as_paid_answer(&self, free: &RawAnswer) -> Option<RawAnswer>;

    /// Which source a stored answer came from, by what it cost: nothing is the free
    /// source (the paid provider's entries are answers it billed).
    fn source_of(&self, verdict: &Verdict) -> &'static str {
        let (paid, free) = self.source_names();
        if verdict.billed().is_no() { free } else { paid }
    }
}

/// A paid query whose flight asks a [`FreeSource`] first. Its cache key is the paid one's
/// (both sources fill one entry); its judgement and its provider (for the ledger) follow
/// whichever source answered the call in progress, so a free answer is stored judged free.
pub struct FreeFirst {
    paid: Arc<dyn Lookup>,
    free_query: Option<Arc<dyn Lookup>>,
    source: Arc<dyn FreeSource>,
    answered_by_free: AtomicBool,
}

impl fmt::Debug for FreeFirst {
    // The queries hold personal data (an INN): only what they are is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FreeFirst")
            .field("paid", &self.paid.provider())
            .field("free", &self.source.free())
            .field("answered_by_free", &self.answered_by_free())
            .finish_non_exhaustive()
    }
}

impl FreeFirst {
    /// Wraps a validated paid query.
    pub fn new(paid: Arc<dyn Lookup>, source: Arc<dyn FreeSource>) -> Self {
        Self {
            free_query: source.free_query(&*paid),
            paid,
            source,
            answered_by_free: AtomicBool::new(false),
        }
    }

    /// The free source.
    pub fn source(&self) -> &Arc<dyn FreeSource> {
        &self.source
    }

    /// The free source's query for the same question; `None` when it cannot answer it.
    pub fn free_query(&self) -> Option<&Arc<dyn Lookup>> {
        self.free_query.as_ref()
    }

    /// Whether the call in progress was answered by the free source.
    pub fn answered_by_free(&self) -> bool {
        self.answered_by_free.load(Ordering::SeqCst)
    }

    /// Sets who answers the call in progress; a flight clears it before each call.
    pub fn set_answered_by_free(&self, free: bool) {
        self.answered_by_free.store(free, Ordering::SeqCst);
    }

    /// The free source's answer in the paid shape, marking the call in progress as answered
    /// by it; `None` (and the mark cleared) when `raw` is not an answer.
    pub fn take_free_answer(&self, raw: &RawAnswer) -> Option<RawAnswer> {
        let answer = self.source.as_paid_answer(raw);
        self.set_answered_by_free(answer.is_some());
        answer
    }
}

impl Lookup for FreeFirst {
    fn provider(&self) -> Provider {
        if self.answered_by_free() {
            self.source.free()
        } else {
            self.paid.provider()
        }
    }
    fn query_kind(&self) -> &'static str {
        self.paid.query_kind()
    }
    fn cache_key(&self) -> CacheKey {
        self.paid.cache_key()
    }
    fn cost(&self) -> Cost {
        self.paid.cost()
    }
    fn upstream_request(&self) -> UpstreamRequest {
        self.paid.upstream_request()
    }
    /// A free answer is the paid provider's shape, judged as the paid provider would, but it
    /// cost nothing.
    fn judge(&self, raw: &RawAnswer, now: std::time::SystemTime) -> Verdict {
        let verdict = self.paid.judge(raw, now);
        if self.answered_by_free() {
            verdict.on_free_query()
        } else {
            verdict
        }
    }
    fn render(&self, raw: &RawAnswer) -> Result<serde_json::Value, RenderError> {
        self.paid.render(raw)
    }
    fn changes(&self, before: &RawAnswer, after: &RawAnswer) -> Vec<crate::Change> {
        self.paid.changes(before, after)
    }
}
