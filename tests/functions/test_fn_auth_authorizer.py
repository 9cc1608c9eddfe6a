"""The REQUEST authorizer through its real handler: RSA keys and a JWKS made here, the fetch patched."""

from __future__ import annotations

import io
import json
import time
import urllib.error
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from common.environment import FunctionEnvironment
from common.runtime import FunctionRuntime

from .fn_support import FakeLambdaContext, Tenant, build_function, import_handler, metric_names, set_in, tenant_config

auth_handler = import_handler("auth")
METHOD_ARN = "arn:aws:execute-api:ap-south-1:123456789012:a1b2c3d4e5/dev/GET/bookings"
KID = "key-1"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


SIGNING_KEY = rsa_key()
OTHER_KEY = rsa_key()


def jwks(*keys: tuple[str, rsa.RSAPrivateKey]) -> dict[str, Any]:
    entries = []
    for kid, key in keys:
        entry = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        entry.update({"kid": kid, "alg": "RS256", "use": "sig"})
        entries.append(entry)
    return {"keys": entries}


class JwksEndpoint:
    """Stands in for urllib's urlopen: answers from a script, records each request."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers) or [jwks((KID, SIGNING_KEY))]
        self.requests: list[tuple[str, float]] = []

    def __call__(self, request: Any, **kwargs: Any) -> Any:
        self.requests.append((request.full_url, kwargs["timeout"]))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return _Body(json.dumps(answer).encode())


class _Body(io.BytesIO):
    def __enter__(self) -> _Body:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def build(tenant: Tenant, code_root: Path, endpoint: JwksEndpoint) -> FunctionRuntime[Any]:
    return build_function(auth_handler, tenant, code_root, opener=endpoint)


def claims(tenant: Tenant, **overrides: Any) -> dict[str, Any]:
    resources = tenant.resources["auth"]
    rules = tenant.config["global"]["security"]["authentication_rules"]
    now = int(time.time())
    values = {
        "sub": "user-1",
        "iss": resources["issuer"],
        "client_id": resources["app_client_id"],
        "token_use": rules["token_use"],
        "iat": now,
        "auth_time": now,
        "exp": now + rules["token_max_age_seconds"],
        "custom:tenant_id": tenant.tenant_id,
        "cognito:groups": ["customer", "dispatcher"],
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def token(payload: dict[str, Any], key: rsa.RSAPrivateKey = SIGNING_KEY, kid: str = KID) -> str:
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def authorizer_event(authorization: str | None) -> dict[str, Any]:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return {
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "resource": "/bookings",
        "path": "/bookings",
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {},
        "pathParameters": {},
        "stageVariables": {},
        "requestContext": {"requestId": "req-1", "stage": "dev", "httpMethod": "GET", "resourcePath": "/bookings"},
    }


def authorize(function: FunctionRuntime[Any], authorization: str | None) -> dict[str, Any]:
    assert function.lambda_handler is not None
    return function.lambda_handler(authorizer_event(authorization), FakeLambdaContext())


def effect(policy: dict[str, Any]) -> str:
    [statement] = policy["policyDocument"]["Statement"]
    return str(statement["Effect"])


@pytest.fixture
def endpoint() -> JwksEndpoint:
    return JwksEndpoint()


@pytest.fixture
def authorizer(acme: Tenant, code_root: Path, endpoint: JwksEndpoint) -> FunctionRuntime[Any]:
    return build(acme, code_root, endpoint)


def test_good_token_is_allowed_with_tenant_context(authorizer: FunctionRuntime[Any], acme: Tenant, endpoint: JwksEndpoint) -> None:
    policy = authorize(authorizer, f"Bearer {token(claims(acme))}")
    assert effect(policy) == "Allow"
    assert policy["principalId"] == "user-1"
    assert policy["context"] == {"tenant_id": "acme", "user_id": "user-1", "roles": "customer,dispatcher"}
    [statement] = policy["policyDocument"]["Statement"]
    assert statement["Resource"] == ["arn:aws:execute-api:ap-south-1:123456789012:a1b2c3d4e5/dev/*/*"]
    timeout = acme.config["global"]["operational"]["timeouts"]["provider_timeout_seconds"]
    assert endpoint.requests == [(acme.resources["auth"]["jwks_url"], timeout)]


def test_bare_token_without_bearer_prefix_is_accepted(authorizer: FunctionRuntime[Any], acme: Tenant) -> None:
    assert effect(authorize(authorizer, token(claims(acme)))) == "Allow"


@pytest.mark.parametrize(
    "case",
    ["expired", "wrong-issuer", "bad-signature", "unknown-key", "too-old", "id-token", "other-client", "future-iat", "no-tenant-claim", "no-sub"],
)
def test_invalid_tokens_are_denied(authorizer: FunctionRuntime[Any], acme: Tenant, case: str, capsys: pytest.CaptureFixture[str]) -> None:
    rules = acme.config["global"]["security"]["authentication_rules"]
    now = int(time.time())
    variants = {
        "expired": lambda: token(claims(acme, iat=now - 120, exp=now - 60)),
        "wrong-issuer": lambda: token(claims(acme, iss="https://cognito-idp.ap-south-1.amazonaws.com/other-pool")),
        "bad-signature": lambda: token(claims(acme), key=OTHER_KEY),
        "unknown-key": lambda: token(claims(acme), key=OTHER_KEY, kid="key-2"),
        "too-old": lambda: token(claims(acme, iat=now - rules["token_max_age_seconds"] - 5, exp=now + 600)),
        "id-token": lambda: token(claims(acme, token_use="id")),
        "other-client": lambda: token(claims(acme, client_id="someone-elses-client")),
        "future-iat": lambda: token(claims(acme, iat=now + 600)),
        "no-tenant-claim": lambda: token(claims(acme, **{"custom:tenant_id": None})),
        "no-sub": lambda: token(claims(acme, sub=None)),
    }
    policy = authorize(authorizer, f"Bearer {variants[case]()}")
    assert effect(policy) == "Deny"
    assert "context" not in policy or not policy["context"]
    assert "AuthenticationFailure" in metric_names(capsys.readouterr().out)


def test_another_tenants_token_is_denied_and_counted_as_tenant_mismatch(authorizer: FunctionRuntime[Any], acme: Tenant, capsys: pytest.CaptureFixture[str]) -> None:
    policy = authorize(authorizer, f"Bearer {token(claims(acme, **{'custom:tenant_id': 'globex'}))}")
    assert effect(policy) == "Deny"
    assert policy["principalId"] == "anonymous"
    assert "TenantMismatch" in metric_names(capsys.readouterr().out)


@pytest.mark.parametrize("authorization", [None, "", "Bearer ", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz"], ids=["absent", "empty", "bearer-only", "garbage", "basic-auth"])
def test_missing_or_malformed_tokens_are_denied(authorizer: FunctionRuntime[Any], authorization: str | None) -> None:
    assert effect(authorize(authorizer, authorization)) == "Deny"


def test_algorithm_confusion_is_refused(authorizer: FunctionRuntime[Any], acme: Tenant) -> None:
    unsigned = jwt.encode(claims(acme), key=None, algorithm="none", headers={"kid": KID})
    hmac_signed = jwt.encode(claims(acme), key="shared-secret-guess", algorithm="HS256", headers={"kid": KID})
    assert effect(authorize(authorizer, unsigned)) == "Deny"
    assert effect(authorize(authorizer, hmac_signed)) == "Deny"


def test_signing_keys_are_cached_for_the_configured_age(authorizer: FunctionRuntime[Any], acme: Tenant, endpoint: JwksEndpoint) -> None:
    for _ in range(3):
        authorize(authorizer, token(claims(acme)))
    authorize(authorizer, token(claims(acme), key=OTHER_KEY, kid="key-2"))  # unknown kid: no refetch
    assert len(endpoint.requests) == 1


def test_zero_cache_age_refetches_and_survives_a_failed_refresh(provision_tenant: Any, code_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = set_in(tenant_config("acme", "dev"), "services.auth.technical.cache", {"max_age_seconds": 0})
    config = set_in(config, "global.operational.retry_policies", {"max_attempts": 1, "base_delay_ms": 0, "max_delay_ms": 0})
    tenant = provision_tenant("acme", config=config)
    endpoint = JwksEndpoint(jwks((KID, SIGNING_KEY)), urllib.error.URLError("down"))
    function = build(tenant, code_root, endpoint)
    assert effect(authorize(function, token(claims(tenant)))) == "Allow"
    assert effect(authorize(function, token(claims(tenant)))) == "Allow"  # refresh failed: previous keys used
    assert len(endpoint.requests) == 2
    assert "StaleSigningKeysUsed" in metric_names(capsys.readouterr().out)


def test_jwks_fetch_retries_transient_failures(provision_tenant: Any, code_root: Path) -> None:
    config = set_in(tenant_config("acme", "dev"), "global.operational.retry_policies", {"max_attempts": 3, "base_delay_ms": 0, "max_delay_ms": 0})
    tenant = provision_tenant("acme", config=config)
    endpoint = JwksEndpoint(urllib.error.URLError("reset"), TimeoutError(), jwks((KID, SIGNING_KEY)))
    function = build(tenant, code_root, endpoint)
    assert effect(authorize(function, token(claims(tenant)))) == "Allow"
    assert len(endpoint.requests) == 3


def test_no_signing_keys_at_all_fails_closed(provision_tenant: Any, code_root: Path) -> None:
    config = set_in(tenant_config("acme", "dev"), "global.operational.retry_policies", {"max_attempts": 2, "base_delay_ms": 0, "max_delay_ms": 0})
    tenant = provision_tenant("acme", config=config)
    function = build(tenant, code_root, JwksEndpoint(urllib.error.URLError("down")))
    with pytest.raises(Exception, match="signing keys unavailable"):
        authorize(function, token(claims(tenant)))


def test_maximum_token_age_comes_from_config(provision_tenant: Any, code_root: Path, endpoint: JwksEndpoint) -> None:
    config = set_in(tenant_config("acme", "dev"), "global.security.authentication_rules.token_max_age_seconds", 60)
    tenant = provision_tenant("acme", config=config)
    function = build(tenant, code_root, endpoint)
    now = int(time.time())
    assert effect(authorize(function, token(claims(tenant, iat=now - 30, exp=now + 600)))) == "Allow"
    assert effect(authorize(function, token(claims(tenant, iat=now - 90, exp=now + 600)))) == "Deny"


def test_module_handler_is_built_from_the_environment(acme: Tenant) -> None:
    module = import_handler("auth")
    assert module.function.env == FunctionEnvironment("auth", "dev", "acme", "INFO")
    assert module.lambda_handler is module.function.lambda_handler
