"""The provider client's reading of answers: anything that is not a JSON object with an id is
``ProviderAnswerUnreadable``, however it is malformed (never an exception the template turns
into a 500)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from common.config_schema import OperationalConfig
from payment.circuit_breaker import CircuitBreaker
from payment.config_schema import CircuitBreakerSettings
from payment.errors import ProviderAnswerUnreadable
from payment.provider import ProviderCall, ProviderClient

from .fn_support import DEFAULTS

#: Never sent anywhere: the opener below answers in memory.
UNUSED_KEY = "-".join(("unused", "provider", "key"))
CALL = ProviderCall(
    endpoint="https://provider.test",
    api_key=UNUSED_KEY,
    operational=OperationalConfig.model_validate(DEFAULTS["tenant_config"]["global"]["operational"]),
    breaker_settings=CircuitBreakerSettings.model_validate(DEFAULTS["tenant_config"]["services"]["payment"]["technical"]["circuit_breakers"]),
)


def _answering(body: bytes) -> Any:
    def opener(request: Any, timeout: float) -> io.BytesIO:
        return io.BytesIO(body)

    return opener


@pytest.mark.parametrize(
    "answer",
    [b"<html>", b"[" * 100_000 + b"]" * 100_000, b'{"status": "authorized"}', b"[1, 2]", b'{"id": 7}'],
    ids=["not-json", "nested-beyond-recursion", "no-id", "not-an-object", "id-not-text"],
)
def test_an_unreadable_answer_is_reported_as_such(answer: bytes) -> None:
    client = ProviderClient(breaker=CircuitBreaker(), opener=_answering(answer), sleep=lambda _: None)
    with pytest.raises(ProviderAnswerUnreadable):
        client.post(CALL, "/authorizations", {"amount_minor": 1}, "key-1")


def test_a_readable_answer_is_returned() -> None:
    client = ProviderClient(breaker=CircuitBreaker(), opener=_answering(b'{"id": "auth_1", "status": "authorized"}'), sleep=lambda _: None)
    assert client.post(CALL, "/authorizations", {"amount_minor": 1}, "key-1")["id"] == "auth_1"
