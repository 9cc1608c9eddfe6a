"""The packaged fallback config: ``fallback.json`` at the root of the function's code.

The infrastructure generates it from the same merged config it writes to SSM:

    {"version": "fallback",
     "global": {"security": {...}, "compliance": {...}, "operational": {...}},
     "service_config": {"business": {...}, "technical": {...}, "integration": {...}},
     "observability": {"technical": {"metrics": {...}}, ...}}      # optional, see below

``observability`` carries the metrics namespace, so that the ``ConfigurationError`` metric can
still be emitted under the configured namespace while SSM is unreachable. Other keys (the
generator also writes ``service``, ``environment``, ``tenant_id``) are ignored.

The file sits next to the service package (``LAMBDA_TASK_ROOT`` in Lambda), so it is found from
the package's parent directory:

>>> doc = FallbackDocument.from_mapping({"version": "fallback", "global": {}, "service_config": {}})
>>> doc.version, doc.observability
('fallback', None)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

FALLBACK_FILE_NAME = "fallback.json"


class FallbackUnavailable(Exception):
    """There is no usable fallback document."""


@dataclass(frozen=True)
class FallbackDocument:
    """The parsed fallback document. Values are validated later, by the tree that uses them."""

    version: str
    global_config: Mapping[str, Any]
    service_config: Mapping[str, Any]
    observability: Mapping[str, Any] | None

    @classmethod
    def from_mapping(cls, data: Any) -> FallbackDocument:
        """Check the document's shape; the values are checked by the config schemas."""
        if not isinstance(data, Mapping):
            raise FallbackUnavailable("fallback document: expected a JSON object at the root")
        for key in ("global", "service_config"):
            if not isinstance(data.get(key), Mapping):
                raise FallbackUnavailable(f"fallback document: {key}: expected an object")
        version = data.get("version")
        if not isinstance(version, str) or not version:
            raise FallbackUnavailable("fallback document: version: expected a non-empty string")
        observability = data.get("observability")
        if observability is not None and not isinstance(observability, Mapping):
            raise FallbackUnavailable("fallback document: observability: expected an object")
        return cls(version=version, global_config=data["global"], service_config=data["service_config"], observability=observability)

    @classmethod
    def load(cls, path: Path) -> FallbackDocument:
        """Read and check ``path``; ``FallbackUnavailable`` when it is missing or malformed."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise FallbackUnavailable(f"{path}: {exc.strerror or exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FallbackUnavailable(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
        return cls.from_mapping(data)


def fallback_path(code_root: Path) -> Path:
    """Where the fallback document of code rooted at ``code_root`` lives."""
    return code_root / FALLBACK_FILE_NAME
