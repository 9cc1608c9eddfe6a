"""Run the Pulumi program for one stack under the mock runtime and capture it.

Each run gets a fresh ``contextvars.Context``: the SDK keeps its settings, config and root
resource in context variables, so stacks planned one after another in the same process never
see each other's state.
"""

from __future__ import annotations

import asyncio
import contextvars
from functools import lru_cache
import logging
import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pulumi.runtime.config import set_all_config

from policies.sdk_compat import configure_mock_runtime, run_in_root_stack
from ubertruck import PROJECT_ROOT
from ubertruck.defaults import load_defaults
from ubertruck.errors import UserError
from ubertruck.safe_yaml import load_file

from . import heap
from .capture import CapturedResource
from .monitor import CaptureMonitor, OutputsOnlyMonitor, PlanMocks

PROGRAM = PROJECT_ROOT / "__main__.py"


@dataclass
class StackRun:
    """The captured registrations and exported outputs of one stack."""

    stack: str
    resources: list[CapturedResource]
    outputs: dict[str, Any] = field(default_factory=dict)


@lru_cache(maxsize=16)
def _project_defaults(project_file: Path, mtime_ns: int) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Pulumi.yaml's project name and config defaults, parsed once per version of the file."""
    project = load_file(project_file) or {}
    name = project.get("name", "")
    defaults: list[tuple[str, str]] = []
    for key, spec in (project.get("config") or {}).items():
        default = spec.get("default") if isinstance(spec, dict) else spec
        if default is not None:
            full = key if ":" in key else f"{name}:{key}"
            defaults.append((full, default if isinstance(default, str) else _json(default)))
    return name, tuple(defaults)


def stack_config(project_root: Path, stack: str) -> dict[str, str]:
    """Config the CLI would pass: project defaults from Pulumi.yaml, then ``Pulumi.<stack>.yaml``."""
    project_file = project_root / "Pulumi.yaml"
    name, defaults = _project_defaults(project_file, project_file.stat().st_mtime_ns)
    config = dict(defaults)
    stack_file = project_root / f"Pulumi.{stack}.yaml"
    if stack_file.is_file():
        for key, value in ((load_file(stack_file) or {}).get("config") or {}).items():
            full = key if ":" in key else f"{name}:{key}"
            config[full] = value if isinstance(value, str) else _json(value)
    return config


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


class _ProgramLog(logging.Handler):
    """Collects the program's error log lines (the SDK logs failures instead of raising)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.errors.append(record.getMessage())


def run_stack(
    stack: str,
    project: str,
    account_id: str,
    default_region: str,
    stack_outputs: dict[str, dict[str, Any]],
    organization: str,
    program: Callable[[], None] | None = None,
    config: dict[str, str] | None = None,
    capture: bool = True,
) -> StackRun:
    """Run ``program`` (default: the project's ``__main__.py``) as stack ``stack`` and capture it.

    ``capture=False`` runs the same program under the SDK's bare ``MockMonitor``, keeping only
    the stack's outputs (tenant stacks read the shared stack's): the floor the benchmarks
    compare the engine against.
    """

    def body() -> StackRun:
        mocks = PlanMocks(account_id, default_region, stack_outputs)
        monitor = CaptureMonitor(mocks) if capture else OutputsOnlyMonitor(mocks)
        log = _ProgramLog()
        # A logger of this run alone, outside the logging registry: a registration of an earlier
        # run of the same stack that fails late (its thread outlives that run) must not land in
        # this run's errors, and a thousand stacks leave no thousand registered loggers behind.
        logger = logging.Logger(f"platformctl.offline.{stack}")
        logger.propagate = False
        logger.handlers = [log]
        # The SDK's mock runtime with a per-run output set (see sdk_compat: it leans on SDK internals).
        configure_mock_runtime(monitor, logger, project, stack, organization)
        set_all_config(config if config is not None else stack_config(PROJECT_ROOT, stack))
        run = program or (lambda: runpy.run_path(str(PROGRAM), run_name="__main__"))
        try:
            run_in_root_stack(run, _note_unretrieved)
        except UserError:
            raise
        except Exception as exc:  # the program's own failure, reported against its stack
            detail = log.errors[-1] if log.errors else f"{type(exc).__name__}: {exc}"
            raise ProgramError(stack, detail) from exc
        if log.errors:
            raise ProgramError(stack, log.errors[-1])
        if not isinstance(monitor, CaptureMonitor):
            return StackRun(stack=stack, resources=[], outputs=monitor.stack_outputs)
        return StackRun(stack=stack, resources=monitor.captured, outputs=monitor.stack_outputs)

    with heap.program_run(load_defaults().offline.gc_young_threshold):
        return contextvars.Context().run(body)


def _note_unretrieved(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The event loop's handler for a failed future nobody awaited (a failed run leaves many:
    the outputs of the resource that failed). The run already reported its failure, so this
    notes the message at debug level, without formatting a traceback: asyncio's default handler
    formats one whenever the garbage collector frees such a future, which can be in the middle of
    a ``compile`` on another frame, and Python 3.11 then fails that compile with "AST constructor
    recursion depth mismatch"."""
    logging.getLogger(__name__).debug("offline run: %s", context.get("message", "unretrieved exception"))


class ProgramError(UserError):
    """The program failed for one stack: one line naming the stack (traceback with --debug)."""

    def __init__(self, stack: str, detail: str) -> None:
        super().__init__(f"stack '{stack}'", f"program failed: {detail}")
        self.stack = stack
