"""Bounded input through the real handlers on moto: every violation is a 400 or 413 with details,
never a 500, and nothing is written.

The body caps (``global/operational/request_limits``) are the API template's and hold for every
route that takes a body, found from the services' manifests; the other classes (booleans as
numbers, numbers beyond any bound, Unicode and huge page sizes, oversized ids) are tried on the
routes where each kind of value is accepted.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Callable, Iterator

import pytest

from common.errors import ErrorResponse
from common.routes import ApiRoute

from .conftest import REGION
from .fn_hostile import Platform, handlers, shared_platform
from .fn_support import FakeLambdaContext, Tenant, api_event, authorizer_for, metric_names, response_json
from .test_fn_payment_api import add_booking

MODULES = handlers()
BODY_ROUTES = [(service, route) for service, module in MODULES.items() for route in module.function.routes if route.method != "GET"]
#: An id far beyond any store's key limit (DynamoDB keys: 2,048 bytes).
HUGE_ID = "b" * 5000
FORTY_DIGITS = 10**40


#: A booking every per-object route can find: its customer is user-1, its driver driver-1.
BOOKING = "bk-1"


pytestmark = pytest.mark.xdist_group("fn_input_bounds")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with shared_platform(tmp_path_factory.mktemp("bounds"), REGION, MODULES) as platform:
        add_booking(platform.tenant, BOOKING, owner="user-1", driver="driver-1")
        yield platform


def concrete(route: ApiRoute, value: str = BOOKING) -> tuple[str, dict[str, str]]:
    """The request path of ``route`` with every parameter set to ``value``, and the parameters."""
    parameters = dict.fromkeys(route.parameters, value)
    path = route.path
    for name in route.parameters:
        path = path.replace(f"{{{name}}}", value)
    return path, parameters


def send(platform: Platform, service: str, route: ApiRoute, *, value: str = BOOKING, **options: Any) -> dict[str, Any]:
    path, parameters = concrete(route, value)
    return platform.call(service, route.method, path, resource=route.path, path_parameters=parameters or None, **options)


def route_of(service: str, handler: str) -> ApiRoute:
    return next(route for route in MODULES[service].function.routes if route.handler == handler)


def refused(response: dict[str, Any], status: int = 400) -> list[dict[str, str]]:
    """The details of a refusal with ``status``; the body is an ``ErrorResponse``."""
    assert response["statusCode"] == status, response["body"][:300]
    error = ErrorResponse.model_validate(response_json(response)).error
    assert error.details, "a refusal names what is wrong"
    return [detail.model_dump() for detail in error.details]


def limits(tenant: Tenant) -> dict[str, int]:
    return dict(tenant.config["global"]["operational"]["request_limits"])


# --- the template's body caps, on every route that takes a body ------------------------------------


@pytest.mark.parametrize(("service", "route"), BODY_ROUTES, ids=[f"{s}:{r.handler}" for s, r in BODY_ROUTES])
def test_an_oversized_body_is_413_and_writes_nothing(platform: Platform, service: str, route: ApiRoute, capsys: pytest.CaptureFixture[str]) -> None:
    before = platform.state()
    body = json.dumps({"padding": "x" * limits(platform.tenant)["body_max_bytes"]})
    [detail] = refused(send(platform, service, route, raw_body=body, headers={"Idempotency-Key": "k-big"}), 413)
    assert (detail["field"], detail["type"]) == ("body", "too_large")
    after = platform.state()
    assert after.items == before.items and after.events == []
    assert "UnexpectedError" not in metric_names(capsys.readouterr().out)


@pytest.mark.parametrize(("service", "route"), BODY_ROUTES, ids=[f"{s}:{r.handler}" for s, r in BODY_ROUTES])
def test_100000_nested_arrays_are_400_without_a_traceback(platform: Platform, service: str, route: ApiRoute, capsys: pytest.CaptureFixture[str]) -> None:
    before = platform.state()
    deep = "[" * 100_000 + "]" * 100_000
    assert len(deep) <= limits(platform.tenant)["body_max_bytes"], "within the size cap: only the depth cap can refuse it"
    [detail] = refused(send(platform, service, route, raw_body=deep, headers={"Idempotency-Key": "k-deep"}))
    assert (detail["field"], detail["type"]) == ("body", "json_too_deep")
    output = capsys.readouterr().out
    assert "Traceback" not in output and "RecursionError" not in output and "UnexpectedError" not in metric_names(output)
    after = platform.state()
    assert after.items == before.items and after.events == []


def test_the_depth_cap_counts_nesting_not_brackets_inside_strings(platform: Platform) -> None:
    depth = limits(platform.tenant)["body_max_depth"]
    route = route_of("booking", "quote")
    at_cap = {"distance_km": 10, "weight_kg": 100, "note": "[" * 1000}
    nested: Any = at_cap
    for _ in range(depth - 1):
        nested = [nested]
    # At the cap the body is parsed (and refused by the model, not by the cap); one deeper it is not.
    assert "json_too_deep" not in [d["type"] for d in refused(send(platform, "booking", route, body=nested))]
    assert [d["type"] for d in refused(send(platform, "booking", route, body=[nested]))] == ["json_too_deep"]


def test_a_base64_body_is_capped_before_it_is_decoded(platform: Platform) -> None:
    route = route_of("booking", "quote")
    text = base64.b64encode(b"{" + b" " * limits(platform.tenant)["body_max_bytes"] + b"}").decode()
    path, _ = concrete(route)
    event = api_event("POST", path, raw_body=text, base64_body=False, authorizer=authorizer_for("acme", "user-1", "admin"))
    event["isBase64Encoded"] = True
    [detail] = refused(platform.functions["booking"].lambda_handler(event, FakeLambdaContext()), 413)
    assert detail["field"] == "body"


# --- numbers ---------------------------------------------------------------------------------------


def quote_body(**overrides: Any) -> dict[str, Any]:
    return {"distance_km": 12.5, "weight_kg": 800, "surcharges": [], **overrides}


def position_body(**overrides: Any) -> dict[str, Any]:
    return {"lat": 19.07, "lon": 72.87, "speed_kmh": 40, "recorded_at": "2026-01-01T10:00:00+00:00", **overrides}


NUMBER_CASES: list[tuple[str, str, Callable[..., dict[str, Any]], str]] = [
    ("booking", "quote", quote_body, "distance_km"),
    ("booking", "quote", quote_body, "weight_kg"),
    ("tracking", "ingest", position_body, "lat"),
    ("tracking", "ingest", position_body, "speed_kmh"),
]


@pytest.mark.parametrize(("service", "handler", "body", "field"), NUMBER_CASES, ids=[f"{s}:{f}" for s, _, _, f in NUMBER_CASES])
@pytest.mark.parametrize("value", [True, False, FORTY_DIGITS, -FORTY_DIGITS, 1e308], ids=["true", "false", "40-digits", "minus-40-digits", "1e308"])
def test_booleans_and_numbers_beyond_any_bound_are_400(platform: Platform, service: str, handler: str, body: Callable[..., dict[str, Any]], field: str, value: Any) -> None:
    before = platform.state()
    details = refused(send(platform, service, route_of(service, handler), body=body(**{field: value})))
    assert [d["field"] for d in details] == [field]
    assert platform.state().items == before.items


@pytest.mark.parametrize("value", [True, FORTY_DIGITS, "1000"], ids=["true", "40-digits", "text"])
def test_payment_amounts_are_bounded_json_integers(platform: Platform, value: Any) -> None:
    currency = platform.tenant.config["services"]["payment"]["business"]["business_rules"]["currency"]
    body = {"booking_id": BOOKING, "amount_minor": value, "currency": currency}
    details = refused(send(platform, "payment", route_of("payment", "authorize"), body=body, headers={"Idempotency-Key": "k-amount"}))
    assert [d["field"] for d in details] == ["amount_minor"]
    assert platform.provider.calls == []


# --- page sizes ----------------------------------------------------------------------------------

PAGE_SIZES = ["²", "٣", "１０", "9" * 5000, "1" + "0" * 4999, "0", "-1", "1e3", " 5", ""]


@pytest.mark.parametrize(("service", "handler"), [("booking", "list_bookings"), ("tracking", "history")])
@pytest.mark.parametrize("limit", PAGE_SIZES, ids=["superscript-2", "arabic-3", "fullwidth-10", "5000-nines", "5000-digits", "zero", "negative", "exponent", "space", "empty"])
def test_page_sizes_are_ascii_digits_within_the_configured_maximum(platform: Platform, service: str, handler: str, limit: str, capsys: pytest.CaptureFixture[str]) -> None:
    details = refused(send(platform, service, route_of(service, handler), query={"limit": limit}))
    assert [d["field"] for d in details] == ["limit"]
    assert "UnexpectedError" not in metric_names(capsys.readouterr().out)


# --- ids -------------------------------------------------------------------------------------------

#: A body each per-object route would accept, so that only its path id is wrong.
VALID_BODIES: dict[str, Any] = {"refund": {"amount_minor": 100}, "capture": {}, "assign": {"driver_id": "driver-1"}, "ingest": position_body(), "cancel": None}
ID_ROUTES = [(service, route) for service, module in MODULES.items() for route in module.function.routes if route.parameters and service != "configuration"]


@pytest.mark.parametrize(("service", "route"), ID_ROUTES, ids=[f"{s}:{r.handler}" for s, r in ID_ROUTES])
@pytest.mark.parametrize("value", [HUGE_ID, "bk 1", "bk.1"], ids=["5000-chars", "space", "dot"])
def test_oversized_or_malformed_path_ids_are_400(platform: Platform, service: str, route: ApiRoute, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = platform.state()
    body = VALID_BODIES.get(route.handler) if route.method != "GET" else None
    details = refused(send(platform, service, route, value=value, body=body, headers={"Idempotency-Key": "k-id"}))
    assert route.parameters[0] in [d["field"] for d in details]
    assert platform.state().items == before.items
    assert "UnexpectedError" not in metric_names(capsys.readouterr().out)


def test_an_oversized_body_id_is_400(platform: Platform) -> None:
    currency = platform.tenant.config["services"]["payment"]["business"]["business_rules"]["currency"]
    body = {"booking_id": HUGE_ID, "amount_minor": 1000, "currency": currency}
    details = refused(send(platform, "payment", route_of("payment", "authorize"), body=body, headers={"Idempotency-Key": "k-big-id"}))
    assert [d["field"] for d in details] == ["booking_id"]
    assert platform.provider.calls == []
