//! [`Secret`]: tokens, keys and bearer tokens that must never be printed.

use std::fmt;

/// A provider token, API key or bearer token.
///
/// `Debug` and `Display` print `[redacted]`; there is no `Serialize` implementation, so a
/// secret cannot be written to JSON, a log line or Redis by accident. The only way to read the
/// value is [`Secret::expose`], which the HTTP layer calls when it builds the request.
///
/// ```
/// use proverka_core::Secret;
/// let token = Secret::new("53ba1b7a55abb4a1a97eff3a52207921");
/// assert_eq!(format!("{token:?} {token}"), "Secret([redacted]) [redacted]");
/// assert_eq!(token.expose().len(), 32);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Box<str>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into().into_boxed_str())
    }

    /// The secret itself. Call it only where the value leaves for the provider.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty (after trimming whitespace).
    pub fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}
