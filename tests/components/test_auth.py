"""AuthService: user pool with the tenant claim and its pre token generation trigger, app client,
role groups, authorizer."""

from __future__ import annotations

import json

import pytest

from components.auth import pool_tier
from tests.components._service_checks import assert_allowed_environment, assert_log_retention
from tests.components.conftest import DEV_ACCOUNT, Plan

POOL = "aws:cognito/userPool:UserPool"
CLIENT = "aws:cognito/userPoolClient:UserPoolClient"
PERMISSION = "aws:lambda/permission:Permission"


def test_user_pool_has_immutable_tenant_attribute(any_plan: Plan) -> None:
    (pool,) = any_plan.of_type(POOL)
    (attribute,) = [s for s in pool.inputs["schemas"] if s["name"] == "tenant_id"]
    assert attribute["mutable"] is False
    assert attribute["attributeDataType"] == "String"
    assert pool.inputs["name"] == f"{any_plan.settings.prefix}-users"


def test_only_administrators_create_users(acme_dev: Plan) -> None:
    (pool,) = acme_dev.of_type(POOL)
    assert pool.inputs["adminCreateUserConfig"]["allowAdminCreateUserOnly"] is True


def test_app_client_reads_but_cannot_write_the_tenant_claim(any_plan: Plan) -> None:
    (client,) = any_plan.of_type(CLIENT)
    assert "custom:tenant_id" in client.inputs["readAttributes"]
    assert "custom:tenant_id" not in client.inputs["writeAttributes"]
    assert client.inputs["generateSecret"] is False


def test_password_tokens_and_mfa_come_from_config(acme_dev: Plan) -> None:
    settings = acme_dev.settings.technical("auth", "user_pool")
    (pool,) = acme_dev.of_type(POOL)
    (client,) = acme_dev.of_type(CLIENT)
    assert pool.inputs["passwordPolicy"]["minimumLength"] == settings["password_minimum_length"]
    assert pool.inputs["mfaConfiguration"] == settings["mfa_configuration"]
    assert client.inputs["accessTokenValidity"] == settings["access_token_validity_minutes"]
    assert client.inputs["refreshTokenValidity"] == settings["refresh_token_validity_days"]
    assert client.inputs["tokenValidityUnits"]["accessToken"] == "minutes"


def test_pool_deletion_protection_follows_environment(acme_dev: Plan, acme_prod: Plan) -> None:
    assert acme_dev.of_type(POOL)[0].inputs["deletionProtection"] == "INACTIVE"
    assert acme_prod.of_type(POOL)[0].inputs["deletionProtection"] == "ACTIVE"


def test_one_group_per_configured_role(acme_dev: Plan) -> None:
    roles = acme_dev.settings.global_section("security")["authorization_policies"]["roles"]
    groups = {r.inputs["name"] for r in acme_dev.of_type("aws:cognito/userGroup:UserGroup")}
    assert groups == set(roles)


def test_authorizer_function_and_published_resources(acme_dev: Plan) -> None:
    function = acme_dev.named("aws:lambda/function:Function", "acme-dev-auth-authorizer")
    assert function.inputs["role"] == f"arn:aws:iam::{DEV_ACCOUNT}:role/acme-dev-auth"
    resources = json.loads(acme_dev.parameter_value("/acme/services/auth/dev/integration/resources"))
    pool_id = acme_dev.outputs["user_pool_id"]
    assert resources == {
        "user_pool_id": pool_id,
        "app_client_id": acme_dev.outputs["app_client_id"],
        "issuer": f"https://cognito-idp.ap-south-1.amazonaws.com/{pool_id}",
        "jwks_url": f"https://cognito-idp.ap-south-1.amazonaws.com/{pool_id}/.well-known/jwks.json",
    }


def test_authorizer_role_grants_nothing_beyond_the_service_baseline(acme_dev: Plan) -> None:
    (policy,) = acme_dev.policies("ubertruck:auth:AuthService")
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert actions == {
        "ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "kms:Decrypt",
        "logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords",
    }


def pool_arn(plan: Plan) -> str:
    return plan.arn("cognito-idp", f"userpool/{plan.outputs['user_pool_id']}")


def test_pool_triggers_pre_token_generation_with_the_v2_event(any_plan: Plan) -> None:
    (pool,) = any_plan.of_type(POOL)
    function = any_plan.function("auth", "pre-token")
    assert pool.inputs["lambdaConfig"] == {
        "preTokenGenerationConfig": {"lambdaArn": any_plan.arn("lambda", f"function:{function.inputs['name']}"), "lambdaVersion": "V2_0"}
    }
    assert pool.property_dependencies["lambdaConfig"] == [function.urn]
    # V2_0 needs the Essentials plan or higher; the plan comes from config.
    assert pool.inputs["userPoolTier"] == any_plan.settings.technical("auth", "user_pool")["tier"] == "ESSENTIALS"


def test_only_the_tenants_pool_may_invoke_the_pre_token_function(any_plan: Plan) -> None:
    function = any_plan.function("auth", "pre-token")
    (pool,) = any_plan.of_type(POOL)
    (permission,) = [p for p in any_plan.of_type(PERMISSION) if p.inputs["function"] == function.inputs["name"]]
    assert permission.inputs["principal"] == "cognito-idp.amazonaws.com"
    assert permission.inputs["action"] == "lambda:InvokeFunction"
    assert permission.inputs["sourceArn"] == pool_arn(any_plan)
    assert permission.inputs["sourceAccount"] == DEV_ACCOUNT
    assert permission.property_dependencies["sourceArn"] == [pool.urn]


def test_pre_token_function_is_a_service_function_of_auth(acme_dev: Plan) -> None:
    function = acme_dev.function("auth", "pre-token")
    assert function.inputs["handler"] == "auth.pre_token.lambda_handler"
    assert function.inputs["role"] == f"arn:aws:iam::{DEV_ACCOUNT}:role/acme-dev-auth"
    assert_allowed_environment(acme_dev, "auth", "pre-token")
    assert_log_retention(acme_dev, "auth", "pre-token")
    alarms = {a.inputs["name"] for a in acme_dev.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert {"acme-dev-auth-pre-token-errors", "acme-dev-auth-pre-token-latency"} <= alarms


def test_tenant_dashboard_covers_the_pre_token_function(acme_dev: Plan) -> None:
    (dashboard,) = acme_dev.of_type("aws:cloudwatch/dashboard:Dashboard")
    assert "acme-dev-auth-pre-token" in dashboard.inputs["dashboardBody"]


@pytest.mark.parametrize("tier", ["LITE", "essentials"])
def test_a_feature_plan_without_access_token_claims_is_refused(tier: str) -> None:
    with pytest.raises(ValueError, match="V2_0"):
        pool_tier({"tier": tier})
