"""The garbage collector during offline program runs, in the plan's worker processes only.

The Pulumi SDK allocates heavily while a program registers resources (futures, tasks, outputs),
and with Python's default young-generation threshold the collector ran so often that it took a
quarter of a tenant stack's run; each full collection also walked every object the SDK and the
provider modules created at import. So, while a program runs, young collections are spaced out
(``offline.gc_young_threshold`` in defaults.yaml), and after a process's first run, once the
program's modules are all imported, what is alive is moved out of the collector's way
(``gc.freeze``). Cyclic garbage is still collected, just less often.

Both settings are process-wide, so they apply only in a process that exists to run programs: a
worker the plan's process pool started (``multiprocessing`` children; the planner is the only
one that runs programs in them). In the CLI's own process, in a test session or a benchmark
that imports the runner, the collector is left exactly as it was.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
from typing import Iterator

_SETTLED: list[bool] = []


def in_worker_process() -> bool:
    """True in a process started by ``multiprocessing`` (the plan's pool workers)."""
    return multiprocessing.parent_process() is not None


@contextlib.contextmanager
def program_run(young_threshold: int, tune: bool | None = None) -> Iterator[None]:
    """Collector settings for one program run; the caller's thresholds come back afterwards.

    ``tune`` defaults to :func:`in_worker_process`; anywhere else this changes nothing."""
    if not (in_worker_process() if tune is None else tune):
        yield
        return
    previous = gc.get_threshold()
    gc.set_threshold(young_threshold, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
    if not _SETTLED:
        # The first run imported what every later run uses: collect once, then keep the
        # survivors out of every later full collection.
        _SETTLED.append(True)
        gc.collect()
        gc.freeze()


__all__ = ["in_worker_process", "program_run"]
