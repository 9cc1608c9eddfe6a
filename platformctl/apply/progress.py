"""What the operator sees while a rollout runs.

The scheduler reports events to a :class:`RolloutObserver`, from its worker threads:

* :class:`LiveProgress` (a terminal): a Rich display with the current wave's bar and one line per
  running stack (its status or last engine line, elapsed time, attempt);
* :class:`PlainProgress` (a pipe, a CI log): one plain line per start, retry and finish;
* :class:`NullObserver`: nothing (benchmarks, library use).

:func:`observer_for` picks the first two by whether the console is a terminal.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from ubertruck.stacks import StackRef

from .operations import Failure

if TYPE_CHECKING:  # the report imports nothing from here; only type names are needed
    from .report import StackRecord, WaveRecord
    from .waves import Wave

#: Longest engine line shown as a running stack's status; the full line is in its log.
STATUS_WIDTH = 60


class RolloutObserver(Protocol):
    """Receives the scheduler's events; every method is called from worker threads and must be quick."""

    def wave_started(self, wave: Wave) -> None: ...

    def stack_started(self, stack: StackRef, attempt: int) -> None: ...

    def stack_output(self, stack: StackRef, line: str) -> None: ...

    def stack_waiting(self, stack: StackRef, failed_attempt: int, delay: float, failure: Failure) -> None: ...

    def stack_finished(self, record: StackRecord) -> None: ...

    def wave_finished(self, record: WaveRecord) -> None: ...


class NullObserver:
    """Hears every event and shows nothing."""

    def wave_started(self, wave: Wave) -> None:
        pass

    def stack_started(self, stack: StackRef, attempt: int) -> None:
        pass

    def stack_output(self, stack: StackRef, line: str) -> None:
        pass

    def stack_waiting(self, stack: StackRef, failed_attempt: int, delay: float, failure: Failure) -> None:
        pass

    def stack_finished(self, record: StackRecord) -> None:
        pass

    def wave_finished(self, record: WaveRecord) -> None:
        pass


def _finished_text(record: StackRecord) -> str:
    from .report import changes_text  # local: report imports this module's types only for checking

    outcome = record.outcome
    if outcome is None:
        return f"{record.stack_name}: skipped ({record.skip_reason})"
    text = f"{record.stack_name}: {record.result}"
    if outcome.failure:
        text += f" ({outcome.failure.value}): {outcome.message}"
    return text + f", changes {changes_text(outcome.changes)}, attempt {outcome.attempts}, {outcome.duration_seconds:.1f}s"


class PlainProgress(NullObserver):
    """One line per event, for logs and pipes; engine output goes only to the stack logs."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def _say(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def wave_started(self, wave: Wave) -> None:
        self._say(f"wave {wave.index} ({wave.label}): {len(wave.stacks)} stack(s), {wave.concurrency} at a time")

    def stack_started(self, stack: StackRef, attempt: int) -> None:
        self._say(f"{stack.name}: started" + (f" (attempt {attempt})" if attempt > 1 else ""))

    def stack_waiting(self, stack: StackRef, failed_attempt: int, delay: float, failure: Failure) -> None:
        self._say(f"{stack.name}: attempt {failed_attempt} failed ({failure.value}); retrying in {delay:.1f}s")

    def stack_finished(self, record: StackRecord) -> None:
        self._say(_finished_text(record))

    def wave_finished(self, record: WaveRecord) -> None:
        wave = record.wave
        tripped = f"; failure limit {wave.failure_limit} reached, the rollout stops" if record.tripped else ""
        self._say(f"wave {wave.index} ({wave.label}) done: {record.failed} failed{tripped}")


class LiveProgress(NullObserver):
    """A Rich display: the wave's bar, then one line per running stack. Use as a context manager."""

    def __init__(self, console: Console, total_waves: int) -> None:
        self.total_waves = total_waves
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._wave_task: TaskID | None = None
        self._tasks: dict[str, TaskID] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> LiveProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def wave_started(self, wave: Wave) -> None:
        description = f"wave {wave.index + 1}/{self.total_waves} {wave.label}"
        self._wave_task = self.progress.add_task(description, total=len(wave.stacks), status=f"{wave.concurrency} at a time")

    def stack_started(self, stack: StackRef, attempt: int) -> None:
        with self._lock:
            task = self._tasks.get(stack.name)
            if task is None:
                self._tasks[stack.name] = self.progress.add_task(f"  {stack.name}", total=None, status=f"attempt {attempt}: running")
                return
        self.progress.update(task, status=f"attempt {attempt}: running")

    def stack_output(self, stack: StackRef, line: str) -> None:
        task = self._tasks.get(stack.name)
        if task is not None and line.strip():
            self.progress.update(task, status=line.strip()[:STATUS_WIDTH])

    def stack_waiting(self, stack: StackRef, failed_attempt: int, delay: float, failure: Failure) -> None:
        task = self._tasks.get(stack.name)
        if task is not None:
            self.progress.update(task, status=f"attempt {failed_attempt} failed ({failure.value}); retry in {delay:.0f}s")

    def stack_finished(self, record: StackRecord) -> None:
        with self._lock:
            task = self._tasks.pop(record.stack_name, None)
        if task is not None:
            self.progress.remove_task(task)
        if record.outcome is not None:
            self.progress.console.print(_finished_text(record), markup=False, highlight=False, soft_wrap=True)
        if self._wave_task is not None:
            self.progress.advance(self._wave_task)

    def wave_finished(self, record: WaveRecord) -> None:
        if self._wave_task is not None:
            self.progress.update(self._wave_task, status=f"{record.failed} failed" + (", limit reached" if record.tripped else ""))
