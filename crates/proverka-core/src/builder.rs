//! [`ClientBuilder`]: the one builder every adapter's client is made with.

use std::marker::PhantomData;
use std::time::Duration;

use crate::{ConfigError, HttpClient, HttpSettings, Provider, Secret};

/// What an adapter tells [`ClientBuilder`] about its client.
pub trait Connect: Sized {
    /// The provider the client talks to.
    const PROVIDER: Provider;
    /// The production base URL.
    const DEFAULT_BASE_URL: &'static str;
    /// The whole-request timeout unless the caller sets one.
    const DEFAULT_TIMEOUT: Duration;

    /// Checks the credential given to the builder (absent: `None`), as the provider would.
    ///
    /// # Errors
    /// [`ConfigError::Credential`] when it is required and absent, or malformed.
    fn check_credential(credential: Option<&Secret>) -> Result<(), ConfigError>;

    /// Makes the client from the validated parts.
    fn from_parts(http: HttpClient, credential: Option<Secret>) -> Self;
}

/// Builds any adapter's client: base URL (HTTPS, or HTTP to loopback), timeouts, user agent
/// and the credential (`token`, `key`), checked by [`ClientBuilder::build`].
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder<C> {
    credential: Option<Secret>,
    base_url: String,
    timeout: Duration,
    connect_timeout: Option<Duration>,
    user_agent: Option<String>,
    client: PhantomData<fn() -> C>,
}

impl<C: Connect> Default for ClientBuilder<C> {
    fn default() -> Self {
        Self {
            credential: None,
            base_url: C::DEFAULT_BASE_URL.to_owned(),
            timeout: C::DEFAULT_TIMEOUT,
            connect_timeout: None,
            user_agent: None,
            client: PhantomData,
        }
    }
}

impl<C: Connect> ClientBuilder<C> {
    /// The provider credential (API token or key) the client sends with every query.
    pub fn token(mut self, token: impl Into<Secret>) -> Self {
        self.credential = Some(token.into());
        self
    }

    /// Another base URL (HTTPS, or HTTP on loopback for tests and the sandbox).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// The whole-request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The connect timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The `User-Agent` header (default `proverka/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`ConfigError::Credential`] for a missing or malformed credential,
    /// [`ConfigError::InsecureUrl`] for plain HTTP to a host that is not loopback,
    /// [`ConfigError::BadUrl`], [`ConfigError::Client`].
    pub fn build(self) -> Result<C, ConfigError> {
        C::check_credential(self.credential.as_ref())?;
        let mut settings = HttpSettings::new(&self.base_url, self.timeout)?;
        if let Some(t) = self.connect_timeout {
            settings = settings.with_connect_timeout(t);
        }
        if let Some(ua) = self.user_agent {
            settings = settings.with_user_agent(ua);
        }
        Ok(C::from_parts(
            HttpClient::new(C::PROVIDER, settings)?,
            self.credential,
        ))
    }
}

/// A credential check for providers that only need one present and not blank.
///
/// # Errors
/// [`ConfigError::Credential`] naming `name`.
pub fn require_credential(
    credential: Option<&Secret>,
    name: &'static str,
) -> Result<(), ConfigError> {
    match credential {
        Some(c) if !c.is_blank() => Ok(()),
        _ => Err(ConfigError::Credential {
            name,
            reason: "required and must not be blank",
        }),
    }
}
