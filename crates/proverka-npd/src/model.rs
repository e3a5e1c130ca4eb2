//! [`NpdStatus`] and [`parse`]: reading an answer leniently; only `success = 1` is one.

use proverka_core::lenient;
use proverka_core::{Billed, MalformedAnswer, Provider, RawAnswer};

use crate::{Error, ProviderError};

/// A charged answer (`success = 1`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct NpdStatus {
    /// `found`: whether the INN is a self-employed (НПД) tax payer on the date.
    pub self_employed: bool,
    /// Fields other than `success` and `found`.
    pub extra: lenient::Extra,
}

/// Reads an NPD body: `success = 1` is an answer, anything else an error.
///
/// # Errors
/// [`Error::Provider`] or [`Error::Malformed`].
pub fn parse(raw: &RawAnswer) -> Result<NpdStatus, Error> {
    let mut map =
        lenient::json_object(Provider::Npd, raw.status, &raw.body).map_err(Error::Malformed)?;
    let success = map.remove("success").as_ref().and_then(lenient::int_of);
    let error = map.remove("error").and_then(lenient::text_of);
    let code = map.remove("error_code").as_ref().and_then(lenient::int_of);
    if success == Some(1) && raw.status == 200 {
        return match map.remove("found").as_ref().and_then(lenient::flag_of) {
            Some(self_employed) => Ok(NpdStatus {
                self_employed,
                extra: map.into_iter().collect(),
            }),
            // The page: only `success = 1` is charged. Billed, but not an answer.
            None => Err(Error::Malformed(MalformedAnswer::without_result(
                Provider::Npd,
                raw.status,
                &raw.body,
                Billed::Yes(None),
            ))),
        };
    }
    if error.is_none() && code.is_none() {
        if raw.status >= 500 {
            return Err(Error::Malformed(raw.unexpected_shape(Provider::Npd)));
        }
        return Err(Error::Provider(ProviderError::SourceUnavailable));
    }
    Err(Error::Provider(ProviderError::from_code(code, error)))
}
