"""Payments in the tenant's payments table: item layout and the conditional writes that keep
amounts consistent under concurrency.

    pk                   sk                     holds
    PAYMENT#<id>         DETAILS                the payment: status and its amounts
    PAYMENT#<id>         REFUND#<refund id>     one refund: amount and status

Amount invariants, each enforced by DynamoDB condition expressions, never by a read-then-write:

- capture: only from ``AUTHORIZED``, and at most ``authorized_minor``;
- refund: ``refundable_minor`` (captured minus refunded, kept as its own attribute because a
  condition cannot do arithmetic) must cover the amount. The reservation (refundable down,
  refunded up) and the refund item are one transaction, taken *before* the provider is asked,
  so concurrent refunds can never together exceed the capture; a refund the provider then fails
  is released in one transaction again.

>>> payment_key("pay_x")
{'pk': 'PAYMENT#pay_x', 'sk': 'DETAILS'}
"""

from __future__ import annotations

from typing import Any, Mapping

from botocore.exceptions import ClientError

from common.dynamo_items import from_item, to_item
from common.errors import Conflict

DETAILS = "DETAILS"
REFUND_PREFIX = "REFUND#"
AUTHORIZED, CAPTURED = "AUTHORIZED", "CAPTURED"
REFUND_PENDING, REFUND_SUCCEEDED, REFUND_FAILED = "PENDING", "SUCCEEDED", "FAILED"
_CONDITION_FAILED = "ConditionalCheckFailedException"
_TRANSACTION_CANCELLED = "TransactionCanceledException"
_KEY_ATTRIBUTES = ("pk", "sk")


def payment_key(payment_id: str) -> dict[str, str]:
    return {"pk": f"PAYMENT#{payment_id}", "sk": DETAILS}


def refund_key(payment_id: str, refund_id: str) -> dict[str, str]:
    return {"pk": f"PAYMENT#{payment_id}", "sk": f"{REFUND_PREFIX}{refund_id}"}


class PaymentRepository:
    """Reads and writes one tenant's payments table with a low-level DynamoDB client."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def create(self, payment: Mapping[str, Any]) -> dict[str, Any]:
        """Store ``payment`` unless its id exists; return what is stored under the id."""
        try:
            self._client.put_item(
                TableName=self._table, Item=to_item({**payment, **payment_key(payment["payment_id"])}), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as exc:
            existing = self.get(payment["payment_id"]) if _code(exc) == _CONDITION_FAILED else None
            if existing is None:
                raise
            return existing
        return dict(payment)

    def get(self, payment_id: str) -> dict[str, Any] | None:
        return self._get(payment_key(payment_id))

    def get_refund(self, payment_id: str, refund_id: str) -> dict[str, Any] | None:
        return self._get(refund_key(payment_id, refund_id))

    def refunds(self, payment_id: str) -> list[dict[str, Any]]:
        """Every refund of ``payment_id``, oldest id first."""
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :refunds)",
            "ExpressionAttributeValues": {":pk": {"S": payment_key(payment_id)["pk"]}, ":refunds": {"S": REFUND_PREFIX}},
            "ConsistentRead": True,
        }
        while True:
            answer = self._client.query(**request)
            items.extend(_plain(item) for item in answer.get("Items", []))
            if "LastEvaluatedKey" not in answer:
                return items
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def capture(self, payment_id: str, amount_minor: int, changes: Mapping[str, Any]) -> None:
        """``AUTHORIZED`` -> ``CAPTURED`` of ``amount_minor``; ``Conflict`` if no longer possible."""
        values = to_item({":authorized": AUTHORIZED, ":captured": CAPTURED, ":amount": amount_minor, **{f":{k}": v for k, v in changes.items()}})
        extra = "".join(f", #{name} = :{name}" for name in changes)
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_item(payment_key(payment_id)),
                UpdateExpression=f"SET #status = :captured, captured_minor = :amount, refundable_minor = :amount{extra}",
                ConditionExpression="#status = :authorized AND authorized_minor >= :amount",
                ExpressionAttributeNames={"#status": "status", **{f"#{name}": name for name in changes}},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if _code(exc) == _CONDITION_FAILED:
                raise Conflict("the payment is no longer authorized for this amount") from None
            raise

    def reserve_refund(self, refund: Mapping[str, Any]) -> bool:
        """Reserve ``refund["amount_minor"]`` of the captured amount and store the refund item.

        ``False`` when the payment is not captured or its refundable amount does not cover the
        refund, or the refund item exists already (the caller tells these apart); nothing is
        written then.
        """
        payment_id = refund["payment_id"]
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": to_item(payment_key(payment_id)),
                            "UpdateExpression": "SET refundable_minor = refundable_minor - :amount, refunded_minor = refunded_minor + :amount",
                            "ConditionExpression": "#status = :captured AND refundable_minor >= :amount",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": to_item({":amount": refund["amount_minor"], ":captured": CAPTURED}),
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": to_item({**refund, **refund_key(payment_id, refund["refund_id"])}),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except ClientError as exc:
            if _code(exc) == _TRANSACTION_CANCELLED:
                return False
            raise
        return True

    def settle_refund(self, payment_id: str, refund_id: str, provider_refund_id: str, settled_at: str) -> None:
        """Mark a pending refund as paid out by the provider."""
        self._client.update_item(
            TableName=self._table,
            Key=to_item(refund_key(payment_id, refund_id)),
            UpdateExpression="SET #status = :succeeded, provider_refund_id = :provider_id, settled_at = :at",
            ConditionExpression="#status = :pending",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item({":succeeded": REFUND_SUCCEEDED, ":pending": REFUND_PENDING, ":provider_id": provider_refund_id, ":at": settled_at}),
        )

    def release_refund(self, payment_id: str, refund_id: str, amount_minor: int) -> None:
        """Give a failed refund's reservation back to the payment, and mark the refund failed."""
        self._client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": to_item(payment_key(payment_id)),
                        "UpdateExpression": "SET refundable_minor = refundable_minor + :amount, refunded_minor = refunded_minor - :amount",
                        "ExpressionAttributeValues": to_item({":amount": amount_minor}),
                    }
                },
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": to_item(refund_key(payment_id, refund_id)),
                        "UpdateExpression": "SET #status = :failed",
                        "ConditionExpression": "#status = :pending",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": to_item({":failed": REFUND_FAILED, ":pending": REFUND_PENDING}),
                    }
                },
            ]
        )

    def _get(self, key: Mapping[str, str]) -> dict[str, Any] | None:
        answer = self._client.get_item(TableName=self._table, Key=to_item(key), ConsistentRead=True)
        item = answer.get("Item")
        return _plain(item) if item is not None else None


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in from_item(item).items() if key not in _KEY_ATTRIBUTES}


def _code(exc: ClientError) -> str:
    return str(exc.response["Error"]["Code"])
