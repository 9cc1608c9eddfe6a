"""Property values as they cross the provider protocol: protobuf Structs, unknowns and secrets.

The engine sends resource properties as ``google.protobuf.Struct`` with two special shapes
inside: the unknown sentinel string (a value only known after an apply, seen in previews) and
signed objects (secrets, assets, archives, resource references) keyed by the signature key.
"""

from __future__ import annotations

from typing import Any, TypeGuard

from google.protobuf import json_format, struct_pb2
from pulumi.runtime.rpc import UNKNOWN

#: Key that marks a map as one of the engine's special values (Pulumi's property-value wire format).
SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
#: Signature of a secret value; the plain value sits under ``"value"``.
SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"

__all__ = ["SIGNATURE_KEY", "SECRET_SIGNATURE", "UNKNOWN", "to_dict", "to_struct", "reveal", "is_secret", "contains_unknown", "same_value"]


def to_dict(struct: struct_pb2.Struct | None) -> dict[str, Any]:
    """A request's Struct as plain Python (empty when the field is unset)."""
    if struct is None:
        return {}
    return json_format.MessageToDict(struct)


def to_struct(values: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def is_secret(value: object) -> TypeGuard[dict[str, Any]]:
    return isinstance(value, dict) and value.get(SIGNATURE_KEY) == SECRET_SIGNATURE


def reveal(value: object) -> object:
    """``value`` with every secret wrapper replaced by what it wraps (for names, ARNs, comparisons)."""
    if is_secret(value):
        return reveal(value.get("value"))
    if isinstance(value, dict):
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [reveal(item) for item in value]
    return value


def contains_unknown(value: object) -> bool:
    if value == UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(contains_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(contains_unknown(item) for item in value)
    return False


def _numbers_alike(value: object) -> object:
    # Structs carry every number as a double: 3 from the program and 3.0 from state are one value.
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        return {key: _numbers_alike(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_numbers_alike(item) for item in value]
    return value


def same_value(old: object, new: object) -> bool:
    """Whether ``old`` and ``new`` are one value; becoming (or ceasing to be) secret is no change."""
    return _numbers_alike(reveal(old)) == _numbers_alike(reveal(new))
