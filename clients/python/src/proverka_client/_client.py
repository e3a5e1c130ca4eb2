"""The thin HTTP layer under the generated operations: one GET, its answer or its error."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from . import errors
from ._answer import Answer
from .operations import AsyncOperations, Operations

M = TypeVar("M", bound=BaseModel)

# The FSSP page asks clients to allow 400 s: its answers can take minutes.
DEFAULT_TIMEOUT = 450.0

_CHARGED = {"no": "free", "yes": "charged", "unknown": "unknown"}


def _query(params: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in params.items() if v is not None}


def _headers(
    extra: dict[str, str] | None, provider_answer: bool = False, cache_control: str | None = None
) -> dict[str, str]:
    headers = dict(extra or {})
    if provider_answer:
        headers["X-Proverka-Include"] = "provider-answer"
    if cache_control:
        headers["Cache-Control"] = cache_control
    return headers


def _error(response: httpx.Response) -> errors.ProverkaError:
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    status = response.status_code
    header = response.headers.get("x-proverka-billed")
    error = body.get("error") if isinstance(body, dict) else None
    provider = body.get("provider") if isinstance(body, dict) else None
    if isinstance(error, dict):
        # The provider's error or an unreadable answer (502), or a refusal (400).
        code = str(error.get("source", "provider"))
        message = str(error.get("message") or "the provider's page refuses the query")
        billed = header or _CHARGED.get(str(error.get("charged")), "free")
        retryable = bool(error.get("retryable", False))
    else:
        charge = body.get("charge") if isinstance(body, dict) else None
        code = str(error or f"http_{status}")
        message = str(body.get("message", "")) if isinstance(body, dict) else str(body)[:200]
        billed = header or (charge.get("kind") if isinstance(charge, dict) else None) or "free"
        retryable = bool(body.get("retryable", False)) if isinstance(body, dict) else status >= 500
    kind: type[errors.ProverkaError]
    if status == 400:
        kind = errors.Refused
    elif status in (401, 403):
        kind = errors.AccessDenied
    elif status == 402:
        kind = errors.BudgetExceeded
    elif status == 503:
        kind = errors.Unavailable
    elif status == 502 and isinstance(error, dict):
        kind = errors.ProviderFailed
    elif status in (502, 504):
        kind = errors.NoAnswer
    else:
        kind = errors.ProverkaError
    return kind(
        status, code, message, billed=billed, retryable=retryable, provider=provider, body=body
    )


def _typed_answer(response: httpx.Response, model: type[M]) -> Answer[M]:
    if response.status_code != 200:
        raise _error(response)
    return Answer[model].model_validate(response.json())  # type: ignore[valid-type]


def _plain_answer(response: httpx.Response, model: type[M]) -> M:
    if response.status_code != 200:
        raise _error(response)
    return model.model_validate(response.json())


def _client_headers(key: str | None) -> dict[str, str]:
    return {"X-Proverka-Key": key} if key else {}


class Client(Operations):
    """A client of the proxy's typed API: one method per operation (`client.npd(inn=…)`),
    each returning the operation's model or raising a `ProverkaError`.

    `key` is the client key (`X-Proverka-Key`); a proxy without keys (loopback) needs none.
    """

    def __init__(
        self,
        base_url: str,
        key: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url, headers=_client_headers(key), timeout=timeout, transport=transport
        )

    def _typed(
        self,
        path: str,
        params: dict[str, Any],
        model: type[M],
        headers: dict[str, str] | None,
        *,
        provider_answer: bool = False,
        cache_control: str | None = None,
    ) -> Answer[M]:
        response = self._http.get(
            path, params=_query(params), headers=_headers(headers, provider_answer, cache_control)
        )
        return _typed_answer(response, model)

    def _plain(
        self, path: str, params: dict[str, Any], model: type[M], headers: dict[str, str] | None
    ) -> M:
        response = self._http.get(path, params=_query(params), headers=_headers(headers))
        return _plain_answer(response, model)

    def close(self) -> None:
        """Closes the connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class AsyncClient(AsyncOperations):
    """As `Client`, for asyncio: `await client.npd(inn=…)`."""

    def __init__(
        self,
        base_url: str,
        key: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url, headers=_client_headers(key), timeout=timeout, transport=transport
        )

    async def _typed(
        self,
        path: str,
        params: dict[str, Any],
        model: type[M],
        headers: dict[str, str] | None,
        *,
        provider_answer: bool = False,
        cache_control: str | None = None,
    ) -> Answer[M]:
        response = await self._http.get(
            path, params=_query(params), headers=_headers(headers, provider_answer, cache_control)
        )
        return _typed_answer(response, model)

    async def _plain(
        self, path: str, params: dict[str, Any], model: type[M], headers: dict[str, str] | None
    ) -> M:
        response = await self._http.get(path, params=_query(params), headers=_headers(headers))
        return _plain_answer(response, model)

    async def aclose(self) -> None:
        """Closes the connections."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()
