"""``platformctl tenants``: validate, list and start registry files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from ubertruck.atomic import write_text_atomic
from ubertruck.defaults import load_defaults
from ubertruck.errors import EXIT_BAD_INPUT, UserError
from ubertruck.registry import load_registry, tenant_file
from ubertruck.registry.loader import REGISTRY_DIR, parse_tenant
from ubertruck.registry.model import tenant_id_problem
from ubertruck.registry.starter import starter_document
from ubertruck.safe_yaml import load_text

app = typer.Typer(help="Validate, list and create tenant registry files.", no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


@app.command()
def validate(
    paths: Optional[List[Path]] = typer.Argument(None, help="Registry files or folders (default: tenants/)."),
) -> None:
    """Check every registry file in full; print one line per problem."""
    result = load_registry(paths or [REGISTRY_DIR])
    for error in result.errors:
        err_console.print(f"error: {error}", markup=False)
    checked = len(result.tenants) + len({e.where.split(":")[0] for e in result.errors})
    if result.errors:
        err_console.print(f"{len(result.errors)} problem(s) in {checked} file(s)", markup=False)
        # sys.exit, not typer.Exit: the CLI runs click with standalone_mode=False, where a
        # typer.Exit's code is returned rather than raised, and the exit status would be lost.
        sys.exit(EXIT_BAD_INPUT)
    console.print(f"ok: {len(result.tenants)} tenant file(s) valid", markup=False)


@app.command("list")
def list_tenants(
    registry: Path = typer.Option(REGISTRY_DIR, help="The registry folder."),
) -> None:
    """List the tenants in the registry with their tier, region and environments."""
    result = load_registry([registry])
    result.raise_for_errors()
    table = Table("id", "display name", "tier", "region", "environments")
    for tenant_id, tenant in sorted(result.tenants.items()):
        table.add_row(tenant_id, tenant.display_name, tenant.tier, tenant.region, ", ".join(tenant.environments))
    console.print(table)


@app.command()
def new(
    tenant_id: str = typer.Argument(..., metavar="ID", help="The new tenant's id (a DNS label)."),
    registry: Path = typer.Option(REGISTRY_DIR, help="The registry folder."),
    tier: Optional[str] = typer.Option(None, help="Tier (default: the first declared tier)."),
    region: Optional[str] = typer.Option(None, help="Region (default: the first supported region)."),
) -> None:
    """Write a valid starter file ``<registry>/<ID>.yaml``; never overwrites."""
    defaults = load_defaults()
    # The id becomes a file name and YAML text: check it before it is used as either.
    problem = tenant_id_problem(tenant_id)
    if problem:
        raise UserError(f"ID {tenant_id!r}", problem)  # repr: the id may hold a newline
    tier = tier or sorted(defaults.tiers)[0]
    if tier not in defaults.tiers:
        raise UserError("--tier", f"unknown tier {tier!r}; expected one of {sorted(defaults.tiers)}")
    region = region or defaults.platform.supported_regions[0]
    if region not in defaults.platform.supported_regions:
        raise UserError("--region", f"unsupported region {region!r}; expected one of {defaults.platform.supported_regions}")
    text = starter_document(tenant_id, tier, region)
    path = tenant_file(tenant_id, registry)
    parse_tenant(load_text(text, str(path)), str(path), expected_id=tenant_id)
    if path.exists():
        raise UserError(str(path), "already exists; edit it instead")
    write_text_atomic(path, text, exclusive=True)
    console.print(f"wrote {path}", markup=False)
