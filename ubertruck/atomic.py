"""Atomic file writes: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import UserError


def write_text_atomic(path: Path, text: str, exclusive: bool = False) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename.

    With ``exclusive`` the write fails (``UserError``) if ``path`` already exists, checked at the
    moment of the rename by linking rather than replacing.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        # mkstemp creates 0600; registry files and reports are meant to be read by others.
        os.chmod(tmp, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise UserError(str(path), "already exists; edit it instead") from None
        else:
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
