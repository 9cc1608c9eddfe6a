"""Per-stack plan cache, keyed on the content of everything that can change a stack's plan.

A stack's key hashes the program's sources (the domain core, components, the program, the
operator package, the functions and the policy packs), ``defaults.yaml``, ``Pulumi.yaml`` and the stack's own file,
its registry file, the shared outputs it reads, and the installed SDK versions. Re-planning a
1,000-tenant registry after one file changed re-runs just that tenant's stacks.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ubertruck import PROJECT_ROOT
from ubertruck.atomic import write_text_atomic

CACHE_DIR = PROJECT_ROOT / ".plan-cache"
#: Folders and files whose content is the program; a change to any of them invalidates every entry.
SOURCE_ROOTS = ("__main__.py", "ubertruck", "components", "platformctl", "functions", "policies", "defaults.yaml", "Pulumi.yaml")
_PACKAGES = ("pulumi", "pulumi_aws", "pulumi_policy")


def _hash_tree(root: Path, digest: "hashlib._Hash") -> None:
    paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in paths:
        if path.suffix in {".pyc"}:
            continue
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
        digest.update(path.read_bytes())


def sources_digest(project_root: Path = PROJECT_ROOT) -> str:
    """One digest of the program's sources and the SDK versions."""
    digest = hashlib.sha256()
    for name in SOURCE_ROOTS:
        path = project_root / name
        if path.exists():
            _hash_tree(path, digest)
    for package in _PACKAGES:
        digest.update(f"{package}=={importlib.metadata.version(package)}".encode())
    return digest.hexdigest()


def stack_key(sources: str, stack: str, inputs: list[bytes], shared_outputs: Any) -> str:
    """The cache key of one stack."""
    digest = hashlib.sha256()
    digest.update(sources.encode())
    digest.update(stack.encode())
    for blob in inputs:
        digest.update(hashlib.sha256(blob).digest())
    digest.update(json.dumps(shared_outputs, sort_keys=True, default=str).encode())
    return digest.hexdigest()


@dataclass
class PlanCache:
    """Summary and resources of planned stacks, stored as two files per key."""

    directory: Path = CACHE_DIR

    def _path(self, key: str, part: str) -> Path:
        return self.directory / key[:2] / f"{key}.{part}.json"

    def get_summary(self, key: str) -> dict[str, Any] | None:
        try:
            return json.loads(self._path(key, "summary").read_text())
        except (OSError, ValueError):
            return None

    def get_resources(self, key: str) -> list[dict[str, Any]] | None:
        try:
            return json.loads(self._path(key, "resources").read_text())
        except (OSError, ValueError):
            return None

    def get_outputs(self, key: str) -> dict[str, Any] | None:
        """A shared stack's outputs alone (see ``Planner``: what tenant stacks read of it)."""
        try:
            found = json.loads(self._path(key, "outputs").read_text())
        except (OSError, ValueError):
            return None
        return found if isinstance(found, dict) else None

    def put_outputs(self, key: str, outputs: dict[str, Any]) -> None:
        write_text_atomic(self._path(key, "outputs"), json.dumps(outputs, separators=(",", ":")))

    def put(self, key: str, summary: dict[str, Any], resources: list[dict[str, Any]]) -> None:
        # Resources first: a summary on disk promises its resources are there too.
        write_text_atomic(self._path(key, "resources"), json.dumps(resources, separators=(",", ":")))
        write_text_atomic(self._path(key, "summary"), json.dumps(summary, separators=(",", ":")))
