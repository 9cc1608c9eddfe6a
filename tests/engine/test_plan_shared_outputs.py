"""The planner's shared outputs: a plan of tenant stacks alone reads its shared stack's outputs
from the cache when its environment's tenant regions were planned before; the shared stack's key
leaves out the registry folder's path; packs kept between plans serve each plan's own registry."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from platformctl.engine import plan as plan_module
from platformctl.engine.plan import Planner, PlanSettings
from tests.registry.support import valid_document, write_yaml
from ubertruck import PROJECT_ROOT
from ubertruck.defaults import load_defaults
from ubertruck.errors import UserError
from ubertruck.registry import load_registry
from ubertruck.stacks import StackRef, tenant_stack_name

DEFAULTS = load_defaults()
#: One environment keeps the tests quick; shared stacks are keyed the same way in every one.
ENV = DEFAULTS.platform.environments[0]
SHARED = StackRef(name=ENV, environment=ENV)


def _registry(folder: Path) -> Path:
    registry = folder / "tenants"
    shutil.copytree(PROJECT_ROOT / "tenants", registry)
    return registry


def _served_region(registry: Path) -> str:
    return sorted(t.region for t in load_registry([registry]).tenants.values() if ENV in t.environments)[0]


def _unserved_region(registry: Path) -> str:
    served = {t.region for t in load_registry([registry]).tenants.values() if ENV in t.environments}
    return next(r for r in DEFAULTS.platform.supported_regions if r not in served)


def _document(tenant_id: str, region: str) -> dict[str, Any]:
    document = valid_document(tenant_id)
    document.update(region=region, environments=[ENV])
    document["compliance"]["residency"]["allowed_regions"] = [region]
    return document


def _add_tenant(registry: Path, tenant_id: str, region: str) -> StackRef:
    document = _document(tenant_id, region)
    write_yaml(registry / f"{tenant_id}.yaml", document)
    return StackRef(name=tenant_stack_name(tenant_id, ENV), environment=ENV, tenant_id=tenant_id)


def _plan(registry: Path, stacks: list[StackRef], cache: Path | None, **settings: Any) -> list[plan_module.PlannedStack]:
    tenants = load_registry([registry]).tenants
    use_cache = cache is not None
    options = PlanSettings(defaults=DEFAULTS, registry_dir=registry, workers=1, use_cache=use_cache, cache_dir=cache, **{"policy": False, **settings})
    return Planner(options, tenants).plan(stacks)


@pytest.fixture
def programs_run(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The stacks whose program ran (in this process: one planner worker)."""
    ran: list[str] = []
    real = plan_module.run_stack

    def recording(stack: str, *args: Any, **kwargs: Any) -> Any:
        ran.append(stack)
        return real(stack, *args, **kwargs)

    monkeypatch.setattr(plan_module, "run_stack", recording)
    return ran


def test_a_new_tenant_in_a_served_region_reads_the_shared_outputs_from_the_cache(tmp_path: Path, programs_run: list[str]) -> None:
    registry, cache = _registry(tmp_path), tmp_path / "cache"
    (shared,) = _plan(registry, [SHARED], cache)
    northwind = _add_tenant(registry, "northwind", _served_region(registry))
    programs_run.clear()
    (planned,) = _plan(registry, [northwind], cache)
    assert programs_run == [northwind.name]
    assert planned.outputs and not planned.cached
    # A region no tenant of the environment ran in before gets its own topic: the shared stack runs again.
    faraway = _add_tenant(registry, "faraway", _unserved_region(registry))
    programs_run.clear()
    _plan(registry, [faraway], cache)
    assert programs_run == [ENV, faraway.name]


def test_a_plan_that_names_the_shared_stack_plans_it(tmp_path: Path, programs_run: list[str]) -> None:
    registry, cache = _registry(tmp_path), tmp_path / "cache"
    _plan(registry, [SHARED], cache)
    northwind = _add_tenant(registry, "northwind", _served_region(registry))
    programs_run.clear()
    planned = _plan(registry, [SHARED, northwind], cache)
    # Its tenant list changed (its pipeline deploys the new stack): planned, not served from the outputs.
    assert programs_run == [ENV, northwind.name] and not planned[0].cached


def test_the_shared_outputs_depend_on_the_tenant_regions_not_on_which_tenants(tmp_path: Path) -> None:
    """What the outputs' key claims, checked on the program itself (no cache)."""
    registry = _registry(tmp_path)
    before = _plan(registry, [SHARED], None)[0].outputs
    _add_tenant(registry, "northwind", _served_region(registry))
    assert _plan(registry, [SHARED], None)[0].outputs == before
    region = _unserved_region(registry)
    _add_tenant(registry, "faraway", region)
    after = _plan(registry, [SHARED], None)[0].outputs
    assert region in after["alarm_topic_arns"] and region not in before["alarm_topic_arns"]


def test_a_shared_stack_is_keyed_without_the_registry_folder_path(tmp_path: Path) -> None:
    first, cache = _registry(tmp_path / "a"), tmp_path / "cache"
    assert not _plan(first, [SHARED], cache)[0].cached
    copy = _registry(tmp_path / "b")
    assert _plan(copy, [SHARED], cache)[0].cached
    _add_tenant(copy, "northwind", _served_region(copy))
    assert not _plan(copy, [SHARED], cache)[0].cached


def test_kept_packs_judge_each_plan_by_its_own_registry(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    northwind = _add_tenant(registry, "northwind", _served_region(registry))
    document = _document("northwind", _served_region(registry))
    document["policy"] = {"exemptions": [{"policy": "tenant-tag", "reason": "migration of legacy tags, agreed with security",
                                          "expires": date(2020, 1, 1)}]}
    write_yaml(registry / "northwind.yaml", document)
    try:
        (expired,) = _plan(registry, [northwind], None, policy=True, keep_warm=True)
        kept = dict(plan_module._KEPT)
        document["policy"]["exemptions"][0]["expires"] = date(2999, 1, 1)
        write_yaml(registry / "northwind.yaml", document)
        (current,) = _plan(registry, [northwind], None, policy=True, keep_warm=True)
        assert plan_module._KEPT == kept and len(kept) == 1
    finally:
        plan_module._close_kept_sessions()
    assert any(v["policy"] == "exemptions-current" and v["level"] == "mandatory" for v in expired.violations)
    assert not any(v["policy"] == "exemptions-current" for v in current.violations)


def test_a_stack_that_cannot_be_planned_in_a_kept_worker_is_refused_and_the_pool_serves_on(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    northwind = _add_tenant(registry, "northwind", _served_region(registry))
    good = (registry / "northwind.yaml").read_text()
    tenants = load_registry([registry]).tenants
    # The planner was handed checked tenants; the program reads the file again, and fails on it.
    (registry / "northwind.yaml").write_text("id: northwind\ntier: [not, a, tier]\n")
    settings = PlanSettings(defaults=DEFAULTS, registry_dir=registry, workers=2, use_cache=False, keep_warm=True)
    with pytest.raises(UserError, match="northwind"):
        Planner(settings, tenants).plan([northwind])
    (registry / "northwind.yaml").write_text(good)
    (planned,) = Planner(settings, tenants).plan([northwind])
    assert planned.outputs and 2 in plan_module._KEPT_POOLS
