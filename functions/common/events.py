"""Domain events published to the service's SNS topic.

Every message is a JSON envelope; ``event_type`` and ``tenant_id`` are also message attributes,
so subscriptions (the notification queue) can filter without parsing bodies. ``event_id`` is
derived from what happened (e.g. the booking id and the event type), so a retried publish
carries the same id and consumers can drop the duplicate: delivery is at least once.

    {"event_id": "...", "event_type": "booking.created", "tenant_id": "acme",
     "occurred_at": "2024-05-01T12:00:00+00:00", "config_version": "...", "data": {...}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from . import clock


@dataclass(frozen=True)
class DomainEvent:
    """Something that happened to a tenant's resource. ``data`` holds identifiers and amounts, no secrets."""

    event_id: str
    event_type: str
    tenant_id: str
    occurred_at: datetime
    config_version: str
    data: Mapping[str, Any]

    def envelope(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "tenant_id": self.tenant_id,
            "occurred_at": self.occurred_at.isoformat(),
            "config_version": self.config_version,
            "data": dict(self.data),
        }


class EventPublisher:
    """Publishes ``DomainEvent``s to SNS with a low-level client."""

    def __init__(self, sns_client: Any) -> None:
        self._client = sns_client

    def publish(self, topic_arn: str, event: DomainEvent) -> str:
        """Publish ``event``; returns the SNS message id."""
        response = self._client.publish(
            TopicArn=topic_arn,
            Message=json.dumps(event.envelope(), separators=(",", ":")),
            MessageAttributes={
                "event_type": {"DataType": "String", "StringValue": event.event_type},
                "tenant_id": {"DataType": "String", "StringValue": event.tenant_id},
                "event_id": {"DataType": "String", "StringValue": event.event_id},
            },
        )
        return str(response["MessageId"])


def publish_for(scope: Any, sns_client: Any, subject_id: str, event_type: str, data: Mapping[str, Any]) -> None:
    """Publish ``event_type`` about ``subject_id`` for the request's tenant, stamped with the config
    version the request was served with, to the service's ``events_topic_arn`` resource.

    ``scope`` is the request's ``RequestScope``; its service config must publish an events topic.
    """
    event = DomainEvent(
        event_id=f"{subject_id}:{event_type}",
        event_type=event_type,
        tenant_id=scope.tenant.tenant_id,
        occurred_at=clock.utc_now(),
        config_version=scope.config_version,
        data=data,
    )
    EventPublisher(sns_client).publish(scope.config.integration.resources.events_topic_arn, event)
