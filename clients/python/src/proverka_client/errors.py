"""What the proxy answers instead of an answer, as exceptions that say whether the call cost
money (`billed`) and whether asking again may help (`retryable`)."""

from __future__ import annotations

from typing import Any


class ProverkaError(Exception):
    """Any answer of the proxy that is not the provider's answer.

    `billed` is `free` (nothing was paid: refused before sending, or a failure the provider
    does not bill), `charged`, or `unknown` (the provider may have billed it; proverka did
    not send it again and asking again may pay again). `retryable` says whether asking again
    may succeed. `code` is the proxy's error code (`budget_exceeded`, `provider_timeout`, …)
    or, for a provider's error, where it came from (`provider`, `decode`, `validation`).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        billed: str,
        retryable: bool,
        provider: str | None,
        body: Any,
    ) -> None:
        super().__init__(f"{status} {code}: {message} (billed: {billed}, retryable: {retryable})")
        self.status = status
        self.code = code
        self.message = message
        self.billed = billed
        self.retryable = retryable
        self.provider = provider
        self.body = body


class Refused(ProverkaError):
    """400: the provider's page refuses the query (`provider_body` is what it would answer);
    nothing was sent, nothing paid."""

    @property
    def provider_body(self) -> Any:
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return error.get("provider_body") if isinstance(error, dict) else None


class AccessDenied(ProverkaError):
    """401 or 403: no valid key, a key whose role does not reach the route, or no credential
    for the provider."""


class BudgetExceeded(ProverkaError):
    """402: the client's daily budget would be exceeded; nothing was sent."""


class ProviderFailed(ProverkaError):
    """502 with the provider's error or an unreadable answer (see `billed`)."""


class NoAnswer(ProverkaError):
    """No answer came back (a timeout, a broken connection) or none was cached for
    `only-if-cached` (see `billed`: `unknown` means the provider may have billed it)."""


class Unavailable(ProverkaError):
    """503: refused before sending (busy, the store or the shared cache unavailable): free,
    ask again later."""
