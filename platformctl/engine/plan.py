"""``platformctl plan``: every requested stack under the mock runtime, on every core, cached.

Shared stacks run first (tenant stacks read their outputs through a StackReference); tenant
stacks then run in a pool of worker processes. Each stack's result is cached on the content of
its inputs and the program's sources (see ``cache.py``).

A plan that asks for tenant stacks but not their shared stack needs only the shared stack's
outputs. Those are also cached on their own, keyed on what they depend on: the program, the
shared stack's file and config, and the regions its environment's tenants run in (a topic per
region); not on which tenants those are. A new tenant in a region already served re-uses them,
and the shared stack is planned (and gated) where it is asked for: by a plan that names it.
"""

from __future__ import annotations

import atexit
import json
import multiprocessing
import multiprocessing.util
import os
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from ubertruck import PROJECT_ROOT
from ubertruck.defaults import PlatformDefaults
from ubertruck.registry.loader import REGISTRY_DIR, load_registry, tenant_file
from ubertruck.registry.model import Tenant
from ubertruck.stacks import StackRef

from .cache import PlanCache, sources_digest, stack_key
from .runner import ProgramError, StackRun, run_stack, stack_config

if TYPE_CHECKING:
    from ..policy.runner import PolicyContext

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
    #: Run the policy packs over every planned stack (the gate); off for pure capture runs.
    policy: bool = True
    #: Record every registration (the engine); off only for the benchmarks' floor.
    capture: bool = True
    #: Keep the planner's worker processes (the program's modules imported) and their policy
    #: packs running after the plan, for the next plan of this process: a server's gate, which
    #: then pays neither the start of a pool nor the packs' boot per request. With ``workers=1``
    #: the packs alone are kept, in this process. Everything closes when the process exits.
    keep_warm: bool = False

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
    capture: bool = True


def _stack_source(ref: StackRef, registry_dir: Path) -> Path:
    if ref.tenant_id is None:
        return PROJECT_ROOT / f"Pulumi.{ref.name}.yaml"
    return tenant_file(ref.tenant_id, registry_dir)


_JobResult = tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]

#: Per process: the policy context of the plan and, once a stack needed it, the pack session.
#: The packs start once per process and serve every stack that process plans.
_POLICY: dict[str, Any] = {"context": None, "session": None, "kept": False}
#: Sessions kept between plans (``PlanSettings.keep_warm``), by their packs' folders: a session
#: evaluates each stack with that plan's context, so one serves every registry.
_KEPT: dict[tuple[Path, ...], Any] = {}


def _start_policy_session(context: "PolicyContext | None", keep: bool = False) -> None:
    """Start the packs in the background: they boot (about a second) while the first stack's
    program runs, instead of after it. With ``keep``, a session kept from an earlier plan serves."""
    _POLICY["context"], _POLICY["kept"] = context, keep
    if context is None:
        return
    if keep and tuple(context.packs) in _KEPT:
        _POLICY["session"] = _KEPT[tuple(context.packs)]
        return
    from ..policy.runner import PolicySession

    starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="policy-packs")
    _POLICY["session"] = starter.submit(PolicySession, context)
    starter.shutdown(wait=False)
    if keep:
        _KEPT[tuple(context.packs)] = _POLICY["session"]


def _close_policy_session() -> None:
    session, kept = _POLICY["session"], _POLICY["kept"]
    _POLICY["session"], _POLICY["context"], _POLICY["kept"] = None, None, False
    if not kept:
        _close_session(session)


def _close_session(session: Any) -> None:
    if isinstance(session, Future):
        session = session.result() if not session.cancel() else None
    if session is not None:
        session.close()


@atexit.register
def _close_kept_sessions() -> None:
    while _KEPT:
        _close_session(_KEPT.popitem()[1])


def _evaluate(run: StackRun, config: dict[str, str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    context = _POLICY["context"]
    if context is None:
        return [], []
    kept = _POLICY["kept"]
    try:
        if isinstance(_POLICY["session"], Future):
            _POLICY["session"] = _POLICY["session"].result()
            if kept:
                _KEPT[tuple(context.packs)] = _POLICY["session"]
        # A kept session was started for an earlier plan: this plan's registry goes with each stack.
        result = _POLICY["session"].evaluate(run, config, context if kept else None)
    except BaseException:
        if kept:
            # A pack that failed (or never started) is not kept for the next plan: it starts afresh.
            _KEPT.pop(tuple(context.packs), None)
            _POLICY["kept"] = False
        raise
    return [v.to_dict() for v in result.violations], [e.to_dict() for e in result.exemptions]


def _run_job(job: _Job) -> _JobResult:
    run = run_stack(
        job.ref.name,
        job.project,
        job.account_id,
        job.default_region,
        job.stack_outputs,
        job.organization,
        config=job.config,
        capture=job.capture,
    )
    violations, exemptions = _evaluate(run, job.config)
    return [r.to_dict() for r in run.resources], run.outputs, violations, exemptions


def _run_kept_job(job: _Job, policy_context: "PolicyContext | None") -> _JobResult:
    """``_run_job`` in a kept worker: the packs it kept serve this plan's context."""
    _start_policy_session(policy_context, keep=True)
    try:
        return _run_job(job)
    finally:
        _close_policy_session()


def _init_worker(policy_context: "PolicyContext | None", keep: bool = False) -> None:
    # Import the program's modules once per worker instead of once per stack.
    import components.shared
    import components.tenant  # noqa: F401

    # Pool workers leave through multiprocessing's exit path, which skips atexit but runs these.
    if keep:
        multiprocessing.util.Finalize(None, _close_kept_sessions, exitpriority=10)
        return
    _start_policy_session(policy_context)
    multiprocessing.util.Finalize(None, _close_policy_session, exitpriority=10)


#: Worker pools kept between plans (``PlanSettings.keep_warm``), by size.
_KEPT_POOLS: dict[int, ProcessPoolExecutor] = {}


def _kept_pool(size: int) -> ProcessPoolExecutor:
    if size not in _KEPT_POOLS:
        # Spawn, not fork: the parent holds SDK threads (executors, gRPC) that a fork would copy mid-lock.
        context = multiprocessing.get_context("spawn")
        _KEPT_POOLS[size] = ProcessPoolExecutor(max_workers=size, mp_context=context, initializer=_init_worker, initargs=(None, True))
    return _KEPT_POOLS[size]


class Planner:
    """Plans a list of stacks; see module docs."""

    def __init__(self, settings: PlanSettings, tenants: Mapping[str, Tenant] | None = None) -> None:
        self.settings = settings
        self.tenants = dict(tenants) if tenants is not None else None
        self.cache = PlanCache(settings.cache_dir) if settings.cache_dir else PlanCache()
        self.sources = sources_digest() if settings.use_cache else ""
        defaults = settings.defaults
        self.project = defaults.platform.project
        self.organization = defaults.offline.organization
        self._registry_views: dict[str, bytes] | None = None
        self._tenant_ids: bytes | None = None
        self._configs: dict[str, dict[str, str]] = {}

    def _stack_config(self, stack: str) -> dict[str, str]:
        # Read once per plan: a thousand tenant stacks share the same Pulumi.yaml.
        if stack not in self._configs:
            self._configs[stack] = stack_config(PROJECT_ROOT, stack)
        return dict(self._configs[stack])

    def _job(self, ref: StackRef, shared_outputs: dict[str, dict[str, Any]]) -> _Job:
        config = self._stack_config(ref.name)
        config[f"{self.project}:registryDir"] = str(self.settings.registry_dir.resolve())
        organization = config.get(f"{self.project}:sharedStackOrganization", self.organization)
        shared_config = self._stack_config(ref.environment)
        region = config.get("aws:region") or shared_config.get("aws:region") or self.settings.defaults.platform.supported_regions[0]
        # The credentials of a real deploy are in the environment's account (its providers pin it).
        account = self.settings.defaults.environments[ref.environment].account_id
        return _Job(ref, config, shared_outputs, account, region, self.project, organization, self.settings.capture)

    def _key(self, job: _Job) -> str:
        if not self.settings.use_cache:
            return ""
        source = _stack_source(job.ref, self.settings.registry_dir)
        blobs = [source.read_bytes()] if source.is_file() else []
        # A plan without the gate has no verdicts to serve to a plan with it.
        blobs.append(f"policy={self.settings.policy} capture={self.settings.capture}".encode())
        if job.ref.tenant_id is None:
            blobs.append(self._shared_registry_view(job.ref.environment))
        if self.settings.policy:
            # The isolation rules look for every other tenant's names in this stack.
            if self._tenant_ids is None:
                self._tenant_ids = " ".join(sorted(self._tenants())).encode()
            blobs.append(self._tenant_ids)
        blobs.append(repr(sorted(self._keyed_config(job).items())).encode())
        return stack_key(self.sources, job.ref.name, blobs, job.stack_outputs)

    def _keyed_config(self, job: _Job) -> dict[str, str]:
        """The stack's config as its cache keys see it. A shared stack reads the registry folder
        only for its view (keyed on its own), so the folder's path is left out: the API gates in
        a new scratch copy of the registry per request. A tenant stack keeps it (its file's path
        is in its policy verdicts)."""
        if job.ref.tenant_id is not None:
            return job.config
        return {k: v for k, v in job.config.items() if k != f"{self.project}:registryDir"}

    def _outputs_key(self, job: _Job) -> str | None:
        """The key of a shared stack's outputs alone (see the module's docs); None without the
        cache, or without tenants handed in (checked by the caller): a registry read here may
        hold files that fail to load, which the shared stack's own plan reports."""
        if not self.settings.use_cache or self.tenants is None:
            return None
        env = job.ref.environment
        regions = sorted({t.region for t in self._tenants().values() if env in t.environments})
        source = _stack_source(job.ref, self.settings.registry_dir)
        blobs = [source.read_bytes()] if source.is_file() else []
        blobs += [f"outputs capture={self.settings.capture}".encode(), json.dumps(regions).encode()]
        blobs.append(repr(sorted(self._keyed_config(job).items())).encode())
        return stack_key(self.sources, job.ref.name, blobs, {})

    def _tenants(self) -> dict[str, Tenant]:
        if self.tenants is None:
            loaded = load_registry([self.settings.registry_dir])
            loaded.raise_for_errors()
            self.tenants = loaded.tenants
        return self.tenants

    def policy_context(self) -> "PolicyContext | None":
        """The policy packs' view of this plan, or None when the gate is off."""
        if not self.settings.policy:
            return None
        from ..policy.runner import PolicyContext

        return PolicyContext.from_registry(tenants=self._tenants(), registry_dir=self.settings.registry_dir)

    def _shared_registry_view(self, environment: str) -> bytes:
        """What a shared stack reads of the registry: which tenants run in its environment, and
        where (``ubertruck.stacks.environment_tenant_stacks``). Keying on just that keeps a
        tenant's pricing change from re-planning the shared stacks. Files that fail to load are
        keyed by content so the shared stack re-plans (and reports the error) when they change."""
        if self._registry_views is None:
            # Tenants handed in were loaded (and checked) by the caller: no second read.
            loaded = load_registry([self.settings.registry_dir]) if self.tenants is None else None
            tenants = loaded.tenants if loaded is not None else self._tenants()
            errors = [str(e) for e in loaded.errors] if loaded is not None else []
            self._registry_views = {
                env: json.dumps(
                    [[t.id, t.region] for t in sorted(tenants.values(), key=lambda t: t.id) if env in t.environments] + errors
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

    def _finish(self, job: _Job, key: str, result: _JobResult) -> PlannedStack:
        resources, outputs, violations, exemptions = result
        planned = PlannedStack(
            ref=job.ref,
            source=str(_stack_source(job.ref, self.settings.registry_dir)),
            resource_count=len(resources),
            outputs=outputs,
            violations=violations,
            exemptions=exemptions,
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
        if not pending:
            return [results[job.ref.name] for job in jobs]
        keep = self.settings.keep_warm
        # A kept pool serves plans of any size (its processes are up already): its size is the setting's.
        workers = max(1, self.settings.workers or os.cpu_count() or 1) if keep else self.settings.worker_count(len(pending))
        if workers <= 1:
            _start_policy_session(self.policy_context(), keep)
            try:
                for job, key in pending:
                    results[job.ref.name] = self._finish(job, key, _run_job(job))
                    progress(job.ref, False)
            finally:
                _close_policy_session()
        elif keep:
            pool, policy_context = _kept_pool(workers), self.policy_context()
            kept = [(job, key, pool.submit(_run_kept_job, job, policy_context)) for job, key in pending]
            try:
                for job, key, future in kept:
                    results[job.ref.name] = self._finish(job, key, future.result())
                    progress(job.ref, False)
            except BaseException as exc:
                # Stacks not started yet are not planned for nobody; a dead worker (killed, out of
                # memory) breaks the pool, and the next plan starts a new one.
                for _job, _key, future in kept:
                    future.cancel()
                if isinstance(exc, BrokenProcessPool):
                    _KEPT_POOLS.pop(workers, None)
                raise
        else:
            # Spawn, not fork: the parent holds SDK threads (executors, gRPC) that a fork would copy mid-lock.
            context = multiprocessing.get_context("spawn")
            policy_context = self.policy_context()
            with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(policy_context,)) as pool:
                futures: list[tuple[_Job, str, Future]] = [(job, key, pool.submit(_run_job, job)) for job, key in pending]
                for job, key, future in futures:
                    results[job.ref.name] = self._finish(job, key, future.result())
                    progress(job.ref, False)
        return [results[job.ref.name] for job in jobs]

    def plan(self, stacks: Iterable[StackRef], progress: Progress = lambda ref, cached: None) -> list[PlannedStack]:
        """Plan ``stacks`` (shared and tenant); return them in the order given."""
        wanted = list(stacks)
        # The registry and the stack files may have changed since the last plan.
        self._registry_views, self._tenant_ids, self._configs = None, None, {}
        named = {ref.name for ref in wanted if ref.tenant_id is None}
        envs = sorted({ref.environment for ref in wanted if ref.tenant_id is not None} | named)
        shared_jobs = [self._job(StackRef(name=env, environment=env), {}) for env in envs]
        outputs_keys = {job.ref.name: self._outputs_key(job) for job in shared_jobs}
        outputs: dict[str, dict[str, Any]] = {}
        for job in shared_jobs:
            key = outputs_keys[job.ref.name]
            found = self.cache.get_outputs(key) if key and job.ref.name not in named else None
            if found is not None:
                outputs[job.ref.name] = found
        planned = self._run_many([job for job in shared_jobs if job.ref.name not in outputs], lambda ref, cached: None)
        shared = {p.ref.name: p for p in planned}
        for p in planned:
            outputs[p.ref.name] = p.outputs
            key = outputs_keys[p.ref.name]
            if key:
                self.cache.put_outputs(key, p.outputs)
        outputs_by_env = {job.ref.name: {f"{job.organization}/{self.project}/{job.ref.name}": outputs[job.ref.name]} for job in shared_jobs}
        for ref in wanted:
            if ref.tenant_id is None:
                progress(ref, shared[ref.name].cached)
        tenant_jobs = [self._job(ref, outputs_by_env[ref.environment]) for ref in wanted if ref.tenant_id is not None]
        tenants = {p.ref.name: p for p in self._run_many(tenant_jobs, progress)}
        return [shared[ref.name] if ref.tenant_id is None else tenants[ref.name] for ref in wanted]


__all__ = ["PlanSettings", "PlannedStack", "Planner", "ProgramError"]
