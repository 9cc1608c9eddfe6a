"""The event envelope the queue delivers (``common.events.DomainEvent``, SNS raw delivery).

>>> event = EventEnvelope.model_validate_json('{"event_id": "b:c", "event_type": "booking.created", "tenant_id": "acme",'
...     ' "occurred_at": "2024-05-01T12:00:00+00:00", "config_version": "v1", "data": {"booking_id": "b"}}')
>>> event.template_name
'booking_created'
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

# Event types are dotted (booking.created); template names in config use underscores.
_EVENT_SEPARATOR, _TEMPLATE_SEPARATOR = ".", "_"


class EventEnvelope(BaseModel):
    """One booking or payment event, as its service published it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: str = Field(min_length=1)
    event_type: str = Field(pattern=r"^[a-z]+(\.[a-z_]+)+$")
    tenant_id: str = Field(min_length=1)
    occurred_at: AwareDatetime
    config_version: str
    data: dict[str, Any]

    @property
    def template_name(self) -> str:
        """The config template for this event: ``booking.created`` -> ``booking_created``."""
        return self.event_type.replace(_EVENT_SEPARATOR, _TEMPLATE_SEPARATOR)
