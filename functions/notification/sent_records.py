"""At most one send per event and channel, strictly: a claim in the tenant's idempotency table.

SQS delivers at least once, so the same event can arrive again. Before a channel sends, the
consumer claims ``(event id, channel)`` with one conditional ``PutItem`` on
``integration/resources.idempotency_table`` (``attribute_not_exists``, or the record is past its
retention; ``ReturnValuesOnConditionCheckFailure=ALL_OLD`` returns the claim already there in the
same call). What that claim says decides:

- no claim: it is written ``INPROGRESS`` with the time its invocation ends (now plus the Lambda
  context's remaining time), the send runs, and ``UpdateItem`` marks it ``COMPLETED``
  (``SENT_NOW``). A send that raises (the channel refused it: nothing went out) deletes the claim
  (``DeleteItem``, only while it is still this delivery's), so a redelivery sends again;
- ``COMPLETED``: nothing is sent (``REPEATED``);
- ``INPROGRESS`` and its invocation may still be running (another delivery is sending right
  now): ``DeliveryInProgress``; the record fails and SQS delivers it again later;
- ``INPROGRESS`` and its invocation has certainly ended (Lambda stops an invocation at the end of
  its remaining time): that delivery crashed or timed out between the claim and its completion,
  so the message may or may not have gone out. Sending again could send it twice, so nothing is
  sent (``UNKNOWN``) and the claim is kept: every later redelivery answers the same.

A failure to mark a claim sent leaves it ``INPROGRESS`` too (the message did go out), so it also
ends as ``UNKNOWN``, never as a second send.

Records are kept ``business/sent_record_retention_seconds`` (the table's TTL attribute). Their
layout is Powertools idempotency's (key ``id`` = ``notification.send#`` + the key's MD5 as
Powertools computes it, ``status``, ``expiration`` in seconds, ``in_progress_expiration`` in
milliseconds), so the claims the consumer wrote through Powertools are read the same way; each
claim also carries a token of the delivery holding it (``claim``), so only that delivery
completes or releases it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any, Callable, Literal, Mapping, Protocol

from botocore.exceptions import ClientError

from common import clock

#: Powertools key prefix of the claims, apart from every other service's records in the table.
KEY_PREFIX = "notification.send"
#: Powertools' attribute names and statuses in the idempotency table.
KEY, STATUS, EXPIRATION, INVOCATION_ENDS = "id", "status", "expiration", "in_progress_expiration"
IN_PROGRESS, COMPLETED = "INPROGRESS", "COMPLETED"
#: The token of the delivery that holds a claim.
CLAIM = "claim"
SENT_NOW, REPEATED, UNKNOWN = "sent", "repeated", "unknown"
SendOutcome = Literal["sent", "repeated", "unknown"]
_CONDITION_FAILED = "ConditionalCheckFailedException"
_MILLIS_PER_SECOND = 1000
_OWN_CLAIM = "#claim = :claim"


class InvocationContext(Protocol):
    """The part of the Lambda context a claim reads: when the invocation holding it ends."""

    def get_remaining_time_in_millis(self) -> int: ...


class DeliveryInProgress(Exception):
    """Another delivery of this event holds the claim on this channel and may still be running."""


def claim_key(event_id: str, channel: str) -> str:
    """The claim's ``id``: Powertools' hash of ``{"event_id", "channel"}`` (bounded in size
    whatever the event id), under ``KEY_PREFIX``."""
    document = json.dumps({"event_id": event_id, "channel": channel}, sort_keys=True)
    return f"{KEY_PREFIX}#{hashlib.md5(document.encode(), usedforsecurity=False).hexdigest()}"


class SentRecords:
    """Claims, completes and releases ``(event id, channel)`` records around each send."""

    def __init__(self, dynamodb_client: Any) -> None:
        self._client = dynamodb_client

    def send_once(
        self,
        send: Callable[[], None],
        *,
        event_id: str,
        channel: str,
        table: str,
        retention_seconds: int,
        lambda_context: InvocationContext,
    ) -> SendOutcome:
        """Run ``send`` unless a claim says it ran or may have run: ``SENT_NOW`` when it ran now,
        ``REPEATED`` or ``UNKNOWN`` when it did not; raises ``DeliveryInProgress``."""
        key = {KEY: {"S": claim_key(event_id, channel)}}
        token, now = uuid.uuid4().hex, clock.utc_now()
        existing = self._claim(table, key, token, now, retention_seconds, lambda_context)
        if existing is not None:
            return _outcome_of(existing, channel, now)
        try:
            send()
        except Exception:
            # The channel refused the message, so nothing went out: a redelivery may send it.
            self._client.delete_item(TableName=table, Key=key, ConditionExpression=_OWN_CLAIM, ExpressionAttributeNames={"#claim": CLAIM}, ExpressionAttributeValues={":claim": {"S": token}})
            raise
        self._client.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #status = :completed",
            ConditionExpression=_OWN_CLAIM,
            ExpressionAttributeNames={"#status": STATUS, "#claim": CLAIM},
            ExpressionAttributeValues={":completed": {"S": COMPLETED}, ":claim": {"S": token}},
        )
        return SENT_NOW

    def _claim(self, table: str, key: Mapping[str, Any], token: str, now: datetime, retention_seconds: int, lambda_context: InvocationContext) -> dict[str, Any] | None:
        """Write the claim; ``None`` when it is now this delivery's, else the claim already there."""
        item = {
            **key,
            STATUS: {"S": IN_PROGRESS},
            EXPIRATION: {"N": str(clock.epoch_seconds(now) + retention_seconds)},
            INVOCATION_ENDS: {"N": str(_millis(now) + lambda_context.get_remaining_time_in_millis())},
            CLAIM: {"S": token},
        }
        try:
            self._client.put_item(
                TableName=table,
                Item=item,
                # A record past its retention counts as absent even before the TTL sweep removes it.
                ConditionExpression="attribute_not_exists(#id) OR #expiration < :now",
                ExpressionAttributeNames={"#id": KEY, "#expiration": EXPIRATION},
                ExpressionAttributeValues={":now": {"N": str(clock.epoch_seconds(now))}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != _CONDITION_FAILED or "Item" not in exc.response:
                raise
            return dict(exc.response["Item"])
        return None


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * _MILLIS_PER_SECOND)


def _outcome_of(existing: Mapping[str, Any], channel: str, now: datetime) -> SendOutcome:
    """What another delivery's claim means for this one at ``now``."""
    if existing[STATUS]["S"] == COMPLETED:
        return REPEATED
    ends = existing.get(INVOCATION_ENDS)
    # A claim with no end (written without a Lambda context) may be running until its retention.
    if ends is not None and _millis(now) > int(ends["N"]):
        return UNKNOWN
    raise DeliveryInProgress(f"another delivery is sending this event on {channel}")
