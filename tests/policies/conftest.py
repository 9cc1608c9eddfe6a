"""Policy packs started once per test session (the way the engine starts them), and plans of
the shipped tenants from the real program."""

from __future__ import annotations

from typing import Iterator

import pytest

from platformctl.engine.runner import StackRun, run_stack, stack_config
from platformctl.policy.runner import PolicyContext, PolicySession, StackPolicyResult
from ubertruck import PROJECT_ROOT
from ubertruck.defaults import load_defaults
from ubertruck.registry.loader import load_registry
from ubertruck.stacks import all_stacks

from .stacks import REGION


@pytest.fixture(scope="session")
def context() -> PolicyContext:
    return PolicyContext.from_registry()


@pytest.fixture(scope="session")
def session(context: PolicyContext) -> Iterator[PolicySession]:
    with PolicySession(context) as started:
        yield started


#: Config of a synthetic stack (what Pulumi.<stack>.yaml would give; tenant stacks have none).
SYNTHETIC_CONFIG = {"aws:region": REGION}


def evaluate(session: PolicySession, run: StackRun, context: PolicyContext | None = None) -> StackPolicyResult:
    return session.evaluate(run, SYNTHETIC_CONFIG, context)


def fired(result: StackPolicyResult, rule: str, level: str = "mandatory") -> list[str]:
    """Messages of ``rule`` at ``level`` in ``result``."""
    return [v.message for v in result.violations if v.policy == rule and v.level == level]


@pytest.fixture(scope="session")
def shipped_plans() -> dict[str, StackRun]:
    """Every stack of the shipped registry, planned from the real program."""
    defaults = load_defaults()
    registry = load_registry()
    registry.raise_for_errors()
    project, org = defaults.platform.project, defaults.offline.organization
    plans: dict[str, StackRun] = {}
    shared: dict[str, dict] = {}
    for ref in all_stacks(registry.tenants, defaults.platform.environments):
        region = registry.tenants[ref.tenant_id].region if ref.tenant_id else stack_config(PROJECT_ROOT, ref.name).get("aws:region", REGION)
        run = run_stack(ref.name, project, defaults.environments[ref.environment].account_id, region, shared, org)
        if ref.tenant_id is None:
            shared[f"{org}/{project}/{ref.name}"] = run.outputs
        plans[ref.name] = run
    return plans
