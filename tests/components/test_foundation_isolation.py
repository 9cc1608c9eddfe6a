"""Tenant isolation across the foundation services: one tenant's stack never names another's."""

from __future__ import annotations

import pytest

from tests.components.conftest import Plan

FOUNDATION = (
    "ubertruck:configuration:ConfigurationService",
    "ubertruck:auth:AuthService",
    "ubertruck:secrets:SecretsService",
)


@pytest.mark.parametrize("own, other", [("acme_dev", "globex_dev"), ("globex_dev", "acme_dev")])
def test_no_input_mentions_the_other_tenant(own: str, other: str, request: pytest.FixtureRequest) -> None:
    mine: Plan = request.getfixturevalue(own)
    theirs: Plan = request.getfixturevalue(other)
    text = mine.text()
    assert theirs.settings.tenant_id not in text
    for arn in [theirs.outputs["kms_key_arn"], theirs.outputs["api_execution_arn"], *theirs.outputs["secret_arns"].values()]:
        assert arn not in text
    assert theirs.outputs["user_pool_id"] not in text


def _tenant_owned(resource: str, plan: Plan) -> bool:
    """An ARN of this tenant: it names the tenant (namespace, prefix) or is its key or a secret."""
    owned = {plan.outputs["kms_key_arn"], *plan.outputs["secret_arns"].values()}
    prefix, tenant = plan.settings.prefix, plan.settings.tenant_id
    return (
        resource in owned
        or f"/{tenant}/" in resource
        or resource.endswith(f":parameter/{tenant}")
        or f":table/{prefix}-" in resource
        or f"/ubertruck/{prefix}/" in resource
    )


@pytest.mark.parametrize("component", FOUNDATION)
def test_role_policies_name_only_this_tenants_arns(component: str, any_plan: Plan) -> None:
    policies = any_plan.policies(component)
    rotated = [ref for ref in any_plan.settings.tenant.secrets.values() if ref.rotation != "external"]
    if component.endswith("SecretsService") and not rotated:
        assert policies == []
        return
    assert policies
    for policy in policies:
        for statement in policy["Statement"]:
            for resource in statement["Resource"]:
                if resource == "*":
                    assert set(statement["Action"]) <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "secretsmanager:GetRandomPassword"}
                else:
                    assert _tenant_owned(resource, any_plan), resource


#: The resource types of the foundation services that AWS lets us tag.
TAGGABLE = {
    "aws:ssm/parameter:Parameter", "aws:iam/role:Role", "aws:lambda/function:Function",
    "aws:cloudwatch/logGroup:LogGroup", "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:cognito/userPool:UserPool", "aws:secretsmanager/secret:Secret", "aws:apigateway/restApi:RestApi",
    "aws:apigateway/stage:Stage", "aws:apigateway/usagePlan:UsagePlan",
}


def test_every_taggable_foundation_resource_carries_the_tenant(any_plan: Plan) -> None:
    tenant = any_plan.settings.tenant_id
    seen = set()
    for component in (*FOUNDATION, "ubertruck:api:ApiGateway"):
        for resource in any_plan.under(component):
            if resource.type in TAGGABLE:
                seen.add(resource.type)
                assert resource.inputs["tags"]["tenant_id"] == tenant, resource.name
    assert seen == TAGGABLE


def test_every_foundation_resource_name_starts_with_the_stack_prefix(any_plan: Plan) -> None:
    prefix = any_plan.settings.prefix
    for component in (*FOUNDATION, "ubertruck:api:ApiGateway"):
        for resource in any_plan.under(component):
            assert resource.name.startswith(prefix), resource.name
            physical = resource.inputs.get("name")
            if isinstance(physical, str) and resource.type not in ("aws:ssm/parameter:Parameter", "aws:cognito/userGroup:UserGroup", "aws:cloudwatch/logGroup:LogGroup"):
                assert physical.startswith(prefix), (resource.type, physical)


def test_user_pool_ids_differ_between_tenants(acme_dev: Plan, globex_dev: Plan) -> None:
    assert acme_dev.outputs["user_pool_id"] != globex_dev.outputs["user_pool_id"]
