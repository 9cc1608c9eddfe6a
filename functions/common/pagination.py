"""Opaque list cursors bound to the DynamoDB partition they page through.

A cursor is the query's ``LastEvaluatedKey`` as URL-safe base64 JSON. Clients treat it as opaque.
On the way back in it is checked: it must decode, hold only the table's key attributes, and name
the very partition being listed, so a crafted cursor can neither reach another partition nor
provoke a DynamoDB error (a bad cursor is a 400).

>>> cursor = encode_cursor({"pk": {"S": "USER#u-1"}, "sk": {"S": "2024-05-01#b-1"}})
>>> decode_cursor(cursor, partition="USER#u-1")["sk"]
{'S': '2024-05-01#b-1'}
>>> decode_cursor(cursor, partition="USER#u-2")
Traceback (most recent call last):
...
common.errors.BadRequest: invalid cursor
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from .errors import BadRequest, FieldError

KEY_ATTRIBUTES = ("pk", "sk")


def encode_cursor(last_evaluated_key: dict[str, Any]) -> str:
    """The opaque cursor for a ``LastEvaluatedKey``."""
    text = json.dumps(last_evaluated_key, sort_keys=True, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, partition: str, field: str = "cursor") -> dict[str, Any]:
    """The ``ExclusiveStartKey`` of ``cursor``; ``BadRequest`` unless it pages ``partition``."""
    invalid = BadRequest("invalid cursor", [FieldError(field, "not a cursor returned by this list", "cursor_invalid")])
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        # RecursionError: a crafted cursor of deeply nested JSON (a real one nests two levels).
        raise invalid from None
    if not isinstance(key, dict) or sorted(key) != sorted(KEY_ATTRIBUTES):
        raise invalid
    if not all(isinstance(key[name], dict) and set(key[name]) == {"S"} and isinstance(key[name]["S"], str) for name in KEY_ATTRIBUTES):
        raise invalid
    if key["pk"]["S"] != partition:
        raise invalid
    return key
