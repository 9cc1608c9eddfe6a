"""The lifecycle of a booking. Which statuses may still be cancelled is config (``sla_definitions``).

>>> BookingStatus("PENDING") is BookingStatus.PENDING
True
"""

from __future__ import annotations

from enum import Enum


class BookingStatus(str, Enum):
    PENDING = "PENDING"  # created, not yet confirmed by dispatch
    CONFIRMED = "CONFIRMED"  # a truck is assigned
    IN_TRANSIT = "IN_TRANSIT"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
