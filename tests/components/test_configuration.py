"""ConfigurationService: the SSM hierarchy, the config function, its role and its route."""

from __future__ import annotations

import json

from tests.components.conftest import DEV_ACCOUNT, Plan

PARAMETER = "aws:ssm/parameter:Parameter"
SERVICE_COMPONENT = "ubertruck:configuration:ConfigurationService"


def _config_parameters(plan: Plan) -> dict[str, dict]:
    return {r.inputs["name"]: r.inputs for r in plan.under(SERVICE_COMPONENT) if r.type == PARAMETER}


def test_every_registry_entry_becomes_a_parameter(acme_dev: Plan) -> None:
    params = _config_parameters(acme_dev)
    expected = {p.path for p in acme_dev.settings.parameters()}
    assert expected <= set(params)
    # The only other parameter is the service's own published resources.
    assert set(params) - expected == {"/acme/services/configuration/dev/integration/resources"}


def test_plain_parameters_hold_the_merged_value(acme_dev: Plan) -> None:
    params = _config_parameters(acme_dev)
    pricing = json.loads(acme_dev.parameter_value("/acme/services/booking/dev/business/pricing_models"))
    # acme's registry file overrides the platform default.
    assert pricing["base_fare_minor"] == 60000
    assert params["/acme/services/booking/dev/business/pricing_models"]["type"] == "String"


def test_sensitive_entries_are_secure_strings_under_the_tenant_key(acme_dev: Plan) -> None:
    params = _config_parameters(acme_dev)
    secure = [p for p in acme_dev.settings.parameters() if p.secure]
    assert secure, "the defaults mark global/security/* sensitive"
    key_arn = acme_dev.outputs["kms_key_arn"]
    for param in secure:
        inputs = params[param.path]
        assert inputs["type"] == "SecureString"
        assert inputs["keyId"] == key_arn
    plain = [p for p in acme_dev.settings.parameters() if not p.secure]
    assert all(params[p.path]["type"] == "String" and "keyId" not in params[p.path] for p in plain)


def test_parameters_live_under_the_tenant_namespace_and_carry_its_tag(any_plan: Plan) -> None:
    tenant = any_plan.settings.tenant_id
    for inputs in _config_parameters(any_plan).values():
        assert inputs["name"].startswith(f"/{tenant}/")
        assert inputs["tags"]["tenant_id"] == tenant


def test_function_role_reads_whole_namespace_and_only_writes_audit(acme_dev: Plan) -> None:
    (policy,) = acme_dev.policies(SERVICE_COMPONENT)
    by_action = {a: s["Resource"] for s in policy["Statement"] for a in s["Action"]}
    assert by_action["ssm:GetParametersByPath"] == [
        f"arn:aws:ssm:ap-south-1:{DEV_ACCOUNT}:parameter/acme",
        f"arn:aws:ssm:ap-south-1:{DEV_ACCOUNT}:parameter/acme/*",
    ]
    assert by_action["dynamodb:PutItem"] == [f"arn:aws:dynamodb:ap-south-1:{DEV_ACCOUNT}:table/acme-dev-audit"]
    writes = [a for a in by_action if a.startswith("ssm:") and not a.startswith("ssm:Get")]
    assert writes == [], "the config role is read-only on SSM"
    assert not [a for a in by_action if a.startswith("dynamodb:") and a != "dynamodb:PutItem"]


def test_function_is_the_configuration_api_with_its_resources(acme_dev: Plan) -> None:
    function = acme_dev.named("aws:lambda/function:Function", "acme-dev-configuration-api")
    assert function.inputs["environment"]["variables"]["SERVICE_NAME"] == "configuration"
    assert function.inputs["role"] == f"arn:aws:iam::{DEV_ACCOUNT}:role/acme-dev-configuration"
    published = acme_dev.parameter_value("/acme/services/configuration/dev/integration/resources")
    assert json.loads(published) == {"audit_table": "acme-dev-audit"}


def test_route_serves_config_reads_through_the_api(acme_dev: Plan) -> None:
    method = acme_dev.named("aws:apigateway/method:Method", "acme-dev-api-GET/config/{path+}")
    assert method.inputs["operationName"] == "config:read"
    integration = acme_dev.named("aws:apigateway/integration:Integration", "acme-dev-api-GET/config/{path+}-integration")
    assert integration.inputs["uri"].endswith(":function:acme-dev-configuration-api/invocations")
    assert acme_dev.outputs["config_function"] == "acme-dev-configuration-api"
