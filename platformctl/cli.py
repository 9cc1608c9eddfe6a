"""The ``platformctl`` command line: one Typer app, one module per command group.

Exit codes: 0 success, 1 a check found violations, 2 bad input or usage. Bad input prints one
line per problem; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import sys
from typing import Optional

import typer
from rich.console import Console

from ubertruck.errors import EXIT_BAD_INPUT, UserError

app = typer.Typer(
    name="platformctl",
    help="Operate the UberTruck platform: registry, offline plan, policy checks, rollouts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
_state: dict[str, bool] = {"debug": False, "registered": False}


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors.")) -> None:
    _state["debug"] = debug


def debug_enabled() -> bool:
    return _state["debug"]


def _register() -> None:
    # Imported here so `platformctl --help` stays fast and each group stays in its own module.
    if _state.get("registered"):
        return
    from .commands import engine_ops, package, plan, policy, scan, tenants

    app.add_typer(tenants.app, name="tenants")
    app.command("plan")(plan.plan)
    scan.register(app)
    policy.register(app)
    engine_ops.register(app)
    package.register(app)
    from .commands import payments

    payments.register(app)
    from .commands import service_admin, service_run

    service_admin.register(app)
    service_run.register(app)
    _state["registered"] = True


def main(argv: Optional[list[str]] = None) -> None:
    """Entry point of the console script and of ``python -m platformctl``."""
    _register()
    try:
        # Without standalone mode Typer returns an Exit's code instead of exiting with it.
        code = app(args=argv, standalone_mode=False)
    except UserError as exc:
        if debug_enabled():
            raise
        for line in str(exc).splitlines():
            err_console.print(f"error: {line}", markup=False)
        sys.exit(EXIT_BAD_INPUT)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted", markup=False)
        sys.exit(130)
    except typer.TyperException as exc:  # usage errors: bad option values, unknown commands
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err_console.print(f"error: {exc}", markup=False)
        sys.exit(EXIT_BAD_INPUT)
    if isinstance(code, int) and code:
        sys.exit(code)
