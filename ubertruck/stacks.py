"""The stack model: which stack a name means.

* ``dev``, ``prod`` (each declared environment): the shared platform stack of that environment.
* ``<tenant-id>-<env>``: a tenant stack. It needs no ``Pulumi.<stack>.yaml``; its settings are
  the tenant's registry file merged over the environment's defaults.

Anything else is a clear error, and so is a tenant that is not in the registry or that does not
run in that environment.

>>> parse_stack_name("acme-prod", ["dev", "prod"]).tenant_id
'acme'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Literal, Mapping

from .errors import UserError
from .registry.loader import REGISTRY_DIR, tenant_file
from .registry.model import Tenant, tenant_id_problem


@dataclass(frozen=True, order=True)
class StackRef:
    """A resolved stack: shared (``tenant_id`` is None) or tenant."""

    name: str
    environment: str
    tenant_id: str | None = None

    @property
    def kind(self) -> Literal["shared", "tenant"]:
        return "shared" if self.tenant_id is None else "tenant"


def tenant_stack_name(tenant_id: str, environment: str) -> str:
    """The stack name of ``tenant_id`` in ``environment``."""
    return f"{tenant_id}-{environment}"


def parse_stack_name(name: str, environments: Iterable[str]) -> StackRef:
    """Split a stack name into shared or tenant form, without reading the registry."""
    envs = list(environments)
    if name in envs:
        return StackRef(name=name, environment=name)
    tenant_id, sep, env = name.rpartition("-")
    if sep and tenant_id and env in envs:
        # The tenant part becomes a registry file name: `../x-dev` must not reach the disk.
        problem = tenant_id_problem(tenant_id)
        if problem:
            raise UserError(f"stack '{name}'", f"tenant id '{tenant_id}' is not valid: {problem}")
        return StackRef(name=name, environment=env, tenant_id=tenant_id)
    raise UserError(
        f"stack '{name}'",
        f"is neither a shared stack ({', '.join(envs)}) nor a tenant stack '<tenant-id>-<env>' with env in {envs}",
    )


def resolve_stack(name: str, environments: Iterable[str], registry_dir: Path = REGISTRY_DIR) -> tuple[StackRef, Tenant | None]:
    """Parse ``name`` and, for a tenant stack, load and check that tenant's registry file."""
    from .registry.loader import load_tenant  # local: keeps `parse_stack_name` import-light

    ref = parse_stack_name(name, environments)
    if ref.tenant_id is None:
        return ref, None
    path = tenant_file(ref.tenant_id, registry_dir)
    if not path.is_file():
        raise UserError(f"stack '{name}'", f"unknown tenant '{ref.tenant_id}': there is no {path}")
    tenant = load_tenant(path)
    if ref.environment not in tenant.environments:
        raise UserError(
            f"stack '{name}'",
            f"tenant '{tenant.id}' does not run in '{ref.environment}'; its environments are {tenant.environments}",
        )
    return ref, tenant


def all_stacks(
    tenants: dict[str, Tenant],
    environments: Iterable[str],
    only_tenants: Iterable[str] = (),
    only_envs: Iterable[str] = (),
    include_shared: bool = True,
) -> list[StackRef]:
    """Every stack of the registry: shared stacks first, then tenant × environment, sorted."""
    envs = list(environments)
    wanted_envs = list(only_envs) or envs
    unknown_envs = [e for e in wanted_envs if e not in envs]
    if unknown_envs:
        raise UserError("--env", f"unknown environment(s) {unknown_envs}; expected some of {envs}")
    wanted_tenants = list(only_tenants)
    unknown_tenants = [t for t in wanted_tenants if t not in tenants]
    if unknown_tenants:
        raise UserError("--tenant", f"unknown tenant(s) {unknown_tenants}; registry has {sorted(tenants)}")
    stacks: list[StackRef] = []
    if include_shared and not wanted_tenants:
        stacks += [StackRef(name=e, environment=e) for e in wanted_envs]
    for tenant_id in sorted(wanted_tenants or tenants):
        for env in tenants[tenant_id].environments:
            if env in wanted_envs:
                stacks.append(StackRef(name=tenant_stack_name(tenant_id, env), environment=env, tenant_id=tenant_id))
    return stacks


@dataclass(frozen=True)
class TenantStack:
    """A tenant stack of one environment and the region its resources (and alarms) live in: what
    that environment's shared stack deploys (its pipeline) and watches (its health alarms)."""

    name: str
    region: str


def environment_tenant_stacks(tenants: Mapping[str, Tenant], environment: str, environments: Iterable[str]) -> list[TenantStack]:
    """The tenant stacks of ``environment`` among ``tenants``, sorted: what its deploy brings up."""
    stacks = all_stacks(dict(tenants), environments, only_envs=[environment], include_shared=False)
    return [TenantStack(s.name, tenants[str(s.tenant_id)].region) for s in stacks]


def read_environment_tenant_stacks(environment: str, environments: Iterable[str], registry_dir: Path = REGISTRY_DIR) -> list[TenantStack]:
    """``environment_tenant_stacks`` of the registry in ``registry_dir``, every file checked first.

    The program (``__main__.py``) reads this and hands it to ``SharedPlatform``: the components
    never read the registry themselves.
    """
    from .registry.loader import load_registry  # local, as in resolve_stack

    result = load_registry([registry_dir])
    result.raise_for_errors()
    return environment_tenant_stacks(result.tenants, environment, environments)
