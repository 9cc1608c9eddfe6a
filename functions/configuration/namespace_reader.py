"""Reads any part of one tenant's config namespace, with SecureString values redacted.

SecureString parameters are read without decryption, so their plaintext never reaches this
function at all; the API returns them as ``{"value": null, "redacted": true}`` with their SSM
version, so a client can still see that (and when) a secret entry changed. Everything else is
returned as the JSON it holds.

Paths are relative to the tenant root (``/<tenant>``) and may name a single entry or any prefix
of the hierarchy. Only letters, digits, ``_ . -`` and ``/`` between segments are accepted; the
root is always the function's own tenant, so no path can leave it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from common.config_client import config_version
from common.errors import BadRequest, FieldError, NotFound
from common.ssm_provider import DescribedSSMProvider, ParameterRecord

_SEGMENT = re.compile(r"^[A-Za-z0-9_.-]+$")
_NOT_FOUND = "ParameterNotFound"


@dataclass(frozen=True)
class ConfigEntry:
    """One parameter as the API shows it."""

    name: str
    value: Any
    secure: bool
    parameter_version: int

    def as_dict(self) -> dict[str, Any]:
        entry = {"name": self.name, "value": self.value, "secure": self.secure, "parameter_version": self.parameter_version}
        if self.secure:
            entry["redacted"] = True
        return entry


@dataclass(frozen=True)
class ConfigListing:
    """The entries under one path, and a version (digest) of what was returned."""

    path: str
    entries: list[ConfigEntry]

    @property
    def version(self) -> str:
        return config_version({entry.name: [entry.value, entry.parameter_version] for entry in self.entries})

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "version": self.version, "entries": [entry.as_dict() for entry in self.entries]}


def checked_path(path: str) -> str:
    """``path`` without surrounding slashes; ``BadRequest`` when a segment is not allowed."""
    segments = path.strip("/").split("/")
    if not path.strip("/") or any(not _SEGMENT.match(s) or s in {".", ".."} for s in segments):
        raise BadRequest("invalid request", [FieldError("path", "segments of letters, digits, '_', '.' or '-', separated by '/'", "string_pattern_mismatch")])
    return "/".join(segments)


class NamespaceReader:
    """Reads entries under a tenant root through its own (never-decrypting) Powertools provider."""

    def __init__(self, provider: DescribedSSMProvider, tenant_root: str) -> None:
        # This provider must not be shared with a decrypting reader: Powertools' cache key does
        # not include the decrypt flag, so a shared cache could hand back decrypted values.
        self._provider = provider
        self._root = tenant_root.rstrip("/")

    def read(self, path: str, max_age: int) -> ConfigListing:
        """The entries at or under ``path``; ``NotFound`` when there are none."""
        relative = checked_path(path)
        absolute = f"{self._root}/{relative}"
        records: dict[str, ParameterRecord] = self._provider.get_multiple(absolute, max_age=max_age, recursive=True, decrypt=False)
        if records:
            entries = [_entry(f"{relative}/{name}", record) for name, record in sorted(records.items())]
            return ConfigListing(path=relative, entries=entries)
        try:
            record: ParameterRecord = self._provider.get(absolute, max_age=max_age, decrypt=False)
        except GetParameterError as exc:
            cause = exc.__context__
            if isinstance(cause, ClientError) and cause.response["Error"]["Code"] == _NOT_FOUND:
                raise NotFound("no config at this path") from None
            raise
        return ConfigListing(path=relative, entries=[_entry(relative, record)])


def _entry(name: str, record: ParameterRecord) -> ConfigEntry:
    if record.secure:
        return ConfigEntry(name=name, value=None, secure=True, parameter_version=record.version)
    try:
        value: Any = json.loads(record.value)
    except ValueError:
        value = record.value  # written as plain text: shown as such
    return ConfigEntry(name=name, value=value, secure=False, parameter_version=record.version)
