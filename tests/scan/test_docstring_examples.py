"""The short examples in the scanner's docstrings run and show what they claim."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "platformctl.scan",
    "platformctl.scan.engine",
    "platformctl.scan.files",
    "platformctl.scan.findings",
    "platformctl.scan.formats",
    "platformctl.scan.names",
    "platformctl.scan.prefilter",
    "platformctl.scan.python_checks",
    "platformctl.scan.ruleset",
    "platformctl.scan.sarif",
    "platformctl.scan.suppressions",
    "platformctl.scan.text_checks",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
