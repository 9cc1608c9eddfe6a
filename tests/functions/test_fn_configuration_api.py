"""The config read API (GET /config/{path+}) through its real handler."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from common.api import ApiFunction
from common.environment import FunctionEnvironment
from common.bounds import SSM_HIERARCHY_MAX_LEVELS, SSM_PARAMETER_NAME_MAX_CHARS
from common.errors import ErrorResponse
from configuration.views import ConfigListingView

from .conftest import REGION
from .fn_hostile import fail_calls
from .fn_services import record_calls
from .fn_support import (
    DEFAULTS,
    FakeLambdaContext,
    Tenant,
    api_event,
    authorizer_for,
    build_function,
    import_handler,
    metric_names,
    response_json,
    scan_all,
    set_in,
    ssm_outage,
    tenant_config,
    write_parameters,
)

configuration_handler = import_handler("configuration")


def build(tenant: Tenant, code_root: Path) -> ApiFunction[Any]:
    return build_function(configuration_handler, tenant, code_root)


@pytest.fixture
def api(acme: Tenant, code_root: Path) -> ApiFunction[Any]:
    return build(acme, code_root)


def read(function: ApiFunction[Any], path: str, roles: str = "dispatcher", tenant: str = "acme") -> dict[str, Any]:
    event = api_event("GET", f"/config/{path}", resource="/config/{path+}", path_parameters={"path": path}, authorizer=authorizer_for(tenant, "user-1", roles))
    return function.lambda_handler(event, FakeLambdaContext())


def audit(tenant: Tenant) -> list[dict[str, Any]]:
    return scan_all(boto3.client("dynamodb", region_name=REGION), tenant.resources["configuration"]["audit_table"])


def test_reads_one_entry(api: ApiFunction[Any], acme: Tenant) -> None:
    response = read(api, "services/booking/dev/business/pricing_models")
    assert response["statusCode"] == 200
    body = response_json(response)
    [entry] = body["entries"]
    assert entry["name"] == "services/booking/dev/business/pricing_models"
    assert entry["value"] == acme.config["services"]["booking"]["business"]["pricing_models"]
    assert (entry["secure"], entry["parameter_version"]) == (False, 1)
    assert body["version"]


def test_reads_every_entry_under_a_prefix(api: ApiFunction[Any], acme: Tenant) -> None:
    body = response_json(read(api, "global/compliance"))
    assert [e["name"] for e in body["entries"]] == [f"global/compliance/{name}" for name in sorted(acme.config["global"]["compliance"])]
    values = {e["name"].rsplit("/", 1)[1]: e["value"] for e in body["entries"]}
    assert values == acme.config["global"]["compliance"]


def test_secure_string_values_are_redacted(api: ApiFunction[Any], acme: Tenant) -> None:
    response = read(api, "global/security")
    body = response_json(response)
    assert body["entries"] and all(e["secure"] and e["redacted"] and e["value"] is None for e in body["entries"])
    for secret_entry in acme.config["global"]["security"].values():
        assert json.dumps(secret_entry, sort_keys=True, separators=(",", ":")) not in response["body"]
    assert "token_max_age_seconds" not in response["body"]
    [api_keys] = response_json(read(api, "services/payment/dev/integration/api_keys_reference"))["entries"]
    assert (api_keys["secure"], api_keys["value"]) == (True, None)


def test_version_follows_the_values(provision_tenant: Any, code_root: Path) -> None:
    tenant = provision_tenant("acme", config=set_in(tenant_config("acme", "dev"), "services.configuration.technical.cache", {"max_age_seconds": 0}))
    function = build(tenant, code_root)
    first = response_json(read(function, "global/compliance"))["version"]
    assert response_json(read(function, "global/compliance"))["version"] == first
    tenant.config = set_in(tenant.config, "global.compliance.data_retention", {"days": 365})
    write_parameters(tenant, REGION)
    changed = response_json(read(function, "global/compliance"))
    assert changed["version"] != first
    assert {"days": 365} in [e["value"] for e in changed["entries"]]


def test_cached_answers_last_the_configured_age(api: ApiFunction[Any], acme: Tenant) -> None:
    first = response_json(read(api, "global/compliance"))
    acme.config = set_in(acme.config, "global.compliance.data_retention", {"days": 365})
    write_parameters(acme, REGION)
    assert response_json(read(api, "global/compliance")) == first  # default cache age is not over yet


def test_needs_config_read(api: ApiFunction[Any], acme: Tenant) -> None:
    response = read(api, "global/compliance", roles="customer")
    assert response["statusCode"] == 403
    assert audit(acme)[0]["outcome"] == "denied"


@pytest.mark.parametrize("path", ["global/../../globex/global", "global//compliance", "global/compli ance", "global/%2e%2e"], ids=["dot-dot", "empty-segment", "space", "encoded"])
def test_malformed_paths_are_400(api: ApiFunction[Any], path: str) -> None:
    response = read(api, path)
    assert response["statusCode"] == 400
    assert response_json(response)["error"]["details"][0]["field"] == "path"


def test_another_tenants_namespace_cannot_be_named(api: ApiFunction[Any], globex: Tenant) -> None:
    # "globex/global" is looked up under /acme, where nothing of globex's lives.
    response = read(api, "globex/global/compliance")
    assert response["statusCode"] == 404
    assert "globex" not in response_json(response)["error"]["message"]


def test_missing_entry_is_404(api: ApiFunction[Any]) -> None:
    assert read(api, "global/compliance/nothing_here")["statusCode"] == 404


def test_other_tenants_token_is_refused_without_reading(api: ApiFunction[Any], acme: Tenant) -> None:
    calls: list[str] = []
    api.config.provider.client.meta.events.register("before-call.*.*", lambda model, **_: calls.append(model.name))
    response = read(api, "global/compliance", roles="admin", tenant="globex")
    assert response["statusCode"] == 403
    assert calls == []
    assert audit(acme) == []


def test_each_read_is_audited(api: ApiFunction[Any], acme: Tenant) -> None:
    read(api, "global/compliance")
    read(api, "global/nothing")
    records = sorted(audit(acme), key=lambda r: r["occurred_at"])
    assert [(r["action"], r["outcome"], r["resource_id"]) for r in records] == [("config:read", "success", "global/compliance"), ("config:read", "not_found", "global/nothing")]


def test_ssm_down_without_a_fallback_value_answers_503_with_retry_after(provision_tenant: Any, code_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tenant = provision_tenant("acme", config=set_in(tenant_config("acme", "dev"), "global.operational.retry_policies.max_attempts", 1))
    function = build(tenant, code_root)
    ssm_outage(function.config.provider.client)
    # The configuration function's fallback holds the global tree and its own service tree only.
    response = read(function, "services/booking/dev/business/pricing_models")
    assert response["statusCode"] == 503
    retry_after = tenant.config["global"]["operational"]["dependency_outage"]["retry_after_seconds"]
    assert response["multiValueHeaders"]["Retry-After"] == [str(retry_after)]
    error = ErrorResponse.model_validate(response_json(response)).error
    assert (error.code, error.retry_after_seconds) == ("service_unavailable", retry_after)
    names = metric_names(capsys.readouterr().out)
    assert "ConfigurationError" in names and "DependencyUnavailable" in names and "UnexpectedError" not in names


def test_module_handler_is_built_from_the_environment(acme: Tenant) -> None:
    module = import_handler("configuration")
    assert module.function.env == FunctionEnvironment("configuration", "dev", "acme", "INFO")
    assert read(module.function, "global/compliance")["statusCode"] == 200


def test_the_requested_path_comes_from_the_path_parameter_else_the_request_path() -> None:
    with_parameter = api_event("GET", "/v1/config/global/compliance", path_parameters={"path": "global/compliance"})
    without = api_event("GET", "/config/global/compliance")
    assert configuration_handler.requested_path(with_parameter) == "global/compliance"
    assert configuration_handler.requested_path(without) == "global/compliance"
    assert configuration_handler.requested_path(api_event("GET", "/elsewhere")) == ""


# --- bounded paths ---------------------------------------------------------------------------------


def test_a_path_at_ssms_name_limit_is_looked_up_and_one_past_it_is_400(api: ApiFunction[Any], acme: Tenant) -> None:
    root = f"/{acme.tenant_id}/"
    at_limit = "global/" + "a" * (SSM_PARAMETER_NAME_MAX_CHARS - len(root) - len("global/"))
    assert read(api, at_limit)["statusCode"] == 404
    response = read(api, at_limit + "a")
    assert response["statusCode"] == 400
    [detail] = response_json(response)["error"]["details"]
    assert (detail["field"], detail["type"]) == ("path", "string_too_long")


def test_a_huge_path_is_400_without_reaching_ssm(api: ApiFunction[Any]) -> None:
    assert read(api, "global/compliance")["statusCode"] == 200  # config is loaded and cached
    calls = record_calls(api.config.provider.client)
    response = read(api, "global/" + "x" * 1_000_000)
    assert response["statusCode"] == 400
    assert calls == []


def test_a_path_deeper_than_ssms_hierarchy_is_400(api: ApiFunction[Any]) -> None:
    # The tenant root is one level; SSM allows fifteen in all.
    assert read(api, "/".join(["global"] + ["a"] * (SSM_HIERARCHY_MAX_LEVELS - 2)))["statusCode"] == 404
    response = read(api, "/".join(["global"] + ["a"] * (SSM_HIERARCHY_MAX_LEVELS - 1)))
    assert response["statusCode"] == 400
    assert [d["type"] for d in response_json(response)["error"]["details"]] == ["too_deep"]


def test_an_entry_nested_beyond_the_json_parser_is_shown_as_text(api: ApiFunction[Any], acme: Tenant) -> None:
    deep = "[" * 2000 + "]" * 2000
    boto3.client("ssm", region_name=REGION).put_parameter(Name=f"/{acme.tenant_id}/global/operational/deep_entry", Value=deep, Type="String")
    [entry] = response_json(read(api, "global/operational/deep_entry"))["entries"]
    assert entry["value"] == deep


def test_every_answer_matches_the_routes_response_model(api: ApiFunction[Any]) -> None:
    for path in ("global/compliance", "services/booking/dev/business/pricing_models", "global/security"):
        listing = ConfigListingView.model_validate(response_json(read(api, path)))
        assert listing.source == "ssm" and all(entry.parameter_version for entry in listing.entries)


# --- the parameter store down --------------------------------------------------------------------


def outage_tenant(provision_tenant: Any) -> Tenant:
    tenant: Tenant = provision_tenant("acme", config=set_in(tenant_config("acme", "dev"), "global.operational.retry_policies.max_attempts", 1))
    return tenant


@pytest.mark.parametrize("failure", ["unreachable", "throttled"])
def test_ssm_down_serves_the_fallback_marked_as_such(provision_tenant: Any, code_root: Path, failure: str, capsys: pytest.CaptureFixture[str]) -> None:
    tenant = outage_tenant(provision_tenant)
    function = build(tenant, code_root)
    fail_calls(function.config.provider.client, failure)
    response = read(function, "global/compliance")
    assert response["statusCode"] == 200
    listing = ConfigListingView.model_validate(response_json(response))
    assert listing.source == "fallback"
    assert {e.name.rsplit("/", 1)[1]: e.value for e in listing.entries} == tenant.config["global"]["compliance"]
    assert all(e.parameter_version is None for e in listing.entries)
    own = response_json(read(function, "services/configuration/dev/technical/cache"))
    assert (own["source"], own["entries"][0]["value"]) == ("fallback", tenant.config["services"]["configuration"]["technical"]["cache"])
    names = metric_names(capsys.readouterr().out)
    assert "DependencyUnavailable" in names and "UnexpectedError" not in names


def test_the_fallback_never_shows_a_sensitive_value(provision_tenant: Any, code_root: Path) -> None:
    tenant = outage_tenant(provision_tenant)
    function = build(tenant, code_root)
    ssm_outage(function.config.provider.client)
    response = read(function, "global/security")
    listing = ConfigListingView.model_validate(response_json(response))
    assert listing.source == "fallback" and listing.entries
    assert all(e.secure and e.redacted and e.value is None for e in listing.entries)
    for value in tenant.config["global"]["security"].values():
        assert json.dumps(value, separators=(",", ":")) not in response["body"]
    assert "token_max_age_seconds" not in response["body"]


def test_the_fallback_redacts_what_the_platform_stores_as_securestring() -> None:
    redacted = DEFAULTS["tenant_config"]["services"]["configuration"]["technical"]["fallback"]["sensitive_entries"]
    assert redacted == DEFAULTS["platform"]["sensitive_config"]


@pytest.mark.parametrize("path", ["services", "services/configuration", "global/compliance/not_an_entry"], ids=["spans-trees", "spans-environments", "unknown-entry"])
def test_ssm_down_where_the_fallback_cannot_answer_is_503(provision_tenant: Any, code_root: Path, path: str) -> None:
    tenant = outage_tenant(provision_tenant)
    function = build(tenant, code_root)
    ssm_outage(function.config.provider.client)
    response = read(function, path)
    assert response["statusCode"] == 503
    assert response["multiValueHeaders"]["Retry-After"] == [str(tenant.config["global"]["operational"]["dependency_outage"]["retry_after_seconds"])]
    ErrorResponse.model_validate(response_json(response))
