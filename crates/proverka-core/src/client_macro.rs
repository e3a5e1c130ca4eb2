//! [`client!`](crate::client): an adapter's client type, written once.

/// Declares an adapter's client: the struct around its [`Channel`](crate::Channel), its
/// builder type, its [`Connect`](crate::Connect) (provider, defaults, how the credential
/// travels), `builder()` and `fetch_raw` (the answer as it came, for callers that judge or
/// store bytes themselves). The adapter then adds its typed methods in its own `impl`.
///
/// The credential is one of `query("name")` (a query parameter given to the builder, checked
/// further by `check: path` when the provider refuses malformed ones), `bearer` (the caller's
/// own with each call: `fetch_raw(bearer, lookup)`) or `none` (a public service).
///
/// ```
/// use std::time::Duration;
/// use proverka_core::Provider;
///
/// proverka_core::client! {
///     /// A client of an example provider.
///     pub struct ExampleClient;
///     /// Builds an [`ExampleClient`].
///     pub type ExampleClientBuilder;
///     provider: Provider::Npd,
///     base_url: "https://example.test",
///     timeout: Duration::from_secs(30),
///     credential: query("key"),
/// }
///
/// let client = ExampleClient::builder().token("k").build().unwrap();
/// # let _ = client;
/// assert!(ExampleClient::builder().build().is_err());
/// ```
#[macro_export]
macro_rules! client {
    (
        $(#[$meta:meta])*
        $vis:vis struct $client:ident;
        $(#[$builder_meta:meta])*
        $builder_vis:vis type $builder:ident;
        provider: $provider:expr,
        base_url: $base_url:expr,
        timeout: $timeout:expr,
        credential: $kind:ident $(($param:literal))?
        $(, check: $check:path)? $(,)?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        $vis struct $client {
            channel: $crate::Channel,
        }

        $(#[$builder_meta])*
        $builder_vis type $builder = $crate::ClientBuilder<$client>;

        impl $crate::Connect for $client {
            const PROVIDER: $crate::Provider = $provider;
            const DEFAULT_BASE_URL: &'static str = $base_url;
            const DEFAULT_TIMEOUT: ::std::time::Duration = $timeout;
            const CREDENTIAL: $crate::CredentialStyle =
                $crate::client!(@style $kind $(($param))?);
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

            $crate::client!(@fetch_raw $kind);
        }
    };
    (@style query($param:literal)) => { $crate::CredentialStyle::QueryParam($param) };
    (@style bearer) => { $crate::CredentialStyle::CallerBearer };
    (@style none) => { $crate::CredentialStyle::None };
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
    (@fetch_raw $kind:ident) => {
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
