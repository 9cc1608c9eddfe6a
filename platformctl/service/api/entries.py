"""A request body as a registry entry: checked by the same code as the files, written as a file.

JSON has no date type while the registry model's dates (``policy.exemptions[].expires``) are YAML
dates, so an ISO date string there becomes a date before the check, and a date in the file
again. A PATCH body is a JSON merge patch (RFC 7386) over the tenant's current file: its keys
replace the file's, mappings merge, ``null`` removes a key.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

import yaml

from ubertruck.errors import UserError, UserErrors
from ubertruck.registry.loader import parse_tenant
from ubertruck.registry.model import Tenant

from .models import FieldProblem

#: How a body's problems are prefixed (``parse_tenant``'s ``where``) and stripped again.
BODY = "body"


def with_dates(document: Any) -> Any:
    """``document`` with each exemption's ISO ``expires`` string made a date (the model's one date field)."""
    if not isinstance(document, dict):
        return document
    policy = document.get("policy")
    if not isinstance(policy, dict) or not isinstance(policy.get("exemptions"), list):
        return document
    exemptions = policy["exemptions"]
    converted = []
    for exemption in exemptions:
        if isinstance(exemption, dict) and isinstance(exemption.get("expires"), str):
            try:
                exemption = {**exemption, "expires": dt.date.fromisoformat(exemption["expires"])}
            except ValueError:
                pass  # left as it is: the model reports it with its path
        converted.append(exemption)
    return {**document, "policy": {**policy, "exemptions": converted}}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: ``patch`` applied to ``target``."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def problems(exc: UserError | UserErrors) -> list[FieldProblem]:
    """The entry's problems as (field path, problem) pairs, without the ``body:`` prefix."""
    errors = exc.errors if isinstance(exc, UserErrors) else [exc]
    found = []
    for error in errors:
        where = error.where
        field = where[len(BODY) + 2:] if where.startswith(f"{BODY}: ") else ("(root)" if where == BODY else where)
        found.append(FieldProblem(field=field, problem=error.problem))
    return found


def check_entry(document: Any, expected_id: str | None = None) -> Tenant:
    """The tenant the document describes; ``UserErrors`` with one problem per field otherwise."""
    return parse_tenant(with_dates(document), BODY, expected_id=expected_id)


def entry_text(document: Mapping[str, Any]) -> str:
    """The registry file's text for ``document`` (keys in the order given)."""
    return yaml.safe_dump(with_dates(dict(document)), sort_keys=False, allow_unicode=True)
