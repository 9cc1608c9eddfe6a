"""Bounded input of the tracking API (issue 10), through the real handlers on moto.

Each class of hostile input is answered 400 with a detail naming the field, and no position is
stored: path ids bounded in length, coordinates, speeds and headings JSON numbers (never
booleans, never beyond what any vehicle does or DynamoDB holds), page sizes parsed without
``str.isdigit``, cursors bounded in length.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
from pydantic import ValidationError

from common.bounds import ID_MAX_LENGTH, QUERY_VALUE_MAX_LENGTH
from tracking.config_schema import MAX_CLOCK_SKEW_CEILING_SECONDS, TrackingRules
from tracking.models import SPEED_CEILING_KMH

from .fn_bookings import DRIVER, OWNER
from .fn_support import FakeLambdaContext, api_event, authorizer_for, response_json
from .fn_tracking import Tracked, position, shared_tracked


# One tenant for the module (provisioning is most of a test's time); each test tracks a booking of its own.
pytestmark = pytest.mark.xdist_group("tracking-bounds")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tracked]:
    with shared_tracked(tmp_path_factory.mktemp("tracking-bounds")) as tracked:
        yield tracked


@pytest.fixture
def tracked(shared: Tracked) -> Tracked:
    return shared.fresh()


def fields_of(response: dict[str, Any]) -> set[str]:
    assert response["statusCode"] == 400, response["body"]
    return {detail["field"] for detail in response_json(response)["error"]["details"]}


@pytest.mark.parametrize("route", ["positions", "latest", "history"])
@pytest.mark.parametrize("booking_id", ["b" * (ID_MAX_LENGTH + 1), "bk_a%3Bb", "bk_ä"], ids=["longer-than-an-id", "punctuation", "non-ascii"])
def test_a_path_id_out_of_bounds_is_400_on_every_route(tracked: Tracked, route: str, booking_id: str) -> None:
    method = "POST" if route == "positions" else "GET"
    before = tracked.table("tracking")
    response = tracked.send(method, f"/tracking/{booking_id}/{route}", body=position() if method == "POST" else None)
    assert fields_of(response) == {"booking_id"}
    assert tracked.table("tracking") == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"lat": True}, "lat"),
        ({"lon": False}, "lon"),
        ({"speed_kmh": True}, "speed_kmh"),
        ({"heading_deg": True}, "heading_deg"),
        ({"lat": "19.07"}, "lat"),
        ({"speed_kmh": 1e300}, "speed_kmh"),
        ({"speed_kmh": SPEED_CEILING_KMH + 1}, "speed_kmh"),
        ({"lat": 1e300}, "lat"),
        ({"heading_deg": -1e-300}, "heading_deg"),
        ({"speed_kmh": 10**400}, "speed_kmh"),
        ({"recorded_at": "9999-12-31T23:59:59-05:00"}, "recorded_at"),
        ({"recorded_at": "0001-01-01T00:00:00+05:00"}, "recorded_at"),
        ({"recorded_at": True}, "recorded_at"),
    ],
    ids=[
        "boolean-latitude",
        "boolean-longitude",
        "boolean-speed",
        "boolean-heading",
        "text-latitude",
        "huge-speed",
        "faster-than-any-vehicle",
        "huge-latitude",
        "negative-heading",
        "400-digit-speed",
        "end-of-the-calendar",
        "start-of-the-calendar",
        "boolean-timestamp",
    ],
)
def test_numbers_out_of_bounds_or_not_numbers_are_400_and_nothing_is_stored(tracked: Tracked, overrides: dict[str, Any], field: str) -> None:
    assert field in fields_of(tracked.post(position(**overrides)))
    assert tracked.positions() == []


@pytest.mark.parametrize("token", ["1e400", "NaN", "Infinity"], ids=["overflows-to-infinity", "nan", "infinity"])
def test_non_finite_json_numbers_are_400(tracked: Tracked, token: str) -> None:
    # Python's json module reads 1e400 as inf and accepts NaN and Infinity; none is a coordinate.
    rest = {name: value for name, value in position().items() if name != "lat"}
    raw = f'{{"lat": {token}, ' + json.dumps(rest)[1:]
    event = api_event("POST", f"/tracking/{tracked.booking_id}/positions", raw_body=raw, authorizer=authorizer_for("acme", DRIVER, "driver"))
    assert fields_of(tracked.function.lambda_handler(event, FakeLambdaContext())) == {"lat"}
    assert tracked.positions() == []


def test_a_coordinate_too_small_for_dynamodb_is_stored_as_zero(tracked: Tracked) -> None:
    response = tracked.post(position(lat=1e-300, speed_kmh=5e-200))
    assert response["statusCode"] == 201
    assert (response_json(response)["lat"], response_json(response)["speed_kmh"]) == (0.0, 0.0)
    [stored] = tracked.positions()
    assert (stored["lat"], stored["speed_kmh"]) == (0, 0)


@pytest.mark.parametrize(
    "query",
    [{"limit": "²"}, {"limit": "٣"}, {"limit": "1" + "0" * 5000}, {"limit": "+5"}, {"limit": ""}, {"cursor": "x" * (QUERY_VALUE_MAX_LENGTH + 1)}, {"since": "x"}],
    ids=["superscript-digit", "arabic-indic-digit", "5000-digits", "sign", "empty", "huge-cursor", "unknown-parameter"],
)
def test_history_queries_out_of_bounds_are_400(tracked: Tracked, query: dict[str, str]) -> None:
    assert fields_of(tracked.history(user=OWNER, roles="customer", query=query)) == set(query)


@pytest.mark.parametrize(
    ("field", "value"), [("max_speed_kmh", SPEED_CEILING_KMH + 1), ("max_clock_skew_seconds", MAX_CLOCK_SKEW_CEILING_SECONDS + 1)], ids=["speed", "clock-skew"]
)
def test_config_cannot_set_a_limit_beyond_its_ceiling(field: str, value: int) -> None:
    rules = {"max_speed_kmh": 160, "max_clock_skew_seconds": 300, "history_page_size": 100}
    TrackingRules.model_validate(rules)
    with pytest.raises(ValidationError) as refused:
        TrackingRules.model_validate({**rules, field: value})
    assert [error["loc"] for error in refused.value.errors()] == [(field,)]
