"""Property test of the scheduler: random waves, caps, thresholds and scripted failures."""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from platformctl.apply.operations import Failure
from platformctl.apply.options import FailureThreshold
from platformctl.apply.scheduler import Scheduler
from platformctl.apply.waves import Wave
from ubertruck.defaults import load_defaults
from ubertruck.stacks import StackRef

from .support import RecordingSleep, ScriptedStackOperations, options

#: The shipped retry policy's tries per stack.
MAX_ATTEMPTS = load_defaults().rollout.retry.max_attempts
#: One scripted attempt: success, a retryable failure, or one that is never retried.
STEPS = st.sampled_from([None, None, Failure.TRANSIENT, Failure.CONCURRENT, Failure.POLICY, Failure.PROGRAM])


@st.composite
def rollouts(draw: st.DrawFn) -> tuple[list[Wave], dict[str, list[Failure | None]]]:
    sizes = draw(st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=4))
    threshold = FailureThreshold(count=draw(st.integers(min_value=1, max_value=4)))
    waves: list[Wave] = []
    script: dict[str, list[Failure | None]] = {}
    for index, size in enumerate(sizes):
        stacks = tuple(StackRef(name=f"t{index}x{i}-dev", environment="dev", tenant_id=f"t{index}x{i}") for i in range(size))
        for stack in stacks:
            script[stack.name] = draw(st.lists(STEPS, max_size=MAX_ATTEMPTS))
        cap = draw(st.integers(min_value=1, max_value=4))
        waves.append(Wave(index, "dev", "tier", "basic", stacks, min(cap, size), threshold.limit_for(size)))
    return waves, script


def _max_overlap(intervals: list[tuple[int, int]]) -> int:
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rollouts())
def test_caps_hold_every_stack_is_reported_once_and_nothing_starts_after_a_trip(case):
    waves, script = case
    ops = ScriptedStackOperations(script=script)
    with tempfile.TemporaryDirectory() as folder:
        opts = options(Path(folder), max_attempts=MAX_ATTEMPTS)
        report = Scheduler(ops, "up", opts, sleep=RecordingSleep(), random=lambda: 0.0).run(waves)

    every = [s.name for w in waves for s in w.stacks]
    assert Counter(r.stack_name for r in report.records) == Counter(every)  # each exactly once

    calls_by_stack: dict[str, list] = {}
    for call in ops.calls:
        calls_by_stack.setdefault(call.stack, []).append(call)
    for wave in waves:
        intervals = [(c.started_seq, c.ended_seq) for s in wave.stacks for c in calls_by_stack.get(s.name, [])]
        assert _max_overlap(intervals) <= wave.concurrency

    tripped = report.threshold_wave
    for record in report.records:
        calls = calls_by_stack.get(record.stack_name, [])
        assert record.attempts == len(calls) <= MAX_ATTEMPTS
        if tripped is not None and record.wave > tripped:
            assert not calls and record.result == "skipped"
        if record.result == "skipped":
            assert not calls
            continue
        steps = script[record.stack_name]
        final = steps[record.attempts - 1] if record.attempts <= len(steps) else None
        assert record.failure == final and record.result == ("succeeded" if final is None else "failed")
        # Only retryable failures came before the last attempt.
        assert all(step is not None and step.retryable for step in steps[: record.attempts - 1])

    for wave_record in report.waves:
        assert wave_record.tripped == (wave_record.failed >= wave_record.wave.failure_limit)
    assert report.stopped_by_threshold == (tripped is not None)
