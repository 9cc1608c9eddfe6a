"""Runs one job of the provisioning service through the same code paths as ``platformctl``.

A provisioning job (one tenant, one environment) is ``platformctl up --tenant T --env E`` with the
environment's shared stack: the offline gate (:func:`gate_stacks`) of both, then a preview of both
and an up of the tenant's stack and of the shared stack when its preview shows a change, in waves
(:func:`platformctl.apply.rollout.run_rollout`, with the real engine's
:class:`~platformctl.apply.automation.AutomationStackOperations`). An offboarding job is
``platformctl offboard T``: :func:`platformctl.apply.offboard.offboard_tenant`, with its retention
rules and its own audit log; it removes the registry file only after every destroy succeeded.

Every stack operation's outcome goes into the job store (per-stack results) and the service's
audit trail; every line the engine prints goes into the job's log, where ``/jobs/{id}/events``
streams it from. A job whose tenant's registry file is gone when it starts (the tenant was
deleted while it waited) is cancelled. A job that failed only transiently raises
:class:`TransientJobFailure` while retries remain, so the queue runs it again after a back-off.
"""

from __future__ import annotations

import io
import shutil
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol

from rich.console import Console

from ubertruck.defaults import PlatformDefaults, ServiceSection
from ubertruck.errors import UserError, UserErrors
from ubertruck.registry import load_registry
from ubertruck.registry.loader import REGISTRY_DIR, tenant_file
from ubertruck.registry.model import Tenant
from ubertruck.stacks import StackRef

from ..apply.automation import AutomationStackOperations
from ..apply.offboard import OffboardResult, Say, offboard_tenant
from ..apply.operations import Operation, OutputSink, StackOperations, StackOutcome
from ..apply.options import options_from_defaults, run_folder
from ..apply.prepare import Selection, gate_refusals, select_stacks, write_pack_configs
from ..apply.report import RolloutReport
from ..apply.rollout import run_rollout
from ..apply.scheduler import Sleep
from ..apply.target import EngineTarget, materialise, resolve_target
from ..engine.plan import Planner, PlanSettings
from .audit import ServiceAudit
from .jobs import FINAL, JobKind, JobRecord, JobStateError, JobStatus, JobStore, StackResult
from .tokens import utcnow

#: The gate: one line per mandatory violation of the stacks, empty when it passes.
Gate = Callable[[list[StackRef], Mapping[str, Tenant], PlatformDefaults, Path], list[str]]

#: The offline planner keeps its policy session in module state, so one gate at a time per process.
_GATE_LOCK = threading.Lock()


def gate_stacks(stacks: list[StackRef], tenants: Mapping[str, Tenant], defaults: PlatformDefaults, registry: Path) -> list[str]:
    """The gate of ``platformctl up`` (:func:`platformctl.apply.prepare.gate`): one line per mandatory
    violation, empty when it passes. A server gates one request at a time, in a pool of planner
    processes (one per core) kept between requests with the program's modules imported and the
    policy packs running: a new pool per call would start both again. Tenant stacks whose shared stack is not in ``stacks`` read its outputs
    from the plan cache when its environment's tenant regions were planned before (see
    :mod:`platformctl.engine.plan`)."""
    with _GATE_LOCK:
        planner = Planner(PlanSettings(defaults=defaults, registry_dir=registry, workers=0, keep_warm=True), dict(tenants))
        return gate_refusals(planner.plan(stacks))


class JobEngine(Protocol):
    """Where a job's stack operations run: the real engine, or a stand-in in tests and benchmarks."""

    def operations(self, stacks: list[StackRef], tenants: Mapping[str, Tenant], registry: Path) -> StackOperations: ...

    def offboard(self, tenant: Tenant, tenants: Mapping[str, Tenant], registry: Path, say: Say, on_output: Callable[[str, str], None]) -> OffboardResult: ...


@dataclass(frozen=True)
class EngineBackend:
    """The real engine, set up as ``platformctl up|offboard [--local]`` sets it up."""

    target: EngineTarget
    defaults: PlatformDefaults
    state: Path

    @classmethod
    def resolve(cls, defaults: PlatformDefaults, *, local: bool, state: Path, registry: Path = REGISTRY_DIR,
                backend: str | None = None, secrets_provider: str | None = None) -> EngineBackend:
        """Fails (``UserError``) at once when no engine is installed or no passphrase is set."""
        target = resolve_target(
            defaults, local=local, backend=backend, secrets_provider=secrets_provider, state=state,
            registry_dir=None if registry.resolve() == REGISTRY_DIR.resolve() else registry,
        )
        return cls(target, defaults, state)

    def _prepare(self, stacks: list[StackRef], tenants: Mapping[str, Tenant], registry: Path) -> dict[str, list[tuple[str, str]]]:
        materialise(self.target)
        packs = write_pack_configs(stacks, tenants, registry, self.state / "policy-config")
        if self.target.local:
            from ..localaws.install import install_plugin

            install_plugin(Path(self.target.pulumi), Path(self.target.pulumi_home), Path(sys.executable))
        return packs

    def operations(self, stacks: list[StackRef], tenants: Mapping[str, Tenant], registry: Path) -> StackOperations:
        return _PacksOnUp(
            AutomationStackOperations(self.target, self.defaults, {}),
            AutomationStackOperations(self.target, self.defaults, self._prepare(stacks, tenants, registry)),
        )

    def offboard(self, tenant: Tenant, tenants: Mapping[str, Tenant], registry: Path, say: Say, on_output: Callable[[str, str], None]) -> OffboardResult:
        stacks = select_stacks(Selection(tenants=(tenant.id,)), tenants, self.defaults)
        packs = self._prepare(stacks, tenants, registry)
        return offboard_tenant(tenant, self.target, self.defaults, registry, self.state, packs, say, on_output)


class _PacksOnUp:
    """The preview without the policy packs, the up with them.

    A new tenant's first preview cannot pass the packs: some values its security rules read are
    ids AWS invents at creation, unknown until the deployment runs, and the packs count an unknown
    as a violation. The tenant key's ARN (a random key id) is in every encryption setting and
    every role policy; API Gateway's ids are in each method's ``authorizerId`` and each invoke
    permission's source ARN; Cognito's ids are in the published ``integration/resources``. (What
    AWS derives from names we set, such as role and function ARNs, the components build
    themselves, so it is known.) So the preview shows what will change, and the packs are
    enforced by the gate before it (offline, every value known) and by the up after it
    (``platformctl up`` has no preview at all)."""

    def __init__(self, preview: StackOperations, up: StackOperations) -> None:
        self.preview = preview
        self.up = up

    def run(self, operation: Operation, stack: StackRef, on_output: OutputSink) -> StackOutcome:
        return (self.preview if operation == "preview" else self.up).run(operation, stack, on_output)


class TransientJobFailure(Exception):
    """The job failed for reasons worth another try (the queue retries it after a back-off)."""


def stack_result(outcome: StackOutcome) -> StackResult:
    status = "succeeded" if outcome.succeeded else f"failed:{outcome.failure.value if outcome.failure else 'engine'}"
    return StackResult(outcome.stack, outcome.operation, status, dict(outcome.changes), outcome.message, utcnow())


class _OutputBatch:
    """A stack's engine lines on their way to the job's log: one ``output`` event per batch of
    lines (at most ``size`` lines, or what came within ``seconds``), not a write per line (an
    engine prints thousands of lines, and the engine waits while a line is written)."""

    def __init__(self, journal: _Journal, stack: str, size: int, seconds: float) -> None:
        self.journal, self.stack, self.size, self.seconds = journal, stack, size, seconds
        self.lines: list[str] = []
        self.since = time.monotonic()

    def add(self, line: str) -> None:
        if not self.lines:
            self.since = time.monotonic()
        self.lines.append(line)
        if len(self.lines) >= self.size or time.monotonic() - self.since >= self.seconds:
            self.flush()

    def flush(self) -> None:
        if self.lines:
            self.journal.event("output", stack=self.stack, lines=self.lines)
            self.lines = []


class _RecordingOperations:
    """The job's stack operations, with every engine line and outcome kept in the job store."""

    def __init__(self, inner: StackOperations, journal: _Journal) -> None:
        self.inner = inner
        self.journal = journal

    def run(self, operation: Operation, stack: StackRef, on_output: OutputSink) -> StackOutcome:
        batch = self.journal.batch(stack.name)

        def output(line: str) -> None:
            on_output(line)
            batch.add(line)

        try:
            outcome = self.inner.run(operation, stack, output)
        finally:
            batch.flush()
        self.journal.outcome(outcome)
        return outcome


class _LineWriter(io.StringIO):
    """A file the rollout's console prints to: what one print wrote (its finished lines) becomes
    one ``progress`` event (a summary table is one event, not one write of the store per row)."""

    def __init__(self, journal: _Journal) -> None:
        super().__init__()
        self.journal = journal
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        finished = "\n".join(line.rstrip() for line in lines if line.strip())
        if finished:
            self.journal.event("progress", line=finished)
        return len(text)


@dataclass
class _Journal:
    """One job's log and results: the job store, and the service's audit trail."""

    job: JobRecord
    jobs: JobStore
    audit: ServiceAudit
    section: ServiceSection

    def event(self, kind: str, **data: Any) -> None:
        self.jobs.append_event(self.job.job_id, kind, data)

    def batch(self, stack: str) -> _OutputBatch:
        section = self.section
        return _OutputBatch(self, stack, section.events_output_batch_lines, section.events_poll_seconds)

    def outcome(self, outcome: StackOutcome) -> None:
        result = stack_result(outcome)
        self.jobs.record_stack(self.job.job_id, result)
        self.event("stack", stack=result.stack, operation=result.operation, status=result.status, changes=result.changes, message=result.message)
        self.transition(f"stack.{outcome.operation}", result.status, stack=outcome.stack, changes=result.changes, message=outcome.message)

    def transition(self, transition: str, outcome: str, **detail: Any) -> None:
        self.audit.job(job_id=self.job.job_id, tenant=self.job.tenant, token_id=self.job.token_id, transition=transition, outcome=outcome, detail=detail)

    def finish(self, status: JobStatus, error: str | None = None) -> None:
        # The event first: a stream that sees the job ended has every event of it already.
        self.event("status", status=status.value, error=error)
        self.jobs.finish(self.job.job_id, status, error)
        self.transition("finished", status.value, error=error)


def _retryable(outcomes: list[StackOutcome]) -> bool:
    failed = [o for o in outcomes if not o.succeeded]
    return bool(failed) and all(o.failure is not None and o.failure.retryable for o in failed)


def _report_outcomes(report: RolloutReport) -> tuple[list[StackOutcome], int]:
    """The report's outcomes, and how many stacks it skipped (a wave stopped the rollout)."""
    outcomes = [r.outcome for r in report.records if r.outcome is not None]
    return outcomes, sum(1 for r in report.records if r.outcome is None)


@dataclass
class JobRunner:
    """Runs jobs by id; a worker holds one and the queue's task calls :meth:`run`."""

    jobs: JobStore
    audit: ServiceAudit
    engine: JobEngine
    defaults: PlatformDefaults
    registry: Path
    runs_dir: Path
    #: The offline gate (tests and benchmarks that measure the rest may pass a stand-in).
    gate: Gate = gate_stacks
    #: How the rollout waits between its own retries of a stack (None: really wait).
    sleep: Sleep | None = None
    #: Where checked registry files are remembered (None: every job checks every file).
    registry_cache: Path | None = None

    def run(self, job_id: str, retries_left: int = 0) -> JobStatus:
        """Run the job to its end (or to a transient failure with ``retries_left``); its final status.

        Raises :class:`TransientJobFailure` when it failed transiently and may be retried."""
        job = self.jobs.get(job_id)
        if job is None or job.status in FINAL:
            return job.status if job is not None else JobStatus.CANCELLED
        journal = _Journal(job, self.jobs, self.audit, self.defaults.service)
        if job.kind == JobKind.PROVISION and not tenant_file(job.tenant, self.registry).is_file():
            journal.finish(JobStatus.CANCELLED, "the tenant's registry file is gone: it was deleted while the job waited")
            return JobStatus.CANCELLED
        try:
            journal.job = self.jobs.start(job_id)
        except JobStateError:
            # Cancelled between the read above and now (DELETE of a tenant whose job was queued).
            return JobStatus.CANCELLED
        journal.event("status", status=JobStatus.RUNNING.value, attempt=journal.job.attempts)
        journal.transition("started", "running", attempt=journal.job.attempts, environment=job.environment, kind=job.kind.value)
        try:
            if job.kind == JobKind.OFFBOARD:
                outcomes, failure = self._offboard(journal)
            else:
                outcomes, failure = self._provision(journal)
        except (UserError, UserErrors) as exc:
            outcomes, failure = [], str(exc)
        if failure is None:
            journal.finish(JobStatus.SUCCEEDED)
            return JobStatus.SUCCEEDED
        if retries_left > 0 and _retryable(outcomes):
            journal.event("retry", error=failure, retries_left=retries_left)
            journal.transition("retry", "scheduled", error=failure, retries_left=retries_left)
            raise TransientJobFailure(failure)
        journal.finish(JobStatus.FAILED, failure)
        return JobStatus.FAILED

    def _provision(self, journal: _Journal) -> tuple[list[StackOutcome], str | None]:
        job = journal.job
        loaded = load_registry([self.registry], cache_dir=self.registry_cache)
        loaded.raise_for_errors()
        selection = Selection(tenants=(job.tenant,), environments=(job.environment,) if job.environment else ())
        tenant_stacks = select_stacks(selection, loaded.tenants, self.defaults)
        # The environment's shared stack comes first: a new tenant (or region) changes what it
        # deploys (the tenant's stack in its pipeline, the region's alarm topic) and the tenant's
        # stacks read its outputs. It is gated here (the API's gate reads its outputs from the plan
        # cache) and upped when its preview shows a change.
        stacks = [StackRef(name=env, environment=env) for env in sorted({s.environment for s in tenant_stacks})] + tenant_stacks
        journal.event("gate", stacks=[s.name for s in stacks])
        refusals = self.gate(stacks, loaded.tenants, self.defaults, self.registry)
        for line in refusals:
            journal.event("violation", line=line)
        if refusals:
            return [], f"gate refused: {len(refusals)} mandatory violation(s); the engine was not started"
        operations = _RecordingOperations(self.engine.operations(stacks, loaded.tenants, self.registry), journal)
        console = Console(file=_LineWriter(journal), highlight=False, soft_wrap=True, width=200)
        every: list[StackOutcome] = []
        for operation in ("preview", "up"):
            journal.event("operation", operation=operation, stacks=[s.name for s in stacks])
            folder = run_folder(operation, self.runs_dir / job.job_id)
            options = options_from_defaults(operation, self.defaults, log_dir=folder)
            outcomes, skipped = _report_outcomes(run_rollout(operation, stacks, loaded.tenants, operations, options, console, sleep=self.sleep))
            every += outcomes
            failed = [o.stack for o in outcomes if not o.succeeded]
            if failed or skipped:
                return every, f"{operation} failed for {', '.join(failed) or 'no stack'}" + (f"; {skipped} stack(s) skipped" if skipped else "")
            unchanged = {o.stack for o in outcomes if o.changed == 0}
            stacks = [s for s in stacks if s.tenant_id is not None or s.name not in unchanged]
        return every, None

    def _offboard(self, journal: _Journal) -> tuple[list[StackOutcome], str | None]:
        job = journal.job
        if not tenant_file(job.tenant, self.registry).is_file():
            # An earlier attempt removed it (its last step) and stopped before recording the end.
            journal.event("progress", line=f"{job.tenant}: no registry file; already offboarded")
            return [], None
        loaded = load_registry([self.registry], cache_dir=self.registry_cache)
        loaded.raise_for_errors()
        tenant = loaded.tenants[job.tenant]
        batches: dict[str, _OutputBatch] = {}

        def output(stack: str, line: str) -> None:
            if stack not in batches:
                for earlier in batches.values():
                    earlier.flush()
                batches[stack] = journal.batch(stack)
            batches[stack].add(line)

        def say(line: str) -> None:
            for batch in batches.values():
                batch.flush()
            journal.event("progress", line=line)

        try:
            result = self.engine.offboard(tenant, loaded.tenants, self.registry, say, output)
        finally:
            for batch in batches.values():
                batch.flush()
        for outcome in result.outcomes:
            journal.outcome(outcome)
        if result.succeeded:
            return list(result.outcomes), None
        failed = [f"{o.operation} {o.stack}" for o in result.outcomes if not o.succeeded]
        return list(result.outcomes), f"offboarding stopped: {', '.join(failed)} failed; the registry file stays"


def scratch_registry(registry: Path, scratch_root: Path, candidate_id: str, candidate_text: str | None) -> Path:
    """A copy of ``registry`` (hard links) in which ``candidate_id``'s file reads ``candidate_text``
    (or is absent for None): what the gate plans before the real file is written."""
    folder = scratch_root / f"{candidate_id}-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    for path in sorted(registry.glob("*.yaml")):
        if path.name == tenant_file(candidate_id, registry).name:
            continue
        try:
            (folder / path.name).hardlink_to(path)
        except OSError:
            shutil.copy2(path, folder / path.name)
    if candidate_text is not None:
        tenant_file(candidate_id, folder).write_text(candidate_text, encoding="utf-8")
    return folder
