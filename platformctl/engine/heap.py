"""The garbage collector during offline program runs.

The Pulumi SDK allocates heavily while a program registers resources (futures, tasks, outputs),
and with Python's default young-generation threshold the collector ran so often that it took a
quarter of a tenant stack's run; each full collection also walked every object the SDK and the
provider modules created at import. So, while a program runs, young collections are spaced out
(``offline.gc_young_threshold`` in defaults.yaml), and after a process's first run, once the
program's modules are all imported, what is alive is moved out of the collector's way
(``gc.freeze``). Cyclic garbage is still collected, just less often.
"""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator

_SETTLED: list[bool] = []


@contextlib.contextmanager
def program_run(young_threshold: int) -> Iterator[None]:
    """Collector settings for one program run; the caller's thresholds come back afterwards."""
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


__all__ = ["program_run"]
