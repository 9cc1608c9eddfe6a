"""``platformctl policy``: the policy packs' rules, and their config for ``pulumi preview``.

Wired into the CLI by ``register(app)``::

    from platformctl.commands import policy
    policy.register(app)

* ``platformctl policy list [--format table|json]`` prints every rule of every pack as the
  pack itself describes it (``GetAnalyzerInfo``).
* ``platformctl policy config STACK [--output DIR]`` writes ``DIR/<pack folder>.json`` per
  pack: the ``--policy-pack-config`` file that gives ``pulumi preview`` the registry facts
  (allowed regions, data retention, other tenants, exemptions, per-tenant settings) it has no
  other way to learn. The files hold exactly what ``platformctl plan`` sends the packs in
  ``Configure`` for that stack (same code: ``PolicySession.configs``), and the command
  prints the ``pulumi preview`` line that uses them.

Exit 0 on success, 2 on bad input (one line, through ``UserError``).
"""

from __future__ import annotations

import json
import shlex
import sys
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from ubertruck import PROJECT_ROOT
from ubertruck.atomic import write_text_atomic
from ubertruck.registry import load_registry
from ubertruck.registry.loader import REGISTRY_DIR

from ..policy.runner import PolicyContext, PolicySession

app = typer.Typer(help="List the policy packs' rules; write their config for pulumi preview.", no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

#: Where ``policy config`` writes when no ``--output`` is given (the project's git-ignored ``build/``).
DEFAULT_OUTPUT = PROJECT_ROOT / "build" / "policy-config"


class ListFormat(str, Enum):
    table = "table"
    json = "json"


def _context(registry: Path) -> PolicyContext:
    loaded = load_registry([registry])
    loaded.raise_for_errors()
    return PolicyContext.from_registry(tenants=loaded.tenants, registry_dir=registry)


def _shown(path: Path, relative: bool) -> str:
    """``path`` for the printed command: relative to the project root when the command runs
    there and the path is inside it, absolute otherwise."""
    resolved = path.resolve()
    if relative and resolved.is_relative_to(PROJECT_ROOT):
        return str(resolved.relative_to(PROJECT_ROOT))
    return str(resolved)


@app.command("list")
def list_policies(
    output_format: ListFormat = typer.Option(ListFormat.table, "--format", "-f", help="Output format."),
) -> None:
    """Print every rule of every pack: pack, name, severity, enforcement, description."""
    rows: list[dict[str, Any]] = []
    # Listing needs no registry: the packs describe themselves.
    with PolicySession(PolicyContext.from_registry(tenants={})) as session:
        for info in session.infos:
            rows += [
                {"pack": info.name, "name": p.name, "severity": p.severity, "enforcement": p.enforcement,
                 "type": "stack" if p.stack_policy else "resource", "description": p.description}
                for p in info.policies
            ]
    if output_format is ListFormat.json:
        sys.stdout.write(json.dumps(rows, indent=1) + "\n")
        return
    table = Table("pack", "name", "severity", "enforcement", "type", "description")
    for row in rows:
        table.add_row(*(row[k] for k in ("pack", "name", "severity", "enforcement", "type", "description")))
    console.print(table)
    console.print(f"{len(rows)} rules in {len({r['pack'] for r in rows})} packs", markup=False)


@app.command("config")
def config(
    stack: str = typer.Argument(..., metavar="STACK", help="The stack: <env> (shared) or <tenant>-<env>."),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", metavar="DIR", help=f"Folder for the <pack>.json files (default: {DEFAULT_OUTPUT}/<STACK>)."
    ),
    registry: Path = typer.Option(REGISTRY_DIR, "--registry", help="The registry folder."),
) -> None:
    """Write each pack's --policy-pack-config file for STACK and print the pulumi preview line."""
    context = _context(registry)
    with PolicySession(context) as session:
        configs = session.configs(stack)
        packs = [(pack.pack_dir, configs[pack.info.name]) for pack in session.packs]
    folder = output if output is not None else DEFAULT_OUTPUT / stack
    # Pulumi runs in the project folder; from anywhere else the line says so, with absolute paths.
    at_root = Path.cwd().resolve() == PROJECT_ROOT
    command = ["pulumi", "preview", "--stack", stack] + ([] if at_root else ["--cwd", str(PROJECT_ROOT)])
    for pack_dir, pack_config in packs:
        path = folder / f"{pack_dir.name}.json"
        write_text_atomic(path, json.dumps(pack_config, indent=1, sort_keys=True) + "\n")
        err_console.print(f"wrote {path}", markup=False)
        # Each --policy-pack-config belongs to the --policy-pack before it (pulumi pairs them in order).
        command += ["--policy-pack", _shown(pack_dir, at_root), "--policy-pack-config", _shown(path, at_root)]
    sys.stdout.write(shlex.join(command) + "\n")


def register(root: typer.Typer) -> None:
    """Add the ``policy`` command group to ``root``."""
    root.add_typer(app, name="policy")
