"""The pre token generation trigger (V2_0 event) through its real handler, on a moto-provisioned tenant."""

from __future__ import annotations

import copy
import importlib
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import pytest

from common.environment import FunctionEnvironment
from common.runtime import FunctionRuntime
from common.tenant import TenantRefused

from .fn_support import FakeLambdaContext, Tenant, build_function, emitted_metrics, import_handler, metric_names, ssm_outage

TENANT_CLAIM = "custom:tenant_id"
GROUPS = {"groupsToOverride": ["customer", "dispatcher"], "iamRolesToOverride": [], "preferredRole": None}


def import_pre_token(tenant_id: str = "acme", environment: str = "dev") -> ModuleType:
    """Import ``auth.pre_token`` fresh, under the environment its Lambda function would have."""
    import_handler("auth", tenant_id, environment)  # makes ``auth`` the functions/auth package
    variables = {"SERVICE_NAME": "auth", "ENVIRONMENT": environment, "CONFIG_SERVICE_URL": f"ssm:///{tenant_id}", "LOG_LEVEL": "INFO"}
    with mock.patch.dict(os.environ, variables):
        sys.modules.pop("auth.pre_token", None)
        return importlib.import_module("auth.pre_token")


pre_token = import_pre_token()


def token_event(attributes: dict[str, str], trigger_source: str = "TokenGeneration_Authentication") -> dict[str, Any]:
    """A V2_0 pre token generation event as Cognito sends it (response still empty)."""
    return {
        "version": "2",
        "triggerSource": trigger_source,
        "region": "ap-south-1",
        "userPoolId": "ap-south-1_pool",
        "userName": "user-1",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "client-1"},
        "request": {
            "userAttributes": {"sub": "user-1", "email": "driver@example.com", "email_verified": "true", **attributes},
            "groupConfiguration": copy.deepcopy(GROUPS),
            "scopes": ["aws.cognito.signin.user.admin"],
        },
        "response": {"claimsAndScopeOverrideDetails": None},
    }


def invoke(function: FunctionRuntime[Any], event: dict[str, Any]) -> dict[str, Any]:
    assert function.lambda_handler is not None
    return function.lambda_handler(event, FakeLambdaContext())


@pytest.fixture
def issuer(acme: Tenant, code_root: Path) -> FunctionRuntime[Any]:
    return build_function(pre_token, acme, code_root)


@pytest.mark.parametrize("trigger_source", ["TokenGeneration_Authentication", "TokenGeneration_RefreshTokens", "TokenGeneration_NewPasswordChallenge"])
def test_own_tenant_attribute_is_added_to_access_and_id_tokens(
    issuer: FunctionRuntime[Any], trigger_source: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = invoke(issuer, token_event({TENANT_CLAIM: "acme"}, trigger_source))
    details = result["response"]["claimsAndScopeOverrideDetails"]
    assert details["accessTokenGeneration"]["claimsToAddOrOverride"] == {TENANT_CLAIM: "acme"}
    assert details["idTokenGeneration"]["claimsToAddOrOverride"] == {TENANT_CLAIM: "acme"}
    # The groups come back as requested, so the token keeps the roles the authorizer reads.
    assert details["groupOverrideDetails"] == GROUPS
    assert "OperationSuccess" in metric_names(capsys.readouterr().out)


def test_user_without_tenant_attribute_gets_no_tokens(issuer: FunctionRuntime[Any], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(TenantRefused, match="no custom:tenant_id"):
        invoke(issuer, token_event({}))
    assert "TenantMismatch" in metric_names(capsys.readouterr().out)


def test_user_of_another_tenant_gets_no_tokens(issuer: FunctionRuntime[Any], capsys: pytest.CaptureFixture[str]) -> None:
    event = token_event({TENANT_CLAIM: "globex"})
    with pytest.raises(TenantRefused, match="not this pool's tenant"):
        invoke(issuer, event)
    names = metric_names(capsys.readouterr().out)
    assert "TenantMismatch" in names and "OperationSuccess" not in names
    assert event["response"] == {"claimsAndScopeOverrideDetails": None}


def test_the_functions_own_tenant_comes_from_its_environment(globex: Tenant, code_root: Path) -> None:
    # The same attribute that acme's function accepts is refused by globex's.
    function = build_function(pre_token, globex, code_root)
    with pytest.raises(TenantRefused):
        invoke(function, token_event({TENANT_CLAIM: "acme"}))
    details = invoke(function, token_event({TENANT_CLAIM: "globex"}))["response"]["claimsAndScopeOverrideDetails"]
    assert details["accessTokenGeneration"]["claimsToAddOrOverride"] == {TENANT_CLAIM: "globex"}


def test_an_event_that_issues_no_tokens_is_returned_unchanged(issuer: FunctionRuntime[Any]) -> None:
    event = token_event({}, trigger_source="PostAuthentication_Authentication")
    expected = copy.deepcopy(event)
    assert invoke(issuer, event) == expected


def test_claims_other_code_already_added_are_kept(issuer: FunctionRuntime[Any]) -> None:
    event = token_event({TENANT_CLAIM: "acme"})
    event["response"] = {"claimsAndScopeOverrideDetails": {"accessTokenGeneration": {"claimsToAddOrOverride": {"plan": "gold"}}}}
    details = invoke(issuer, event)["response"]["claimsAndScopeOverrideDetails"]
    assert details["accessTokenGeneration"]["claimsToAddOrOverride"] == {"plan": "gold", TENANT_CLAIM: "acme"}


def packaged_without_pool_resources(tenant: Tenant, code_root: Path) -> FunctionRuntime[Any]:
    """The function with the fallback the infrastructure packages for it: no ``integration``
    resources, since the pool is created after the function that it triggers."""
    document = tenant.fallback_document("auth")
    document["service_config"]["integration"] = {}
    code_root.mkdir(parents=True, exist_ok=True)
    (code_root / "fallback.json").write_text(json.dumps(document), encoding="utf-8")
    return pre_token.build(FunctionEnvironment("auth", tenant.environment, tenant.tenant_id), code_root=code_root)


def test_config_is_cached_between_sign_ins(acme: Tenant, code_root: Path) -> None:
    function = packaged_without_pool_resources(acme, code_root)
    calls: list[str] = []
    function.config.provider.client.meta.events.register_first("before-send.ssm.*", lambda **kwargs: calls.append(kwargs["request"].url))
    invoke(function, token_event({TENANT_CLAIM: "acme"}))
    first = len(calls)
    invoke(function, token_event({TENANT_CLAIM: "acme"}))
    assert first > 0 and len(calls) == first


def test_tokens_are_issued_while_the_config_service_is_down(acme: Tenant, code_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    function = packaged_without_pool_resources(acme, code_root)
    ssm_outage(function.config.provider.client)
    details = invoke(function, token_event({TENANT_CLAIM: "acme"}))["response"]["claimsAndScopeOverrideDetails"]
    assert details["accessTokenGeneration"]["claimsToAddOrOverride"] == {TENANT_CLAIM: "acme"}
    namespace = acme.config["services"]["observability"]["technical"]["metrics"]["namespace"]
    [blob] = emitted_metrics(capsys.readouterr().out)
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == namespace
