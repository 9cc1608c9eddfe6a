"""Object-level authorization of the booking API (OWASP API1), through the real handler on moto.

Each route that acts on one booking is tried with a principal its rule allows and one it refuses:
the booking's customer (``OWNER``) or another customer, the driver assigned to it or another
driver, and an operator (a dispatcher, granted ``booking:manage``). A refusal is the same 404 as a
missing booking and changes nothing. Also: assigning a driver, and who sees the booking's contact.
"""

from __future__ import annotations

from typing import Any, Iterator

import boto3
import pytest

from .conftest import REGION
from .fn_bookings import DISPATCHER, DRIVER, OTHER_CUSTOMER, OTHER_DRIVER, OWNER, Dispatch, booking_items, details_of, items_of, shared_dispatch, shipment
from .fn_support import Tenant, response_json, set_in, subscribe_to_events, tenant_config

CONTACT = {"email": "asha@example.com", "phone": "+919800000001"}
MISSING_ID = "bk_aaaaaaaaaaaaaaaaaaaaaaaaaa"


# One tenant for the module (provisioning is most of a test's time); each test makes its own
# bookings and compares the tables before and after. The tenant's roles add a planner, granted
# booking:assign but not booking:manage.
pytestmark = pytest.mark.xdist_group("booking-access")
PLANNER = "planner"


@pytest.fixture(scope="module")
def dispatch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dispatch]:
    config = tenant_config("acme", "dev")
    roles = {**config["global"]["security"]["authorization_policies"]["roles"], PLANNER: ["booking:assign"]}
    with shared_dispatch(tmp_path_factory.mktemp("booking-access"), set_in(config, "global.security.authorization_policies.roles", roles)) as dispatch:
        yield dispatch


@pytest.fixture
def acme(dispatch: Dispatch) -> Tenant:
    return dispatch.tenant


def get(dispatch: Dispatch, booking_id: str, user: str, roles: str) -> dict[str, Any]:
    return dispatch.send("GET", f"/bookings/{booking_id}", user=user, roles=roles)


def assert_like_missing(dispatch: Dispatch, response: dict[str, Any], user: str, roles: str) -> None:
    """``response`` is the 404 a missing booking gets, word for word."""
    missing = get(dispatch, MISSING_ID, user, roles)
    assert response["statusCode"] == missing["statusCode"] == 404
    assert response_json(response)["error"]["message"] == response_json(missing)["error"]["message"]


# --- get -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("user", "roles"), [(OWNER, "customer"), (DRIVER, "driver"), (DISPATCHER, "dispatcher"), ("admin-1", "admin")])
def test_get_is_allowed_to_the_owner_the_assigned_driver_and_operators(dispatch: Dispatch, user: str, roles: str) -> None:
    booking_id = dispatch.booked(OWNER, DRIVER)
    response = get(dispatch, booking_id, user, roles)
    assert response["statusCode"] == 200
    assert (response_json(response)["booking_id"], response_json(response)["driver_id"]) == (booking_id, DRIVER)


@pytest.mark.parametrize(("user", "roles"), [(OTHER_CUSTOMER, "customer"), (OTHER_DRIVER, "driver")])
def test_get_is_refused_to_another_customer_and_an_unassigned_driver(dispatch: Dispatch, user: str, roles: str) -> None:
    booking_id = dispatch.booked(OWNER, DRIVER)
    response = get(dispatch, booking_id, user, roles)
    assert_like_missing(dispatch, response, user, roles)
    assert booking_id not in response["body"]


def test_a_driver_sees_no_booking_before_it_is_assigned_to_them(dispatch: Dispatch) -> None:
    booking_id = dispatch.booked(OWNER, driver=None)
    assert get(dispatch, booking_id, DRIVER, "driver")["statusCode"] == 404
    assert dispatch.assign(booking_id, DRIVER)["statusCode"] == 200
    assert get(dispatch, booking_id, DRIVER, "driver")["statusCode"] == 200


# --- cancel --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("user", "roles"), [(OWNER, "customer"), (DISPATCHER, "dispatcher")])
def test_cancel_is_allowed_to_the_owner_and_operators(dispatch: Dispatch, acme: Tenant, user: str, roles: str) -> None:
    booking_id = dispatch.booked(OWNER, DRIVER)
    response = dispatch.send("POST", f"/bookings/{booking_id}/cancel", user=user, roles=roles)
    assert response["statusCode"] == 200
    assert details_of(acme, booking_id)["cancellation"]["cancelled_by"] == user


@pytest.mark.parametrize(
    ("user", "roles", "status"),
    [(OTHER_CUSTOMER, "customer", 404), (DRIVER, "driver", 403), (OTHER_DRIVER, "driver", 403)],
    ids=["another-customer", "assigned-driver", "another-driver"],
)
def test_cancel_is_refused_to_other_customers_and_to_drivers(dispatch: Dispatch, acme: Tenant, user: str, roles: str, status: int) -> None:
    booking_id = dispatch.booked(OWNER, DRIVER)
    before = booking_items(acme)
    response = dispatch.send("POST", f"/bookings/{booking_id}/cancel", user=user, roles=roles)
    # Drivers are not granted booking:cancel at all (403); another customer may cancel their own,
    # not this one, and learns nothing about it (404).
    assert response["statusCode"] == status
    assert booking_items(acme) == before


# --- assign --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("user", "roles"), [(DISPATCHER, "dispatcher"), ("admin-1", "admin")])
def test_an_operator_assigns_a_driver_and_confirms_a_pending_booking(dispatch: Dispatch, acme: Tenant, user: str, roles: str) -> None:
    events = subscribe_to_events(acme, REGION)
    booking_id = dispatch.book(OWNER)
    events()
    response = dispatch.assign(booking_id, DRIVER, user=user, roles=roles)
    assert response["statusCode"] == 200
    body = response_json(response)
    assert (body["status"], body["driver_id"]) == ("CONFIRMED", DRIVER)
    assert details_of(acme, booking_id)["driver_id"] == DRIVER
    # The list summaries follow the status, in the same transaction.
    assert [item["status"] for item in items_of(acme, booking_id)] == ["CONFIRMED"] * 3
    [event] = events()
    assert (event["event_type"], event["data"]["booking_id"], event["data"]["driver_id"]) == ("booking.assigned", booking_id, DRIVER)


@pytest.mark.parametrize(("user", "roles"), [(OWNER, "customer"), (DRIVER, "driver")])
def test_customers_and_drivers_may_not_assign(dispatch: Dispatch, acme: Tenant, user: str, roles: str) -> None:
    booking_id = dispatch.book(OWNER)
    before = booking_items(acme)
    assert dispatch.assign(booking_id, DRIVER, user=user, roles=roles)["statusCode"] == 403
    assert booking_items(acme) == before


def test_a_role_granted_assign_but_not_manage_cannot_assign_a_booking(dispatch: Dispatch, acme: Tenant) -> None:
    booking_id = dispatch.book(OWNER)
    # The route's operation is granted, but the object rule is operators' only: like a missing booking.
    response = dispatch.assign(booking_id, DRIVER, user="planner-1", roles=PLANNER)
    assert response["statusCode"] == 404
    assert "driver_id" not in details_of(acme, booking_id)


def test_reassigning_moves_the_booking_to_the_new_driver(dispatch: Dispatch, acme: Tenant) -> None:
    booking_id = dispatch.booked(OWNER, DRIVER)
    response = dispatch.assign(booking_id, OTHER_DRIVER)
    assert response["statusCode"] == 200
    assert (response_json(response)["status"], details_of(acme, booking_id)["driver_id"]) == ("CONFIRMED", OTHER_DRIVER)
    assert get(dispatch, booking_id, DRIVER, "driver")["statusCode"] == 404
    assert get(dispatch, booking_id, OTHER_DRIVER, "driver")["statusCode"] == 200


def test_a_cancelled_booking_cannot_be_assigned(dispatch: Dispatch, acme: Tenant) -> None:
    booking_id = dispatch.book(OWNER)
    assert dispatch.send("POST", f"/bookings/{booking_id}/cancel")["statusCode"] == 200
    before = booking_items(acme)
    response = dispatch.assign(booking_id, DRIVER)
    assert response["statusCode"] == 409
    assert booking_items(acme) == before


def test_a_booking_cancelled_while_it_is_being_assigned_stays_cancelled(dispatch: Dispatch, acme: Tenant) -> None:
    booking_id = dispatch.book(OWNER)
    table = acme.resources["booking"]["bookings_table"]
    other_client = boto3.client("dynamodb", region_name=REGION)

    def cancel_first(**_: Any) -> None:
        # Another request cancels the booking after this one has read it as PENDING.
        other_client.update_item(
            TableName=table,
            Key={"pk": {"S": f"BOOKING#{booking_id}"}, "sk": {"S": "DETAILS"}},
            UpdateExpression="SET #s = :c",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":c": {"S": "CANCELLED"}},
        )

    events = dispatch.function.aws.client("dynamodb").meta.events
    events.register_first("before-call.dynamodb.TransactWriteItems", cancel_first)
    try:
        response = dispatch.assign(booking_id, DRIVER)
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", cancel_first)
    assert response["statusCode"] == 409
    stored = details_of(acme, booking_id)
    assert stored["status"] == "CANCELLED" and "driver_id" not in stored


def test_assigning_a_missing_booking_is_404_and_writes_nothing(dispatch: Dispatch, acme: Tenant) -> None:
    before = booking_items(acme)
    assert dispatch.assign(MISSING_ID, DRIVER)["statusCode"] == 404
    assert booking_items(acme) == before


# --- contact -------------------------------------------------------------------------------------


def test_the_contact_is_stored_as_a_map_and_shown_to_the_owner_only(dispatch: Dispatch, acme: Tenant) -> None:
    owner = "customer-with-contact"
    created = dispatch.send("POST", "/bookings", body=shipment(contact=CONTACT), user=owner, headers={"Idempotency-Key": "key-contact"})
    assert created["statusCode"] == 201
    booking_id = response_json(created)["booking_id"]
    assert response_json(created)["contact"] == CONTACT
    assert dispatch.assign(booking_id, DRIVER)["statusCode"] == 200
    assert details_of(acme, booking_id)["contact"] == CONTACT
    assert response_json(get(dispatch, booking_id, owner, "customer"))["contact"] == CONTACT
    for user, roles in [(DRIVER, "driver"), (DISPATCHER, "dispatcher")]:
        response = get(dispatch, booking_id, user, roles)
        assert response["statusCode"] == 200
        assert response_json(response)["contact"] is None
        assert CONTACT["email"] not in response["body"]
    # Lists are summaries: no contact, for the owner either, and none on the summary items.
    for query, user, roles in [({"scope": "mine"}, owner, "customer"), ({"scope": "tenant"}, DISPATCHER, "dispatcher")]:
        listed = dispatch.send("GET", "/bookings", query=query, user=user, roles=roles)
        assert booking_id in [item["booking_id"] for item in response_json(listed)["items"]]
        assert CONTACT["email"] not in listed["body"]
    assert [item["pk"].split("#")[0] for item in items_of(acme, booking_id) if "contact" in item] == ["BOOKING"]


# --- routes on no single object ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("POST", "/bookings/quote", {"distance_km": 1, "weight_kg": 1}), ("POST", "/bookings", shipment())],
    ids=["quote", "create"],
)
def test_quote_and_create_are_for_customers_not_drivers(dispatch: Dispatch, acme: Tenant, method: str, path: str, body: dict[str, Any]) -> None:
    headers = {"Idempotency-Key": f"key-roles-{path}"}
    before = booking_items(acme)
    assert dispatch.send(method, path, body=body, user=DRIVER, roles="driver", headers=headers)["statusCode"] == 403
    assert booking_items(acme) == before
    assert dispatch.send(method, path, body=body, headers=headers)["statusCode"] in (200, 201)


def test_a_customer_lists_their_own_bookings_and_only_operators_the_tenant(dispatch: Dispatch) -> None:
    lister = "customer-who-lists"
    mine, theirs = dispatch.book(lister), dispatch.book(OTHER_CUSTOMER)
    own = dispatch.send("GET", "/bookings", user=lister)
    assert [item["booking_id"] for item in response_json(own)["items"]] == [mine]
    assert dispatch.send("GET", "/bookings", query={"scope": "tenant"})["statusCode"] == 403
    tenant_wide = dispatch.send("GET", "/bookings", query={"scope": "tenant"}, user=DISPATCHER, roles="dispatcher")
    assert {mine, theirs} <= {item["booking_id"] for item in response_json(tenant_wide)["items"]}
