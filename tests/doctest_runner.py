"""Runs the docstring examples of the platform's packages and of the functions, and prints the
outcome per module as JSON: ``python -m tests.doctest_runner``.

It runs in a process of its own (``tests/test_doctests.py`` starts it), so importing every
function module and the state a few examples leave (Powertools' metric buffer) never reach
other tests. The function modules are imported the way the platform imports them
(``ubertruck.contracts``): the shared library as ``common.…``, a service as
``functions.<service>.…``, so ``functions/`` is never put on ``sys.path``.
"""

from __future__ import annotations

import doctest
import importlib
import io
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The packages whose docstring examples must run (everything that ships).
PACKAGES = ("ubertruck", "platformctl", "components", "policies", "functions")
EXAMPLE = ">>>"


def module_name(path: Path) -> str:
    """``functions/common/money.py`` -> ``common.money``; ``ubertruck/registry/__init__.py`` -> ``ubertruck.registry``."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    if parts[:2] == ["functions", "common"]:
        parts = parts[1:]
    return ".".join(parts)


def modules_with_examples() -> list[str]:
    """Every module of :data:`PACKAGES` whose source holds a ``>>>`` example, sorted."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "__pycache__" not in path.parts and EXAMPLE in path.read_text(encoding="utf-8"):
                found.append(module_name(path))
    return sorted(found)


def run(name: str) -> dict[str, object]:
    """Import ``name`` and run its examples; what ran, what failed, and the failure report."""
    try:
        module = importlib.import_module(name)
    except Exception as exc:  # reported, not raised: one broken module must not hide the others
        return {"attempted": 0, "failed": 1, "report": f"import failed: {type(exc).__name__}: {exc}"}
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in doctest.DocTestFinder().find(module):
        runner.run(test, out=out.write)
    result = runner.summarize(verbose=False)
    return {"attempted": result.attempted, "failed": result.failed, "report": out.getvalue()}


def main() -> int:
    sys.path.insert(0, str(ROOT))
    import ubertruck.contracts  # noqa: F401  registers ``common`` and the ``functions`` namespace package

    results = {name: run(name) for name in modules_with_examples()}
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
