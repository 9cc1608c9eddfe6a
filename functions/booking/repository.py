"""Bookings in the tenant's bookings table: item layout and the reads and writes on it.

Three items per booking:

    pk                    sk                              holds
    BOOKING#<id>          DETAILS                         the whole booking
    OWNER#<user id>       <created_at>#<id>               a summary, for "my bookings"
    TENANT#<tenant id>    <created_at>#<id>               a summary, for the tenant-wide list

Create writes the details item, then the summaries (see ``BookingRepository.create``); a status
change updates all three in one transaction. Get is one GetItem on the details item; both lists
are one Query on their partition, newest first. Every item carries ``expires_at`` (TTL) from the tenant's data retention. The table
belongs to one tenant already; the tenant id in the partition and on each item is a second
guard, checked on every read.

>>> booking_key("bk_3x")
{'pk': 'BOOKING#bk_3x', 'sk': 'DETAILS'}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from botocore.exceptions import ClientError

from common.dynamo_items import from_item, to_item
from common.errors import Conflict
from common.pagination import decode_cursor, encode_cursor

DETAILS = "DETAILS"
SUMMARY_FIELDS = ("booking_id", "status", "created_at", "pickup_at", "total_minor", "currency", "user_id")
_TRANSACTION_CANCELLED = "TransactionCanceledException"
_CONDITION_FAILED = "ConditionalCheckFailedException"


def booking_key(booking_id: str) -> dict[str, str]:
    return {"pk": f"BOOKING#{booking_id}", "sk": DETAILS}


def owner_partition(user_id: str) -> str:
    return f"OWNER#{user_id}"


def tenant_partition(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def index_sort_key(created_at: str, booking_id: str) -> str:
    return f"{created_at}#{booking_id}"


@dataclass(frozen=True)
class Page:
    """One page of summaries and the cursor of the next (``None`` on the last page)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


class BookingRepository:
    """Reads and writes one tenant's bookings table with a low-level DynamoDB client."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def create(self, booking: Mapping[str, Any]) -> dict[str, Any]:
        """Store ``booking`` unless its id exists; return what is stored under the id.

        The details item is written first, conditionally; the two summaries follow, each only if
        missing. A create interrupted between the writes is completed by its retry (the same
        Idempotency-Key gives the same booking id), which finds the details and adds whatever
        summary is missing. Summaries are never overwritten here, so a retry cannot undo a
        status change made in between.
        """
        try:
            self._client.put_item(
                TableName=self._table, Item=to_item({**booking, **booking_key(booking["booking_id"])}), ConditionExpression="attribute_not_exists(pk)"
            )
            stored = dict(booking)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != _CONDITION_FAILED:
                raise
            existing = self.get(booking["booking_id"])
            if existing is None:
                raise
            stored = existing
        summary = _summary(stored)
        for partition in (owner_partition(stored["user_id"]), tenant_partition(stored["tenant_id"])):
            item = {**summary, "pk": partition, "sk": index_sort_key(stored["created_at"], stored["booking_id"])}
            try:
                self._client.put_item(TableName=self._table, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)")
            except ClientError as exc:
                if exc.response["Error"]["Code"] != _CONDITION_FAILED:
                    raise
        return stored

    def get(self, booking_id: str) -> dict[str, Any] | None:
        """The booking ``booking_id``, or ``None``."""
        answer = self._client.get_item(TableName=self._table, Key=to_item(booking_key(booking_id)), ConsistentRead=True)
        item = answer.get("Item")
        if item is None:
            return None
        booking = from_item(item)
        booking.pop("pk", None)
        booking.pop("sk", None)
        return booking

    def list(self, partition: str, limit: int, cursor: str | None) -> Page:
        """A page of summaries from ``partition``, newest first."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            request["ExclusiveStartKey"] = decode_cursor(cursor, partition)
        answer = self._client.query(**request)
        items = [{key: value for key, value in from_item(item).items() if key in SUMMARY_FIELDS} for item in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        return Page(items=items, next_cursor=encode_cursor(last) if last else None)

    def update_status(self, booking: Mapping[str, Any], expected_status: str, new_status: str, changes: Mapping[str, Any]) -> None:
        """Move ``booking`` from ``expected_status`` to ``new_status`` with ``changes``, on all three items.

        ``Conflict`` when the booking is no longer in ``expected_status`` (a concurrent change).
        """
        values = to_item({":expected": expected_status, ":new": new_status, **{f":{name}": value for name, value in changes.items()}})
        details_set = ", ".join(["#status = :new", *(f"#{name} = :{name}" for name in changes)])
        names = {"#status": "status", **{f"#{name}": name for name in changes}}
        sort_key = index_sort_key(booking["created_at"], booking["booking_id"])
        index_updates = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": to_item({"pk": partition, "sk": sort_key}),
                    "UpdateExpression": "SET #status = :new",
                    "ConditionExpression": "#status = :expected",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {":new": values[":new"], ":expected": values[":expected"]},
                }
            }
            for partition in (owner_partition(booking["user_id"]), tenant_partition(booking["tenant_id"]))
        ]
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": to_item(booking_key(booking["booking_id"])),
                            "UpdateExpression": f"SET {details_set}",
                            "ConditionExpression": "#status = :expected",
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": values,
                        }
                    },
                    *index_updates,
                ]
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == _TRANSACTION_CANCELLED:
                raise Conflict("the booking changed while this request was being processed") from None
            raise


def _summary(booking: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "booking_id": booking["booking_id"],
        "user_id": booking["user_id"],
        "status": booking["status"],
        "created_at": booking["created_at"],
        "pickup_at": booking["pickup_at"],
        "total_minor": booking["price"]["total_minor"],
        "currency": booking["price"]["currency"],
        "expires_at": booking["expires_at"],
    }
