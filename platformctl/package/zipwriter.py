"""Deterministic zips: the same entries always give the same bytes.

Entries are written in sorted order, each with the configured timestamp and permissions and one
compression level, and nothing of the machine (owner, time, order on disk) gets in. That is what
lets an artifact be named by its content and an unchanged function keep its archive hash.
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from typing import IO, Callable, Iterable

from .options import ZipSettings

#: Zip "made by" system 3 (Unix): unzip tools and Lambda then honour the permission bits.
_UNIX = 3

#: An entry: its name in the zip and a callable giving its bytes (read only when written).
Entry = tuple[str, Callable[[], bytes]]


@dataclass(frozen=True)
class ZipStats:
    """What a written zip holds: entry count and the bytes it unpacks to."""

    entries: int
    unzipped_bytes: int


def write_zip(handle: IO[bytes], entries: Iterable[Entry], settings: ZipSettings) -> ZipStats:
    """Write ``entries`` to ``handle`` in name order; a name given twice is a bug and refused."""
    ordered = sorted(entries, key=lambda entry: entry[0])
    names = [name for name, _ in ordered]
    if len(set(names)) != len(names):
        duplicates = sorted({name for name in names if names.count(name) > 1})
        raise ValueError(f"zip entries given twice: {duplicates[:5]}")
    unzipped = 0
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=settings.compression_level) as archive:
        for name, read in ordered:
            info = zipfile.ZipInfo(name, date_time=settings.timestamp)
            info.create_system = _UNIX
            info.external_attr = (stat.S_IFREG | settings.file_mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = read()
            unzipped += len(data)
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=settings.compression_level)
    return ZipStats(entries=len(ordered), unzipped_bytes=unzipped)
