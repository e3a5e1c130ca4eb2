//! The registry: every provider this process knows, as the proxy, the sandbox and the command
//! line see them.
//!
//! The providers of proverka's own adapter crates are one line each below (behind the crate's
//! feature). A provider of another crate joins with [`register`], once, before a front end
//! starts: nothing else names it.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use proverka_core::{Adapter, Provider};

/// Providers of other crates, added by [`register`].
static REGISTERED: RwLock<Vec<Arc<dyn Adapter>>> = RwLock::new(Vec::new());

/// The built-in providers of this build (its features), in a fixed order.
fn built_in() -> Vec<Arc<dyn Adapter>> {
    vec![
        #[cfg(feature = "fssp")]
        Arc::new(proverka_fssp::FsspAdapter),
        #[cfg(feature = "court")]
        Arc::new(proverka_court::CourtAdapter),
        #[cfg(feature = "npd")]
        Arc::new(proverka_npd::NpdAdapter),
        #[cfg(feature = "alfa")]
        Arc::new(proverka_alfa::AlfaAdapter),
        #[cfg(feature = "fns")]
        Arc::new(proverka_fns::FnsAdapter),
    ]
}

/// Every provider of this process: the build's own (its features), then those [`register`]
/// added, in the order they were: the order of metrics and of the OpenAPI document.
pub fn adapters() -> Vec<Arc<dyn Adapter>> {
    let mut all = built_in();
    all.extend(
        REGISTERED
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned(),
    );
    all
}

/// Why [`register`] refused a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlreadyRegistered(pub Provider);

impl fmt::Display for AlreadyRegistered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a provider named {} is already registered", self.0)
    }
}

impl std::error::Error for AlreadyRegistered {}

/// Adds a provider of another crate to this process's registry: from then on the proxy
/// serves its routes, `[providers.<name>]` configures it, the sandbox simulates it (its
/// adapter's `simulator()`), and metrics and the OpenAPI document list it. Call it before a
/// front end starts: one reads the registry when it is built.
///
/// # Errors
/// [`AlreadyRegistered`] when a provider of that name is already known (built in or
/// registered): two providers never share a name, which keys their cache entries.
pub fn register(adapter: Arc<dyn Adapter>) -> Result<(), AlreadyRegistered> {
    let provider = adapter.provider();
    let mut registered = REGISTERED.write().unwrap_or_else(PoisonError::into_inner);
    let taken = built_in()
        .iter()
        .chain(registered.iter())
        .any(|a| a.provider() == provider);
    if taken {
        return Err(AlreadyRegistered(provider));
    }
    registered.push(adapter);
    Ok(())
}
