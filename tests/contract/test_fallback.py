"""Fallback documents: whatever config `tenants validate` accepts produces, for every function,
a `fallback.json` that the function's own config client loads when SSM is unreachable; and a
fallback the function would refuse is never produced."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from tests.registry.support import valid_document
from ubertruck.contracts import FUNCTIONS_DIR, PUBLISHED_ENTRY, schema_for
from ubertruck.defaults import load_defaults
from ubertruck.errors import UserError, UserErrors
from ubertruck.registry.loader import parse_tenant
from ubertruck.settings import tenant_settings

# Imported after ubertruck.contracts, which registers the function library as `common`.
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from common.config_client import SOURCE_FALLBACK, ConfigurationClient
from common.errors import ConfigurationError

DEFAULTS = load_defaults()
WHERE = "tenants/north-star.yaml"
#: The services that run functions: each has a package under functions/ with its schema.
FUNCTION_SERVICES = [s for s in DEFAULTS.platform.services if (FUNCTIONS_DIR / s / "config_schema.py").is_file()]


class Unreachable:
    """An SSM provider whose every read fails, as when the config service is down."""

    def get_multiple(self, *args: Any, **kwargs: Any) -> Any:
        raise GetParameterError("config service unreachable")

    def get(self, *args: Any, **kwargs: Any) -> Any:
        raise GetParameterError("config service unreachable")

    def clear_cache(self) -> None:
        """Nothing is cached."""


def sample_resources(service: str) -> dict[str, str]:
    """Published resources of ``service`` of the shape the components publish: names, and ARNs
    or URLs where the schema asks for one."""
    integration = schema_for(service).model_fields["integration"].annotation
    assert isinstance(integration, type) and issubclass(integration, BaseModel)
    resources = integration.model_fields[PUBLISHED_ENTRY].annotation
    assert isinstance(resources, type) and issubclass(resources, BaseModel)
    values = {}
    for name, field in resources.model_fields.items():
        pattern = next((m.pattern for m in field.metadata if getattr(m, "pattern", None)), "")
        kind = next((k for k in ("sns", "secretsmanager") if f":{k}:" in pattern), None)
        if kind:
            values[name] = f"arn:aws:{kind}:ap-south-1:111111111111:north-star-dev-{name}"
        elif "https" in pattern:
            values[name] = f"https://cognito-idp.ap-south-1.amazonaws.com/north-star-{name}"
        else:
            values[name] = f"north-star-dev-{name}"
    return values


@pytest.fixture(scope="module")
def code_root() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def load_with_the_function(service: str, environment: str, document: dict[str, Any], code_root: Path) -> dict[str, Any]:
    """The service tree the function's config client serves from ``document`` while SSM is down."""
    path = code_root / f"{service}-{environment}.json"
    path.write_text(json.dumps(document, sort_keys=True, indent=1), encoding="utf-8")
    metrics = Metrics(namespace="ContractTest", service=service)
    try:
        client = ConfigurationClient(
            service, environment, schema=schema_for(service), tenant_id="north-star", fallback_file=path,
            provider=Unreachable(), metrics=metrics, logger=Logger(service=service, level="ERROR"),  # type: ignore[arg-type]
        )
        snapshot = client.service_config()
        assert snapshot.source == SOURCE_FALLBACK
        assert client.global_config().source == SOURCE_FALLBACK
        assert client.observability_config().source == SOURCE_FALLBACK
        return json.loads(json.dumps(snapshot.model.model_dump()))
    finally:
        metrics.clear_metrics()


def _check_every_fallback(tenant_document: dict[str, Any], code_root: Path) -> None:
    tenant = parse_tenant(tenant_document, WHERE, expected_id="north-star")
    for environment in tenant.environments:
        settings_ = tenant_settings(tenant, environment, DEFAULTS)
        for service in FUNCTION_SERVICES:
            resources = sample_resources(service)
            document = settings_.fallback_document(service, resources)
            served = load_with_the_function(service, environment, document, code_root)
            # The function serves exactly the merged values plus the published resources.
            expected = schema_for(service).model_validate(document["service_config"]).model_dump()
            assert served == json.loads(json.dumps(expected))
            assert served["integration"][PUBLISHED_ENTRY] == resources


def test_shipped_defaults_give_every_function_a_fallback_it_loads(code_root: Path) -> None:
    _check_every_fallback(valid_document(), code_root)


# --- random configs ----------------------------------------------------------------------------


def _leaves(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif not isinstance(node, list):
        yield path, node


#: Every scalar entry of the platform's services config (the entries a tenant may override).
LEAVES = [(path, value) for path, value in _leaves(DEFAULTS.tenant_config["services"]) if path[0] in FUNCTION_SERVICES or path[0] == "observability"]


def _value_like(default: Any) -> st.SearchStrategy[Any]:
    """Well-typed values for an entry whose default is ``default``: same type, any size (some
    beyond what the schema allows, which validation must then refuse)."""
    if isinstance(default, bool):
        return st.booleans()
    if isinstance(default, int):
        return st.integers(min_value=-1, max_value=max(2 * default, 16))
    if isinstance(default, float):
        return st.floats(min_value=0, max_value=max(2 * default, 16.0), allow_nan=False)
    if isinstance(default, str):
        return st.sampled_from([default, default.lower(), default + "x", ""])
    return st.just(default)


OVERRIDES = st.lists(
    st.sampled_from(range(len(LEAVES))).flatmap(lambda i: st.tuples(st.just(LEAVES[i][0]), _value_like(LEAVES[i][1]))),
    min_size=1,
    max_size=4,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(OVERRIDES)
def test_any_config_validate_accepts_gives_fallbacks_every_function_loads(code_root: Path, overrides: list[tuple[tuple[str, ...], Any]]) -> None:
    document = valid_document()
    for path, value in overrides:
        node = document["config"]["services"]
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    try:
        parse_tenant(document, WHERE, expected_id="north-star")
    except UserErrors as exc:
        # Refused: every line names the file and a config entry, and nothing more is promised.
        assert all(str(e).startswith(f"{WHERE}: config.") for e in exc.errors), exc
        event("refused")
        return
    except UserError as exc:
        assert str(exc).startswith(f"{WHERE}: config."), exc
        return
    event("accepted")
    _check_every_fallback(document, code_root)


# --- a fallback the function would refuse is never produced ------------------------------------


def test_fallback_with_a_resource_the_function_would_refuse_is_an_error_naming_it() -> None:
    settings_ = tenant_settings(parse_tenant(valid_document(), WHERE, expected_id="north-star"), "dev", DEFAULTS)
    resources = {**sample_resources("booking"), "events_topic_arn": "not-an-arn"}
    with pytest.raises(UserErrors) as caught:
        settings_.fallback_document("booking", resources)
    [error] = caught.value.errors
    assert error.where == f"{WHERE}: fallback.json of booking (dev): service_config.integration.resources.events_topic_arn"


def test_the_function_itself_refuses_what_fallback_validation_refuses(code_root: Path) -> None:
    """The check before packaging and the function agree: the same bad document fails both."""
    settings_ = tenant_settings(parse_tenant(valid_document(), WHERE, expected_id="north-star"), "dev", DEFAULTS)
    document = settings_.fallback_document("booking", sample_resources("booking"))
    document["service_config"]["technical"]["scaling_policies"]["memory_mb"] = "lots"
    assert [p.dotted for p in settings_.fallback_problems("booking", document)] == ["service_config.technical.scaling_policies.memory_mb"]
    with pytest.raises(ConfigurationError, match="fallback is invalid"):
        load_with_the_function("booking", "dev", document, code_root)
