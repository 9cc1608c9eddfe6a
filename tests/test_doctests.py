"""Every docstring example in the shipped packages runs and passes (no ``+SKIP``: an example that
cannot run cheaply and deterministically is not written as one)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pytest

from tests.doctest_runner import PACKAGES, ROOT, modules_with_examples

MODULES = modules_with_examples()
SKIP_DIRECTIVE = re.compile(r"doctest:\s*\+SKIP")

pytestmark = pytest.mark.xdist_group(name="doctests")


@pytest.fixture(scope="module")
def outcomes() -> dict[str, dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.doctest_runner"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_examples_are_found() -> None:
    assert "ubertruck.contracts" in MODULES and "common.money" in MODULES


@pytest.mark.parametrize("module", MODULES)
def test_examples_pass(outcomes: dict[str, dict[str, Any]], module: str) -> None:
    outcome = outcomes[module]
    assert outcome["failed"] == 0, outcome["report"]
    assert outcome["attempted"] > 0, f"{module} holds '>>>' but no example of it ran"


def test_no_example_is_skipped() -> None:
    marked = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if SKIP_DIRECTIVE.search(line)
    ]
    assert marked == []
