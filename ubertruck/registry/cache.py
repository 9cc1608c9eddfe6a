"""Validated registry files, remembered by content.

Parsing and checking a registry file (YAML, the pasted-secret heuristics, the model) costs about
a millisecond; a thousand-tenant registry re-planned after one change would spend a second on
files that did not change. This cache keeps every file that passed the full check as the
model's JSON, under a key that hashes the file's name and bytes and the code and defaults that
checked it, so a hit is exactly the tenant a full check would produce. Files that fail are never
cached: their errors are found again on every load.

The cache is one JSON file (no pickles: a cache directory restored by CI must never be able to
run code), rewritten only when an entry was added; entries of deleted files go at that point.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from .. import PROJECT_ROOT
from ..atomic import write_text_atomic
from .model import Tenant

CACHE_FILE = "registry.json"
#: What decides whether a file passes and what it loads to: the loader, the model, the YAML
#: reader, the defaults the validators read, the merge and the services' config schemas the
#: config is checked against (with the function code they import), and the libraries underneath.
CODE = (
    "ubertruck/registry", "ubertruck/safe_yaml.py", "ubertruck/defaults.py", "defaults.yaml",
    "ubertruck/settings.py", "ubertruck/contracts.py", "functions",
)
_PACKAGES = ("pydantic", "pydantic_core", "PyYAML")


@lru_cache(maxsize=1)
def code_digest(root: Path = PROJECT_ROOT) -> str:
    digest = hashlib.sha256()
    for name in CODE:
        path = root / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    for package in _PACKAGES:
        digest.update(f"{package}=={importlib.metadata.version(package)}".encode())
    return digest.hexdigest()


class RegistryCache:
    """``get``/``put`` validated tenants by file and content; ``save`` once per load."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / CACHE_FILE
        self._entries = self._read()
        self._dirty = False

    def _read(self) -> dict[str, tuple[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        entries = data.get("entries") if isinstance(data, dict) else None
        if not isinstance(entries, dict):
            return {}
        return {
            path: (entry[0], entry[1])
            for path, entry in entries.items()
            if isinstance(entry, list) and len(entry) == 2 and all(isinstance(part, str) for part in entry)
        }

    @staticmethod
    def key(file: Path, content: bytes) -> str:
        digest = hashlib.sha256(code_digest().encode())
        # The file name is the tenant id the file must declare.
        digest.update(file.name.encode())
        digest.update(b"\0")
        digest.update(content)
        return digest.hexdigest()

    def get(self, file: Path, content: bytes) -> Tenant | None:
        entry = self._entries.get(str(file.resolve()))
        if entry is None or entry[0] != self.key(file, content):
            return None
        try:
            return Tenant.model_validate_json(entry[1])
        except ValidationError:
            # Not what this code writes (edited by hand, or damaged): check the file instead.
            return None

    def put(self, file: Path, content: bytes, tenant: Tenant) -> None:
        text = tenant.model_dump_json(by_alias=True)
        # Only what reads back as the very same tenant is worth keeping.
        if Tenant.model_validate_json(text) != tenant:
            return
        self._entries[str(file.resolve())] = (self.key(file, content), text)
        self._dirty = True

    def save(self) -> None:
        """Write the cache if an entry was added; entries of files that are gone are dropped."""
        if not self._dirty:
            return
        kept = {path: list(entry) for path, entry in self._entries.items() if Path(path).is_file()}
        write_text_atomic(self.path, json.dumps({"entries": kept}, separators=(",", ":")))
        self._dirty = False


__all__ = ["CACHE_FILE", "RegistryCache", "code_digest"]
