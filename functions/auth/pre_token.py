"""Lambda entry point of the user pool's pre token generation trigger (event version ``V2_0``):
``auth.pre_token.lambda_handler``.

Cognito writes custom attributes into ID tokens only; the authorizer verifies ACCESS tokens and
requires ``custom:tenant_id`` in them. With the V2_0 event (user pool feature plan Essentials or
higher) this trigger may add claims to the access token: it copies the user's ``custom:tenant_id``
attribute into both tokens (``claimsAndScopeOverrideDetails.accessTokenGeneration`` and
``idTokenGeneration``). Groups are handed back as the request carries them, which is how the V2
response leaves ``cognito:groups`` (the authorizer's roles) as they are.

A user whose attribute is missing, or names another tenant than the function's own (from
``CONFIG_SERVICE_URL``, as for every platform function), gets no tokens: the handler raises, and
Cognito fails the sign-in or refresh. Refusals are counted (``TenantMismatch``) and read no config.

An event that is not a token generation (``triggerSource`` not ``TokenGeneration_*``) is returned
unchanged: only the pre token generation trigger is wired to this function, and no other trigger
issues tokens, so there is nothing to add and nothing to refuse.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.data_classes.cognito_user_pool_event import PreTokenGenerationV2TriggerEvent

from common.config_schema import ServiceConfig
from common.environment import FunctionEnvironment
from common.observability import OPERATION_SUCCESS, TENANT_MISMATCH
from common.runtime import FunctionRuntime
from common.tenant import TenantRefused

from .token_verifier import TENANT_CLAIM

CODE_ROOT = Path(__file__).resolve().parent.parent
TOKEN_GENERATION = "TokenGeneration_"
OPERATION = "issue_tokens"


class TenantClaimIssuer:
    """Puts the user's tenant into the tokens Cognito is about to issue, for one tenant's pool."""

    def __init__(self, runtime: FunctionRuntime[ServiceConfig]) -> None:
        self._runtime = runtime

    def issue(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        trigger = PreTokenGenerationV2TriggerEvent(event)
        logger = self._runtime.logger
        if not trigger.trigger_source.startswith(TOKEN_GENERATION):
            logger.warning("not a token generation event: returned unchanged", extra={"trigger_source": trigger.trigger_source})
            return event
        own_tenant = self._runtime.env.tenant_id
        self._runtime.obs.annotate(tenant_id=own_tenant, operation=OPERATION)
        tenant = trigger.request.user_attributes.get(TENANT_CLAIM)
        if tenant != own_tenant:
            reason = f"no {TENANT_CLAIM} attribute" if not tenant else f"{TENANT_CLAIM} is not this pool's tenant"
            # Like any request refused for its tenant: nothing is read on the caller's behalf.
            self._runtime.refuse_config_reads()
            self._runtime.obs.count(TENANT_MISMATCH)
            logger.warning("tokens refused", extra={"reason": reason, "trigger_source": trigger.trigger_source})
            raise TenantRefused(reason)
        # Cognito may send the response as {"claimsAndScopeOverrideDetails": null}; the wrapper
        # creates each level it is asked for in the event itself, which is what is returned.
        event.setdefault("response", {})
        details = trigger.response.claims_scope_override_details
        for token in (details.access_token_generation, details.id_token_generation):
            token.claims_to_add_or_override = {**token.claims_to_add_or_override, TENANT_CLAIM: tenant}
        # An absent or empty groupOverrideDetails would drop the user's groups, hence their roles.
        details.group_configuration = dict(event["request"].get("groupConfiguration") or {})
        self._runtime.obs.count(OPERATION_SUCCESS)
        logger.info("tenant claim added", extra={"trigger_source": trigger.trigger_source})
        return event


def build(env: FunctionEnvironment, code_root: Path = CODE_ROOT) -> FunctionRuntime[ServiceConfig]:
    """The pre token generation function for ``env``.

    Its schema is the service base, not ``AuthConfig``: it reads none of the pool's resources, and
    its ``fallback.json`` cannot carry them (the pool is created after the function it triggers).
    """
    runtime = FunctionRuntime(env, ServiceConfig, code_root=code_root)
    runtime.serve(TenantClaimIssuer(runtime).issue)
    return runtime


function = build(FunctionEnvironment.from_os())
lambda_handler = function.lambda_handler
