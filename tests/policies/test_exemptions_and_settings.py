"""Exemptions (registry or pack config; reason and expiry; expired ones are violations; used
ones are listed) and per-tenant policy settings from the registry."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pydantic
import pytest

from platformctl.policy.runner import PolicyContext, PolicySession
from policies.rules import aws
from ubertruck.errors import UserError
from ubertruck.registry.model import Exemption

from .conftest import evaluate, fired
from .mutations import with_policy
from .stacks import compliant_run, copy_run, of_type

FUTURE = dt.date.today() + dt.timedelta(days=30)
PAST = dt.date.today() - dt.timedelta(days=1)
REASON = "Rotation is handled by the HSM-backed key for this audit"


def _acme(context: PolicyContext, **policy: Any) -> PolicyContext:
    return with_policy(context, "acme", **policy)


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


# ----------------------------------------------------------------------------------------
# exemptions-current: every expired exemption is a violation, whether it suppresses anything
# ----------------------------------------------------------------------------------------


def _current(result) -> list:
    return [v for v in result.violations if v.policy == "exemptions-current"]


def test_no_exemption_and_an_active_one_are_both_current(session: PolicySession, context: PolicyContext) -> None:
    assert _current(evaluate(session, compliant_run())) == []
    ctx = _acme(context, exemptions=[Exemption(policy="kms-rotation", reason=REASON, expires=FUTURE, resource="acme-prod-key")])
    result = evaluate(session, compliant_run(), ctx)
    assert _current(result) == [] and result.violations == []


def test_expired_exemption_with_nothing_to_suppress_is_a_violation(session: PolicySession, context: PolicyContext) -> None:
    # The key rotates, so kms-rotation has nothing to suppress: the exemption is just stale.
    ctx = _acme(context, exemptions=[Exemption(policy="kms-rotation", reason=REASON, expires=PAST, resource="acme-prod-key")])
    result = evaluate(session, compliant_run(), ctx)
    [violation] = _current(result)
    assert (violation.pack, violation.level, violation.urn) == ("ubertruck-platform", "mandatory", "")
    for part in ('"kms-rotation"', '"acme-prod-key"', PAST.isoformat(), "tenants/acme.yaml"):
        assert part in violation.message
    assert REASON not in violation.message
    assert [v.policy for v in result.violations] == ["exemptions-current"]


def test_expired_whole_stack_exemption_of_the_other_pack_config_is_reported(session: PolicySession, context: PolicyContext) -> None:
    config = {"ubertruck-security": {"s3-tls-only": {"exemptions": [{"reason": REASON, "expires": PAST.isoformat()}]}}}
    [violation] = _current(evaluate(session, compliant_run(), dataclasses.replace(context, pack_config=config)))
    assert '"s3-tls-only" for the whole stack' in violation.message and "(pack config)" in violation.message


def test_expired_exemption_of_another_environment_is_not_this_stacks(session: PolicySession, context: PolicyContext) -> None:
    ctx = _acme(context, exemptions=[Exemption(policy="kms-rotation", reason=REASON, expires=PAST, environments=["dev"])])
    assert _current(evaluate(session, compliant_run(), ctx)) == []


def test_exemptions_current_cannot_itself_be_exempted(session: PolicySession, context: PolicyContext) -> None:
    ctx = _acme(context, exemptions=[Exemption(policy="exemptions-current", reason=REASON, expires=FUTURE)])
    with pytest.raises(UserError, match="cannot be exempted"):
        evaluate(session, compliant_run(), ctx)
    config = {"ubertruck-platform": {"exemptions-current": {"exemptions": [{"reason": REASON, "expires": FUTURE.isoformat()}]}}}
    with pytest.raises(UserError, match="unknown parameter"):
        evaluate(session, compliant_run(), dataclasses.replace(context, pack_config=config))


def test_exemptions_current_has_a_schema_default_for_a_bare_pulumi_preview(session: PolicySession) -> None:
    platform = next(info for info in session.infos if info.name == "ubertruck-platform")
    meta = platform.policy("exemptions-current")
    assert meta is not None and meta.stack_policy and meta.enforcement == "mandatory"
    assert meta.defaults()["exemptions_in_force"] == [] and "exemptions" not in meta.schema


@pytest.mark.parametrize(("config", "fragment"), [
    ({"ubertruck-security": {"kms-rotaton": "advisory"}}, "ubertruck-security/kms-rotaton: unknown policy"),
    ({"ubertruck-securty": {"kms-rotation": "advisory"}}, "'ubertruck-securty': unknown policy pack"),
    ({"ubertruck-platform": {"exemptions-current": {"exemptions_in_force": []}}}, "is collected from every policy's exemptions"),
])
def test_pack_config_naming_what_does_not_exist_is_refused_in_one_line(session: PolicySession, context: PolicyContext,
                                                                       config: dict[str, Any], fragment: str) -> None:
    with pytest.raises(UserError) as refused:
        evaluate(session, compliant_run(), dataclasses.replace(context, pack_config=config))
    assert fragment in str(refused.value) and "\n" not in str(refused.value)
