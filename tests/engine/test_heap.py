"""Collector settings around offline program runs."""

from __future__ import annotations

import gc

import pytest

from platformctl.engine import heap


def test_a_run_spaces_young_collections_and_gives_the_callers_thresholds_back() -> None:
    before = gc.get_threshold()
    with heap.program_run(12345):
        assert gc.get_threshold() == (12345, *before[1:])
    assert gc.get_threshold() == before


def test_thresholds_come_back_when_the_program_fails() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), heap.program_run(12345):
        raise RuntimeError("program failed")
    assert gc.get_threshold() == before


def test_only_the_first_run_of_a_process_collects_and_freezes(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(heap, "_SETTLED", [])
    monkeypatch.setattr(heap.gc, "collect", lambda: calls.append("collect"))
    monkeypatch.setattr(heap.gc, "freeze", lambda: calls.append("freeze"))
    for _ in range(3):
        with heap.program_run(700):
            pass
    assert calls == ["collect", "freeze"]
