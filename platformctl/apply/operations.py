"""The boundary between the wave scheduler and the engine: one operation on one stack.

The scheduler (``waves``) only ever sees :class:`StackOperations`. The real implementation drives
the Pulumi engine through ``pulumi.automation``; tests and benchmarks pass a stand-in at exactly this
boundary, so everything above it (waves, caps, thresholds, retries, progress, reports) is the
production code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Literal, Protocol

from ubertruck.stacks import StackRef

Operation = Literal["preview", "up", "destroy", "refresh"]
OPERATIONS: tuple[Operation, ...] = ("preview", "up", "destroy", "refresh")


class Failure(str, Enum):
    """Why an operation failed; decides whether the scheduler retries it."""

    #: Network, throttling, a provider that timed out: worth another try after a back-off.
    TRANSIENT = "transient"
    #: Another update holds the stack's lock (the engine's "conflict"): worth another try.
    CONCURRENT = "concurrent"
    #: A policy pack refused the stack (a mandatory violation): retrying changes nothing.
    POLICY = "policy"
    #: The program itself failed (bad config, an exception): retrying changes nothing.
    PROGRAM = "program"
    #: Anything else the engine reported.
    ENGINE = "engine"

    @property
    def retryable(self) -> bool:
        return self in (Failure.TRANSIENT, Failure.CONCURRENT)


@dataclass(frozen=True)
class StackOutcome:
    """What one operation on one stack came to (after the scheduler's retries, ``attempts`` counts them)."""

    stack: str
    operation: Operation
    succeeded: bool
    #: Resource changes by kind, as the engine summarises them: create, update, delete, replace, same.
    changes: dict[str, int] = field(default_factory=dict)
    duration_seconds: float = 0.0
    failure: Failure | None = None
    #: One line for people; never a property value.
    message: str = ""
    attempts: int = 1
    log_path: str | None = None
    #: The resources this operation changed (or would change, or found drifted): for each, its
    #: ``urn``, ``type``, ``op`` (create, update, replace, delete, ...) and the names of the
    #: ``properties`` that differ. Names only: a property's value never leaves the engine.
    resource_changes: tuple[dict[str, Any], ...] = ()

    @property
    def changed(self) -> int:
        """Resources this operation created, updated, deleted or replaced."""
        return sum(count for kind, count in self.changes.items() if kind != "same")


#: Receives each line of the engine's output for a stack, as it is printed.
OutputSink = Callable[[str], None]


class StackOperations(Protocol):
    """Runs one operation on one stack and reports its outcome; never raises for a failed stack."""

    def run(self, operation: Operation, stack: StackRef, on_output: OutputSink) -> StackOutcome: ...
