"""The stand-in's durable "cloud": one JSON file per resource, shared by every provider process.

Create and Update write a resource's record, Delete removes it, Read (what ``pulumi refresh``
calls) returns what the record holds. Editing or deleting a record out of band is therefore drift
the engine sees on its next refresh, exactly as with a change made in the AWS console.

Many provider processes (one per stack, stacks in parallel) share one folder: every record is its
own file, written atomically, so no process ever reads half a record and none needs a lock.

Tests use the same API to look at the cloud and to tamper with it (``find``, ``edit``, ``remove``).
"""

from __future__ import annotations

import builtins
import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ubertruck.atomic import write_text_atomic
from ubertruck.errors import UserError

from .settings import store_dir

#: Sub-folder of the store holding the resource records (the store root also holds faults.json).
RESOURCES_DIR = "resources"
_KEY_CHARS = 24


@dataclass(frozen=True)
class StoredResource:
    """One resource as the local cloud holds it."""

    type: str
    id: str
    urn: str
    account: str
    region: str
    #: The inputs it was last created or updated with (what Read reports as its inputs).
    inputs: dict[str, Any] = field(default_factory=dict)
    #: Its full state: inputs plus what AWS computed (ARNs, ids, endpoints).
    outputs: dict[str, Any] = field(default_factory=dict)
    #: Set for resources whose id is not a name AWS keeps unique (their records are per URN).
    scope: str = ""

    @property
    def key(self) -> str:
        return record_key(self.account, self.region, self.type, self.id, self.scope)


class NameTaken(Exception):
    """Another resource (another URN) already holds this physical id in this account and region."""

    def __init__(self, holder: StoredResource) -> None:
        super().__init__(holder.urn)
        self.holder = holder


def record_key(account: str, region: str, type_: str, id_: str, scope: str = "") -> str:
    """The file stem of a record: readable service prefix plus a hash of its identity."""
    service = type_.split(":")[1].split("/")[0] if type_.count(":") >= 2 else "resource"
    digest = hashlib.sha256("\0".join([account, region, type_, id_, scope]).encode()).hexdigest()[:_KEY_CHARS]
    return f"{service}-{digest}"


class CloudStore:
    """The records under ``root/resources``. ``CloudStore.from_environment()`` finds the provider's own."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.resources = self.root / RESOURCES_DIR

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> CloudStore:
        return cls(store_dir(environ))

    def _path(self, key: str) -> Path:
        return self.resources / f"{key}.json"

    def get(self, account: str, region: str, type_: str, id_: str, scope: str = "") -> StoredResource | None:
        """The record of that resource, or ``None`` when the cloud has no such resource."""
        return self._load(self._path(record_key(account, region, type_, id_, scope)))

    def put(self, record: StoredResource) -> None:
        """Write ``record`` whole, replacing what was there."""
        write_text_atomic(self._path(record.key), _dump(record))

    def claim(self, record: StoredResource) -> None:
        """Write a new ``record``; raise :class:`NameTaken` if another URN holds its id already.

        The same URN may claim again: an engine that lost track of a create retries it.
        """
        path = self._path(record.key)
        existing = self._load(path)
        if existing is None:
            try:
                write_text_atomic(path, _dump(record), exclusive=True)
                return
            except UserError:
                # Another process won the race for this id between our look and our write.
                existing = self._load(path)
        if existing is not None and existing.urn != record.urn:
            raise NameTaken(existing)
        self.put(record)

    def remove(self, record: StoredResource) -> bool:
        """Delete ``record`` from the cloud; ``False`` if it was already gone."""
        path = self._path(record.key)
        existed = path.exists()
        path.unlink(missing_ok=True)
        return existed

    def list(self) -> list[StoredResource]:
        """Every resource in the cloud, in URN order."""
        if not self.resources.is_dir():
            return []
        records = (self._load(path) for path in self.resources.glob("*.json"))
        return sorted((r for r in records if r is not None), key=lambda r: (r.urn, r.id))

    def find(self, urn_contains: str = "", type_: str = "") -> builtins.list[StoredResource]:
        """Resources whose URN contains ``urn_contains`` and (if given) of type ``type_``."""
        return [r for r in self.list() if urn_contains in r.urn and (not type_ or r.type == type_)]

    def edit(self, record: StoredResource, changes: dict[str, Any]) -> StoredResource:
        """Change properties of a resource behind the engine's back (drift, as from the console).

        A change lands in the outputs and, for a property that is an input, in the inputs too;
        ``None`` removes the property.
        """
        inputs, outputs = dict(record.inputs), dict(record.outputs)
        for key, value in changes.items():
            targets = (outputs, inputs) if key in inputs else (outputs,)
            for target in targets:
                if value is None:
                    target.pop(key, None)
                else:
                    target[key] = value
        edited = replace(record, inputs=inputs, outputs=outputs)
        self.put(edited)
        return edited

    @staticmethod
    def _load(path: Path) -> StoredResource | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return StoredResource(**data)


def _dump(record: StoredResource) -> str:
    return json.dumps(asdict(record), indent=1, sort_keys=True)
