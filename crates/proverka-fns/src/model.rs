//! [`TaxpayerStatus`] and [`parse`]: reading an answer leniently.

use proverka_core::lenient;
use proverka_core::{Provider, RawAnswer};

use crate::{Error, ProviderError};

/// An answer (HTTP 200): whether the INN is a self-employed (НПД) tax payer on the date.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct TaxpayerStatus {
    /// `status`: the INN is a payer of the professional income tax on the date.
    pub self_employed: bool,
    /// `message`: the service's sentence ("… является плательщиком …"), if any.
    pub message: Option<String>,
    /// Fields other than `status` and `message`, kept.
    pub extra: lenient::Extra,
}

/// Reads a body of the service: 200 with a boolean `status` is an answer; 422 with a `code`
/// an error; anything else is not the service's JSON.
///
/// # Errors
/// [`Error::Provider`] or [`Error::Malformed`].
pub fn parse(raw: &RawAnswer) -> Result<TaxpayerStatus, Error> {
    let mut map =
        lenient::json_object(Provider::Fns, raw.status, &raw.body).map_err(Error::Malformed)?;
    let message = map.remove("message").and_then(lenient::text_of);
    if raw.status == 200 {
        return match map.remove("status").as_ref().and_then(lenient::flag_of) {
            Some(self_employed) => Ok(TaxpayerStatus {
                self_employed,
                message,
                extra: map.into_iter().collect(),
            }),
            None => Err(Error::Malformed(raw.unexpected_shape(Provider::Fns))),
        };
    }
    let code = map.remove("code").and_then(lenient::text_of);
    if code.is_none() {
        return Err(Error::Malformed(raw.unexpected_shape(Provider::Fns)));
    }
    Err(Error::Provider(ProviderError::from_code(code, message)))
}
