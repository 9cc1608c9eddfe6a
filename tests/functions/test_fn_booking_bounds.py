"""Bounded input of the booking API (issue 10), through the real handler on moto.

Each class of hostile input is answered 400 with a detail naming the field, and nothing is
written: no booking item, no idempotency record, no event. Ids are bounded in length and shape,
quantities in digits, coordinates are JSON numbers (never booleans), lists in length, the contact
in format, and page sizes are parsed without ``str.isdigit`` (Unicode digits, 5,000 digits).
"""

from __future__ import annotations

import uuid
from typing import Any, Callable, Iterator

import boto3
import pytest
from pydantic import ValidationError

from booking.config_schema import BookingConfig
from common.bounds import ID_MAX_LENGTH, QUERY_VALUE_MAX_LENGTH

from .conftest import REGION
from .fn_bookings import DISPATCHER, DRIVER, OWNER, Dispatch, booking_items, details_of, shared_dispatch, shipment
from .fn_support import response_json, scan_all, subscribe_to_events, tenant_config

LONG_ID = "bk_" + "a" * ID_MAX_LENGTH


# One tenant for the module (provisioning is most of a test's time); each test compares the
# tables before and after its own requests.
pytestmark = pytest.mark.xdist_group("booking-bounds")


@pytest.fixture(scope="module")
def dispatch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dispatch]:
    with shared_dispatch(tmp_path_factory.mktemp("booking-bounds")) as dispatch:
        yield dispatch


@pytest.fixture
def nothing_written(dispatch: Dispatch) -> Callable[[], None]:
    """After the test's requests: no new booking item, idempotency record or event."""
    tenant = dispatch.tenant
    events = subscribe_to_events(tenant, REGION)

    def idempotency_records() -> list[dict[str, Any]]:
        return scan_all(boto3.client("dynamodb", region_name=REGION), tenant.resources["booking"]["idempotency_table"])

    before = (booking_items(tenant), idempotency_records())

    def check() -> None:
        assert (booking_items(tenant), idempotency_records()) == before
        assert events() == []

    return check


def fields_of(response: dict[str, Any]) -> set[str]:
    assert response["statusCode"] == 400, response["body"]
    return {detail["field"] for detail in response_json(response)["error"]["details"]}


def create(dispatch: Dispatch, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    return dispatch.send("POST", "/bookings", body=body, headers={"Idempotency-Key": key or f"key-{uuid.uuid4().hex}"})


# --- ids -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("GET", "", None), ("POST", "/cancel", None), ("POST", "/assign", {"driver_id": DRIVER})],
    ids=["get", "cancel", "assign"],
)
@pytest.mark.parametrize("booking_id", [LONG_ID, "bk_UPPER", "bk_a%3Bb"], ids=["longer-than-an-id", "not-base32", "punctuation"])
def test_a_path_id_out_of_bounds_is_400(dispatch: Dispatch, nothing_written: Callable[[], None], method: str, suffix: str, body: Any, booking_id: str) -> None:
    response = dispatch.send(method, f"/bookings/{booking_id}{suffix}", body=body, user=DISPATCHER, roles="dispatcher")
    assert fields_of(response) == {"booking_id"}
    nothing_written()


@pytest.mark.parametrize(
    "driver_id",
    ["d" * (ID_MAX_LENGTH + 1), "", "driver 1", "driver#1", 12345, True, None, ["driver-1"]],
    ids=["too-long", "empty", "space", "key-separator", "number", "boolean", "null", "list"],
)
def test_an_assigned_driver_id_out_of_bounds_is_400_and_changes_nothing(dispatch: Dispatch, driver_id: Any) -> None:
    acme = dispatch.tenant
    booking_id = dispatch.book(OWNER)
    before = booking_items(acme)
    response = dispatch.send("POST", f"/bookings/{booking_id}/assign", body={"driver_id": driver_id}, user=DISPATCHER, roles="dispatcher")
    assert fields_of(response) == {"driver_id"}
    assert booking_items(acme) == before and "driver_id" not in details_of(acme, booking_id)


def test_an_idempotency_key_longer_than_an_id_is_400(dispatch: Dispatch, nothing_written: Callable[[], None]) -> None:
    assert fields_of(create(dispatch, shipment(), key="k" * (ID_MAX_LENGTH + 1))) == {"Idempotency-Key"}
    nothing_written()


# --- numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"distance_km": "1" + "0" * 40}, "distance_km"),
        ({"distance_km": 1e300}, "distance_km"),
        ({"weight_kg": "9" * 5000}, "weight_kg"),
        ({"distance_km": "12.0001"}, "distance_km"),
        ({"distance_km": "1e-9"}, "distance_km"),
        ({"distance_km": True}, "distance_km"),
        ({"weight_kg": False}, "weight_kg"),
        ({"distance_km": "NaN"}, "distance_km"),
        ({"pickup": {"lat": True, "lon": 72.8}}, "pickup.lat"),
        ({"dropoff": {"lat": 18.5, "lon": "73.8"}}, "dropoff.lon"),
        ({"pickup": {"lat": 1e300, "lon": 72.8}}, "pickup.lat"),
        ({"pickup_at": True}, "pickup_at"),
    ],
    ids=[
        "40-digit-distance",
        "huge-float-distance",
        "5000-digit-weight",
        "sub-metre-distance",
        "tiny-distance",
        "boolean-distance",
        "boolean-weight",
        "nan-distance",
        "boolean-latitude",
        "text-longitude",
        "huge-latitude",
        "boolean-pickup-time",
    ],
)
def test_numbers_out_of_bounds_or_not_numbers_are_400(dispatch: Dispatch, nothing_written: Callable[[], None], overrides: dict[str, Any], field: str) -> None:
    assert field in fields_of(create(dispatch, shipment(**overrides)))
    assert field.split(".")[0] in fields_of(dispatch.send("POST", "/bookings/quote", body={"distance_km": 1, "weight_kg": 1, **overrides}))
    nothing_written()


def test_a_decimal_is_stored_as_its_exact_positional_text(dispatch: Dispatch) -> None:
    acme = dispatch.tenant
    response = create(dispatch, shipment(distance_km="1.25E+2", weight_kg=800.5))
    assert response["statusCode"] == 201
    stored = details_of(acme, response_json(response)["booking_id"])
    assert (stored["distance_km"], stored["weight_kg"]) == ("125", "800.5")


def test_a_coordinate_too_small_for_dynamodb_is_stored_as_zero(dispatch: Dispatch) -> None:
    acme = dispatch.tenant
    # 1e-300 is a valid latitude, but DynamoDB holds no magnitude below 1e-130: stored to 7 places.
    response = create(dispatch, shipment(pickup={"lat": 1e-300, "lon": 72.87771234567}))
    assert response["statusCode"] == 201
    pickup = details_of(acme, response_json(response)["booking_id"])["pickup"]
    assert (pickup["lat"], str(pickup["lon"])) == (0, "72.8777123")


@pytest.mark.parametrize("pickup_at", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"], ids=["end-of-the-calendar", "start-of-the-calendar"])
def test_a_pickup_time_beyond_the_booking_horizon_is_400(dispatch: Dispatch, nothing_written: Callable[[], None], pickup_at: str) -> None:
    assert fields_of(create(dispatch, shipment(pickup_at=pickup_at))) == {"pickup_at"}
    nothing_written()


# --- strings and lists ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("surcharges", "field"),
    [(["night"] * 33, "surcharges"), (["n" * 65], "surcharges.0"), ([7], "surcharges.0"), (["Night!"], "surcharges.0"), ("night", "surcharges")],
    ids=["too-many", "name-too-long", "not-text", "not-a-config-key", "not-a-list"],
)
def test_surcharges_out_of_bounds_are_400(dispatch: Dispatch, nothing_written: Callable[[], None], surcharges: Any, field: str) -> None:
    assert fields_of(create(dispatch, shipment(surcharges=surcharges))) == {field}
    nothing_written()


@pytest.mark.parametrize(
    ("contact", "field"),
    [
        ({"email": "a" * 250 + "@example.com"}, "contact.email"),
        ({"email": "not-an-address"}, "contact.email"),
        ({"email": "asha@例え.jp"}, "contact.email"),
        ({"email": 42}, "contact.email"),
        ({"phone": "9800000001"}, "contact.phone"),
        ({"phone": "+91" + "9" * 20}, "contact.phone"),
        ({"phone": 919800000001}, "contact.phone"),
        ({}, "contact"),
        ({"email": "asha@example.com", "address": "Mumbai"}, "contact.address"),
    ],
    ids=["email-too-long", "email-no-at", "email-non-ascii", "email-number", "phone-no-plus", "phone-too-long", "phone-number", "empty", "unknown-field"],
)
def test_a_contact_out_of_bounds_is_400(dispatch: Dispatch, nothing_written: Callable[[], None], contact: dict[str, Any], field: str) -> None:
    assert fields_of(create(dispatch, shipment(contact=contact))) == {field}
    nothing_written()


# --- page sizes and cursors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "²"},
        {"limit": "٣"},
        {"limit": "1" + "0" * 5000},
        {"limit": "-1"},
        {"limit": " 5"},
        {"limit": "5.0"},
        {"limit": ""},
        {"cursor": "x" * (QUERY_VALUE_MAX_LENGTH + 1)},
        {"scope": "everyone"},
        {"page": "2"},
    ],
    ids=["superscript-digit", "arabic-indic-digit", "5000-digits", "negative", "space", "fraction", "empty", "huge-cursor", "unknown-scope", "unknown-parameter"],
)
def test_list_queries_out_of_bounds_are_400(dispatch: Dispatch, nothing_written: Callable[[], None], query: dict[str, str]) -> None:
    assert fields_of(dispatch.send("GET", "/bookings", query=query)) == set(query)
    nothing_written()


def test_config_cannot_name_a_surcharge_or_a_limit_requests_could_not_reach() -> None:
    service = tenant_config("acme", "dev")["services"]["booking"]
    business = service["business"]
    pricing = {**business["pricing_models"], "surcharges": {"Night Shift": 100}}
    rules = {**business["business_rules"], "max_distance_km": 1e13}
    resources = {"bookings_table": "t", "audit_table": "a", "idempotency_table": "i", "events_topic_arn": "arn:aws:sns:ap-south-1:1:t"}
    document = {**service, "business": {**business, "pricing_models": pricing, "business_rules": rules}, "integration": {"resources": resources}}
    with pytest.raises(ValidationError) as refused:
        BookingConfig.model_validate(document)
    assert {error["loc"][:3] for error in refused.value.errors()} == {("business", "pricing_models", "surcharges"), ("business", "business_rules", "max_distance_km")}
