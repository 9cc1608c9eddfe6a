"""A value that looks like a secret, anywhere in a registry file, is refused without being echoed;
references to secrets (Secrets Manager names, ARNs, paths made of words) are accepted."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from ubertruck.registry.secrets import secret_shape

from .support import assert_reports, run_cli, valid_document, validate_errors, write_yaml

#: One realistic value per shape the checker knows (documentation examples, not live keys).
SECRET_VALUES = {
    "AWS access key id": ("AKIAIOSFODNN7EXAMPLE", "an AWS access key id"),
    "PEM block": (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq2xmExampleExampleExample\n-----END RSA PRIVATE KEY-----\n",
        "a PEM private key",
    ),
    "sk_live key": ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "a payment provider live/test key"),
    "JWT": (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        "a JSON Web Token",
    ),
    "high-entropy token": ("q8Zr3xT0vLp9Kw2mN7bY4cJ6hF1gD5sA", "a high-entropy key or token"),
    "AWS secret access key": ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "a high-entropy key or token"),
    "password in URL": ("postgres://app:s3cr3t-pw@db.internal:5432/app", "a password in a URL"),
    "password in URL, empty user": ("redis://:s3cr3t-pw@cache.internal:6379", "a password in a URL"),
}


def _set(path: list[Any]) -> Callable[[dict[str, Any], Any], None]:
    def change(document: dict[str, Any], value: Any) -> None:
        node = document
        for part in path[:-1]:
            node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
        node[path[-1]] = value

    return change


#: Places a pasted secret can hide, each with the field path the error must name.
PLACES = {
    "secret reference": (["secrets", "payment_provider_api_key", "secret_name"], "secrets.payment_provider_api_key.secret_name"),
    "secret description": (["secrets", "payment_provider_api_key", "description"], "secrets.payment_provider_api_key.description"),
    "display name": (["display_name"], "display_name"),
    "contact name": (["contacts", 0, "name"], "contacts.0.name"),
    "global security": (["config", "global", "security", "provider_token"], "config.global.security.provider_token"),
    "service integration": (
        ["config", "services", "payment", "integration", "api_key"],
        "config.services.payment.integration.api_key",
    ),
    "per-environment override": (
        ["config", "environments", "prod", "services", "booking", "business", "partner_key"],
        "config.environments.prod.services.booking.business.partner_key",
    ),
    "policy settings": (["policy", "settings", "payments", "token"], "policy.settings.payments.token"),
}


@pytest.mark.parametrize("shape", SECRET_VALUES, ids=list(SECRET_VALUES))
@pytest.mark.parametrize("place", PLACES, ids=list(PLACES))
def test_secret_value_is_refused_where_a_reference_is_expected(tmp_path, shape, place):
    value, label = SECRET_VALUES[shape]
    path_in_document, field = PLACES[place]
    document = valid_document()
    _set(path_in_document)(document, value)
    path = write_yaml(tmp_path / "north-star.yaml", document)

    lines = validate_errors(path, watch=tmp_path)

    assert_reports(lines, path, field, f"looks like {label}", "references only")
    # The line must not leak what it refuses.
    assert not any(value.strip().splitlines()[0] in line for line in lines)


def test_secret_inside_a_list_names_the_index(tmp_path):
    document = valid_document()
    document["config"]["services"]["notification"] = {"integration": {"webhooks": ["https://ok.example", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"]}}
    path = write_yaml(tmp_path / "north-star.yaml", document)
    lines = validate_errors(path, watch=tmp_path)
    assert_reports(lines, path, "config.services.notification.integration.webhooks.1", "payment provider")


def test_secret_used_as_a_key_is_refused(tmp_path):
    document = valid_document()
    document["config"]["services"]["payment"] = {"integration": {"AKIAIOSFODNN7EXAMPLE": "primary"}}
    path = write_yaml(tmp_path / "north-star.yaml", document)
    lines = validate_errors(path, watch=tmp_path)
    assert_reports(lines, path, "config.services.payment.integration.[key]", "AWS access key id")


def test_every_secret_in_a_file_is_reported(tmp_path):
    document = valid_document()
    document["display_name"] = SECRET_VALUES["AWS access key id"][0]
    document["secrets"]["payment_provider_api_key"]["secret_name"] = SECRET_VALUES["sk_live key"][0]
    path = write_yaml(tmp_path / "north-star.yaml", document)
    lines = validate_errors(path, watch=tmp_path)
    assert_reports(lines, path, "display_name", "AWS access key id")
    assert_reports(lines, path, "secrets.payment_provider_api_key.secret_name", "payment provider")


REFERENCES = [
    "acme/payment/provider-api-key",
    "north-star-logistics2/payment/provider-api-key-v2",
    "tenant42-logistics/payments/provider-api-key-v2",
    "arn:aws:secretsmanager:ap-south-1:123456789012:secret:acme/payment/provider-api-key-AbCdEf",
    "123e4567-e89b-12d3-a456-426614174000",
    "https://hooks.example.com/services/T0000/B0000/XXXXXXXX",
    "https://user@example.com/path",
    "ops-team-42@north-star-logistics.example",
    "/acme/services/booking/prod/integration/resources",
]


@pytest.mark.parametrize("reference", REFERENCES)
def test_references_and_ordinary_values_are_not_mistaken_for_secrets(reference):
    assert secret_shape(reference) is None


def test_a_long_secret_name_with_digits_validates(tmp_path):
    document = valid_document("north-star-logistics2")
    document["secrets"]["payment_provider_api_key"]["secret_name"] = "north-star-logistics2/payment/provider-api-key-v2"
    path = write_yaml(tmp_path / "north-star-logistics2.yaml", document)
    result = run_cli("tenants", "validate", str(path))
    assert result.code == 0, result.stderr


def test_secret_name_that_is_not_a_secrets_manager_name(tmp_path):
    document = valid_document()
    document["secrets"]["payment_provider_api_key"]["secret_name"] = "has spaces and ! marks"
    path = write_yaml(tmp_path / "north-star.yaml", document)
    lines = validate_errors(path, watch=tmp_path)
    assert_reports(lines, path, "secrets.payment_provider_api_key.secret_name", "Secrets Manager secret name")


def test_shipped_registry_holds_no_secret_shaped_value():
    registry = Path(__file__).resolve().parents[2] / "tenants"
    result = run_cli("tenants", "validate", str(registry))
    assert result.code == 0, result.stderr
