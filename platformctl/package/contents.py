"""What goes into each zip: a service package, or the layer (common library plus wheels).

A function zip holds ``<service>/...`` at its root, as Lambda's code root (``/var/task``) needs
for the handler ``<service>.<module>.lambda_handler``. The layer holds ``python/<common>/...``
and every wheel installed under ``python/`` (Lambda puts ``/opt/python`` on ``sys.path``).
Installing a wheel here means unpacking it: its ``.data/purelib`` and ``.data/platlib`` go to
the root like the rest; scripts, headers and data files have no use in a layer and are left out.
"""

from __future__ import annotations

import zipfile
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Iterable

from .files import file_sha256
from .sources import package_files
from .wheelhouse import Wheel
from .zipwriter import Entry

#: Where a Python layer's importable code lives inside its zip.
LAYER_PREFIX = "python"
#: The parts of a wheel's ``<name>.data/`` folder that are importable code.
_LIBRARY_SCHEMES = ("purelib", "platlib")


def tree_entries(source: Path, prefix: str, exclude: tuple[str, ...]) -> tuple[list[Entry], list[tuple[str, str]]]:
    """Zip entries for every shipped file under ``source`` (named ``<prefix>/<relative path>``),
    and ``(name, sha256)`` pairs for the input key."""
    entries: list[Entry] = []
    parts: list[tuple[str, str]] = []
    for path in package_files(source, exclude):
        name = f"{prefix}/{path.relative_to(source).as_posix()}"
        entries.append((name, path.read_bytes))
        parts.append((name, file_sha256(path)))
    return entries, parts


def _installed_name(member: str) -> str | None:
    """Where a wheel member lands in site-packages terms, or None if it is not installed code."""
    head, _, rest = member.partition("/")
    if head.endswith(".data"):
        scheme, _, inner = rest.partition("/")
        return inner if scheme in _LIBRARY_SCHEMES and inner else None
    return member


def wheel_entries(wheels: Iterable[Wheel], stack: ExitStack) -> list[Entry]:
    """Layer entries for every installed file of ``wheels`` (kept open on ``stack`` while written)."""
    entries: list[Entry] = []
    for wheel in wheels:
        archive = stack.enter_context(zipfile.ZipFile(wheel.path))
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = _installed_name(info.filename)
            if name is not None:
                entries.append((f"{LAYER_PREFIX}/{name}", partial(archive.read, info)))
    return entries


def wheel_parts(wheels: Iterable[Wheel]) -> list[tuple[str, str]]:
    """``(file, sha256)`` pairs of the wheels, for the layer's input key."""
    return [(wheel.path.name, wheel.sha256) for wheel in wheels]
