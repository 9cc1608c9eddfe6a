"""A scripted stand-in for :class:`StackOperations`, plus registries and options for the rollout tests.

Only the engine boundary is replaced: waves, the scheduler, progress and reports are the real code.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

from platformctl.apply.operations import Failure, Operation, OutputSink, StackOutcome
from platformctl.apply.options import FailureThreshold, RetryPolicy, RolloutOptions
from tests.registry.support import valid_document
from ubertruck.registry.model import Tenant
from ubertruck.stacks import StackRef, all_stacks

ENVIRONMENTS = ("dev", "prod")
TIERS = ("basic", "standard", "enterprise")
#: Changes every successful scripted run reports.
SCRIPTED_CHANGES = {"create": 2, "update": 1, "same": 5}


def tenant(tenant_id: str, tier: str, canary: bool = False, environments: Sequence[str] = ENVIRONMENTS) -> Tenant:
    document = valid_document(tenant_id)
    document.update(tier=tier, environments=list(environments))
    if canary:
        document["rollout"] = {"canary": True}
    return Tenant.model_validate(document)


def registry(spec: Mapping[str, str], canaries: Sequence[str] = ()) -> dict[str, Tenant]:
    """Tenants by id from ``{id: tier}``; ids in ``canaries`` are canaries."""
    return {tid: tenant(tid, tier, tid in canaries) for tid, tier in spec.items()}


def stacks_of(tenants: Mapping[str, Tenant]) -> list[StackRef]:
    return all_stacks(dict(tenants), ENVIRONMENTS)


def options(
    log_dir: Path,
    concurrency: int = 2,
    threshold: FailureThreshold | None = None,
    max_attempts: int = 3,
    base: float = 2.0,
    factor: float = 3.0,
    cap: float = 50.0,
    jitter: float = 0.0,
) -> RolloutOptions:
    return RolloutOptions(
        concurrency=concurrency,
        failure_threshold=threshold or FailureThreshold(count=1),
        retry=RetryPolicy(max_attempts=max_attempts, base_seconds=base, factor=factor, max_seconds=cap, jitter=jitter),
        tier_order=TIERS,
        environment_order=ENVIRONMENTS,
        log_dir=log_dir,
        report_path=log_dir / "report.json",
    )


@dataclass
class Call:
    stack: str
    attempt: int
    #: Position of this call's start and end among every start and end event of the run.
    started_seq: int
    ended_seq: int = -1


@dataclass
class ScriptedStackOperations:
    """Returns scripted outcomes: ``script[stack][n]`` is the failure of attempt n+1 (None: success).

    A stack without a script (or past its script's end) succeeds. Every run writes
    ``lines(stack, attempt)`` to ``on_output`` and records how many runs were in flight at once.
    ``during`` (if given) is called while the run is in flight, for tests that need overlap or
    an interrupt at a precise moment.
    """

    script: Mapping[str, Sequence[Failure | None]] = field(default_factory=dict)
    during: Callable[[StackRef, int], None] | None = None
    lines: Callable[[str, int], list[str]] = lambda stack, attempt: [f"{stack} attempt {attempt} line {i}" for i in range(2)]
    calls: list[Call] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    _seq: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attempts_of(self, stack: str) -> int:
        return sum(1 for c in self.calls if c.stack == stack)

    def run(self, operation: Operation, stack: StackRef, on_output: OutputSink) -> StackOutcome:
        with self._lock:
            attempt = self.attempts_of(stack.name) + 1
            call = Call(stack.name, attempt, self._seq)
            self._seq += 1
            self.calls.append(call)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            for line in self.lines(stack.name, attempt):
                on_output(line)
            if self.during is not None:
                self.during(stack, attempt)
            steps = self.script.get(stack.name, ())
            failure = steps[attempt - 1] if attempt <= len(steps) else None
        finally:
            with self._lock:
                self.in_flight -= 1
                call.ended_seq = self._seq
                self._seq += 1
        if failure is None:
            return StackOutcome(stack=stack.name, operation=operation, succeeded=True, changes=dict(SCRIPTED_CHANGES))
        return StackOutcome(stack=stack.name, operation=operation, succeeded=False, failure=failure, message=f"scripted {failure.value} failure")


class RecordingSleep:
    """An injected sleep that only records what it was asked for."""

    def __init__(self) -> None:
        self.requests: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.requests.append(seconds)


class FakeClock:
    """A clock that advances a fixed step on every reading, so durations are known exactly."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            self.now += self.step
            return self.now
