"""Reading registry files: one clear line per problem, every file checked in full.

A file is checked in two passes: its shape against the registry model (``model.py``), then,
when that passes, its config in every environment against the services' config schemas
(``contract.py``).

>>> from ubertruck.registry import load_registry
>>> result = load_registry([Path("tenants")])
>>> sorted(result.tenants)
['acme', 'globex', 'initech']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from .. import PROJECT_ROOT
from ..errors import UserError, UserErrors, type_mismatch
from ..safe_yaml import load_file
from ..defaults import load_defaults
from .cache import RegistryCache
from .contract import contract_errors
from .model import Tenant
from .secrets import secret_shape

REGISTRY_DIR = PROJECT_ROOT / "tenants"
REGISTRY_SUFFIX = ".yaml"



def tenant_file(tenant_id: str, registry_dir: Path = REGISTRY_DIR) -> Path:
    """Where the registry file of ``tenant_id`` lives."""
    return registry_dir / f"{tenant_id}{REGISTRY_SUFFIX}"


#: Python attribute names that the registry file spells differently (YAML ``global``).
_FIELD_SPELLING = {"global_": "global"}
#: Location parts pydantic adds for validators and for the branch of a JSON value it tried.
_VALIDATOR_PARTS = ("function-after", "function-before")
_JSON_BRANCH = {"dict": dict, "list": list}


def _walk(loc: tuple[Any, ...], node: Any) -> list[Any] | None:
    """``loc`` with pydantic's JSON-branch parts (``dict``, ``list``) dropped, found by walking
    the document itself, so a user key that happens to be called ``dict`` is kept.

    Returns None when ``loc`` does not fit the document (only its last part may be absent: a
    missing or unknown field).
    """
    if not loc:
        return []
    head, rest = loc[0], loc[1:]
    fits_key = isinstance(node, dict) and head in node
    fits_index = isinstance(node, list) and isinstance(head, int) and 0 <= head < len(node)
    if fits_key or fits_index:
        tail = _walk(rest, node[head])
        if tail is not None:
            return [head, *tail]
    branch = _JSON_BRANCH.get(head) if isinstance(head, str) else None
    if branch is not None and isinstance(node, branch):
        tail = _walk(rest, node)
        if tail is not None:
            return tail
    if not rest:
        return [head]
    return None


def _dotted(loc: Iterable[Any], document: Any = None) -> str:
    """A pydantic error location as the file's field path: ``config.global.security``."""
    parts = tuple(p for p in loc if p not in _VALIDATOR_PARTS)
    parts = tuple(_walk(parts, document) or parts)
    # Only a whole part is respelt: a user's key such as `my_global_x` stays as written.
    return ".".join(_FIELD_SPELLING.get(str(p), str(p)) for p in parts) or "(root)"


def _describe(error: ErrorDetails) -> str:
    kind = error["type"]
    given = type(error.get("input")).__name__
    if kind == "extra_forbidden":
        return "unknown field; remove it or check its spelling against the registry model"
    if kind == "missing":
        return "required field is missing"
    mismatch = type_mismatch(kind, error.get("input"))
    if mismatch:
        return mismatch
    if kind == "invalid-json-value":
        return f"expected plain data (a string, number, true/false, null, list or mapping), got {given}"
    if kind == "invalid_key":
        return f"field names are strings; got {given}"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _value_errors(node: Any, path: list[str], where: str) -> list[UserError]:
    """Refuse, anywhere in the document, strings (values or keys) that look like secret values,
    and numbers that are not finite: config values are published as JSON, which has no NaN."""
    field_path = ".".join(path) or "(root)"
    found: list[UserError] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and secret_shape(key):
                found.append(_secret_error(where, ".".join([*path, "[key]"]), secret_shape(key)))
            found += _value_errors(value, [*path, str(key)], where)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _value_errors(value, [*path, str(index)], where)
    elif isinstance(node, str):
        shape = secret_shape(node)
        if shape:
            found.append(_secret_error(where, field_path, shape))
    elif isinstance(node, float) and not math.isfinite(node):
        found.append(UserError(f"{where}: {field_path}", f"{node} is not a number JSON can hold; expected a finite number"))
    return found


def _secret_error(where: str, field_path: str, shape: str | None) -> UserError:
    # The value is never echoed: the line would leak the very secret it refuses.
    return UserError(
        f"{where}: {field_path}",
        f"looks like {shape}; the registry holds references only "
        "(put the value in Secrets Manager and name it under secrets.<name>.secret_name)",
    )


def _printable(text: str) -> str:
    """``text`` with non-printable characters escaped (a newline in a YAML key becomes ``\\n``)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _one_line(error: UserError) -> UserError:
    """The same problem, on one line whatever the file's keys and values hold."""
    return UserError(_printable(error.where), _printable(error.problem))


def parse_tenant(data: Any, where: str, expected_id: str | None = None) -> Tenant:
    """Validate one registry document. Raises ``UserErrors`` with one line per problem."""
    if data is None:
        raise UserError(where, "file is empty; expected a tenant mapping (run `platformctl tenants new ID`)")
    if not isinstance(data, dict):
        raise UserError(where, f"root is {type(data).__name__}; expected a mapping of tenant fields")
    errors = _value_errors(data, [], where)
    tenant: Tenant | None = None
    try:
        tenant = Tenant.model_validate(data)
    except ValidationError as exc:
        # A field already refused as a pasted secret gets that one line, not a second about its shape.
        reported = {e.where for e in errors}
        model_errors = [UserError(f"{where}: {_dotted(e['loc'], data)}", _describe(e)) for e in exc.errors()]
        errors += [e for e in model_errors if e.where not in reported]
    # Checked on the raw value so a mismatch is reported with the file's other problems.
    given_id = data.get("id")
    if expected_id is not None and isinstance(given_id, str) and given_id != expected_id:
        errors.append(UserError(f"{where}: id", f"'{given_id}' does not match the file name; expected '{expected_id}'"))
    if tenant is not None and not errors:
        # The config's values against the services' schemas, once the file's shape is right
        # (a file with shape problems would only repeat them here).
        errors += contract_errors(tenant, data, where, load_defaults())
    if errors:
        raise UserErrors([_one_line(e) for e in errors])
    assert tenant is not None
    return tenant


def load_tenant(path: Path, cache: RegistryCache | None = None) -> Tenant:
    """Load and validate one registry file; its id must match its file name. With ``cache``, a
    file that passed this same check before (same name, bytes, code) is not checked again."""
    content = None
    if cache is not None:
        try:
            content = path.read_bytes()
        except OSError:
            content = None  # load_file reports it
        hit = cache.get(path, content) if content is not None else None
        if hit is not None:
            return hit
    try:
        tenant = parse_tenant(load_file(path), str(path), expected_id=path.name.removesuffix(REGISTRY_SUFFIX))
    except UserErrors as exc:
        raise UserErrors([_one_line(e) for e in exc.errors]) from None
    except UserError as exc:
        raise _one_line(exc) from None
    if cache is not None and content is not None:
        cache.put(path, content, tenant)
    return tenant


def _expand(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.glob(f"*{REGISTRY_SUFFIX}") if p.is_file())
    if path.is_file():
        return [path]
    raise UserError(str(path), "no such file or folder")


def _each_once(paths: Iterable[Path]) -> list[Path]:
    """Sorted, and one file named two ways (``tenants/a.yaml``, ``/repo/tenants/a.yaml``) once."""
    by_real: dict[Path, Path] = {}
    for path in paths:
        by_real.setdefault(path.resolve(), path)
    return sorted(by_real.values())


def find_registry_files(paths: Iterable[Path]) -> list[Path]:
    """Expand files and folders into registry files, sorted, each once."""
    return _each_once(p for path in paths for p in _expand(path))


@dataclass
class RegistryLoadResult:
    """Every tenant that loaded, and every problem found on the way."""

    tenants: dict[str, Tenant] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    errors: list[UserError] = field(default_factory=list)

    def raise_for_errors(self) -> None:
        if self.errors:
            raise UserErrors(self.errors)


def load_registry(paths: Iterable[Path] = (REGISTRY_DIR,), cache_dir: Path | None = None) -> RegistryLoadResult:
    """Load every registry file under ``paths``; collect all problems rather than stop at one.

    ``cache_dir``: remember files that passed (see :mod:`.cache`) so an unchanged file is not
    parsed and checked again by the next load."""
    result = RegistryLoadResult()
    cache = RegistryCache(cache_dir) if cache_dir is not None else None
    files: list[Path] = []
    for given in paths:
        try:
            files += _expand(given)
        except UserError as exc:
            result.errors.append(exc)
    for path in _each_once(files):
        try:
            tenant = load_tenant(path, cache)
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
    if cache is not None:
        cache.save()
    return result
