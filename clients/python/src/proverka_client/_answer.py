"""An answer of a typed operation: the provider's answer as its model, and what it cost."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

from . import models

T = TypeVar("T")


class Answer(BaseModel, Generic[T]):
    """The proxy's envelope with its `result` typed as the operation's model."""

    provider: str
    """The provider that answered."""
    cache: models.CacheState
    """How the answer was obtained: HIT, MISS, COALESCED or STALE (HIT and COALESCED cost nothing)."""
    age_secs: int
    """The answer's age in seconds."""
    charge: models.Billed
    """What the provider billed for it: `free`, `charged` (with its price) or `unknown`."""
    source: str | None = None
    """For a provider with a free source configured: which source answered."""
    provider_answer: models.ProviderAnswer | None = None
    """With `provider_answer=True`: the provider's own reply (status, bytes, SHA-256)."""
    result: T
    """The provider's answer as the adapter's model."""

    @property
    def billed(self) -> str:
        """`free`, `charged` or `unknown`."""
        return self.charge.root.kind
