"""A typed client of the proverka proxy, generated from its OpenAPI document.

    from proverka_client import Client
    client = Client("http://127.0.0.1:8080")
    answer = client.npd(inn="540304378234")
    print(answer.result.self_employed, answer.billed, answer.cache)
"""

from . import models
from ._answer import Answer
from ._client import AsyncClient, Client
from .errors import (
    AccessDenied,
    BudgetExceeded,
    NoAnswer,
    ProverkaError,
    ProviderFailed,
    Refused,
    Unavailable,
)

__all__ = [
    "AccessDenied",
    "Answer",
    "AsyncClient",
    "BudgetExceeded",
    "Client",
    "NoAnswer",
    "ProverkaError",
    "ProviderFailed",
    "Refused",
    "Unavailable",
    "models",
]
