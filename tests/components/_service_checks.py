"""A tenant program with the business services, planned offline, and ways to read the plan.

The program composes the services the way ``TenantPlatform`` does (key, layer, shared tables,
the provider secret, then booking, tracking, payment and notification), without the shared
stack reference, so the services are checked on their own. Plans are cached per tenant stack:
each test module plans once.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from functools import lru_cache
from typing import Any, Callable, Iterable

import pulumi
import pulumi_aws as aws

from components.booking import BookingService, BookingServiceArgs
from components.context import TenantContext
from components.layer import CommonLayer
from components.notification import NotificationService, NotificationServiceArgs
from components.payment import PaymentService, PaymentServiceArgs
from components.tables import TenantDataStores
from components.tenant_key import TenantKey, TenantKeyArgs
from components.tracking import TrackingService, TrackingServiceArgs
from platformctl.engine.capture import CapturedResource
from platformctl.engine.runner import StackRun, run_stack
from platformctl.registry.loader import load_tenant, tenant_file
from platformctl.settings import TenantSettings, tenant_settings

ACCOUNT = "123456789012"
PROJECT = "ubertruck"


def alarm_topic_arn(settings: TenantSettings) -> str:
    """Stands in for the shared stack's alarm topic (not what these tests are about)."""
    return f"arn:aws:sns:{settings.region}:{ACCOUNT}:{settings.environment}-alarms"


def business_program(settings: TenantSettings) -> Callable[[], None]:
    """The tenant program, reduced to what the business services need."""

    def program() -> None:
        prefix = settings.prefix
        provider = aws.Provider(f"{prefix}-aws", region=settings.region)
        scoped = pulumi.ResourceOptions(providers={"aws": provider})
        key = TenantKey(f"{prefix}-key", TenantKeyArgs(settings, ACCOUNT), opts=scoped)
        layer = CommonLayer(f"{prefix}-layer", settings, opts=scoped)
        ctx = TenantContext(settings=settings, account_id=ACCOUNT, key_arn=key.arn, alarm_topic_arn=alarm_topic_arn(settings), layer_arn=layer.arn)
        stores = TenantDataStores(f"{prefix}-data", ctx, opts=scoped)
        # What the secrets service publishes: one ARN per registry ``secrets`` entry.
        secret_arns = {
            ref_key: aws.secretsmanager.Secret(f"{prefix}-secret-{ref_key}", name=f"{prefix}/{ref.secret_name}", kms_key_id=key.arn, opts=scoped).arn
            for ref_key, ref in settings.tenant.secrets.items()
        }
        booking = BookingService(f"{prefix}-booking", BookingServiceArgs(ctx, stores), opts=scoped)
        tracking = TrackingService(f"{prefix}-tracking", TrackingServiceArgs(ctx, stores), opts=scoped)
        payment = PaymentService(f"{prefix}-payment", PaymentServiceArgs(ctx, stores, secret_arns), opts=scoped)
        notification = NotificationService(
            f"{prefix}-notification",
            NotificationServiceArgs(ctx, stores, {"booking-events": booking.events_topic, "payment-events": payment.events_topic}),
            opts=scoped,
        )
        pulumi.export("kms_key_arn", key.arn)
        routes = [*booking.routes, *tracking.routes, *payment.routes]
        pulumi.export("routes", [r.key for r in routes])
        for component in (booking, tracking, payment, notification):
            for name, value in component.outputs.items():
                pulumi.export(name, value)

    return program


def settings_for(tenant_id: str, environment: str) -> TenantSettings:
    return tenant_settings(load_tenant(tenant_file(tenant_id)), environment)


def with_config(settings: TenantSettings, change: Callable[[dict[str, Any]], None]) -> TenantSettings:
    """``settings`` with ``change`` applied to a copy of its merged config tree."""
    config = copy.deepcopy(settings.config)
    change(config)
    return dataclasses.replace(settings, config=config)


def plan_settings(settings: TenantSettings) -> "Plan":
    """The offline plan of the business services for ``settings`` (not cached)."""
    run = run_stack(settings.prefix, PROJECT, ACCOUNT, settings.region, {}, "organization", program=business_program(settings), config={})
    return Plan(settings, run)


@lru_cache(maxsize=8)
def planned(tenant_id: str, environment: str) -> "Plan":
    """The offline plan of ``<tenant_id>-<environment>`` with the business services (cached)."""
    return plan_settings(settings_for(tenant_id, environment))


class Plan:
    """Lookups over one captured plan."""

    def __init__(self, settings: TenantSettings, run: StackRun) -> None:
        self.settings = settings
        self.run = run
        self.resources = run.resources

    @property
    def prefix(self) -> str:
        return self.settings.prefix

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.settings.region}:{ACCOUNT}:{resource}"

    def by_name(self, name: str, type_: str | None = None) -> CapturedResource:
        """The one resource called ``name`` (of ``type_``, where a component shares the name)."""
        matches = [r for r in self.resources if r.name == name and (type_ is None or r.type == type_)]
        assert len(matches) == 1, f"expected one resource named {name}, found {len(matches)}"
        return matches[0]

    def of_type(self, type_: str) -> list[CapturedResource]:
        return [r for r in self.resources if r.type == type_]

    def under(self, component_type: str) -> list[CapturedResource]:
        """Every resource below the (one) component of ``component_type``."""
        return [r for r in self.resources if f"{component_type}$" in r.urn]

    @property
    def key_arn(self) -> str:
        return self.run.outputs["kms_key_arn"]

    def routes(self, first_segment: str) -> list[str]:
        """The planned routes (``METHOD /path``) whose path starts with ``/<first_segment>``."""
        return [r for r in self.run.outputs["routes"] if r.split(" ", 1)[1].split("/")[1] == first_segment]

    def function(self, service: str, function: str) -> CapturedResource:
        return self.by_name(f"{self.prefix}-{service}-{function}", "aws:lambda/function:Function")

    def role_policy(self, service: str) -> dict[str, Any]:
        """The inline policy document of the service's role."""
        return json.loads(self.by_name(f"{self.prefix}-{service}-policy").inputs["policy"])

    def grants(self, service: str) -> dict[str, set[str]]:
        """Action → the resources the service's role may use it on."""
        allowed: dict[str, set[str]] = {}
        for statement in self.role_policy(service)["Statement"]:
            assert statement["Effect"] == "Allow"
            for action in statement["Action"]:
                allowed.setdefault(action, set()).update(statement["Resource"])
        return allowed

    def published_resources(self, service: str) -> dict[str, str]:
        path = f"/{self.settings.tenant_id}/services/{service}/{self.settings.environment}/integration/resources"
        params = [r for r in self.of_type("aws:ssm/parameter:Parameter") if r.inputs.get("name") == path]
        assert len(params) == 1
        # The AWS SDK always marks a parameter's value secret; the wire form carries the text.
        wire = params[0].wire_inputs["value"]
        return json.loads(wire["value"] if isinstance(wire, dict) else wire)


def _strings(values: Iterable[Any]) -> Iterable[str]:
    """Every string anywhere in ``values`` (nested dicts and lists), JSON documents included."""
    for value in values:
        if isinstance(value, dict):
            yield from _strings(value.values())
        elif isinstance(value, list):
            yield from _strings(value)
        elif isinstance(value, str):
            yield value
            if value.startswith(("{", "[")):
                try:
                    yield from _strings([json.loads(value)])
                except ValueError:
                    pass


def all_strings(resources: Iterable[CapturedResource]) -> list[str]:
    """Every string in the wire inputs of ``resources``, asset texts (the functions' baked-in
    fallback values) included, for isolation checks."""
    return list(_strings(r.wire_inputs for r in resources))


# -- shared assertions: each names the property it checks --------------------------------------

def assert_table_secure(plan: Plan, table: str, ttl_attribute: str | None) -> None:
    """Tenant key encryption, point-in-time recovery, and TTL on ``ttl_attribute``."""
    inputs = plan.by_name(f"{plan.prefix}-{table}", "aws:dynamodb/table:Table").inputs
    assert inputs["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": plan.key_arn}
    assert inputs["pointInTimeRecovery"] == {"enabled": True}
    if ttl_attribute:
        assert inputs["ttl"] == {"enabled": True, "attributeName": ttl_attribute}
    else:
        assert "ttl" not in inputs


def assert_encrypted_with_tenant_key(resource: CapturedResource, plan: Plan) -> None:
    """An SNS topic or SQS queue encrypted with this tenant's key."""
    assert resource.inputs["kmsMasterKeyId"] == plan.key_arn, resource.name


def baseline_grants(plan: Plan, service: str) -> dict[str, set[str]]:
    """What every service role has: config read of the global sections and its own namespace,
    decrypt with the tenant key, its own log groups, and X-Ray (the one ``*``)."""
    settings = plan.settings
    config = {plan.arn("ssm", f"parameter/{settings.tenant_id}/global/*"), plan.arn("ssm", f"parameter{settings.service_namespace(service)}/*")}
    logs = plan.arn("logs", f"log-group:/ubertruck/{plan.prefix}/{service}/*")
    return {
        **{action: config for action in ("ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath")},
        "kms:Decrypt": {plan.key_arn},
        "logs:CreateLogStream": {logs, f"{logs}:*"},
        "logs:PutLogEvents": {logs, f"{logs}:*"},
        "xray:PutTraceSegments": {"*"},
        "xray:PutTelemetryRecords": {"*"},
    }


def assert_role_allows_exactly(plan: Plan, service: str, expected: dict[str, set[str]]) -> None:
    """The service role's policy is the baseline plus exactly ``expected`` (action → ARNs)."""
    merged = baseline_grants(plan, service)
    for action, resources in expected.items():
        merged[action] = merged.get(action, set()) | resources
    assert plan.grants(service) == merged
    wildcards = {action for action, resources in plan.grants(service).items() if any("*" == r for r in resources)}
    assert wildcards == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def transactional_grants(plan: Plan, table: str, topic: str) -> dict[str, set[str]]:
    """What a service keeping items in ``table``, idempotent, audited and publishing on
    ``topic`` may do, beyond the baseline: exactly these actions on exactly these ARNs."""
    own = plan.arn("dynamodb", f"table/{plan.prefix}-{table}")
    audit = plan.arn("dynamodb", f"table/{plan.prefix}-audit")
    idempotency = plan.arn("dynamodb", f"table/{plan.prefix}-idempotency")
    return {
        "dynamodb:GetItem": {own, idempotency},
        "dynamodb:PutItem": {own, audit, idempotency},
        "dynamodb:UpdateItem": {own, idempotency},
        "dynamodb:Query": {own},
        "dynamodb:DeleteItem": {idempotency},
        "sns:Publish": {plan.arn("sns", f"{plan.prefix}-{topic}")},
        "kms:GenerateDataKey": {plan.key_arn},
    }


def transactional_resources(plan: Plan, table: str, topic: str) -> dict[str, str]:
    """What such a service publishes: its table (as ``<table>_table``), the shared tables, its topic."""
    return {
        f"{table}_table": f"{plan.prefix}-{table}",
        "audit_table": f"{plan.prefix}-audit",
        "idempotency_table": f"{plan.prefix}-idempotency",
        "events_topic_arn": plan.arn("sns", f"{plan.prefix}-{topic}"),
    }


def assert_allowed_environment(plan: Plan, service: str, function: str) -> None:
    """The function's environment holds only the allowed names, with this tenant's values."""
    variables = plan.function(service, function).inputs["environment"]["variables"]
    assert set(variables) == set(plan.settings.defaults.platform.allowed_env_vars)
    assert variables["SERVICE_NAME"] == service
    assert variables["ENVIRONMENT"] == plan.settings.environment
    assert variables["CONFIG_SERVICE_URL"] == f"ssm:///{plan.settings.tenant_id}"


def assert_log_retention(plan: Plan, service: str, function: str) -> None:
    """The function's log group keeps logs for the tenant's compliance retention, under its key."""
    inputs = plan.by_name(f"{plan.prefix}-{service}-{function}-logs").inputs
    assert inputs["retentionInDays"] == plan.settings.log_retention_days
    assert inputs["kmsKeyId"] == plan.key_arn


def assert_isolated(plan: Plan, other_tenant: str, component_type: str) -> None:
    """Nothing under the component names another tenant; every ARN it names is this tenant's
    (its prefix, its config namespace or its key) or the environment's shared alarm topic."""
    resources = plan.under(component_type)
    assert resources, f"no resources under {component_type}"
    strings = all_strings(resources)
    assert not [s for s in strings if other_tenant in s]
    own = (f":{plan.prefix}", f"/{plan.prefix}", f"parameter/{plan.settings.tenant_id}/")
    foreign = [
        s for s in strings
        if s.startswith("arn:aws:") and s not in (plan.key_arn, alarm_topic_arn(plan.settings)) and not any(o in s for o in own) and s != "*"
    ]
    assert foreign == []
    regions = {s.split(":")[3] for s in strings if s.startswith("arn:aws:")}
    assert regions <= {plan.settings.region, ""}


class ServiceFunctionContract:
    """What every business service's function must satisfy. A test module subclasses it as
    ``Test…`` with ``service``, ``function`` and ``component`` set; pytest runs these there."""

    service: str
    function: str
    component: str

    def test_function_environment_is_only_the_allowed_variables(self) -> None:
        assert_allowed_environment(planned("acme", "dev"), self.service, self.function)

    def test_log_group_retention_follows_compliance(self) -> None:
        assert_log_retention(planned("acme", "dev"), self.service, self.function)

    def test_no_reference_to_another_tenant(self) -> None:
        assert_isolated(planned("acme", "dev"), "globex", self.component)
        assert_isolated(planned("globex", "dev"), "acme", self.component)
