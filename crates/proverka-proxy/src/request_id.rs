//! `X-Request-Id`: the id every request carries through its log lines, the provider call it
//! leads and the ledger record of that call.

use http::{HeaderMap, HeaderValue};

/// The header that carries a request's id, both ways.
pub(crate) const REQUEST_ID: http::HeaderName = http::HeaderName::from_static("x-request-id");

/// A request's id, held as the header value it is sent back as (a clone is a reference
/// count, so the hit path does not copy it).
#[derive(Clone, Debug)]
pub(crate) struct RequestId(HeaderValue);

impl RequestId {
    /// The id as the header value it is sent back as.
    pub(crate) fn header(&self) -> HeaderValue {
        self.0.clone()
    }

    /// The id as text (always ASCII: see [`request_id`]).
    pub(crate) fn as_str(&self) -> &str {
        self.0.to_str().unwrap_or("-")
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The request's id: the client's `X-Request-Id` when it is sane (1 to 128 characters of
/// `A-Z a-z 0-9 - _ . : / + = @`, one header), else a new one (32 hex digits). An id that is
/// not sane is replaced rather than refused: it could not be logged safely, and the request
/// is fine.
pub(crate) fn request_id(headers: &HeaderMap) -> RequestId {
    let mut sent = headers.get_all(REQUEST_ID).iter();
    match (sent.next(), sent.next()) {
        (Some(v), None)
            if (1..=128).contains(&v.len())
                && v.as_bytes()
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || b"-_.:/+=@".contains(c)) =>
        {
            RequestId(v.clone())
        }
        _ => new_request_id(),
    }
}

/// A new request id: 32 hex digits, 16 drawn at random once per process and 16 counting its
/// requests, so ids never repeat within a process and almost surely not across replicas.
/// (A random UUID per request cost a `getrandom` system call on the hit path.)
fn new_request_id() -> RequestId {
    use std::hash::BuildHasher as _;
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(|| {
        // RandomState's keys come from the operating system's randomness.
        std::collections::hash_map::RandomState::new()
            .hash_one((std::process::id(), std::time::SystemTime::now()))
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = [0u8; 32];
    for (i, byte) in id.iter_mut().enumerate() {
        let word = if i < 16 { prefix } else { n };
        let shift = 60 - 4 * (i % 16);
        *byte = HEX[((word >> shift) & 0xf) as usize];
    }
    RequestId(HeaderValue::from_bytes(&id).unwrap_or(HeaderValue::from_static("-")))
}
