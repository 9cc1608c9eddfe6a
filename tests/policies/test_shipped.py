"""Every stack of the shipped registry, planned from the real program, passes every pack."""

from __future__ import annotations

import pytest

from platformctl.engine.runner import StackRun, stack_config
from platformctl.policy.runner import PolicySession
from ubertruck import PROJECT_ROOT

# The modules that read the shipped plans run on one xdist worker, which plans the registry once.
pytestmark = pytest.mark.xdist_group("shipped-plans")


def test_every_shipped_stack_has_no_mandatory_violation(session: PolicySession, shipped_plans: dict[str, StackRun]) -> None:
    assert {"dev", "prod", "acme-dev", "acme-prod", "globex-dev", "globex-prod", "initech-dev"} <= set(shipped_plans)
    failing = {}
    for name, run in shipped_plans.items():
        result = session.evaluate(run, stack_config(PROJECT_ROOT, name))
        if result.mandatory:
            failing[name] = [(v.policy, v.urn.rsplit("::", 1)[-1], v.message) for v in result.mandatory]
    assert failing == {}
