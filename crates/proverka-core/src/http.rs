//! HTTP settings and the one HTTP client every adapter sends through.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::Url;

use crate::{
    ConfigError, Provider, RawAnswer, Secret, TransportError, TransportErrorKind, UpstreamRequest,
};

/// The user agent sent unless the caller sets another.
pub const DEFAULT_USER_AGENT: &str = concat!("proverka/", env!("CARGO_PKG_VERSION"));

/// Where and how an adapter talks to its provider.
///
/// The base URL must be HTTPS; plain HTTP is accepted only for loopback hosts (tests, the
/// sandbox). Redirects are never followed: FSSP processes a redirected request twice, and a
/// redirect could carry a token to another host.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    base_url: Url,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    max_body_bytes: usize,
}

/// The default bound of an answer's body: 8 MiB, far above any documented answer (an FSSP
/// answer of 25 loaded pages is a few hundred kilobytes).
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 << 20;

impl HttpSettings {
    /// Settings for `base_url` with a whole-request `timeout`, a 10 s connect timeout and the
    /// default user agent.
    ///
    /// # Errors
    /// [`ConfigError::BadUrl`] or [`ConfigError::InsecureUrl`].
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, ConfigError> {
        Ok(Self {
            base_url: parse_base_url(base_url)?,
            timeout,
            connect_timeout: Duration::from_secs(10),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        })
    }

    /// Replaces the base URL.
    ///
    /// # Errors
    /// As [`HttpSettings::new`].
    pub fn with_base_url(mut self, base_url: &str) -> Result<Self, ConfigError> {
        self.base_url = parse_base_url(base_url)?;
        Ok(self)
    }

    /// Replaces the whole-request timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Replaces the connect timeout.
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Replaces the bound of an answer's body ([`DEFAULT_MAX_BODY_BYTES`]): reading stops
    /// past it with [`TransportErrorKind::TooLarge`], nothing of it is kept.
    #[must_use]
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes.max(1);
        self
    }

    /// Replaces the user agent.
    #[must_use]
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The base URL (internationalised host names are already in punycode).
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// The whole-request timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// Whether a URL's host is this machine.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

fn parse_base_url(s: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(s.trim()).map_err(|_| ConfigError::BadUrl)?;
    if url.host().is_none() || url.cannot_be_a_base() {
        return Err(ConfigError::BadUrl);
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(ConfigError::InsecureUrl),
        _ => Err(ConfigError::BadUrl),
    }
}

/// How a provider wants its credential.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Auth<'a> {
    /// No credential: a free public service.
    None,
    /// A query parameter (`token=`, `key=`).
    Query(&'static str, &'a Secret),
    /// `Authorization: Bearer …`.
    Bearer(&'a Secret),
}

/// The HTTP client every adapter sends through: one connection pool, the settings applied,
/// errors mapped to [`TransportError`] with the URL (and so the token) stripped.
#[derive(Debug, Clone)]
pub struct HttpClient {
    provider: Provider,
    settings: HttpSettings,
    client: reqwest::Client,
}

impl HttpClient {
    /// A client for `provider` with `settings`.
    ///
    /// # Errors
    /// [`ConfigError::Client`] when the TLS stack cannot be set up.
    pub fn new(provider: Provider, settings: HttpSettings) -> Result<Self, ConfigError> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .user_agent(settings.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|_| ConfigError::Client)?;
        Ok(Self {
            provider,
            settings,
            client,
        })
    }

    /// The settings in force.
    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// The provider this client sends to.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// The full URL for a request, credentials included: never log it.
    fn url(&self, request: &UpstreamRequest, auth: Auth<'_>) -> Url {
        let mut url = self.settings.base_url.clone();
        let path = format!("{}{}", url.path().trim_end_matches('/'), request.path);
        url.set_path(&path);
        url.set_query(None);
        {
            let mut q = url.query_pairs_mut();
            for (name, value) in &request.query {
                q.append_pair(name, value);
            }
            if let Auth::Query(name, secret) = auth {
                q.append_pair(name, secret.expose());
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        url
    }

    /// Sends the request (a GET, or a POST of its JSON body) and reads the whole body. Any
    /// HTTP status is an answer (the adapter judges it); only a failure to get one, or a
    /// redirect, is an error.
    ///
    /// # Errors
    /// [`TransportError`], whose message names the provider and path only.
    pub async fn send(
        &self,
        request: &UpstreamRequest,
        auth: Auth<'_>,
    ) -> Result<RawAnswer, TransportError> {
        let url = self.url(request, auth);
        let mut builder = match &request.json_body {
            Some(body) => self
                .client
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone()),
            None => self.client.get(url),
        }
        .header(reqwest::header::ACCEPT, "application/json");
        if let Auth::Bearer(secret) = auth {
            builder = builder.bearer_auth(secret.expose());
        }
        let fail = |e: reqwest::Error, sent: bool| {
            let kind = if e.is_timeout() {
                TransportErrorKind::Timeout
            } else if e.is_connect() {
                TransportErrorKind::Connect
            } else if e.is_body() || e.is_decode() {
                TransportErrorKind::Interrupted
            } else if e.is_redirect() {
                TransportErrorKind::Redirect
            } else {
                TransportErrorKind::Other
            };
            let sent = sent && kind != TransportErrorKind::Connect;
            TransportError::new(
                kind,
                self.provider,
                request.path.clone(),
                sent,
                Some(Box::new(e.without_url())),
            )
        };
        let response = builder.send().await.map_err(|e| fail(e, true))?;
        let status = response.status().as_u16();
        if (300..400).contains(&status) {
            return Err(TransportError::new(
                TransportErrorKind::Redirect,
                self.provider,
                request.path.clone(),
                true,
                None,
            ));
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let too_large = || {
            TransportError::new(
                TransportErrorKind::TooLarge,
                self.provider,
                request.path.clone(),
                true,
                None,
            )
        };
        let max = self.settings.max_body_bytes;
        if response.content_length().is_some_and(|n| n > max as u64) {
            return Err(too_large());
        }
        let mut response = response;
        let mut body = bytes::BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| fail(e, true))? {
            if body.len() + chunk.len() > max {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        let body = body.freeze();
        Ok(RawAnswer {
            status,
            content_type,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_required_except_loopback() {
        let t = Duration::from_secs(1);
        assert!(HttpSettings::new("https://api-cloud.ru", t).is_ok());
        assert!(HttpSettings::new("http://127.0.0.1:8090", t).is_ok());
        assert!(HttpSettings::new("http://127.3.4.5", t).is_ok());
        assert!(HttpSettings::new("http://[::1]:80", t).is_ok());
        assert!(HttpSettings::new("http://localhost:1", t).is_ok());
        assert_eq!(
            HttpSettings::new("http://api-cloud.ru", t).unwrap_err(),
            ConfigError::InsecureUrl
        );
        assert_eq!(
            HttpSettings::new("http://10.0.0.1", t).unwrap_err(),
            ConfigError::InsecureUrl
        );
        assert_eq!(
            HttpSettings::new("ftp://x", t).unwrap_err(),
            ConfigError::BadUrl
        );
        assert_eq!(
            HttpSettings::new("not a url", t).unwrap_err(),
            ConfigError::BadUrl
        );
    }

    #[test]
    fn idn_hosts_become_punycode() {
        let s = HttpSettings::new(
            "https://api.территориальная-подсудность.рф",
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(
            s.base_url().host_str(),
            Some("api.xn----7sbarabva2auedgdkhac2adbeqt1tna3e.xn--p1ai")
        );
    }

    #[test]
    fn url_keeps_a_base_path_and_adds_the_token_last() {
        let settings =
            HttpSettings::new("http://127.0.0.1:9/prefix/", Duration::from_secs(1)).unwrap();
        let client = HttpClient::new(Provider::Fssp, settings).unwrap();
        let req = UpstreamRequest::new("/api/fssp.php")
            .param("type", "physical")
            .param("lastname", "Иванов Пётр");
        let secret = Secret::new("s3cr3t");
        let url = client.url(&req, Auth::Query("token", &secret));
        assert_eq!(url.path(), "/prefix/api/fssp.php");
        let pairs: Vec<_> = url.query_pairs().collect();
        assert_eq!(pairs[1].1, "Иванов Пётр");
        assert_eq!(pairs[2], ("token".into(), "s3cr3t".into()));
        assert_eq!(req.redacted(), "/api/fssp.php?type=…&lastname=…");
    }
}
