"""DynamoDB attribute-value (de)serialisation for the low-level client.

The low-level client is used throughout (transactions need it, and it skips the resource layer's
per-call overhead). Numbers come back as ``Decimal``; ``from_item`` turns whole ones into ``int``
because every amount on the platform is an integer in minor units.

>>> to_item({"pk": "BOOKING#1", "total_minor": 1200})
{'pk': {'S': 'BOOKING#1'}, 'total_minor': {'N': '1200'}}
>>> from_item({"pk": {"S": "BOOKING#1"}, "total_minor": {"N": "1200"}})
{'pk': 'BOOKING#1', 'total_minor': 1200}
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Attribute values of ``values``; ``None`` entries are left out (DynamoDB has no typed null).

    Floats (coordinates) are stored through their shortest decimal text, exactly as JSON had them.
    """
    return {key: _serializer.serialize(_storable(value)) for key, value in values.items() if value is not None}


def _storable(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {key: _storable(item) for key, item in value.items() if item is not None}
    if isinstance(value, (list, tuple)):
        return [_storable(item) for item in value]
    return value


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values of a DynamoDB item."""
    return {key: _plain(_deserializer.deserialize(value)) for key, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, set):
        return {_plain(item) for item in value}
    return value
