"""Every rule, through the Analyzer protocol: silent on a compliant stack, mandatory on the
same stack with exactly what it guards broken."""

from __future__ import annotations

import pytest

from platformctl.policy.runner import PolicyContext, PolicySession, StackPolicyResult
from policies.rules import ALL_RULES, rule

from .conftest import evaluate, fired
from .mutations import MUTATIONS
from .stacks import compliant_run, copy_run

RULES = [r.name for r in ALL_RULES]
BY_RULE = {m.rule: m for m in MUTATIONS}


@pytest.fixture(scope="module")
def compliant(session: PolicySession) -> StackPolicyResult:
    return evaluate(session, compliant_run())


def test_every_rule_has_exactly_one_mutation() -> None:
    assert sorted(BY_RULE) == sorted(RULES)
    assert len(MUTATIONS) == len(RULES)


def test_compliant_stack_has_no_violation_at_all(compliant: StackPolicyResult) -> None:
    assert compliant.violations == []


@pytest.mark.parametrize("name", RULES)
def test_rule_is_silent_on_its_compliant_case(compliant: StackPolicyResult, name: str) -> None:
    assert [v for v in compliant.violations if v.policy == name] == []


@pytest.mark.parametrize("name", RULES)
def test_rule_fires_mandatory_on_its_violating_case(session: PolicySession, context: PolicyContext, name: str) -> None:
    run = copy_run(compliant_run())
    BY_RULE[name].apply(run)
    result = evaluate(session, run, BY_RULE[name].context(context, run))
    messages = fired(result, name)
    assert messages, f"{name} did not fire; got {[(v.policy, v.message) for v in result.violations]}"
    urns = {r.urn for r in run.resources} | {""}
    assert all(v.urn in urns for v in result.violations if v.policy == name)


@pytest.mark.parametrize("name", RULES)
def test_rule_declares_its_metadata(name: str) -> None:
    spec = rule(name)
    assert spec.description and spec.remediation and spec.severity in {"low", "medium", "high", "critical"}
    if spec.area in {"authentication", "authorization", "encryption", "secrets", "isolation", "configuration", "governance"}:
        assert spec.enforcement == "mandatory"
