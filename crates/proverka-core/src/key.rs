//! [`CacheKey`]: the canonical identity of a query, shared by the cache tiers and replicas.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::{Provider, Secret};

/// Bumped whenever the canonical form changes, so old entries are never misread.
const KEY_VERSION: &str = "proverka-key/v1";

/// The canonical identity of one query: a SHA-256 of a versioned, sorted, normalised list of
/// the parameters that change the answer.
///
/// Two requests that differ only in parameter order, letter case or surrounding/duplicated
/// whitespace of names ([`CacheKeyBuilder::text`]) get the same key; any other difference
/// gives another key. A key never holds a secret, and it holds no readable personal data: only
/// the digest is kept, so a key can be logged, used as a Redis key name or as a metric label
/// without exposing whom the query was about.
///
/// ```
/// use proverka_core::{CacheKey, Provider};
/// let a = CacheKey::builder(Provider::Fssp, "physical")
///     .text("lastname", "  Иванов ")
///     .exact("region", "77")
///     .build();
/// let b = CacheKey::builder(Provider::Fssp, "physical")
///     .exact("region", "77")
///     .text("lastname", "ИВАНОВ")
///     .build();
/// assert_eq!(a, b);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CacheKey {
    provider: Provider,
    digest: [u8; 32],
}

impl CacheKey {
    /// Starts a key for `provider` and a query `kind` (e.g. FSSP's `type`).
    pub fn builder(provider: Provider, kind: &str) -> CacheKeyBuilder {
        CacheKeyBuilder {
            provider,
            kind: kind.to_owned(),
            params: Vec::new(),
        }
    }

    /// The provider the query goes to.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// The SHA-256 digest of the canonical form.
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// The digest in lowercase hex (64 characters).
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(64);
        for b in self.digest {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 15)]));
        }
        s
    }

    /// A key for the same query, partitioned by a caller's credential: used where the
    /// provider's answer depends on whose token asked, so one caller's entries are never
    /// served to another. The secret itself is only hashed, never stored.
    #[must_use]
    pub fn partitioned_by(&self, secret: &Secret) -> Self {
        let mut h = Sha256::new();
        h.update(b"partition\0");
        h.update(self.digest);
        h.update(Sha256::digest(secret.expose().as_bytes()));
        Self {
            provider: self.provider,
            digest: h.finalize().into(),
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheKey({}:{})", self.provider, &self.to_hex()[..16])
    }
}

impl fmt::Display for CacheKey {
    /// `fssp:` followed by the 64-character hex digest.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.provider, self.to_hex())
    }
}

/// Collects a query's parameters into a [`CacheKey`]; order of calls does not matter.
#[derive(Debug)]
#[must_use]
pub struct CacheKeyBuilder {
    provider: Provider,
    kind: String,
    params: Vec<(&'static str, String)>,
}

/// Trims, collapses runs of whitespace into one space and lowercases: the form in which two
/// spellings of one name compare equal.
pub fn normalize_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for word in value.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

impl CacheKeyBuilder {
    /// A free-text parameter (a name, an address): compared after [`normalize_text`].
    pub fn text(mut self, name: &'static str, value: &str) -> Self {
        self.params.push((name, normalize_text(value)));
        self
    }

    /// A parameter compared exactly (a number, a date, an identifier).
    pub fn exact(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.params.push((name, value.into()));
        self
    }

    /// An optional parameter: absent and present are different keys.
    pub fn optional_exact(self, name: &'static str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.exact(name, v),
            None => self,
        }
    }

    /// Hashes the canonical form: version, provider, kind, then `name=value` lines sorted by
    /// name, with `%`, `=` and line breaks escaped so no two lists share a form.
    pub fn build(mut self) -> CacheKey {
        self.params.sort_unstable();
        let mut h = Sha256::new();
        h.update(KEY_VERSION.as_bytes());
        h.update(b"\n");
        h.update(self.provider.as_str().as_bytes());
        h.update(b"\n");
        h.update(escape(&self.kind).as_bytes());
        for (name, value) in &self.params {
            h.update(b"\n");
            h.update(name.as_bytes());
            h.update(b"=");
            h.update(escape(value).as_bytes());
        }
        CacheKey {
            provider: self.provider,
            digest: h.finalize().into(),
        }
    }
}

fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['%', '=', '\n', '\r']) {
        return s.into();
    }
    s.replace('%', "%25")
        .replace('=', "%3D")
        .replace('\n', "%0A")
        .replace('\r', "%0D")
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation() {
        assert_eq!(normalize_text("  Иванов  \t Пётр "), "иванов пётр");
        assert_eq!(normalize_text("ÉCOLE"), "école");
    }

    #[test]
    fn distinct_values_distinct_keys() {
        let k = |v: &str| CacheKey::builder(Provider::Fssp, "x").exact("a", v).build();
        assert_ne!(
            k("a=b"),
            CacheKey::builder(Provider::Fssp, "x")
                .exact("a", "a")
                .exact("b", "")
                .build()
        );
        assert_ne!(k("1"), k("2"));
        assert_ne!(
            CacheKey::builder(Provider::Fssp, "x").build(),
            CacheKey::builder(Provider::Npd, "x").build()
        );
    }

    #[test]
    fn stable_across_runs() {
        // A changed digest here means every stored entry would be missed after an upgrade:
        // bump KEY_VERSION deliberately instead.
        let key = CacheKey::builder(Provider::Fssp, "regionsList").build();
        assert_eq!(
            key.to_hex(),
            "e456b9024cf6813d873d4c21cecd4e729f31eff6fb0c4cd82e86fa1928d418c0"
        );
    }

    #[test]
    fn partitions_differ_and_hide_the_secret() {
        let key = CacheKey::builder(Provider::Court, "address").build();
        let a = key.partitioned_by(&Secret::new("token-a"));
        assert_ne!(a, key);
        assert_ne!(a, key.partitioned_by(&Secret::new("token-b")));
        assert_eq!(a, key.partitioned_by(&Secret::new("token-a")));
        assert!(!format!("{a} {a:?}").contains("token-a"));
    }
}
