"""Positions in the tenant's tracking table: item layout and the reads and writes on it.

One item per position, in one partition per booking, ordered by the time it was recorded:

    pk                       sk                                              holds
    TRACK#<booking id>       POS#<recorded_at, UTC, fixed width>#<digest>    one position

The sort key's time is written at a fixed width (microseconds, ``Z``), so string order is time
order: the latest position is the first item of a descending query, and history pages are plain
queries. The digest is of the position itself, so a device that resends the same update
overwrites the same item instead of adding a twin. Every item carries ``expires_at`` (TTL) and
the tenant id, which is checked again on every read.

>>> position_key("bk_1", datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc), "3fa2")
{'pk': 'TRACK#bk_1', 'sk': 'POS#2024-05-01T12:00:00.000000Z#3fa2'}
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from common.dynamo_items import from_item, to_item
from common.pagination import decode_cursor, encode_cursor

POSITION_PREFIX = "POS#"
# Fixed width, so that lexical order of sort keys is chronological order.
_SORTABLE_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"
_KEY_ATTRIBUTES = ("pk", "sk")


def partition(booking_id: str) -> str:
    return f"TRACK#{booking_id}"


def position_key(booking_id: str, recorded_at: datetime, digest: str) -> dict[str, str]:
    sortable = recorded_at.astimezone(timezone.utc).strftime(_SORTABLE_TIME)
    return {"pk": partition(booking_id), "sk": f"{POSITION_PREFIX}{sortable}#{digest}"}


@dataclass(frozen=True)
class Page:
    """One page of positions, newest first, and the cursor of the next (``None`` on the last)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


class TrackingRepository:
    """Reads and writes one tenant's tracking table with a low-level DynamoDB client."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def put(self, key: Mapping[str, str], position: Mapping[str, Any]) -> None:
        """Store ``position`` under ``key`` (a resent identical position lands on the same item)."""
        self._client.put_item(TableName=self._table, Item=to_item({**position, **key}))

    def latest(self, booking_id: str, tenant_id: str) -> dict[str, Any] | None:
        """The most recently recorded position of ``booking_id``, or ``None``."""
        page = self.page(booking_id, tenant_id, limit=1, cursor=None)
        return page.items[0] if page.items else None

    def page(self, booking_id: str, tenant_id: str, limit: int, cursor: str | None) -> Page:
        """Up to ``limit`` positions of ``booking_id``, newest first, after ``cursor``."""
        pk = partition(booking_id)
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :positions)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":positions": {"S": POSITION_PREFIX}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            request["ExclusiveStartKey"] = decode_cursor(cursor, pk)
        answer = self._client.query(**request)
        items = [_plain(item) for item in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        # The table is the tenant's own; the tenant id on each item is a second guard.
        return Page(items=[item for item in items if item.get("tenant_id") == tenant_id], next_cursor=encode_cursor(last) if last else None)


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in from_item(item).items() if key not in _KEY_ATTRIBUTES}
