//! [`client!`](crate::client): an adapter's client type, written once.

/// Declares an adapter's client: the struct around its [`Channel`](crate::Channel), its
/// builder type, its [`Connect`](crate::Connect) (from the crate's
/// [`ProviderSpec`](crate::ProviderSpec): provider, defaults, how the credential travels),
/// `builder()`, `settings()` and `fetch_raw` (the answer as it came, for callers that judge or
/// store bytes themselves). The adapter then adds its typed methods in its own `impl`.
///
/// A query-parameter credential may be checked further by `check: path`, when the provider
/// refuses malformed ones. A provider that takes the caller's bearer with each call says
/// `per_call: bearer`; its `fetch_raw` then takes the bearer (`fetch_raw(bearer, lookup)`).
/// Whether the spec's credential is a caller's bearer and whether `per_call: bearer` is said
/// must agree: the crate does not compile otherwise.
///
/// ```
/// use std::time::Duration;
/// use proverka_core::{CredentialStyle, PagePrice, Provider, ProviderSpec};
///
/// const SPEC: ProviderSpec = ProviderSpec {
///     provider: Provider::Npd,
///     base_url: "https://example.test",
///     timeout: Duration::from_secs(30),
///     credential: CredentialStyle::QueryParam("key"),
///     price: PagePrice::Tariff,
///     calls_per_minute: None,
///     missing_credential: None,
///     routes: proverka_core::Routes {
///         drop_in: &[],
///         typed: proverka_core::RoutePath::Exact("/v1/example"),
///     },
///     dictionaries: &[],
///     operations: &[],
/// };
///
/// proverka_core::client! {
///     /// A client of an example provider.
///     pub struct ExampleClient;
///     /// Builds an [`ExampleClient`].
///     pub type ExampleClientBuilder;
///     spec: SPEC,
/// }
///
/// let client = ExampleClient::builder().token("k").build().unwrap();
/// # let _ = client;
/// assert!(ExampleClient::builder().build().is_err());
/// ```
///
/// A spec and a declaration that disagree on the bearer do not compile:
///
/// ```compile_fail,E0080
/// use std::time::Duration;
/// use proverka_core::{CredentialStyle, PagePrice, Provider, ProviderSpec};
///
/// const SPEC: ProviderSpec = ProviderSpec {
///     provider: Provider::Alfa,
///     base_url: "https://example.test",
///     timeout: Duration::from_secs(30),
///     credential: CredentialStyle::CallerBearer,
///     price: PagePrice::Free,
///     calls_per_minute: None,
///     missing_credential: None,
///     routes: proverka_core::Routes {
///         drop_in: &[],
///         typed: proverka_core::RoutePath::Exact("/v1/example"),
///     },
///     dictionaries: &[],
///     operations: &[],
/// };
///
/// proverka_core::client! {
///     /// Says nothing of the caller's bearer its spec names.
///     pub struct Mismatched;
///     /// Builds it.
///     pub type MismatchedBuilder;
///     spec: SPEC,
/// }
/// ```
#[macro_export]
macro_rules! client {
    (
        $(#[$meta:meta])*
        $vis:vis struct $client:ident;
        $(#[$builder_meta:meta])*
        $builder_vis:vis type $builder:ident;
        spec: $spec:path
        $(, check: $check:path)?
        $(, per_call: $per_call:ident)? $(,)?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        $vis struct $client {
            channel: $crate::Channel,
        }

        $(#[$builder_meta])*
        $builder_vis type $builder = $crate::ClientBuilder<$client>;

        const _: () = ::std::assert!(
            ::std::matches!($spec.credential, $crate::CredentialStyle::CallerBearer)
                == $crate::client!(@bearer $($per_call)?),
            "a caller's bearer in the spec goes with `per_call: bearer`, and only then",
        );

        impl $crate::Connect for $client {
            const SPEC: $crate::ProviderSpec = $spec;
            $(
                fn check_credential(
                    credential: &$crate::Secret,
                ) -> ::std::result::Result<(), $crate::ConfigError> {
                    $check(credential)
                }
            )?
            fn from_channel(channel: $crate::Channel) -> Self {
                Self { channel }
            }
        }

        impl $client {
            /// A builder with the provider's production host and timeout.
            pub fn builder() -> $builder {
                $crate::ClientBuilder::default()
            }

            /// The settings in use (base URL with a punycode host, timeouts).
            pub fn settings(&self) -> &$crate::HttpSettings {
                self.channel.settings()
            }

            $crate::client!(@fetch_raw $($per_call)?);
        }
    };
    (@bearer bearer) => { true };
    (@bearer) => { false };
    (@fetch_raw bearer) => {
        /// Sends a query with the caller's `bearer` and returns the answer as it came.
        ///
        /// # Errors
        /// [`TransportError`](proverka_core::TransportError) when no answer arrived.
        pub async fn fetch_raw<L: $crate::Lookup + ?Sized>(
            &self,
            bearer: &$crate::Secret,
            lookup: &L,
        ) -> ::std::result::Result<$crate::RawAnswer, $crate::TransportError> {
            self.channel.send_with_bearer(bearer, lookup).await
        }
    };
    (@fetch_raw) => {
        /// Sends a query and returns the answer as it came.
        ///
        /// # Errors
        /// [`TransportError`](proverka_core::TransportError) when no answer arrived.
        pub async fn fetch_raw<L: $crate::Lookup + ?Sized>(
            &self,
            lookup: &L,
        ) -> ::std::result::Result<$crate::RawAnswer, $crate::TransportError> {
            self.channel.send(lookup).await
        }
    };
}
