"""``platformctl plan``: every requested stack under the mock runtime, on every core, cached.

Shared stacks run first (tenant stacks read their outputs through a StackReference); tenant
stacks then run in a pool of worker processes. Each stack's result is cached on the content of
its inputs and the program's sources (see ``cache.py``).
"""

from __future__ import annotations

import json
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .. import PROJECT_ROOT
from ..defaults import PlatformDefaults
from ..registry.loader import REGISTRY_DIR, load_registry, tenant_file
from ..stacks import StackRef
from .cache import PlanCache, sources_digest, stack_key
from .runner import ProgramError, run_stack, stack_config

Progress = Callable[[StackRef, bool], None]


@dataclass
class PlannedStack:
    """One stack's plan: what the report and the policy gate see."""

    ref: StackRef
    source: str
    resource_count: int
    outputs: dict[str, Any]
    violations: list[dict[str, Any]] = field(default_factory=list)
    exemptions: list[dict[str, Any]] = field(default_factory=list)
    cached: bool = False
    key: str = ""
    _resources: list[dict[str, Any]] | None = None
    _cache: PlanCache | None = None

    @property
    def resources(self) -> list[dict[str, Any]]:
        """Captured resources (``CapturedResource.to_dict()``), loaded from the cache on demand."""
        if self._resources is None and self._cache is not None:
            self._resources = self._cache.get_resources(self.key) or []
        return self._resources or []

    def summary(self) -> dict[str, Any]:
        return {
            "resource_count": self.resource_count,
            "outputs": self.outputs,
            "violations": self.violations,
            "exemptions": self.exemptions,
        }


@dataclass(frozen=True)
class PlanSettings:
    """How to plan: where the registry is, how many workers, whether to use the cache."""

    defaults: PlatformDefaults
    registry_dir: Path = REGISTRY_DIR
    workers: int = 0
    use_cache: bool = True
    cache_dir: Path | None = None

    def worker_count(self, jobs: int) -> int:
        wanted = self.workers or os.cpu_count() or 1
        return max(1, min(wanted, jobs))


@dataclass(frozen=True)
class _Job:
    ref: StackRef
    config: dict[str, str]
    stack_outputs: dict[str, dict[str, Any]]
    account_id: str
    default_region: str
    project: str
    organization: str


def _stack_source(ref: StackRef, registry_dir: Path) -> Path:
    if ref.tenant_id is None:
        return PROJECT_ROOT / f"Pulumi.{ref.name}.yaml"
    return tenant_file(ref.tenant_id, registry_dir)


def _run_job(job: _Job) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    run = run_stack(
        job.ref.name,
        job.project,
        job.account_id,
        job.default_region,
        job.stack_outputs,
        job.organization,
        config=job.config,
    )
    return [r.to_dict() for r in run.resources], run.outputs


def _warm_worker() -> None:
    # Import the program's modules once per worker instead of once per stack.
    import components.shared  # noqa: F401
    import components.tenant  # noqa: F401


class Planner:
    """Plans a list of stacks; see module docs."""

    def __init__(self, settings: PlanSettings) -> None:
        self.settings = settings
        self.cache = PlanCache(settings.cache_dir) if settings.cache_dir else PlanCache()
        self.sources = sources_digest() if settings.use_cache else ""
        defaults = settings.defaults
        self.project = defaults.platform.project
        self.organization = defaults.offline.organization
        self._registry_views: dict[str, bytes] | None = None

    def _job(self, ref: StackRef, shared_outputs: dict[str, dict[str, Any]]) -> _Job:
        config = stack_config(PROJECT_ROOT, ref.name)
        config[f"{self.project}:registryDir"] = str(self.settings.registry_dir.resolve())
        organization = config.get(f"{self.project}:sharedStackOrganization", self.organization)
        shared_config = stack_config(PROJECT_ROOT, ref.environment)
        region = config.get("aws:region") or shared_config.get("aws:region") or self.settings.defaults.platform.supported_regions[0]
        return _Job(ref, config, shared_outputs, self.settings.defaults.offline.account_id, region, self.project, organization)

    def _key(self, job: _Job) -> str:
        if not self.settings.use_cache:
            return ""
        source = _stack_source(job.ref, self.settings.registry_dir)
        blobs = [source.read_bytes()] if source.is_file() else []
        if job.ref.tenant_id is None:
            blobs.append(self._shared_registry_view(job.ref.environment))
        blobs.append(repr(sorted(job.config.items())).encode())
        return stack_key(self.sources, job.ref.name, blobs, job.stack_outputs)

    def _shared_registry_view(self, environment: str) -> bytes:
        """What a shared stack reads of the registry: which tenants run in its environment, and
        where (``components.pipeline.environment_tenant_stacks``). Keying on just that keeps a
        tenant's pricing change from re-planning the shared stacks. Files that fail to load are
        keyed by content so the shared stack re-plans (and reports the error) when they change."""
        if self._registry_views is None:
            loaded = load_registry([self.settings.registry_dir])
            self._registry_views = {
                env: json.dumps(
                    [[t.id, t.region] for t in sorted(loaded.tenants.values(), key=lambda t: t.id) if env in t.environments]
                    + [str(e) for e in loaded.errors]
                ).encode()
                for env in self.settings.defaults.platform.environments
            }
        return self._registry_views[environment]

    def _from_cache(self, job: _Job, key: str) -> PlannedStack | None:
        if not key:
            return None
        summary = self.cache.get_summary(key)
        if summary is None:
            return None
        return PlannedStack(
            ref=job.ref,
            source=str(_stack_source(job.ref, self.settings.registry_dir)),
            resource_count=summary["resource_count"],
            outputs=summary["outputs"],
            violations=summary["violations"],
            exemptions=summary["exemptions"],
            cached=True,
            key=key,
            _cache=self.cache,
        )

    def _finish(self, job: _Job, key: str, resources: list[dict[str, Any]], outputs: dict[str, Any]) -> PlannedStack:
        planned = PlannedStack(
            ref=job.ref,
            source=str(_stack_source(job.ref, self.settings.registry_dir)),
            resource_count=len(resources),
            outputs=outputs,
            key=key,
            _resources=resources,
        )
        if key:
            self.cache.put(key, planned.summary(), resources)
        return planned

    def _run_many(self, jobs: list[_Job], progress: Progress) -> list[PlannedStack]:
        results: dict[str, PlannedStack] = {}
        pending: list[tuple[_Job, str]] = []
        for job in jobs:
            key = self._key(job)
            hit = self._from_cache(job, key)
            if hit is not None:
                results[job.ref.name] = hit
                progress(job.ref, True)
            else:
                pending.append((job, key))
        workers = self.settings.worker_count(len(pending))
        if workers <= 1:
            for job, key in pending:
                results[job.ref.name] = self._finish(job, key, *_run_job(job))
                progress(job.ref, False)
        else:
            # Spawn, not fork: the parent holds SDK threads (executors, gRPC) that a fork would copy mid-lock.
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_warm_worker) as pool:
                futures: list[tuple[_Job, str, Future]] = [(job, key, pool.submit(_run_job, job)) for job, key in pending]
                for job, key, future in futures:
                    results[job.ref.name] = self._finish(job, key, *future.result())
                    progress(job.ref, False)
        return [results[job.ref.name] for job in jobs]

    def plan(self, stacks: Iterable[StackRef], progress: Progress = lambda ref, cached: None) -> list[PlannedStack]:
        """Plan ``stacks`` (shared and tenant); return them in the order given."""
        wanted = list(stacks)
        self._registry_views = None  # the registry may have changed since the last plan
        envs = sorted({ref.environment for ref in wanted if ref.tenant_id is not None} | {ref.name for ref in wanted if ref.tenant_id is None})
        shared_refs = [StackRef(name=env, environment=env) for env in envs]
        shared = {p.ref.name: p for p in self._run_many([self._job(ref, {}) for ref in shared_refs], lambda ref, cached: None)}
        outputs_by_env = {
            ref.name: {f"{self._job(ref, {}).organization}/{self.project}/{ref.name}": shared[ref.name].outputs} for ref in shared_refs
        }
        for ref in wanted:
            if ref.tenant_id is None:
                progress(ref, shared[ref.name].cached)
        tenant_jobs = [self._job(ref, outputs_by_env[ref.environment]) for ref in wanted if ref.tenant_id is not None]
        tenants = {p.ref.name: p for p in self._run_many(tenant_jobs, progress)}
        return [shared[ref.name] if ref.tenant_id is None else tenants[ref.name] for ref in wanted]


__all__ = ["PlanSettings", "PlannedStack", "Planner", "ProgramError"]
