"""Scheduling overhead of a rollout: what the wave machinery costs per stack when the stacks cost nothing.

    baseline        the stand-in StackOperations called directly in a loop over the same stacks
    scheduler       Scheduler.run over the planned waves: thread pool per wave, the start/threshold
                    lock, one log file per stack, no display
    full rollout    run_rollout: planning, the plain progress lines (to a throw-away console),
                    log files, the JSON report and the summary table

Per-stack overhead is (run - baseline) / stacks, medians of interleaved rounds in the same run.
The stand-in (``NoWorkStackOperations``) writes one output line and returns a success.

Run:  PYTHONPATH=. .venv/bin/python benchmarks/apply_scheduling.py [--stacks N] [--rounds R] [--write]
``--write`` replaces the "## Apply scheduling" section of benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from rich.console import Console

from platformctl.apply.operations import Operation, OutputSink, StackOutcome
from platformctl.apply.options import RolloutOptions, options_from_defaults
from platformctl.apply.rollout import plan_rollout, run_rollout
from platformctl.apply.scheduler import Scheduler
from ubertruck.defaults import load_defaults
from ubertruck.registry.model import Tenant
from ubertruck.stacks import StackRef, all_stacks

REPO = Path(__file__).resolve().parents[1]
SECTION = "## Apply scheduling"
STACKS = 1_000
ROUNDS = 7
TARGET_MS = 5.0
#: Every this many tenants one is a canary, so the plan has a canary wave as in production.
CANARY_EVERY = 50


class NoWorkStackOperations:
    """A stand-in at the StackOperations boundary that does no work: one output line, then success."""

    def run(self, operation: Operation, stack: StackRef, on_output: OutputSink) -> StackOutcome:
        on_output(f"{stack.name}: nothing to do")
        return StackOutcome(stack=stack.name, operation=operation, succeeded=True, changes={"same": 1})


def fleet(stack_count: int) -> tuple[dict[str, Tenant], list[StackRef]]:
    """Tenants in every environment, spread over the tiers, giving exactly ``stack_count`` stacks."""
    defaults = load_defaults()
    environments = defaults.platform.environments
    tiers = defaults.rollout.tier_order
    tenant_count = (stack_count - len(environments)) // len(environments)
    tenants: dict[str, Tenant] = {}
    for i in range(tenant_count):
        tenant_id = f"bench{i:05d}"
        tenants[tenant_id] = Tenant.model_validate(
            {
                "id": tenant_id,
                "display_name": f"Bench {i}",
                "tier": tiers[i % len(tiers)],
                "region": defaults.platform.supported_regions[0],
                "contacts": [{"name": "Ops", "email": f"ops@{tenant_id}.example", "role": "owner"}],
                "environments": list(environments),
                "compliance": {"residency": {"allowed_regions": [defaults.platform.supported_regions[0]]}},
                "rollout": {"canary": i % CANARY_EVERY == 0},
            }
        )
    stacks = all_stacks(tenants, environments)
    return tenants, stacks


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def measure(stack_count: int, rounds: int) -> dict[str, float]:
    tenants, stacks = fleet(stack_count)
    ops = NoWorkStackOperations()

    def baseline() -> None:
        sink: OutputSink = lambda line: None  # noqa: E731 - the cheapest possible sink
        for stack in stacks:
            ops.run("up", stack, sink)

    def options(folder: Path) -> RolloutOptions:
        return options_from_defaults("up", log_dir=folder)

    def files(folder: Path) -> None:
        folder.mkdir()
        for stack in stacks:
            with (folder / f"{stack.name}.log").open("w", encoding="utf-8", buffering=1) as log:
                log.write(f"{stack.name}: nothing to do\n")

    base_s: list[float] = []
    files_s: list[float] = []
    sched_s: list[float] = []
    full_s: list[float] = []
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(rounds):  # interleaved, so all of them see the same machine load
            base_s.append(timed(baseline))
            files_s.append(timed(lambda: files(Path(scratch) / f"l{round_}")))
            opts = options(Path(scratch) / f"s{round_}")
            waves = list(plan_rollout("up", stacks, tenants, opts).waves)
            sched_s.append(timed(lambda: Scheduler(ops, "up", opts).run(waves)))
            console = Console(file=io.StringIO(), width=160)
            full_opts = options(Path(scratch) / f"f{round_}")
            full_s.append(timed(lambda: run_rollout("up", stacks, tenants, ops, full_opts, console)))
        plan = plan_rollout("up", stacks, tenants, options(Path(scratch) / "plan"))
    base, logs, sched, full = (statistics.median(s) for s in (base_s, files_s, sched_s, full_s))
    return {
        "stacks": len(stacks),
        "waves": len(plan.waves),
        "concurrency": plan.options.concurrency,
        "baseline_ms": base * 1000,
        "files_ms": logs * 1000,
        "files_per_stack_ms": logs * 1000 / len(stacks),
        "scheduler_ms": sched * 1000,
        "full_ms": full * 1000,
        "scheduler_per_stack_ms": (sched - base) * 1000 / len(stacks),
        "full_per_stack_ms": (full - base) * 1000 / len(stacks),
        "scheduler_best_per_stack_ms": (min(sched_s) - min(base_s)) * 1000 / len(stacks),
    }


def section(figures: dict[str, float], rounds: int) -> str:
    load = os.getloadavg()
    met = figures["full_per_stack_ms"] < TARGET_MS
    lines = [
        SECTION,
        "",
        f"`benchmarks/apply_scheduling.py`: {figures['stacks']:,} stacks (2 shared, the rest tenant stacks over every tier, a canary every "
        f"{CANARY_EVERY} tenants) in {figures['waves']} waves at concurrency {figures['concurrency']} (defaults.yaml), with a stand-in "
        "StackOperations that does no work (one output line, then success). Medians of "
        f"{rounds} interleaved rounds; the baseline calls the stand-in directly in a loop in the same rounds.",
        "",
        "| measure | total | per stack (the two runs: over the baseline) |",
        "|---|---:|---:|",
        f"| baseline: stand-in called in a loop | {figures['baseline_ms']:.1f} ms | - |",
        f"| for comparison: creating one log file per stack and writing its line, nothing else | {figures['files_ms']:.1f} ms | {figures['files_per_stack_ms']:.3f} ms |",
        f"| scheduler: waves, pool, lock, log file per stack | {figures['scheduler_ms']:.1f} ms | {figures['scheduler_per_stack_ms']:.3f} ms |",
        f"| full rollout: plus plan, plain progress lines, JSON report, summary table | {figures['full_ms']:.1f} ms | {figures['full_per_stack_ms']:.3f} ms |",
        "",
        f"Target: under {TARGET_MS:g} ms per stack: {'met' if met else 'NOT met'} ({figures['full_per_stack_ms']:.3f} ms for the full rollout; "
        f"the scheduler alone, fastest rounds, {figures['scheduler_best_per_stack_ms']:.3f} ms). The log files are a large share "
        "of the scheduler's cost on this machine's file system (the comparison row); the rest is handing each stack to a pool thread "
        "and waiting for its future.",
        "",
        f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=STACKS, help="stacks in the rollout")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="interleaved rounds; medians are reported")
    parser.add_argument("--write", action="store_true", help="update the Apply scheduling section of benchmarks/README.md")
    args = parser.parse_args()
    text = section(measure(args.stacks, args.rounds), args.rounds)
    print(text)
    if args.write:
        from benchmarks.readme import write_section

        # The section text starts with its own heading line; the shared writer adds it back.
        write_section(SECTION.removeprefix("## "), text.split("\n", 1)[1].lstrip("\n"))


if __name__ == "__main__":
    main()
