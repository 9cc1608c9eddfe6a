"""Reading registry files: one clear line per problem, every file checked in full.

>>> from platformctl.registry import load_registry
>>> result = load_registry([Path("tenants")])     # doctest: +SKIP
>>> sorted(result.tenants)                         # doctest: +SKIP
['acme', 'globex', 'initech']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from pydantic import ValidationError

from .. import PROJECT_ROOT
from ..errors import UserError, UserErrors
from ..safe_yaml import load_file
from .model import Tenant
from .secrets import secret_shape

REGISTRY_DIR = PROJECT_ROOT / "tenants"
REGISTRY_SUFFIX = ".yaml"

_TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "date_type": "a date (YYYY-MM-DD)",
    "model_type": "a mapping",
}


def tenant_file(tenant_id: str, registry_dir: Path = REGISTRY_DIR) -> Path:
    """Where the registry file of ``tenant_id`` lives."""
    return registry_dir / f"{tenant_id}{REGISTRY_SUFFIX}"


def _dotted(loc: Iterable[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("function-after", "function-before")]
    return ".".join(p.replace("global_", "global") for p in parts) or "(root)"


def _describe(error: dict[str, Any]) -> str:
    kind = error["type"]
    given = type(error.get("input")).__name__
    if kind == "extra_forbidden":
        return "unknown field; remove it or check its spelling against the registry model"
    if kind == "missing":
        return "required field is missing"
    if kind in _TYPE_WORDS:
        return f"expected {_TYPE_WORDS[kind]}, got {given}"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _secret_errors(node: Any, path: list[str], where: str) -> list[UserError]:  # noqa: ANN401
    """Refuse strings anywhere in the document that look like secret values."""
    found: list[UserError] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _secret_errors(value, [*path, str(key)], where)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _secret_errors(value, [*path, str(index)], where)
    elif isinstance(node, str):
        shape = secret_shape(node)
        if shape:
            found.append(
                UserError(
                    f"{where}: {'.'.join(path)}",
                    f"looks like {shape}; the registry holds references only "
                    "(put the value in Secrets Manager and name it under secrets.<name>.secret_name)",
                )
            )
    return found


def parse_tenant(data: Any, where: str, expected_id: str | None = None) -> Tenant:  # noqa: ANN401
    """Validate one registry document. Raises ``UserErrors`` with one line per problem."""
    if data is None:
        raise UserError(where, "file is empty; expected a tenant mapping (run `platformctl tenants new ID`)")
    if not isinstance(data, dict):
        raise UserError(where, f"root is {type(data).__name__}; expected a mapping of tenant fields")
    errors = _secret_errors(data, [], where)
    tenant: Tenant | None = None
    try:
        tenant = Tenant.model_validate(data)
    except ValidationError as exc:
        errors += [UserError(f"{where}: {_dotted(e['loc'])}", _describe(e)) for e in exc.errors()]
    if tenant is not None and expected_id is not None and tenant.id != expected_id:
        errors.append(UserError(f"{where}: id", f"'{tenant.id}' does not match the file name; expected '{expected_id}'"))
    if errors:
        raise UserErrors(errors)
    assert tenant is not None
    return tenant


def load_tenant(path: Path) -> Tenant:
    """Load and validate one registry file; its id must match its file name."""
    return parse_tenant(load_file(path), str(path), expected_id=path.name.removesuffix(REGISTRY_SUFFIX))


def find_registry_files(paths: Iterable[Path]) -> list[Path]:
    """Expand files and folders into registry files, sorted, each once."""
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found.update(p for p in path.glob(f"*{REGISTRY_SUFFIX}") if p.is_file())
        elif path.is_file():
            found.add(path)
        else:
            raise UserError(str(path), "no such file or folder")
    return sorted(found)


@dataclass
class RegistryLoadResult:
    """Every tenant that loaded, and every problem found on the way."""

    tenants: dict[str, Tenant] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    errors: list[UserError] = field(default_factory=list)

    def raise_for_errors(self) -> None:
        if self.errors:
            raise UserErrors(self.errors)


def load_registry(paths: Iterable[Path] = (REGISTRY_DIR,)) -> RegistryLoadResult:
    """Load every registry file under ``paths``; collect all problems rather than stop at one."""
    result = RegistryLoadResult()
    for path in find_registry_files(paths):
        try:
            tenant = load_tenant(path)
        except UserErrors as exc:
            result.errors += exc.errors
            continue
        except UserError as exc:
            result.errors.append(exc)
            continue
        if tenant.id in result.tenants:
            result.errors.append(
                UserError(f"{path}: id", f"'{tenant.id}' is already used by {result.files[tenant.id]}; ids are unique")
            )
            continue
        result.tenants[tenant.id] = tenant
        result.files[tenant.id] = path
    return result
