"""Object-level authorization of every payment route (``payment.routes``), through the real handler.

authorize: the booking's customer, or an operator; capture, refund, get: the payment's owner (the
booking's customer), or an operator. Operators are the roles granted ``payment:manage``
(dispatcher, admin). Here the tenant also grants drivers and dispatchers every payment
operation, so that what refuses them is the object rule alone, not a missing operation. A refusal
reads exactly like a missing object (404), writes nothing and asks the provider nothing.
"""

from __future__ import annotations

import uuid
from typing import Any, Iterator

import pytest

from common.api import ApiFunction

from .fn_services import FakeProvider, call_api
from .fn_support import Tenant, response_json, set_in, tenant_config
from .test_fn_payment_api import BOOKING, SharedPayments, act, shared_part, shared_payments, table

OWNER, OTHER_CUSTOMER, DRIVER, DISPATCHER = ("user-1", "customer"), ("user-2", "customer"), ("drv-1", "driver"), ("ops-1", "dispatcher")
PAYMENT_OPERATIONS = ["payment:authorize", "payment:capture", "payment:refund", "payment:read"]
# (principal, status when allowed or refused) per route; the owner is the booking's customer.
EXPECTED = {
    "authorize": {OWNER: 201, OTHER_CUSTOMER: 404, DRIVER: 404, DISPATCHER: 201},
    "capture": {OWNER: 200, OTHER_CUSTOMER: 404, DRIVER: 404, DISPATCHER: 200},
    "refund": {OWNER: 201, OTHER_CUSTOMER: 404, DRIVER: 404, DISPATCHER: 201},
    "get": {OWNER: 200, OTHER_CUSTOMER: 404, DRIVER: 404, DISPATCHER: 200},
}
CASES = [(route, principal, status) for route, statuses in EXPECTED.items() for principal, status in statuses.items()]


pytestmark = pytest.mark.xdist_group("fn_payment_access")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedPayments]:
    config = tenant_config("acme", "dev")
    roles = config["global"]["security"]["authorization_policies"]["roles"]
    config = set_in(config, "global.security.authorization_policies.roles.driver", [*roles["driver"], *PAYMENT_OPERATIONS])
    config = set_in(config, "global.security.authorization_policies.roles.dispatcher", [*roles["dispatcher"], *PAYMENT_OPERATIONS])
    with shared_payments(tmp_path_factory.mktemp("access"), config, driver=DRIVER[0]) as shared:
        yield shared


tenant, payment, provider = (shared_part(name) for name in ("tenant", "payment", "provider"))


def fresh_key() -> str:
    """A new Idempotency-Key: the module's requests share one tenant and its idempotency records."""
    return f"key-{uuid.uuid4().hex}"


def call_route(function: ApiFunction[Any], route: str, payment_id: str, principal: tuple[str, str]) -> dict[str, Any]:
    user, roles = principal
    if route == "authorize":
        body = {"booking_id": BOOKING, "amount_minor": 1000, "currency": "INR"}
        return call_api(function, "POST", "/payments/authorize", body=body, headers={"Idempotency-Key": fresh_key()}, user=user, roles=roles)
    if route == "get":
        return call_api(function, "GET", f"/payments/{payment_id}", user=user, roles=roles)
    return act(function, payment_id, route, fresh_key(), body={"amount_minor": 1000} if route == "refund" else None, user=user, roles=roles)


def prepared(function: ApiFunction[Any], route: str) -> str:
    """The owner's payment in the state ``route`` acts on: authorized to capture, captured otherwise."""
    if route == "authorize":
        return ""
    body = {"booking_id": BOOKING, "amount_minor": 5000, "currency": "INR"}
    payment_id = str(response_json(call_api(function, "POST", "/payments/authorize", body=body, headers={"Idempotency-Key": fresh_key()}))["payment_id"])
    if route != "capture":
        assert act(function, payment_id, "capture", fresh_key())["statusCode"] == 200
    return payment_id


@pytest.mark.parametrize(("route", "principal", "status"), CASES, ids=[f"{r}-{p[1]}-{p[0]}" for r, p, _ in CASES])
def test_each_route_lets_the_owner_and_operators_act_and_no_one_else(
    payment: ApiFunction[Any], tenant: Tenant, provider: FakeProvider, route: str, principal: tuple[str, str], status: int
) -> None:
    payment_id = prepared(payment, route)
    calls, before = len(provider.calls), table(tenant, "payments")
    response = call_route(payment, route, payment_id, principal)
    assert response["statusCode"] == status
    if status == 404:
        assert response_json(response)["error"]["message"] in ("payment not found", "booking not found")
        assert len(provider.calls) == calls and table(tenant, "payments") == before
    else:
        assert len(provider.calls) == calls + (0 if route == "get" else 1)


def test_a_payment_an_operator_authorizes_belongs_to_the_bookings_customer(payment: ApiFunction[Any], tenant: Tenant) -> None:
    response = call_route(payment, "authorize", "", DISPATCHER)
    payment_id = response_json(response)["payment_id"]
    [stored] = [p for p in table(tenant, "payments") if p["sk"] == "DETAILS" and p["payment_id"] == payment_id]
    assert (stored["user_id"], stored["requested_by"]) == (OWNER[0], DISPATCHER[0])
    assert call_route(payment, "get", payment_id, OWNER)["statusCode"] == 200


def test_another_customers_booking_reads_exactly_like_a_missing_one(payment: ApiFunction[Any], tenant: Tenant, provider: FakeProvider) -> None:
    calls, before = len(provider.calls), table(tenant, "payments")
    theirs = call_route(payment, "authorize", "", OTHER_CUSTOMER)
    missing = call_api(
        payment, "POST", "/payments/authorize", body={"booking_id": "bk_missing", "amount_minor": 1000, "currency": "INR"}, headers={"Idempotency-Key": fresh_key()}, user="user-2"
    )
    assert theirs["statusCode"] == missing["statusCode"] == 404
    assert response_json(theirs)["error"]["message"] == response_json(missing)["error"]["message"]
    assert len(provider.calls) == calls and table(tenant, "payments") == before
