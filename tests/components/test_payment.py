"""The payment service component, planned offline for acme (dev) and globex (dev)."""

from __future__ import annotations

import pytest

from components.context import TenantContext
from components.payment import PROVIDER_KEY_REFERENCE, checked_reconciliation, provider_secret_arn, rate_expression
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


class TestPaymentReconcilerFunction(ServiceFunctionContract):
    service, function, component = "payment", "reconciler", COMPONENT


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
        ("aws:lambda/function:Function", f"{p}-payment-reconciler"),
        ("aws:cloudwatch/logGroup:LogGroup", f"{p}-payment-reconciler-logs"),
        ("aws:cloudwatch/eventRule:EventRule", f"{p}-payment-reconciler-schedule"),
        ("aws:cloudwatch/eventTarget:EventTarget", f"{p}-payment-reconciler-schedule"),
        ("aws:lambda/permission:Permission", f"{p}-payment-reconciler-schedule"),
    } <= names


def test_reconciler_runs_its_handler_on_the_configured_schedule_and_only_its_rule_may_invoke_it(plan):
    p = plan.prefix
    function = plan.by_name(f"{p}-payment-reconciler", "aws:lambda/function:Function").inputs
    assert function["handler"] == "payment.reconciler.lambda_handler"
    api = plan.by_name(f"{p}-payment-api", "aws:lambda/function:Function").inputs
    assert function["role"] == api["role"]  # the service's role: the same tables, secret and topic
    minutes = plan.settings.service("payment")["technical"]["reconciliation"]["schedule_minutes"]
    rule = plan.by_name(f"{p}-payment-reconciler-schedule", "aws:cloudwatch/eventRule:EventRule").inputs
    assert rule["scheduleExpression"] == rate_expression(minutes)
    permission = plan.by_name(f"{p}-payment-reconciler-schedule", "aws:lambda/permission:Permission").inputs
    assert (permission["principal"], permission["action"]) == ("events.amazonaws.com", "lambda:InvokeFunction")
    assert permission["sourceArn"] == plan.arn("events", f"rule/{p}-payment-reconciler-schedule")


def test_the_schedule_follows_the_reconciliation_config():
    def change(config):
        config["services"]["payment"]["technical"]["reconciliation"]["schedule_minutes"] = 1

    ctx = TenantContext(with_config(settings_for("acme", "dev"), change), DEV_ACCOUNT, f"arn:aws:kms:ap-south-1:{DEV_ACCOUNT}:key/k", "", "")
    assert rate_expression(checked_reconciliation(ctx).schedule_minutes) == "rate(1 minute)"


def test_settling_sooner_than_the_function_timeout_is_refused_naming_the_entry():
    def change(config):
        config["global"]["operational"]["timeouts"]["function_timeout_seconds"] = 90  # antipattern: ignore[UT002] reason: a test input, longer than the minute the test settles after
        config["services"]["payment"]["technical"]["reconciliation"]["settle_after_minutes"] = 1

    ctx = TenantContext(with_config(settings_for("acme", "dev"), change), DEV_ACCOUNT, f"arn:aws:kms:ap-south-1:{DEV_ACCOUNT}:key/k", "", "")
    with pytest.raises(UserError, match=r"services.payment.technical.reconciliation.settle_after_minutes.*function timeout \(90 s\)"):
        checked_reconciliation(ctx)


def test_payments_table_uses_tenant_key_pitr_and_retention_ttl(plan):
    assert_table_secure(plan, "payments", "expires_at")


def test_events_topic_is_encrypted_with_tenant_key(plan):
    assert_encrypted_with_tenant_key(plan.by_name(f"{plan.prefix}-payment-events"), plan)


def test_role_allows_exactly_its_tables_topic_provider_secret_and_reading_bookings(plan):
    expected = transactional_grants(plan, "payments", "payment-events")
    payments, bookings = plan.arn("dynamodb", f"table/{plan.prefix}-payments"), plan.arn("dynamodb", f"table/{plan.prefix}-bookings")
    expected["dynamodb:GetItem"] = expected["dynamodb:GetItem"] | {bookings}
    expected["dynamodb:DeleteItem"] = expected["dynamodb:DeleteItem"] | {payments}  # markers of finished operations
    expected["secretsmanager:GetSecretValue"] = {_provider_secret(plan)}
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
    expected = {
        **transactional_resources(plan, "payments", "payment-events"),
        "provider_secret_arn": _provider_secret(plan),
        "bookings_table": f"{plan.prefix}-bookings",
    }
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
