"""Unknown security properties are violations; diagnostics never print a property's value."""

from __future__ import annotations

from typing import Any, Iterator

from platformctl.engine.capture import UNKNOWN
from platformctl.policy.runner import PolicyContext, PolicySession
from policies.rules import aws

from .conftest import evaluate, fired
from .mutations import MUTATIONS
from .stacks import compliant_run, copy_run, named, of_type

PLANTED_SECRET = "sk_live_51PlantedSecretValue9xQ2"


def test_unknown_key_of_a_table_is_a_mandatory_violation(session: PolicySession) -> None:
    run = copy_run(compliant_run())
    for table in of_type(run, aws.TABLE):
        table.wire_inputs["serverSideEncryption"]["kmsKeyArn"] = UNKNOWN
    messages = fired(evaluate(session, run), "dynamodb-tenant-cmk")
    assert messages and all("unknown" in m for m in messages)


def test_unknown_provider_region_is_a_mandatory_violation(session: PolicySession) -> None:
    run = copy_run(compliant_run())
    of_type(run, aws.AWS_PROVIDER)[0].wire_inputs["region"] = UNKNOWN
    assert fired(evaluate(session, run), "allowed-regions")


def test_unknown_key_policy_is_a_mandatory_violation_of_the_stack_rule(session: PolicySession) -> None:
    run = copy_run(compliant_run())
    of_type(run, aws.KEY)[0].wire_inputs["policy"] = UNKNOWN
    messages = fired(evaluate(session, run), "kms-key-policy-tenant-principals")
    assert messages and "unknown" in messages[0]


def test_unknown_fallback_archive_keeps_the_sdk_advisory(session: PolicySession) -> None:
    # The fallback archive embeds published resource names, legitimately unknown in a first
    # preview; it guards no security property, so the SDK's advisory downgrade stands.
    run = copy_run(compliant_run())
    of_type(run, aws.FUNCTION)[0].wire_inputs["code"]["assets"]["fallback.json"]["text"] = UNKNOWN
    result = evaluate(session, run)
    assert fired(result, "fallback-values") == []
    assert fired(result, "fallback-values", "advisory")


def _values(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _values(item)
    elif isinstance(value, list):
        for item in value:
            yield from _values(item)
    elif isinstance(value, str):
        yield value


def test_a_planted_secret_never_reaches_a_message(session: PolicySession) -> None:
    run = copy_run(compliant_run())
    fn = of_type(run, aws.FUNCTION)[0]
    fn.wire_inputs["environment"]["variables"]["LOG_LEVEL"] = PLANTED_SECRET
    fn.wire_inputs["environment"]["variables"]["API_TOKEN"] = PLANTED_SECRET
    plain = named(run, "acme-prod-config-global-operational-timeouts")
    plain.wire_inputs["value"] = PLANTED_SECRET
    plain.wire_inputs["name"] = f"/acme/global/security/{PLANTED_SECRET}"
    named(run, "acme-prod-audit").wire_inputs["tags"]["tenant_id"] = PLANTED_SECRET
    result = evaluate(session, run)
    rules = {v.policy for v in result.violations}
    assert {"lambda-env-no-secrets", "ssm-no-plaintext-secrets", "tenant-tag"} <= rules
    assert all(PLANTED_SECRET not in v.message for v in result.violations)


def test_no_message_of_any_mutation_prints_a_property_value(session: PolicySession, context: PolicyContext) -> None:
    for mutation in MUTATIONS:
        run = copy_run(compliant_run())
        mutation.apply(run)
        by_urn = {r.urn: r for r in run.resources}
        for v in evaluate(session, run, mutation.context(context, run)).violations:
            resource = by_urn.get(v.urn)
            values = _values(resource.wire_inputs) if resource is not None else iter(())
            leaked = [s for s in values if len(s) >= 8 and s in v.message]
            assert leaked == [], f"{v.policy} printed {leaked}"
