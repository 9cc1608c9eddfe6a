"""`platformctl tenants validate` refuses a bad config value of every service, with the file and
the dotted path: a wrong type, a misspelt key and a value outside its allowed range each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.registry.support import assert_reports, run_cli, valid_document, validate_errors, write_yaml
from ubertruck.contracts import common_schema, schema_for
from ubertruck.defaults import load_defaults

DEFAULTS = load_defaults()

#: (service, path below the service, bad value, words the one error line must hold). Each
#: service has a wrong type, a misspelt key (a new key next to the real one) and a value out of
#: range; the ranges include AWS's hard limits (Lambda memory, SQS and Cognito limits). A service
#: whose contract has no entries at all (pipeline: configured platform-wide) has only the key case.
CASES: list[tuple[str, str, Any, str]] = [
    ("configuration", "technical.cache.max_age_seconds", "60", "expected an integer, got str"),
    ("configuration", "technical.scaling_policies.memory_mbs", 256, "unknown entry"),
    ("configuration", "technical.scaling_policies.memory_mb", 64, "greater than or equal to 128"),
    ("auth", "technical.user_pool.password_minimum_length", "12", "expected an integer, got str"),
    ("auth", "technical.user_pool.mfa", "ON", "unknown entry"),
    ("auth", "technical.user_pool.access_token_validity_minutes", 1441, "less than or equal to 1440"),
    ("secrets", "technical.rotation.schedule_days", 30.5, "expected an integer, got float"),
    ("secrets", "technical.rotaton", {"schedule_days": 30}, "unknown entry"),
    ("secrets", "technical.generation.profiles.password.length", 4097, "less than or equal to 4096"),
    ("api", "technical.cors.allow_origins", "https://app.example", "expected a list, got str"),
    ("api", "technical.cors.allow_origin", ["https://app.example"], "unknown entry"),
    ("api", "technical.performance_thresholds.error_rate_percent", 101, "less than or equal to 100"),
    ("booking", "business.pricing_models.base_fare_minor", "60000", "expected an integer, got str"),
    ("booking", "business.pricing_models.base_fare_minr", 60000, "unknown entry"),
    ("booking", "business.sla_definitions.cancellation_fee_basis_points", 10001, "less than or equal to 10000"),
    ("tracking", "business.business_rules.max_speed_kmh", "fast", "expected a number, got str"),
    ("tracking", "business.business_rules.max_speed_kph", 160, "unknown entry"),
    ("tracking", "technical.scaling_policies.memory_mb", 10241, "less than or equal to 10240"),
    ("payment", "technical.scaling_policies.reserved_concurrency", True, "expected an integer, got bool"),
    ("payment", "integration.external_apis.provider_endpoit", "https://p.example", "unknown entry"),
    ("payment", "business.business_rules.max_amount_minor", 0, "greater than 0"),
    ("notification", "technical.queue.batch_size", "10", "expected an integer, got str"),
    ("notification", "business.email_recipient_fields", "to", "unknown entry"),
    ("notification", "technical.queue.visibility_timeout_seconds", 43201, "less than or equal to 43200"),
    ("observability", "technical.alarms.evaluation_periods", "1", "expected an integer, got str"),
    ("observability", "technical.metrics.namespaces", "UberTruck", "unknown entry"),
    ("observability", "technical.alarms.error_rate_threshold", 150, "less than or equal to 100"),
    ("pipeline", "technical.deployment", {"waves": 3}, "unknown entry"),
]


def _set(tree: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        tree = tree.setdefault(part, {})
    tree[leaf] = value


def _kind(case: tuple[str, str, Any, str]) -> str:
    words = case[3]
    return "type" if words.startswith("expected") else "key" if words == "unknown entry" else "range"


def _has_entries(service: str) -> bool:
    fields = schema_for(service).model_fields
    return any(fields[section].annotation is not common_schema.NoEntries for section in ("business", "technical", "integration"))


def test_every_service_has_a_wrong_type_a_misspelt_key_and_an_out_of_range_case() -> None:
    covered = {(case[0], _kind(case)) for case in CASES}
    assert covered == {
        (service, kind) for service in DEFAULTS.platform.services for kind in (("type", "key", "range") if _has_entries(service) else ("key",))
    }


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{_kind(c)}" for c in CASES])
def test_bad_service_value_is_refused_with_file_and_dotted_path(tmp_path: Path, case: tuple[str, str, Any, str]) -> None:
    service, dotted, value, words = case
    document = valid_document()
    _set(document["config"]["services"].setdefault(service, {}), dotted, value)
    path = write_yaml(tmp_path / "north-star.yaml", document)
    lines = validate_errors(path, watch=tmp_path)
    assert_reports(lines, path, f"config.services.{service}.{dotted}", words)
    assert len(lines) == 1, lines


@pytest.mark.parametrize(
    ("dotted", "value", "words"),
    [
        ("operational.timeouts.function_timeout_seconds", 901, "less than or equal to 900"),
        ("operational.timeouts.authorizer_ttl_seconds", "300", "expected an integer, got str"),
        ("compliance.audit_requirements.enabled", "false", "expected true or false, got str"),
        ("operational.retry_policy", {"max_attempts": 3}, "unknown entry"),
    ],
)
def test_bad_global_value_is_refused_with_file_and_dotted_path(tmp_path: Path, dotted: str, value: Any, words: str) -> None:
    document = valid_document()
    _set(document["config"]["global"], dotted, value)
    path = write_yaml(tmp_path / "north-star.yaml", document)
    assert_reports(validate_errors(path, watch=tmp_path), path, f"config.global.{dotted}", words)


def test_a_value_set_for_one_environment_is_reported_in_that_environment_layer(tmp_path: Path) -> None:
    document = valid_document()
    prod = document["config"]["environments"]["prod"]["services"]["booking"]["technical"]["scaling_policies"]
    prod["memory_mb"] = "lots"
    path = write_yaml(tmp_path / "north-star.yaml", document)
    lines = validate_errors(path, watch=tmp_path)
    assert_reports(lines, path, "config.environments.prod.services.booking.technical.scaling_policies.memory_mb", "expected an integer, got str")
    assert len(lines) == 1, lines


def test_an_override_that_breaks_a_rule_with_a_default_names_the_overridden_entry(tmp_path: Path) -> None:
    """page_size_default above the defaults' page_size_max: the file set the section, so it is named."""
    document = valid_document()
    maximum = DEFAULTS.tenant_config["services"]["booking"]["business"]["business_rules"]["page_size_max"]
    _set(document["config"]["services"]["booking"], "business.business_rules.page_size_default", maximum + 1)
    path = write_yaml(tmp_path / "north-star.yaml", document)
    assert_reports(validate_errors(path, watch=tmp_path), path, "config.services.booking.business.business_rules", "page_size_default must not exceed page_size_max")


def test_published_resources_cannot_be_set_in_the_registry(tmp_path: Path) -> None:
    document = valid_document()
    _set(document["config"]["services"]["booking"], "integration.resources", {"bookings_table": "elsewhere"})
    path = write_yaml(tmp_path / "north-star.yaml", document)
    assert_reports(validate_errors(path, watch=tmp_path), path, "config.services.booking.integration.resources", "published by the infrastructure")


def test_the_shipped_registry_validates() -> None:
    result = run_cli("tenants", "validate")
    assert result.code == 0, result.stderr


def test_plan_refuses_a_bad_value_before_planning_and_writes_nothing(tmp_path: Path) -> None:
    registry = tmp_path / "tenants"
    document = valid_document()
    _set(document["config"]["services"]["booking"], "business.pricing_models.base_fare_minor", "60000")
    path = write_yaml(registry / "north-star.yaml", document)
    report = tmp_path / "plan.json"
    result = run_cli("plan", "--registry", str(registry), "--no-cache", "--format", "json", "--output", str(report))
    assert result.code == 2, result
    assert f"error: {path}: config.services.booking.business.pricing_models.base_fare_minor: expected an integer, got str" in result.stderr
    assert not report.exists()


# --- defaults.yaml and sensitive entries -------------------------------------------------------


def test_a_broken_defaults_file_is_refused_at_load_naming_each_entry() -> None:
    from ubertruck.defaults import parse_defaults
    from ubertruck.errors import UserErrors

    # The loaded defaults as plain data: the document the file holds, already known to parse.
    data = DEFAULTS.model_dump()
    data["tenant_config"]["services"]["booking"]["technical"]["scaling_policies"]["memory_mb"] = "lots"
    timeouts = data["environments"]["prod"]["tenant_config"]["global"]["operational"]["timeouts"]
    timeouts["function_timeout_seconds"] = 901  # antipattern: ignore[UT002] reason: a test input one above Lambda's 900 s limit
    with pytest.raises(UserErrors) as caught:
        parse_defaults(data, "defaults.yaml")
    assert [str(e) for e in caught.value.errors] == [
        "defaults.yaml: tenant_config.services.booking.technical.scaling_policies.memory_mb: expected an integer, got str",
        "defaults.yaml: environments.prod.tenant_config.global.operational.timeouts.function_timeout_seconds: Input should be less than or equal to 900",
    ]


def test_a_validator_message_about_a_sensitive_entry_never_shows_the_value() -> None:
    from ubertruck.settings import describe_config_error

    error = {"type": "value_error", "msg": "Value error, 'hunter2-value' is not allowed", "input": "hunter2-value"}
    assert "hunter2" not in describe_config_error(error, sensitive=True)
    assert "hunter2" in describe_config_error(error, sensitive=False)


def test_sensitive_entries_are_those_defaults_yaml_names() -> None:
    from ubertruck.settings import _is_sensitive

    patterns = DEFAULTS.platform.sensitive_config
    assert _is_sensitive(("global", "security", "authentication_rules", "token_use"), "dev", patterns)
    assert _is_sensitive(("services", "payment", "integration", "api_keys_reference", "provider_api_key"), "prod", patterns)
    assert not _is_sensitive(("services", "payment", "integration", "external_apis", "provider_endpoint"), "prod", patterns)
