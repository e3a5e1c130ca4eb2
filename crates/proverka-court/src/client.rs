//! [`CourtClient`].

use std::time::Duration;

use proverka_core::{
    CredentialStyle, PagePrice, PageReply, Provider, ProviderSpec, RoutePath, Routes,
    TypedOperation, TypedParam, schema_of,
};

use crate::Error;
use crate::model::{Jurisdiction, parse};
use crate::query::CourtQuery;

/// The provider's host, an internationalised domain name: requests go to its punycode form
/// `api.xn----7sbarabva2auedgdkhac2adbeqt1tna3e.xn--p1ai`.
pub const DEFAULT_BASE_URL: &str = "https://api.территориальная-подсудность.рф";

/// The timeout unless set (answers by address take seconds, by coordinates less).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

proverka_core::client! {
    /// A client of the court jurisdiction API.
    ///
    /// ```no_run
    /// use proverka_court::{Address, CourtClient, CourtQuery};
    /// # async fn run() -> Result<(), proverka_court::Error> {
    /// let client = CourtClient::builder().token("…").build()?;
    /// let address = Address::building_only("Казань, Московская 1, кв. 5").map_err(proverka_court::Error::Invalid)?;
    /// let found = client.find(&CourtQuery::address(address)).await?;
    /// println!("{:?} ({:?} queries left today)", found.court_fs, found.queries_left);
    /// # Ok(()) }
    /// ```
    pub struct CourtClient;
    /// Builds a [`CourtClient`]: see [`ClientBuilder`](proverka_core::ClientBuilder).
    pub type CourtClientBuilder;
    spec: SPEC,
}

/// Территориальная подсудность, once for its client and its adapter: a token in the `token`
/// parameter, priced by the customer's tariff.
pub const SPEC: ProviderSpec = ProviderSpec {
    provider: Provider::Court,
    base_url: DEFAULT_BASE_URL,
    timeout: DEFAULT_TIMEOUT,
    credential: CredentialStyle::QueryParam("token"),
    price: PagePrice::Tariff,
    calls_per_minute: None,
    missing_credential: Some(PageReply {
        status: 200,
        body: r#"{"data":{"error":"401 Unauthorized","status":0}}"#,
    }),
    // The page documents `/api`; `/api/` is served the same.
    routes: Routes {
        drop_in: &[RoutePath::Exact(crate::PATH), RoutePath::Exact("/api/")],
        typed: RoutePath::Exact("/v1/court"),
    },
    // Trained by `train-dictionaries` (proverka-benches); newest first.
    dictionaries: &[include_bytes!("../dictionary/zstd-1274460315.dict")],
    operations: &[TypedOperation::new(
        "/v1/court",
        "Court jurisdiction by address or coordinates",
        &[
            TypedParam::optional("address", "Адрес: to the building (one of address, coords)"),
            TypedParam::optional("coords", "Координаты: \"lon lat\" (one of address, coords)"),
        ],
        schema_of::<Jurisdiction>,
    )],
};

impl CourtClient {
    /// The courts for an address or a point.
    ///
    /// # Errors
    /// See [`Error`]; a business error (`data.status = 0`) is [`Error::Provider`].
    pub async fn find(&self, query: &CourtQuery) -> Result<Jurisdiction, Error> {
        let raw = self.fetch_raw(query).await?;
        parse(&raw)
    }

    /// As [`find`](Self::find); when a coordinates query finds no court, asks once more with
    /// the two numbers swapped, as the page advises. The retry spends one more query; it is
    /// never made for address queries or when a court was found.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn find_trying_swapped(&self, query: &CourtQuery) -> Result<Jurisdiction, Error> {
        let first = self.find(query).await?;
        match query.swapped() {
            Some(other) if !first.found() => self.find(&other).await,
            _ => Ok(first),
        }
    }
}
