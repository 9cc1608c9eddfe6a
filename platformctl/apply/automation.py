"""The real :class:`~.operations.StackOperations`: each operation in a process of its own.

A stack's operation runs ``python -m platformctl.apply.stack_run`` (the Automation API with this
project, see :mod:`.stack_run`); its engine output streams back line by line to ``on_output``
and its outcome comes back as JSON. Separate processes keep the SDK's per-process settings apart
when a wave applies several stacks at once, and let a stuck stack be stopped without the others.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ubertruck import PROJECT_ROOT
from ubertruck.defaults import PlatformDefaults
from ubertruck.stacks import StackRef

from .operations import Failure, Operation, OutputSink, StackOutcome
from .stack_run import outcome_from_json
from .target import EngineTarget

#: A policy pack folder and the ``--policy-pack-config`` file that goes with it.
PackConfig = tuple[str, str]


class AutomationStackOperations:
    """Runs stack operations with the real engine, one process per operation."""

    def __init__(
        self,
        target: EngineTarget,
        defaults: PlatformDefaults,
        policy_packs: dict[str, list[PackConfig]] | None = None,
        *,
        refresh_preview: bool = False,
        existing_only: bool = False,
    ) -> None:
        self.target = target
        self.defaults = defaults
        #: Per stack name, the packs (and their config files) every preview and up must pass.
        self.policy_packs = policy_packs or {}
        self.refresh_preview = refresh_preview
        #: Leave stacks the backend does not hold alone instead of creating them (offboarding).
        self.existing_only = existing_only

    def run(self, operation: Operation, stack: StackRef, on_output: OutputSink) -> StackOutcome:
        started = time.monotonic()
        packs = self.policy_packs.get(stack.name, []) if operation in ("preview", "up") else []
        with tempfile.TemporaryDirectory(prefix="platformctl-stack-") as scratch:
            request = Path(scratch, "request.json")
            result = Path(scratch, "result.json")
            request.write_text(
                json.dumps(
                    {
                        "operation": operation,
                        "stack": stack.name,
                        "target": self.target.to_json(),
                        "policy_packs": packs,
                        "refresh_preview": self.refresh_preview,
                        "existing_only": self.existing_only,
                    }
                ),
                encoding="utf-8",
            )
            timeout = self.defaults.engine.operation_timeout_seconds or None
            process = subprocess.Popen(
                [sys.executable, "-u", "-m", "platformctl.apply.stack_run", str(request), str(result)],
                cwd=PROJECT_ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
                # gRPC's C core logs connection chatter at info level; keep its errors only.
                env={**os.environ, "GRPC_VERBOSITY": "ERROR"},
            )
            assert process.stdout is not None
            expired = threading.Event()

            def stop() -> None:
                expired.set()
                process.kill()

            timer = threading.Timer(timeout, stop) if timeout else None
            if timer:
                timer.start()
            try:
                for line in process.stdout:
                    on_output(line.rstrip("\n"))
                code = process.wait()
            finally:
                if timer:
                    timer.cancel()
            if expired.is_set():
                return self._failed(operation, stack, started, Failure.ENGINE, f"timed out after {timeout} s")
            if result.is_file():
                return outcome_from_json(json.loads(result.read_text(encoding="utf-8")))
            return self._failed(operation, stack, started, Failure.ENGINE, f"the stack process exited with {code} before reporting")

    @staticmethod
    def _failed(operation: Operation, stack: StackRef, started: float, failure: Failure, message: str) -> StackOutcome:
        return StackOutcome(
            stack=stack.name,
            operation=operation,
            succeeded=False,
            duration_seconds=time.monotonic() - started,
            failure=failure,
            message=message,
        )
