"""``platformctl scan``: find hardcoded values and tenant-specific branches.

Wired into the CLI by ``register(app)``::

    from platformctl.commands import scan
    scan.register(app)

Then ``platformctl scan [PATH...] [--format text|json|sarif] [--output FILE] [--rules FILE]...``
exits 0 when clean, 1 on findings and 2 on bad input (through ``UserError``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from ubertruck.atomic import write_text_atomic
from ubertruck.errors import EXIT_VIOLATIONS

from ..scan.engine import scan as run_scan
from ..scan.formats import FORMATS, check_format, render


def scan(
    paths: Optional[List[Path]] = typer.Argument(
        None, metavar="[PATH]...", help="Files or folders to scan (default: the current folder)."
    ),
    fmt: str = typer.Option("text", "--format", "-f", metavar="FORMAT", help=f"Report format: {', '.join(FORMATS)}."),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write the report to FILE instead of stdout."
    ),
    rules: Optional[List[Path]] = typer.Option(
        None, "--rules", metavar="FILE", help="Extra rules file (repeatable); adds to the shipped rules and antipatterns.yaml."
    ),
    jobs: int = typer.Option(
        0, "--jobs", "-j", min=0, metavar="N", help="Worker processes for large trees (0: one per core)."
    ),
) -> None:
    """Scan for anti-patterns: hardcoded rates, timeouts, API keys, tenant logic and env values."""
    check_format(fmt)
    report = run_scan(paths or [], rules or [], jobs)
    rendered = render(report, fmt)
    if output is not None:
        write_text_atomic(output, rendered)
    else:
        sys.stdout.write(rendered)
        sys.stdout.flush()
    count = len(report.findings)
    summary = f"{count} finding(s)" if count else "no findings"
    suppressed = f", {len(report.suppressed)} suppressed" if report.suppressed else ""
    typer.echo(f"{summary}{suppressed} in {report.files_scanned} file(s)", err=True)
    if count:
        # sys.exit, not typer.Exit: the CLI runs click with standalone_mode=False, where a
        # typer.Exit's code is returned rather than raised, and the exit status would be lost.
        sys.exit(EXIT_VIOLATIONS)


def register(app: typer.Typer) -> None:
    """Add the ``scan`` command to ``app``."""
    app.command("scan")(scan)
