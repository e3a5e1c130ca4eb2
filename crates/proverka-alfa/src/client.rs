//! [`AlfaClient`]: sends registry status calls to the bank, with the caller's bearer.

use std::time::Duration;

use proverka_core::{
    CredentialStyle, PagePrice, PageReply, ParamFormat, Provider, ProviderSpec, RoutePath, Routes,
    Secret, TypedOperation, TypedParam, schema_of,
};

use crate::{Error, ProviderError, Registry, RegistryQuery, ValidationError, parse};

/// Production (Пром).
pub const PRODUCTION_BASE_URL: &str = "https://baas.alfabank.ru";
/// Sandbox (Песочница).
pub const SANDBOX_BASE_URL: &str = "https://sandbox.alfabank.ru";
/// The timeout unless set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The page size of the page's example (`limit=1000`); the page sets no maximum.
pub const EXAMPLE_PAGE_SIZE: u32 = 1000;

/// The bank's two hosts, as named presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// `https://baas.alfabank.ru`.
    Production,
    /// `https://sandbox.alfabank.ru`.
    Sandbox,
}

impl Environment {
    /// The base URL.
    pub const fn base_url(self) -> &'static str {
        match self {
            Self::Production => PRODUCTION_BASE_URL,
            Self::Sandbox => SANDBOX_BASE_URL,
        }
    }
}

proverka_core::client! {
    /// A client of the registry status API. The bearer is given with each call.
    ///
    /// ```no_run
    /// use proverka_alfa::{AlfaClient, Environment};
    /// use proverka_core::Secret;
    /// # async fn run() -> Result<(), proverka_alfa::Error> {
    /// let client = AlfaClient::builder().base_url(Environment::Sandbox.base_url()).build()?;
    /// let bearer = Secret::new(std::env::var("ALFA_BEARER").unwrap_or_default());
    /// let all = client.fetch_all(&bearer, "4e817e78-5876-4608-a873-bcc141454045", 1000).await?;
    /// println!("{:?}: {} people", all.list_status, all.selfemployed_account.len());
    /// # Ok(()) }
    /// ```
    pub struct AlfaClient;
    /// Builds an [`AlfaClient`]: see [`ClientBuilder`](proverka_core::ClientBuilder) (no credential:
    /// bearers go with each call).
    pub type AlfaClientBuilder;
    spec: SPEC,
    per_call: bearer,
}

/// Alfa-Bank BaaS registry status (реестр самозанятых), once for its client and its adapter:
/// the bank does not bill status calls, and the bearer belongs to the bank's customer, so it
/// is always the caller's own.
pub const SPEC: ProviderSpec = ProviderSpec {
    provider: Provider::Alfa,
    base_url: PRODUCTION_BASE_URL,
    timeout: DEFAULT_TIMEOUT,
    credential: CredentialStyle::CallerBearer,
    price: PagePrice::Free,
    calls_per_minute: None,
    missing_credential: Some(PageReply {
        status: 400,
        body: r#"{"error":"invalid_request","error_description":"Authorization header is not present in request headers"}"#,
    }),
    routes: Routes {
        drop_in: &[RoutePath::Prefix(crate::PATH_PREFIX)],
        typed: RoutePath::Prefix("/v1/alfa/registries/"),
    },
    // Trained by `train-dictionaries` (proverka-benches); newest first.
    dictionaries: &[include_bytes!("../dictionary/zstd-414537810.dict")],
    operations: &[TypedOperation::new(
        "/v1/alfa/registries/{requestId}",
        "Alfa-Bank self-employed registry status (Authorization: Bearer required)",
        &[
            TypedParam::optional("limit", "Records on the page")
                .taking(ParamFormat::Integer { min: 1, max: 1000 }),
            TypedParam::optional("offset", "Records to skip").taking(ParamFormat::Integer {
                min: 0,
                max: i64::MAX,
            }),
            TypedParam::path("requestId", "The registry's requestId (uuid)").taking(
                ParamFormat::Pattern(
                    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
                ),
            ),
        ],
        schema_of::<Registry>,
    )],
};

impl AlfaClient {
    /// One page of a registry.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn registry(
        &self,
        bearer: &Secret,
        query: &RegistryQuery,
    ) -> Result<Registry, Error> {
        parse(&self.fetch_raw(bearer, query).await?)
    }

    /// Every page of a registry, merged: the first page's fields with all accounts. Either
    /// every page or an error: never a silently short list.
    ///
    /// Walks `offset` by the records each page returned until `totalCount` is reached (or,
    /// when the bank sends no total, until a page comes back empty). A page that comes back
    /// empty before the total, or more than `totalCount / page_size + 1` pages, ends in
    /// [`ProviderError::Incomplete`]: a total that disagrees with the pages never loops
    /// forever and never passes for a whole list.
    ///
    /// # Errors
    /// A bad requestId or page size, the first failing page's error, or
    /// [`ProviderError::Incomplete`].
    pub async fn fetch_all(
        &self,
        bearer: &Secret,
        request_id: &str,
        page_size: u32,
    ) -> Result<Registry, Error> {
        let base = RegistryQuery::new(request_id).map_err(Error::Invalid)?;
        if page_size == 0 {
            return Err(Error::Invalid(ValidationError::own(
                "page_size must be at least 1 to walk the pages (proverka's own rule)",
            )));
        }
        let mut merged: Option<Registry> = None;
        let mut offset: u32 = 0;
        let mut pages = 0u64;
        // Without a total, a list of more than this many pages is not believed.
        const MAX_PAGES_WITHOUT_TOTAL: u64 = 1000;
        loop {
            let q = base.clone().page(page_size, offset);
            let mut page = self.registry(bearer, &q).await?;
            pages += 1;
            let got = page.selfemployed_account.len();
            let page_total = page.pagination.as_ref().and_then(|p| p.total_count);
            let accounts = std::mem::take(&mut page.selfemployed_account);
            let all = merged.get_or_insert(page);
            all.selfemployed_account.extend(accounts);
            let total = all
                .pagination
                .as_ref()
                .and_then(|p| p.total_count)
                .or(page_total);
            offset = offset.saturating_add(u32::try_from(got).unwrap_or(u32::MAX));
            let received = all.selfemployed_account.len();
            match total {
                Some(t) if i64::try_from(received).unwrap_or(i64::MAX) >= t => {
                    return Ok(merged.unwrap_or_default());
                }
                Some(t) => {
                    let max_pages = u64::try_from(t).unwrap_or(0) / u64::from(page_size) + 1;
                    if got == 0 || pages >= max_pages || offset == u32::MAX {
                        return Err(Error::Provider(ProviderError::Incomplete {
                            expected: t,
                            received,
                        }));
                    }
                }
                None if got == 0 => return Ok(merged.unwrap_or_default()),
                None if pages >= MAX_PAGES_WITHOUT_TOTAL || offset == u32::MAX => {
                    return Err(Error::Provider(ProviderError::Incomplete {
                        expected: i64::try_from(received)
                            .unwrap_or(i64::MAX)
                            .saturating_add(1),
                        received,
                    }));
                }
                None => {}
            }
        }
    }
}
