"""File plumbing for the build: an inter-process lock, temporary files that become real by a
rename, and content hashes remembered per file version.

Stack programs run in parallel (plan workers, test workers, ``pulumi up`` of several stacks) and
may all ask for the artifacts at once. One build holds the folder's lock; every file a reader can
see arrives whole, by ``os.replace`` of a complete temporary file in the same folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

#: Chunk size for hashing large files (wheels, the layer zip).
_CHUNK = 1 << 20

#: (path, size, mtime_ns, inode) -> sha256: a file is hashed again only when it changed.
_digests: dict[tuple[str, int, int, int], str] = {}


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s build lock (``.lock`` inside it) until the block ends."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def staged_file(target: Path) -> Iterator[tuple[IO[bytes], Path]]:
    """A temporary file next to ``target``; the caller renames it into place or it is removed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "w+b") as handle:
            yield handle, temp
    finally:
        temp.unlink(missing_ok=True)


def install(temp: Path, target: Path, mode: int) -> None:
    """Make the complete file ``temp`` appear at ``target`` in one step."""
    os.chmod(temp, mode)
    os.replace(temp, target)


def file_sha256(path: Path) -> str:
    """The SHA-256 of ``path``'s bytes, remembered until the file changes."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    known = _digests.get(key)
    if known is None:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(chunk)
        known = _digests[key] = digest.hexdigest()
    return known
