"""The entry points the CLI calls for ``platformctl preview|up|destroy|refresh --all``.

Usage (``stacks`` from ``ubertruck.stacks.all_stacks``, ``tenants`` the loaded registry)::

    options = options_from_defaults(operation, concurrency=concurrency, failure_threshold=failure_threshold, log_dir=log_dir)
    if dry_run:
        console.print(render_plan(plan_rollout(operation, stacks, tenants, options)), markup=False)
        raise typer.Exit(0)
    report = run_rollout(operation, stacks, tenants, stack_operations, options, console)
    raise typer.Exit(exit_code(report))   # 0: every stack succeeded; 1: any failed or was skipped
"""

from __future__ import annotations

import random as random_module
import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import ContextManager, Mapping, Sequence

from rich.console import Console

from ubertruck.atomic import write_text_atomic
from ubertruck.registry.model import Tenant
from ubertruck.stacks import StackRef

from .operations import Operation, StackOperations
from .options import RolloutOptions, options_from_defaults
from .progress import LiveProgress, PlainProgress, RolloutObserver
from .report import RolloutReport, exit_code, render_json, summary_lines, summary_table
from .scheduler import Clock, Random, Scheduler, Sleep
from .waves import Wave, plan_waves

PERCENT = 100
#: What the CLI needs from this package, importable from here in one line.
__all__ = ["RolloutPlan", "exit_code", "options_from_defaults", "plan_rollout", "render_plan", "run_rollout"]


@dataclass(frozen=True)
class RolloutPlan:
    operation: Operation
    waves: tuple[Wave, ...]
    options: RolloutOptions

    @property
    def stack_count(self) -> int:
        return sum(len(w.stacks) for w in self.waves)


def plan_rollout(operation: Operation, stacks: Sequence[StackRef], tenants: Mapping[str, Tenant], options: RolloutOptions) -> RolloutPlan:
    """The waves ``operation`` would run over ``stacks`` (``ubertruck.stacks.all_stacks``)."""
    waves = plan_waves(
        operation, stacks, tenants, options.tier_order, options.environment_order, options.concurrency, options.failure_threshold
    )
    return RolloutPlan(operation, tuple(waves), options)


def render_plan(plan: RolloutPlan) -> str:
    """The ``--dry-run`` text: settings, then each wave with its caps and its stacks."""
    options = plan.options
    retry = options.retry
    lines = [
        f"{plan.operation}: {plan.stack_count} stack(s) in {len(plan.waves)} wave(s); at most {options.concurrency} at a time "
        f"per wave; a wave stops the rollout at {options.failure_threshold.describe()}",
        f"retries (transient and lock-conflict failures only): {retry.max_attempts} attempt(s) in all, back-off "
        f"{retry.base_seconds:g}s x{retry.factor:g} per attempt up to {retry.max_seconds:g}s, less up to {retry.jitter * PERCENT:g}% jitter",
        f"logs and report: {options.log_dir}",
    ]
    for wave in plan.waves:
        lines.append(
            f"wave {wave.index}  {wave.label}: {len(wave.stacks)} stack(s), {wave.concurrency} at a time, "
            f"stops at {wave.failure_limit} failure(s)"
        )
        lines += [f"  {stack.name}" for stack in wave.stacks]
    return "\n".join(lines)


def _observer(console: Console, total_waves: int) -> tuple[RolloutObserver, ContextManager[object]]:
    """A live display on a terminal; plain lines anywhere else (CI logs, pipes)."""
    if console.is_terminal and not console.is_dumb_terminal:
        live = LiveProgress(console, total_waves)
        return live, live
    return PlainProgress(console), nullcontext()


def run_rollout(
    operation: Operation,
    stacks: Sequence[StackRef],
    tenants: Mapping[str, Tenant],
    operations: StackOperations,
    options: RolloutOptions,
    console: Console,
    observer: RolloutObserver | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep | None = None,
    random: Random = random_module.random,
) -> RolloutReport:
    """Run ``operation`` over ``stacks`` in waves, then print the summary and write the JSON report.

    Progress goes to ``console`` (live on a terminal, plain lines otherwise), each stack's engine
    output to ``<options.log_dir>/<stack>.log``, the report to ``options.report_path``. Ctrl-C
    stops starting stacks and lets running ones finish; the report marks it. Use
    :func:`platformctl.apply.report.exit_code` for the exit code.
    """
    plan = plan_rollout(operation, stacks, tenants, options)
    if observer is None:
        observer, display = _observer(console, len(plan.waves))
    else:
        display = nullcontext()
    scheduler = Scheduler(operations, operation, options, observer=observer, clock=clock, sleep=sleep, random=random)
    with display:
        report = scheduler.run(list(plan.waves))
    if options.report_path is not None:
        write_text_atomic(options.report_path, render_json(report) + "\n")
    console.file.write(summary_table(report) + "\n")
    for line in summary_lines(report):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if options.report_path is not None:
        console.print(f"report: {options.report_path}", markup=False, highlight=False, soft_wrap=True)
    return report
