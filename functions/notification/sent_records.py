"""At most one send per event and channel: a claim in the tenant's idempotency table.

SQS delivers at least once, so the same event can arrive again. Before a channel sends, the
consumer claims ``(event id, channel)`` through Powertools idempotency
(``common.idempotency.IdempotentCall``, table ``integration/resources.idempotency_table``,
records kept ``business/sent_record_retention_seconds``):

- no record: the claim is written ``INPROGRESS``, the send runs, and the record becomes
  ``COMPLETED``; a send that raises deletes the claim, so a redelivery sends again;
- ``COMPLETED``: the redelivery sends nothing on that channel;
- ``INPROGRESS`` and not expired (another delivery is sending right now): ``DeliveryInProgress``,
  the record fails and SQS delivers it again after the visibility timeout. A claim expires with
  the invocation that wrote it (Powertools reads the Lambda context's remaining time), so a
  delivery that crashed mid-send is retried once its invocation would have timed out; only a
  crash between the send and the claim's completion can then send twice.

The claim's payload is its key, so a redelivery never conflicts with its own claim: the only
conflict left is a claim still in progress.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from common.errors import Conflict
from common.idempotency import IdempotentCall

#: Powertools key prefix of the claims, apart from every other service's records in the table.
KEY_PREFIX = "notification.send"
SENT = "sent"


class DeliveryInProgress(Exception):
    """Another delivery of this event holds the claim on this channel: retry later."""


class SentRecords:
    """Claims and completes ``(event id, channel)`` records around each send."""

    def __init__(self, dynamodb_client: Any) -> None:
        self._calls = IdempotentCall(dynamodb_client, key_prefix=KEY_PREFIX)

    def send_once(
        self,
        send: Callable[[], None],
        *,
        event_id: str,
        channel: str,
        table: str,
        retention_seconds: int,
        lambda_context: Any,
    ) -> bool:
        """Run ``send`` unless a record says it already ran; ``True`` when it ran now."""
        ran: list[bool] = []

        def claimed(_: Mapping[str, Any]) -> dict[str, Any]:
            send()
            ran.append(True)
            return {"channel": channel, "status": SENT}

        key = {"event_id": event_id, "channel": channel}
        try:
            self._calls.run(claimed, table=table, key=key, payload=key, expires_after_seconds=retention_seconds, lambda_context=lambda_context)
        except Conflict:
            raise DeliveryInProgress(f"another delivery is sending this event on {channel}") from None
        return bool(ran)
