"""Run by ``test_scheduler.test_ctrl_c_is_handled_gracefully`` in a fresh interpreter.

A real SIGINT is only handled on an interpreter's main thread, and under pytest-xdist the tests
do not run there; this child runs a rollout on its main thread, presses Ctrl-C while the first
tenant stack is running, and prints the JSON report.

Usage: python -m tests.apply.ctrl_c_child LOG_DIR
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path

from platformctl.apply.report import render_json
from platformctl.apply.rollout import plan_rollout
from platformctl.apply.scheduler import Scheduler

from .support import FakeClock, RecordingSleep, ScriptedStackOperations, options, registry, stacks_of

#: Bounds the wait for the main thread, so a broken scheduler fails the test instead of hanging it.
GUARD_SECONDS = 30.0
#: Real seconds between looks at whether the main thread has stopped the rollout.
POLL_SECONDS = 0.002
#: What a fake clock reading advances by.
CLOCK_STEP = 0.25


def main(log_dir: Path) -> None:
    tenants = registry({f"t{i}": "basic" for i in range(3)})
    holder: dict[str, Scheduler] = {}

    def press_ctrl_c(stack, attempt) -> None:
        if stack.name != "t0-dev":
            return
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)  # where a terminal's Ctrl-C lands
        # Hold this stack until the main thread has turned the KeyboardInterrupt into a stop.
        guard = time.monotonic() + GUARD_SECONDS
        while holder["s"].stop_reason is None and time.monotonic() < guard:
            time.sleep(POLL_SECONDS)

    opts = options(log_dir, concurrency=1)
    plan = plan_rollout("up", stacks_of(tenants), tenants, opts)
    holder["s"] = scheduler = Scheduler(ScriptedStackOperations(during=press_ctrl_c), "up", opts, sleep=RecordingSleep(), clock=FakeClock(CLOCK_STEP))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print(render_json(scheduler.run(list(plan.waves))))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
