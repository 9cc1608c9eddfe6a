"""``platformctl preview|up|destroy|refresh``: the real engine, through the Automation API, in waves.

Every command takes ``--stack S`` (repeatable), ``--tenant T``/``--env E`` filters or ``--all``.
``--local`` applies with the local stand-in for AWS, in an isolated ``PULUMI_HOME`` and file
backend under the state folder; otherwise ``--backend URL`` (or ``PULUMI_BACKEND_URL``) and the
real AWS provider. ``preview`` and ``up`` pass both policy packs with each stack's registry-made
config; ``up`` first runs the offline plan of its stacks and refuses on a mandatory violation
before the engine starts. ``--dry-run`` prints the wave plan and runs nothing.

Exit codes: 0 every stack succeeded, 1 a stack failed or the gate refused, 2 bad input (for
example no engine installed: one line saying to run ``make engine``, and nothing written).
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable, List, Optional

import typer
from rich.console import Console

from ubertruck.defaults import PlatformDefaults, load_defaults
from ubertruck.errors import EXIT_VIOLATIONS, UserError
from ubertruck.registry import load_registry
from ubertruck.registry.loader import REGISTRY_DIR
from ubertruck.registry.model import Tenant
from ubertruck.stacks import StackRef

from ..apply.automation import AutomationStackOperations
from ..apply.operations import Operation
from ..apply.options import RolloutOptions, options_from_defaults, run_folder
from ..apply.prepare import Selection, gate, gate_refusals, select_stacks, write_pack_configs
from ..apply.report import RolloutReport, exit_code
from ..apply.scheduler import LOG_SUFFIX
from ..apply.rollout import plan_rollout, render_plan, run_rollout
from ..apply.target import EngineTarget, materialise, resolve_target, state_dir

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass(frozen=True)
class EngineRun:
    """What one engine command resolved before starting: target, stacks, registry and options."""

    operation: Operation
    target: EngineTarget
    stacks: list[StackRef]
    tenants: dict[str, Tenant]
    registry: Path
    options: RolloutOptions
    state: Path
    defaults: PlatformDefaults


def _install_stand_in(target: EngineTarget) -> None:
    from ..localaws.install import install_plugin

    install_plugin(Path(target.pulumi), Path(target.pulumi_home), Path(sys.executable))


def prepare_run(
    operation: Operation,
    selection: Selection,
    *,
    local: bool,
    backend: Optional[str],
    secrets_provider: Optional[str],
    registry: Path,
    state: Optional[Path],
    concurrency: Optional[int],
    failure_threshold: Optional[str],
) -> EngineRun:
    """Resolve everything an engine command needs; fails (exit 2) before anything is written."""
    defaults = load_defaults()
    # The engine first: with none installed, nothing else is looked at or written.
    target = resolve_target(
        defaults, local=local, backend=backend, secrets_provider=secrets_provider, state=state,
        registry_dir=None if registry.resolve() == REGISTRY_DIR.resolve() else registry,
    )
    loaded = load_registry([registry])
    loaded.raise_for_errors()
    stacks = select_stacks(selection, loaded.tenants, defaults)
    folder = state or state_dir(defaults)
    # Logs and reports follow --state-dir when one is given (tests and CI keep runs apart that way).
    log_dir = run_folder(operation, folder / "runs") if state else None
    options = options_from_defaults(operation, defaults, concurrency, failure_threshold, log_dir=log_dir)
    return EngineRun(operation, target, stacks, dict(loaded.tenants), registry, options, folder, defaults)


def execute(run: EngineRun, *, dry_run: bool, refresh_preview: bool = False) -> RolloutReport | None:
    """Gate, configure the packs, install the stand-in when local, and roll out; None on --dry-run."""
    plan = plan_rollout(run.operation, run.stacks, run.tenants, run.options)
    if dry_run:
        console.print(render_plan(plan), markup=False)
        return None
    if run.operation == "up":
        err_console.print(f"gate: planning {len(run.stacks)} stack(s) offline with the policy packs", markup=False)
        refusals = gate_refusals(gate(run.stacks, run.tenants, run.defaults, run.registry))
        if refusals:
            for line in refusals:
                err_console.print(line, markup=False)
            err_console.print(f"gate: refused ({len(refusals)} mandatory violation(s)); the engine was not started", markup=False)
            raise typer.Exit(EXIT_VIOLATIONS)
    materialise(run.target)
    packs = {}
    if run.operation in ("preview", "up") and not refresh_preview:
        packs = write_pack_configs(run.stacks, run.tenants, run.registry, run.state / "policy-config")
    if run.target.local:
        _install_stand_in(run.target)
    operations = AutomationStackOperations(run.target, run.defaults, packs, refresh_preview=refresh_preview)
    return run_rollout(run.operation, run.stacks, run.tenants, operations, run.options, console)


# The options the engine commands share; one definition each.
STACK = typer.Option(None, "--stack", "-s", help="This stack (repeatable): <env> or <tenant>-<env>.")
TENANT = typer.Option(None, "--tenant", "-t", help="This tenant's stacks (repeatable).")
ENV = typer.Option(None, "--env", "-e", help="Only this environment (repeatable).")
EVERY = typer.Option(False, "--all", help="Every stack of the registry.")
LOCAL = typer.Option(False, "--local", help="On this machine, with the local stand-in for AWS.")
BACKEND = typer.Option(None, "--backend", help="State backend URL (default: PULUMI_BACKEND_URL, else a file backend in the state folder).")
SECRETS = typer.Option(None, "--secrets-provider", help="passphrase (default) or a KMS URL such as awskms://alias/…")
CONCURRENCY = typer.Option(None, "--concurrency", "-c", min=1, help="Stacks at once per wave (default: defaults.yaml rollout).")
REGISTRY = typer.Option(REGISTRY_DIR, "--registry", help="The registry folder.")
STATE = typer.Option(None, "--state-dir", help="Where local state, logs, reports, audit and retention records live (default: .state).")


def _command(operation: Operation) -> Callable[..., None]:
    def command(
        stack: Optional[List[str]] = STACK,
        tenant: Optional[List[str]] = TENANT,
        env: Optional[List[str]] = ENV,
        every: bool = EVERY,
        local: bool = LOCAL,
        backend: Optional[str] = BACKEND,
        secrets_provider: Optional[str] = SECRETS,
        concurrency: Optional[int] = CONCURRENCY,
        failure_threshold: Optional[str] = typer.Option(None, "--failure-threshold", help="Failures that stop the rollout: a count (2) or a share (10%)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Print the wave plan; run nothing."),
        registry: Path = REGISTRY,
        state: Optional[Path] = STATE,
    ) -> None:
        run = prepare_run(
            operation, Selection(tuple(stack or ()), tuple(tenant or ()), tuple(env or ()), every),
            local=local, backend=backend, secrets_provider=secrets_provider, registry=registry, state=state,
            concurrency=concurrency, failure_threshold=failure_threshold,
        )
        report = execute(run, dry_run=dry_run)
        if report is not None:
            raise typer.Exit(exit_code(report))

    command.__doc__ = {
        "preview": "Preview stacks with the real engine and both policy packs.",
        "up": "Gate stacks offline, then apply them with the real engine and both policy packs, in waves.",
        "destroy": "Destroy stacks (tenants before their shared stack).",
        "refresh": "Refresh stacks' state from the cloud.",
    }[operation]
    return command


def drift_lines(report: RolloutReport) -> list[str]:
    """Per drifted stack, one line per drifted resource: what the refresh found, property names only."""
    lines: list[str] = []
    for record in report.records:
        outcome = record.outcome
        if outcome is None or not outcome.succeeded or not outcome.resource_changes:
            continue
        lines.append(f"{record.stack_name}: drifted ({len(outcome.resource_changes)} resource(s))")
        for change in outcome.resource_changes:
            what = f" [{', '.join(change['properties'])}]" if change["properties"] else ""
            lines.append(f"  {change['op']} {change['type']} {change['urn'].rsplit('::', 1)[-1]}{what}")
    return lines


def drift(
    stack: Optional[List[str]] = STACK,
    tenant: Optional[List[str]] = TENANT,
    env: Optional[List[str]] = ENV,
    every: bool = EVERY,
    local: bool = LOCAL,
    backend: Optional[str] = BACKEND,
    secrets_provider: Optional[str] = SECRETS,
    concurrency: Optional[int] = CONCURRENCY,
    registry: Path = REGISTRY,
    state: Optional[Path] = STATE,
) -> None:
    """Refresh-preview stacks and report which drifted from their state, and in what.

    Exit 0 when nothing drifted, 1 when something did or a stack could not be checked.
    """
    run = prepare_run(
        "preview", Selection(tuple(stack or ()), tuple(tenant or ()), tuple(env or ()), every),
        local=local, backend=backend, secrets_provider=secrets_provider, registry=registry, state=state,
        concurrency=concurrency, failure_threshold=None,
    )
    report = execute(run, dry_run=False, refresh_preview=True)
    assert report is not None
    lines = drift_lines(report)
    for line in lines:
        console.print(line, markup=False)
    drifted = sum(1 for line in lines if not line.startswith(" "))
    console.print(f"drift: {drifted} of {len(report.records)} stack(s) drifted", markup=False)
    raise typer.Exit(exit_code(report) or (EXIT_VIOLATIONS if drifted else 0))


def offboard(
    tenant: str = typer.Argument(..., metavar="TENANT", help="The tenant to offboard."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    local: bool = LOCAL,
    backend: Optional[str] = BACKEND,
    secrets_provider: Optional[str] = SECRETS,
    registry: Path = REGISTRY,
    state: Optional[Path] = STATE,
) -> None:
    """Destroy TENANT's stacks, keep its tables and key until its retention ends, then remove its registry file.

    Every step goes to the audit log (<state>/audit/offboarding.jsonl). Exit 0 when offboarded,
    1 when a step failed (the registry file then stays), 2 for bad input.
    """
    from ..apply.offboard import offboard_tenant

    run = prepare_run(
        "destroy", Selection(tenants=(tenant,)), local=local, backend=backend, secrets_provider=secrets_provider,
        registry=registry, state=state, concurrency=None, failure_threshold=None,
    )
    subject = run.tenants[tenant]
    if not yes:
        if not sys.stdin.isatty():
            raise UserError("offboard", "destroys every stack of the tenant: pass --yes to confirm when not at a terminal")
        typer.confirm(f"Offboard {tenant}: destroy {', '.join(s.name for s in run.stacks)}?", abort=True)
    materialise(run.target)
    packs = write_pack_configs(run.stacks, run.tenants, run.registry, run.state / "policy-config")
    if run.target.local:
        _install_stand_in(run.target)
    logs = run.options.log_dir
    logs.mkdir(parents=True, exist_ok=True)
    with ExitStack() as open_logs:
        # One handle per stack for the whole offboarding, named as the rollout names its logs.
        handles: dict[str, IO[str]] = {}

        def log(stack: str, line: str) -> None:
            if stack not in handles:
                handles[stack] = open_logs.enter_context((logs / f"{stack}{LOG_SUFFIX}").open("a", encoding="utf-8", buffering=1))
            handles[stack].write(line + "\n")

        result = offboard_tenant(
            subject, run.target, run.defaults, run.registry, run.state, packs,
            lambda line: console.print(line, markup=False), log,
        )
    raise typer.Exit(0 if result.succeeded else EXIT_VIOLATIONS)


def register(app: typer.Typer) -> None:
    """Add ``preview``, ``up``, ``destroy``, ``refresh``, ``drift`` and ``offboard`` to ``app``."""
    for operation in ("preview", "up", "destroy", "refresh"):
        app.command(operation)(_command(operation))
    app.command("drift")(drift)
    app.command("offboard")(offboard)
