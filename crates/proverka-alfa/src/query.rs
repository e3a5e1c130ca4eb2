//! [`RegistryQuery`]: one page of one registry request, validated before anything is sent.

use crate::error::ValidationError;

/// One page of one registry request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegistryQuery {
    request_id: String,
    limit: Option<u32>,
    offset: Option<u32>,
}

/// A `requestId` proverka can put in a path as given: 1–128 characters, each an unreserved URL
/// character (letters, digits, `-`, `.`, `_`, `~`). The page says only "string": this is
/// proverka's own rule, so an id is never re-encoded, and never reaches another path.
fn is_safe_segment(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
        && s != "."
        && s != ".."
}

impl RegistryQuery {
    /// The first page (the bank's default size) of a request.
    ///
    /// The page says `requestId` is a "string" (the bank's are UUIDs): any id that is a safe
    /// path segment is accepted and sent as given, letter case included.
    ///
    /// # Errors
    /// A `requestId` that is not a safe path segment (proverka's own rule).
    pub fn new(request_id: &str) -> Result<Self, ValidationError> {
        let id = request_id.trim();
        if !is_safe_segment(id) {
            return Err(ValidationError::own(
                "requestId must be 1-128 letters, digits, '-', '.', '_' or '~' (proverka's own rule: it goes into the path as given)",
            ));
        }
        Ok(Self {
            request_id: id.to_owned(),
            limit: None,
            offset: None,
        })
    }

    /// A page: `limit` records after skipping `offset`. The page sets no maximum for `limit`
    /// (its example uses 1000).
    #[must_use]
    pub fn page(mut self, limit: u32, offset: u32) -> Self {
        self.limit = Some(limit);
        self.offset = Some(offset);
        self
    }

    /// Reads the path's requestId and the `limit`/`offset` parameters.
    ///
    /// # Errors
    /// A bad requestId; `limit` or `offset` that are not whole numbers ("integer" on the page:
    /// the bank's `invalid_request`).
    pub fn from_parts(request_id: &str, pairs: &[(&str, &str)]) -> Result<Self, ValidationError> {
        let mut q = Self::new(request_id)?;
        let params = proverka_core::Params::new(pairs);
        let get = |n: &str| params.get(n).map(str::trim);
        let number = |v: &str, description| {
            v.parse::<u32>()
                .map_err(|_| ValidationError::bank(description))
        };
        q.limit = get("limit")
            .map(|v| number(v, "limit must be a whole number"))
            .transpose()?;
        q.offset = get("offset")
            .map(|v| number(v, "offset must be a whole number"))
            .transpose()?;
        Ok(q)
    }

    /// The requestId, as given.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }
    /// `limit`, when set.
    pub fn limit(&self) -> Option<u32> {
        self.limit
    }
    /// `offset`, when set.
    pub fn offset(&self) -> Option<u32> {
        self.offset
    }
}
