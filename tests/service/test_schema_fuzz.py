"""Schemathesis against the app's own OpenAPI schema: for generated requests on every route, no
5xx, and every response (status, content type, body) is one the schema documents."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from platformctl.service.tokens import Scope, TokenStore

from .app_support import Rig, running_rig

#: Generated requests per route: enough to reach every documented refusal, small enough that the
#: whole module takes about twenty seconds.
EXAMPLES_PER_ROUTE = 30
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    with running_rig(tmp_path_factory.mktemp("fuzz")) as rig:
        yield rig


@pytest.fixture(scope="module")
def headers(rig: Rig) -> dict[str, str]:
    _record, secret = TokenStore(rig.database).create(list(Scope), expires_days=None, label="fuzz")
    return {"Authorization": f"Bearer {secret}"}


def test_every_response_matches_the_schema_and_none_is_a_server_error(rig: Rig, headers: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", rig.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 9  # every operation of the API is fuzzed

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()


def test_the_schema_documents_the_registry_entry_as_the_post_body(rig: Rig) -> None:
    document = rig.app.openapi()
    body = document["paths"]["/tenants"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"] == "#/components/schemas/Tenant"
    assert set(document["components"]["schemas"]["Tenant"]["required"]) >= {"id", "tier", "contacts", "environments", "compliance", "region"}
    assert "401" in document["paths"]["/tenants"]["get"]["responses"] and "HTTPBearer" in document["components"]["securitySchemes"]


def test_the_fuzz_leaves_a_registry_that_loads(rig: Rig) -> None:
    # Whatever the fuzz registered is a valid registry file: the registry still loads in full.
    from ubertruck.registry import load_registry

    assert load_registry([rig.registry]).errors == []
