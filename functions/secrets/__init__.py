"""Secrets service: the Secrets Manager rotation function for the tenant's secrets.

Handler string: ``secrets.handler.lambda_handler``.

This package shares its name with the standard library's ``secrets`` module. Lambda puts the
code root (this package's parent) first on ``sys.path``, so inside the rotation function every
``import secrets`` (pydantic does one) finds this package instead. The package therefore also
provides the standard module's public API, loaded from the standard library by file path, so
both meanings of ``import secrets`` keep working.

>>> import secrets
>>> len(secrets.token_hex(8))
16
"""

from __future__ import annotations

import importlib.util
import sysconfig
from pathlib import Path

_STDLIB_FILE = Path(sysconfig.get_paths()["stdlib"]) / "secrets.py"
_spec = importlib.util.spec_from_file_location("_stdlib_secrets", _STDLIB_FILE)
if _spec is None or _spec.loader is None:  # pragma: no cover - a Python without its stdlib
    raise ImportError(f"standard library module not found at {_STDLIB_FILE}")
_stdlib = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_stdlib)

__all__ = list(_stdlib.__all__)
globals().update({name: getattr(_stdlib, name) for name in [*__all__, "DEFAULT_ENTROPY"]})
