"""SecretsService: registry-referenced secrets under the tenant key, rotated on schedule."""

from __future__ import annotations

import json

import pytest

from tests.components.conftest import DEV_ACCOUNT, Plan, PlanStore
from ubertruck.errors import UserError

SECRET = "aws:secretsmanager/secret:Secret"
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
COMPONENT = "ubertruck:secrets:SecretsService"


PROVIDER_KEY, BREAK_GLASS = "payment_provider_api_key", "ops_break_glass_password"


def test_one_secret_per_registry_reference_under_the_tenant_key(acme_dev: Plan) -> None:
    secrets = {s.inputs["name"]: s for s in acme_dev.of_type(SECRET)}
    assert set(secrets) == {"acme-dev/acme/payment/provider-api-key", "acme-dev/acme/ops/break-glass-password"}
    for secret in secrets.values():
        assert secret.inputs["kmsKeyId"] == acme_dev.outputs["kms_key_arn"]
        assert secret.inputs["recoveryWindowInDays"] == acme_dev.settings.env.secret_recovery_window_days
        assert secret.inputs["tags"]["tenant_id"] == "acme"
    # The rotation function picks its generation profile from this tag.
    assert secrets["acme-dev/acme/payment/provider-api-key"].inputs["tags"]["rotation_profile"] == "external"
    assert secrets["acme-dev/acme/ops/break-glass-password"].inputs["tags"]["rotation_profile"] == "password"


def test_no_secret_value_is_provisioned(any_plan: Plan) -> None:
    types = {r.type for r in any_plan.resources}
    assert "aws:secretsmanager/secretVersion:SecretVersion" not in types
    for secret in any_plan.of_type(SECRET):
        assert "secretString" not in secret.inputs


def test_recovery_window_follows_environment(acme_prod: Plan) -> None:
    for secret in acme_prod.of_type(SECRET):
        assert secret.inputs["recoveryWindowInDays"] == acme_prod.settings.env.secret_recovery_window_days
        assert secret.inputs["name"].startswith("acme-prod/acme/")


def test_platform_managed_secrets_rotate_on_the_configured_schedule(acme_dev: Plan) -> None:
    days = acme_dev.settings.technical("secrets", "rotation")["schedule_days"]
    (rotation,) = acme_dev.of_type(ROTATION)
    assert rotation.inputs["rotationRules"]["automaticallyAfterDays"] == days
    assert rotation.inputs["rotationLambdaArn"].endswith(":function:acme-dev-secrets-rotation")
    assert rotation.inputs["secretId"] == acme_dev.outputs["secret_arns"][BREAK_GLASS]


def test_externally_issued_secrets_are_never_rotated_here(globex_dev: Plan) -> None:
    # globex's only secret is its payment provider's key: a generated value would break payments.
    assert globex_dev.of_type(SECRET)
    inside = {r.type for r in globex_dev.under(COMPONENT)}
    assert ROTATION not in inside
    assert "aws:lambda/function:Function" not in inside
    assert globex_dev.policies(COMPONENT) == []


def test_secrets_manager_may_invoke_rotation_for_this_secret_only(acme_dev: Plan) -> None:
    permissions = [r for r in acme_dev.under(COMPONENT) if r.type == "aws:lambda/permission:Permission"]
    assert [p.inputs["sourceArn"] for p in permissions] == [acme_dev.outputs["secret_arns"][BREAK_GLASS]]
    for permission in permissions:
        assert permission.inputs["principal"] == "secretsmanager.amazonaws.com"


def test_rotation_role_names_exactly_the_rotated_secrets_key_and_audit_table(acme_dev: Plan) -> None:
    (policy,) = acme_dev.policies(COMPONENT)
    by_action = {a: s["Resource"] for s in policy["Statement"] for a in s["Action"]}
    for action in ("secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"):
        assert by_action[action] == [acme_dev.outputs["secret_arns"][BREAK_GLASS]]
    assert by_action["kms:GenerateDataKey"] == [acme_dev.outputs["kms_key_arn"]]
    assert by_action["dynamodb:PutItem"] == [f"arn:aws:dynamodb:ap-south-1:{DEV_ACCOUNT}:table/acme-dev-audit"]
    # Secrets Manager cannot scope random-value generation to a resource.
    assert by_action["secretsmanager:GetRandomPassword"] == ["*"]


def test_published_resources_name_the_audit_table_and_every_secret(acme_dev: Plan) -> None:
    published = json.loads(acme_dev.parameter_value("/acme/services/secrets/dev/integration/resources"))
    assert published == {"audit_table": "acme-dev-audit", **acme_dev.outputs["secret_arns"]}
    assert set(acme_dev.outputs["secret_arns"]) == {PROVIDER_KEY, BREAK_GLASS}


# The real program refuses a tenant without secrets: the payment service needs the provider key
# secret its config names (``components.payment.provider_secret_arn``).
def test_tenant_without_secrets_is_refused_naming_the_missing_entry(plans: PlanStore) -> None:
    with pytest.raises(UserError, match=r"tenants/globex\.yaml: secrets: no 'payment_provider_api_key' entry"):
        plans.with_registry_change("globex-dev", "globex", lambda tenant: tenant.pop("secrets"))
