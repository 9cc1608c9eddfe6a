"""Runs planned waves through :class:`StackOperations`: caps, retries, the failure threshold, Ctrl-C.

* A wave's stacks run on a thread pool of ``wave.concurrency`` threads; the next wave starts when
  every stack of this one has finished.
* A failure whose kind is retryable (transient, lock conflict) is tried again after an
  exponential back-off, up to ``retry.max_attempts`` tries; policy and program failures never are.
* When a wave's failures reach its ``failure_limit``, no further stack starts, in that wave or
  any later one; stacks already running finish. Those that never started are reported skipped.
* Ctrl-C (or :meth:`Scheduler.interrupt`) stops the same way: nothing new starts, running stacks
  finish, and the report says so. A stack waiting to retry makes no further attempt. On the main
  thread the scheduler answers SIGINT itself while it runs, so the interrupt can never land in the
  middle of its own bookkeeping; every press is graceful (the engine processes, in the terminal's
  process group, receive the same SIGINT and cancel their own updates).

Whether a stack may start and whether a failure trips the threshold are decided under one lock,
so no stack starts after the threshold has tripped.

The clock, the sleep and the jitter source are parameters: tests pass fakes, and nothing in them
really sleeps.
"""

from __future__ import annotations

import datetime as dt
import random as random_module
import signal
import threading
import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import IO, Callable, Iterator

from ubertruck.stacks import StackRef

from .operations import Failure, Operation, StackOperations, StackOutcome
from .options import RolloutOptions
from .progress import NullObserver, RolloutObserver
from .report import RolloutReport, SkipReason, StackRecord, WaveRecord
from .waves import Wave

Clock = Callable[[], float]
Sleep = Callable[[float], object]
Random = Callable[[], float]
LOG_SUFFIX = ".log"


@dataclass
class _WaveState:
    failure_limit: int
    failures: int = 0
    tripped: bool = False


def _record(wave: Wave, stack: StackRef, outcome: StackOutcome | None, skip_reason: SkipReason | None = None) -> StackRecord:
    return StackRecord(
        wave=wave.index,
        stack_name=stack.name,
        kind=stack.kind,
        tenant_id=stack.tenant_id,
        environment=stack.environment,
        outcome=outcome,
        skip_reason=skip_reason,
    )


class Scheduler:
    """Runs waves of one operation; one instance per rollout:
    ``Scheduler(operations, "up", options).run(waves)`` returns the ``RolloutReport``."""

    def __init__(
        self,
        operations: StackOperations,
        operation: Operation,
        options: RolloutOptions,
        observer: RolloutObserver | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep | None = None,
        random: Random = random_module.random,
    ) -> None:
        self.operations = operations
        self.operation = operation
        self.options = options
        self.observer = observer or NullObserver()
        self.clock = clock
        self._stopping = threading.Event()
        # The default sleep wakes up as soon as the rollout stops, so Ctrl-C never waits out a back-off.
        self.sleep: Sleep = sleep or self._stopping.wait
        self.random = random
        self._lock = threading.Lock()
        self._stop_reason: SkipReason | None = None
        self._interrupted = False

    # --- stopping -------------------------------------------------------------------------------

    def interrupt(self) -> None:
        """Stop starting stacks (what Ctrl-C does); running ones finish. Safe from any thread."""
        with self._lock:
            self._interrupted = True
            self._stop_reason = self._stop_reason or "interrupted"
        self._stopping.set()

    @property
    def stop_reason(self) -> SkipReason | None:
        return self._stop_reason

    @contextmanager
    def _ctrl_c_stops(self) -> Iterator[None]:
        """While running on the main thread, SIGINT calls :meth:`interrupt` instead of raising."""
        if threading.current_thread() is not threading.main_thread():
            yield  # only the main thread receives signals; the caller's thread handles its own
            return
        previous = signal.getsignal(signal.SIGINT)
        if previous is signal.SIG_IGN:  # started where Ctrl-C is meant to be ignored (a background job)
            yield
            return
        signal.signal(signal.SIGINT, lambda signum, frame: self.interrupt())
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    # --- running --------------------------------------------------------------------------------

    def run(self, waves: list[Wave]) -> RolloutReport:
        """Run ``waves`` in order and report every stack of every wave exactly once."""
        started_at = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        start = self.clock()
        self.options.log_dir.mkdir(parents=True, exist_ok=True)
        records: list[WaveRecord] = []
        with self._ctrl_c_stops():
            for wave in waves:
                records.append(self._run_wave(wave))
        return RolloutReport(
            operation=self.operation,
            waves=tuple(records),
            options=self.options,
            started_at=started_at,
            duration_seconds=self.clock() - start,
            interrupted=self._interrupted,
        )

    def _run_wave(self, wave: Wave) -> WaveRecord:
        state = _WaveState(failure_limit=wave.failure_limit)
        if self._stop_reason is not None:
            reason = self._stop_reason
            return WaveRecord(wave, tuple(_record(wave, s, None, reason) for s in wave.stacks), tripped=False)
        self.observer.wave_started(wave)
        pool = ThreadPoolExecutor(max_workers=wave.concurrency, thread_name_prefix=f"wave-{wave.index}")
        futures: list[Future[StackRecord]] = []
        try:
            for stack in wave.stacks:
                futures.append(pool.submit(self._run_stack, wave, stack, state))
            results = [future.result() for future in futures]
        finally:
            pool.shutdown()
        record = WaveRecord(wave, tuple(results), tripped=state.tripped)
        self.observer.wave_finished(record)
        return record

    def _begin(self, wave: Wave, stack: StackRef) -> StackRecord | None:
        """A skipped record when the rollout has stopped; None (and the stack counts as started) otherwise."""
        with self._lock:
            if self._stop_reason is not None:
                return _record(wave, stack, None, self._stop_reason)
        return None

    def _finish(self, state: _WaveState, outcome: StackOutcome) -> None:
        if outcome.succeeded:
            return
        with self._lock:
            state.failures += 1
            if state.failures >= state.failure_limit and not state.tripped and self._stop_reason is None:
                state.tripped = True
                self._stop_reason = "threshold"
                self._stopping.set()

    def _run_stack(self, wave: Wave, stack: StackRef, state: _WaveState) -> StackRecord:
        skipped = self._begin(wave, stack)
        if skipped is not None:
            self.observer.stack_finished(skipped)
            return skipped
        log_path = self.options.log_dir / f"{stack.name}{LOG_SUFFIX}"
        start = self.clock()
        with log_path.open("w", encoding="utf-8", buffering=1) as log:
            outcome, attempts = self._attempts(stack, log)
        outcome = replace(outcome, attempts=attempts, duration_seconds=self.clock() - start, log_path=str(log_path))
        # Count the failure before anyone hears of it, so an observer never sees a stack start after a trip.
        self._finish(state, outcome)
        record = _record(wave, stack, outcome)
        self.observer.stack_finished(record)
        return record

    def _attempts(self, stack: StackRef, log: IO[str]) -> tuple[StackOutcome, int]:
        retry = self.options.retry
        attempt = 1
        while True:
            log.write(f"# {self.operation} {stack.name}: attempt {attempt}\n")
            self.observer.stack_started(stack, attempt)
            outcome = self._attempt(stack, log)
            retryable = outcome.failure is not None and outcome.failure.retryable
            if outcome.succeeded or not retryable or attempt >= retry.max_attempts:
                return outcome, attempt
            if self._stop_reason is not None:
                return replace(outcome, message=f"{outcome.message} (not retried: the rollout is stopping)"), attempt
            delay = retry.delay(attempt, self.random)
            log.write(f"# attempt {attempt} failed ({outcome.failure.value if outcome.failure else ''}); next in {delay:.1f}s\n")
            self.observer.stack_waiting(stack, attempt, delay, outcome.failure or Failure.ENGINE)
            self.sleep(delay)
            if self._stop_reason is not None:
                return replace(outcome, message=f"{outcome.message} (not retried: the rollout is stopping)"), attempt
            attempt += 1

    def _attempt(self, stack: StackRef, log: IO[str]) -> StackOutcome:
        observer = self.observer

        def on_output(line: str) -> None:
            text = line.rstrip("\n")
            log.write(text + "\n")
            observer.stack_output(stack, text)

        try:
            return self.operations.run(self.operation, stack, on_output)
        except Exception as exc:
            log.write(traceback.format_exc())
            return StackOutcome(
                stack=stack.name,
                operation=self.operation,
                succeeded=False,
                failure=Failure.ENGINE,
                message=f"the stack operation raised {type(exc).__name__} (traceback in the log)",
            )
