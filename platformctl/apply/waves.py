"""Wave planning: which stacks of a fleet-wide operation run together, and in what order.

Environments go one after another, in the order the platform declares them (``dev`` before
``prod``), so a change has crossed every dev stack before it touches prod. Within one
environment:

1. its shared stack (tenant stacks read its outputs through a ``StackReference``);
2. the canary tenants (registry ``rollout: {canary: true}``), whatever their tier;
3. the other tenants, one wave per tier in ``rollout.tier_order``.

``destroy`` keeps the canaries and the tier order but runs the shared stack after the
environment's tenants, since they depend on it. Empty waves are left out.

>>> from ubertruck.stacks import StackRef
>>> plan = plan_waves("up", [StackRef("dev", "dev")], {}, ("basic",), ("dev",), concurrency=4, threshold=None)
>>> [(w.label, [s.name for s in w.stacks]) for w in plan]
[('dev shared', ['dev'])]
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Literal, Mapping, Sequence

from ubertruck.errors import UserError
from ubertruck.registry.model import Tenant
from ubertruck.stacks import StackRef

from .operations import Operation
from .options import FailureThreshold

WaveKind = Literal["shared", "canary", "tier"]


@dataclass(frozen=True)
class Wave:
    """Stacks that run together, at most ``concurrency`` at once; ``failure_limit`` failures stop the rollout."""

    index: int
    environment: str
    kind: WaveKind
    #: The tier of a ``tier`` wave; None otherwise.
    tier: str | None
    stacks: tuple[StackRef, ...]
    concurrency: int
    failure_limit: int

    @property
    def label(self) -> str:
        """``dev shared``, ``dev canary``, ``prod tier standard``."""
        return f"{self.environment} {self.kind}" + (f" {self.tier}" if self.tier else "")


def _environment_order(stacks: Iterable[StackRef], declared: Sequence[str]) -> list[str]:
    """Declared environments first, in order; any other (none today) after them, sorted."""
    present = {s.environment for s in stacks}
    return [e for e in declared if e in present] + sorted(present - set(declared))


def _tenant_of(stack: StackRef, tenants: Mapping[str, Tenant]) -> Tenant:
    tenant = tenants.get(stack.tenant_id or "")
    if tenant is None:
        raise UserError(f"stack '{stack.name}'", f"tenant '{stack.tenant_id}' is not in the registry")
    return tenant


def _groups(
    operation: Operation, env_stacks: list[StackRef], tenants: Mapping[str, Tenant], tier_order: Sequence[str]
) -> list[tuple[WaveKind, str | None, list[StackRef]]]:
    """One environment's stacks as ordered (kind, tier, stacks) groups, empty ones included."""
    shared = [s for s in env_stacks if s.tenant_id is None]
    canary: list[StackRef] = []
    by_tier: dict[str, list[StackRef]] = {tier: [] for tier in tier_order}
    for stack in (s for s in env_stacks if s.tenant_id is not None):
        tenant = _tenant_of(stack, tenants)
        if tenant.rollout.canary:
            canary.append(stack)
        elif tenant.tier in by_tier:
            by_tier[tenant.tier].append(stack)
        else:
            raise UserError(
                "defaults.yaml: rollout.tier_order",
                f"does not list tier '{tenant.tier}' of tenant '{tenant.id}'; expected every tier, in rollout order",
            )
    tenant_groups: list[tuple[WaveKind, str | None, list[StackRef]]] = [("canary", None, canary)]
    tenant_groups += [("tier", tier, by_tier[tier]) for tier in tier_order]
    shared_group: list[tuple[WaveKind, str | None, list[StackRef]]] = [("shared", None, shared)]
    # Tenant stacks read the shared stack's outputs: it comes first, and goes last.
    return tenant_groups + shared_group if operation == "destroy" else shared_group + tenant_groups


def plan_waves(
    operation: Operation,
    stacks: Sequence[StackRef],
    tenants: Mapping[str, Tenant],
    tier_order: Sequence[str],
    environment_order: Sequence[str],
    concurrency: int,
    threshold: FailureThreshold | None,
) -> list[Wave]:
    """Order ``stacks`` into waves (see the module docstring); every stack lands in exactly one.

    ``threshold`` None means no limit short of the whole wave (each wave's limit is its size).
    """
    twice = sorted(name for name, seen in Counter(s.name for s in stacks).items() if seen > 1)
    if twice:
        raise UserError("stacks", f"listed more than once: {twice}")
    waves: list[Wave] = []
    for environment in _environment_order(stacks, environment_order):
        env_stacks = sorted(s for s in stacks if s.environment == environment)
        for kind, tier, members in _groups(operation, env_stacks, tenants, tier_order):
            if not members:
                continue
            size = len(members)
            waves.append(
                Wave(
                    index=len(waves),
                    environment=environment,
                    kind=kind,
                    tier=tier,
                    stacks=tuple(members),
                    concurrency=min(concurrency, size),
                    failure_limit=threshold.limit_for(size) if threshold else size,
                )
            )
    return waves
