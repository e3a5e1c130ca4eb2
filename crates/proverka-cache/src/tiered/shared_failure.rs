//! A call that brought no answer but may have been billed (a timeout after the request was
//! sent, a connection broken mid-answer), shared with the replicas waiting on it: without it
//! they would find the lock released and nothing stored, take it over and send the query again.
//!
//! It travels in the entry's shared-error slot as an [`Answer`] no provider could have sent:
//! HTTP status 0, the failure's kind and path as its body (never the query string), the
//! verdict [`Verdict::of_transport`] gives it.

use std::sync::Arc;
use std::time::SystemTime;

use proverka_core::{
    Billed, Bytes, Provider, RawAnswer, TransportError, TransportErrorKind, Verdict,
};

use crate::{Answer, FetchError};

/// The status that marks a shared failure: no HTTP reply came.
const NO_REPLY: u16 = 0;

/// `e` (billed `billed`, not `No`) as the value shared with waiting replicas.
pub(crate) fn as_answer(e: &TransportError, at: SystemTime) -> Answer {
    Answer {
        raw: RawAnswer {
            status: NO_REPLY,
            content_type: None,
            body: Bytes::from(format!("{}\n{}", e.kind().as_str(), e.path())),
        },
        verdict: Verdict::of_transport(e),
        fetched_at: at,
    }
}

/// The failure a shared value stands for, as the replica that called had it; `None` for an
/// answer (anything with an HTTP status).
pub(crate) fn failure_of(answer: &Answer, provider: Provider) -> Option<FetchError> {
    if answer.raw.status != NO_REPLY {
        return None;
    }
    let text = std::str::from_utf8(&answer.raw.body).unwrap_or_default();
    let (kind, path) = text.split_once('\n').unwrap_or((text, ""));
    let kind = TransportErrorKind::from_name(kind).unwrap_or(TransportErrorKind::Other);
    let billed = answer.verdict.billed();
    // Shared only when it may have been billed: the request was sent.
    let sent = !billed.is_no();
    let error = TransportError::new(kind, provider, path, sent, None);
    Some(FetchError::no_answer(Arc::new(error), billed))
}

/// Whether a failure billed `billed` is shared with waiting replicas: one the provider may
/// have billed is, so that nobody sends it again; a free one is not (a waiter may send it).
pub(crate) fn shared(billed: Billed) -> bool {
    !billed.is_no()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_failure_reads_back_as_the_caller_had_it() {
        let e = TransportError::new(
            TransportErrorKind::Timeout,
            Provider::Fssp,
            "/api/search",
            true,
            None,
        );
        let answer = as_answer(&e, SystemTime::UNIX_EPOCH);
        let failure = failure_of(&answer, Provider::Fssp).expect("a failure");
        assert!(failure.billed() == Billed::Unknown);
        let back = failure.downcast_ref::<TransportError>().unwrap();
        assert_eq!(
            (back.kind(), back.path()),
            (TransportErrorKind::Timeout, "/api/search")
        );
        assert_eq!(back.to_string(), e.to_string());
    }

    #[test]
    fn an_answer_is_no_failure_and_garbage_is_a_failure_of_another_kind() {
        let answer = Answer {
            raw: RawAnswer::json("{}"),
            verdict: Verdict::of_transport(&TransportError::new(
                TransportErrorKind::Timeout,
                Provider::Fssp,
                "/",
                true,
                None,
            )),
            fetched_at: SystemTime::UNIX_EPOCH,
        };
        assert!(failure_of(&answer, Provider::Fssp).is_none());
        let garbage = Answer {
            raw: RawAnswer {
                status: NO_REPLY,
                content_type: None,
                body: Bytes::from_static(b"\xff\xfe"),
            },
            ..answer
        };
        let failure = failure_of(&garbage, Provider::Fssp).unwrap();
        let back = failure.downcast_ref::<TransportError>().unwrap();
        assert_eq!(back.kind(), TransportErrorKind::Other);
    }
}
