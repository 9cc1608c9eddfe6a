"""Bounded input on every payment route: ids, the Idempotency-Key, currency and amounts.

Each violation is a 400 naming the field, with nothing written and nothing asked of the provider:
a 40-digit amount never reaches ``Decimal`` or DynamoDB, ``true`` is never an amount, an id longer
than ``common.bounds.ID_MAX_LENGTH`` never becomes a key, and every amount is bounded by the
tenant's ``max_amount_minor``.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from common.api import ApiFunction
from common.bounds import ID_MAX_LENGTH

from .fn_services import FakeProvider, call_api
from .fn_support import Tenant, response_json, tenant_config
from .test_fn_payment_api import BOOKING, SharedPayments, act, add_booking, captured_payment, shared_part, shared_payments, table

FORTY_DIGITS = 10**40
TOO_LONG_ID = "b" * (ID_MAX_LENGTH + 1)


pytestmark = pytest.mark.xdist_group("fn_payment_bounds")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedPayments]:
    with shared_payments(tmp_path_factory.mktemp("bounds"), tenant_config("acme", "dev")) as shared:
        yield shared


tenant, payment, provider = (shared_part(name) for name in ("tenant", "payment", "provider"))


@pytest.fixture
def untouched(tenant: Tenant, provider: FakeProvider) -> Iterator[None]:
    """The test's requests write nothing and ask the provider nothing."""
    calls, before = len(provider.calls), table(tenant, "payments")
    yield
    assert len(provider.calls) == calls and table(tenant, "payments") == before


def max_amount(tenant: Tenant) -> int:
    return int(tenant.config["services"]["payment"]["business"]["business_rules"]["max_amount_minor"])


def assert_refused(response: dict[str, Any], field: str) -> None:
    assert response["statusCode"] == 400
    assert field in {d["field"] for d in response_json(response)["error"]["details"]}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount_minor": FORTY_DIGITS}, "amount_minor"),
        ({"amount_minor": True}, "amount_minor"),
        ({"amount_minor": -1}, "amount_minor"),
        ({"amount_minor": 1e3}, "amount_minor"),
        ({"booking_id": TOO_LONG_ID}, "booking_id"),
        ({"booking_id": 12345}, "booking_id"),
        ({"currency": "inr"}, "currency"),
        ({"currency": "INRR"}, "currency"),
    ],
    ids=["forty-digits", "boolean", "negative", "float", "id-too-long", "id-as-number", "lowercase-currency", "long-currency"],
)
def test_authorize_refuses_unbounded_input(payment: ApiFunction[Any], untouched: None, change: dict[str, Any], field: str) -> None:
    body = {"booking_id": BOOKING, "amount_minor": 1000, "currency": "INR", **change}
    assert_refused(call_api(payment, "POST", "/payments/authorize", body=body, headers={"Idempotency-Key": "key-b"}), field)


def test_the_policy_maximum_bounds_authorize_capture_and_refund(payment: ApiFunction[Any], tenant: Tenant, provider: FakeProvider) -> None:
    over = max_amount(tenant) + 1
    body = {"booking_id": BOOKING, "amount_minor": over, "currency": "INR"}
    assert_refused(call_api(payment, "POST", "/payments/authorize", body=body, headers={"Idempotency-Key": "key-a"}), "amount_minor")
    payment_id = captured_payment(payment)
    calls, before = len(provider.calls), table(tenant, "payments")
    assert_refused(act(payment, payment_id, "refund", "key-r", body={"amount_minor": over}), "amount_minor")
    assert_refused(act(payment, payment_id, "capture", "key-c", body={"amount_minor": over}), "amount_minor")
    assert len(provider.calls) == calls and table(tenant, "payments") == before


@pytest.mark.parametrize("action", ["capture", "refund"])
def test_capture_and_refund_amounts_are_bounded(payment: ApiFunction[Any], tenant: Tenant, provider: FakeProvider, action: str) -> None:
    payment_id = captured_payment(payment)
    calls, before = len(provider.calls), table(tenant, "payments")
    for amount in (FORTY_DIGITS, True, "1000", 0, 12.5):
        assert_refused(act(payment, payment_id, action, "key-x", body={"amount_minor": amount}), "amount_minor")
    assert len(provider.calls) == calls and table(tenant, "payments") == before


def test_a_payment_id_out_of_bounds_is_400_on_every_route(payment: ApiFunction[Any], untouched: None) -> None:
    for payment_id in (TOO_LONG_ID, "pay.x"):
        assert_refused(call_api(payment, "GET", f"/payments/{payment_id}"), "payment_id")
        for action, body in (("capture", None), ("refund", {"amount_minor": 1})):
            assert_refused(act(payment, payment_id, action, "key-p", body=body), "payment_id")


def test_the_idempotency_key_is_bounded(payment: ApiFunction[Any], untouched: None) -> None:
    body = {"booking_id": BOOKING, "amount_minor": 1000, "currency": "INR"}
    for key in ("k" * (ID_MAX_LENGTH + 1), "tab\tkey", "ключ"):
        assert_refused(call_api(payment, "POST", "/payments/authorize", body=body, headers={"Idempotency-Key": key}), "Idempotency-Key")


def test_the_longest_allowed_idempotency_key_and_booking_id_work(payment: ApiFunction[Any], tenant: Tenant, provider: FakeProvider) -> None:
    longest = "b" * ID_MAX_LENGTH
    add_booking(tenant, longest, owner="user-1")
    body = {"booking_id": longest, "amount_minor": 1000, "currency": "INR"}
    response = call_api(payment, "POST", "/payments/authorize", body=body, headers={"Idempotency-Key": "k" * ID_MAX_LENGTH})
    assert response["statusCode"] == 201 and response_json(response)["booking_id"] == longest
