"""Helpers shared by the registry and `tenants` CLI tests: documents, files, an in-process CLI."""

from __future__ import annotations

import contextlib
import copy
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from platformctl import cli

#: A complete, valid registry document; tests copy it and break one thing.
VALID_DOCUMENT: dict[str, Any] = {
    "id": "north-star",
    "display_name": "North Star Freight",
    "tier": "standard",
    "region": "ap-south-1",
    "contacts": [{"name": "North Star Ops", "email": "ops@north-star.example", "role": "owner"}],
    "environments": ["dev", "prod"],
    "compliance": {
        "data_retention_days": 365,
        "audit": {"enabled": True},
        "residency": {"allowed_regions": ["ap-south-1"]},
    },
    "config": {
        "global": {"operational": {"retry_policies": {"max_attempts": 4}}},
        "services": {"booking": {"business": {"pricing_models": {"currency": "INR", "base_fare_minor": 50000}}}},
        "environments": {"prod": {"services": {"booking": {"technical": {"scaling_policies": {"memory_mb": 1024}}}}}},
    },
    "secrets": {"payment_provider_api_key": {"secret_name": "north-star/payment/provider-api-key"}},
}


def valid_document(tenant_id: str = "north-star") -> dict[str, Any]:
    """A fresh deep copy of :data:`VALID_DOCUMENT` with ``tenant_id``."""
    document = copy.deepcopy(VALID_DOCUMENT)
    document["id"] = tenant_id
    return document


def write_yaml(path: Path, data: Any) -> Path:
    """Write ``data`` as block-style YAML to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden temporaries included) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("error: ")]


def run_cli(*argv: str) -> CliResult:
    """Run ``platformctl`` in this process, the way the console script does."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli.main(list(argv))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return CliResult(code, out.getvalue(), err.getvalue())


def validate_errors(*paths: Path, watch: Path) -> list[str]:
    """Run ``tenants validate`` on ``paths`` expecting bad input; return the ``error:`` lines.

    Asserts what every bad-input run must do: exit 2, no traceback, and write nothing under
    ``watch``.
    """
    before = snapshot(watch)
    result = run_cli("tenants", "validate", *map(str, paths))
    assert result.code == 2, result
    assert "Traceback" not in result.stderr + result.stdout
    assert result.error_lines, result.stderr
    assert snapshot(watch) == before
    return result.error_lines


def line_for(path: Path, field: str | None) -> str:
    """The start of the one-line message about ``field`` of ``path`` (or about the whole file)."""
    return f"error: {path}: {field}: " if field else f"error: {path}: "


def assert_reports(lines: list[str], path: Path, field: str | None, *words: str) -> str:
    """Exactly one line names ``path`` and ``field``, and it contains every one of ``words``."""
    prefix = line_for(path, field)
    # The prefix ends with ": ", so `id` does not also match `id.x`.
    matching = [line for line in lines if line.startswith(prefix)]
    assert len(matching) == 1, f"expected one line starting {prefix!r}, got {lines}"
    for word in words:
        assert word in matching[0], f"{word!r} not in {matching[0]!r}"
    return matching[0]
