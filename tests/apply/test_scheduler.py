"""The scheduler against a scripted StackOperations: caps, thresholds, retries, interrupts, logs."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from platformctl.apply.operations import Failure
from platformctl.apply.options import FailureThreshold
from platformctl.apply.rollout import plan_rollout
from platformctl.apply.scheduler import Scheduler

from .support import FakeClock, RecordingSleep, ScriptedStackOperations, options, registry, stacks_of

#: Guards waits between test threads so a broken scheduler fails the test instead of hanging it.
DEADLOCK_GUARD_SECONDS = 30.0
#: What a fake clock reading advances by.
CLOCK_STEP = 0.25
REPO = Path(__file__).resolve().parents[2]


def _run(tmp_path, tenants, ops, concurrency=1, threshold=None, sleep=None, clock=None, operation="up", **retry):
    opts = options(tmp_path, concurrency=concurrency, threshold=threshold, **retry)
    plan = plan_rollout(operation, stacks_of(tenants), tenants, opts)
    scheduler = Scheduler(ops, operation, opts, sleep=sleep or RecordingSleep(), clock=clock or FakeClock(CLOCK_STEP), random=lambda: 0.5)
    return scheduler, plan, scheduler.run(list(plan.waves))


def _results(report) -> dict[str, str]:
    return {r.stack_name: r.result for r in report.records}


def test_runs_waves_in_plan_order_and_each_wave_after_the_previous_one_finished(tmp_path):
    tenants = registry({"acme": "enterprise", "globex": "standard", "initech": "basic"}, canaries=["globex"])
    ops = ScriptedStackOperations()
    _, plan, report = _run(tmp_path, tenants, ops, concurrency=2)
    assert all(result == "succeeded" for result in _results(report).values())
    started = {c.stack: c for c in ops.calls}
    for earlier, later in zip(plan.waves, plan.waves[1:]):
        last_end = max(started[s.name].ended_seq for s in earlier.stacks)
        assert all(started[s.name].started_seq > last_end for s in later.stacks), (earlier.label, later.label)


def test_the_concurrency_cap_is_reached_and_never_exceeded(tmp_path):
    cap = 3
    tenants = registry({f"t{i}": "basic" for i in range(2 * cap)})
    # Every run waits for cap-1 others: fewer in flight would break the barrier (and fail the run).
    barrier = threading.Barrier(cap)
    ops = ScriptedStackOperations(during=lambda stack, attempt: barrier.wait(timeout=DEADLOCK_GUARD_SECONDS) if stack.tenant_id else None)
    _, _, report = _run(tmp_path, tenants, ops, concurrency=cap)
    assert set(_results(report).values()) == {"succeeded"}
    assert ops.max_in_flight == cap


def test_the_threshold_stops_the_current_wave_and_every_later_one(tmp_path):
    tenants = registry({f"t{i}": "basic" for i in range(5)} | {"big": "enterprise"})
    ops = ScriptedStackOperations(script={"t0-dev": [Failure.POLICY], "t2-dev": [Failure.PROGRAM]})
    _, plan, report = _run(tmp_path, tenants, ops, concurrency=1, threshold=FailureThreshold(count=2))
    results = _results(report)
    assert [results[f"t{i}-dev"] for i in range(5)] == ["failed", "succeeded", "failed", "skipped", "skipped"]
    ran = {c.stack for c in ops.calls}
    assert ran == {"dev", "t0-dev", "t1-dev", "t2-dev"}
    later = [r for r in report.records if r.wave > plan.waves[1].index]
    assert later and all(r.result == "skipped" and r.skip_reason == "threshold" for r in later)
    assert report.stopped_by_threshold and report.threshold_wave == 1 and not report.interrupted
    assert [w.tripped for w in report.waves] == [False, True] + [False] * (len(report.waves) - 2)


def test_failures_below_the_threshold_let_the_rollout_go_on(tmp_path):
    tenants = registry({f"t{i}": "basic" for i in range(4)})
    ops = ScriptedStackOperations(script={"t1-dev": [Failure.POLICY]})
    _, _, report = _run(tmp_path, tenants, ops, concurrency=2, threshold=FailureThreshold(count=2))
    assert report.totals() == {"stacks": 10, "succeeded": 9, "failed": 1, "skipped": 0}
    assert not report.stopped_by_threshold


def test_transient_and_lock_conflicts_are_retried_with_exponential_back_off(tmp_path):
    tenants = registry({"acme": "basic"})
    ops = ScriptedStackOperations(script={"acme-dev": [Failure.TRANSIENT, Failure.CONCURRENT, None]})
    sleep = RecordingSleep()
    _, _, report = _run(tmp_path, tenants, ops, sleep=sleep, base=2.0, factor=3.0, cap=50.0)
    record = next(r for r in report.records if r.stack_name == "acme-dev")
    assert (record.result, record.attempts) == ("succeeded", 3)
    assert sleep.requests == [2.0, 6.0]
    assert ops.attempts_of("acme-dev") == 3


def test_back_off_is_capped_and_jitter_only_shortens_it(tmp_path):
    tenants = registry({"acme": "basic"})
    ops = ScriptedStackOperations(script={"acme-dev": [Failure.TRANSIENT] * 5})
    sleep = RecordingSleep()
    # random() is 0.5 in _run: with jitter 0.2 each delay loses a tenth.
    _, _, report = _run(tmp_path, tenants, ops, sleep=sleep, max_attempts=5, base=2.0, factor=3.0, cap=10.0, jitter=0.2)
    assert sleep.requests == pytest.approx([1.8, 5.4, 9.0, 9.0])
    record = next(r for r in report.records if r.stack_name == "acme-dev")
    assert (record.result, record.attempts, record.failure) == ("failed", 5, Failure.TRANSIENT)


@pytest.mark.parametrize("failure", [Failure.POLICY, Failure.PROGRAM, Failure.ENGINE])
def test_policy_program_and_engine_failures_are_never_retried(tmp_path, failure):
    tenants = registry({"acme": "basic"})
    ops = ScriptedStackOperations(script={"acme-dev": [failure, None]})
    sleep = RecordingSleep()
    _, _, report = _run(tmp_path, tenants, ops, sleep=sleep)
    record = next(r for r in report.records if r.stack_name == "acme-dev")
    assert (record.result, record.attempts, record.failure) == ("failed", 1, failure)
    assert sleep.requests == [] and ops.attempts_of("acme-dev") == 1


def test_duration_runs_from_first_start_to_last_finish_back_offs_included(tmp_path):
    tenants = registry({"acme": "basic"})
    clock = FakeClock(CLOCK_STEP)

    def sleep(seconds: float) -> None:
        clock.now += seconds

    ops = ScriptedStackOperations(script={"acme-dev": [Failure.TRANSIENT, None]})
    _, _, report = _run(tmp_path, tenants, ops, sleep=sleep, clock=clock, base=2.0)
    record = next(r for r in report.records if r.stack_name == "acme-dev")
    assert record.outcome.duration_seconds == pytest.approx(2.0 + CLOCK_STEP)


def test_interrupt_stops_new_stacks_and_lets_the_running_one_finish(tmp_path):
    tenants = registry({f"t{i}": "basic" for i in range(4)})
    holder: dict[str, Scheduler] = {}
    ops = ScriptedStackOperations(during=lambda stack, attempt: holder["s"].interrupt() if stack.name == "t1-dev" else None)
    opts = options(tmp_path, concurrency=1)
    plan = plan_rollout("up", stacks_of(tenants), tenants, opts)
    holder["s"] = scheduler = Scheduler(ops, "up", opts, sleep=RecordingSleep(), clock=FakeClock(CLOCK_STEP))
    report = scheduler.run(list(plan.waves))
    results = _results(report)
    assert [results[f"t{i}-dev"] for i in range(4)] == ["succeeded", "succeeded", "skipped", "skipped"]
    assert {r.skip_reason for r in report.records if r.result == "skipped"} == {"interrupted"}
    assert report.interrupted and not report.stopped_by_threshold


def test_ctrl_c_is_handled_gracefully(tmp_path):
    """A real SIGINT on the main thread of a fresh interpreter (see ctrl_c_child): the running stack finishes."""
    child = subprocess.run(
        [sys.executable, "-m", "tests.apply.ctrl_c_child", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=DEADLOCK_GUARD_SECONDS,
    )
    assert child.returncode == 0, child.stderr
    report = json.loads(child.stdout)
    results = {s["stack"]: s["result"] for w in report["waves"] for s in w["stacks"]}
    assert results["dev"] == "succeeded" and results["t0-dev"] == "succeeded"
    assert results["t1-dev"] == results["t2-dev"] == results["prod"] == "skipped"
    assert report["interrupted"] and not report["stopped_by_threshold"]


def test_a_stack_waiting_to_retry_makes_no_further_attempt_once_the_rollout_stops(tmp_path):
    tenants = registry({"acme": "basic"})
    holder: dict[str, Scheduler] = {}
    requested: list[float] = []

    def ctrl_c_during_back_off(seconds: float) -> None:
        requested.append(seconds)
        holder["s"].interrupt()

    ops = ScriptedStackOperations(script={"acme-dev": [Failure.TRANSIENT, None]})
    opts = options(tmp_path)
    plan = plan_rollout("up", stacks_of(tenants), tenants, opts)
    holder["s"] = scheduler = Scheduler(ops, "up", opts, sleep=ctrl_c_during_back_off, clock=FakeClock(CLOCK_STEP))
    report = scheduler.run(list(plan.waves))
    record = next(r for r in report.records if r.stack_name == "acme-dev")
    assert len(requested) == 1 and ops.attempts_of("acme-dev") == 1
    assert (record.result, record.attempts) == ("failed", 1)
    assert "not retried" in record.outcome.message


def test_the_default_sleep_wakes_up_when_the_rollout_stops(tmp_path):
    opts = options(tmp_path)
    scheduler = Scheduler(ScriptedStackOperations(), "up", opts)
    scheduler.interrupt()
    # The default sleep is the stop event's wait: already set, it returns at once (True).
    assert scheduler.sleep(DEADLOCK_GUARD_SECONDS) is True


def test_an_operation_that_raises_fails_only_its_stack(tmp_path):
    tenants = registry({"acme": "basic", "hooli": "basic"})

    def explode(stack, attempt) -> None:
        if stack.name == "acme-dev":
            raise RuntimeError("boom")

    ops = ScriptedStackOperations(during=explode)
    _, _, report = _run(tmp_path, tenants, ops, concurrency=2, threshold=FailureThreshold(count=2))
    results = _results(report)
    assert results["acme-dev"] == "failed" and results["hooli-dev"] == "succeeded"
    record = next(r for r in report.records if r.stack_name == "acme-dev")
    assert record.failure is Failure.ENGINE and "RuntimeError" in record.outcome.message
    assert "Traceback" in (tmp_path / "acme-dev.log").read_text()


def test_each_stacks_engine_output_goes_to_its_own_log_every_attempt_included(tmp_path):
    tenants = registry({"acme": "basic", "hooli": "standard"})
    ops = ScriptedStackOperations(script={"acme-dev": [Failure.TRANSIENT, None]})
    _, _, report = _run(tmp_path, tenants, ops, concurrency=2)
    for record in report.records:
        path = tmp_path / f"{record.stack_name}.log"
        assert record.outcome.log_path == str(path)
        text = path.read_text()
        for attempt in range(1, record.attempts + 1):
            assert f"{record.stack_name} attempt {attempt} line 0\n{record.stack_name} attempt {attempt} line 1\n" in text
    assert "attempt 2 line 1" in (tmp_path / "acme-dev.log").read_text()
    assert "attempt 2" not in (tmp_path / "hooli-dev.log").read_text()
