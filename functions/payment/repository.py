"""Payments in the tenant's payments table: item layout, write-ahead intents, and the conditional
writes that keep amounts consistent under concurrency.

    pk                   sk                                   holds
    PAYMENT#<id>         DETAILS                              the payment: status and its amounts
    PAYMENT#<id>         REFUND#<refund id>                   one refund: amount and status
    PENDING              <started>#<payment id>#<operation>   one unfinished operation (a marker)

Write-ahead: no request goes to the provider before its intent is stored. An intent is the
record in a pending status (``AUTHORIZING``, ``CAPTURING``, a ``PENDING`` refund) carrying the
provider idempotency key, written in one transaction with a marker in the ``PENDING`` partition.
The provider is then called with that key, and the record completed (or failed) by a write
conditional on it still being pending, so an API retry and the reconciler can race and only one
of them changes it. The marker goes once the operation's event is out too; markers older than a
few minutes are what ``payment.reconciliation`` settles (one Query, no table scan).

Amount invariants, each enforced by DynamoDB condition expressions, never by a read-then-write:

- capture: only from ``AUTHORIZED``, and at most ``authorized_minor``;
- refund: ``refundable_minor`` (captured minus refunded, kept as its own attribute because a
  condition cannot do arithmetic) must cover the amount. The reservation (refundable down,
  refunded up), the refund item and its marker are one transaction, taken *before* the provider
  is asked, so concurrent refunds can never together exceed the capture; a refund the provider
  then refuses is released in one transaction conditional on the refund still being pending, so
  nothing is ever released twice.

>>> payment_key("pay_x")
{'pk': 'PAYMENT#pay_x', 'sk': 'DETAILS'}
>>> marker_sort_key("2026-01-02T03:04:05.000006Z", "pay_x", "refund", "rf_y")
'2026-01-02T03:04:05.000006Z#pay_x#refund#rf_y'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from botocore.exceptions import ClientError

from common.dynamo_items import from_item, to_item

DETAILS = "DETAILS"
REFUND_PREFIX = "REFUND#"
PENDING_PARTITION = "PENDING"
AUTHORIZING, AUTHORIZED, FAILED, CAPTURING, CAPTURED = "AUTHORIZING", "AUTHORIZED", "FAILED", "CAPTURING", "CAPTURED"
REFUND_PENDING, REFUND_SUCCEEDED, REFUND_FAILED = "PENDING", "SUCCEEDED", "FAILED"
AUTHORIZE, CAPTURE, REFUND = "authorize", "capture", "refund"
#: The attribute a record carries while its marker exists (the marker's sort key).
MARKER_ATTRIBUTE = "pending_marker"
_CONDITION_FAILED = "ConditionalCheckFailedException"
_TRANSACTION_CANCELLED = "TransactionCanceledException"
#: How a transaction names the write whose condition failed (in ``CancellationReasons``).
_CONDITION_REASON = "ConditionalCheckFailed"
_KEY_ATTRIBUTES = ("pk", "sk")
# Marker sort keys compare as text: a fixed-width UTC time sorts like the time itself.
_MARKER_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def payment_key(payment_id: str) -> dict[str, str]:
    return {"pk": f"PAYMENT#{payment_id}", "sk": DETAILS}


def refund_key(payment_id: str, refund_id: str) -> dict[str, str]:
    return {"pk": f"PAYMENT#{payment_id}", "sk": f"{REFUND_PREFIX}{refund_id}"}


def marker_key(sort_key: str) -> dict[str, str]:
    return {"pk": PENDING_PARTITION, "sk": sort_key}


def marker_time(moment: datetime) -> str:
    """``moment`` as marker sort keys hold it: fixed-width UTC, so text order is time order."""
    return moment.astimezone(timezone.utc).strftime(_MARKER_TIME_FORMAT)


def marker_sort_key(started_at: str, payment_id: str, operation: str, refund_id: str | None = None) -> str:
    return "#".join(part for part in (started_at, payment_id, operation, refund_id) if part)


def marker_operation(sort_key: str) -> str:
    """The operation a marker sort key names (ids and times hold no ``#``).

    >>> marker_operation("2026-01-02T03:04:05.000006Z#pay_x#capture")
    'capture'
    """
    return sort_key.split("#")[2]


@dataclass(frozen=True)
class Marker:
    """One unfinished operation: which payment (and refund), which step, since when."""

    sort_key: str
    payment_id: str
    operation: str
    started_at: str
    refund_id: str | None = None

    @classmethod
    def start(cls, moment: datetime, payment_id: str, operation: str, refund_id: str | None = None) -> "Marker":
        started = marker_time(moment)
        return cls(marker_sort_key(started, payment_id, operation, refund_id), payment_id, operation, started, refund_id)

    def item(self) -> dict[str, Any]:
        return to_item(
            {**marker_key(self.sort_key), "payment_id": self.payment_id, "operation": self.operation, "started_at": self.started_at, "refund_id": self.refund_id}
        )

    @classmethod
    def from_plain(cls, item: Mapping[str, Any]) -> "Marker":
        return cls(str(item["sk"]), str(item["payment_id"]), str(item["operation"]), str(item["started_at"]), item.get("refund_id"))


class PaymentRepository:
    """Reads and writes one tenant's payments table with a low-level DynamoDB client."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    # --- reads -----------------------------------------------------------------------------------

    def get(self, payment_id: str) -> dict[str, Any] | None:
        return self._get(payment_key(payment_id))

    def get_refund(self, payment_id: str, refund_id: str) -> dict[str, Any] | None:
        return self._get(refund_key(payment_id, refund_id))

    def refunds(self, payment_id: str) -> list[dict[str, Any]]:
        """Every refund of ``payment_id``, oldest id first."""
        return self._query("pk = :pk AND begins_with(sk, :refunds)", {":pk": payment_key(payment_id)["pk"], ":refunds": REFUND_PREFIX})

    def markers_before(self, started_before: datetime, limit: int) -> list[Marker]:
        """Up to ``limit`` unfinished operations started before ``started_before``, oldest first."""
        items = self._query("pk = :pk AND sk < :before", {":pk": PENDING_PARTITION, ":before": marker_time(started_before)}, limit=limit, keep_keys=True)
        return [Marker.from_plain(item) for item in items]

    # --- authorize -------------------------------------------------------------------------------

    def begin_authorization(self, payment: Mapping[str, Any], marker: Marker) -> bool:
        """Store the ``AUTHORIZING`` payment and its marker; ``False`` when the id exists already."""
        record = {**payment, **payment_key(payment["payment_id"]), "status": AUTHORIZING, MARKER_ATTRIBUTE: marker.sort_key}
        return self._transact([_put(self._table, to_item(record), "attribute_not_exists(pk)"), _put(self._table, marker.item())], conflict_at=0)

    def complete_authorization(self, payment_id: str, provider_authorization_id: str, at: str) -> bool:
        """``AUTHORIZING`` -> ``AUTHORIZED``; ``False`` when it was no longer authorizing."""
        return self._update(
            payment_key(payment_id),
            "SET #status = :to, provider_authorization_id = :provider_id, authorized_at = :at",
            {":from": AUTHORIZING, ":to": AUTHORIZED, ":provider_id": provider_authorization_id, ":at": at},
        )

    def fail_authorization(self, payment_id: str, reason: str, at: str) -> bool:
        """``AUTHORIZING`` -> ``FAILED`` (declined or refused); ``False`` when no longer authorizing."""
        return self._update(payment_key(payment_id), "SET #status = :to, failure_reason = :reason, failed_at = :at", {":from": AUTHORIZING, ":to": FAILED, ":reason": reason, ":at": at})

    # --- capture ---------------------------------------------------------------------------------

    def begin_capture(self, payment_id: str, amount_minor: int, request_key: str, provider_key: str, marker: Marker) -> bool:
        """``AUTHORIZED`` -> ``CAPTURING`` of ``amount_minor`` with the provider idempotency key
        and its marker; ``False`` if not possible (nothing written then)."""
        update = {
            "TableName": self._table,
            "Key": to_item(payment_key(payment_id)),
            "UpdateExpression": "SET #status = :capturing, pending_capture_minor = :amount, capture_request = :request, capture_provider_key = :key, #marker = :marker",
            "ConditionExpression": "#status = :authorized AND authorized_minor >= :amount",
            "ExpressionAttributeNames": {"#status": "status", "#marker": MARKER_ATTRIBUTE},
            "ExpressionAttributeValues": to_item(
                {
                    ":capturing": CAPTURING,
                    ":authorized": AUTHORIZED,
                    ":amount": amount_minor,
                    ":request": request_key,
                    ":key": provider_key,
                    ":marker": marker.sort_key,
                }
            ),
        }
        return self._transact([{"Update": update}, _put(self._table, marker.item())], conflict_at=0)

    def complete_capture(self, payment_id: str, at: str) -> bool:
        """``CAPTURING`` -> ``CAPTURED`` of the pending amount; ``False`` when no longer capturing."""
        return self._update(
            payment_key(payment_id),
            "SET #status = :to, captured_minor = pending_capture_minor, refundable_minor = pending_capture_minor, captured_at = :at REMOVE pending_capture_minor",
            {":from": CAPTURING, ":to": CAPTURED, ":at": at},
        )

    def abandon_capture(self, payment_id: str, reason: str) -> bool:
        """``CAPTURING`` -> ``AUTHORIZED`` after the provider refused; ``False`` when no longer capturing."""
        return self._update(
            payment_key(payment_id),
            "SET #status = :to, capture_failure = :reason REMOVE pending_capture_minor, capture_request, capture_provider_key",
            {":from": CAPTURING, ":to": AUTHORIZED, ":reason": reason},
        )

    # --- refund ----------------------------------------------------------------------------------

    def reserve_refund(self, refund: Mapping[str, Any], marker: Marker | None = None) -> bool:
        """Reserve ``refund["amount_minor"]`` of the captured amount and store the refund item
        (and its marker).

        ``False`` when the payment is not captured or its refundable amount does not cover the
        refund, or the refund item exists already (the caller tells these apart); nothing is
        written then.
        """
        payment_id = refund["payment_id"]
        item = {**refund, **refund_key(payment_id, refund["refund_id"])}
        if marker is not None:
            item[MARKER_ATTRIBUTE] = marker.sort_key
        reservation = {
            "Update": {
                "TableName": self._table,
                "Key": to_item(payment_key(payment_id)),
                "UpdateExpression": "SET refundable_minor = refundable_minor - :amount, refunded_minor = refunded_minor + :amount",
                "ConditionExpression": "#status = :captured AND refundable_minor >= :amount",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": to_item({":amount": refund["amount_minor"], ":captured": CAPTURED}),
            }
        }
        writes = [reservation, _put(self._table, to_item(item), "attribute_not_exists(pk)")]
        if marker is not None:
            writes.append(_put(self._table, marker.item()))
        return self._transact(writes, conflict_at=None)

    def settle_refund(self, payment_id: str, refund_id: str, provider_refund_id: str, settled_at: str) -> bool:
        """Mark a pending refund as paid out by the provider; ``False`` when it was no longer pending."""
        return self._update(
            refund_key(payment_id, refund_id),
            "SET #status = :to, provider_refund_id = :provider_id, settled_at = :at",
            {":from": REFUND_PENDING, ":to": REFUND_SUCCEEDED, ":provider_id": provider_refund_id, ":at": settled_at},
        )

    def release_refund(self, payment_id: str, refund_id: str, amount_minor: int, reason: str) -> bool:
        """Give a refused refund's reservation back to the payment and mark the refund failed, in
        one transaction conditional on the refund still being pending: ``False`` (nothing
        written) when it was not, so a reservation is never released twice."""
        writes = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": to_item(refund_key(payment_id, refund_id)),
                    "UpdateExpression": "SET #status = :failed, failure_reason = :reason",
                    "ConditionExpression": "#status = :pending",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": to_item({":failed": REFUND_FAILED, ":pending": REFUND_PENDING, ":reason": reason}),
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": to_item(payment_key(payment_id)),
                    "UpdateExpression": "SET refundable_minor = refundable_minor + :amount, refunded_minor = refunded_minor - :amount",
                    "ExpressionAttributeValues": to_item({":amount": amount_minor}),
                }
            },
        ]
        return self._transact(writes, conflict_at=None)

    # --- markers ---------------------------------------------------------------------------------

    def finish(self, record_key: Mapping[str, str], marker_sort_key: str) -> None:
        """The operation is over (record settled, event out): drop its marker, and the record's
        reference to it. Finishing twice changes nothing."""
        writes = [
            {"Delete": {"TableName": self._table, "Key": to_item(marker_key(marker_sort_key))}},
            {
                "Update": {
                    "TableName": self._table,
                    "Key": to_item(record_key),
                    "UpdateExpression": "REMOVE #marker",
                    "ConditionExpression": "#marker = :marker",
                    "ExpressionAttributeNames": {"#marker": MARKER_ATTRIBUTE},
                    "ExpressionAttributeValues": to_item({":marker": marker_sort_key}),
                }
            },
        ]
        if not self._transact(writes, conflict_at=None):
            # The record no longer names this marker (finished already, or a later operation's).
            self.drop_marker(marker_sort_key)

    def drop_marker(self, marker_sort_key: str) -> None:
        """Delete a marker alone (one whose record is gone or names another marker)."""
        self._client.delete_item(TableName=self._table, Key=to_item(marker_key(marker_sort_key)))

    # --- plumbing --------------------------------------------------------------------------------

    def _update(self, key: Mapping[str, str], expression: str, values: Mapping[str, Any]) -> bool:
        """A status change ``:from`` -> ``:to``; ``False`` when the item is not in ``:from``."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_item(key),
                UpdateExpression=expression,
                ConditionExpression="#status = :from",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_item(values),
            )
        except ClientError as exc:
            if _code(exc) == _CONDITION_FAILED:
                return False
            raise
        return True

    def _transact(self, writes: list[dict[str, Any]], *, conflict_at: int | None) -> bool:
        """Run ``writes`` as one transaction; ``False`` when a condition failed (at ``conflict_at``
        only, when given: any other cancellation is raised)."""
        try:
            self._client.transact_write_items(TransactItems=writes)
        except ClientError as exc:
            if _code(exc) != _TRANSACTION_CANCELLED:
                raise
            reasons = [reason.get("Code") for reason in exc.response.get("CancellationReasons", [])]
            if conflict_at is None and _CONDITION_REASON in reasons:
                return False
            if conflict_at is not None and len(reasons) > conflict_at and reasons[conflict_at] == _CONDITION_REASON:
                return False
            raise
        return True

    def _get(self, key: Mapping[str, str]) -> dict[str, Any] | None:
        answer = self._client.get_item(TableName=self._table, Key=to_item(key), ConsistentRead=True)
        item = answer.get("Item")
        return _plain(item) if item is not None else None

    def _query(self, condition: str, values: Mapping[str, str], *, limit: int | None = None, keep_keys: bool = False) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {"TableName": self._table, "KeyConditionExpression": condition, "ExpressionAttributeValues": to_item(values), "ConsistentRead": True}
        while True:
            if limit is not None:
                request["Limit"] = limit - len(items)
            answer = self._client.query(**request)
            items.extend(from_item(item) if keep_keys else _plain(item) for item in answer.get("Items", []))
            if "LastEvaluatedKey" not in answer or (limit is not None and len(items) >= limit):
                return items
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def _put(table: str, item: dict[str, Any], condition: str | None = None) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": table, "Item": item}
    if condition:
        put["ConditionExpression"] = condition
    return {"Put": put}


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in from_item(item).items() if key not in _KEY_ATTRIBUTES}


def _code(exc: ClientError) -> str:
    return str(exc.response["Error"]["Code"])
