"""Lambda entry point of the tenant's REQUEST authorizer: ``auth.handler.lambda_handler``.

For a valid token of the function's own tenant it returns an Allow policy for every method of the
stage (so API Gateway's authorizer cache can serve the caller's next requests to any route) and
the context handlers read: ``tenant_id``, ``user_id`` (the token's ``sub``) and ``roles`` (the
``cognito:groups``, comma-joined). Roles are then checked per operation by each function.

Any rejected token gets an explicit Deny for every method (API Gateway answers 403): expired,
wrong issuer, bad signature, wrong client, missing claims, or another tenant's token. Rejections
are counted (``AuthenticationFailure``, ``TenantMismatch``) instead of raised, so the function's
error metric keeps meaning "the authorizer is broken". When the signing keys or the config
cannot be obtained at all, the invocation fails (API Gateway answers 500): it fails closed.

The token is never logged. JWKS is fetched from ``integration/resources.jwks_url`` with the
timeout and retries of ``global/operational`` and cached (``auth.jwks``).
"""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)

from common.environment import FunctionEnvironment
from common.http_client import Opener, RetryingHttpClient
from common.observability import OPERATION_SUCCESS, TENANT_MISMATCH
from common.runtime import FunctionRuntime
from common.tenant import ROLE_SEPARATOR

from .config_schema import AuthConfig
from .jwks import JwksCache
from .token_verifier import TenantMismatch, TokenRejected, TokenVerifier

CODE_ROOT = Path(__file__).resolve().parent.parent
AUTHENTICATION_FAILURE = "AuthenticationFailure"
STALE_SIGNING_KEYS = "StaleSigningKeysUsed"
OPERATION = "authorize"
ANONYMOUS = "anonymous"
_BEARER = "bearer "


class Authorizer:
    """Turns a REQUEST authorizer event into an IAM policy for one tenant's API."""

    def __init__(self, runtime: FunctionRuntime[AuthConfig], opener: Opener) -> None:
        self._runtime = runtime
        self._opener = opener
        self._keys = JwksCache(self._fetch_jwks)
        self._verifier = TokenVerifier(runtime.env.tenant_id, self._keys)

    def authorize(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        request = APIGatewayAuthorizerRequestEvent(event)
        obs = self._runtime.obs
        obs.annotate(tenant_id=self._runtime.env.tenant_id, operation=OPERATION)
        service = self._runtime.config.service_config().model
        rules = self._runtime.config.global_config().model.security.authentication_rules
        token = bearer_token(request)
        stale_before = self._keys.stale_uses
        try:
            if token is None:
                raise TokenRejected("no bearer token")
            caller = self._verifier.verify(token, service.integration.resources, rules, key_max_age=service.technical.cache.max_age_seconds)
        except TenantMismatch as exc:
            obs.count(TENANT_MISMATCH)
            self._runtime.logger.warning("token refused", extra={"reason": str(exc)})
            return self._policy(request, ANONYMOUS, allow=False)
        except TokenRejected as exc:
            obs.count(AUTHENTICATION_FAILURE)
            self._runtime.logger.info("token refused", extra={"reason": str(exc)})
            return self._policy(request, ANONYMOUS, allow=False)
        finally:
            if self._keys.stale_uses > stale_before:
                obs.count(STALE_SIGNING_KEYS)
                self._runtime.logger.warning("JWKS refresh failed; verified with the previous key set")
        obs.count(OPERATION_SUCCESS)
        self._runtime.logger.info("token accepted", extra={"user_id": caller.user_id})
        context_values = {"tenant_id": caller.tenant_id, "user_id": caller.user_id, "roles": ROLE_SEPARATOR.join(caller.roles)}
        return self._policy(request, caller.user_id, allow=True, context=context_values)

    def _policy(self, request: APIGatewayAuthorizerRequestEvent, principal: str, *, allow: bool, context: dict[str, str] | None = None) -> dict[str, Any]:
        arn = request.parsed_arn
        response = APIGatewayAuthorizerResponse(
            principal_id=principal, region=arn.region, aws_account_id=arn.aws_account_id, api_id=arn.api_id, stage=arn.stage, context=context
        )
        if allow:
            response.allow_all_routes()
        else:
            response.deny_all_routes()
        return response.asdict()

    def _fetch_jwks(self, url: str) -> Any:
        operational = self._runtime.config.global_config().model.operational
        client = RetryingHttpClient(operational.timeouts.provider_timeout_seconds, operational.retry_policies, opener=self._opener)
        return client.get_json(url)


def bearer_token(request: APIGatewayAuthorizerRequestEvent) -> str | None:
    """The token of the ``Authorization`` header: ``Bearer <jwt>`` or a bare JWT."""
    # Powertools v3 event headers are case-insensitive.
    value = request.headers.get("Authorization") or ""
    value = value.strip()
    if value.lower().startswith(_BEARER):
        value = value[len(_BEARER) :].strip()
    return value or None


def build(env: FunctionEnvironment, code_root: Path = CODE_ROOT, opener: Opener = urllib.request.urlopen) -> FunctionRuntime[AuthConfig]:
    """The authorizer function for ``env``; ``opener`` performs the JWKS HTTPS request."""
    runtime = FunctionRuntime(env, AuthConfig, code_root=code_root)
    authorizer = Authorizer(runtime, opener)
    runtime.serve(authorizer.authorize)
    return runtime


function = build(FunctionEnvironment.from_os())
lambda_handler = function.lambda_handler
