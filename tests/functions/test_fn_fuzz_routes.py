"""Property-based fuzzing of every API route, driven from the route manifests' declared models.

Every service with a ``routes.py`` is found (``ubertruck.contracts.service_packages_with``); each
route's ``body``, ``query`` and ``response`` models are imported from the service package. For each
route, hypothesis draws requests from the body and query models' JSON schemas, mutated or replaced
by hostile input (``fn_fuzz``), with path ids that are usually a seeded object's (so endpoints get
past their lookups) and an authorised principal, and calls the real handler on moto. For every
request:

- no 500, whatever the input;
- a 4xx writes nothing: the tenant's tables (but the audit table, which records every request)
  hold the same items and no event is published;
- a 2xx body validates against the route's response model, a 4xx/5xx body against the common
  ``ErrorResponse``.

Completeness: every route declares ``response=``, and every route whose endpoint reads the body
or the query string declares ``body=`` or ``query=`` (found by watching what the endpoint reads).

Examples per route are bounded (``EXAMPLES``), with no deadline: the file runs in seconds.
"""

from __future__ import annotations

import importlib
import json
import uuid
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import common.api
from common.errors import ErrorResponse
from common.routes import ApiRoute
from ubertruck.contracts import service_packages_with

from .conftest import REGION
from .fn_fuzz import body_text, path_value, query_values
from .fn_hostile import Platform, TenantState, shared_platform
from .fn_support import FakeLambdaContext, api_event, authorizer_for, import_handler, response_json
from .test_fn_booking_api import shipment

pytestmark = pytest.mark.xdist_group("fn_fuzz_routes")

#: Examples per route: enough to reach every model's fields and every hostile class a few times.
EXAMPLES = 25
MODULES = {service: import_handler(service) for service in service_packages_with("routes")}
ROUTES = [(service, route) for service, module in MODULES.items() for route in module.function.routes]
ROUTE_IDS = [f"{service}:{route.handler}" for service, route in ROUTES]
#: The principals the suite calls with: mostly an operator (granted every operation), and the
#: seeded objects' customer and driver.
OWNER = "user-1"
DRIVER = "driver-1"
PRINCIPALS = st.sampled_from(((OWNER, "admin"), (OWNER, "admin"), (OWNER, "customer"), (DRIVER, "driver")))
CONFIG_PATH = "global/compliance"


def model_of(service: str, reference: str | None) -> type[BaseModel] | None:
    """The pydantic model ``module:Class`` of ``service``'s package, as its handler imports it."""
    if reference is None:
        return None
    module, name = reference.split(":")
    model = getattr(importlib.import_module(f"{service}.{module}"), name)
    assert isinstance(model, type) and issubclass(model, BaseModel), f"{service} {reference} is not a pydantic model"
    return model


def schema_of(service: str, reference: str | None) -> dict[str, Any] | None:
    model = model_of(service, reference)
    return model.model_json_schema() if model is not None else None


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with shared_platform(tmp_path_factory.mktemp("fuzz"), REGION, MODULES) as platform:
        yield platform


@pytest.fixture
def seeded(platform: Platform) -> dict[str, str]:
    """A value per path parameter that names an existing object, made through the API itself for
    each test (a route's fuzzing may cancel, capture or refund them): a booking of the customer with
    a driver assigned, a payment authorised for it, a config path."""
    created = platform.call("booking", "POST", "/bookings", body=shipment(), headers={"Idempotency-Key": str(uuid.uuid4())}, user=OWNER, roles="customer")
    assert created["statusCode"] == 201, created["body"]
    booking = str(response_json(created)["booking_id"])
    assigned = platform.call("booking", "POST", f"/bookings/{booking}/assign", body={"driver_id": DRIVER}, path_parameters={"booking_id": booking}, resource="/bookings/{booking_id}/assign")
    assert assigned["statusCode"] == 200, assigned["body"]
    currency = platform.tenant.config["services"]["payment"]["business"]["business_rules"]["currency"]
    body = {"booking_id": booking, "amount_minor": 1000, "currency": currency}
    paid = platform.call("payment", "POST", "/payments/authorize", body=body, headers={"Idempotency-Key": str(uuid.uuid4())}, user=OWNER, roles="customer")
    assert paid["statusCode"] in (200, 201), paid["body"]
    return {"booking_id": booking, "payment_id": str(response_json(paid)["payment_id"]), "path": CONFIG_PATH}


def request_for(route: ApiRoute, service: str, seeded: dict[str, str]) -> st.SearchStrategy[dict[str, Any]]:
    """An API Gateway proxy event for ``route`` built from drawn parts."""
    parameters = st.fixed_dictionaries({name: path_value(seeded.get(name, name)) for name in route.parameters})
    return st.builds(
        _event,
        st.just(route),
        parameters,
        body_text(schema_of(service, route.body), bodiless=route.method == "GET"),
        query_values(schema_of(service, route.query)) if route.query or route.method == "GET" else st.just({}),
        PRINCIPALS,
        st.one_of(st.uuids().map(str), st.sampled_from(("k" * 5000, "key with spaces", "²"))),
        # API Gateway base64-encodes binary bodies; a body may also claim to be base64 and not be.
        st.sampled_from(("text", "text", "text", "base64", "claims-base64")),
    )


def _event(
    route: ApiRoute, parameters: dict[str, str], body: str | None, query: dict[str, str], principal: tuple[str, str], key: str, encoding: str = "text"
) -> dict[str, Any]:
    path = route.path
    for name, value in parameters.items():
        path = path.replace(f"{{{name}}}", value).replace(f"{{{name}+}}", value)
    user, roles = principal
    event = api_event(
        route.method,
        path,
        resource=route.path,
        raw_body=body,
        query=query or None,
        path_parameters=parameters or None,
        headers={"Idempotency-Key": key},
        authorizer=authorizer_for("acme", user, roles),
        base64_body=encoding == "base64",
    )
    if encoding == "claims-base64" and body:
        event["isBase64Encoded"] = True
    return event


# --- completeness: every route declares its contract ----------------------------------------------


@pytest.mark.parametrize(("service", "route"), ROUTES, ids=ROUTE_IDS)
def test_every_route_declares_a_response_model(service: str, route: ApiRoute) -> None:
    assert route.response is not None, f"{service} {route.key}: declare response= in {service}/routes.py"
    assert model_of(service, route.response) is not None
    for reference in (route.body, route.query):
        model_of(service, reference)


class EndpointReads(dict[str, Any]):
    """A proxy event that records which of its keys are read once the template has checked it
    (``common.api.check_body_limits`` is the last thing the template does before the endpoint)."""

    def __init__(self, event: dict[str, Any]) -> None:
        super().__init__(event)
        self.recording = False
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        if self.recording:
            self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        if self.recording:
            self.read.add(key)
        return super().__getitem__(key)


@pytest.mark.parametrize(("service", "route"), ROUTES, ids=ROUTE_IDS)
def test_every_route_that_reads_a_body_or_query_declares_its_model(platform: Platform, seeded: dict[str, str], service: str, route: ApiRoute, monkeypatch: pytest.MonkeyPatch) -> None:
    checked = common.api.check_body_limits

    def check_then_record(event: Any, limits: Any) -> None:
        checked(event, limits)
        event.recording = True

    monkeypatch.setattr(common.api, "check_body_limits", check_then_record)
    read: set[str] = set()
    for user, roles in ((OWNER, "admin"), (OWNER, "customer"), (DRIVER, "driver")):
        event = EndpointReads(_event(route, {name: seeded[name] for name in route.parameters}, json.dumps({}), {"limit": "1"}, (user, roles), str(uuid.uuid4())))
        platform.functions[service].lambda_handler(event, FakeLambdaContext())
        read |= event.read
    assert "body" not in read or route.body is not None, f"{service} {route.key} reads a body: declare body= in {service}/routes.py"
    assert "queryStringParameters" not in read or route.query is not None, f"{service} {route.key} reads its query: declare query= in {service}/routes.py"


# --- the properties --------------------------------------------------------------------------------


@pytest.mark.parametrize(("service", "route"), ROUTES, ids=ROUTE_IDS)
def test_no_input_is_a_500_no_refusal_writes_and_every_answer_fits_its_model(platform: Platform, seeded: dict[str, str], service: str, route: ApiRoute) -> None:
    response_model = model_of(service, route.response)
    function = platform.functions[service]
    # What the tenant held after the last request (earlier tests' events drained): a refusal must
    # leave it so; a success moves it on.
    known = [platform.state()]

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(event=request_for(route, service, seeded))
    def check(event: dict[str, Any]) -> None:
        platform.writes.clear()
        response = function.lambda_handler(event, FakeLambdaContext())
        status = int(response["statusCode"])
        # Without a write call (fn_hostile.watch_writes) nothing can have changed: skip the scan.
        before = known[0]
        after = known[0] = platform.state() if platform.writes else TenantState(items=before.items, events=[])
        assert status != 500, f"{route.key}: 500 for {event['path'][:200]!r} body {str(event['body'])[:200]!r}: {response['body'][:300]}"
        body = response_json(response)
        if status < 300:
            assert response_model is not None
            response_model.model_validate(body)
            return
        ErrorResponse.model_validate(body)
        if status < 500:
            assert after.items == before.items, f"{route.key}: {status} wrote to the tenant's tables"
            assert after.events == [], f"{route.key}: {status} published {len(after.events)} event(s)"

    check()

