"""The API function template (common.api) through a small demo service on the booking namespace:
tenant refusal, authorization, the error standard with its metrics, audit, logging, fallback,
idempotency and events."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from pydantic import BaseModel, Field

from common.access import ObjectParties, check_access
from common.api import ApiFunction, Endpoint, RouteMismatch
from common.config_schema import AuditedResources, ConfigModel, ServiceConfig, ServiceTechnical
from common.environment import FunctionEnvironment
from common.errors import Conflict, NotFound
from common.events import DomainEvent, EventPublisher
from common.idempotency import IdempotentCall
from common.request_scope import RequestScope
from common.routes import NO_OBJECT, AccessRule, ApiRoute, RouteManifest
from common.validation import parse_body

from .conftest import REGION
from .fn_support import (
    FakeLambdaContext,
    Tenant,
    api_event,
    authorizer_for,
    emitted_metrics,
    metric_names,
    metric_total,
    response_json,
    scan_all,
    set_in,
    ssm_outage,
    subscribe_to_events,
    tenant_config,
)


class DemoResources(AuditedResources):
    idempotency_table: str
    events_topic_arn: str


class DemoIntegration(ConfigModel):
    resources: DemoResources


class DemoPricing(ConfigModel):
    currency: str


class DemoBusiness(ConfigModel):
    pricing_models: DemoPricing


class DemoConfig(ServiceConfig):
    business: DemoBusiness
    technical: ServiceTechnical
    integration: DemoIntegration


#: The demo service's manifest, declared the way a service's ``routes.py`` declares one.
DEMO_ROUTES = RouteManifest(
    "booking",
    (
        ApiRoute("GET", "/items/{item_id}", "booking:read", "read_item", access=NO_OBJECT),
        ApiRoute("POST", "/items", "booking:create", "create_item", access=NO_OBJECT),
        ApiRoute("POST", "/widgets", "booking:create", "create_widget", access=NO_OBJECT),
        ApiRoute("GET", "/parcels/{parcel_id}", "booking:read", "read_parcel", access=AccessRule(object="parcel", manage="booking:manage", owner=True, assigned_driver=True)),
    ),
)
#: The demo's parcels: who owns each, and which driver is assigned to it.
PARCELS = {"p-1": ObjectParties(owner_id="u-owner", driver_id="u-driver")}
READ_ONLY_ROUTES = RouteManifest("booking", (DEMO_ROUTES.routes[0],))


class Widget(BaseModel):
    size: int = Field(gt=0)


CREATED: list[dict[str, Any]] = []


def read_item(scope: RequestScope[DemoConfig], item_id: str) -> tuple[dict[str, Any], int]:
    scope.resource_id = item_id
    if item_id == "missing":
        raise NotFound("no such item")
    if item_id == "clash":
        raise Conflict("item is busy")
    if item_id == "boom":
        raise RuntimeError("secret internal detail")
    return {"item_id": item_id, "currency": scope.config.business.pricing_models.currency}, 200


def read_parcel(scope: RequestScope[DemoConfig], parcel_id: str) -> tuple[dict[str, Any], int]:
    scope.resource_id = parcel_id
    if parcel_id != "unchecked":  # the bug the template guards against: no check before answering
        check_access(scope, PARCELS.get(parcel_id), "no such parcel")
    return {"parcel_id": parcel_id}, 200


def create_item(scope: RequestScope[DemoConfig]) -> tuple[dict[str, Any], int]:
    widget = parse_body(Widget, scope.event)
    return {"size": widget.size}, 201


def make_create_idempotent(function: ApiFunction[DemoConfig]) -> Any:
    runner = IdempotentCall(function.aws.client("dynamodb"), key_prefix="demo.create")

    def create_once(scope: RequestScope[DemoConfig]) -> tuple[dict[str, Any], int]:
        widget = parse_body(Widget, scope.event)

        def operation(payload: Any) -> dict[str, Any]:
            CREATED.append(dict(payload))
            EventPublisher(function.aws.client("sns")).publish(
                scope.config.integration.resources.events_topic_arn,
                DomainEvent(f"w-{len(CREATED)}", "widget.created", scope.tenant.tenant_id, _now(), scope.config_version, {"size": payload["size"]}),
            )
            return {"widget": len(CREATED)}

        result = runner.run(
            operation,
            table=scope.config.integration.resources.idempotency_table,
            key={"tenant": scope.tenant.tenant_id, "user": scope.tenant.user_id, "key": scope.header("Idempotency-Key") or ""},
            payload=widget.model_dump(mode="json"),
            expires_after_seconds=scope.config.technical.cache.max_age_seconds + 1,
            lambda_context=scope.lambda_context,
        )
        return result, 201

    return create_once


def _now() -> Any:
    from common.clock import utc_now

    return utc_now()


@pytest.fixture
def demo(acme: Tenant, code_root: Path) -> ApiFunction[DemoConfig]:
    CREATED.clear()
    acme.write_fallback(code_root, "booking")
    env = FunctionEnvironment(service="booking", environment="dev", tenant_id="acme")
    function = ApiFunction(env, DemoConfig, code_root=code_root)
    function.add_routes(DEMO_ROUTES, {"read_item": read_item, "create_item": create_item, "create_widget": make_create_idempotent(function), "read_parcel": read_parcel})
    return function


def read_only(code_root: Path) -> ApiFunction[DemoConfig]:
    """The demo function serving ``GET /items/{item_id}`` only."""
    function = ApiFunction(FunctionEnvironment("booking", "dev", "acme"), DemoConfig, code_root=code_root)
    function.add_routes(READ_ONLY_ROUTES, {"read_item": read_item})
    return function


def call(function: ApiFunction[DemoConfig], event: dict[str, Any]) -> dict[str, Any]:
    return function.lambda_handler(event, FakeLambdaContext())


def audit_items(tenant: Tenant) -> list[dict[str, Any]]:
    return scan_all(boto3.client("dynamodb", region_name=REGION), tenant.resources["booking"]["audit_table"])


def namespace(tenant: Tenant) -> str:
    return tenant.config["services"]["observability"]["technical"]["metrics"]["namespace"]


def test_happy_path_answers_audits_and_counts(demo: ApiFunction[DemoConfig], acme: Tenant, capsys: pytest.CaptureFixture[str]) -> None:
    event = api_event("GET", "/items/i-1", authorizer=authorizer_for("acme", "u-1", "customer"))
    response = call(demo, event)
    assert response["statusCode"] == 200
    assert response_json(response) == {"item_id": "i-1", "currency": acme.config["services"]["booking"]["business"]["pricing_models"]["currency"]}
    [record] = audit_items(acme)
    assert record["action"] == "booking:read"
    assert (record["tenant_id"], record["user_id"], record["request_id"]) == ("acme", "u-1", event["requestContext"]["requestId"])
    assert (record["outcome"], record["status_code"], record["resource_id"]) == ("success", 200, "i-1")
    assert record["config_version"] == demo.config.service_config().version
    assert record["global_config_version"] == demo.config.global_config().version
    days = acme.config["global"]["compliance"]["data_retention"]["days"]
    assert record["expires_at"] - record["occurred_epoch"] == days * 86_400
    [blob] = emitted_metrics(capsys.readouterr().out)
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == namespace(acme)
    assert (blob["tenant_id"], blob["environment"], blob["service"]) == ("acme", "dev", "booking")
    assert metric_total(blob, "OperationSuccess") == 1


def test_every_log_line_carries_the_function_tenant(demo: ApiFunction[DemoConfig]) -> None:
    stream = io.StringIO()
    # Powertools binds its handler to the stdout of the moment it was created; read it directly.
    previous = demo.logger.registered_handler.setStream(stream)
    try:
        call(demo, api_event("GET", "/items/boom", authorizer=authorizer_for("acme")))
        call(demo, api_event("GET", "/items/i-1", authorizer=authorizer_for("globex")))
    finally:
        demo.logger.registered_handler.setStream(previous)
    logs = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in logs] == ["unexpected error", "request refused"]
    assert all(line["tenant_id"] == "acme" for line in logs)


def test_foreign_tenant_is_refused_before_anything_is_read_or_written(demo: ApiFunction[DemoConfig], acme: Tenant, capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[str] = []
    demo.config.provider.client.meta.events.register("before-call.*.*", lambda model, **_: calls.append(model.name))
    response = call(demo, api_event("GET", "/items/i-1", authorizer=authorizer_for("globex", "u-9", "admin")))
    assert response["statusCode"] == 403
    assert response_json(response)["error"]["code"] == "forbidden"
    assert "globex" not in response["body"]
    assert calls == []  # no config read
    assert audit_items(acme) == []
    names = metric_names(capsys.readouterr().out)
    assert {"TenantMismatch", "AccessDenied"} <= set(names)


@pytest.mark.parametrize("authorizer", [None, authorizer_for(None), authorizer_for("acme", user_id=None)], ids=["no-context", "no-tenant-claim", "no-user"])
def test_missing_tenant_context_is_refused(demo: ApiFunction[DemoConfig], acme: Tenant, authorizer: Any) -> None:
    response = call(demo, api_event("GET", "/items/i-1", authorizer=authorizer))
    assert response["statusCode"] == 403
    assert audit_items(acme) == []


def test_role_without_the_operation_is_denied_and_audited(demo: ApiFunction[DemoConfig], acme: Tenant, capsys: pytest.CaptureFixture[str]) -> None:
    response = call(demo, api_event("POST", "/items", body={"size": 1}, authorizer=authorizer_for("acme", "u-2", "driver")))
    assert response["statusCode"] == 403
    [record] = audit_items(acme)
    assert (record["action"], record["outcome"]) == ("booking:create", "denied")
    assert "AccessDenied" in metric_names(capsys.readouterr().out)


def test_bad_input_is_400_with_details(demo: ApiFunction[DemoConfig], acme: Tenant, capsys: pytest.CaptureFixture[str]) -> None:
    response = call(demo, api_event("POST", "/items", body={"size": -3}, authorizer=authorizer_for("acme")))
    assert response["statusCode"] == 400
    error = response_json(response)["error"]
    assert error["details"][0]["field"] == "size"
    assert audit_items(acme)[0]["outcome"] == "rejected"
    assert "ValidationError" in metric_names(capsys.readouterr().out)


@pytest.mark.parametrize(("item", "status", "metric"), [("missing", 404, "NotFound"), ("clash", 409, "Conflict")])
def test_not_found_and_conflict_follow_the_standard(demo: ApiFunction[DemoConfig], capsys: pytest.CaptureFixture[str], item: str, status: int, metric: str) -> None:
    response = call(demo, api_event("GET", f"/items/{item}", authorizer=authorizer_for("acme")))
    assert response["statusCode"] == status
    assert metric in metric_names(capsys.readouterr().out)


def test_unexpected_error_is_500_with_request_id_and_no_trace(demo: ApiFunction[DemoConfig], acme: Tenant, capsys: pytest.CaptureFixture[str]) -> None:
    event = api_event("GET", "/items/boom", authorizer=authorizer_for("acme"))
    response = call(demo, event)
    assert response["statusCode"] == 500
    assert response_json(response) == {"error": {"code": "internal_error", "message": "internal server error", "request_id": event["requestContext"]["requestId"]}}
    assert "Traceback" not in response["body"] and "secret internal detail" not in response["body"]
    assert audit_items(acme)[0]["outcome"] == "error"
    assert "UnexpectedError" in metric_names(capsys.readouterr().out)


def test_unknown_route_is_404_and_audited(demo: ApiFunction[DemoConfig], acme: Tenant) -> None:
    response = call(demo, api_event("DELETE", "/items/i-1", authorizer=authorizer_for("acme")))
    assert response["statusCode"] == 404
    assert audit_items(acme)[0]["action"] == "unrouted"


def test_config_service_down_uses_fallback_and_emits_metric(provision_tenant: Any, code_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tenant = provision_tenant("acme", config=set_in(tenant_config("acme", "dev"), "global.operational.retry_policies.max_attempts", 1))
    tenant.write_fallback(code_root, "booking")
    function = read_only(code_root)
    ssm_outage(function.config.provider.client)
    response = call(function, api_event("GET", "/items/i-1", authorizer=authorizer_for("acme")))
    assert response["statusCode"] == 200
    assert response_json(response)["currency"] == tenant.config["services"]["booking"]["business"]["pricing_models"]["currency"]
    [record] = audit_items(tenant)
    assert record["config_version"] == "fallback"
    [blob] = emitted_metrics(capsys.readouterr().out)
    assert metric_total(blob, "ConfigurationError") >= 1
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == namespace(tenant)


def test_trace_is_annotated_with_tenant_and_operation(demo: ApiFunction[DemoConfig], monkeypatch: pytest.MonkeyPatch) -> None:
    annotations: dict[str, str] = {}
    monkeypatch.setattr(demo.obs.tracer, "put_annotation", lambda key, value: annotations.__setitem__(key, value))
    call(demo, api_event("GET", "/items/i-1", authorizer=authorizer_for("acme")))
    assert annotations == {"tenant_id": "acme", "operation": "booking:read"}


def test_without_observability_in_the_fallback_metrics_are_dropped_not_fatal(provision_tenant: Any, code_root: Path) -> None:
    tenant = provision_tenant("acme", config=set_in(tenant_config("acme", "dev"), "global.operational.retry_policies.max_attempts", 1))
    document = tenant.fallback_document("booking")
    del document["observability"]  # what a generator that omits the key packages
    (code_root / "fallback.json").write_text(json.dumps(document))
    function = read_only(code_root)
    stream = io.StringIO()
    previous = function.logger.registered_handler.setStream(stream)
    try:
        ssm_outage(function.config.provider.client)
        response = call(function, api_event("GET", "/items/i-1", authorizer=authorizer_for("acme")))
    finally:
        function.logger.registered_handler.setStream(previous)
    assert response["statusCode"] == 200
    messages = [json.loads(line)["message"] for line in stream.getvalue().splitlines()]
    assert "metrics dropped: no metrics namespace in config or fallback" in messages
    assert function.obs.metrics.metric_set == {}


def test_audit_can_be_switched_off_by_compliance_config(provision_tenant: Any, code_root: Path) -> None:
    tenant = provision_tenant("acme", config=set_in(tenant_config("acme", "dev"), "global.compliance.audit_requirements.enabled", False))
    tenant.write_fallback(code_root, "booking")
    function = read_only(code_root)
    assert call(function, api_event("GET", "/items/i-1", authorizer=authorizer_for("acme")))["statusCode"] == 200
    assert audit_items(tenant) == []


def test_idempotent_operation_runs_once_per_key_and_publishes_once(demo: ApiFunction[DemoConfig], acme: Tenant) -> None:
    drain = subscribe_to_events(acme, REGION)
    headers = {"Idempotency-Key": "k-1"}
    first = call(demo, api_event("POST", "/widgets", body={"size": 2}, headers=headers, authorizer=authorizer_for("acme")))
    second = call(demo, api_event("POST", "/widgets", body={"size": 2}, headers={"idempotency-key": "k-1"}, authorizer=authorizer_for("acme")))
    assert first["statusCode"] == second["statusCode"] == 201
    assert response_json(first) == response_json(second) == {"widget": 1}
    assert CREATED == [{"size": 2}]
    messages = drain()
    assert len(messages) == 1
    assert messages[0]["event_type"] == "widget.created" and messages[0]["tenant_id"] == "acme"


def test_same_key_with_another_payload_is_a_conflict(demo: ApiFunction[DemoConfig], acme: Tenant) -> None:
    call(demo, api_event("POST", "/widgets", body={"size": 2}, headers={"Idempotency-Key": "k-2"}, authorizer=authorizer_for("acme")))
    response = call(demo, api_event("POST", "/widgets", body={"size": 3}, headers={"Idempotency-Key": "k-2"}, authorizer=authorizer_for("acme")))
    assert response["statusCode"] == 409
    assert CREATED == [{"size": 2}]


def test_same_key_from_another_user_is_another_operation(demo: ApiFunction[DemoConfig], acme: Tenant) -> None:
    call(demo, api_event("POST", "/widgets", body={"size": 2}, headers={"Idempotency-Key": "k-3"}, authorizer=authorizer_for("acme", "u-1")))
    response = call(demo, api_event("POST", "/widgets", body={"size": 2}, headers={"Idempotency-Key": "k-3"}, authorizer=authorizer_for("acme", "u-2")))
    assert response_json(response) == {"widget": 2}
    assert len(CREATED) == 2


# --- registration from the manifest --------------------------------------------------------------


def _bare(code_root: Path) -> ApiFunction[DemoConfig]:
    return ApiFunction(FunctionEnvironment("booking", "dev", "acme"), DemoConfig, code_root=code_root)


def test_a_manifest_handler_without_an_endpoint_is_refused(acme: Tenant, code_root: Path) -> None:
    acme.write_fallback(code_root, "booking")
    handlers: dict[str, Endpoint] = {"read_item": read_item, "create_item": create_item, "read_parcel": read_parcel}
    with pytest.raises(RouteMismatch, match=r"no endpoint for \['create_widget'\]; no route for \[\]"):
        _bare(code_root).add_routes(DEMO_ROUTES, handlers)


def test_an_endpoint_that_no_route_names_is_refused(acme: Tenant, code_root: Path) -> None:
    acme.write_fallback(code_root, "booking")
    handlers: dict[str, Endpoint] = {"read_item": read_item, "create_item": create_item}
    with pytest.raises(RouteMismatch, match=r"no endpoint for \[\]; no route for \['create_item'\]"):
        _bare(code_root).add_routes(READ_ONLY_ROUTES, handlers)


def test_a_function_serves_one_manifest(acme: Tenant, code_root: Path) -> None:
    acme.write_fallback(code_root, "booking")
    function = read_only(code_root)
    with pytest.raises(RouteMismatch, match="registered already"):
        function.add_routes(READ_ONLY_ROUTES, {"read_item": read_item})
    assert function.routes == READ_ONLY_ROUTES.routes


def test_path_parameters_reach_the_endpoint_by_their_manifest_names(demo: ApiFunction[DemoConfig]) -> None:
    # The manifest's {item_id} becomes the resolver's <item_id>, which names read_item's argument.
    response = call(demo, api_event("GET", "/items/i-7", authorizer=authorizer_for("acme")))
    assert response["statusCode"] == 200
    assert response_json(response)["item_id"] == "i-7"


@pytest.mark.parametrize(
    "method, path, operation, handler, problem",
    [
        ("OPTIONS", "/items", "booking:read", "h", "the API adds OPTIONS"),
        ("get", "/items", "booking:read", "h", "expected one of"),
        ("GET", "items", "booking:read", "h", "leading '/'"),
        ("GET", "/items/", "booking:read", "h", "leading '/'"),
        ("GET", "/a//b", "booking:read", "h", "leading '/'"),
        ("GET", "/items/<item_id>", "booking:read", "h", "neither a literal nor a parameter"),
        ("GET", "/{rest+}/items", "booking:read", "h", "must be the last segment"),
        ("GET", "/{id}/x/{id}", "booking:read", "h", "appears twice"),
        ("GET", "/items", "read", "h", "expected service:action"),
        ("GET", "/items", "booking:read", "not-python", "expected the endpoint's Python name"),
    ],
)
def test_malformed_manifest_routes_are_refused(method: str, path: str, operation: str, handler: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        ApiRoute(method, path, operation, handler, access=NO_OBJECT)


def test_a_manifest_declares_each_method_and_path_once() -> None:
    route = DEMO_ROUTES.routes[0]
    with pytest.raises(ValueError, match="declared twice"):
        RouteManifest("booking", (route, ApiRoute(route.method, route.path, "booking:read", "other", access=NO_OBJECT)))


@pytest.mark.parametrize(
    "user, roles, status",
    [
        ("u-owner", "customer", 200),  # the owner
        ("u-other", "customer", 404),  # another customer of the same tenant: answered like a missing parcel
        ("u-driver", "driver", 200),  # the driver assigned to it
        ("u-driver-2", "driver", 404),  # a driver not assigned to it
        ("u-dispatch", "dispatcher", 200),  # an operator (granted booking:manage) reaches every parcel
    ],
)
def test_object_level_rule_admits_only_the_objects_parties(demo: ApiFunction[DemoConfig], acme: Tenant, user: str, roles: str, status: int) -> None:
    response = call(demo, api_event("GET", "/parcels/p-1", authorizer=authorizer_for("acme", user, roles)))
    assert response["statusCode"] == status
    if status == 404:
        assert response_json(response)["error"]["message"] == "no such parcel"
    [record] = audit_items(acme)
    assert (record["outcome"], record["status_code"]) == (("success", 200) if status == 200 else ("not_found", 404))


def test_a_missing_object_reads_like_a_forbidden_one(demo: ApiFunction[DemoConfig]) -> None:
    missing = call(demo, api_event("GET", "/parcels/p-404", authorizer=authorizer_for("acme", "u-owner", "customer")))
    forbidden = call(demo, api_event("GET", "/parcels/p-1", authorizer=authorizer_for("acme", "u-other", "customer")))
    assert (missing["statusCode"], response_json(missing)["error"]["message"]) == (forbidden["statusCode"], response_json(forbidden)["error"]["message"])


def test_an_endpoint_that_skips_its_object_check_is_a_500(demo: ApiFunction[DemoConfig], acme: Tenant, capsys: pytest.CaptureFixture[str]) -> None:
    response = call(demo, api_event("GET", "/parcels/unchecked", authorizer=authorizer_for("acme", "u-owner", "customer")))
    assert response["statusCode"] == 500
    assert audit_items(acme)[0]["outcome"] == "error"
    assert "UnexpectedError" in metric_names(capsys.readouterr().out)


def test_every_route_on_an_object_id_checks_the_caller_against_that_object() -> None:
    """A route whose path names an object (``{booking_id}``, ``{payment_id}``) declares a per-object rule."""
    from ubertruck.contracts import load_function_module, service_packages_with

    routes = [route for service in service_packages_with("routes") for route in load_function_module(service, "routes").ROUTES.routes]
    on_objects = [route for route in routes if any(name.endswith("_id") for name in route.parameters)]
    assert on_objects, "the services' manifests name object ids"
    assert [route.key for route in on_objects if not route.access.per_object] == []
