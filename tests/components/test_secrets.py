"""SecretsService: registry-referenced secrets under the tenant key, rotated on schedule."""

from __future__ import annotations

import json

import pytest

from platformctl.errors import UserError
from tests.components.conftest import Plan, PlanStore

SECRET = "aws:secretsmanager/secret:Secret"
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
COMPONENT = "ubertruck:secrets:SecretsService"


def test_one_secret_per_registry_reference_under_the_tenant_key(acme_dev: Plan) -> None:
    (secret,) = acme_dev.of_type(SECRET)
    assert secret.inputs["name"] == "acme-dev/acme/payment/provider-api-key"
    assert secret.inputs["kmsKeyId"] == acme_dev.outputs["kms_key_arn"]
    assert secret.inputs["recoveryWindowInDays"] == acme_dev.settings.env.secret_recovery_window_days
    assert secret.inputs["tags"]["tenant_id"] == "acme"


def test_no_secret_value_is_provisioned(any_plan: Plan) -> None:
    types = {r.type for r in any_plan.resources}
    assert "aws:secretsmanager/secretVersion:SecretVersion" not in types
    for secret in any_plan.of_type(SECRET):
        assert "secretString" not in secret.inputs


def test_recovery_window_follows_environment(acme_prod: Plan) -> None:
    (secret,) = acme_prod.of_type(SECRET)
    assert secret.inputs["recoveryWindowInDays"] == acme_prod.settings.env.secret_recovery_window_days
    assert secret.inputs["name"] == "acme-prod/acme/payment/provider-api-key"


def test_every_secret_rotates_on_the_configured_schedule(acme_dev: Plan) -> None:
    days = acme_dev.settings.technical("secrets", "rotation")["schedule_days"]
    (rotation,) = acme_dev.of_type(ROTATION)
    assert rotation.inputs["rotationRules"]["automaticallyAfterDays"] == days
    assert rotation.inputs["rotationLambdaArn"].endswith(":function:acme-dev-secrets-rotation")
    assert rotation.inputs["secretId"] == acme_dev.outputs["secret_arns"]["payment_provider_api_key"]


def test_secrets_manager_may_invoke_rotation_for_this_secret_only(acme_dev: Plan) -> None:
    permissions = [r for r in acme_dev.under(COMPONENT) if r.type == "aws:lambda/permission:Permission"]
    arns = set(acme_dev.outputs["secret_arns"].values())
    assert permissions
    for permission in permissions:
        assert permission.inputs["principal"] == "secretsmanager.amazonaws.com"
        assert permission.inputs["sourceArn"] in arns


def test_rotation_role_names_exactly_the_tenant_secrets_and_key(acme_dev: Plan) -> None:
    (policy,) = acme_dev.policies(COMPONENT)
    by_action = {a: s["Resource"] for s in policy["Statement"] for a in s["Action"]}
    secret_arns = sorted(acme_dev.outputs["secret_arns"].values())
    for action in ("secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"):
        assert sorted(by_action[action]) == secret_arns
    assert by_action["kms:GenerateDataKey"] == [acme_dev.outputs["kms_key_arn"]]


def test_published_resources_map_registry_keys_to_arns(acme_dev: Plan) -> None:
    published = acme_dev.parameter_value("/acme/services/secrets/dev/integration/resources")
    assert json.loads(published) == acme_dev.outputs["secret_arns"]
    assert set(acme_dev.outputs["secret_arns"]) == {"payment_provider_api_key"}


# The real program refuses a tenant without secrets: the payment service needs the provider key
# secret its config names (``components.payment.provider_secret_arn``).
def test_tenant_without_secrets_is_refused_naming_the_missing_entry(plans: PlanStore) -> None:
    with pytest.raises(UserError, match=r"tenants/globex\.yaml: secrets: no 'payment_provider_api_key' entry"):
        plans.with_registry_change("globex-dev", "globex", lambda tenant: tenant.pop("secrets"))
