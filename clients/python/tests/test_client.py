"""The client against the proxy in sandbox mode: typed answers, sync and async, and errors
that say whether the call cost money and whether asking again may help."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from proverka_client import (
    AsyncClient,
    Client,
    NoAnswer,
    ProviderFailed,
    Refused,
    models,
)

from conftest import individual_inn

SELF_EMPLOYED = "540304378234"


def test_an_answer_is_typed_and_a_second_ask_is_a_free_hit(base_url: str) -> None:
    inn = individual_inn()
    with Client(base_url) as client:
        first = client.npd(inn=inn)
        again = client.npd(inn=inn)
    assert isinstance(first.result, models.NpdStatus)
    assert (first.cache, first.billed) == (models.CacheState.MISS, "charged")
    assert again.cache == models.CacheState.HIT
    assert again.result == first.result


def test_the_known_self_employed_person_is_one(base_url: str) -> None:
    with Client(base_url) as client:
        assert client.npd(inn=SELF_EMPLOYED).result.self_employed is True


def test_async_calls_give_the_same_types(base_url: str) -> None:
    async def ask() -> tuple:
        async with AsyncClient(base_url) as client:
            return await asyncio.gather(
                client.fssp_physical(lastname="Иванов", firstname="Иван", birthdate="31.03.1980", region="77"),
                client.court(address="Казань, Московская 1"),
            )

    debtor, court = asyncio.run(ask())
    assert debtor.result.root.kind == "debtors"
    assert debtor.result.root.records, debtor
    assert isinstance(court.result, models.Jurisdiction)
    assert court.result.court_fs is not None


def test_a_query_the_page_refuses_costs_nothing(base_url: str) -> None:
    with Client(base_url) as client, pytest.raises(Refused) as refused:
        client.npd(inn="123")
    error = refused.value
    assert (error.status, error.billed, error.retryable) == (400, "free", False)
    assert error.provider_body, error.body


def test_a_provider_error_says_it_was_not_billed_and_not_worth_repeating(base_url: str, sandbox) -> None:
    sandbox.fault("npd", {"kind": "provider_error", "code": "40301"})
    with Client(base_url) as client, pytest.raises(ProviderFailed) as failed:
        client.npd(inn=individual_inn())
    assert (failed.value.status, failed.value.billed, failed.value.retryable) == (502, "free", False)


def test_an_unreadable_answer_is_billed_unknown_and_not_sent_again(base_url: str, sandbox) -> None:
    sandbox.fault("npd", {"kind": "truncated_after_billing"})
    with Client(base_url) as client, pytest.raises(ProviderFailed) as failed:
        client.npd(inn=individual_inn())
    assert failed.value.billed == "unknown"


def test_no_answer_at_all_is_an_error_of_its_own(base_url: str, sandbox) -> None:
    sandbox.fault("npd", {"kind": "reset"})
    with Client(base_url) as client, pytest.raises(NoAnswer) as lost:
        client.npd(inn=individual_inn())
    assert lost.value.code == "provider_unreachable"
    assert lost.value.billed in ("free", "unknown")


def test_only_if_cached_never_pays(base_url: str) -> None:
    with Client(base_url) as client, pytest.raises(NoAnswer) as missing:
        client.npd(inn=individual_inn(), cache_control="only-if-cached")
    assert (missing.value.code, missing.value.billed) == ("not_cached", "free")


def test_the_providers_own_answer_comes_with_its_digest(base_url: str) -> None:
    with Client(base_url) as client:
        answer = client.npd(inn=individual_inn(), provider_answer=True)
    assert answer.provider_answer is not None
    assert len(answer.provider_answer.sha256) == 64


def test_spend_and_me_are_typed(base_url: str) -> None:
    with Client(base_url) as client:
        client.npd(inn=individual_inn())
        spend = client.spend()
        me = client.me()
    assert isinstance(spend, models.Spend) and spend.rows
    assert isinstance(me, models.Me)


def test_the_generated_code_is_what_the_document_gives() -> None:
    generator = Path(__file__).resolve().parent.parent / "generate.py"
    checked = subprocess.run([sys.executable, str(generator), "--check"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
