"""What a rollout came to: per-stack records, the summary table and the JSON report.

JSON report (``render_json``; ``schema_version`` 1)::

    {
      "schema_version": 1,
      "operation": "up",                      # preview | up | destroy | refresh
      "started_at": "2026-11-29T10:00:00Z",   # UTC, wall clock
      "duration_seconds": 12.5,               # the whole rollout
      "stopped_by_threshold": false,          # a wave reached its failure limit
      "threshold_wave": null,                 # index of that wave, or null
      "interrupted": false,                   # Ctrl-C (or interrupt()) stopped the rollout
      "log_dir": ".state/rollout/up-…",
      "settings": {"concurrency": 4, "failure_threshold": "10% of a wave's stacks",
                   "max_attempts": 3},
      "totals": {"stacks": 7, "succeeded": 7, "failed": 0, "skipped": 0},
      "waves": [
        {"index": 0, "label": "dev shared", "environment": "dev",
         "kind": "shared",                    # shared | canary | tier
         "tier": null,                        # the tier of a "tier" wave
         "concurrency": 1, "failure_limit": 1, "failed": 0,
         "tripped": false,                    # this wave reached its failure limit
         "stacks": [
           {"stack": "dev", "kind": "shared", "tenant": null, "environment": "dev",
            "result": "succeeded",            # succeeded | failed | skipped
            "attempts": 1,                    # 0 for a skipped stack
            "changes": {"create": 3, "same": 10},
            "changed": 3,                     # changes other than "same"
            "duration_seconds": 4.2,          # first start to last finish, back-offs included
            "failure": null,                  # transient | concurrent | policy | program | engine
            "skip_reason": null,              # threshold | interrupted, for a skipped stack
            "message": "",
            "log": ".state/rollout/up-…/dev.log",
            # what the engine changed (or, for a refresh preview, found drifted): names only
            "resources": [{"urn": "urn:pulumi:…", "type": "aws:sns/topic:Topic", "op": "create", "properties": []}]}]}]
    }

Stacks appear in wave order, each exactly once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from .operations import Failure, Operation, StackOutcome
from .options import RolloutOptions
from .waves import Wave

SCHEMA_VERSION = 1
Result = Literal["succeeded", "failed", "skipped"]
SkipReason = Literal["threshold", "interrupted"]
RESULTS: tuple[Result, ...] = ("succeeded", "failed", "skipped")
#: How the summary table writes each kind of change (``same`` is left out).
CHANGE_SIGNS = {"create": "+", "update": "~", "delete": "-", "replace": "+-"}


@dataclass(frozen=True)
class StackRecord:
    """One stack's place in the rollout: its outcome, or why it never ran."""

    wave: int
    stack_name: str
    kind: str
    tenant_id: str | None
    environment: str
    outcome: StackOutcome | None
    skip_reason: SkipReason | None = None

    @property
    def result(self) -> Result:
        if self.outcome is None:
            return "skipped"
        return "succeeded" if self.outcome.succeeded else "failed"

    @property
    def attempts(self) -> int:
        return self.outcome.attempts if self.outcome else 0

    @property
    def failure(self) -> Failure | None:
        return self.outcome.failure if self.outcome else None

    def as_json(self) -> dict[str, Any]:
        outcome = self.outcome
        return {
            "stack": self.stack_name,
            "kind": self.kind,
            "tenant": self.tenant_id,
            "environment": self.environment,
            "result": self.result,
            "attempts": self.attempts,
            "changes": dict(outcome.changes) if outcome else {},
            "changed": outcome.changed if outcome else 0,
            "duration_seconds": round(outcome.duration_seconds, 3) if outcome else 0.0,
            "failure": outcome.failure.value if outcome and outcome.failure else None,
            "skip_reason": self.skip_reason,
            "message": outcome.message if outcome else f"not started: the rollout stopped ({self.skip_reason})",
            "log": outcome.log_path if outcome else None,
            "resources": list(outcome.resource_changes) if outcome else [],
        }


@dataclass(frozen=True)
class WaveRecord:
    wave: Wave
    records: tuple[StackRecord, ...]
    tripped: bool

    @property
    def failed(self) -> int:
        return sum(1 for r in self.records if r.result == "failed")

    def as_json(self) -> dict[str, Any]:
        wave = self.wave
        return {
            "index": wave.index,
            "label": wave.label,
            "environment": wave.environment,
            "kind": wave.kind,
            "tier": wave.tier,
            "concurrency": wave.concurrency,
            "failure_limit": wave.failure_limit,
            "failed": self.failed,
            "tripped": self.tripped,
            "stacks": [r.as_json() for r in self.records],
        }


@dataclass(frozen=True)
class RolloutReport:
    operation: Operation
    waves: tuple[WaveRecord, ...]
    options: RolloutOptions
    started_at: str
    duration_seconds: float
    interrupted: bool

    @property
    def records(self) -> list[StackRecord]:
        return [r for w in self.waves for r in w.records]

    @property
    def threshold_wave(self) -> int | None:
        return next((w.wave.index for w in self.waves if w.tripped), None)

    @property
    def stopped_by_threshold(self) -> bool:
        return self.threshold_wave is not None

    def totals(self) -> dict[str, int]:
        counts: dict[str, int] = {result: 0 for result in RESULTS}
        for record in self.records:
            counts[record.result] += 1
        return {"stacks": sum(counts.values()), **counts}

    def as_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "operation": self.operation,
            "started_at": self.started_at,
            "duration_seconds": round(self.duration_seconds, 3),
            "stopped_by_threshold": self.stopped_by_threshold,
            "threshold_wave": self.threshold_wave,
            "interrupted": self.interrupted,
            "log_dir": str(self.options.log_dir),
            "settings": {
                "concurrency": self.options.concurrency,
                "failure_threshold": self.options.failure_threshold.describe(),
                "max_attempts": self.options.retry.max_attempts,
            },
            "totals": self.totals(),
            "waves": [w.as_json() for w in self.waves],
        }


def render_json(report: RolloutReport) -> str:
    """The JSON report (schema in the module docstring)."""
    return json.dumps(report.as_json(), indent=2)


def exit_code(report: RolloutReport) -> int:
    """0 when every stack succeeded; 1 when any failed or was skipped (threshold or Ctrl-C)."""
    totals = report.totals()
    return 0 if totals["succeeded"] == totals["stacks"] else 1


def changes_text(changes: dict[str, int]) -> str:
    """``+3 ~1 -2`` for 3 creates, 1 update, 2 deletes; ``-`` when nothing changed."""
    parts = [f"{sign}{changes[kind]}" for kind, sign in CHANGE_SIGNS.items() if changes.get(kind)]
    return " ".join(parts) or "-"


def _row(record: StackRecord) -> list[str]:
    outcome = record.outcome
    result: str = record.result
    if record.failure:
        result += f" ({record.failure.value})"
    elif record.skip_reason:
        result += f" ({record.skip_reason})"
    duration = f"{outcome.duration_seconds:.1f}s" if outcome else "-"
    return [record.stack_name, str(record.wave), result, str(record.attempts), changes_text(outcome.changes if outcome else {}), duration]


def summary_table(report: RolloutReport) -> str:
    """Aligned plain text, one row per stack (plain text: a Rich table of 1,000 rows takes most of a second)."""
    header = ["stack", "wave", "result", "attempts", "changes", "duration"]
    rows = [header] + [_row(r) for r in report.records]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)


def summary_lines(report: RolloutReport) -> list[str]:
    """The closing lines: totals, why the rollout stopped, and each failure with its log."""
    totals = report.totals()
    lines = [
        f"{report.operation}: {totals['stacks']} stacks in {len(report.waves)} waves: {totals['succeeded']} succeeded, "
        f"{totals['failed']} failed, {totals['skipped']} skipped ({report.duration_seconds:.1f}s)"
    ]
    if report.stopped_by_threshold:
        wave = report.waves[report.threshold_wave or 0].wave
        lines.append(f"stopped: wave {wave.index} ({wave.label}) reached its failure limit of {wave.failure_limit}")
    if report.interrupted:
        lines.append("stopped: interrupted; stacks that were running were let finish")
    for record in report.records:
        if record.result == "failed" and record.outcome:
            lines.append(f"{record.stack_name}: {record.failure.value if record.failure else 'failed'}: {record.outcome.message} (log: {record.outcome.log_path})")
    return lines
