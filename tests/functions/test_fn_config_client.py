"""ConfigurationClient against moto SSM: typed reads, caching, versions, fallback and its metric."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Metrics
from pydantic import Field

from common.config_client import SOURCE_FALLBACK, SOURCE_SSM, ConfigurationClient, config_version
from common.config_schema import ConfigModel, ServiceConfig
from common.errors import ConfigurationError, ConfigurationUnavailable

from .conftest import REGION
from .fn_support import Tenant, set_in, ssm_outage, tenant_config, write_parameters


class Pricing(ConfigModel):
    currency: str = Field(min_length=1)
    base_fare_minor: int


class PricingBusiness(ConfigModel):
    pricing_models: Pricing


class PricingConfig(ServiceConfig):
    business: PricingBusiness


@pytest.fixture
def metrics() -> Any:
    metrics = Metrics(service="booking")
    metrics.clear_metrics()
    yield metrics
    metrics.clear_metrics()


def make_client(tenant: Tenant, code_root: Path, metrics: Metrics, *, with_fallback: bool = True) -> ConfigurationClient[PricingConfig]:
    if with_fallback:
        tenant.write_fallback(code_root, "booking")
    return ConfigurationClient(
        "booking", tenant.environment, schema=PricingConfig, tenant_id=tenant.tenant_id,
        fallback_file=code_root / "fallback.json", metrics=metrics,
    )


def count_ssm_calls(client: ConfigurationClient[Any]) -> list[str]:
    calls: list[str] = []
    client.provider.client.meta.events.register("before-call.ssm.*", lambda model, **_: calls.append(model.name))
    return calls


def config_errors(metrics: Metrics) -> float:
    entry = metrics.metric_set.get(ConfigurationError.metric)
    return sum(entry["Value"]) if entry else 0


def test_get_config_returns_service_values_and_version(acme: Tenant, code_root: Path, metrics: Metrics) -> None:
    client = make_client(acme, code_root, metrics)
    result = client.get_config("business/pricing_models")
    expected = acme.config["services"]["booking"]["business"]["pricing_models"]
    assert result.values["currency"] == expected["currency"]
    assert result.values["base_fare_minor"] == expected["base_fare_minor"]
    assert result.source == SOURCE_SSM
    assert result.version == client.service_config().version
    assert client.service_config().model.business.pricing_models.currency == expected["currency"]


def test_global_paths_read_the_global_tree_including_secure_strings(acme: Tenant, code_root: Path, metrics: Metrics) -> None:
    client = make_client(acme, code_root, metrics)
    roles = client.get_config("global/security/authorization_policies").values["roles"]
    assert dict(roles)["admin"] == tuple(acme.config["global"]["security"]["authorization_policies"]["roles"]["admin"])
    retention = client.get_config("global/compliance/data_retention").values["days"]
    assert retention == acme.config["global"]["compliance"]["data_retention"]["days"]


def test_version_is_a_stable_digest_of_the_values(acme: Tenant, code_root: Path, metrics: Metrics) -> None:
    first = make_client(acme, code_root, metrics).service_config().version
    second = make_client(acme, code_root, metrics).service_config().version
    assert first == second == config_version(_service_values(acme))


def test_version_changes_when_a_value_changes(acme: Tenant, code_root: Path, metrics: Metrics) -> None:
    client = make_client(acme, code_root, metrics)
    before = client.service_config().version
    acme.config = set_in(acme.config, "services.booking.business.pricing_models.base_fare_minor", 1)
    write_parameters(acme, REGION)
    client.clear_cache()
    after = client.service_config()
    assert after.version != before
    assert after.model.business.pricing_models.base_fare_minor == 1


def test_values_are_cached_for_the_configured_age(acme: Tenant, code_root: Path, metrics: Metrics) -> None:
    client = make_client(acme, code_root, metrics)
    calls = count_ssm_calls(client)
    for _ in range(5):
        client.get_config("business/pricing_models")
    assert calls == ["GetParametersByPath"]


def test_zero_cache_age_in_config_reads_ssm_every_time(provision_tenant: Any, code_root: Path, metrics: Metrics) -> None:
    config = set_in(tenant_config("acme", "dev"), "services.booking.technical.cache", {"max_age_seconds": 0})
    tenant = provision_tenant("acme", config=config)
    client = make_client(tenant, code_root, metrics)
    calls = count_ssm_calls(client)
    for _ in range(3):
        client.get_config("business/pricing_models")
    assert calls == ["GetParametersByPath"] * 3


def test_cache_age_is_bootstrapped_from_the_fallback_before_ssm_answers(provision_tenant: Any, code_root: Path, metrics: Metrics) -> None:
    # SSM says 60 s; the packaged fallback says 0: the very first read may not be cached,
    # every later one is cached for SSM's 60 s.
    tenant = provision_tenant("acme")
    fallback_says_zero = Tenant(tenant.tenant_id, tenant.environment, set_in(tenant.config, "services.booking.technical.cache", {"max_age_seconds": 0}), tenant.resources)
    fallback_says_zero.write_fallback(code_root, "booking")
    client = ConfigurationClient("booking", "dev", schema=PricingConfig, tenant_id="acme", fallback_file=code_root / "fallback.json", metrics=metrics)
    calls = count_ssm_calls(client)
    for _ in range(4):
        client.service_config()
    assert calls == ["GetParametersByPath"] * 2


def test_unreachable_ssm_falls_back_and_counts_a_configuration_error(acme: Tenant, code_root: Path, metrics: Metrics) -> None:
    acme.config = set_in(acme.config, "global.operational.retry_policies.max_attempts", 1)
    client = make_client(acme, code_root, metrics)
    ssm_outage(client.provider.client)
    result = client.get_config("business/pricing_models")
    assert result.source == SOURCE_FALLBACK
    assert result.version == "fallback"
    assert result.values["currency"] == acme.config["services"]["booking"]["business"]["pricing_models"]["currency"]
    assert config_errors(metrics) == 1


def test_fallback_is_kept_for_the_cache_age_then_ssm_is_asked_again(provision_tenant: Any, code_root: Path, metrics: Metrics) -> None:
    config = set_in(tenant_config("acme", "dev"), "services.booking.technical.cache", {"max_age_seconds": 0})
    config = set_in(config, "global.operational.retry_policies.max_attempts", 1)
    tenant = provision_tenant("acme", config=config)
    client = make_client(tenant, code_root, metrics)
    outage = ssm_outage(client.provider.client)
    assert client.service_config().source == SOURCE_FALLBACK
    client.provider.client.meta.events.unregister("before-send.ssm.*", outage)
    # A zero cache age means the fallback is not held either: the next read goes to SSM.
    assert client.service_config().source == SOURCE_SSM


def test_invalid_value_in_ssm_falls_back_and_counts_a_configuration_error(acme: Tenant, code_root: Path, metrics: Metrics) -> None:
    client = make_client(acme, code_root, metrics)
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/acme/services/booking/dev/business/pricing_models", Value='{"currency": 7, "base_fare_minor": "lots"}', Type="String", Overwrite=True
    )
    snapshot = client.service_config()
    assert snapshot.source == SOURCE_FALLBACK
    assert snapshot.model.business.pricing_models.currency == acme.config["services"]["booking"]["business"]["pricing_models"]["currency"]
    assert config_errors(metrics) == 1


@pytest.mark.parametrize("value", ["{not json", "[" * 2000 + "]" * 2000], ids=["malformed", "nested-beyond-the-parser"])
def test_undecodable_json_in_ssm_falls_back(acme: Tenant, code_root: Path, metrics: Metrics, value: str) -> None:
    client = make_client(acme, code_root, metrics)
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/acme/services/booking/dev/business/pricing_models", Value=value, Type="String", Overwrite=True
    )
    assert client.service_config().source == SOURCE_FALLBACK
    assert config_errors(metrics) == 1


def test_empty_namespace_falls_back(aws: None, code_root: Path, metrics: Metrics) -> None:
    tenant = Tenant("acme", "dev", tenant_config("acme", "dev"))
    client = make_client(tenant, code_root, metrics)
    assert client.global_config().source == SOURCE_FALLBACK
    assert config_errors(metrics) == 1


def test_no_fallback_and_no_ssm_raises_configuration_unavailable(acme: Tenant, code_root: Path, metrics: Metrics) -> None:
    client = ConfigurationClient("booking", "dev", schema=PricingConfig, tenant_id="acme", fallback_file=code_root / "missing.json", metrics=metrics)
    boto3.client("ssm", region_name=REGION).delete_parameters(Names=[name for name, _, _ in acme.parameters() if "/services/booking/" in name])
    with pytest.raises(ConfigurationUnavailable):
        client.service_config()
    assert config_errors(metrics) == 1


def test_invalid_fallback_is_not_used(acme: Tenant, code_root: Path, metrics: Metrics) -> None:
    (code_root / "fallback.json").write_text('{"version": "fallback", "global": {}, "service_config": {"business": {}}}')
    client = ConfigurationClient("booking", "dev", schema=PricingConfig, tenant_id="acme", fallback_file=code_root / "fallback.json", metrics=metrics)
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/acme/services/booking/dev/business/pricing_models", Value='{"currency": ""}', Type="String", Overwrite=True
    )
    with pytest.raises(ConfigurationUnavailable, match="fallback is invalid"):
        client.service_config()


def test_unknown_entry_is_a_configuration_error(acme: Tenant, code_root: Path, metrics: Metrics) -> None:
    client = make_client(acme, code_root, metrics)
    with pytest.raises(ConfigurationError, match="does not exist"):
        client.get_config("business/no_such_entry")


def test_values_are_read_only(acme: Tenant, code_root: Path, metrics: Metrics) -> None:
    values = make_client(acme, code_root, metrics).get_config("business").values
    with pytest.raises(TypeError):
        values["pricing_models"] = {}  # type: ignore[index]


def test_metrics_namespace_comes_from_observability_config(acme: Tenant, code_root: Path, metrics: Metrics) -> None:
    client = make_client(acme, code_root, metrics)
    expected = acme.config["services"]["observability"]["technical"]["metrics"]["namespace"]
    assert client.known_metrics_namespace() == expected  # from the fallback, nothing read yet
    assert client.observability_config().model.technical.metrics.namespace == expected


def test_tenant_defaults_to_the_config_service_url(acme: Tenant, code_root: Path, metrics: Metrics, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFIG_SERVICE_URL", "ssm:///acme")
    client = ConfigurationClient("booking", "dev", schema=PricingConfig, metrics=metrics)
    assert client.env.service_namespace == "/acme/services/booking/dev"
    assert client.get_config("business/pricing_models").source == SOURCE_SSM


def _service_values(tenant: Tenant) -> dict[str, Any]:
    # The service's tree as the function meets it: merged config plus its published resources.
    sections = tenant.fallback_document("booking")["service_config"]
    return {name: values for name, values in sections.items() if values}


# --- Retry-After of a 503 ----------------------------------------------------------------------


def retry_after_in(config: dict[str, Any]) -> int:
    return int(config["global"]["operational"]["dependency_outage"]["retry_after_seconds"])


def test_retry_after_comes_from_the_global_config(provision_tenant: Any, code_root: Path, metrics: Metrics) -> None:
    tenant = provision_tenant("acme", config=set_in(tenant_config("acme", "dev"), "global.operational.dependency_outage.retry_after_seconds", 42))
    assert make_client(tenant, code_root, metrics).retry_after_seconds() == 42


def test_retry_after_survives_an_invalid_fallback_global_tree_while_ssm_is_down(acme: Tenant, code_root: Path, metrics: Metrics) -> None:
    client = make_client(acme, code_root, metrics)
    document = acme.fallback_document("booking")
    del document["global"]["security"]
    (code_root / "fallback.json").write_text(json.dumps(document), encoding="utf-8")
    client.clear_cache()
    ssm_outage(client.provider.client)
    with pytest.raises(ConfigurationUnavailable):
        client.global_config()
    assert client.retry_after_seconds() == retry_after_in(acme.config)


def test_no_config_anywhere_gives_no_retry_after(acme: Tenant, code_root: Path, metrics: Metrics) -> None:
    client = ConfigurationClient("booking", "dev", schema=PricingConfig, tenant_id="acme", fallback_file=code_root / "missing.json", metrics=metrics)
    ssm_outage(client.provider.client)
    assert client.retry_after_seconds() is None
