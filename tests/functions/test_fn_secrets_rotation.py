"""The rotation function through its real handler: every step against moto Secrets Manager."""

from __future__ import annotations

import json
import string
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from common.environment import FunctionEnvironment
from common.runtime import FunctionRuntime

from .conftest import REGION
from .fn_support import FakeLambdaContext, Tenant, build_function, import_handler, metric_names, scan_all, set_in, tenant_config

secrets_handler = import_handler("secrets")
from secrets.rotation import STEPS  # noqa: E402 - the package must be loaded as functions/secrets first

GENERATION = tenant_config("acme", "dev")["services"]["secrets"]["technical"]["generation"]


def build(tenant: Tenant, code_root: Path) -> FunctionRuntime[Any]:
    return build_function(secrets_handler, tenant, code_root)


@pytest.fixture
def rotator(acme: Tenant, code_root: Path) -> FunctionRuntime[Any]:
    return build(acme, code_root)


def client() -> Any:
    return boto3.client("secretsmanager", region_name=REGION)


def make_secret(tenant: Tenant, value: str, *, tenant_tag: str | None = None, profile: str | None = None, rotate: bool = True) -> tuple[str, str]:
    """A secret of ``tenant`` (tagged as ``tenant_tag`` if given), with a rotation started: (arn, token)."""
    tags = [{"Key": "tenant_id", "Value": tenant_tag or tenant.tenant_id}]
    if profile is not None:
        tags.append({"Key": GENERATION["profile_tag"], "Value": profile})
    arn = client().create_secret(Name=f"{tenant.tenant_id}/{uuid.uuid4().hex[:8]}", SecretString=value, KmsKeyId=tenant.kms_key_id, Tags=tags)["ARN"]
    token = str(uuid.uuid4())
    if rotate:
        start_rotation(arn, token, tenant.config["services"]["secrets"]["technical"]["rotation"]["schedule_days"])
    return arn, token


def start_rotation(arn: str, token: str, schedule_days: int) -> None:
    """Put the secret where Secrets Manager puts it before calling the function's first step.

    The service turns rotation on and stages a new, empty version ``AWSPENDING`` under the token.
    moto's RotateSecret, given no Lambda to call, instead makes the new version current at once,
    so the state is set in moto's backend directly.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.secretsmanager.models import secretsmanager_backends

    secret = secretsmanager_backends[DEFAULT_ACCOUNT_ID][REGION].secrets[arn]
    secret.remove_version_stages_from_old_versions(["AWSPENDING"])
    secret.versions[token] = {"createdate": int(time.time()), "version_id": token, "version_stages": ["AWSPENDING"]}
    secret.auto_rotate_after_days = schedule_days
    secret.rotation_enabled = True
    secret.rotation_requested = True


def step(function: FunctionRuntime[Any], name: str, arn: str, token: str) -> dict[str, str]:
    assert function.lambda_handler is not None
    return function.lambda_handler({"Step": name, "SecretId": arn, "ClientRequestToken": token}, FakeLambdaContext())


def rotate(function: FunctionRuntime[Any], arn: str, token: str) -> list[str]:
    return [step(function, name, arn, token)["result"] for name in STEPS]


def current(arn: str) -> str:
    # By stage: moto does not move its default version along with AWSCURRENT.
    return str(client().get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])


def audit(tenant: Tenant) -> list[dict[str, Any]]:
    records = scan_all(boto3.client("dynamodb", region_name=REGION), tenant.resources["secrets"]["audit_table"])
    return sorted(records, key=lambda r: r["occurred_at"])


def test_full_rotation_of_a_json_api_key(rotator: FunctionRuntime[Any], acme: Tenant) -> None:
    rules = GENERATION["profiles"]["api_key"]
    field, old_value = rules["field"], f"old-{uuid.uuid4().hex}"
    arn, token = make_secret(acme, json.dumps({field: old_value, "account": "acme-001"}), profile="api_key")
    assert rotate(rotator, arn, token) == ["created", "nothing to push", "tested", "finished"]
    rotated = json.loads(current(arn))
    new_value = rotated[field]
    assert rotated["account"] == "acme-001"
    assert new_value != old_value
    assert len(new_value) == rules["length"]
    assert not any(ch in string.punctuation for ch in new_value)
    versions = client().describe_secret(SecretId=arn)["VersionIdsToStages"]
    assert "AWSCURRENT" in versions[token]
    records = audit(acme)
    assert [(r["action"], r["outcome"]) for r in records] == [(f"secrets:{name}", "success") for name in STEPS]
    assert all(r["resource_id"] == arn and r["user_id"] == "secretsmanager.amazonaws.com" for r in records)
    assert all(old_value not in json.dumps(r) and new_value not in json.dumps(r) for r in records)


def test_untagged_profile_uses_the_default_and_replaces_plain_text_whole(rotator: FunctionRuntime[Any], acme: Tenant) -> None:
    arn, token = make_secret(acme, "plain-old-password")
    rotate(rotator, arn, token)
    value = current(arn)
    rules = GENERATION["profiles"][GENERATION["default_profile"]]
    assert len(value) == rules["length"]
    assert not set(value) & set(rules["exclude_characters"])
    assert any(c.isupper() for c in value) and any(c.islower() for c in value) and any(c.isdigit() for c in value)


def test_generation_rules_follow_config(provision_tenant: Any, code_root: Path) -> None:
    config = set_in(tenant_config("acme", "dev"), "services.secrets.technical.generation.profiles.password.length", 64)
    tenant = provision_tenant("acme", config=config)
    function = build(tenant, code_root)
    arn, token = make_secret(tenant, "x")
    rotate(function, arn, token)
    assert len(current(arn)) == 64


def test_create_is_safe_to_retry(rotator: FunctionRuntime[Any], acme: Tenant) -> None:
    arn, token = make_secret(acme, json.dumps({"password": "p"}))
    assert step(rotator, "createSecret", arn, token)["result"] == "created"
    pending = client().get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")["SecretString"]
    assert step(rotator, "createSecret", arn, token)["result"] == "pending value exists"
    assert client().get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")["SecretString"] == pending


def test_a_finished_rotation_is_not_redone(rotator: FunctionRuntime[Any], acme: Tenant) -> None:
    arn, token = make_secret(acme, json.dumps({"password": "p"}))
    rotate(rotator, arn, token)
    value = current(arn)
    assert step(rotator, "finishSecret", arn, token)["result"] == "already current"
    assert current(arn) == value


def test_another_tenants_secret_is_refused_and_untouched(rotator: FunctionRuntime[Any], acme: Tenant, capsys: pytest.CaptureFixture[str]) -> None:
    arn, token = make_secret(acme, json.dumps({"password": "theirs"}), tenant_tag="globex")
    with pytest.raises(Exception, match="does not belong"):
        step(rotator, "createSecret", arn, token)
    assert current(arn) == json.dumps({"password": "theirs"})
    assert [(r["action"], r["outcome"]) for r in audit(acme)] == [("secrets:createSecret", "denied")]
    assert "TenantMismatch" in metric_names(capsys.readouterr().out)


def test_secret_without_rotation_enabled_is_refused(rotator: FunctionRuntime[Any], acme: Tenant, capsys: pytest.CaptureFixture[str]) -> None:
    arn, token = make_secret(acme, "p", rotate=False)
    with pytest.raises(Exception, match="rotation is not enabled"):
        step(rotator, "createSecret", arn, token)
    assert audit(acme)[0]["outcome"] == "error"
    assert "RotationFailed" in metric_names(capsys.readouterr().out)


def test_a_token_that_is_not_a_version_is_refused(rotator: FunctionRuntime[Any], acme: Tenant) -> None:
    arn, _ = make_secret(acme, "p")
    with pytest.raises(Exception, match="not a version"):
        step(rotator, "createSecret", arn, str(uuid.uuid4()))


def test_test_step_refuses_a_value_that_breaks_the_profile(rotator: FunctionRuntime[Any], acme: Tenant) -> None:
    arn, token = make_secret(acme, json.dumps({"password": "p", "user": "svc"}))
    client().put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=json.dumps({"password": "short", "user": "svc"}), VersionStages=["AWSPENDING"])
    with pytest.raises(Exception, match="breaks its profile: length 5"):
        step(rotator, "testSecret", arn, token)


def test_test_step_refuses_changes_to_other_fields(rotator: FunctionRuntime[Any], acme: Tenant) -> None:
    arn, token = make_secret(acme, json.dumps({"password": "p", "user": "svc"}))
    step(rotator, "createSecret", arn, token)
    pending = json.loads(client().get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")["SecretString"])
    client().put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=json.dumps({**pending, "user": "root"}), VersionStages=["AWSPENDING"])
    with pytest.raises(Exception, match="other than the rotated one"):
        step(rotator, "testSecret", arn, token)


def test_set_step_needs_a_pending_value(rotator: FunctionRuntime[Any], acme: Tenant) -> None:
    arn, token = make_secret(acme, "p")
    with pytest.raises(Exception, match="no pending value"):
        step(rotator, "setSecret", arn, token)


def test_unknown_step_fails(rotator: FunctionRuntime[Any], acme: Tenant) -> None:
    arn, token = make_secret(acme, "p")
    with pytest.raises(Exception, match="unknown rotation step"):
        step(rotator, "deleteSecret", arn, token)


def test_module_handler_is_built_from_the_environment(acme: Tenant) -> None:
    module = import_handler("secrets")
    assert module.function.env == FunctionEnvironment("secrets", "dev", "acme", "INFO")
    assert module.lambda_handler is module.function.lambda_handler


def test_the_package_still_serves_the_standard_secrets_api() -> None:
    import secrets

    assert Path(secrets.__file__).parent.name == "secrets"  # this package, as in Lambda
    assert len(secrets.token_hex(16)) == 32
    assert secrets.compare_digest("a", "a")
