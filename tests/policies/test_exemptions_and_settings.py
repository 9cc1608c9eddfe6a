"""Exemptions (registry or pack config; reason and expiry; expired ones are violations; used
ones are listed) and per-tenant policy settings from the registry."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pydantic
import pytest

from platformctl.errors import UserError
from platformctl.policy.runner import PolicyContext, PolicySession
from platformctl.registry.model import Exemption, PolicySection
from policies.rules import aws

from .conftest import evaluate, fired
from .stacks import compliant_run, copy_run, of_type

FUTURE = dt.date.today() + dt.timedelta(days=30)
PAST = dt.date.today() - dt.timedelta(days=1)
REASON = "Rotation is handled by the HSM-backed key for this audit"


def _acme(context: PolicyContext, **policy: Any) -> PolicyContext:  # noqa: ANN401
    acme = context.tenants["acme"].model_copy(update={"policy": PolicySection(**policy)})
    return dataclasses.replace(context, tenants={**context.tenants, "acme": acme})


def _unrotated():
    run = copy_run(compliant_run())
    of_type(run, aws.KEY)[0].wire_inputs["enableKeyRotation"] = False
    return run


def test_registry_exemption_suppresses_the_rule_and_is_listed(session: PolicySession, context: PolicyContext) -> None:
    ctx = _acme(context, exemptions=[Exemption(policy="kms-rotation", reason=REASON, expires=FUTURE, resource="acme-prod-key")])
    result = evaluate(session, _unrotated(), ctx)
    assert fired(result, "kms-rotation") == []
    [used] = result.exemptions
    assert (used.policy, used.reason, used.expires, used.source) == ("kms-rotation", REASON, FUTURE.isoformat(), "tenants/acme.yaml")
    assert used.urns == (of_type(compliant_run(), aws.KEY)[0].urn,)


def test_expired_exemption_is_a_violation(session: PolicySession, context: PolicyContext) -> None:
    ctx = _acme(context, exemptions=[Exemption(policy="kms-rotation", reason=REASON, expires=PAST)])
    result = evaluate(session, _unrotated(), ctx)
    [message] = fired(result, "kms-rotation")
    assert f"expired on {PAST.isoformat()}" in message
    assert result.exemptions == []


def test_exemption_for_another_environment_does_not_apply(session: PolicySession, context: PolicyContext) -> None:
    ctx = _acme(context, exemptions=[Exemption(policy="kms-rotation", reason=REASON, expires=FUTURE, environments=["dev"])])
    assert fired(evaluate(session, _unrotated(), ctx), "kms-rotation")


def test_exemption_for_another_resource_does_not_apply(session: PolicySession, context: PolicyContext) -> None:
    ctx = _acme(context, exemptions=[Exemption(policy="kms-rotation", reason=REASON, expires=FUTURE, resource="acme-prod-other-*")])
    assert fired(evaluate(session, _unrotated(), ctx), "kms-rotation")


def test_pack_config_exemption_suppresses_a_stack_rule(session: PolicySession, context: PolicyContext) -> None:
    run = copy_run(compliant_run())
    run.resources[:] = [r for r in run.resources if r.type != aws.BUCKET_POLICY]
    config = {"ubertruck-security": {"s3-tls-only": {"exemptions": [{"resource": "acme-prod-artifacts", "reason": REASON, "expires": FUTURE.isoformat()}]}}}
    result = evaluate(session, run, dataclasses.replace(context, pack_config=config))
    assert fired(result, "s3-tls-only") == []
    assert [(e.policy, e.source) for e in result.exemptions] == [("s3-tls-only", "pack config")]


@pytest.mark.parametrize("fields", [
    {"policy": "kms-rotation", "expires": FUTURE},
    {"policy": "kms-rotation", "reason": "short", "expires": FUTURE},
    {"policy": "kms-rotation", "reason": REASON},
])
def test_registry_refuses_exemption_without_reason_or_expiry(fields: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        Exemption(**fields)


def test_exemption_of_an_unknown_policy_is_refused(session: PolicySession, context: PolicyContext) -> None:
    ctx = _acme(context, exemptions=[Exemption(policy="no-such-rule", reason=REASON, expires=FUTURE)])
    with pytest.raises(UserError, match="unknown policy 'no-such-rule'"):
        evaluate(session, compliant_run(), ctx)


def test_pack_config_exemption_with_a_bad_date_is_refused(session: PolicySession, context: PolicyContext) -> None:
    config = {"ubertruck-security": {"kms-rotation": {"exemptions": [{"reason": REASON, "expires": "soon"}]}}}
    with pytest.raises(UserError, match="expires"):
        evaluate(session, compliant_run(), dataclasses.replace(context, pack_config=config))


def test_per_tenant_setting_overrides_the_pack_config(session: PolicySession, context: PolicyContext) -> None:
    # acme keeps data 400 days; a stricter 731-day setting makes its 400-day log group too short.
    assert fired(evaluate(session, compliant_run()), "log-retention-meets-data-retention") == []
    ctx = _acme(context, settings={"log-retention-meets-data-retention": {"data_retention_days": 731}})
    assert fired(evaluate(session, compliant_run(), ctx), "log-retention-meets-data-retention")


def test_registry_cannot_lower_an_enforcement_level(session: PolicySession, context: PolicyContext) -> None:
    ctx = _acme(context, settings={"kms-rotation": {"enforcementLevel": "advisory"}})
    with pytest.raises(UserError, match="exemption"):
        evaluate(session, compliant_run(), ctx)


def test_registry_setting_of_an_unknown_parameter_is_refused(session: PolicySession, context: PolicyContext) -> None:
    ctx = _acme(context, settings={"kms-rotation": {"rotation_days": 90}})
    with pytest.raises(UserError, match="not a parameter"):
        evaluate(session, compliant_run(), ctx)


def test_pack_config_can_make_a_rule_advisory(session: PolicySession, context: PolicyContext) -> None:
    ctx = dataclasses.replace(context, pack_config={"ubertruck-security": {"kms-rotation": "advisory"}})
    result = evaluate(session, _unrotated(), ctx)
    assert fired(result, "kms-rotation") == [] and fired(result, "kms-rotation", "advisory")
