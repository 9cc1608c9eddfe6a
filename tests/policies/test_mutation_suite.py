"""Mutation suite over the real program's plan of a shipped tenant.

For each rule: the compliant plan (plus the synthetic stack's resources of a kind the program
does not make yet) leaves the rule silent; the same plan with exactly what the rule guards
broken makes it fire as mandatory. Kill rate: every mutation, every rule (one mutation per rule is
``test_rules``' check; each parametrised case here kills one, so the suite's pass is a 100% rate).
"""

from __future__ import annotations

import pytest

from platformctl.engine.runner import StackRun
from platformctl.policy.runner import PolicyContext, PolicySession

from .conftest import evaluate, fired
from .mutations import MUTATIONS, Mutation, inject
from .stacks import STACK, compliant_run, copy_run

# The modules that read the shipped plans run on one xdist worker, which plans the registry once.
pytestmark = pytest.mark.xdist_group("shipped-plans")


@pytest.fixture(scope="module")
def planned(shipped_plans: dict[str, StackRun]) -> StackRun:
    return shipped_plans[STACK]


def _prepared(planned: StackRun, mutation: Mutation) -> StackRun:
    run = copy_run(planned)
    inject(run, compliant_run(), mutation.needs)
    return run


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.rule)
def test_mutation_is_killed_on_the_planned_stack(session: PolicySession, context: PolicyContext, planned: StackRun, mutation: Mutation) -> None:
    run = _prepared(planned, mutation)
    assert fired(evaluate(session, run), mutation.rule) == [], "the rule must be silent before the mutation"
    mutation.apply(run)
    assert fired(evaluate(session, run, mutation.context(context, run)), mutation.rule), f"mutation for {mutation.rule} survived"
