"""benchmarks/README.md: each script owns one ``## <heading>`` section and replaces only it."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"


def write_section(heading: str, body: str, readme: Path = README) -> None:
    """Replace (or append) the section ``## heading`` with ``body``, keeping every other section."""
    current = readme.read_text(encoding="utf-8") if readme.exists() else "# Benchmarks\n"
    section = f"## {heading}\n\n{body.rstrip()}\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _: section + "\n", current, count=1)
    else:
        updated = current.rstrip() + "\n\n" + section
    readme.write_text(updated.rstrip() + "\n", encoding="utf-8")
