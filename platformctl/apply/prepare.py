"""What every engine command does before the engine starts: pick the stacks, gate them, configure the packs.

* **Selection.** ``--stack`` (any number), ``--tenant``/``--env`` filters, or ``--all``; an
  unknown stack, tenant or environment is one clear line (the stack model's own errors).
* **The gate.** ``up`` plans its stacks offline with both policy packs first and refuses, before
  the engine starts, when anything is mandatory-violated (:func:`gate`).
* **Pack config.** Every preview and up passes both packs with the stack's ``--policy-pack-config``
  files, generated from the registry by the same code as ``platformctl policy config``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

from ubertruck.atomic import write_text_atomic
from ubertruck.defaults import PlatformDefaults
from ubertruck.errors import UserError
from ubertruck.registry.model import Tenant
from ubertruck.stacks import StackRef, all_stacks, parse_stack_name

from ..engine import report
from ..engine.plan import PlannedStack, Planner, PlanSettings
from .automation import PackConfig

#: The executable in each pack folder that the engine starts as a binary analyzer (policies/start-pack).
PACK_LAUNCHER = "analyzer"


@dataclass(frozen=True)
class Selection:
    """The stacks an engine command was asked for."""

    stacks: tuple[str, ...] = ()
    tenants: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    every: bool = False


def select_stacks(selection: Selection, tenants: Mapping[str, Tenant], defaults: PlatformDefaults) -> list[StackRef]:
    """The registry's stacks that ``selection`` names, shared stacks first; never empty."""
    if not (selection.stacks or selection.tenants or selection.environments or selection.every):
        raise UserError("stacks", "name the stacks: --stack S, --tenant T, --env E, or --all")
    envs = defaults.platform.environments
    candidates = all_stacks(dict(tenants), envs, selection.tenants, selection.environments)
    if selection.stacks:
        known = {ref.name: ref for ref in all_stacks(dict(tenants), envs)}
        for name in selection.stacks:
            ref = parse_stack_name(name, envs)
            if name not in known:
                where = f"stack '{name}'"
                if ref.tenant_id is not None and ref.tenant_id not in tenants:
                    raise UserError(where, f"unknown tenant '{ref.tenant_id}'; registry has {sorted(tenants)}")
                raise UserError(where, f"tenant '{ref.tenant_id}' does not run in '{ref.environment}'")
        wanted = set(selection.stacks)
        candidates = [ref for ref in candidates if ref.name in wanted]
    if not candidates:
        raise UserError("stacks", "no stacks match the given --stack/--tenant/--env")
    return candidates


def gate(
    stacks: list[StackRef],
    tenants: Mapping[str, Tenant],
    defaults: PlatformDefaults,
    registry_dir: Path,
    advance: Callable[[StackRef, bool], None] = lambda ref, cached: None,
) -> list[PlannedStack]:
    """Plan ``stacks`` offline with both policy packs (shared stacks come along for their outputs)."""
    planner = Planner(PlanSettings(defaults=defaults, registry_dir=registry_dir), dict(tenants))
    return planner.plan(stacks, advance)


def gate_refusals(planned: Iterable[PlannedStack]) -> list[str]:
    """One line per mandatory violation (as the plan prints it); empty when the gate passes."""
    return report.violation_lines(list(planned), report.MANDATORY)


def write_pack_configs(
    stacks: list[StackRef],
    tenants: Mapping[str, Tenant],
    registry_dir: Path,
    folder: Path,
) -> dict[str, list[PackConfig]]:
    """Write every pack's ``--policy-pack-config`` for each stack; per stack, (pack dir, file) pairs."""
    from ..policy.runner import PolicyContext, PolicySession

    context = PolicyContext.from_registry(tenants=dict(tenants), registry_dir=registry_dir)
    written: dict[str, list[PackConfig]] = {}
    with PolicySession(context) as session:
        for ref in stacks:
            configs = session.configs(ref.name)
            pairs: list[PackConfig] = []
            for pack in session.packs:
                path = folder / ref.name / f"{pack.pack_dir.name}.json"
                write_text_atomic(path, json.dumps(configs[pack.info.name], indent=1, sort_keys=True) + "\n")
                pairs.append((str(pack.pack_dir / PACK_LAUNCHER), str(path)))
            written[ref.name] = pairs
    return written
