"""Helpers for the scanner tests: fixture trees are written into tmp_path, never committed."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from platformctl.scan import ScanReport, scan

Found = list[tuple[str, int, str]]


def write(root: Path, relative: str, text: str) -> Path:
    """Write ``text`` (dedented) to ``root/relative``."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def found(report: ScanReport) -> Found:
    """``(path, line, rule)`` of each active finding."""
    return [(f.path, f.line, f.rule_id) for f in report.findings]


@pytest.fixture
def scan_source(tmp_path: Path) -> Callable[..., Found]:
    """Scan one file with the given name and source; return its findings."""

    def run(source: str, name: str = "module.py") -> Found:
        write(tmp_path, name, source)
        return found(scan([tmp_path], jobs=1))

    return run
