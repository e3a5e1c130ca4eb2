//! [`ClientBuilder`]: the one builder every adapter's client is made with.

use std::marker::PhantomData;
use std::time::Duration;

use crate::http::Auth;
use crate::{
    ConfigError, CredentialStyle, HttpClient, HttpSettings, Lookup, ProviderSpec, RawAnswer,
    Secret, TransportError,
};

/// What an adapter tells [`ClientBuilder`] about its client.
///
/// An adapter's client is a thin wrapper around the [`Channel`] the builder makes; this trait
/// says what to make it with.
pub trait Connect: Sized {
    /// The provider: its defaults (base URL, whole-request timeout unless the caller sets
    /// one) and how the credential travels: a query parameter given to the builder (required,
    /// not blank), the caller's bearer with each call (none given to the builder), or none at
    /// all (a credential given to the builder is refused, so it cannot leak to a public
    /// service).
    const SPEC: ProviderSpec;

    /// A further check of a query-parameter credential, as the provider would refuse it
    /// (default: none beyond present and not blank).
    ///
    /// # Errors
    /// [`ConfigError::Credential`] for a malformed credential.
    fn check_credential(credential: &Secret) -> Result<(), ConfigError> {
        let _ = credential;
        Ok(())
    }

    /// Makes the client around its checked channel.
    fn from_channel(channel: Channel) -> Self;
}

/// A client's line to its provider: the HTTP client (one pool, the settings applied) and the
/// credential it attaches to every call, as [`Connect::SPEC`] says.
#[derive(Debug, Clone)]
pub struct Channel {
    http: HttpClient,
    credential: Option<(&'static str, Secret)>,
}

impl Channel {
    /// Sends a lookup with the channel's credential (a query parameter, or none) and returns
    /// the answer as it came.
    ///
    /// # Errors
    /// [`TransportError`] when no answer arrived.
    pub async fn send<L: Lookup + ?Sized>(&self, lookup: &L) -> Result<RawAnswer, TransportError> {
        let auth = match &self.credential {
            Some((name, secret)) => Auth::Query(name, secret),
            None => Auth::None,
        };
        self.send_with(lookup, auth).await
    }

    /// Sends a lookup with the caller's `bearer` (`Authorization: Bearer …`).
    ///
    /// # Errors
    /// [`TransportError`] when no answer arrived.
    pub async fn send_with_bearer<L: Lookup + ?Sized>(
        &self,
        bearer: &Secret,
        lookup: &L,
    ) -> Result<RawAnswer, TransportError> {
        self.send_with(lookup, Auth::Bearer(bearer)).await
    }

    async fn send_with<L: Lookup + ?Sized>(
        &self,
        lookup: &L,
        auth: Auth<'_>,
    ) -> Result<RawAnswer, TransportError> {
        debug_assert_eq!(lookup.provider(), self.http.provider());
        self.http.send(&lookup.upstream_request(), auth).await
    }

    /// The settings in use (base URL with a punycode host, timeouts).
    pub fn settings(&self) -> &HttpSettings {
        self.http.settings()
    }
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
            base_url: C::SPEC.base_url.to_owned(),
            timeout: C::SPEC.timeout,
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
        let credential = check_credential::<C>(self.credential)?;
        let mut settings = HttpSettings::new(&self.base_url, self.timeout)?;
        if let Some(t) = self.connect_timeout {
            settings = settings.with_connect_timeout(t);
        }
        if let Some(ua) = self.user_agent {
            settings = settings.with_user_agent(ua);
        }
        Ok(C::from_channel(Channel {
            http: HttpClient::new(C::SPEC.provider, settings)?,
            credential,
        }))
    }
}

/// The builder's credential checked against how the provider takes it.
fn check_credential<C: Connect>(
    credential: Option<Secret>,
) -> Result<Option<(&'static str, Secret)>, ConfigError> {
    match (C::SPEC.credential, credential) {
        (CredentialStyle::QueryParam(name), Some(c)) if !c.is_blank() => {
            C::check_credential(&c)?;
            Ok(Some((name, c)))
        }
        (CredentialStyle::QueryParam(name), _) => Err(ConfigError::Credential {
            name,
            reason: "required and must not be blank",
        }),
        (CredentialStyle::CallerBearer, Some(_)) => Err(ConfigError::Credential {
            name: "token",
            reason: "this provider takes the caller's bearer with each call, not one given to the builder",
        }),
        (CredentialStyle::None, Some(_)) => Err(ConfigError::Credential {
            name: "token",
            reason: "this provider is a public service that takes no credential",
        }),
        (CredentialStyle::CallerBearer | CredentialStyle::None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! client {
        ($name:ident, $style:expr) => {
            #[derive(Debug)]
            struct $name(Channel);
            impl Connect for $name {
                const SPEC: ProviderSpec = ProviderSpec {
                    provider: crate::Provider::Npd,
                    base_url: "https://example.test",
                    timeout: Duration::from_secs(5),
                    credential: $style,
                    price: crate::PagePrice::Tariff,
                    calls_per_minute: None,
                    missing_credential: None,
                    routes: crate::Routes {
                        drop_in: &[],
                        typed: crate::RoutePath::Exact("/v1/example"),
                    },
                    dictionaries: &[],
                    operations: &[],
                };
                fn check_credential(credential: &Secret) -> Result<(), ConfigError> {
                    if credential.expose().len() > 8 {
                        return Err(ConfigError::Credential {
                            name: "key",
                            reason: "too long",
                        });
                    }
                    Ok(())
                }
                fn from_channel(channel: Channel) -> Self {
                    Self(channel)
                }
            }
        };
    }
    client!(Keyed, CredentialStyle::QueryParam("key"));
    client!(Bearer, CredentialStyle::CallerBearer);
    client!(Public, CredentialStyle::None);

    fn refusal<C: Connect + std::fmt::Debug>(builder: ClientBuilder<C>) -> &'static str {
        match builder.build() {
            Err(ConfigError::Credential { reason, .. }) => reason,
            other => panic!("expected a credential refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_query_parameter_credential_is_required_not_blank_and_checked() {
        assert_eq!(
            refusal(ClientBuilder::<Keyed>::default()),
            "required and must not be blank"
        );
        assert_eq!(
            refusal(ClientBuilder::<Keyed>::default().token("  ")),
            "required and must not be blank"
        );
        assert_eq!(
            refusal(ClientBuilder::<Keyed>::default().token("123456789")),
            "too long"
        );
        let client = ClientBuilder::<Keyed>::default()
            .token("k")
            .build()
            .unwrap();
        assert_eq!(client.0.credential.as_ref().map(|(n, _)| *n), Some("key"));
    }

    #[test]
    fn a_bearer_or_public_provider_refuses_a_builder_credential() {
        assert!(refusal(ClientBuilder::<Bearer>::default().token("t")).contains("bearer"));
        assert!(refusal(ClientBuilder::<Public>::default().token("t")).contains("no credential"));
        assert!(
            ClientBuilder::<Bearer>::default()
                .build()
                .unwrap()
                .0
                .credential
                .is_none()
        );
        assert!(
            ClientBuilder::<Public>::default()
                .build()
                .unwrap()
                .0
                .credential
                .is_none()
        );
    }

    #[test]
    fn a_refusal_never_shows_the_credential() {
        let shown = format!(
            "{:?}",
            ClientBuilder::<Keyed>::default()
                .token("s3cr3t-value")
                .build()
        );
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        let client = ClientBuilder::<Keyed>::default()
            .token("s3cr3t")
            .build()
            .unwrap();
        assert!(!format!("{client:?}").contains("s3cr3t"));
    }
}
