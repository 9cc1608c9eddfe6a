"""An append-only audit log of engine actions: one JSON object per line.

Each record says when, who (the operator's login), which tenant and stack, what was done and
how it ended. Lines are appended with ``O_APPEND`` and flushed to disk before the step they
record is taken as done, so a crash never loses a step that happened; nothing ever rewrites
the file.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from pathlib import Path
from typing import Any, Iterator


def operator() -> str:
    """Who runs this command, as the operating system knows them."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


class AuditLog:
    """Appends records to ``path``; readers see whole lines only."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, action: str, outcome: str, *, tenant: str = "", stack: str = "", **details: Any) -> dict[str, Any]:
        entry = {
            "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "operator": operator(),
            "action": action,
            "tenant": tenant,
            "stack": stack,
            "outcome": outcome,
            **details,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(entry, sort_keys=True) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        return entry

    def entries(self) -> Iterator[dict[str, Any]]:
        if not self.path.is_file():
            return
        with self.path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)
