"""Reads any part of one tenant's config namespace, with SecureString values redacted.

SecureString parameters are read without decryption, so their plaintext never reaches this
function at all; the API returns them as ``{"value": null, "redacted": true}`` with their SSM
version, so a client can still see that (and when) a secret entry changed. Everything else is
returned as the JSON it holds.

Paths are relative to the tenant root (``/<tenant>``) and may name a single entry or any prefix
of the hierarchy. Only letters, digits, ``_ . -`` and ``/`` between segments are accepted, within
SSM's own bounds (a name of at most 2,048 characters and 15 levels, the tenant root included);
the root is always the function's own tenant, so no path can leave it.

While the parameter store is unreachable, ``FallbackListing`` answers from the function's
packaged fallback document, for the trees it holds whole (see there).
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from common.bounds import SSM_HIERARCHY_MAX_LEVELS, SSM_PARAMETER_NAME_MAX_CHARS, SSM_SEGMENT_PATTERN
from common.config_client import SOURCE_FALLBACK, SOURCE_SSM, config_version
from common.environment import FunctionEnvironment
from common.errors import BadRequest, FieldError, NotFound
from common.fallback import FallbackDocument
from common.ssm_provider import DescribedSSMProvider, ParameterRecord

from .views import ConfigEntryView, ConfigListingView

_SEGMENT = re.compile(SSM_SEGMENT_PATTERN)
_NOT_FOUND = "ParameterNotFound"
_PATH_FIELD = "path"
#: Where the fallback document keeps the trees it holds whole, and the namespace of each.
_GLOBAL_ROOT = "global"


@dataclass(frozen=True)
class ConfigEntry:
    """One parameter as the API shows it (``parameter_version`` is None for a fallback value)."""

    name: str
    value: Any
    secure: bool
    parameter_version: int | None

    def view(self) -> ConfigEntryView:
        return ConfigEntryView(name=self.name, value=self.value, secure=self.secure, redacted=self.secure, parameter_version=self.parameter_version)


@dataclass(frozen=True)
class ConfigListing:
    """The entries under one path, a version (digest) of what was returned, and its source."""

    path: str
    entries: list[ConfigEntry]
    source: str = SOURCE_SSM

    @property
    def version(self) -> str:
        return config_version({entry.name: [entry.value, entry.parameter_version] for entry in self.entries})

    def as_dict(self) -> dict[str, Any]:
        view = ConfigListingView(path=self.path, version=self.version, source=self.source, entries=[entry.view() for entry in self.entries])  # type: ignore[arg-type]
        return view.model_dump(mode="json")


def checked_path(path: str, tenant_root: str) -> str:
    """``path`` without surrounding slashes; ``BadRequest`` naming each bound it breaks.

    The full SSM name (``tenant_root/path``) is at most 2,048 characters and 15 levels deep; each
    segment is letters, digits, ``_ . -`` (never ``.`` or ``..``).
    """
    relative = path.strip("/")
    problems: list[FieldError] = []
    name_length = len(tenant_root.rstrip("/")) + 1 + len(relative)
    if name_length > SSM_PARAMETER_NAME_MAX_CHARS:
        # Nothing else is looked at in a name SSM would refuse anyway.
        raise BadRequest("invalid request", [FieldError(_PATH_FIELD, f"must be at most {SSM_PARAMETER_NAME_MAX_CHARS} characters with the tenant root", "string_too_long")])
    segments = relative.split("/")
    levels = len([s for s in tenant_root.split("/") if s]) + len(segments)
    if levels > SSM_HIERARCHY_MAX_LEVELS:
        problems.append(FieldError(_PATH_FIELD, f"must be at most {SSM_HIERARCHY_MAX_LEVELS} levels deep with the tenant root", "too_deep"))
    if not relative or any(not _SEGMENT.match(s) or s in {".", ".."} for s in segments):
        problems.append(FieldError(_PATH_FIELD, "segments of letters, digits, '_', '.' or '-', separated by '/'", "string_pattern_mismatch"))
    if problems:
        raise BadRequest("invalid request", problems)
    return "/".join(segments)


class NamespaceReader:
    """Reads entries under a tenant root through its own (never-decrypting) Powertools provider."""

    def __init__(self, provider: DescribedSSMProvider, tenant_root: str) -> None:
        # This provider must not be shared with a decrypting reader: Powertools' cache key does
        # not include the decrypt flag, so a shared cache could hand back decrypted values.
        self._provider = provider
        self._root = tenant_root.rstrip("/")

    @property
    def root(self) -> str:
        return self._root

    def read(self, relative: str, max_age: int) -> ConfigListing:
        """The entries at or under ``relative`` (a ``checked_path``); ``NotFound`` when there are none."""
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


class FallbackListing:
    """The entries of the packaged fallback document, named as the parameter store names them.

    The document holds three trees whole: the tenant's global tree, the function's own service
    tree and the observability tree. A path inside one of them is answered from it; any other
    path (another service's tree, or a prefix spanning trees the document holds only in part)
    has no fallback answer. Entries whose name matches one of ``sensitive`` (globs) are redacted,
    as the parameter store keeps them as SecureStrings.
    """

    def __init__(self, document: FallbackDocument, env: FunctionEnvironment, observability_service: str) -> None:
        self._trees: dict[str, Mapping[str, Any]] = {
            _GLOBAL_ROOT: document.global_config,
            _service_root(env.service, env.environment): document.service_config,
        }
        if document.observability is not None:
            self._trees[_service_root(observability_service, env.environment)] = document.observability

    def listing(self, relative: str, sensitive: Sequence[str]) -> ConfigListing | None:
        """The fallback's entries at or under ``relative``; None when it cannot answer for that path."""
        for root, tree in self._trees.items():
            if relative == root or relative.startswith(f"{root}/"):
                entries = [
                    ConfigEntry(name=name, value=None if secure else value, secure=secure, parameter_version=None)
                    for name, value in sorted(_entries(root, tree))
                    if name == relative or name.startswith(f"{relative}/")
                    for secure in [any(fnmatch.fnmatchcase(name, pattern) for pattern in sensitive)]
                ]
                return ConfigListing(path=relative, entries=entries, source=SOURCE_FALLBACK) if entries else None
        return None


def _service_root(service: str, environment: str) -> str:
    return f"services/{service}/{environment}"


def _entries(root: str, tree: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """``(name, value)`` per parameter: one per entry of each section, as the infrastructure writes them."""
    for section, entries in tree.items():
        if isinstance(entries, Mapping):
            for name, value in entries.items():
                yield f"{root}/{section}/{name}", value


def _entry(name: str, record: ParameterRecord) -> ConfigEntry:
    if record.secure:
        return ConfigEntry(name=name, value=None, secure=True, parameter_version=record.version)
    try:
        value: Any = json.loads(record.value)
    except (ValueError, RecursionError):
        value = record.value  # written as plain text (or nested beyond what JSON decoding allows): shown as such
    return ConfigEntry(name=name, value=value, secure=False, parameter_version=record.version)
