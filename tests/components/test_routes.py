"""Route agreement: for every service with a route manifest, the API the offline plan creates,
the manifest and the routes the service's handler registers are one and the same.

The plan side is read from the API Gateway resources as the engine would create them (each
method's path rebuilt from its resource's ``pathPart`` chain, its function from its integration),
not from resource names, so a component that built a route some other way would show here.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any, Iterator

import pytest

from components.routes import ROUTES_MODULE, route_manifest
from platformctl.engine.capture import CapturedResource
from tests.components.conftest import DEFAULTS, Plan
from ubertruck.contracts import service_packages_with

RESOURCE = "aws:apigateway/resource:Resource"
METHOD = "aws:apigateway/method:Method"
INTEGRATION = "aws:apigateway/integration:Integration"
AUTHORIZER = "aws:apigateway/authorizer:Authorizer"
#: The API's own method for CORS preflights: in no manifest by design.
PREFLIGHT = "OPTIONS"
#: Where a function's name sits in an integration's invoke ARN (``...:function:<name>/invocations``).
FUNCTION_MARKER = ":function:"

SERVICES = service_packages_with(ROUTES_MODULE)


@dataclass(frozen=True, order=True)
class Served:
    """One route as any of the three parties sees it."""

    method: str
    path: str
    operation: str
    authorized: bool


def manifest_routes(service: str) -> set[Served]:
    return {Served(r.method, r.path, r.operation, r.authorized) for r in route_manifest(service).routes}


def _resource_path(resource_id: str, resources: dict[str, CapturedResource]) -> str:
    parts: list[str] = []
    while resource_id in resources:
        resource = resources[resource_id]
        parts.append(resource.inputs["pathPart"])
        resource_id = resource.inputs["parentId"]
    return "/" + "/".join(reversed(parts))


def plan_routes(plan: Plan) -> dict[str, set[Served]]:
    """Function name → the routes the plan's API sends to it (preflights left out)."""
    resources = {r.name: r for r in plan.of_type(RESOURCE)}
    (authorizer,) = plan.of_type(AUTHORIZER)
    integrations = {(i.inputs["resourceId"], i.inputs["httpMethod"]): i for i in plan.of_type(INTEGRATION)}
    served: dict[str, set[Served]] = {}
    for method in plan.of_type(METHOD):
        inputs = method.inputs
        if inputs["httpMethod"] == PREFLIGHT:
            continue
        authorized = inputs["authorization"] == "CUSTOM" and inputs.get("authorizerId") == authorizer.name
        route = Served(inputs["httpMethod"], _resource_path(inputs["resourceId"], resources), inputs.get("operationName", ""), authorized)
        uri = integrations[(inputs["resourceId"], inputs["httpMethod"])].inputs["uri"]
        function = uri.split(FUNCTION_MARKER, 1)[1].split("/", 1)[0]
        served.setdefault(function, set()).add(route)
    return served


# --- the handlers ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def handlers() -> Iterator[dict[str, Any]]:
    """Each API service's built function, imported the way Lambda imports its handler."""
    from tests.functions.fn_support import import_handler

    # Building a function makes boto3 clients (no calls): they need a region and credentials.
    # Fake ones, so nothing here can reach a real account.
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}.items():
            patch.setenv(name, value)
        region = DEFAULTS.platform.supported_regions[0]
        patch.setenv("AWS_REGION", region)
        patch.setenv("AWS_DEFAULT_REGION", region)
        patch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        modules: dict[str, ModuleType] = {service: import_handler(service) for service in SERVICES}
        yield {service: module.function for service, module in modules.items()}


# --- agreement ---------------------------------------------------------------------------------


def test_every_api_service_has_a_manifest() -> None:
    assert set(SERVICES) >= {"booking", "configuration", "payment", "tracking"}


@pytest.mark.parametrize("service", SERVICES)
def test_the_plan_creates_exactly_the_manifest_routes(any_plan: Plan, service: str) -> None:
    served = plan_routes(any_plan)
    assert served.get(f"{any_plan.prefix}-{service}-api") == manifest_routes(service)


def test_every_api_method_in_the_plan_comes_from_a_manifest(any_plan: Plan) -> None:
    in_plan = set().union(*plan_routes(any_plan).values())
    declared = set().union(*(manifest_routes(s) for s in SERVICES))
    assert in_plan == declared


@pytest.mark.parametrize("service", SERVICES)
def test_the_handler_registers_exactly_the_manifest_routes(handlers: dict[str, Any], service: str) -> None:
    registered = handlers[service].routes
    assert registered == route_manifest(service).routes
    assert {Served(r.method, r.path, r.operation, r.authorized) for r in registered} == manifest_routes(service)


def test_every_manifest_route_is_behind_the_authorizer() -> None:
    # The policy packs refuse an unauthorized method; a manifest that asked for one fails here first.
    for service in SERVICES:
        assert all(r.authorized for r in route_manifest(service).routes), service


def test_an_unknown_service_has_no_manifest() -> None:
    with pytest.raises(ModuleNotFoundError, match="no service package functions/nosuch"):
        route_manifest("nosuch")
