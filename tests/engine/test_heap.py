"""Collector settings around offline program runs: in the plan's worker processes only."""

from __future__ import annotations

import gc
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest

from platformctl.engine import heap
from platformctl.engine.runner import run_stack
from ubertruck.defaults import load_defaults


@pytest.fixture(autouse=True)
def settling(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A process that has not run a program yet, whose collect and freeze are only recorded:
    these tests never freeze the test session's own heap."""
    calls: list[str] = []
    monkeypatch.setattr(heap, "_SETTLED", [])
    monkeypatch.setattr(heap.gc, "collect", lambda: calls.append("collect"))
    monkeypatch.setattr(heap.gc, "freeze", lambda: calls.append("freeze"))
    return calls


def test_a_tuned_run_spaces_young_collections_and_gives_the_callers_thresholds_back() -> None:
    before = gc.get_threshold()
    with heap.program_run(12345, tune=True):
        assert gc.get_threshold() == (12345, *before[1:])
    assert gc.get_threshold() == before


def test_thresholds_come_back_when_the_program_fails() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), heap.program_run(12345, tune=True):
        raise RuntimeError("program failed")
    assert gc.get_threshold() == before


def test_only_the_first_tuned_run_of_a_process_collects_and_freezes(settling: list[str]) -> None:
    for _ in range(3):
        with heap.program_run(700, tune=True):
            pass
    assert settling == ["collect", "freeze"]


def _collector_during_a_run() -> tuple[tuple[int, int, int], tuple[int, int, int], int, bool]:
    """Run a one-resource program through ``run_stack`` and report the collector: thresholds
    during and after the run, objects frozen after it, and whether this is a worker process."""
    import pulumi

    seen: list[tuple[int, int, int]] = []

    def program() -> None:
        seen.append(gc.get_threshold())
        pulumi.export("answer", 1)

    run_stack("acme-dev", "ubertruck", "123456789012", "ap-south-1", {}, "organization", program=program, config={})
    return seen[0], gc.get_threshold(), gc.get_freeze_count(), heap.in_worker_process()


def test_runs_in_the_calling_process_leave_the_collector_alone(settling: list[str]) -> None:
    # The CLI's own process, a test session, a benchmark: no tuning, no collect, nothing frozen.
    before = gc.get_threshold()
    during, after, _, worker = _collector_during_a_run()
    assert not worker
    assert during == before and after == before
    assert settling == []


def test_runs_in_a_plan_worker_process_are_tuned() -> None:
    # The planner's pool: spawned processes, as platformctl.engine.plan starts them.
    young = load_defaults().offline.gc_young_threshold
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        during, after, frozen_after, worker = pool.submit(_collector_during_a_run).result()
    assert worker
    assert during[0] == young and after[0] != young
    assert frozen_after > 0
