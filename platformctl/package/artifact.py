"""One content-addressed artifact: built once per set of inputs, named by its bytes.

An artifact's *input key* hashes everything it is made of (file contents, wheel hashes, zip
settings). ``<output>/.records/<key>.json`` remembers what that key produced, so unchanged
inputs cost a few ``stat`` calls and no zip is written again. A new zip is staged beside its
final place, hashed, and renamed to ``<folder>/<name>-<sha256 prefix>.zip``: the name carries
the content, and a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from contextlib import ExitStack
from typing import Callable, Iterable

from ubertruck.atomic import write_text_atomic

from .files import file_sha256, install, staged_file
from .options import PackageOptions
from .zipwriter import Entry, write_zip

RECORDS_DIR = ".records"


@dataclass(frozen=True)
class Built:
    """A finished artifact; ``artifact`` is relative to the output folder."""

    artifact: str
    sha256: str
    size: int
    unzipped_size: int


def input_key(kind: str, parts: Iterable[tuple[str, str]], options: PackageOptions) -> str:
    """The hash of an artifact's inputs: its kind, the zip settings and ``(name, sha256)`` pairs."""
    digest = hashlib.sha256(kind.encode())
    digest.update(repr(options.zip).encode())
    for name, sha in parts:
        digest.update(b"\0" + name.encode() + b"\0" + sha.encode())
    return digest.hexdigest()


def _recorded(options: PackageOptions, key: str) -> Built | None:
    record = options.output_dir / RECORDS_DIR / f"{key}.json"
    if not record.is_file():
        return None
    built = Built(**json.loads(record.read_text(encoding="utf-8")))
    path = options.output_dir / built.artifact
    # A record whose artifact went missing (or was cut short) is rebuilt, not trusted.
    return built if path.is_file() and path.stat().st_size == built.size else None


#: Gives an artifact's entries; files it opens go on the stack and close after the zip is written.
EntrySource = Callable[[ExitStack], Iterable[Entry]]


def produce(options: PackageOptions, folder: str, name: str, key: str, entries: EntrySource) -> tuple[Built, bool]:
    """The artifact for ``key``: the recorded one, else built now from ``entries``. Also says
    whether it was built (``entries`` is only called then)."""
    known = _recorded(options, key)
    if known is not None:
        return known, False
    scratch = options.output_dir / folder / f"{name}.zip"
    with staged_file(scratch) as (handle, temp), ExitStack() as stack:
        stats = write_zip(handle, entries(stack), options.zip)
        handle.flush()
        sha = file_sha256(temp)
        final = options.output_dir / folder / f"{name}-{sha[: options.hash_length]}.zip"
        install(temp, final, options.zip.file_mode)
    built = Built(final.relative_to(options.output_dir).as_posix(), sha, final.stat().st_size, stats.unzipped_bytes)
    write_text_atomic(options.output_dir / RECORDS_DIR / f"{key}.json", json.dumps(asdict(built), sort_keys=True))
    return built, True
