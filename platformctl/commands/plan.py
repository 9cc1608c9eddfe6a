"""``platformctl plan``: the offline plan with its policy gate."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ubertruck.atomic import write_text_atomic
from ubertruck.defaults import load_defaults
from ubertruck.errors import EXIT_BAD_INPUT, EXIT_OK, EXIT_VIOLATIONS, UserError
from ubertruck.registry import load_registry
from ubertruck.registry.loader import REGISTRY_DIR
from ubertruck.stacks import StackRef, all_stacks

from ..engine import report
from ..engine.cache import CACHE_DIR
from ..engine.plan import Planner, PlanSettings

console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


class Format(str, Enum):
    table = "table"
    json = "json"
    sarif = "sarif"


def plan(
    tenant: Optional[List[str]] = typer.Option(None, "--tenant", "-t", help="Only this tenant (repeatable)."),
    env: Optional[List[str]] = typer.Option(None, "--env", "-e", help="Only this environment (repeatable)."),
    output_format: Format = typer.Option(Format.table, "--format", "-f", help="Report format."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report here instead of stdout."),
    registry: Path = typer.Option(REGISTRY_DIR, "--registry", help="The registry folder."),
    workers: int = typer.Option(0, "--workers", "-j", min=0, help="Worker processes (0: one per core)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Re-plan every stack, ignoring the plan cache."),
    cache_dir: Path = typer.Option(CACHE_DIR, "--cache-dir", help="Where the plan cache lives (CI can keep it between runs)."),
) -> None:
    """Plan the shared stacks and every tenant × environment offline, then run the policy gate.

    Exit 0 when nothing is mandatory-violated, 1 when something is, 2 for bad input.
    """
    defaults = load_defaults()
    # The plan cache also remembers registry files that passed, so unchanged ones are not re-parsed.
    loaded = load_registry([registry], cache_dir=None if no_cache else cache_dir)
    loaded.raise_for_errors()
    stacks = all_stacks(loaded.tenants, defaults.platform.environments, tenant or (), env or ())
    if not stacks:
        raise UserError("plan", "no stacks match the given --tenant/--env filters")
    settings = PlanSettings(defaults=defaults, registry_dir=registry, workers=workers, use_cache=not no_cache, cache_dir=cache_dir)
    planner = Planner(settings, loaded.tenants)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    ) as progress:
        task = progress.add_task("planning stacks", total=len(stacks))

        def advance(ref: StackRef, cached: bool) -> None:
            progress.update(task, advance=1, description=f"planned {ref.name}{' (cached)' if cached else ''}")

        planned = planner.plan(stacks, advance)
    _emit(planned, output_format, output, planner)
    totals = report.summary(planned)
    if totals[report.MANDATORY]:
        raise typer.Exit(EXIT_VIOLATIONS)
    raise typer.Exit(EXIT_OK)


def _emit(planned: list, output_format: Format, output: Optional[Path], planner: Planner) -> None:
    if output_format is Format.json:
        text = report.render_json(planned)
    elif output_format is Format.sarif:
        text = report.render_sarif(planned, planner.policy_context())
    else:
        if output is not None:
            raise UserError("--output", "the table format prints to the terminal; use --format json or sarif with --output")
        console.file.write(report.table(planned) + "\n")
        for line in report.violation_lines(planned):
            console.print(line, markup=False)
        totals = report.summary(planned)
        console.print(
            f"{totals['stacks']} stacks, {totals['resources']} resources, "
            f"{totals['mandatory']} mandatory and {totals['advisory']} advisory violations",
            markup=False,
        )
        return
    if output is None:
        console.file.write(text + "\n")
    else:
        write_text_atomic(output, text + "\n")
        err_console.print(f"wrote {output}", markup=False)


__all__ = ["plan", "EXIT_BAD_INPUT"]
