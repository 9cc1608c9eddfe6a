"""Which files a scan reads, and as what.

Inside a git work tree the files are the ones git lists (tracked, plus untracked files that are
not ignored), so whatever ``.gitignore`` excludes is skipped. Elsewhere the tree is walked. Either
way the folders in :data:`SKIPPED_DIRS` and symbolic links are skipped. A file is read as Python
(``.py``, ``.pyi``, or a ``python`` shebang), as text (its name matches a ``text_files`` glob, or a
shell shebang), or not at all. A file named on the command line is read even when it is ignored
or matches no glob; binary files are always skipped.

>>> classify("components/api.py", b""), classify("tenants/acme.yaml", b"", ("*.yaml",))
('python', 'text')
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, Optional

from ubertruck.errors import UserError

FileKind = Literal["python", "text"]

SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "__pycache__", "node_modules", ".mypy_cache", ".pytest_cache",
     ".ruff_cache", ".tox", ".nox", ".hypothesis", ".eggs"}
)
_PYTHON_SUFFIXES = (".py", ".pyi")
_SHELLS = (b"sh", b"bash", b"zsh", b"dash", b"ksh")
#: Bytes read to look for a shebang or a NUL byte.
SNIFF_BYTES = 8192


@dataclass(frozen=True)
class SourceFile:
    """A file to scan: where it is, how reports name it, what it is read as, and its size."""

    path: str
    display: str
    kind: FileKind
    size: int


def is_binary(head: bytes) -> bool:
    """A NUL byte in the first block marks a binary file, as it does for grep."""
    return b"\0" in head[:SNIFF_BYTES]


def _shebang_kind(head: bytes) -> Optional[FileKind]:
    if not head.startswith(b"#!"):
        return None
    words = head[2 : head.find(b"\n") if b"\n" in head else len(head)].replace(b"/", b" ").split()
    if any(w.startswith(b"python") for w in words):
        return "python"
    if any(w in _SHELLS for w in words):
        return "text"
    return None


@lru_cache(maxsize=8)
def _glob_matchers(text_globs: tuple[str, ...]) -> tuple[Optional[re.Pattern[str]], Optional[re.Pattern[str]]]:
    """One regex for the globs matched against a file's name, one for those (with a ``/``)
    matched against its whole path: one test per file instead of one per glob."""

    def joined(globs: list[str]) -> Optional[re.Pattern[str]]:
        return re.compile("|".join(fnmatch.translate(g) for g in globs)) if globs else None

    return joined([g for g in text_globs if "/" not in g]), joined([g for g in text_globs if "/" in g])


def classify(relative: str, head: bytes, text_globs: Sequence[str] = ()) -> Optional[FileKind]:
    """What ``relative`` (a posix path) is read as; ``head`` is its first bytes, for shebangs."""
    name = relative.rsplit("/", 1)[-1]
    if name.endswith(_PYTHON_SUFFIXES):
        return "python"
    by_name, by_path = _glob_matchers(tuple(text_globs))
    if (by_name is not None and by_name.match(name)) or (by_path is not None and by_path.match(relative)):
        return "text"
    if "." not in name:
        return _shebang_kind(head)
    return None


def _git_top_level(folder: Path) -> Optional[Path]:
    """The nearest folder at or above ``folder`` holding ``.git`` (a folder, or a file in a
    worktree or submodule); None outside git. Looked up on disk: no process is started."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def find_root(first: Path) -> Path:
    """The scanned repository's root: the git top level, else the folder scanned."""
    folder = (first if first.is_dir() else first.parent).resolve()
    return _git_top_level(folder) or folder


def _git_listing(folder: Path) -> Optional[list[str]]:
    """Files under ``folder`` that git does not ignore, relative to it; None outside git."""
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            check=False,
        )
    except OSError:
        return None
    if done.returncode != 0:
        return None
    return [name for name in done.stdout.decode("utf-8", "surrogateescape").split("\0") if name]


def _walk(folder: Path) -> Iterator[str]:
    for current, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        base = os.path.relpath(current, folder)
        for name in names:
            yield name if base == "." else f"{base}/{name}".replace(os.sep, "/")


def _display(path: str, root: str) -> str:
    relative = os.path.relpath(path, root)
    if relative.startswith(".." + os.sep) or relative == "..":
        return Path(path).as_posix()
    return Path(relative).as_posix()


def _head(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(SNIFF_BYTES)


def discover(paths: Sequence[Path], root: Path, text_globs: Sequence[str]) -> list[SourceFile]:
    """The files under ``paths`` to scan, each once, in a stable order."""
    found: dict[str, SourceFile] = {}
    top = str(root)
    for given in paths:
        if not given.exists():
            raise UserError(str(given), "no such file or folder; expected paths to scan")
        resolved = given.resolve()
        if resolved.is_file():
            head = _head(str(resolved))
            if not is_binary(head):
                kind = classify(resolved.name, head, text_globs) or "text"
                found.setdefault(
                    str(resolved), SourceFile(str(resolved), _display(str(resolved), top), kind, resolved.stat().st_size)
                )
            continue
        folder = str(resolved)
        listing = _git_listing(resolved) if _git_top_level(resolved) else None
        prefix = _display(folder, top)
        for relative in listing if listing is not None else _walk(resolved):
            if SKIPPED_DIRS.intersection(relative.split("/")[:-1]):
                continue
            path = os.path.join(folder, relative)
            if path in found:
                continue
            try:
                status = os.lstat(path)
            except OSError:
                continue
            if not stat.S_ISREG(status.st_mode):
                continue  # symbolic links, folders of submodules, deleted files still in the index
            display = relative if prefix == "." else f"{prefix}/{relative}"
            name = relative.rsplit("/", 1)[-1]
            listed_kind = classify(display, _head(path) if "." not in name else b"", text_globs)
            if listed_kind is not None:
                found[path] = SourceFile(path, display, listed_kind, status.st_size)
    return sorted(found.values(), key=lambda f: f.display)
