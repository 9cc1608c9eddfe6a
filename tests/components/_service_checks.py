"""Checks every business service's plan must pass, shared by their test modules.

Each takes a ``Plan`` of the real program (``conftest.py``) and names the property it checks.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from platformctl.engine.capture import CapturedResource
from tests.components.conftest import Plan


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
    """What every service role has: config read of the global sections and its own namespace
    (each as the path and everything below it) and of the metrics settings, decrypt with the
    tenant key, its own log groups, and X-Ray (the one ``*``)."""
    settings = plan.settings
    namespace = settings.service_namespace(service)
    config = {
        plan.arn("ssm", f"parameter/{settings.tenant_id}/global"),
        plan.arn("ssm", f"parameter/{settings.tenant_id}/global/*"),
        plan.arn("ssm", f"parameter{namespace}"),
        plan.arn("ssm", f"parameter{namespace}/*"),
        plan.arn("ssm", f"parameter{settings.service_namespace('observability')}/technical/metrics"),
    }
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
    (its prefix, its config namespace, its key or its user pool, whose id Cognito picks) or the
    environment's shared alarm topic."""
    resources = plan.under(component_type)
    assert resources, f"no resources under {component_type}"
    strings = all_strings(resources)
    assert not [s for s in strings if other_tenant in s]
    own = (f":{plan.prefix}", f"/{plan.prefix}", f"parameter/{plan.settings.tenant_id}/")
    own_pool = plan.arn("cognito-idp", f"userpool/{plan.outputs['user_pool_id']}")
    foreign = [
        s for s in strings
        if s.startswith("arn:aws:") and s not in (plan.key_arn, plan.alarm_topic_arn, own_pool) and not any(o in s for o in own) and s != "*"
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

    def test_function_environment_is_only_the_allowed_variables(self, acme_dev: Plan) -> None:
        assert_allowed_environment(acme_dev, self.service, self.function)

    def test_log_group_retention_follows_compliance(self, acme_dev: Plan) -> None:
        assert_log_retention(acme_dev, self.service, self.function)

    def test_no_reference_to_another_tenant(self, acme_dev: Plan, globex_dev: Plan) -> None:
        assert_isolated(acme_dev, "globex", self.component)
        assert_isolated(globex_dev, "acme", self.component)
