"""AuthService: user pool with the tenant claim, app client, role groups, authorizer."""

from __future__ import annotations

import json

from tests.components.conftest import Plan

POOL = "aws:cognito/userPool:UserPool"
CLIENT = "aws:cognito/userPoolClient:UserPoolClient"


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
    assert function.inputs["role"] == "arn:aws:iam::123456789012:role/acme-dev-auth"
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
