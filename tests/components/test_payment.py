"""The payment service component, planned offline for acme (dev) and globex (dev)."""

from __future__ import annotations

import pytest

from components.context import TenantContext
from components.payment import PROVIDER_KEY_REFERENCE, provider_secret_arn
from tests.components._service_checks import (
    ServiceFunctionContract,
    assert_encrypted_with_tenant_key,
    assert_role_allows_exactly,
    assert_table_secure,
    transactional_grants,
    transactional_resources,
)
from tests.components.conftest import DEV_ACCOUNT, settings_for, with_config
from ubertruck.errors import UserError

COMPONENT = "ubertruck:payment:PaymentService"


class TestPaymentFunction(ServiceFunctionContract):
    service, function, component = "payment", "api", COMPONENT


def _provider_secret(plan) -> str:
    """The provider key secret's ARN, as published; checked to be acme's registry secret."""
    arn = plan.published_resources("payment")["provider_secret_arn"]
    assert arn.startswith(plan.arn("secretsmanager", f"secret:{plan.prefix}/{plan.settings.tenant_id}/payment/provider-api-key-"))
    return arn


def test_component_holds_table_topic_role_function_and_published_resources(plan):
    names = {(r.type, r.name) for r in plan.under(COMPONENT)}
    p = plan.prefix
    assert {
        ("aws:dynamodb/table:Table", f"{p}-payments"),
        ("aws:sns/topic:Topic", f"{p}-payment-events"),
        ("aws:iam/role:Role", f"{p}-payment"),
        ("aws:iam/rolePolicy:RolePolicy", f"{p}-payment-policy"),
        ("aws:lambda/function:Function", f"{p}-payment-api"),
        ("aws:cloudwatch/logGroup:LogGroup", f"{p}-payment-api-logs"),
        ("aws:ssm/parameter:Parameter", f"{p}-config-services-payment-dev-integration-resources"),
    } <= names


def test_payments_table_uses_tenant_key_pitr_and_retention_ttl(plan):
    assert_table_secure(plan, "payments", "expires_at")


def test_events_topic_is_encrypted_with_tenant_key(plan):
    assert_encrypted_with_tenant_key(plan.by_name(f"{plan.prefix}-payment-events"), plan)


def test_role_allows_exactly_its_tables_topic_and_provider_secret(plan):
    expected = {**transactional_grants(plan, "payments", "payment-events"), "secretsmanager:GetSecretValue": {_provider_secret(plan)}}
    assert_role_allows_exactly(plan, "payment", expected)


def test_routes_cover_authorize_capture_refund_get(plan):
    # Listed as the service declares them; the API lays them out sorted by route key.
    assert plan.routes("payments") == sorted([
        "POST /payments/authorize",
        "POST /payments/{payment_id}/capture",
        "POST /payments/{payment_id}/refund",
        "GET /payments/{payment_id}",
    ])


def test_published_resources_name_its_tables_topic_and_secret(plan):
    expected = {**transactional_resources(plan, "payments", "payment-events"), "provider_secret_arn": _provider_secret(plan)}
    assert plan.published_resources("payment") == expected


def _context(references: dict[str, str]) -> TenantContext:
    def change(config):
        config["services"]["payment"]["integration"]["api_keys_reference"] = references

    return TenantContext(with_config(settings_for("acme", "dev"), change), DEV_ACCOUNT, f"arn:aws:kms:ap-south-1:{DEV_ACCOUNT}:key/k", "", "")


def _registry_entries() -> list[str]:
    """The ``secrets`` entries of acme's registry file (the provider key among them)."""
    return list(settings_for("acme", "dev").tenant.secrets)


def test_provider_secret_is_the_registry_entry_the_payment_config_names():
    ctx = _context({PROVIDER_KEY_REFERENCE: "second_entry"})
    arns = {**{entry: "arn:registry-entry" for entry in _registry_entries()}, "second_entry": "arn:second"}
    assert provider_secret_arn(ctx, arns) == "arn:second"


def test_missing_secret_entry_is_a_clear_error_naming_the_registry_file():
    with pytest.raises(UserError, match=r"tenants/acme.yaml: secrets: no 'second_entry' entry"):
        provider_secret_arn(_context({PROVIDER_KEY_REFERENCE: "second_entry"}), {entry: "arn:registry-entry" for entry in _registry_entries()})


def test_missing_reference_is_a_clear_error_naming_the_config_entry():
    with pytest.raises(UserError, match=rf"api_keys_reference: no '{PROVIDER_KEY_REFERENCE}' entry"):
        provider_secret_arn(_context({}), {entry: "arn:registry-entry" for entry in _registry_entries()})
