"""The proxy (in sandbox mode) and its sandbox, started by tests/tests/python_client.rs,
which passes their addresses in PROVERKA_URL and PROVERKA_SANDBOX_URL."""

from __future__ import annotations

import itertools
import os

import httpx
import pytest

_counter = itertools.count(1)


@pytest.fixture
def base_url() -> str:
    url = os.environ.get("PROVERKA_URL")
    assert url, "PROVERKA_URL: run through `cargo test -p proverka-tests --test python_client`"
    return url


@pytest.fixture
def sandbox() -> "Sandbox":
    url = os.environ.get("PROVERKA_SANDBOX_URL")
    assert url, "PROVERKA_SANDBOX_URL: run through `cargo test -p proverka-tests --test python_client`"
    return Sandbox(url)


class Sandbox:
    """The sandbox's control endpoints: faults for the next calls of a provider."""

    def __init__(self, url: str) -> None:
        self.url = url

    def fault(self, provider: str, fault: dict, times: int = 1) -> None:
        reply = httpx.post(f"{self.url}/__sandbox/faults/{provider}", json={"fault": fault, "times": times})
        reply.raise_for_status()

    def clear(self) -> None:
        httpx.delete(f"{self.url}/__sandbox/faults").raise_for_status()


def individual_inn() -> str:
    """A valid 12-digit INN no other test asked about (the tax service's check digits)."""
    digits = [int(c) for c in f"{7_712_000_000 + os.getpid() % 1000 * 1000 + next(_counter):010d}"]
    for weights in ([7, 2, 4, 10, 3, 5, 9, 4, 6, 8], [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]):
        digits.append(sum(d * w for d, w in zip(digits, weights)) % 11 % 10)
    return "".join(map(str, digits))
